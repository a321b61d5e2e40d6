/* Backward of elementwise ops: Add/Sub/Mul/Div (numpy broadcasting, the
 * gradient summed over broadcast dims), Where, unary activations (Relu, Tanh,
 * Sigmoid, Erf, Exp, Log, Sqrt, Neg, Reciprocal, Pow by a constant, LeakyRelu,
 * Clip), Softmax/LogSoftmax, and Dropout (training forward with a seeded
 * mask, and its backward). */
#include "../ops/op_util.h"
#include "train_internal.h"

#include <math.h>
#include <string.h>

#define PAR_MIN 32768 /* elements before a loop goes parallel */

void mec_bc_init(mec_bc_iter *it, int nd, const int64_t *out_shape, const mec_tensor *a,
                 const mec_tensor *b) {
    memset(it, 0, sizeof *it);
    it->nd = nd;
    for (int d = 0; d < nd; d++) it->shape[d] = out_shape[d];
    if (a) mec_op_broadcast_strides(a, nd, out_shape, it->sa);
    if (b) mec_op_broadcast_strides(b, nd, out_shape, it->sb);
}

static int64_t shape_numel(int nd, const int64_t *s) {
    int64_t n = 1;
    for (int d = 0; d < nd; d++) n *= s[d];
    return n;
}

void mec_bw_reduce_broadcast(const float *g, int nd, const int64_t *out_shape, float scale,
                             float *dx, const mec_tensor *x) {
    int64_t n = shape_numel(nd, out_shape), xn = mec_tensor_numel(x);
    if (xn == n) { /* same elements (maybe fewer leading 1-dims) */
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
        for (int64_t i = 0; i < n; i++) dx[i] += scale * g[i];
        return;
    }
    /* x matches the trailing dims of out exactly: a bias over rows */
    int off = nd - x->ndim;
    bool suffix = off >= 0;
    for (int d = 0; d < x->ndim && suffix; d++) suffix = x->shape[d] == out_shape[off + d];
    if (suffix && xn > 0) {
        int64_t rows = n / xn;
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
        for (int64_t j = 0; j < xn; j++) {
            float s = 0.0f;
            for (int64_t r = 0; r < rows; r++) s += g[r * xn + j];
            dx[j] += scale * s;
        }
        return;
    }
    mec_bc_iter it;
    mec_bc_init(&it, nd, out_shape, x, NULL);
    for (int64_t i = 0; i < n; i++, mec_bc_next(&it)) dx[it.oa] += scale * g[i];
}

/* ----------------------------------------------------- Add, Sub, Mul, Div */

// y = a + b (Add), a - b (Sub): da += dy, db += ±dy, each summed to its shape
static mec_status add_sub_backward(mec_bw_ctx *ctx, float sign_b) {
    const mec_tensor *dy = ctx->dout[0];
    if (ctx->din[0]) mec_bw_reduce_broadcast(dy->data, dy->ndim, dy->shape, 1.0f, ctx->din[0]->data, ctx->in[0]);
    if (ctx->din[1]) mec_bw_reduce_broadcast(dy->data, dy->ndim, dy->shape, sign_b, ctx->din[1]->data, ctx->in[1]);
    return MEC_OK;
}
static mec_status add_backward(mec_bw_ctx *ctx) { return add_sub_backward(ctx, 1.0f); }
static mec_status sub_backward(mec_bw_ctx *ctx) { return add_sub_backward(ctx, -1.0f); }

/* dx_k += reduce(dy * f(other)) where the product is formed over the output
 * shape in a temporary when x_k is broadcast. */
enum { MUL_BY_OTHER, DIV_BY_OTHER, DIV_NUMERATOR_GRAD };

// y = a * b: da += dy * b, db += dy * a;  y = a / b: da += dy / b, db += -dy * y / b
static mec_status muldiv_grad(mec_bw_ctx *ctx, int k, int kind) {
    const mec_tensor *dy = ctx->dout[0], *y = ctx->out[0];
    const mec_tensor *x = ctx->in[k], *other = ctx->in[1 - k];
    float *dx = ctx->din[k]->data;
    const float *g = dy->data, *o = other->data, *yv = y->data;
    int64_t n = mec_tensor_numel(dy);
    bool direct = mec_tensor_numel(x) == n;
    float *tmp = NULL;
    if (!direct && !(tmp = mec_malloc((size_t)n * sizeof(float)))) return MEC_ERR_NOMEM;
    float *dst = direct ? dx : tmp;
    mec_bc_iter it;
    mec_bc_init(&it, dy->ndim, dy->shape, other, NULL);
    bool other_full = mec_tensor_numel(other) == n;
    if (other_full) {
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
        for (int64_t i = 0; i < n; i++) {
            float v = kind == MUL_BY_OTHER ? g[i] * o[i]
                      : kind == DIV_BY_OTHER ? g[i] / o[i] : -g[i] * yv[i] / o[i];
            dst[i] = direct ? dst[i] + v : v;
        }
    } else {
        for (int64_t i = 0; i < n; i++, mec_bc_next(&it)) {
            float ov = o[it.oa];
            float v = kind == MUL_BY_OTHER ? g[i] * ov : kind == DIV_BY_OTHER ? g[i] / ov : -g[i] * yv[i] / ov;
            dst[i] = direct ? dst[i] + v : v;
        }
    }
    if (!direct) {
        mec_bw_reduce_broadcast(tmp, dy->ndim, dy->shape, 1.0f, dx, x);
        mec_free(tmp);
    }
    return MEC_OK;
}

static mec_status mul_backward(mec_bw_ctx *ctx) {
    mec_status st = MEC_OK;
    if (ctx->din[0]) st = muldiv_grad(ctx, 0, MUL_BY_OTHER);
    if (!st && ctx->din[1]) st = muldiv_grad(ctx, 1, MUL_BY_OTHER);
    return st;
}

static mec_status div_backward(mec_bw_ctx *ctx) {
    mec_status st = MEC_OK;
    if (ctx->din[0]) st = muldiv_grad(ctx, 0, DIV_BY_OTHER);
    /* for b: the "other" is b itself (divide by it); y/b needs y and b */
    if (!st && ctx->din[1]) {
        const mec_tensor *dy = ctx->dout[0], *y = ctx->out[0], *b = ctx->in[1];
        int64_t n = mec_tensor_numel(dy);
        float *tmp = mec_malloc((size_t)n * sizeof(float));
        if (!tmp) return MEC_ERR_NOMEM;
        const float *g = dy->data, *yv = y->data, *bv = b->data;
        mec_bc_iter it;
        mec_bc_init(&it, dy->ndim, dy->shape, b, NULL);
        for (int64_t i = 0; i < n; i++, mec_bc_next(&it)) tmp[i] = -g[i] * yv[i] / bv[it.oa];
        mec_bw_reduce_broadcast(tmp, dy->ndim, dy->shape, 1.0f, ctx->din[1]->data, b);
        mec_free(tmp);
    }
    return st;
}

// y = where(cond, a, b): da += dy where cond, db += dy where !cond
static mec_status where_backward(mec_bw_ctx *ctx) {
    const mec_tensor *dy = ctx->dout[0], *cond = ctx->in[0];
    int64_t n = mec_tensor_numel(dy);
    float *tmp = mec_malloc((size_t)n * sizeof(float));
    if (!tmp) return MEC_ERR_NOMEM;
    const float *g = dy->data;
    const uint8_t *c = cond->data;
    for (int k = 1; k <= 2; k++) {
        if (!ctx->din[k]) continue;
        mec_bc_iter it;
        mec_bc_init(&it, dy->ndim, dy->shape, cond, NULL);
        for (int64_t i = 0; i < n; i++, mec_bc_next(&it)) tmp[i] = (c[it.oa] != 0) == (k == 1) ? g[i] : 0.0f;
        mec_bw_reduce_broadcast(tmp, dy->ndim, dy->shape, 1.0f, ctx->din[k]->data, ctx->in[k]);
    }
    mec_free(tmp);
    return MEC_OK;
}

/* -------------------------------------------------------------- unary */

enum { U_RELU, U_TANH, U_SIGMOID, U_ERF, U_EXP, U_LOG, U_SQRT, U_NEG, U_RECIP, U_LEAKY, U_IDENT };

// x, y, dx, dy: same shape; dx += dy * f'(x)
static mec_status unary_backward(mec_bw_ctx *ctx, int kind) {
    const mec_tensor *dy = ctx->dout[0];
    const float *g = dy->data, *x = ctx->in[0]->data, *y = ctx->out[0]->data;
    float *dx = ctx->din[0]->data;
    int64_t n = mec_tensor_numel(dy);
    float alpha = kind == U_LEAKY ? mec_node_float(ctx->node, "alpha", 0.01f) : 0.0f;
    const float two_over_sqrt_pi = 1.1283791670955126f;
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float d;
        switch (kind) {
        case U_RELU: d = x[i] > 0.0f ? g[i] : 0.0f; break;
        case U_TANH: d = g[i] * (1.0f - y[i] * y[i]); break;
        case U_SIGMOID: d = g[i] * y[i] * (1.0f - y[i]); break;
        case U_ERF: d = g[i] * two_over_sqrt_pi * expf(-x[i] * x[i]); break;
        case U_EXP: d = g[i] * y[i]; break;
        case U_LOG: d = g[i] / x[i]; break;
        case U_SQRT: d = g[i] * 0.5f / y[i]; break;
        case U_NEG: d = -g[i]; break;
        case U_RECIP: d = -g[i] * y[i] * y[i]; break;
        case U_LEAKY: d = x[i] > 0.0f ? g[i] : alpha * g[i]; break;
        default: d = g[i]; break;
        }
        dx[i] += d;
    }
    return MEC_OK;
}

static mec_status relu_backward(mec_bw_ctx *c) { return unary_backward(c, U_RELU); }
static mec_status tanh_backward(mec_bw_ctx *c) { return unary_backward(c, U_TANH); }
static mec_status sigmoid_backward(mec_bw_ctx *c) { return unary_backward(c, U_SIGMOID); }
static mec_status erf_backward(mec_bw_ctx *c) { return unary_backward(c, U_ERF); }
static mec_status exp_backward(mec_bw_ctx *c) { return unary_backward(c, U_EXP); }
static mec_status log_backward(mec_bw_ctx *c) { return unary_backward(c, U_LOG); }
static mec_status sqrt_backward(mec_bw_ctx *c) { return unary_backward(c, U_SQRT); }
static mec_status neg_backward(mec_bw_ctx *c) { return unary_backward(c, U_NEG); }
static mec_status recip_backward(mec_bw_ctx *c) { return unary_backward(c, U_RECIP); }
static mec_status leaky_backward(mec_bw_ctx *c) { return unary_backward(c, U_LEAKY); }

// y = x^e with e a scalar: dx += dy * e * x^(e-1)
static mec_status pow_backward(mec_bw_ctx *ctx) {
    const mec_tensor *e = ctx->in[1];
    if (mec_tensor_numel(e) != 1)
        return mec_bw_error(ctx, MEC_ERR_UNSUPPORTED, "only a scalar exponent is supported");
    double ev = mec_tensor_get_f64(e, 0);
    const float *g = ctx->dout[0]->data, *x = ctx->in[0]->data;
    float *dx = ctx->din[0]->data;
    int64_t n = mec_tensor_numel(ctx->in[0]);
    for (int64_t i = 0; i < n; i++)
        dx[i] += (float)(g[i] * ev * (ev == 2.0 ? x[i] : pow(x[i], ev - 1.0)));
    return MEC_OK;
}

// y = clip(x, lo, hi): dx += dy where lo < x < hi (PyTorch passes at the bounds)
static mec_status clip_backward(mec_bw_ctx *ctx) {
    float lo = -INFINITY, hi = INFINITY;
    if (ctx->opset < 11) {
        lo = mec_node_float(ctx->node, "min", -INFINITY);
        hi = mec_node_float(ctx->node, "max", INFINITY);
    } else {
        if (ctx->n_in > 1 && ctx->in[1]) lo = (float)mec_tensor_get_f64(ctx->in[1], 0);
        if (ctx->n_in > 2 && ctx->in[2]) hi = (float)mec_tensor_get_f64(ctx->in[2], 0);
    }
    const float *g = ctx->dout[0]->data, *x = ctx->in[0]->data;
    float *dx = ctx->din[0]->data;
    int64_t n = mec_tensor_numel(ctx->in[0]);
    for (int64_t i = 0; i < n; i++)
        if (x[i] >= lo && x[i] <= hi) dx[i] += g[i];
    return MEC_OK;
}

/* ------------------------------------------------- Softmax, LogSoftmax */

/* Softmax over one axis (opset >= 13) or over the flattened dims from axis
 * (opset < 13): (outer, len, inner). */
static mec_status softmax_geo(mec_bw_ctx *ctx, int64_t *outer, int64_t *len, int64_t *inner) {
    const mec_tensor *x = ctx->in[0];
    int64_t axis = mec_node_int(ctx->node, "axis", ctx->opset >= 13 ? -1 : 1);
    if (axis < 0) axis += x->ndim;
    if (axis < 0 || axis >= x->ndim) return mec_bw_error(ctx, MEC_ERR_RANGE, "axis out of range");
    *outer = *len = *inner = 1;
    for (int d = 0; d < axis; d++) *outer *= x->shape[d];
    if (ctx->opset >= 13) {
        *len = x->shape[axis];
        for (int d = (int)axis + 1; d < x->ndim; d++) *inner *= x->shape[d];
    } else {
        for (int d = (int)axis; d < x->ndim; d++) *len *= x->shape[d];
    }
    return MEC_OK;
}

// y = softmax(x): dx += y * (dy - sum(dy * y));  log: dx += dy - exp(y) * sum(dy)
static mec_status softmax_common(mec_bw_ctx *ctx, bool log_softmax) {
    int64_t outer, len, inner;
    mec_status st = softmax_geo(ctx, &outer, &len, &inner);
    if (st) return st;
    const float *g = ctx->dout[0]->data, *y = ctx->out[0]->data;
    float *dx = ctx->din[0]->data;
#pragma omp parallel for schedule(static) if (outer * len * inner >= PAR_MIN)
    for (int64_t o = 0; o < outer; o++)
        for (int64_t in = 0; in < inner; in++) {
            int64_t base = o * len * inner + in;
            float s = 0.0f;
            for (int64_t k = 0; k < len; k++) {
                int64_t i = base + k * inner;
                s += log_softmax ? g[i] : g[i] * y[i];
            }
            for (int64_t k = 0; k < len; k++) {
                int64_t i = base + k * inner;
                dx[i] += log_softmax ? g[i] - expf(y[i]) * s : y[i] * (g[i] - s);
            }
        }
    return MEC_OK;
}
static mec_status softmax_backward(mec_bw_ctx *c) { return softmax_common(c, false); }
static mec_status logsoftmax_backward(mec_bw_ctx *c) { return softmax_common(c, true); }

/* ------------------------------------------------------------- Dropout */

typedef struct dropout_saved {
    float scale; /* 1 / (1 - ratio), 0 when the forward was the identity */
    int64_t n;
    uint8_t mask[];
} dropout_saved;

static float dropout_ratio(const mec_op_ctx *ctx) {
    if (ctx->opset >= 12) {
        if (ctx->n_in > 1 && ctx->in[1] && mec_tensor_numel(ctx->in[1]) == 1)
            return (float)mec_tensor_get_f64(ctx->in[1], 0);
        return 0.5f;
    }
    return mec_node_float(ctx->node, "ratio", 0.5f);
}

// x, y: same shape; mask (optional out 1): bool. Training: y = x * mask / (1 - ratio)
static mec_status dropout_forward(mec_op_ctx *ctx, bool training, uint64_t *rng, void **saved) {
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    mec_tensor *mask_out = ctx->n_out > 1 ? ctx->out[1] : NULL;
    if (x->dtype != MEC_F32)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "training supports float32 Dropout only");
    int64_t n = mec_tensor_numel(x);
    float ratio = dropout_ratio(ctx);
    if (ctx->opset >= 12 && ctx->n_in > 2 && ctx->in[2] && mec_tensor_get_i64(ctx->in[2], 0) == 0)
        training = false; /* the graph says training_mode = false */
    if (!(ratio >= 0.0f && ratio < 1.0f))
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "ratio is %g, expected [0, 1)", ratio);
    const float *xv = x->data;
    float *yv = y->data;
    uint8_t *mo = mask_out && mask_out->dtype == MEC_BOOL ? mask_out->data : NULL;
    if (!training || ratio == 0.0f) {
        memcpy(yv, xv, (size_t)n * sizeof(float));
        if (mo) memset(mo, 1, (size_t)n);
        return MEC_OK;
    }
    dropout_saved *s = mec_malloc(sizeof *s + (size_t)n);
    if (!s) return MEC_ERR_NOMEM;
    s->n = n;
    s->scale = 1.0f / (1.0f - ratio);
    for (int64_t i = 0; i < n; i++) {
        s->mask[i] = mec_rng_uniform(rng) >= ratio;
        yv[i] = s->mask[i] ? xv[i] * s->scale : 0.0f;
        if (mo) mo[i] = s->mask[i];
    }
    *saved = s;
    return MEC_OK;
}

static mec_status dropout_backward(mec_bw_ctx *ctx) {
    const dropout_saved *s = ctx->saved;
    const float *g = ctx->dout[0]->data;
    float *dx = ctx->din[0]->data;
    int64_t n = mec_tensor_numel(ctx->in[0]);
    if (!s) {
        for (int64_t i = 0; i < n; i++) dx[i] += g[i];
        return MEC_OK;
    }
    if (s->n != n) return mec_bw_error(ctx, MEC_ERR_INTERNAL, "mask of %lld elements for %lld", (long long)s->n, (long long)n);
    for (int64_t i = 0; i < n; i++)
        if (s->mask[i]) dx[i] += g[i] * s->scale;
    return MEC_OK;
}

const mec_bw_op mec_bw_ops_elementwise[] = {
    {"Add", 3u, add_backward, NULL},
    {"Sub", 3u, sub_backward, NULL},
    {"Mul", 3u, mul_backward, NULL},
    {"Div", 3u, div_backward, NULL},
    {"Where", 6u, where_backward, NULL},
    {"Relu", 1u, relu_backward, NULL},
    {"LeakyRelu", 1u, leaky_backward, NULL},
    {"Tanh", 1u, tanh_backward, NULL},
    {"Sigmoid", 1u, sigmoid_backward, NULL},
    {"Erf", 1u, erf_backward, NULL},
    {"Exp", 1u, exp_backward, NULL},
    {"Log", 1u, log_backward, NULL},
    {"Sqrt", 1u, sqrt_backward, NULL},
    {"Neg", 1u, neg_backward, NULL},
    {"Reciprocal", 1u, recip_backward, NULL},
    {"Pow", 1u, pow_backward, NULL},
    {"Clip", 1u, clip_backward, NULL},
    {"Softmax", 1u, softmax_backward, NULL},
    {"LogSoftmax", 1u, logsoftmax_backward, NULL},
    {"Dropout", 1u, dropout_backward, dropout_forward},
    {NULL, 0, NULL, NULL},
};
