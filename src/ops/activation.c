/* Activation ops: pointwise nonlinearities with attributes (Relu, Elu, ...),
 * PRelu, Clip, and the normalising Softmax / LogSoftmax / Hardmax, whose
 * axis meaning changed at opset 13 (coerce to 2-D before, one axis after). */
#include "op_util.h"
#include "op_stamp.h"

#include <float.h>
#include <inttypes.h>
#include <omp.h>
#include <string.h>
#include <tgmath.h>

static mec_status bad_dtype(const mec_op_ctx *ctx, int i) {
    return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "input %d has dtype %s, which this op does not support",
                      i, mec_dtype_name(ctx->in[i]->dtype));
}

/* -------------------------------------------------- pointwise activations */

/* Attribute values, read once per exec. */
typedef struct act_params {
    float alpha, beta, gamma, lambd, bias;
} act_params;

typedef void (*act_fn)(const void *in, void *out, int64_t n, const act_params *p);

typedef struct actop {
    act_fn fn[MEC_DTYPE_MAX];
    float alpha, beta, gamma, lambd, bias; /* attribute defaults */
} actop;

#define DEF_ACT(sfx, T, C, LD, ST, name, EXPR) DEF_ACT_ATTR(, sfx, T, C, LD, ST, name, EXPR)
#define DEF_ACT_VS(sfx, T, C, LD, ST, name, EXPR)                                                \
    DEF_ACT_ATTR(VEC_SELECTS, sfx, T, C, LD, ST, name, EXPR)
#define DEF_ACT_ATTR(ATTR, sfx, T, C, LD, ST, name, EXPR)                                        \
    ATTR static void name##_##sfx(const void *in, void *out, int64_t n, const act_params *p) {   \
        typedef C ctype_ __attribute__((unused));                                                \
        const T *px = in;                                                                        \
        T *po = out;                                                                             \
        const ctype_ alpha = (ctype_)p->alpha, beta = (ctype_)p->beta;                           \
        const ctype_ gamma = (ctype_)p->gamma, lambd = (ctype_)p->lambd;                         \
        const ctype_ bias = (ctype_)p->bias;                                                     \
        (void)alpha, (void)beta, (void)gamma, (void)lambd, (void)bias;                           \
        SIMD_LOOP for (int64_t i = 0; i < n; i++) {                                                        \
            C x = LD(px[i]);                                                                     \
            po[i] = ST(EXPR);                                                                    \
        }                                                                                        \
    }

/* GCC keeps float selects (clamps) out of vectorised loops unless FP
 * compares may be assumed not to trap; clang needs no help. */
#if defined(__GNUC__) && !defined(__clang__)
#define VEC_SELECTS __attribute__((optimize("no-trapping-math")))
#define SIMD_LOOP _Pragma("omp simd") /* -O2's cheap cost model skips these loops otherwise */
#else
#define VEC_SELECTS
#define SIMD_LOOP /* clang vectorises these on its own and warns on a failed hint */
#endif

/* tanh in float: Eigen's rational approximation, clamped where tanh is
 * +-1 in float, within 4e-7 relative of the exact value; it vectorises where
 * libm's tanhf does not (BERT's pooler, GELU-tanh graphs). Doubles keep libm. */
VEC_SELECTS static inline float fast_tanhf(float x0) {
    float x = x0 < -7.90531110763549805f ? -7.90531110763549805f : x0; /* plain selects */
    x = x > 7.90531110763549805f ? 7.90531110763549805f : x;             /* vectorise */
    float x2 = x * x;
    float p = -2.76076847742355e-16f;
    p = p * x2 + 2.00018790482477e-13f;
    p = p * x2 - 8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    float q = 1.19825839466702e-06f;
    q = q * x2 + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    float r = x * p / q;
    return fabs(x0) < 4e-4f ? x0 : r;
}
#define TANH(x) _Generic((x), float: fast_tanhf, default: tanh)(x)

/* log(1 + e^x) without overflow for large x. */
#define SOFTPLUS(x) ((x) > 0 ? (x) + log1p(exp(-(x))) : log1p(exp(x)))

FLOAT_TYPES(DEF_ACT, relu, x > 0 ? x : (ctype_)0)
SINT_TYPES(DEF_ACT, relu, x > 0 ? x : (ctype_)0)
FLOAT_TYPES(DEF_ACT, leaky, x >= 0 ? x : alpha * x)
FLOAT_TYPES(DEF_ACT, sigmoid, (ctype_)1 / ((ctype_)1 + exp(-x)))
FLOAT_TYPES(DEF_ACT_VS, hsigmoid, fmax((ctype_)0, fmin((ctype_)1, alpha * x + beta)))
FLOAT_TYPES(DEF_ACT_VS, hswish, x * fmax((ctype_)0, fmin((ctype_)1, x / (ctype_)6 + (ctype_)0.5)))
FLOAT_TYPES(DEF_ACT_VS, tanh, TANH(x))
FLOAT_TYPES(DEF_ACT, elu, x >= 0 ? x : alpha * expm1(x))
FLOAT_TYPES(DEF_ACT, selu, x > 0 ? gamma * x : gamma * alpha * expm1(x))
FLOAT_TYPES(DEF_ACT, celu, fmax((ctype_)0, x) + fmin((ctype_)0, alpha * expm1(x / alpha)))
FLOAT_TYPES(DEF_ACT, softplus, SOFTPLUS(x))
FLOAT_TYPES(DEF_ACT, softsign, x / ((ctype_)1 + fabs(x)))
FLOAT_TYPES(DEF_ACT, threlu, x > alpha ? x : (ctype_)0)
/* Shrink takes every numeric type; integers compute in float and truncate. */
FLOAT_TYPES(DEF_ACT, shrink, x < -lambd ? x + bias : x > lambd ? x - bias : (ctype_)0)
INT_TYPES(DEF_ACT, shrink,
          (ctype_)((float)x < -p->lambd ? (float)x + p->bias
                                        : (float)x > p->lambd ? (float)x - p->bias : 0.0f))

#define ACTOP(var, TYPES1, TYPES2, sym, a, b, g, l, bi)                                          \
    static const actop var = {{TYPES1(TABLE_ENTRY, sym) TYPES2(TABLE_ENTRY, sym)}, a, b, g, l, bi};
ACTOP(op_relu, FLOAT_TYPES, SINT_TYPES, relu, 0, 0, 0, 0, 0)
ACTOP(op_leaky, FLOAT_TYPES, NONE, leaky, 0.01f, 0, 0, 0, 0)
ACTOP(op_sigmoid, FLOAT_TYPES, NONE, sigmoid, 0, 0, 0, 0, 0)
ACTOP(op_hsigmoid, FLOAT_TYPES, NONE, hsigmoid, 0.2f, 0.5f, 0, 0, 0)
ACTOP(op_hswish, FLOAT_TYPES, NONE, hswish, 0, 0, 0, 0, 0)
ACTOP(op_tanh, FLOAT_TYPES, NONE, tanh, 0, 0, 0, 0, 0)
ACTOP(op_elu, FLOAT_TYPES, NONE, elu, 1.0f, 0, 0, 0, 0)
ACTOP(op_selu, FLOAT_TYPES, NONE, selu, 1.67326319217681884765625f, 0,
      1.05070102214813232421875f, 0, 0)
ACTOP(op_celu, FLOAT_TYPES, NONE, celu, 1.0f, 0, 0, 0, 0)
ACTOP(op_softplus, FLOAT_TYPES, NONE, softplus, 0, 0, 0, 0, 0)
ACTOP(op_softsign, FLOAT_TYPES, NONE, softsign, 0, 0, 0, 0, 0)
ACTOP(op_threlu, FLOAT_TYPES, NONE, threlu, 1.0f, 0, 0, 0, 0)
ACTOP(op_shrink, FLOAT_TYPES, INT_TYPES, shrink, 0, 0, 0, 0.5f, 0)

static mec_status act_infer(mec_op_ctx *ctx, const actop *op) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    if (!op->fn[ctx->in[0]->dtype]) return bad_dtype(ctx, 0);
    if (op == &op_celu && mec_node_float(ctx->node, "alpha", 1.0f) == 0.0f)
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute alpha must not be 0");
    return mec_op_output_like(ctx, 0, 0);
}

static mec_status act_exec(mec_op_ctx *ctx, const actop *op) {
    act_fn fn = op->fn[ctx->in[0]->dtype];
    if (!fn) return bad_dtype(ctx, 0);
    const mec_node *nd = ctx->node;
    act_params p = {mec_node_float(nd, "alpha", op->alpha), mec_node_float(nd, "beta", op->beta),
                    mec_node_float(nd, "gamma", op->gamma), mec_node_float(nd, "lambd", op->lambd),
                    mec_node_float(nd, "bias", op->bias)};
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    int64_t total = mec_tensor_numel(x);
    size_t es = mec_dtype_size(x->dtype);
#pragma omp parallel if (total >= PAR_MIN_ELEMS)
    {
        int nt = omp_get_num_threads(), t = omp_get_thread_num();
        int64_t begin = total * t / nt, end = total * (t + 1) / nt;
        if (begin < end)
            fn((const char *)x->data + (size_t)begin * es, (char *)y->data + (size_t)begin * es,
               end - begin, &p);
    }
    return MEC_OK;
}

#define ACT_KERNEL(pfx, table)                                                                   \
    static mec_status pfx##_infer(mec_op_ctx *ctx) { return act_infer(ctx, &table); }           \
    static mec_status pfx##_exec(mec_op_ctx *ctx) { return act_exec(ctx, &table); }
ACT_KERNEL(relu, op_relu)
ACT_KERNEL(leaky, op_leaky)
ACT_KERNEL(sigmoid, op_sigmoid)
ACT_KERNEL(hsigmoid, op_hsigmoid)
ACT_KERNEL(hswish, op_hswish)
ACT_KERNEL(tanh, op_tanh)
ACT_KERNEL(elu, op_elu)
ACT_KERNEL(selu, op_selu)
ACT_KERNEL(celu, op_celu)
ACT_KERNEL(softplus, op_softplus)
ACT_KERNEL(softsign, op_softsign)
ACT_KERNEL(threlu, op_threlu)
ACT_KERNEL(shrink, op_shrink)

/* ------------------------------------------------------------------ PRelu */

/* PRelu(X, slope): slope broadcasts to X (unidirectionally). Rows run over
 * X's last dim, where slope's stride is 0 or 1. */
typedef void (*prelu_fn)(const void *x, const void *slope, int ss, void *y, int64_t n);

#define DEF_PRELU(sfx, T, C, LD, ST, unused)                                                     \
    static void prelu_##sfx(const void *xv, const void *sv, int ss, void *yv, int64_t n) {       \
        const T *x = xv, *s = sv;                                                                \
        T *y = yv;                                                                               \
        if (ss) {                                                                                \
            for (int64_t i = 0; i < n; i++) {                                                    \
                C v = LD(x[i]);                                                                  \
                y[i] = v < 0 ? ST(LD(s[i]) * v) : x[i];                                          \
            }                                                                                    \
        } else {                                                                                 \
            C a = LD(s[0]);                                                                      \
            for (int64_t i = 0; i < n; i++) {                                                    \
                C v = LD(x[i]);                                                                  \
                y[i] = v < 0 ? ST(a * v) : x[i];                                                 \
            }                                                                                    \
        }                                                                                        \
    }
FLOAT_TYPES(DEF_PRELU, 0)
DEF_PRELU(i32, int32_t, int32_t, LD_ID, ST_ID, 0)
DEF_PRELU(i64, int64_t, int64_t, LD_ID, ST_ID, 0)

/* Unsigned values are never negative: PRelu is a copy. */
static void prelu_copy_u32(const void *x, const void *s, int ss, void *y, int64_t n) {
    (void)s, (void)ss;
    if (x != y) memcpy(y, x, (size_t)n * 4);
}
static void prelu_copy_u64(const void *x, const void *s, int ss, void *y, int64_t n) {
    (void)s, (void)ss;
    if (x != y) memcpy(y, x, (size_t)n * 8);
}

static const prelu_fn prelu_table[MEC_DTYPE_MAX] = {
    [MEC_F32] = prelu_f32, [MEC_F64] = prelu_f64, [MEC_F16] = prelu_f16,
    [MEC_BF16] = prelu_bf16, [MEC_I32] = prelu_i32, [MEC_I64] = prelu_i64,
    [MEC_U32] = prelu_copy_u32, [MEC_U64] = prelu_copy_u64,
};

/* The slope as it broadcasts. Before opset 7 a 1-D slope of C values is
 * per channel (dim 1), as PyTorch exported it; it is viewed as (C, 1, ...). */
static void prelu_slope(const mec_op_ctx *ctx, mec_tensor *view) {
    const mec_tensor *x = ctx->in[0], *s = ctx->in[1];
    *view = *s;
    view->owned = NULL;
    if (ctx->opset < 7 && s->ndim == 1 && x->ndim >= 2 && s->shape[0] == x->shape[1] &&
        s->shape[0] != 1) {
        view->ndim = x->ndim - 1;
        for (int d = 1; d < view->ndim; d++) view->shape[d] = 1;
        mec_tensor_contiguous_strides(view);
    }
}

static mec_status prelu_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (st) return st;
    mec_tensor sv;
    prelu_slope(ctx, &sv);
    const mec_tensor *x = ctx->in[0], *s = &sv;
    if (!prelu_table[x->dtype]) return bad_dtype(ctx, 0);
    if (s->dtype != x->dtype)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "input 1 (slope) has dtype %s, input 0 has %s",
                          mec_dtype_name(s->dtype), mec_dtype_name(x->dtype));
    int nd;
    int64_t shape[MEC_MAX_DIMS];
    if ((st = mec_op_broadcast(ctx, x->ndim, x->shape, s->ndim, s->shape, &nd, shape))) return st;
    if (nd != x->ndim || memcmp(shape, x->shape, sizeof(int64_t) * (size_t)nd)) {
        char a[160], b[160];
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "slope shape %s does not broadcast to input shape %s",
                          mec_shape_str(s->ndim, s->shape, a, sizeof a),
                          mec_shape_str(x->ndim, x->shape, b, sizeof b));
    }
    return mec_op_output_like(ctx, 0, 0);
}

static mec_status prelu_exec(mec_op_ctx *ctx) {
    mec_tensor sv;
    prelu_slope(ctx, &sv);
    const mec_tensor *x = ctx->in[0], *s = &sv;
    mec_tensor *y = ctx->out[0];
    prelu_fn fn = prelu_table[x->dtype];
    if (!fn) return bad_dtype(ctx, 0);
    int64_t total = mec_tensor_numel(x);
    if (total == 0) return MEC_OK;
    size_t es = mec_dtype_size(x->dtype);
    int nd = x->ndim;
    int64_t sst[MEC_MAX_DIMS];
    mec_op_broadcast_strides(s, nd, x->shape, sst);
    int64_t snum = mec_tensor_numel(s);
    int64_t inner = nd ? x->shape[nd - 1] : 1, rows = nd ? total / inner : 1;
    int ss = nd ? sst[nd - 1] != 0 : 0;
    if (snum == 1 || snum == total) { /* scalar slope or same shape: one flat row */
        inner = total;
        rows = 1;
        ss = snum != 1;
    }
    if (rows == 1) {
#pragma omp parallel if (total >= PAR_MIN_ELEMS)
        {
            int nt = omp_get_num_threads(), t = omp_get_thread_num();
            int64_t b = total * t / nt, e = total * (t + 1) / nt;
            if (b < e)
                fn((const char *)x->data + (size_t)b * es,
                   (const char *)s->data + (size_t)(ss ? b : 0) * es,
                   ss, (char *)y->data + (size_t)b * es, e - b);
        }
        return MEC_OK;
    }
#pragma omp parallel for if (total >= PAR_MIN_ELEMS)
    for (int64_t r = 0; r < rows; r++) {
        int64_t off = 0, rem = r;
        for (int d = nd - 2; d >= 0; d--) {
            off += (rem % x->shape[d]) * sst[d];
            rem /= x->shape[d];
        }
        fn((const char *)x->data + (size_t)(r * inner) * es, (const char *)s->data + (size_t)off * es,
           ss, (char *)y->data + (size_t)(r * inner) * es, inner);
    }
    return MEC_OK;
}

/* ------------------------------------------------------------------- Clip */

/* Clamps to [lo, hi]; a NULL bound is absent. lo > hi gives hi everywhere
 * (min(max(x, lo), hi)), as numpy.clip. NaN passes through. */
typedef void (*clip_fn)(const void *in, void *out, int64_t n, const void *lo, const void *hi);

#define DEF_CLIP(sfx, T, C, LD, ST, unused)                                                      \
    static void clip_##sfx(const void *in, void *out, int64_t n, const void *lo, const void *hi) { \
        const T *px = in;                                                                        \
        T *po = out;                                                                             \
        C l = lo ? LD(*(const T *)lo) : (C)0, h = hi ? LD(*(const T *)hi) : (C)0;                \
        bool has_l = lo != NULL, has_h = hi != NULL;                                             \
        for (int64_t i = 0; i < n; i++) {                                                        \
            C x = LD(px[i]);                                                                     \
            if (has_l && x < l) x = l;                                                           \
            if (has_h && x > h) x = h;                                                           \
            po[i] = ST(x);                                                                       \
        }                                                                                        \
    }
NUM_TYPES(DEF_CLIP, 0)
static const clip_fn clip_table[MEC_DTYPE_MAX] = {NUM_TYPES(TABLE_ENTRY, clip)};

static bool is_float_dtype(mec_dtype t) {
    return t == MEC_F32 || t == MEC_F64 || t == MEC_F16 || t == MEC_BF16;
}

static mec_status clip_infer(mec_op_ctx *ctx) {
    bool inputs = ctx->opset >= 11;
    mec_status st = mec_op_check_arity(ctx, 1, inputs ? 3 : 1);
    if (st) return st;
    mec_dtype t = ctx->in[0]->dtype;
    /* opset 6 and 11 take floats; 12 adds the integer types */
    if (!clip_table[t] || (ctx->opset < 12 && !is_float_dtype(t))) return bad_dtype(ctx, 0);
    for (int i = 1; i < ctx->n_in; i++) {
        const mec_tensor *b = ctx->in[i];
        if (!b) continue;
        if (b->dtype != t)
            return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "input %d has dtype %s, input 0 has %s", i,
                              mec_dtype_name(b->dtype), mec_dtype_name(t));
        if (mec_tensor_numel(b) != 1 || b->ndim > 1)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input %d (%s) must be a scalar, has %" PRId64 " elements",
                              i, i == 1 ? "min" : "max", mec_tensor_numel(b));
    }
    return mec_op_output_like(ctx, 0, 0);
}

static mec_status clip_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    clip_fn fn = clip_table[x->dtype];
    if (!fn) return bad_dtype(ctx, 0);
    const void *lo = NULL, *hi = NULL;
    uint64_t lo_buf = 0, hi_buf = 0; /* opset 6 attribute bounds in x's dtype */
    if (ctx->opset < 11) {
        const mec_attr *a;
        mec_tensor w;
        if ((a = mec_node_attr(ctx->node, "min"))) {
            mec_tensor_wrap(&w, x->dtype, 0, NULL, &lo_buf);
            mec_tensor_set_f64(&w, 0, a->f);
            lo = &lo_buf;
        }
        if ((a = mec_node_attr(ctx->node, "max"))) {
            mec_tensor_wrap(&w, x->dtype, 0, NULL, &hi_buf);
            mec_tensor_set_f64(&w, 0, a->f);
            hi = &hi_buf;
        }
    } else {
        if (ctx->n_in > 1 && ctx->in[1]) lo = ctx->in[1]->data;
        if (ctx->n_in > 2 && ctx->in[2]) hi = ctx->in[2]->data;
    }
    mec_tensor *y = ctx->out[0];
    int64_t total = mec_tensor_numel(x);
    size_t es = mec_dtype_size(x->dtype);
#pragma omp parallel if (total >= PAR_MIN_ELEMS)
    {
        int nt = omp_get_num_threads(), t = omp_get_thread_num();
        int64_t b = total * t / nt, e = total * (t + 1) / nt;
        if (b < e)
            fn((const char *)x->data + (size_t)b * es, (char *)y->data + (size_t)b * es, e - b, lo, hi);
    }
    return MEC_OK;
}

/* ------------------------------------------- Softmax, LogSoftmax, Hardmax */

/* The input is viewed as (outer, n, inner) and each of the outer*inner lines
 * of n elements (stride inner) is normalised. Before opset 13 the input is
 * coerced to 2-D at axis: (prod(dims[:axis]), prod(dims[axis:]), 1); from 13
 * it is one axis: (prod(dims[:axis]), dims[axis], prod(dims[axis+1:])). */
enum { SM_SOFTMAX, SM_LOGSOFTMAX, SM_HARDMAX };

typedef void (*sm_fn)(const void *in, void *out, int64_t n, int64_t stride, int kind);

/* Native types store exp(x - max) and rescale (two passes over x); the
 * 16-bit floats recompute exp so only the final value is rounded. */
#define DEF_SM(sfx, T, C, LD, ST, unused)                                                        \
    static void sm_##sfx(const void *in, void *out, int64_t n, int64_t stride, int kind) {       \
        const T *x = in;                                                                         \
        T *y = out;                                                                              \
        C m = LD(x[0]);                                                                          \
        int64_t arg = 0;                                                                         \
        for (int64_t i = 1; i < n; i++) {                                                        \
            C v = LD(x[i * stride]);                                                             \
            if (v > m) m = v, arg = i;                                                           \
        }                                                                                        \
        if (kind == SM_HARDMAX) {                                                                \
            for (int64_t i = 0; i < n; i++) y[i * stride] = ST((C)(i == arg));                   \
            return;                                                                              \
        }                                                                                        \
        C sum = 0;                                                                               \
        bool native = sizeof(T) == sizeof(C);                                                    \
        if (kind == SM_SOFTMAX && native && stride == 1) {                                       \
            for (int64_t i = 0; i < n; i++) {                                                    \
                C e = exp(LD(x[i]) - m);                                                         \
                y[i] = ST(e);                                                                    \
                sum += e;                                                                        \
            }                                                                                    \
            C inv = (C)1 / sum;                                                                  \
            for (int64_t i = 0; i < n; i++) y[i] = ST(LD(y[i]) * inv);                           \
            return;                                                                              \
        }                                                                                        \
        for (int64_t i = 0; i < n; i++) sum += exp(LD(x[i * stride]) - m);                       \
        if (kind == SM_SOFTMAX) {                                                                \
            C inv = (C)1 / sum;                                                                  \
            for (int64_t i = 0; i < n; i++) y[i * stride] = ST(exp(LD(x[i * stride]) - m) * inv); \
        } else {                                                                                 \
            C ls = log(sum); /* (x - m) - ls keeps precision when |m| is large */               \
            for (int64_t i = 0; i < n; i++) y[i * stride] = ST((LD(x[i * stride]) - m) - ls);    \
        }                                                                                        \
    }
FLOAT_TYPES(DEF_SM, 0)
static const sm_fn sm_table[MEC_DTYPE_MAX] = {FLOAT_TYPES(TABLE_ENTRY, sm)};

static mec_status sm_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    if (!sm_table[x->dtype]) return bad_dtype(ctx, 0);
    int axis;
    if (x->ndim == 0) return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input 0 is a scalar, needs rank >= 1");
    st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", ctx->opset < 13 ? 1 : -1), x->ndim, &axis);
    return st ? st : mec_op_output_like(ctx, 0, 0);
}

static mec_status sm_exec(mec_op_ctx *ctx, int kind) {
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    sm_fn fn = sm_table[x->dtype];
    if (!fn) return bad_dtype(ctx, 0);
    int axis;
    mec_status st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", ctx->opset < 13 ? 1 : -1),
                                x->ndim, &axis);
    if (st) return st;
    int64_t outer = 1, n = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= x->shape[d];
    if (ctx->opset < 13) {
        for (int d = axis; d < x->ndim; d++) n *= x->shape[d];
    } else {
        n = x->shape[axis];
        for (int d = axis + 1; d < x->ndim; d++) inner *= x->shape[d];
    }
    if (n == 0 || outer * inner == 0) return MEC_OK;
    size_t es = mec_dtype_size(x->dtype);
    int64_t lines = outer * inner;
#pragma omp parallel for if (lines * n >= PAR_MIN_ELEMS)
    for (int64_t l = 0; l < lines; l++) {
        int64_t o = l / inner, i = l % inner;
        size_t off = (size_t)(o * n * inner + i) * es;
        fn((const char *)x->data + off, (char *)y->data + off, n, inner, kind);
    }
    return MEC_OK;
}
static mec_status softmax_exec(mec_op_ctx *ctx) { return sm_exec(ctx, SM_SOFTMAX); }
static mec_status logsoftmax_exec(mec_op_ctx *ctx) { return sm_exec(ctx, SM_LOGSOFTMAX); }
static mec_status hardmax_exec(mec_op_ctx *ctx) { return sm_exec(ctx, SM_HARDMAX); }
#define softmax_infer sm_infer
#define logsoftmax_infer sm_infer
#define hardmax_infer sm_infer

/* One operation per output element (a few for the exp-based ones). */
static int64_t act_flops(const mec_op_ctx *ctx) {
    return ctx->out[0] ? mec_tensor_numel(ctx->out[0]) : 0;
}

/* ------------------------------------------------------------------ table */

#define K(op, since, until, flags, pfx)                                                          \
    {op, "", since, until, "ref", flags, 0, pfx##_infer, pfx##_exec, NULL, NULL, act_flops}
#define IP MEC_KF_INPLACE

const mec_kernel mec_kernels_activation[] = {
    K("Relu", 1, 17, IP, relu),
    K("LeakyRelu", 1, 17, IP, leaky),
    K("PRelu", 1, 17, IP, prelu),
    K("Sigmoid", 1, 17, IP, sigmoid),
    K("HardSigmoid", 1, 17, IP, hsigmoid),
    K("HardSwish", 14, 17, IP, hswish),
    K("Tanh", 1, 17, IP, tanh),
    K("Elu", 1, 17, IP, elu),
    K("Selu", 1, 17, IP, selu),
    K("Celu", 12, 17, IP, celu),
    K("Softplus", 1, 17, IP, softplus),
    K("Softsign", 1, 17, IP, softsign),
    K("ThresholdedRelu", 10, 17, IP, threlu),
    K("Shrink", 9, 17, IP, shrink),
    /* min/max: attributes up to opset 10, optional inputs from 11 */
    K("Clip", 1, 10, IP, clip),
    K("Clip", 11, 17, IP, clip),
    /* coerce-to-2-D semantics before 13, one axis from 13 */
    K("Softmax", 1, 12, IP, softmax),
    K("Softmax", 13, 17, IP, softmax),
    K("LogSoftmax", 1, 12, IP, logsoftmax),
    K("LogSoftmax", 13, 17, IP, logsoftmax),
    K("Hardmax", 1, 12, IP, hardmax),
    K("Hardmax", 13, 17, IP, hardmax),
    {0},
};
