/* Transformer ops made by the optimiser (domain "mec"), reference kernels
 * built from the reference MatMul, Softmax and LayerNormalization kernels.
 * The fast kernels (src/ops/dnnl/dnnl_transformer.c) are checked against
 * these.
 *   mec.LayerNormalization(X, Scale, [B], [Skip]) axis, epsilon: ONNX's
 *       LayerNormalization-17 (single output) of X + Skip (broadcast), at
 *       any imported opset.
 *   mec.Attention(Q, Kt, V, [Mask]) scale:
 *       Y = Softmax(scale * (Q @ Kt) + Mask, last axis) @ V
 *       Q (..., S, D), Kt (..., D, T), V (..., T, Dv), Mask broadcast to
 *       (..., S, T); MatMul's batch broadcasting; any float type. */
#include "op_util.h"

#include <string.h>

static const mec_kernel *ref_layernorm(void) { return mec_op_find("", "LayerNormalization", 17, "ref"); }
static const mec_kernel *ref_matmul(void) { return mec_op_find("", "MatMul", 13, "ref"); }
static const mec_kernel *ref_softmax(void) { return mec_op_find("", "Softmax", 13, "ref"); }

/* ------------------------------------------------------- LayerNormalization */

/* The context of the wrapped ONNX kernel: opset 17, at most 3 inputs, input
 * 0 replaced by `x` when not NULL. */
static mec_op_ctx ln_ctx(const mec_op_ctx *ctx, const mec_tensor *x, const mec_tensor **in) {
    mec_op_ctx c = *ctx;
    c.opset = 17;
    c.n_in = ctx->n_in > 3 ? 3 : ctx->n_in;
    for (int i = 0; i < c.n_in; i++) in[i] = ctx->in[i];
    if (x) in[0] = x;
    c.in = in;
    return c;
}

/* Shape of X + Skip into *sum (no data); X's when there is no Skip. */
static mec_status ln_sum_shape(const mec_op_ctx *ctx, mec_tensor *sum) {
    const mec_tensor *x = ctx->in[0], *skip = ctx->n_in > 3 ? ctx->in[3] : NULL;
    memset(sum, 0, sizeof *sum);
    if (!skip) return mec_tensor_init(sum, x->dtype, x->ndim, x->shape);
    if (skip->dtype != x->dtype)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "input 3 (skip) has dtype %s, input 0 %s",
                          mec_dtype_name(skip->dtype), mec_dtype_name(x->dtype));
    int nd;
    int64_t shape[MEC_MAX_DIMS];
    mec_status st = mec_op_broadcast(ctx, x->ndim, x->shape, skip->ndim, skip->shape, &nd, shape);
    return st ? st : mec_tensor_init(sum, x->dtype, nd, shape);
}

static mec_status ln_infer(mec_op_ctx *ctx) {
    const mec_kernel *k = ref_layernorm();
    if (!k) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "no reference LayerNormalization kernel");
    mec_status st = mec_op_check_arity(ctx, 2, 4);
    if (st) return st;
    if (ctx->n_out != 1) return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "has %d outputs, expected 1", ctx->n_out);
    mec_tensor sum;
    if ((st = ln_sum_shape(ctx, &sum))) return st;
    const mec_tensor *in[3];
    mec_op_ctx c = ln_ctx(ctx, &sum, in);
    return k->infer(&c);
}

static mec_status ln_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    (void)state;
    mec_tensor sum;
    mec_status st = ln_sum_shape(ctx, &sum);
    if (!st && ctx->n_in > 3 && ctx->in[3]) *scratch_bytes = mec_tensor_bytes(&sum);
    return st;
}

// y = LayerNorm(x [+ skip]) over the dims from axis on (ONNX LayerNormalization-17)
static mec_status ln_exec(mec_op_ctx *ctx) {
    const mec_tensor *in[3];
    const mec_tensor *skip = ctx->n_in > 3 ? ctx->in[3] : NULL;
    if (!skip) {
        mec_op_ctx c = ln_ctx(ctx, NULL, in);
        return ref_layernorm()->exec(&c);
    }
    mec_tensor sum;
    mec_status st = ln_sum_shape(ctx, &sum);
    if (st) return st;
    if (mec_tensor_numel(&sum) && (!ctx->scratch || ctx->scratch_bytes < mec_tensor_bytes(&sum)))
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "exec without the sum's scratch memory");
    sum.data = ctx->scratch;
    const mec_tensor *x = ctx->in[0];
    bool f32 = x->dtype == MEC_F32;
    float *sv = sum.data;
    const float *xv = x->data, *kv = skip->data;
    int64_t xs[MEC_MAX_DIMS], ks[MEC_MAX_DIMS], idx[MEC_MAX_DIMS] = {0}, n = mec_tensor_numel(&sum);
    mec_op_broadcast_strides(ctx->in[0], sum.ndim, sum.shape, xs);
    mec_op_broadcast_strides(skip, sum.ndim, sum.shape, ks);
    for (int64_t i = 0; i < n; i++) {
        int64_t xo = 0, ko = 0;
        for (int d = 0; d < sum.ndim; d++) {
            xo += idx[d] * xs[d];
            ko += idx[d] * ks[d];
        }
        if (f32) sv[i] = xv[xo] + kv[ko];
        else mec_tensor_set_f64(&sum, i, mec_tensor_get_f64(x, xo) + mec_tensor_get_f64(skip, ko));
        for (int d = sum.ndim - 1; d >= 0; d--) {
            if (++idx[d] < sum.shape[d]) break;
            idx[d] = 0;
        }
    }
    mec_op_ctx c = ln_ctx(ctx, &sum, in);
    return ref_layernorm()->exec(&c);
}

static int64_t ln_flops(const mec_op_ctx *ctx) { return 8 * mec_tensor_numel(ctx->out[0]); }

/* ---------------------------------------------------------------- Attention */

/* A context running a wrapped kernel on other tensors, at opset 13. */
static mec_op_ctx sub_ctx(const mec_op_ctx *ctx, int n_in, const mec_tensor *const *in, mec_tensor *const *out) {
    mec_op_ctx c = *ctx;
    c.opset = 13;
    c.n_in = n_in;
    c.in = in;
    c.n_out = 1;
    c.out = out;
    c.state = NULL;
    c.scratch = NULL;
    c.scratch_bytes = 0;
    c.const_inputs = 0;
    return c;
}

/* Shape of Q @ Kt into *scores (no data). */
static mec_status att_scores(const mec_op_ctx *ctx, mec_tensor *scores) {
    memset(scores, 0, sizeof *scores);
    const mec_tensor *in[2] = {ctx->in[0], ctx->in[1]};
    mec_tensor *out[1] = {scores};
    mec_op_ctx c = sub_ctx(ctx, 2, in, out);
    return ref_matmul()->infer(&c);
}

static mec_status att_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 3, 4);
    if (st) return st;
    if (ctx->n_out != 1) return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "has %d outputs, expected 1", ctx->n_out);
    if (!ref_matmul() || !ref_softmax() || ref_matmul()->prepare || ref_softmax()->prepare)
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "no plain reference MatMul/Softmax kernel");
    mec_dtype dt = ctx->in[0]->dtype;
    if (dt != MEC_F32 && dt != MEC_F64 && dt != MEC_F16 && dt != MEC_BF16)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "input 0 has dtype %s, expected a float type", mec_dtype_name(dt));
    for (int i = 1; i < ctx->n_in; i++)
        if (ctx->in[i] && ctx->in[i]->dtype != dt)
            return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "input %d has dtype %s, input 0 %s", i,
                              mec_dtype_name(ctx->in[i]->dtype), mec_dtype_name(dt));
    mec_tensor scores;
    if ((st = att_scores(ctx, &scores))) return st;
    if (scores.ndim < 1)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "Q @ Kt is a scalar, expected at least 1 dim");
    const mec_tensor *mask = ctx->n_in > 3 ? ctx->in[3] : NULL;
    if (mask) {
        int nd;
        int64_t shape[MEC_MAX_DIMS];
        if ((st = mec_op_broadcast(ctx, scores.ndim, scores.shape, mask->ndim, mask->shape, &nd, shape)))
            return st;
        if (nd != scores.ndim || memcmp(shape, scores.shape, sizeof(int64_t) * (size_t)nd)) {
            char s1[160], s2[160];
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "mask of shape %s does not broadcast to the scores' shape %s",
                              mec_shape_str(mask->ndim, mask->shape, s1, sizeof s1),
                              mec_shape_str(scores.ndim, scores.shape, s2, sizeof s2));
        }
    }
    const mec_tensor *in[2] = {&scores, ctx->in[2]};
    mec_op_ctx c = sub_ctx(ctx, 2, in, ctx->out);
    return ref_matmul()->infer(&c);
}

static mec_status att_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    (void)state;
    mec_tensor scores;
    mec_status st = att_scores(ctx, &scores);
    if (!st) *scratch_bytes = mec_tensor_bytes(&scores);
    return st;
}

/* s (contiguous) = s * scale + mask broadcast to s's shape. */
static void scale_add_mask(mec_tensor *s, float scale, const mec_tensor *mask) {
    float *sv = s->data;
    int64_t n = mec_tensor_numel(s);
    if (s->dtype != MEC_F32) { /* other float types: through double, slowly */
        int64_t strides[MEC_MAX_DIMS], idx[MEC_MAX_DIMS] = {0};
        if (mask) mec_op_broadcast_strides(mask, s->ndim, s->shape, strides);
        for (int64_t i = 0; i < n; i++) {
            int64_t off = 0;
            for (int d = 0; mask && d < s->ndim; d++) off += idx[d] * strides[d];
            double m = mask ? mec_tensor_get_f64(mask, off) : 0.0;
            mec_tensor_set_f64(s, i, mec_tensor_get_f64(s, i) * scale + m);
            for (int d = s->ndim - 1; d >= 0; d--) {
                if (++idx[d] < s->shape[d]) break;
                idx[d] = 0;
            }
        }
        return;
    }
    if (!mask) {
        for (int64_t i = 0; i < n; i++) sv[i] *= scale;
        return;
    }
    const float *mv = mask->data;
    int64_t strides[MEC_MAX_DIMS], idx[MEC_MAX_DIMS] = {0};
    mec_op_broadcast_strides(mask, s->ndim, s->shape, strides);
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int d = 0; d < s->ndim; d++) off += idx[d] * strides[d];
        sv[i] = sv[i] * scale + mv[off];
        for (int d = s->ndim - 1; d >= 0; d--) {
            if (++idx[d] < s->shape[d]) break;
            idx[d] = 0;
        }
    }
}

// y: (..., S, Dv) = softmax(scale * q (..., S, D) @ kt (..., D, T) + mask) @ v (..., T, Dv)
static mec_status att_exec(mec_op_ctx *ctx) {
    mec_tensor scores;
    mec_status st = att_scores(ctx, &scores);
    if (st) return st;
    if (mec_tensor_numel(&scores) && (!ctx->scratch || ctx->scratch_bytes < mec_tensor_bytes(&scores)))
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "exec without the scores' scratch memory");
    scores.data = ctx->scratch;
    mec_tensor *sp[1] = {&scores};
    const mec_tensor *qk[2] = {ctx->in[0], ctx->in[1]};
    mec_op_ctx c = sub_ctx(ctx, 2, qk, sp);
    if ((st = ref_matmul()->exec(&c))) return st;
    scale_add_mask(&scores, mec_node_float(ctx->node, "scale", 1.0f), ctx->n_in > 3 ? ctx->in[3] : NULL);
    const mec_tensor *smin[1] = {&scores};
    c = sub_ctx(ctx, 1, smin, sp); /* in place: Softmax allows it; no axis attribute: -1 */
    if ((st = ref_softmax()->exec(&c))) return st;
    const mec_tensor *pv[2] = {&scores, ctx->in[2]};
    c = sub_ctx(ctx, 2, pv, ctx->out);
    return ref_matmul()->exec(&c);
}

static int64_t att_flops(const mec_op_ctx *ctx) {
    mec_tensor scores;
    if (att_scores(ctx, &scores) || ctx->in[0]->ndim < 1 || scores.ndim < 1) return 0;
    int64_t d = ctx->in[0]->shape[ctx->in[0]->ndim - 1], t = scores.shape[scores.ndim - 1];
    return mec_tensor_numel(&scores) * (2 * d + 5) + mec_tensor_numel(ctx->out[0]) * 2 * t;
}

const mec_kernel mec_kernels_transformer[] = {
    {"LayerNormalization", "mec", 1, 1, "ref", 0, 0, ln_infer, ln_exec, ln_prepare, NULL, ln_flops},
    {"Attention", "mec", 1, 1, "ref", 0, 0, att_infer, att_exec, att_prepare, NULL, att_flops},
    {0},
};
