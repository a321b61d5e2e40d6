/* Backward of pooling: MaxPool (the gradient goes to the first maximum of
 * each window, as the forward picks it), AveragePool (count_include_pad,
 * ceil_mode through the output shape), GlobalAveragePool, GlobalMaxPool.
 * 1-D and 2-D windows. */
#include "train_internal.h"

#include <math.h>
#include <string.h>

typedef struct pool2d {
    int64_t planes, H, W, OH, OW, KH, KW, sh, sw, dh, dw, ph, pw, peh, pew;
} pool2d;

static mec_status pool_geometry(mec_bw_ctx *ctx, pool2d *p) {
    const mec_tensor *x = ctx->in[0], *y = ctx->out[0];
    int nsp = x->ndim - 2;
    if (nsp != 1 && nsp != 2)
        return mec_bw_error(ctx, MEC_ERR_UNSUPPORTED, "%d spatial dims; training supports 1-D and 2-D pooling", nsp);
    memset(p, 0, sizeof *p);
    p->planes = x->shape[0] * x->shape[1];
    p->H = nsp == 2 ? x->shape[2] : 1;
    p->W = x->shape[nsp + 1];
    p->OH = nsp == 2 ? y->shape[2] : 1;
    p->OW = y->shape[nsp + 1];
    const int64_t *k = NULL, *s = NULL, *d = NULL, *pd = NULL;
    if (mec_node_ints(ctx->node, "kernel_shape", &k) != nsp)
        return mec_bw_error(ctx, MEC_ERR_GRAPH, "kernel_shape must have %d values", nsp);
    int64_t ns = mec_node_ints(ctx->node, "strides", &s), ndl = mec_node_ints(ctx->node, "dilations", &d);
    int64_t npd = mec_node_ints(ctx->node, "pads", &pd);
    p->KH = nsp == 2 ? k[0] : 1;
    p->KW = k[nsp - 1];
    p->sh = ns == nsp && nsp == 2 ? s[0] : 1;
    p->sw = ns == nsp ? s[nsp - 1] : 1;
    p->dh = ndl == nsp && nsp == 2 ? d[0] : 1;
    p->dw = ndl == nsp ? d[nsp - 1] : 1;
    if (npd == 2 * nsp) {
        p->ph = nsp == 2 ? pd[0] : 0;
        p->pw = pd[nsp - 1];
        p->peh = nsp == 2 ? pd[2] : 0;
        p->pew = pd[2 * nsp - 1];
    }
    const char *ap = mec_node_string(ctx->node, "auto_pad", "NOTSET");
    if (!strcmp(ap, "VALID")) p->ph = p->pw = p->peh = p->pew = 0;
    else if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
        int64_t th = (p->OH - 1) * p->sh + (p->KH - 1) * p->dh + 1 - p->H;
        int64_t tw = (p->OW - 1) * p->sw + (p->KW - 1) * p->dw + 1 - p->W;
        th = th < 0 ? 0 : th;
        tw = tw < 0 ? 0 : tw;
        bool up = !strcmp(ap, "SAME_UPPER");
        p->ph = up ? th / 2 : th - th / 2;
        p->pw = up ? tw / 2 : tw - tw / 2;
        p->peh = th - p->ph;
        p->pew = tw - p->pw;
    }
    return MEC_OK;
}

/* Training forward of MaxPool: y, the optional Indices output, and the
 * first maximum of each window (plane-relative, -1 for an empty window)
 * kept for backward, which then only scatters. */
static mec_status maxpool_forward(mec_op_ctx *octx, bool training, uint64_t *rng, void **saved) {
    (void)rng;
    *saved = NULL;
    mec_bw_ctx ctx = {octx->graph, octx->node_id, octx->node, octx->opset, octx->n_in, octx->in,
                      octx->n_out, (const mec_tensor *const *)octx->out, NULL, NULL, NULL, training};
    if (octx->in[0]->dtype != MEC_F32) return mec_bw_error(&ctx, MEC_ERR_DTYPE, "training supports float32 MaxPool only");
    pool2d p;
    mec_status st = pool_geometry(&ctx, &p);
    if (st) return st;
    int64_t n_out = p.planes * p.OH * p.OW;
    int32_t *arg = NULL;
    if (p.H * p.W < INT32_MAX && !(arg = mec_malloc((size_t)(n_out + 1) * sizeof(int32_t)))) return MEC_ERR_NOMEM;
    const float *x = octx->in[0]->data;
    float *y = octx->out[0]->data;
    int64_t *ind = octx->n_out > 1 && octx->out[1] && octx->out[1]->dtype == MEC_I64 ? octx->out[1]->data : NULL;
    bool col_major = mec_node_int(octx->node, "storage_order", 0) == 1;
#pragma omp parallel for schedule(static) if (n_out >= 16384)
    for (int64_t pl = 0; pl < p.planes; pl++) {
        const float *xp = x + pl * p.H * p.W;
        for (int64_t oh = 0; oh < p.OH; oh++) {
            int64_t h0 = oh * p.sh - p.ph;
            for (int64_t ow = 0; ow < p.OW; ow++) {
                int64_t w0 = ow * p.sw - p.pw, o = (pl * p.OH + oh) * p.OW + ow;
                float best = -INFINITY;
                int64_t at = -1;
                for (int64_t kh = 0; kh < p.KH; kh++) {
                    int64_t ih = h0 + kh * p.dh;
                    if (ih < 0 || ih >= p.H) continue;
                    const float *row = xp + ih * p.W;
                    for (int64_t kw = 0; kw < p.KW; kw++) {
                        int64_t iw = w0 + kw * p.dw;
                        if (iw < 0 || iw >= p.W) continue;
                        if (row[iw] > best || at < 0) {
                            best = row[iw];
                            at = ih * p.W + iw;
                        }
                    }
                }
                y[o] = best;
                if (arg) arg[o] = (int32_t)at;
                if (ind) ind[o] = pl * p.H * p.W + (at < 0 ? 0 : col_major ? (at % p.W) * p.H + at / p.W : at);
            }
        }
    }
    *saved = arg;
    return MEC_OK;
}

// x: (N, C, H, W), y/dy: (N, C, OH, OW)
static mec_status maxpool_backward(mec_bw_ctx *ctx) {
    pool2d p;
    mec_status st = pool_geometry(ctx, &p);
    if (st) return st;
    const float *x = ctx->in[0]->data, *g = ctx->dout[0]->data;
    float *dx = ctx->din[0]->data;
    if (ctx->saved) {
        const int32_t *arg = ctx->saved;
#pragma omp parallel for schedule(static) if (p.planes * p.OH * p.OW >= 16384)
        for (int64_t pl = 0; pl < p.planes; pl++) {
            float *dp = dx + pl * p.H * p.W;
            for (int64_t o = pl * p.OH * p.OW; o < (pl + 1) * p.OH * p.OW; o++)
                if (arg[o] >= 0) dp[arg[o]] += g[o];
        }
        return MEC_OK;
    }
#pragma omp parallel for schedule(static) if (p.planes * p.OH * p.OW >= 16384)
    for (int64_t pl = 0; pl < p.planes; pl++) {
        const float *xp = x + pl * p.H * p.W;
        float *dp = dx + pl * p.H * p.W;
        for (int64_t oh = 0; oh < p.OH; oh++)
            for (int64_t ow = 0; ow < p.OW; ow++) {
                float best = -INFINITY;
                int64_t at = -1;
                for (int64_t kh = 0; kh < p.KH; kh++) {
                    int64_t ih = oh * p.sh - p.ph + kh * p.dh;
                    if (ih < 0 || ih >= p.H) continue;
                    for (int64_t kw = 0; kw < p.KW; kw++) {
                        int64_t iw = ow * p.sw - p.pw + kw * p.dw;
                        if (iw < 0 || iw >= p.W) continue;
                        float v = xp[ih * p.W + iw];
                        if (v > best || at < 0) {
                            best = v;
                            at = ih * p.W + iw;
                        }
                    }
                }
                if (at >= 0) dp[at] += g[(pl * p.OH + oh) * p.OW + ow];
            }
    }
    return MEC_OK;
}

static mec_status avgpool_backward(mec_bw_ctx *ctx) {
    pool2d p;
    mec_status st = pool_geometry(ctx, &p);
    if (st) return st;
    bool include_pad = mec_node_int(ctx->node, "count_include_pad", 0) != 0;
    const float *g = ctx->dout[0]->data;
    float *dx = ctx->din[0]->data;
#pragma omp parallel for schedule(static) if (p.planes * p.OH * p.OW >= 16384)
    for (int64_t pl = 0; pl < p.planes; pl++) {
        float *dp = dx + pl * p.H * p.W;
        for (int64_t oh = 0; oh < p.OH; oh++)
            for (int64_t ow = 0; ow < p.OW; ow++) {
                int64_t counted = 0;
                /* the divisor, as the forward counts it */
                for (int64_t kh = 0; kh < p.KH; kh++) {
                    int64_t ih = oh * p.sh - p.ph + kh * p.dh;
                    for (int64_t kw = 0; kw < p.KW; kw++) {
                        int64_t iw = ow * p.sw - p.pw + kw * p.dw;
                        bool valid = ih >= 0 && ih < p.H && iw >= 0 && iw < p.W;
                        bool padded = ih < p.H + p.peh && iw < p.W + p.pew;
                        counted += valid || (include_pad && padded);
                    }
                }
                if (!counted) continue;
                float v = g[(pl * p.OH + oh) * p.OW + ow] / (float)counted;
                for (int64_t kh = 0; kh < p.KH; kh++) {
                    int64_t ih = oh * p.sh - p.ph + kh * p.dh;
                    if (ih < 0 || ih >= p.H) continue;
                    for (int64_t kw = 0; kw < p.KW; kw++) {
                        int64_t iw = ow * p.sw - p.pw + kw * p.dw;
                        if (iw >= 0 && iw < p.W) dp[ih * p.W + iw] += v;
                    }
                }
            }
    }
    return MEC_OK;
}

// x: (N, C, d...), y: (N, C, 1...): dx += dy / S (average) or to the first maximum
static mec_status global_pool_backward(mec_bw_ctx *ctx, bool max) {
    const mec_tensor *x = ctx->in[0];
    int64_t planes = x->shape[0] * x->shape[1], S = mec_tensor_numel(x) / (planes ? planes : 1);
    const float *xv = x->data, *g = ctx->dout[0]->data;
    float *dx = ctx->din[0]->data;
#pragma omp parallel for schedule(static) if (planes * S >= 65536)
    for (int64_t pl = 0; pl < planes; pl++) {
        if (max) {
            int64_t at = 0;
            for (int64_t i = 1; i < S; i++)
                if (xv[pl * S + i] > xv[pl * S + at]) at = i;
            dx[pl * S + at] += g[pl];
        } else {
            float v = g[pl] / (float)S;
            for (int64_t i = 0; i < S; i++) dx[pl * S + i] += v;
        }
    }
    return MEC_OK;
}
static mec_status gavg_backward(mec_bw_ctx *c) { return global_pool_backward(c, false); }
static mec_status gmax_backward(mec_bw_ctx *c) { return global_pool_backward(c, true); }

const mec_bw_op mec_bw_ops_pool[] = {
    {"MaxPool", 1u, maxpool_backward, maxpool_forward},
    {"AveragePool", 1u, avgpool_backward, NULL},
    {"GlobalAveragePool", 1u, gavg_backward, NULL},
    {"GlobalMaxPool", 1u, gmax_backward, NULL},
    {NULL, 0, NULL, NULL},
};
