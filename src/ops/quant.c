/* quant ops: reference kernels for QuantizeLinear, DequantizeLinear,
 * DynamicQuantizeLinear, QLinearConv, ConvInteger, QLinearMatMul and
 * MatMulInteger, computed as ONNX specifies and ONNX Runtime does (round half
 * to even, saturation, int32 accumulation). They are the oracle for the int8
 * fast paths, so exactness comes before speed; the convolutions still use
 * im2col and an int16 dot-product GEMM so that ResNet-size layers run. */
#include "op_util.h"
#include "quant_util.h"

#include <inttypes.h>
#include <omp.h>
#include <string.h>

static const mec_dtype q8_types[] = {MEC_U8, MEC_I8, 0};
static const mec_dtype f32_types[] = {MEC_F32, 0};

/* ----------------------------------------------------------- small helpers */

/* Element i of a uint8/int8/int32 tensor (zero points, bias). */
static inline int32_t q_int(const mec_tensor *t, int64_t i) {
    switch (t->dtype) {
    case MEC_U8: return ((const uint8_t *)t->data)[i];
    case MEC_I8: return ((const int8_t *)t->data)[i];
    case MEC_I32: return ((const int32_t *)t->data)[i];
    default: return 0;
    }
}

static inline void q_store(void *y, mec_dtype t, int64_t i, int32_t v) {
    if (t == MEC_U8) ((uint8_t *)y)[i] = (uint8_t)v;
    else ((int8_t *)y)[i] = (int8_t)v;
}

static inline const mec_tensor *opt_in(const mec_op_ctx *ctx, int i) {
    return i < ctx->n_in ? ctx->in[i] : NULL;
}

/* Signed int32 addition that wraps (ONNX lets int32 accumulation overflow;
 * C does not, so go through uint32). */
static inline int32_t add_wrap(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

static size_t align_up(size_t n) { return (n + (MEC_ALIGN - 1)) & ~(size_t)(MEC_ALIGN - 1); }

/* bytes = count * elem rounded up to MEC_ALIGN, added to *total; false on overflow. */
static bool scratch_add(size_t *total, int64_t count, size_t elem, size_t *offset) {
    size_t b;
    if (count < 0 || !mec_size_mul((size_t)count, elem, &b)) return false;
    if (b > SIZE_MAX - MEC_ALIGN) return false;
    *offset = *total;
    return mec_size_add(*total, align_up(b), total);
}

/* A rows x cols region of elem-byte elements, overflow-checked. */
static bool scratch_region(size_t *total, int64_t rows, int64_t cols, size_t elem, size_t *offset) {
    size_t n;
    return rows >= 0 && cols >= 0 && mec_size_mul((size_t)rows, (size_t)cols, &n) &&
           n <= (size_t)INT64_MAX && scratch_add(total, (int64_t)n, elem, offset);
}

/* in[i] has dtype `want`. */
static mec_status check_same_dtype(const mec_op_ctx *ctx, int i, const char *name, mec_dtype want) {
    if (ctx->in[i]->dtype != want)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "input %d (%s) has dtype %s, expected %s like its data",
                          i, name, mec_dtype_name(ctx->in[i]->dtype), mec_dtype_name(want));
    return MEC_OK;
}

/* in[i] holds exactly one value (a scalar, or a 1-element tensor as exporters
 * often write). */
static mec_status check_one_value(const mec_op_ctx *ctx, int i, const char *name) {
    int64_t n = mec_tensor_numel(ctx->in[i]);
    if (n != 1) {
        char s[160];
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input %d (%s) has shape %s, expected a scalar", i,
                          name, mec_shape_str(ctx->in[i]->ndim, ctx->in[i]->shape, s, sizeof s));
    }
    return MEC_OK;
}

/* in[i] is a scalar or a 1-D tensor of `len` values (per output channel). */
static mec_status check_scalar_or_vec(const mec_op_ctx *ctx, int i, const char *name, int64_t len,
                                      const char *what) {
    const mec_tensor *t = ctx->in[i];
    if (mec_tensor_numel(t) == 1) return MEC_OK;
    if (t->ndim == 1 && t->shape[0] == len) return MEC_OK;
    char s[160];
    return MEC_OP_ERR(ctx, MEC_ERR_SHAPE,
                      "input %d (%s) has shape %s, expected a scalar or (%" PRId64 ") for %s", i,
                      name, mec_shape_str(t->ndim, t->shape, s, sizeof s), len, what);
}

/* ------------------------------------------- QuantizeLinear/DequantizeLinear */

/* Per-tensor or per-axis parameters: scale in[1], zero point in[2] (optional).
 * *axis = -1 for per-tensor; otherwise the normalised axis of x. Per-axis is
 * opset >= 13 only; there the axis is checked only when it is used (a scalar
 * scale ignores it, whatever x's rank). */
static mec_status qdq_params(const mec_op_ctx *ctx, const mec_tensor *x, int *axis) {
    const mec_tensor *s = ctx->in[1], *z = opt_in(ctx, 2);
    char ss[160], zs[160];
    /* "same shape"; a () scale with a (1,) zero point is accepted, as ONNX Runtime does */
    if (z && !(mec_tensor_numel(z) == 1 && mec_tensor_numel(s) == 1) &&
        (z->ndim != s->ndim || memcmp(z->shape, s->shape, sizeof(int64_t) * (size_t)s->ndim)))
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "scale %s and zero point %s must have the same shape",
                          mec_shape_str(s->ndim, s->shape, ss, sizeof ss),
                          mec_shape_str(z->ndim, z->shape, zs, sizeof zs));
    if (mec_tensor_numel(s) == 1) {
        *axis = -1;
        return MEC_OK;
    }
    if (ctx->opset < 13)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE,
                          "scale has shape %s; before opset 13 it must be a scalar (per-axis needs opset 13)",
                          mec_shape_str(s->ndim, s->shape, ss, sizeof ss));
    if (s->ndim != 1)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "scale has shape %s, expected a scalar or 1-D",
                          mec_shape_str(s->ndim, s->shape, ss, sizeof ss));
    mec_status st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", 1), x->ndim, axis);
    if (st) return st;
    if (s->shape[0] != x->shape[*axis])
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE,
                          "scale has %" PRId64 " values but input dimension %d (axis) is %" PRId64,
                          s->shape[0], *axis, x->shape[*axis]);
    return MEC_OK;
}

/* x viewed as (outer, channels, inner) around the quantization axis. */
static void qdq_split(const mec_tensor *x, int axis, int64_t *outer, int64_t *channels,
                      int64_t *inner) {
    int64_t n = mec_tensor_numel(x);
    if (axis < 0) {
        *outer = 1, *channels = 1, *inner = n;
        return;
    }
    *outer = 1, *inner = 1;
    for (int d = 0; d < axis; d++) *outer *= x->shape[d];
    for (int d = axis + 1; d < x->ndim; d++) *inner *= x->shape[d];
    *channels = x->shape[axis];
}

/* y = saturate(round(x / y_scale) + y_zero_point)
 * x: float32 (or int32) (any shape); y_scale: () or (C,); y_zero_point: like y_scale, uint8/int8. */
static mec_status quantize_infer(mec_op_ctx *ctx) {
    static const mec_dtype x_types[] = {MEC_F32, MEC_I32, 0};
    mec_status st = mec_op_check_arity(ctx, 2, 3);
    if (!st) st = mec_op_check_dtype(ctx, 0, x_types);
    if (!st) st = mec_op_check_dtype(ctx, 1, f32_types);
    const mec_tensor *z = opt_in(ctx, 2);
    if (!st && z) st = mec_op_check_dtype(ctx, 2, q8_types);
    int axis;
    if (!st) st = qdq_params(ctx, ctx->in[0], &axis);
    if (st) return st;
    return mec_op_set_output(ctx, 0, z ? z->dtype : MEC_U8, ctx->in[0]->ndim, ctx->in[0]->shape);
}

static mec_status quantize_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0], *s = ctx->in[1], *z = opt_in(ctx, 2);
    mec_tensor *y = ctx->out[0];
    int axis;
    mec_status st = qdq_params(ctx, x, &axis);
    if (st) return st;
    int64_t outer, channels, inner;
    qdq_split(x, axis, &outer, &channels, &inner);
    const float lo = mec_q_min(y->dtype), hi = mec_q_max(y->dtype);
    const float *scale = s->data;
    const int64_t rows = outer * channels;
#pragma omp parallel for schedule(static) if (rows * inner > 65536)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r % channels;
        float sc = scale[c];
        int32_t zp = z ? q_int(z, c) : 0;
        int64_t base = r * inner;
        if (x->dtype == MEC_F32) {
            const float *xs = (const float *)x->data + base;
            for (int64_t i = 0; i < inner; i++)
                q_store(y->data, y->dtype, base + i, mec_q_quantize(xs[i], sc, zp, lo, hi));
        } else {
            const int32_t *xs = (const int32_t *)x->data + base;
            for (int64_t i = 0; i < inner; i++)
                q_store(y->data, y->dtype, base + i, mec_q_quantize((float)xs[i], sc, zp, lo, hi));
        }
    }
    return MEC_OK;
}

/* y = (x - x_zero_point) * x_scale
 * x: uint8/int8/int32 (any shape); x_scale: () or (C,) float32; x_zero_point: like x_scale, x's dtype. */
static mec_status dequantize_infer(mec_op_ctx *ctx) {
    static const mec_dtype x_types[] = {MEC_U8, MEC_I8, MEC_I32, 0};
    mec_status st = mec_op_check_arity(ctx, 2, 3);
    if (!st) st = mec_op_check_dtype(ctx, 0, x_types);
    if (!st) st = mec_op_check_dtype(ctx, 1, f32_types);
    if (!st && opt_in(ctx, 2)) st = check_same_dtype(ctx, 2, "x_zero_point", ctx->in[0]->dtype);
    int axis;
    if (!st) st = qdq_params(ctx, ctx->in[0], &axis);
    if (st) return st;
    return mec_op_set_output(ctx, 0, MEC_F32, ctx->in[0]->ndim, ctx->in[0]->shape);
}

static mec_status dequantize_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0], *s = ctx->in[1], *z = opt_in(ctx, 2);
    float *y = ctx->out[0]->data;
    int axis;
    mec_status st = qdq_params(ctx, x, &axis);
    if (st) return st;
    int64_t outer, channels, inner;
    qdq_split(x, axis, &outer, &channels, &inner);
    const float *scale = s->data;
    const int64_t rows = outer * channels;
#pragma omp parallel for schedule(static) if (rows * inner > 65536)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r % channels;
        float sc = scale[c];
        int64_t zp = z ? q_int(z, c) : 0;
        int64_t base = r * inner;
        for (int64_t i = 0; i < inner; i++)
            y[base + i] = (float)((int64_t)q_int(x, base + i) - zp) * sc;
    }
    return MEC_OK;
}

/* ----------------------------------------------------- DynamicQuantizeLinear */

/* x: float32 (any shape) -> y: uint8 like x, y_scale: () float32, y_zero_point: () uint8.
 * scale = (max(0, max x) - min(0, min x)) / 255 (1 when that range is 0, as
 * ONNX Runtime does), zero point = saturate(round(0 - min / scale)). */
static mec_status dynquant_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (!st) st = mec_op_check_dtype(ctx, 0, f32_types);
    if (!st) st = mec_op_set_output(ctx, 0, MEC_U8, ctx->in[0]->ndim, ctx->in[0]->shape);
    if (!st) st = mec_op_set_output(ctx, 1, MEC_F32, 0, NULL);
    if (!st) st = mec_op_set_output(ctx, 2, MEC_U8, 0, NULL);
    return st;
}

static mec_status dynquant_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    const float *xs = x->data;
    const int64_t n = mec_tensor_numel(x);
    float lo = 0.0f, hi = 0.0f; /* the range always includes 0 */
#pragma omp parallel for reduction(min : lo) reduction(max : hi) schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) {
        if (xs[i] < lo) lo = xs[i];
        if (xs[i] > hi) hi = xs[i];
    }
    float scale = hi == lo ? 1.0f : (hi - lo) / 255.0f;
    int32_t zp = mec_q_clamp(mec_q_round(0.0f - lo / scale), 0.0f, 255.0f);
    uint8_t *y = ctx->out[0]->data;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; i++) y[i] = (uint8_t)mec_q_quantize(xs[i], scale, zp, 0.0f, 255.0f);
    if (ctx->n_out > 1 && ctx->out[1]) *(float *)ctx->out[1]->data = scale;
    if (ctx->n_out > 2 && ctx->out[2]) *(uint8_t *)ctx->out[2]->data = (uint8_t)zp;
    return MEC_OK;
}

/* ------------------------------------------------- int16 dot-product GEMM */

/* Largest K for which a sum of K products of values in [-255, 255] cannot
 * overflow int32; beyond it the GEMM sums in int64 and wraps. */
#define GEMM_SAFE_K 33025
#define GEMM_NB 64

/* c[i*ldc + j] = sum_t a[i*k + t] * b[j*k + t] for i < m, j < n: both operands
 * are "rows of k" (weights by im2col rows, A by packed B^T). Operands are
 * zero-point-corrected 8-bit values, so |a|, |b| <= 255. */
static void gemm_s16(int64_t m, int64_t n, int64_t k, const int16_t *a, const int16_t *b,
                     int32_t *c, int64_t ldc) {
    const int64_t mb = (m + 3) / 4, nb = (n + GEMM_NB - 1) / GEMM_NB;
    const bool big = (double)m * (double)n * (double)k > 65536.0 && mb * nb > 1 && !omp_in_parallel();
#pragma omp parallel for collapse(2) schedule(dynamic, 1) if (big)
    for (int64_t ib = 0; ib < mb; ib++) {
        for (int64_t jb = 0; jb < nb; jb++) {
            const int64_t i0 = ib * 4, rows = m - i0 < 4 ? m - i0 : 4;
            const int64_t j0 = jb * GEMM_NB, j1 = j0 + GEMM_NB < n ? j0 + GEMM_NB : n;
            if (k > GEMM_SAFE_K) {
                for (int64_t i = i0; i < i0 + rows; i++)
                    for (int64_t j = j0; j < j1; j++) {
                        int64_t s = 0;
                        for (int64_t t = 0; t < k; t++) s += (int32_t)a[i * k + t] * b[j * k + t];
                        c[i * ldc + j] = (int32_t)(uint32_t)(uint64_t)s;
                    }
                continue;
            }
            if (rows == 4) {
                const int16_t *a0 = a + i0 * k, *a1 = a0 + k, *a2 = a1 + k, *a3 = a2 + k;
                int64_t j = j0;
                for (; j + 1 < j1; j += 2) { /* 4 x 2 block: each load feeds two products */
                    const int16_t *bj = b + j * k, *bk = bj + k;
                    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3, t0, t1, t2, t3)
                    for (int64_t t = 0; t < k; t++) {
                        int32_t bv = bj[t], bw = bk[t];
                        s0 += a0[t] * bv;
                        s1 += a1[t] * bv;
                        s2 += a2[t] * bv;
                        s3 += a3[t] * bv;
                        t0 += a0[t] * bw;
                        t1 += a1[t] * bw;
                        t2 += a2[t] * bw;
                        t3 += a3[t] * bw;
                    }
                    int32_t *cj = c + i0 * ldc + j;
                    cj[0] = s0, cj[1] = t0;
                    cj[ldc] = s1, cj[ldc + 1] = t1;
                    cj[2 * ldc] = s2, cj[2 * ldc + 1] = t2;
                    cj[3 * ldc] = s3, cj[3 * ldc + 1] = t3;
                }
                for (; j < j1; j++) {
                    const int16_t *bj = b + j * k;
                    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
                    for (int64_t t = 0; t < k; t++) {
                        int32_t bv = bj[t];
                        s0 += a0[t] * bv;
                        s1 += a1[t] * bv;
                        s2 += a2[t] * bv;
                        s3 += a3[t] * bv;
                    }
                    c[(i0 + 0) * ldc + j] = s0;
                    c[(i0 + 1) * ldc + j] = s1;
                    c[(i0 + 2) * ldc + j] = s2;
                    c[(i0 + 3) * ldc + j] = s3;
                }
            } else {
                for (int64_t i = i0; i < i0 + rows; i++) {
                    const int16_t *ai = a + i * k;
                    for (int64_t j = j0; j < j1; j++) {
                        const int16_t *bj = b + j * k;
                        int32_t s = 0;
#pragma omp simd reduction(+ : s)
                        for (int64_t t = 0; t < k; t++) s += ai[t] * (int32_t)bj[t];
                        c[i * ldc + j] = s;
                    }
                }
            }
        }
    }
}

/* ------------------------------------------------- convolution geometry */

typedef struct conv_geom {
    int nsp;                       /* spatial dims */
    int64_t N, C, M, group, Cg, Mg; /* batch, in/out channels, groups, per group */
    int64_t in[MEC_MAX_DIMS], kernel[MEC_MAX_DIMS], out[MEC_MAX_DIMS];
    int64_t stride[MEC_MAX_DIMS], dilation[MEC_MAX_DIMS], pad[MEC_MAX_DIMS]; /* pad: begin */
    int64_t in_size, kernel_size, out_size; /* products over the spatial dims */
    int64_t K;                              /* Cg * kernel_size: one im2col row */
} conv_geom;

#define CONV_ATTR_MAX ((int64_t)1 << 31)

/* Reads an INTS attribute of `count` values in [lo, CONV_ATTR_MAX) into v,
 * or fills v with dflt when absent. */
static mec_status conv_ints(const mec_op_ctx *ctx, const char *name, int count, int64_t lo,
                            int64_t dflt, int64_t *v) {
    const int64_t *a;
    int64_t n = mec_node_ints(ctx->node, name, &a);
    if (n < 0) {
        for (int i = 0; i < count; i++) v[i] = dflt;
        return MEC_OK;
    }
    if (n != count)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "attribute '%s' has %" PRId64 " values, expected %d",
                          name, n, count);
    for (int i = 0; i < count; i++) {
        if (a[i] < lo || a[i] >= CONV_ATTR_MAX)
            return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "attribute '%s'[%d] = %" PRId64 " is out of range",
                              name, i, a[i]);
        v[i] = a[i];
    }
    return MEC_OK;
}

/* x: (N, C, D1, ..., Dn), w: (M, C/group, k1, ..., kn) with the Conv
 * attributes (auto_pad, dilations, group, kernel_shape, pads, strides). */
static mec_status conv_geometry(const mec_op_ctx *ctx, const mec_tensor *x, const mec_tensor *w,
                                conv_geom *g) {
    char xs[160], ws[160];
    memset(g, 0, sizeof *g);
    if (x->ndim < 3 || w->ndim != x->ndim)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE,
                          "x %s and w %s must both be (N, C, spatial...) with the same rank >= 3",
                          mec_shape_str(x->ndim, x->shape, xs, sizeof xs),
                          mec_shape_str(w->ndim, w->shape, ws, sizeof ws));
    g->nsp = x->ndim - 2;
    g->N = x->shape[0];
    g->C = x->shape[1];
    g->M = w->shape[0];
    g->Cg = w->shape[1];
    g->group = mec_node_int(ctx->node, "group", 1);
    if (g->group < 1)
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "group %" PRId64 " is out of range", g->group);
    if (g->C % g->group || g->Cg != g->C / g->group)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE,
                          "x has %" PRId64 " channels but w %s has %" PRId64 " per group (group %" PRId64 ", expected %" PRId64 ")",
                          g->C, mec_shape_str(w->ndim, w->shape, ws, sizeof ws), g->Cg, g->group,
                          g->C / g->group);
    if (g->M % g->group)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE,
                          "w has %" PRId64 " output channels, not a multiple of group %" PRId64,
                          g->M, g->group);
    g->Mg = g->M / g->group;

    const int64_t *ks;
    int64_t nks = mec_node_ints(ctx->node, "kernel_shape", &ks);
    if (nks >= 0 && nks != g->nsp)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "kernel_shape has %" PRId64 " values, expected %d",
                          nks, g->nsp);
    int64_t pads[2 * MEC_MAX_DIMS];
    mec_status st = conv_ints(ctx, "strides", g->nsp, 1, 1, g->stride);
    if (!st) st = conv_ints(ctx, "dilations", g->nsp, 1, 1, g->dilation);
    if (!st) st = conv_ints(ctx, "pads", 2 * g->nsp, 0, 0, pads);
    if (st) return st;
    const char *auto_pad = mec_node_string(ctx->node, "auto_pad", "NOTSET");
    bool same_upper = !strcmp(auto_pad, "SAME_UPPER"), same_lower = !strcmp(auto_pad, "SAME_LOWER");
    bool valid = !strcmp(auto_pad, "VALID");
    if (!same_upper && !same_lower && !valid && strcmp(auto_pad, "NOTSET") && auto_pad[0])
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID",
                          auto_pad);

    g->in_size = g->kernel_size = g->out_size = 1;
    for (int d = 0; d < g->nsp; d++) {
        int64_t in = x->shape[2 + d], k = w->shape[2 + d], s = g->stride[d];
        if (nks >= 0 && ks[d] != k)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE,
                              "kernel_shape[%d] = %" PRId64 " but w has %" PRId64 " there", d, ks[d], k);
        if (k < 1)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "w has an empty kernel (dimension %d is 0)", 2 + d);
        size_t span;
        if (!mec_size_mul((size_t)(k - 1), (size_t)g->dilation[d], &span) || span >= ((size_t)1 << 50))
            return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "dilated kernel is too large in dimension %d", d);
        int64_t eff = (int64_t)span + 1, out, pb, pe;
        if (same_upper || same_lower) {
            out = mec_op_same_pads(in, s, eff, same_upper, &pb, &pe);
        } else {
            pb = valid ? 0 : pads[d];
            pe = valid ? 0 : pads[g->nsp + d];
            int64_t room = in + pb + pe - eff;
            if (room < 0)
                return MEC_OP_ERR(ctx, MEC_ERR_SHAPE,
                                  "dilated kernel (%" PRId64 ") is larger than the padded input (%" PRId64
                                  ") in spatial dimension %d",
                                  eff, in + pb + pe, d);
            out = room / s + 1;
        }
        g->in[d] = in;
        g->kernel[d] = k;
        g->out[d] = out;
        g->pad[d] = pb;
        g->in_size *= in;
        g->kernel_size *= k;
        size_t os;
        if (!mec_size_mul((size_t)g->out_size, (size_t)out, &os) || os > (size_t)MEC_MAX_NUMEL)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "output would have more than 2^40 elements");
        g->out_size = (int64_t)os;
    }
    g->K = g->Cg * g->kernel_size; /* <= numel(w) <= 2^40 */
    return MEC_OK;
}

static mec_status conv_set_output(mec_op_ctx *ctx, const conv_geom *g, mec_dtype dtype) {
    int64_t shape[MEC_MAX_DIMS];
    shape[0] = g->N;
    shape[1] = g->M;
    for (int d = 0; d < g->nsp; d++) shape[2 + d] = g->out[d];
    return mec_op_set_output(ctx, 0, dtype, 2 + g->nsp, shape);
}

/* Scratch of a quantized convolution: im2col rows (out_size, K) and packed
 * weights (M, K) as int16 with zero points subtracted, and for QLinearConv an
 * int32 accumulator for one group (Mg, out_size). */
typedef struct conv_scratch {
    size_t col, wpack, acc, total;
} conv_scratch;

static mec_status conv_scratch_plan(const mec_op_ctx *ctx, const conv_geom *g, bool need_acc,
                                    conv_scratch *s) {
    memset(s, 0, sizeof *s);
    bool ok = scratch_region(&s->total, g->out_size, g->K, sizeof(int16_t), &s->col) &&
              scratch_region(&s->total, g->M, g->K, sizeof(int16_t), &s->wpack) &&
              (!need_acc || scratch_region(&s->total, g->Mg, g->out_size, sizeof(int32_t), &s->acc));
    if (!ok) return MEC_OP_ERR(ctx, MEC_ERR_NOMEM, "im2col scratch size overflows");
    return MEC_OK;
}

/* im2col_s16 for 2-D: one output pixel's row is written in order (c, kh, kw),
 * with the valid kw range worked out once per pixel. */
static void im2col_s16_2d(const conv_geom *g, const uint8_t *xu, const int8_t *xi, bool u8,
                          int32_t x_zp, int16_t *col) {
    const int64_t P = g->out_size, K = g->K, Cg = g->Cg, IS = g->in_size;
    const int64_t H = g->in[0], W = g->in[1], KH = g->kernel[0], KW = g->kernel[1];
    const int64_t OW = g->out[1], sh = g->stride[0], sw = g->stride[1];
    const int64_t dh = g->dilation[0], dw = g->dilation[1], ph = g->pad[0], pw = g->pad[1];
#pragma omp parallel for schedule(static) if (P * K > 65536 && !omp_in_parallel())
    for (int64_t p = 0; p < P; p++) {
        const int64_t ih0 = (p / OW) * sh - ph, iw0 = (p % OW) * sw - pw;
        /* kw in [kw_lo, kw_hi) reads inside the row */
        int64_t kw_lo = iw0 >= 0 ? 0 : (-iw0 + dw - 1) / dw;
        int64_t kw_hi = iw0 >= W ? 0 : (W - 1 - iw0) / dw + 1;
        if (kw_hi > KW) kw_hi = KW;
        if (kw_lo > kw_hi) kw_lo = kw_hi;
        int16_t *r = col + p * K;
        for (int64_t c = 0; c < Cg; c++) {
            for (int64_t kh = 0; kh < KH; kh++, r += KW) {
                const int64_t ih = ih0 + kh * dh;
                if (ih < 0 || ih >= H) {
                    for (int64_t kw = 0; kw < KW; kw++) r[kw] = 0;
                    continue;
                }
                const int64_t off = c * IS + ih * W + iw0;
                for (int64_t kw = 0; kw < kw_lo; kw++) r[kw] = 0;
                if (u8)
                    for (int64_t kw = kw_lo; kw < kw_hi; kw++) r[kw] = (int16_t)(xu[off + kw * dw] - x_zp);
                else
                    for (int64_t kw = kw_lo; kw < kw_hi; kw++) r[kw] = (int16_t)(xi[off + kw * dw] - x_zp);
                for (int64_t kw = kw_hi; kw < KW; kw++) r[kw] = 0;
            }
        }
    }
}

/* col[p*K + c*kernel_size + kk] = x[n, grp*Cg + c, at output p, kernel offset kk] - x_zp,
 * and 0 (the zero point itself) in the padding. */
static void im2col_s16(const conv_geom *g, const mec_tensor *x, int32_t x_zp, int64_t n, int64_t grp,
                       int16_t *col) {
    const int64_t P = g->out_size, KS = g->kernel_size, K = g->K, Cg = g->Cg, IS = g->in_size;
    const int64_t base = (n * g->C + grp * Cg) * IS;
    const bool u8 = x->dtype == MEC_U8;
    const uint8_t *xu = (const uint8_t *)x->data + base;
    const int8_t *xi = (const int8_t *)x->data + base;
    const int nsp = g->nsp;
    if (nsp == 2) {
        im2col_s16_2d(g, xu, xi, u8, x_zp, col);
        return;
    }
#pragma omp parallel for schedule(static) if (P * K > 65536 && !omp_in_parallel())
    for (int64_t p = 0; p < P; p++) {
        int64_t start[MEC_MAX_DIMS], kc[MEC_MAX_DIMS];
        int64_t rem = p;
        for (int d = nsp - 1; d >= 0; d--) {
            start[d] = (rem % g->out[d]) * g->stride[d] - g->pad[d];
            rem /= g->out[d];
            kc[d] = 0;
        }
        int16_t *row = col + p * K;
        for (int64_t kk = 0; kk < KS; kk++) {
            int64_t off = 0;
            bool inside = true;
            for (int d = 0; d < nsp; d++) {
                int64_t i = start[d] + kc[d] * g->dilation[d];
                if (i < 0 || i >= g->in[d]) {
                    inside = false;
                    break;
                }
                off = off * g->in[d] + i;
            }
            if (!inside)
                for (int64_t c = 0; c < Cg; c++) row[c * KS + kk] = 0;
            else if (u8)
                for (int64_t c = 0; c < Cg; c++) row[c * KS + kk] = (int16_t)(xu[c * IS + off] - x_zp);
            else
                for (int64_t c = 0; c < Cg; c++) row[c * KS + kk] = (int16_t)(xi[c * IS + off] - x_zp);
            for (int d = nsp - 1; d >= 0; d--) {
                if (++kc[d] < g->kernel[d]) break;
                kc[d] = 0;
            }
        }
    }
}

/* wpack[m*K + t] = w[m*K + t] - w_zp[m] (w_zp NULL: 0; one value: per tensor). */
static void pack_weights_s16(const conv_geom *g, const mec_tensor *w, const mec_tensor *w_zp,
                             int16_t *wpack) {
    const int64_t K = g->K;
    const bool per_channel = w_zp && mec_tensor_numel(w_zp) > 1;
#pragma omp parallel for schedule(static) if (g->M * K > 65536 && !omp_in_parallel())
    for (int64_t m = 0; m < g->M; m++) {
        int32_t zp = w_zp ? q_int(w_zp, per_channel ? m : 0) : 0;
        for (int64_t t = 0; t < K; t++) wpack[m * K + t] = (int16_t)(q_int(w, m * K + t) - zp);
    }
}

static int64_t conv_flops(const mec_op_ctx *ctx) {
    conv_geom g;
    if (conv_geometry(ctx, ctx->in[0], ctx->in[ctx->node && !strcmp(ctx->node->op_type, "QLinearConv") ? 3 : 1], &g))
        return 0;
    return 2 * g.N * g.M * g.out_size * g.K;
}

/* Geometry (by `check`, the op's own checks) and scratch layout of a
 * ConvInteger or QLinearConv node (need_acc: QLinearConv's int32
 * accumulator). At exec, also that the scratch handed over is large enough. */
static mec_status conv_plan(const mec_op_ctx *ctx,
                            mec_status (*check)(const mec_op_ctx *, conv_geom *), bool need_acc,
                            bool at_exec, conv_geom *g, conv_scratch *s) {
    mec_status st = check(ctx, g);
    if (!st) st = conv_scratch_plan(ctx, g, need_acc, s);
    if (!st && at_exec && ctx->scratch_bytes < s->total)
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "needs %zu bytes of scratch, got %zu", s->total,
                          ctx->scratch_bytes);
    return st;
}

/* ------------------------------------------------------------ ConvInteger */

/* y = conv(x - x_zero_point, w - w_zero_point), int32
 * x: (N, C, D...) uint8/int8; w: (M, C/group, k...) uint8/int8;
 * x_zero_point: () like x; w_zero_point: () or (M,) like w; y: (N, M, O...) int32. */
static mec_status convint_check(const mec_op_ctx *ctx, conv_geom *g) {
    mec_status st = mec_op_check_arity(ctx, 2, 4);
    if (!st) st = mec_op_check_dtype(ctx, 0, q8_types);
    if (!st) st = mec_op_check_dtype(ctx, 1, q8_types);
    if (!st) st = conv_geometry(ctx, ctx->in[0], ctx->in[1], g);
    if (!st && opt_in(ctx, 2)) {
        st = check_same_dtype(ctx, 2, "x_zero_point", ctx->in[0]->dtype);
        if (!st) st = check_one_value(ctx, 2, "x_zero_point");
    }
    if (!st && opt_in(ctx, 3)) {
        st = check_same_dtype(ctx, 3, "w_zero_point", ctx->in[1]->dtype);
        if (!st) st = check_scalar_or_vec(ctx, 3, "w_zero_point", g->M, "per-output-channel");
    }
    return st;
}

static mec_status convint_infer(mec_op_ctx *ctx) {
    conv_geom g;
    mec_status st = convint_check(ctx, &g);
    return st ? st : conv_set_output(ctx, &g, MEC_I32);
}

static mec_status convint_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    conv_geom g;
    conv_scratch s;
    *state = NULL;
    mec_status st = conv_plan(ctx, convint_check, false, false, &g, &s);
    if (!st) *scratch_bytes = s.total;
    return st;
}

static mec_status convint_exec(mec_op_ctx *ctx) {
    conv_geom g;
    conv_scratch s;
    mec_status st = conv_plan(ctx, convint_check, false, true, &g, &s);
    if (st) return st;
    const mec_tensor *x_zp = opt_in(ctx, 2);
    int16_t *col = (int16_t *)((char *)ctx->scratch + s.col);
    int16_t *wpack = (int16_t *)((char *)ctx->scratch + s.wpack);
    int32_t *y = ctx->out[0]->data;
    pack_weights_s16(&g, ctx->in[1], opt_in(ctx, 3), wpack);
    for (int64_t n = 0; n < g.N; n++)
        for (int64_t grp = 0; grp < g.group; grp++) {
            im2col_s16(&g, ctx->in[0], x_zp ? q_int(x_zp, 0) : 0, n, grp, col);
            gemm_s16(g.Mg, g.out_size, g.K, wpack + grp * g.Mg * g.K, col,
                     y + (n * g.M + grp * g.Mg) * g.out_size, g.out_size);
        }
    return MEC_OK;
}

/* ------------------------------------------------------------ QLinearConv */

/* y = saturate(round(conv(x - x_zp, w - w_zp) + B) * x_scale * w_scale / y_scale) + y_zp)
 * inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B?
 * x: (N, C, D...) uint8/int8; w: (M, C/group, k...) uint8/int8; w_scale and
 * w_zero_point: () or (M,); B: (M,) int32; y: (N, M, O...) like y_zero_point. */
static mec_status qconv_check(const mec_op_ctx *ctx, conv_geom *g) {
    mec_status st = mec_op_check_arity(ctx, 8, 9);
    if (!st) st = mec_op_check_dtype(ctx, 0, q8_types);
    if (!st) st = mec_op_check_dtype(ctx, 3, q8_types);
    if (!st) st = mec_op_check_dtype(ctx, 7, q8_types);
    for (int i = 1; !st && i <= 6; i += (i == 1 ? 3 : 2)) st = mec_op_check_dtype(ctx, i, f32_types);
    if (!st) st = check_same_dtype(ctx, 2, "x_zero_point", ctx->in[0]->dtype);
    if (!st) st = check_same_dtype(ctx, 5, "w_zero_point", ctx->in[3]->dtype);
    if (!st) st = check_one_value(ctx, 1, "x_scale");
    if (!st) st = check_one_value(ctx, 2, "x_zero_point");
    if (!st) st = check_one_value(ctx, 6, "y_scale");
    if (!st) st = check_one_value(ctx, 7, "y_zero_point");
    if (!st) st = conv_geometry(ctx, ctx->in[0], ctx->in[3], g);
    if (!st) st = check_scalar_or_vec(ctx, 4, "w_scale", g->M, "per-output-channel");
    if (!st) st = check_scalar_or_vec(ctx, 5, "w_zero_point", g->M, "per-output-channel");
    const mec_tensor *b = opt_in(ctx, 8);
    if (!st && b) {
        static const mec_dtype i32_types[] = {MEC_I32, 0};
        st = mec_op_check_dtype(ctx, 8, i32_types);
        if (!st && (b->ndim != 1 || b->shape[0] != g->M)) {
            char bs[160];
            st = MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "bias has shape %s, expected (%" PRId64 ")",
                            mec_shape_str(b->ndim, b->shape, bs, sizeof bs), g->M);
        }
    }
    return st;
}

static mec_status qconv_infer(mec_op_ctx *ctx) {
    conv_geom g;
    mec_status st = qconv_check(ctx, &g);
    return st ? st : conv_set_output(ctx, &g, ctx->in[7]->dtype);
}

static mec_status qconv_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    conv_geom g;
    conv_scratch s;
    *state = NULL;
    mec_status st = conv_plan(ctx, qconv_check, true, false, &g, &s);
    if (!st) *scratch_bytes = s.total;
    return st;
}

static mec_status qconv_exec(mec_op_ctx *ctx) {
    conv_geom g;
    conv_scratch s;
    mec_status st = conv_plan(ctx, qconv_check, true, true, &g, &s);
    if (st) return st;
    const mec_tensor *w_scale = ctx->in[4], *bias = opt_in(ctx, 8);
    const float x_scale = *(const float *)ctx->in[1]->data;
    const float y_scale = *(const float *)ctx->in[6]->data;
    const int32_t x_zp = q_int(ctx->in[2], 0), y_zp = q_int(ctx->in[7], 0);
    const mec_dtype yt = ctx->out[0]->dtype;
    const float lo = mec_q_min(yt), hi = mec_q_max(yt);
    const bool ws_per_channel = mec_tensor_numel(w_scale) > 1;
    int16_t *col = (int16_t *)((char *)ctx->scratch + s.col);
    int16_t *wpack = (int16_t *)((char *)ctx->scratch + s.wpack);
    int32_t *acc = (int32_t *)((char *)ctx->scratch + s.acc);
    void *y = ctx->out[0]->data;
    const int64_t P = g.out_size;
    pack_weights_s16(&g, ctx->in[3], ctx->in[5], wpack);
    for (int64_t n = 0; n < g.N; n++)
        for (int64_t grp = 0; grp < g.group; grp++) {
            im2col_s16(&g, ctx->in[0], x_zp, n, grp, col);
            gemm_s16(g.Mg, P, g.K, wpack + grp * g.Mg * g.K, col, acc, P);
#pragma omp parallel for schedule(static) if (g.Mg * P > 65536)
            for (int64_t mi = 0; mi < g.Mg; mi++) {
                const int64_t m = grp * g.Mg + mi;
                /* the multiplier as ONNX Runtime forms it, in float */
                const float mult = x_scale * ((const float *)w_scale->data)[ws_per_channel ? m : 0] / y_scale;
                const int32_t b = bias ? ((const int32_t *)bias->data)[m] : 0;
                const int32_t *a = acc + mi * P;
                const int64_t ybase = (n * g.M + m) * P;
                for (int64_t p = 0; p < P; p++)
                    q_store(y, yt, ybase + p, mec_q_requantize(add_wrap(a[p], b), mult, y_zp, lo, hi));
            }
        }
    return MEC_OK;
}

/* ------------------------------------------------------ batched matmul */

/* numpy.matmul shapes: A (..., M, K) or (K), B (..., K, N) or (K); batch
 * dims broadcast. Batch strides are in whole matrices (0 where broadcast). */
typedef struct mm_geom {
    int64_t M, N, K, batch;
    int nbd; /* output batch dims */
    int64_t bdims[MEC_MAX_DIMS], a_bstride[MEC_MAX_DIMS], b_bstride[MEC_MAX_DIMS];
    int out_ndim;
    int64_t out_shape[MEC_MAX_DIMS];
} mm_geom;

static void mm_batch_strides(const mec_tensor *t, const mm_geom *g, int64_t *bs) {
    int tb = t->ndim >= 2 ? t->ndim - 2 : 0; /* t's batch dims */
    int64_t stride = 1;
    for (int d = g->nbd - 1; d >= 0; d--) {
        int td = d - (g->nbd - tb);
        if (td < 0) {
            bs[d] = 0;
            continue;
        }
        bs[d] = t->shape[td] == 1 ? 0 : stride;
        stride *= t->shape[td];
    }
}

static mec_status mm_geometry(const mec_op_ctx *ctx, const mec_tensor *a, const mec_tensor *b,
                              mm_geom *g) {
    char as[160], bs[160];
    memset(g, 0, sizeof *g);
    if (a->ndim < 1 || b->ndim < 1)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "matmul inputs must have rank >= 1, got %s and %s",
                          mec_shape_str(a->ndim, a->shape, as, sizeof as),
                          mec_shape_str(b->ndim, b->shape, bs, sizeof bs));
    g->M = a->ndim >= 2 ? a->shape[a->ndim - 2] : 1;
    g->K = a->shape[a->ndim - 1];
    int64_t kb = b->ndim >= 2 ? b->shape[b->ndim - 2] : b->shape[0];
    g->N = b->ndim >= 2 ? b->shape[b->ndim - 1] : 1;
    if (kb != g->K)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "cannot multiply %s by %s: inner dimensions %" PRId64
                          " and %" PRId64 " differ",
                          mec_shape_str(a->ndim, a->shape, as, sizeof as),
                          mec_shape_str(b->ndim, b->shape, bs, sizeof bs), g->K, kb);
    int na = a->ndim >= 2 ? a->ndim - 2 : 0, nb = b->ndim >= 2 ? b->ndim - 2 : 0;
    mec_status st = mec_op_broadcast(ctx, na, a->shape, nb, b->shape, &g->nbd, g->bdims);
    if (st) return st;
    g->batch = 1;
    for (int d = 0; d < g->nbd; d++) g->batch *= g->bdims[d]; /* <= numel of an input */
    mm_batch_strides(a, g, g->a_bstride);
    mm_batch_strides(b, g, g->b_bstride);
    g->out_ndim = g->nbd;
    memcpy(g->out_shape, g->bdims, sizeof(int64_t) * (size_t)g->nbd);
    if (a->ndim >= 2) g->out_shape[g->out_ndim++] = g->M;
    if (b->ndim >= 2) g->out_shape[g->out_ndim++] = g->N;
    return MEC_OK;
}

/* Flat matrix index of A and B for output batch bo. */
static void mm_batch_index(const mm_geom *g, int64_t bo, int64_t *ai, int64_t *bi) {
    *ai = *bi = 0;
    for (int d = g->nbd - 1; d >= 0; d--) {
        int64_t c = bo % g->bdims[d];
        bo /= g->bdims[d];
        *ai += c * g->a_bstride[d];
        *bi += c * g->b_bstride[d];
    }
}

/* A quantization parameter along the rows of A (or the columns of B): one
 * value, a vector of `len`, or one vector per matrix of a batched input
 * (shape (..., M, 1) for A, (..., 1, N) for B). */
typedef struct mm_qparam {
    const mec_tensor *t; /* NULL: absent */
    int mode;            /* 0 one value, 1 vector, 2 vector per matrix */
    int64_t len;
} mm_qparam;

static inline int64_t mm_qindex(const mm_qparam *q, int64_t matrix, int64_t i) {
    return q->mode == 0 ? 0 : q->mode == 1 ? i : matrix * q->len + i;
}

/* Checks in[i] as a per-row (rows = true, of A) or per-column parameter of
 * `mat` (A or B), or of the output rows when mat is NULL. */
static mec_status mm_qparam_check(const mec_op_ctx *ctx, int i, const char *name,
                                  const mec_tensor *mat, bool rows, int64_t len, mm_qparam *q) {
    const mec_tensor *t = opt_in(ctx, i);
    q->t = t;
    q->len = len;
    q->mode = 0;
    if (!t || mec_tensor_numel(t) == 1) return MEC_OK;
    if (t->ndim == 1 && t->shape[0] == len) {
        q->mode = 1;
        return MEC_OK;
    }
    if (mat && mat->ndim >= 2 && t->ndim == mat->ndim) {
        int r = mat->ndim;
        bool ok = true;
        for (int d = 0; d < r - 2; d++) ok = ok && t->shape[d] == mat->shape[d];
        if (rows) ok = ok && t->shape[r - 2] == mat->shape[r - 2] && t->shape[r - 1] == 1;
        else ok = ok && t->shape[r - 2] == 1 && t->shape[r - 1] == mat->shape[r - 1];
        if (ok) {
            q->mode = 2;
            return MEC_OK;
        }
    }
    char ts[160];
    return MEC_OP_ERR(ctx, MEC_ERR_SHAPE,
                      "input %d (%s) has shape %s, expected a scalar, (%" PRId64 ") or per-%s of its input",
                      i, name, mec_shape_str(t->ndim, t->shape, ts, sizeof ts), len,
                      rows ? "row (..., M, 1)" : "column (..., 1, N)");
}

/* apack[m*K + k] = A[ai][m][k] - a_zp(ai, m) */
static void mm_pack_a(const mm_geom *g, const mec_tensor *a, const mm_qparam *zp, int64_t ai,
                      int16_t *apack) {
    const int64_t M = g->M, K = g->K, base = ai * M * K;
#pragma omp parallel for schedule(static) if (M * K > 65536 && !omp_in_parallel())
    for (int64_t m = 0; m < M; m++) {
        int32_t z = zp->t ? q_int(zp->t, mm_qindex(zp, ai, m)) : 0;
        for (int64_t k = 0; k < K; k++) apack[m * K + k] = (int16_t)(q_int(a, base + m * K + k) - z);
    }
}

/* bpack[n*K + k] = B[bi][k][n] - b_zp(bi, n)  (B transposed) */
static void mm_pack_b(const mm_geom *g, const mec_tensor *b, const mm_qparam *zp, int64_t bi,
                      int16_t *bpack) {
    const int64_t N = g->N, K = g->K, base = bi * K * N;
#pragma omp parallel for schedule(static) if (N * K > 65536 && !omp_in_parallel())
    for (int64_t n = 0; n < N; n++) {
        int32_t z = zp->t ? q_int(zp->t, mm_qindex(zp, bi, n)) : 0;
        for (int64_t k = 0; k < K; k++) bpack[n * K + k] = (int16_t)(q_int(b, base + k * N + n) - z);
    }
}

typedef struct mm_scratch {
    size_t apack, bpack, acc, total;
} mm_scratch;

static mec_status mm_scratch_plan(const mec_op_ctx *ctx, const mm_geom *g, bool need_acc,
                                  mm_scratch *s) {
    memset(s, 0, sizeof *s);
    bool ok = scratch_region(&s->total, g->M, g->K, sizeof(int16_t), &s->apack) &&
              scratch_region(&s->total, g->N, g->K, sizeof(int16_t), &s->bpack) &&
              (!need_acc || scratch_region(&s->total, g->M, g->N, sizeof(int32_t), &s->acc));
    if (!ok) return MEC_OP_ERR(ctx, MEC_ERR_NOMEM, "matmul scratch size overflows");
    return MEC_OK;
}

/* Runs the batched integer matmul; out(bo) receives each (M, N) int32 product. */
typedef struct mm_run {
    const mm_geom *g;
    const mec_tensor *a, *b;
    const mm_qparam *a_zp, *b_zp;
    int16_t *apack, *bpack;
    int64_t last_a, last_b;
} mm_run;

static void mm_product(mm_run *r, int64_t bo, int32_t *c, int64_t *ai, int64_t *bi) {
    mm_batch_index(r->g, bo, ai, bi);
    if (*ai != r->last_a) mm_pack_a(r->g, r->a, r->a_zp, *ai, r->apack);
    if (*bi != r->last_b) mm_pack_b(r->g, r->b, r->b_zp, *bi, r->bpack);
    r->last_a = *ai;
    r->last_b = *bi;
    gemm_s16(r->g->M, r->g->N, r->g->K, r->apack, r->bpack, c, r->g->N);
}

static int64_t mm_flops(const mec_op_ctx *ctx) {
    mm_geom g;
    bool q = ctx->node && !strcmp(ctx->node->op_type, "QLinearMatMul");
    if (mm_geometry(ctx, ctx->in[0], ctx->in[q ? 3 : 1], &g)) return 0;
    return 2 * g.batch * g.M * g.N * g.K;
}

/* ---------------------------------------------------------- MatMulInteger */

/* Y = (A - a_zero_point) @ (B - b_zero_point), int32
 * A: (..., M, K) uint8/int8; B: (..., K, N) uint8/int8; a_zero_point: (),
 * (M,) or (..., M, 1) like A; b_zero_point: (), (N,) or (..., 1, N) like B. */
static mec_status mmint_check(const mec_op_ctx *ctx, mm_geom *g, mm_qparam *azp, mm_qparam *bzp) {
    mec_status st = mec_op_check_arity(ctx, 2, 4);
    if (!st) st = mec_op_check_dtype(ctx, 0, q8_types);
    if (!st) st = mec_op_check_dtype(ctx, 1, q8_types);
    if (!st) st = mm_geometry(ctx, ctx->in[0], ctx->in[1], g);
    if (!st && opt_in(ctx, 2)) st = check_same_dtype(ctx, 2, "a_zero_point", ctx->in[0]->dtype);
    if (!st && opt_in(ctx, 3)) st = check_same_dtype(ctx, 3, "b_zero_point", ctx->in[1]->dtype);
    if (!st) st = mm_qparam_check(ctx, 2, "a_zero_point", ctx->in[0], true, g->M, azp);
    if (!st) st = mm_qparam_check(ctx, 3, "b_zero_point", ctx->in[1], false, g->N, bzp);
    return st;
}

static mec_status mmint_infer(mec_op_ctx *ctx) {
    mm_geom g;
    mm_qparam azp, bzp;
    mec_status st = mmint_check(ctx, &g, &azp, &bzp);
    return st ? st : mec_op_set_output(ctx, 0, MEC_I32, g.out_ndim, g.out_shape);
}

static mec_status mmint_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    mm_geom g;
    mm_qparam azp, bzp;
    mm_scratch s;
    *state = NULL;
    mec_status st = mmint_check(ctx, &g, &azp, &bzp);
    if (!st) st = mm_scratch_plan(ctx, &g, false, &s);
    if (!st) *scratch_bytes = s.total;
    return st;
}

static mec_status mmint_exec(mec_op_ctx *ctx) {
    mm_geom g;
    mm_qparam azp, bzp;
    mm_scratch s;
    mec_status st = mmint_check(ctx, &g, &azp, &bzp);
    if (!st) st = mm_scratch_plan(ctx, &g, false, &s);
    if (st) return st;
    if (ctx->scratch_bytes < s.total)
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "needs %zu bytes of scratch, got %zu", s.total,
                          ctx->scratch_bytes);
    mm_run r = {&g, ctx->in[0], ctx->in[1], &azp, &bzp,
                (int16_t *)((char *)ctx->scratch + s.apack), (int16_t *)((char *)ctx->scratch + s.bpack),
                -1, -1};
    int32_t *y = ctx->out[0]->data;
    for (int64_t bo = 0; bo < g.batch; bo++) {
        int64_t ai, bi;
        mm_product(&r, bo, y + bo * g.M * g.N, &ai, &bi);
    }
    return MEC_OK;
}

/* ---------------------------------------------------------- QLinearMatMul */

/* y = saturate(round((a - a_zp) @ (b - b_zp) * a_scale * b_scale / y_scale) + y_zp)
 * inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point
 * a: (..., M, K), b: (..., K, N), uint8/int8; a's scale/zero point: (), (M,)
 * or (..., M, 1); b's: (), (N,) or (..., 1, N); y's: () or (M,); y like y_zero_point. */
static mec_status qmm_check(const mec_op_ctx *ctx, mm_geom *g, mm_qparam q[6]) {
    mec_status st = mec_op_check_arity(ctx, 8, 8);
    if (!st) st = mec_op_check_dtype(ctx, 0, q8_types);
    if (!st) st = mec_op_check_dtype(ctx, 3, q8_types);
    if (!st) st = mec_op_check_dtype(ctx, 7, q8_types);
    for (int i = 1; !st && i <= 6; i += (i == 1 ? 3 : 2)) st = mec_op_check_dtype(ctx, i, f32_types);
    if (!st) st = check_same_dtype(ctx, 2, "a_zero_point", ctx->in[0]->dtype);
    if (!st) st = check_same_dtype(ctx, 5, "b_zero_point", ctx->in[3]->dtype);
    if (!st) st = mm_geometry(ctx, ctx->in[0], ctx->in[3], g);
    static const char *const names[6] = {"a_scale", "a_zero_point", "b_scale",
                                         "b_zero_point", "y_scale", "y_zero_point"};
    static const int index[6] = {1, 2, 4, 5, 6, 7};
    for (int j = 0; !st && j < 6; j++) {
        const mec_tensor *mat = j < 2 ? ctx->in[0] : j < 4 ? ctx->in[3] : NULL;
        st = mm_qparam_check(ctx, index[j], names[j], mat, j < 2 || j >= 4, j < 2 || j >= 4 ? g->M : g->N,
                             &q[j]);
    }
    for (int j = 0; !st && j < 6; j += 2) {
        const mec_tensor *s = q[j].t, *z = q[j + 1].t;
        if (q[j].mode != q[j + 1].mode ||
            (q[j].mode == 2 && memcmp(s->shape, z->shape, sizeof(int64_t) * (size_t)s->ndim))) {
            char ss[160], zs[160];
            st = MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "%s %s and %s %s must have the same shape", names[j],
                            mec_shape_str(s->ndim, s->shape, ss, sizeof ss), names[j + 1],
                            mec_shape_str(z->ndim, z->shape, zs, sizeof zs));
        }
    }
    return st;
}

static mec_status qmm_infer(mec_op_ctx *ctx) {
    mm_geom g;
    mm_qparam q[6];
    mec_status st = qmm_check(ctx, &g, q);
    return st ? st : mec_op_set_output(ctx, 0, ctx->in[7]->dtype, g.out_ndim, g.out_shape);
}

static mec_status qmm_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    mm_geom g;
    mm_qparam q[6];
    mm_scratch s;
    *state = NULL;
    mec_status st = qmm_check(ctx, &g, q);
    if (!st) st = mm_scratch_plan(ctx, &g, true, &s);
    if (!st) *scratch_bytes = s.total;
    return st;
}

static mec_status qmm_exec(mec_op_ctx *ctx) {
    mm_geom g;
    mm_qparam q[6];
    mm_scratch s;
    mec_status st = qmm_check(ctx, &g, q);
    if (!st) st = mm_scratch_plan(ctx, &g, true, &s);
    if (st) return st;
    if (ctx->scratch_bytes < s.total)
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "needs %zu bytes of scratch, got %zu", s.total,
                          ctx->scratch_bytes);
    mm_run r = {&g, ctx->in[0], ctx->in[3], &q[1], &q[3],
                (int16_t *)((char *)ctx->scratch + s.apack), (int16_t *)((char *)ctx->scratch + s.bpack),
                -1, -1};
    int32_t *acc = (int32_t *)((char *)ctx->scratch + s.acc);
    const mec_dtype yt = ctx->out[0]->dtype;
    const float lo = mec_q_min(yt), hi = mec_q_max(yt);
    const float *as = q[0].t->data, *bs = q[2].t->data, *ys = q[4].t->data;
    void *y = ctx->out[0]->data;
    const int64_t M = g.M, N = g.N;
    for (int64_t bo = 0; bo < g.batch; bo++) {
        int64_t ai, bi;
        mm_product(&r, bo, acc, &ai, &bi);
#pragma omp parallel for schedule(static) if (M * N > 65536)
        for (int64_t m = 0; m < M; m++) {
            const float a_scale = as[mm_qindex(&q[0], ai, m)], y_scale = ys[mm_qindex(&q[4], 0, m)];
            const int32_t y_zp = q_int(q[5].t, mm_qindex(&q[5], 0, m));
            const int64_t ybase = (bo * M + m) * N;
            for (int64_t n = 0; n < N; n++) {
                /* the multiplier as ONNX Runtime forms it, in float */
                const float mult = a_scale * bs[mm_qindex(&q[2], bi, n)] / y_scale;
                q_store(y, yt, ybase + n, mec_q_requantize(acc[m * N + n], mult, y_zp, lo, hi));
            }
        }
    }
    return MEC_OK;
}

/* ------------------------------------------------------------------ table */

/* QuantizeLinear/DequantizeLinear: 10 per-tensor; 13 adds per-axis; 19 adds
 * float16/float8 and `saturate` (not here). QLinearMatMul changes at 21. The
 * others have not changed since they appeared. */
const mec_kernel mec_kernels_quant[] = {
    {"QuantizeLinear", "", 10, 12, "ref", 0, 0, quantize_infer, quantize_exec, NULL, NULL, NULL},
    {"QuantizeLinear", "", 13, 18, "ref", 0, 0, quantize_infer, quantize_exec, NULL, NULL, NULL},
    {"DequantizeLinear", "", 10, 12, "ref", 0, 0, dequantize_infer, dequantize_exec, NULL, NULL, NULL},
    {"DequantizeLinear", "", 13, 18, "ref", 0, 0, dequantize_infer, dequantize_exec, NULL, NULL, NULL},
    {"DynamicQuantizeLinear", "", 11, 22, "ref", 0, 0, dynquant_infer, dynquant_exec, NULL, NULL, NULL},
    {"QLinearConv", "", 10, 22, "ref", 0, 0, qconv_infer, qconv_exec, qconv_prepare, NULL, conv_flops},
    {"ConvInteger", "", 10, 22, "ref", 0, 0, convint_infer, convint_exec, convint_prepare, NULL, conv_flops},
    {"QLinearMatMul", "", 10, 20, "ref", 0, 0, qmm_infer, qmm_exec, qmm_prepare, NULL, mm_flops},
    {"MatMulInteger", "", 10, 22, "ref", 0, 0, mmint_infer, mmint_exec, mmint_prepare, NULL, mm_flops},
    {0},
};
