/* Fused ops made by the runtime's optimiser (domain "mec"): reference
 * kernels built from the reference Conv/MatMul kernels plus the epilogue
 * (residual add, bias, activation). The fast kernels are checked against
 * these.
 *   mec.FusedConv(X, W, [B], [Sum]) activation="" | "Relu": Conv attributes
 *   mec.FusedMatMul(A, B, bias)     activation="" | "Relu" | "Gelu" (exact, erf) */
#include "fused.h"
#include "op_util.h"

#include <math.h>
#include <string.h>

mec_fused_act mec_fused_activation(const mec_op_ctx *ctx, mec_status *st) {
    const char *a = mec_node_string(ctx->node, "activation", "");
    *st = MEC_OK;
    if (!a[0]) return MEC_ACT_NONE;
    if (!strcmp(a, "Relu")) return MEC_ACT_RELU;
    if (!strcmp(a, "Gelu")) return MEC_ACT_GELU;
    *st = mec_op_error(ctx, MEC_ERR_UNSUPPORTED, "unknown fused activation '%s'", a);
    return MEC_ACT_NONE;
}

void mec_fused_apply(float *y, int64_t n, mec_fused_act act) {
    if (act == MEC_ACT_RELU) {
        for (int64_t i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : 0;
    } else if (act == MEC_ACT_GELU) {
        for (int64_t i = 0; i < n; i++) y[i] = 0.5f * y[i] * (1.0f + erff(y[i] * 0.70710678118654752f));
    }
}

/* A context for the wrapped kernel: the same node and tensors, fewer inputs. */
static mec_op_ctx inner_ctx(const mec_op_ctx *ctx, int n_in) {
    mec_op_ctx c = *ctx;
    c.n_in = n_in;
    return c;
}

static const mec_kernel *ref_conv(void) { return mec_op_find("", "Conv", 11, "ref"); }
static const mec_kernel *ref_matmul(void) { return mec_op_find("", "MatMul", 13, "ref"); }

/* ------------------------------------------------------------ FusedConv */

static mec_status fconv_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 2, 4);
    if (st) return st;
    const mec_kernel *k = ref_conv();
    if (!k) return mec_op_error(ctx, MEC_ERR_INTERNAL, "no reference Conv kernel");
    mec_fused_activation(ctx, &st);
    if (st) return st;
    mec_op_ctx c = inner_ctx(ctx, ctx->n_in > 3 ? 3 : ctx->n_in);
    if ((st = k->infer(&c))) return st;
    if (ctx->n_in > 3 && ctx->in[3]) {
        const mec_tensor *s = ctx->in[3], *y = ctx->out[0];
        if (s->dtype != y->dtype)
            return mec_op_error(ctx, MEC_ERR_DTYPE, "residual input has dtype %s, output %s",
                                mec_dtype_name(s->dtype), mec_dtype_name(y->dtype));
        int nd;
        int64_t shape[MEC_MAX_DIMS];
        if ((st = mec_op_broadcast(ctx, y->ndim, y->shape, s->ndim, s->shape, &nd, shape))) return st;
        if (nd != y->ndim || memcmp(shape, y->shape, sizeof(int64_t) * (size_t)nd))
            return mec_op_error(ctx, MEC_ERR_SHAPE, "residual input does not broadcast to the output");
    }
    if (ctx->out[0]->dtype != MEC_F32)
        return mec_op_error(ctx, MEC_ERR_DTYPE, "fused conv runs float32 only");
    return MEC_OK;
}

static mec_status fconv_prepare(mec_op_ctx *ctx, void **state, size_t *scratch) {
    const mec_kernel *k = ref_conv();
    if (!k->prepare) return MEC_OK;
    mec_op_ctx c = inner_ctx(ctx, ctx->n_in > 3 ? 3 : ctx->n_in);
    return k->prepare(&c, state, scratch);
}

static void fconv_release(void *state) {
    const mec_kernel *k = ref_conv();
    if (k && k->release) k->release(state);
}

/* y += s with s broadcast to y's shape (both contiguous). */
static void add_broadcast(mec_tensor *y, const mec_tensor *s) {
    float *yv = y->data;
    const float *sv = s->data;
    int64_t n = mec_tensor_numel(y);
    if (mec_tensor_same_shape(y, s)) {
        for (int64_t i = 0; i < n; i++) yv[i] += sv[i];
        return;
    }
    int64_t strides[MEC_MAX_DIMS], idx[MEC_MAX_DIMS] = {0};
    mec_op_broadcast_strides(s, y->ndim, y->shape, strides);
    for (int64_t i = 0; i < n; i++) {
        int64_t off = 0;
        for (int d = 0; d < y->ndim; d++) off += idx[d] * strides[d];
        yv[i] += sv[off];
        for (int d = y->ndim - 1; d >= 0; d--) {
            if (++idx[d] < y->shape[d]) break;
            idx[d] = 0;
        }
    }
}

static mec_status fconv_exec(mec_op_ctx *ctx) {
    mec_status st;
    mec_fused_act act = mec_fused_activation(ctx, &st);
    if (st) return st;
    mec_op_ctx c = inner_ctx(ctx, ctx->n_in > 3 ? 3 : ctx->n_in);
    if ((st = ref_conv()->exec(&c))) return st;
    if (ctx->n_in > 3 && ctx->in[3]) add_broadcast(ctx->out[0], ctx->in[3]);
    mec_fused_apply(ctx->out[0]->data, mec_tensor_numel(ctx->out[0]), act);
    return MEC_OK;
}

static int64_t fconv_flops(const mec_op_ctx *ctx) {
    const mec_kernel *k = ref_conv();
    mec_op_ctx c = inner_ctx(ctx, ctx->n_in > 3 ? 3 : ctx->n_in);
    return k && k->flops ? k->flops(&c) : 0;
}

/* ---------------------------------------------------------- FusedMatMul */

static mec_status fmm_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 3, 3);
    if (st) return st;
    mec_fused_activation(ctx, &st);
    if (st) return st;
    mec_op_ctx c = inner_ctx(ctx, 2);
    if ((st = ref_matmul()->infer(&c))) return st;
    const mec_tensor *y = ctx->out[0], *b = ctx->in[2];
    if (y->dtype != MEC_F32 || b->dtype != MEC_F32)
        return mec_op_error(ctx, MEC_ERR_DTYPE, "fused matmul runs float32 only");
    if (y->ndim < 1 || mec_tensor_numel(b) != y->shape[y->ndim - 1])
        return mec_op_error(ctx, MEC_ERR_SHAPE, "bias has %lld values, the output's last dim is %lld",
                            (long long)mec_tensor_numel(b), (long long)(y->ndim ? y->shape[y->ndim - 1] : 0));
    return MEC_OK;
}

static mec_status fmm_prepare(mec_op_ctx *ctx, void **state, size_t *scratch) {
    const mec_kernel *k = ref_matmul();
    if (!k->prepare) return MEC_OK;
    mec_op_ctx c = inner_ctx(ctx, 2);
    return k->prepare(&c, state, scratch);
}

static void fmm_release(void *state) {
    const mec_kernel *k = ref_matmul();
    if (k && k->release) k->release(state);
}

static mec_status fmm_exec(mec_op_ctx *ctx) {
    mec_status st;
    mec_fused_act act = mec_fused_activation(ctx, &st);
    if (st) return st;
    mec_op_ctx c = inner_ctx(ctx, 2);
    if ((st = ref_matmul()->exec(&c))) return st;
    mec_tensor *y = ctx->out[0];
    float *yv = y->data;
    const float *bv = ctx->in[2]->data;
    int64_t n = y->shape[y->ndim - 1], rows = n ? mec_tensor_numel(y) / n : 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < n; j++) yv[r * n + j] += bv[j];
    mec_fused_apply(yv, mec_tensor_numel(y), act);
    return MEC_OK;
}

static int64_t fmm_flops(const mec_op_ctx *ctx) {
    const mec_kernel *k = ref_matmul();
    mec_op_ctx c = inner_ctx(ctx, 2);
    return k && k->flops ? k->flops(&c) : 0;
}

const mec_kernel mec_kernels_fused[] = {
    {"FusedConv", "mec", 1, 1, "ref", 0, 0, fconv_infer, fconv_exec, fconv_prepare, fconv_release, fconv_flops},
    {"FusedMatMul", "mec", 1, 1, "ref", 0, 0, fmm_infer, fmm_exec, fmm_prepare, fmm_release, fmm_flops},
    {0},
};
