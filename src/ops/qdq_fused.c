/* Reference kernels of the int8 ops that the QDQ pass (runtime/optimize_qdq.c)
 * makes, domain "mec":
 *   mec.QConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, [B],
 *             [sum_scale, sum_zp, sum])
 *       activation="" | "Relu". Without the sum: QLinearConv, then ReLU as a
 *       clamp at y_zp (Relu before QuantizeLinear == max(q, y_zp), quantizing
 *       is monotone). With the sum (a residual, uint8/int8 of y's shape, its
 *       scale and zero point per tensor; B may then be absent, an empty name):
 *         y = saturate(round(v) + y_zp),
 *         v = act((x_scale * w_scale[m] / y_scale) * (acc + B[m])
 *                 + (sum_scale / y_scale) * (sum - sum_zp)),
 *         acc = conv(x - x_zp, w - w_zp) (int32),
 *       the QDQ graph Conv → Q → DQ → Add(DQ(sum)) → [Relu] → Q without the
 *       intermediate rounding and saturation of the conv's own output: it may
 *       differ from that graph by ±1 (more only where that output saturated).
 *       The sum is the last input so that the session may hand its buffer to
 *       y (MEC_KF_SUM_INPLACE): the kernel reads sum[i] before it writes y[i].
 *   mec.QAdd(a, a_scale, a_zp, b, b_scale, b_zp, [y_scale, y_zp])
 *       activation="" | "Relu": QuantizeLinear(Relu?(DequantizeLinear(a) +
 *       DequantizeLinear(b))) computed with the same float operations as those
 *       three reference kernels, so it is bit-exact with the QDQ graph.
 *       Without y_scale and y_zp, y is the float32 Relu?(DQ(a) + DQ(b)): the
 *       residual whose sum goes on in float (ResNet's last block, before the
 *       pooling).
 *   mec.QMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp, [bias])
 *       activation="" | "Relu": QLinearMatMul with an int32 bias (N) added
 *       to the accumulator before the requantization, as QLinearConv does,
 *       then ReLU as a clamp at y_zp.
 * Scales and zero points are per tensor (one value) except w_scale/w_zp
 * (per output channel) and b_scale/b_zp (per column). */
#include "fused.h"
#include "op_util.h"
#include "qdq_fused.h"
#include "quant_util.h"

#include <inttypes.h>
#include <omp.h>
#include <string.h>

static const mec_dtype q8_types[] = {MEC_U8, MEC_I8, 0};
static const mec_dtype f32_types[] = {MEC_F32, 0};

/* ---------------------------------------------------------------- shared */

static mec_status check_scalar(const mec_op_ctx *ctx, int i, const char *name,
                               const mec_dtype *types) {
    mec_status st = mec_op_check_dtype(ctx, i, types);
    if (!st && mec_tensor_numel(ctx->in[i]) != 1)
        st = MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input %d (%s) has %" PRId64 " values, expected 1", i,
                        name, mec_tensor_numel(ctx->in[i]));
    return st;
}

static inline int32_t load_q8(const void *p, mec_dtype t, int64_t i) {
    return t == MEC_U8 ? ((const uint8_t *)p)[i] : ((const int8_t *)p)[i];
}

/* int32 addition that wraps, as the reference QLinearConv adds its bias */
static inline int32_t add_wrap(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

/* ------------------------------------------------------------------ QConv */

static const mec_kernel *ref_qlinearconv(void) { return mec_op_find("", "QLinearConv", 10, "ref"); }
static const mec_kernel *ref_convinteger(void) {
    return mec_op_find("", "ConvInteger", 10, "ref");
}

static mec_status qconv_act(const mec_op_ctx *ctx, mec_fused_act *act) {
    mec_status st;
    *act = mec_fused_activation(ctx, &st);
    if (!st && *act == MEC_ACT_GELU)
        st = MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "activation 'Gelu' is not an int8 activation");
    return st;
}

bool mec_qconv_has_sum(const mec_op_ctx *ctx) {
    return ctx->n_in > 9;
}

/* The QLinearConv part of a mec.QConv node: its first (up to) 9 inputs. */
static mec_op_ctx qconv_base(const mec_op_ctx *ctx) {
    mec_op_ctx c = *ctx;
    if (c.n_in > 9) c.n_in = 9;
    return c;
}

/* sum_scale (f32, one value), sum_zp and sum (uint8/int8, one dtype), the
 * sum of y's shape (y's shape already set). */
static mec_status qconv_check_sum(const mec_op_ctx *ctx) {
    static const char *names[3] = {"sum_scale", "sum_zero_point", "sum"};
    for (int i = 9; i < 12; i++)
        if (!ctx->in[i])
            return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "input %d (%s) is missing", i, names[i - 9]);
    mec_status st = check_scalar(ctx, 9, "sum_scale", f32_types);
    if (!st) st = check_scalar(ctx, 10, "sum_zero_point", q8_types);
    if (!st) st = mec_op_check_dtype(ctx, 11, q8_types);
    if (!st && ctx->in[10]->dtype != ctx->in[11]->dtype)
        st = MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "sum_zero_point is %s, the sum %s",
                        mec_dtype_name(ctx->in[10]->dtype), mec_dtype_name(ctx->in[11]->dtype));
    const mec_tensor *sum = ctx->in[11], *y = ctx->out[0];
    if (!st && y && !mec_tensor_same_shape(sum, y)) {
        char s1[160], s2[160];
        st = MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input 11 (sum) has shape %s, expected the output's %s",
                        mec_shape_str(sum->ndim, sum->shape, s1, sizeof s1),
                        mec_shape_str(y->ndim, y->shape, s2, sizeof s2));
    }
    return st;
}

mec_status mec_qconv_ref_infer(mec_op_ctx *ctx) {
    const mec_kernel *k = ref_qlinearconv();
    mec_fused_act act;
    mec_status st = qconv_act(ctx, &act);
    if (st) return st;
    if (!k) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "no reference QLinearConv kernel");
    if (ctx->n_in != 8 && ctx->n_in != 9 && ctx->n_in != 12)
        return MEC_OP_ERR(
            ctx, MEC_ERR_GRAPH,
            "has %d inputs, expected 8 or 9, or 12 with (sum_scale, sum_zero_point, sum)",
            ctx->n_in);
    mec_op_ctx base = qconv_base(ctx);
    if ((st = k->infer(&base))) return st;
    return mec_qconv_has_sum(ctx) ? qconv_check_sum(ctx) : MEC_OK;
}

/* The context of the integer op under a node whose inputs are in
 * QLinearConv's order (x, x_scale, x_zp, w, w_scale, w_zp, ...): its
 * (x, w, x_zp, w_zp) and an int32 output acc, as ConvInteger and
 * MatMulInteger take them. With a sum, QConv's accumulator conv(x - x_zp,
 * w - w_zp) comes from the reference ConvInteger; QMatMul's product from
 * MatMulInteger. */
static void int_acc_sub(const mec_op_ctx *ctx, const mec_tensor **in4, mec_tensor *acc, mec_tensor **out1,
                        mec_op_ctx *sub) {
    in4[0] = ctx->in[0];
    in4[1] = ctx->in[3];
    in4[2] = ctx->in[2];
    in4[3] = ctx->in[5];
    out1[0] = acc;
    *sub = *ctx;
    sub->n_in = 4;
    sub->in = in4;
    sub->n_out = 1;
    sub->out = out1;
    sub->state = NULL;
    sub->const_inputs = 0;
}

/* Runs the integer op k (ConvInteger, MatMulInteger) into acc (shape set
 * by the caller's *_scratch), which takes the first acc_bytes of scratch;
 * k's own scratch follows. */
static mec_status int_acc_run(mec_op_ctx *ctx, const mec_kernel *k, mec_tensor *acc, size_t acc_bytes,
                              size_t sub_bytes) {
    if (ctx->scratch_bytes < acc_bytes + sub_bytes)
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "needs %zu bytes of scratch, got %zu",
                          acc_bytes + sub_bytes, ctx->scratch_bytes);
    const mec_tensor *in4[4];
    mec_tensor *out1[1];
    mec_op_ctx sub;
    int_acc_sub(ctx, in4, acc, out1, &sub);
    acc->data = ctx->scratch;
    sub.scratch = (char *)ctx->scratch + acc_bytes;
    sub.scratch_bytes = sub_bytes;
    return k->exec(&sub);
}

/* scratch: the int32 accumulator (shape set here), then ConvInteger's own */
static mec_status qconv_sum_scratch(mec_op_ctx *ctx, mec_tensor *acc, size_t *acc_bytes,
                                    size_t *sub_bytes) {
    const mec_kernel *k = ref_convinteger();
    if (!k) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "no reference ConvInteger kernel");
    const mec_tensor *in4[4];
    mec_tensor *out1[1];
    mec_op_ctx sub;
    memset(acc, 0, sizeof *acc);
    int_acc_sub(ctx, in4, acc, out1, &sub);
    mec_status st = k->infer(&sub);
    if (st) return st;
    size_t b;
    if (!mec_size_mul((size_t)mec_tensor_numel(acc), sizeof(int32_t), &b) || b > SIZE_MAX - 64)
        return MEC_OP_ERR(ctx, MEC_ERR_NOMEM, "convolution scratch size overflows");
    *acc_bytes = (b + 63) & ~(size_t)63;
    void *state = NULL;
    *sub_bytes = 0;
    if (k->prepare && (st = k->prepare(&sub, &state, sub_bytes))) return st;
    if (k->release && state) k->release(state);
    return MEC_OK;
}

static mec_status qconv_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    *state = NULL;
    if (mec_qconv_has_sum(ctx)) {
        mec_tensor acc;
        size_t acc_bytes = 0, sub_bytes = 0;
        mec_status st = qconv_sum_scratch(ctx, &acc, &acc_bytes, &sub_bytes);
        if (!st && !mec_size_add(acc_bytes, sub_bytes, scratch_bytes))
            st = MEC_OP_ERR(ctx, MEC_ERR_NOMEM, "convolution scratch size overflows");
        return st;
    }
    const mec_kernel *k = ref_qlinearconv();
    if (!k) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "no reference QLinearConv kernel");
    return k->prepare ? k->prepare(ctx, state, scratch_bytes) : MEC_OK;
}

static void qconv_release(void *state) {
    const mec_kernel *k = ref_qlinearconv();
    if (k && k->release && state) k->release(state);
}

// y: (N, M, O...) = saturate(round(act(mult[m] * (acc + B[m]) + sum_mult * (sum - sum_zp))) +
// y_zp), acc = conv(x (N, C, D...) - x_zp, w (M, C/group, k...) - w_zp), sum: like y
static mec_status qconv_sum_exec(mec_op_ctx *ctx, mec_fused_act act) {
    mec_tensor acc;
    size_t acc_bytes = 0, sub_bytes = 0;
    mec_status st = qconv_sum_scratch(ctx, &acc, &acc_bytes, &sub_bytes);
    if (!st) st = int_acc_run(ctx, ref_convinteger(), &acc, acc_bytes, sub_bytes);
    if (st) return st;
    const mec_tensor *ws = ctx->in[4], *bias = ctx->in[8], *sum = ctx->in[11];
    mec_tensor *y = ctx->out[0];
    const int64_t N = y->shape[0], M = y->shape[1],
                  P = M > 0 && N > 0 ? mec_tensor_numel(y) / (N * M) : 0;
    const bool ws_per_channel = mec_tensor_numel(ws) > 1, relu = act == MEC_ACT_RELU;
    const float x_scale = *(const float *)ctx->in[1]->data,
                y_scale = *(const float *)ctx->in[6]->data;
    const float sum_mult = *(const float *)ctx->in[9]->data / y_scale;
    const int32_t y_zp = (int32_t)mec_tensor_get_i64(ctx->in[7], 0),
                  sum_zp = (int32_t)mec_tensor_get_i64(ctx->in[10], 0);
    const float lo = mec_q_min(y->dtype), hi = mec_q_max(y->dtype);
    const int32_t *accv = acc.data;
#pragma omp parallel for schedule(static) if (N * M * P > 65536 && !omp_in_parallel())
    for (int64_t nm = 0; nm < N * M; nm++) {
        const int64_t m = nm % M;
        /* the multiplier as the reference QLinearConv forms it */
        const float mult = x_scale * ((const float *)ws->data)[ws_per_channel ? m : 0] / y_scale;
        const int32_t b = bias ? ((const int32_t *)bias->data)[m] : 0;
        for (int64_t i = nm * P; i < (nm + 1) * P; i++) {
            /* sum[i] is read before y[i] is written: y may be the sum's buffer */
            float v = (float)add_wrap(accv[i], b) * mult +
                      (float)(load_q8(sum->data, sum->dtype, i) - sum_zp) * sum_mult;
            if (relu && !(v > 0)) v = 0.0f;
            int32_t q = mec_q_clamp(mec_q_round(v) + (float)y_zp, lo, hi);
            if (y->dtype == MEC_U8)
                ((uint8_t *)y->data)[i] = (uint8_t)q;
            else
                ((int8_t *)y->data)[i] = (int8_t)q;
        }
    }
    return MEC_OK;
}

static mec_status qconv_exec(mec_op_ctx *ctx) {
    const mec_kernel *k = ref_qlinearconv();
    mec_fused_act act;
    mec_status st = qconv_act(ctx, &act);
    if (st) return st;
    if (mec_qconv_has_sum(ctx)) return qconv_sum_exec(ctx, act);
    if (!k) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "no reference QLinearConv kernel");
    /* y_zp read before y is written (a one-value y may have been given the
     * last input's buffer: MEC_KF_SUM_INPLACE) */
    mec_tensor zp = *ctx->in[7];
    uint8_t zp_byte = *(const uint8_t *)zp.data;
    zp.data = &zp_byte;
    if ((st = k->exec(ctx))) return st;
    if (act == MEC_ACT_RELU) mec_q_clamp_below(ctx->out[0], &zp);
    return MEC_OK;
}

void mec_q_clamp_below(mec_tensor *y, const mec_tensor *zp) {
    int64_t n = mec_tensor_numel(y);
    if (y->dtype == MEC_U8) {
        uint8_t z = *(const uint8_t *)zp->data, *v = y->data;
        for (int64_t i = 0; i < n; i++) v[i] = v[i] < z ? z : v[i];
    } else {
        int8_t z = *(const int8_t *)zp->data, *v = y->data;
        for (int64_t i = 0; i < n; i++) v[i] = v[i] < z ? z : v[i];
    }
}

int64_t mec_qconv_flops(const mec_op_ctx *ctx) {
    const mec_tensor *w = ctx->n_in > 3 ? ctx->in[3] : NULL, *y = ctx->out[0];
    if (!w || !y || w->ndim < 1 || w->shape[0] <= 0) return 0;
    return 2 * mec_tensor_numel(y) * (mec_tensor_numel(w) / w->shape[0]);
}

/* ------------------------------------------------------------------- QAdd */

mec_status mec_qadd_check(const mec_op_ctx *ctx, mec_qadd_params *p) {
    mec_status st = mec_op_check_arity(ctx, 6, 8);
    const bool float_out = ctx->n_in == 6;
    if (!st && ctx->n_in == 7)
        st = MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG,
                        "y_scale without y_zero_point (give both, or neither for a float sum)");
    if (!st) st = mec_op_check_dtype(ctx, 0, q8_types);
    if (!st) st = mec_op_check_dtype(ctx, 3, q8_types);
    if (!st) st = check_scalar(ctx, 1, "a_scale", f32_types);
    if (!st) st = check_scalar(ctx, 2, "a_zero_point", q8_types);
    if (!st) st = check_scalar(ctx, 4, "b_scale", f32_types);
    if (!st) st = check_scalar(ctx, 5, "b_zero_point", q8_types);
    if (!st && !float_out) st = check_scalar(ctx, 6, "y_scale", f32_types);
    if (!st && !float_out) st = check_scalar(ctx, 7, "y_zero_point", q8_types);
    if (!st && (ctx->in[2]->dtype != ctx->in[0]->dtype || ctx->in[5]->dtype != ctx->in[3]->dtype))
        st = MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "a zero point's dtype differs from its data's");
    mec_fused_act act = MEC_ACT_NONE;
    if (!st) act = mec_fused_activation(ctx, &st);
    if (!st && act == MEC_ACT_GELU)
        st = MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "activation 'Gelu' is not an int8 activation");
    if (st || !p || !ctx->in[1]->data || !ctx->in[2]->data || !ctx->in[4]->data || !ctx->in[5]->data ||
        (!float_out && (!ctx->in[6]->data || !ctx->in[7]->data)))
        return st;
    memset(p, 0, sizeof *p);
    p->a_scale = *(const float *)ctx->in[1]->data;
    p->b_scale = *(const float *)ctx->in[4]->data;
    p->a_zp = (int32_t)mec_tensor_get_i64(ctx->in[2], 0);
    p->b_zp = (int32_t)mec_tensor_get_i64(ctx->in[5], 0);
    p->relu = act == MEC_ACT_RELU;
    p->float_out = float_out;
    if (!float_out) {
        p->y_scale = *(const float *)ctx->in[6]->data;
        p->y_zp = (int32_t)mec_tensor_get_i64(ctx->in[7], 0);
        p->lo = mec_q_min(ctx->in[7]->dtype);
        p->hi = mec_q_max(ctx->in[7]->dtype);
    }
    return MEC_OK;
}

static mec_status qadd_infer(mec_op_ctx *ctx) {
    mec_status st = mec_qadd_check(ctx, NULL);
    if (st) return st;
    const mec_tensor *a = ctx->in[0], *b = ctx->in[3];
    int nd;
    int64_t shape[MEC_MAX_DIMS];
    if ((st = mec_op_broadcast(ctx, a->ndim, a->shape, b->ndim, b->shape, &nd, shape))) return st;
    return mec_op_set_output(ctx, 0, ctx->n_in == 6 ? MEC_F32 : ctx->in[7]->dtype, nd, shape);
}

// y = Q(Relu?(DQ(a) + DQ(b))) (or the float sum), a and b broadcast to y: any rank
static mec_status qadd_exec(mec_op_ctx *ctx) {
    mec_qadd_params p;
    mec_status st = mec_qadd_check(ctx, &p);
    if (st) return st;
    const mec_tensor *a = ctx->in[0], *b = ctx->in[3];
    mec_tensor *y = ctx->out[0];
    int nd = y->ndim;
    int64_t as[MEC_MAX_DIMS], bs[MEC_MAX_DIMS], idx[MEC_MAX_DIMS] = {0};
    mec_op_broadcast_strides(a, nd, y->shape, as);
    mec_op_broadcast_strides(b, nd, y->shape, bs);
    int64_t n = mec_tensor_numel(y);
    for (int64_t i = 0; i < n; i++) {
        int64_t ao = 0, bo = 0;
        for (int d = 0; d < nd; d++) {
            ao += idx[d] * as[d];
            bo += idx[d] * bs[d];
        }
        float v = mec_qadd_one(&p, load_q8(a->data, a->dtype, ao), load_q8(b->data, b->dtype, bo));
        if (p.float_out) {
            ((float *)y->data)[i] = v;
        } else {
            int32_t q = mec_q_clamp(mec_q_round(v / p.y_scale) + (float)p.y_zp, p.lo, p.hi);
            if (y->dtype == MEC_U8) ((uint8_t *)y->data)[i] = (uint8_t)q;
            else ((int8_t *)y->data)[i] = (int8_t)q;
        }
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < y->shape[d]) break;
            idx[d] = 0;
        }
    }
    return MEC_OK;
}

static int64_t qadd_flops(const mec_op_ctx *ctx) { return ctx->out[0] ? mec_tensor_numel(ctx->out[0]) : 0; }

/* --------------------------------------------------------------- QMatMul */

static const mec_kernel *ref_matmulinteger(void) {
    return mec_op_find("", "MatMulInteger", 10, "ref");
}

/* Checks everything (shapes through MatMulInteger's infer, which sets acc's shape). */
static mec_status qmatmul_check(const mec_op_ctx *ctx, mec_tensor *acc, mec_fused_act *act) {
    const mec_kernel *k = ref_matmulinteger();
    if (!k) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "no reference MatMulInteger kernel");
    mec_status st = mec_op_check_arity(ctx, 8, 9);
    if (!st) st = qconv_act(ctx, act);
    if (!st) st = mec_op_check_dtype(ctx, 0, q8_types);
    if (!st) st = mec_op_check_dtype(ctx, 3, q8_types);
    if (!st) st = check_scalar(ctx, 1, "a_scale", f32_types);
    if (!st) st = check_scalar(ctx, 2, "a_zero_point", q8_types);
    if (!st) st = check_scalar(ctx, 6, "y_scale", f32_types);
    if (!st) st = check_scalar(ctx, 7, "y_zero_point", q8_types);
    if (!st) st = mec_op_check_dtype(ctx, 4, f32_types);
    if (!st && (ctx->in[2]->dtype != ctx->in[0]->dtype || ctx->in[5]->dtype != ctx->in[3]->dtype))
        st = MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "a zero point's dtype differs from its data's");
    if (st) return st;
    const mec_tensor *in4[4];
    mec_tensor *out1[1];
    mec_op_ctx sub;
    memset(acc, 0, sizeof *acc);
    int_acc_sub(ctx, in4, acc, out1, &sub);
    if ((st = k->infer(&sub))) return st;
    const mec_tensor *b = ctx->in[3], *bs = ctx->in[4], *bz = ctx->in[5];
    const mec_tensor *bias = ctx->n_in > 8 ? ctx->in[8] : NULL;
    int64_t N = b->ndim >= 2 ? b->shape[b->ndim - 1] : 1;
    char s1[160], s2[160];
    if (!(mec_tensor_numel(bs) == 1 || (bs->ndim == 1 && bs->shape[0] == N)) ||
        mec_tensor_numel(bz) != mec_tensor_numel(bs))
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE,
                          "b_scale %s and b_zero_point %s must both be scalars or both (%" PRId64
                          ")",
                          mec_shape_str(bs->ndim, bs->shape, s1, sizeof s1),
                          mec_shape_str(bz->ndim, bz->shape, s2, sizeof s2), N);
    if (bias && (bias->dtype != MEC_I32 || bias->ndim != 1 || bias->shape[0] != N))
        return MEC_OP_ERR(
            ctx, MEC_ERR_SHAPE, "input 8 (bias) is %s %s, expected int32 (%" PRId64 ")",
            mec_dtype_name(bias->dtype), mec_shape_str(bias->ndim, bias->shape, s1, sizeof s1), N);
    return MEC_OK;
}

static mec_status qmatmul_infer(mec_op_ctx *ctx) {
    mec_tensor acc;
    mec_fused_act act;
    mec_status st = qmatmul_check(ctx, &acc, &act);
    return st ? st : mec_op_set_output(ctx, 0, ctx->in[7]->dtype, acc.ndim, acc.shape);
}

/* scratch: the int32 accumulator, then MatMulInteger's own scratch */
static mec_status qmatmul_scratch(mec_op_ctx *ctx, mec_tensor *acc, size_t *acc_bytes,
                                  size_t *sub_bytes) {
    mec_fused_act act;
    mec_status st = qmatmul_check(ctx, acc, &act);
    if (st) return st;
    const mec_tensor *in4[4];
    mec_tensor *out1[1];
    mec_op_ctx sub;
    int_acc_sub(ctx, in4, acc, out1, &sub);
    size_t b;
    if (!mec_size_mul((size_t)mec_tensor_numel(acc), sizeof(int32_t), &b) || b > SIZE_MAX - 64)
        return MEC_OP_ERR(ctx, MEC_ERR_NOMEM, "matmul scratch size overflows");
    *acc_bytes = (b + 63) & ~(size_t)63;
    void *state = NULL;
    *sub_bytes = 0;
    const mec_kernel *k = ref_matmulinteger();
    if (k->prepare && (st = k->prepare(&sub, &state, sub_bytes))) return st;
    if (k->release && state) k->release(state);
    return MEC_OK;
}

static mec_status qmatmul_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    mec_tensor acc;
    size_t acc_bytes, sub_bytes;
    *state = NULL;
    mec_status st = qmatmul_scratch(ctx, &acc, &acc_bytes, &sub_bytes);
    if (!st && !mec_size_add(acc_bytes, sub_bytes, scratch_bytes))
        st = MEC_OP_ERR(ctx, MEC_ERR_NOMEM, "matmul scratch size overflows");
    return st;
}

// y: (..., M, N) = max?(saturate(round(((a - a_zp) @ (b - b_zp) + bias[n]) * a_scale * b_scale[n] /
// y_scale) + y_zp), y_zp)
static mec_status qmatmul_exec(mec_op_ctx *ctx) {
    mec_tensor acc;
    size_t acc_bytes, sub_bytes;
    mec_status st = qmatmul_scratch(ctx, &acc, &acc_bytes, &sub_bytes);
    if (!st) st = int_acc_run(ctx, ref_matmulinteger(), &acc, acc_bytes, sub_bytes);
    if (st) return st;
    mec_fused_act act;
    if ((st = qconv_act(ctx, &act))) return st;
    const mec_tensor *b = ctx->in[3], *bs = ctx->in[4], *bias = ctx->n_in > 8 ? ctx->in[8] : NULL;
    const int64_t N = b->ndim >= 2 ? b->shape[b->ndim - 1] : 1, n_all = mec_tensor_numel(&acc);
    const bool per_col = mec_tensor_numel(bs) > 1;
    const float a_scale = *(const float *)ctx->in[1]->data,
                y_scale = *(const float *)ctx->in[6]->data;
    const int32_t y_zp = (int32_t)mec_tensor_get_i64(ctx->in[7], 0);
    mec_tensor *y = ctx->out[0];
    const float lo = mec_q_min(y->dtype), hi = mec_q_max(y->dtype);
    const int32_t *accv = acc.data;
    for (int64_t i = 0; i < n_all; i++) {
        int64_t n = i % N;
        int32_t v = bias ? add_wrap(accv[i], ((const int32_t *)bias->data)[n]) : accv[i];
        /* the multiplier as the reference QLinearMatMul forms it */
        const float mult = a_scale * ((const float *)bs->data)[per_col ? n : 0] / y_scale;
        int32_t q = mec_q_requantize(v, mult, y_zp, lo, hi);
        if (act == MEC_ACT_RELU && q < y_zp) q = y_zp;
        if (y->dtype == MEC_U8)
            ((uint8_t *)y->data)[i] = (uint8_t)q;
        else
            ((int8_t *)y->data)[i] = (int8_t)q;
    }
    return MEC_OK;
}

static int64_t qmatmul_flops(const mec_op_ctx *ctx) {
    const mec_tensor *a = ctx->n_in > 0 ? ctx->in[0] : NULL, *y = ctx->out[0];
    if (!a || !y || a->ndim < 1) return 0;
    return 2 * mec_tensor_numel(y) * a->shape[a->ndim - 1];
}

const mec_kernel mec_kernels_qdq_fused[] = {
    /* with a sum, y may take over the sum's buffer: exec reads sum[i] before writing y[i] */
    {"QConv", "mec", 1, 1, "ref", MEC_KF_SUM_INPLACE, 0, mec_qconv_ref_infer, qconv_exec,
     qconv_prepare, qconv_release, mec_qconv_flops},
    {"QAdd", "mec", 1, 1, "ref", 0, 0, qadd_infer, qadd_exec, NULL, NULL, qadd_flops},
    {"QMatMul", "mec", 1, 1, "ref", 0, 0, qmatmul_infer, qmatmul_exec, qmatmul_prepare, NULL,
     qmatmul_flops},
    {0},
};
