/* Backward of Conv (1-D and 2-D; groups, strides, dilations, pads, auto_pad)
 * on mec_sgemm: per (image, group) the input is unfolded again (im2col),
 *   dW_g += dY_g · col^T,   dcol = W_g^T · dY_g,   dX_g += col2im(dcol),
 * and dB sums dY over images and positions. */
#include "../ops/sgemm.h"
#include "train_internal.h"

#include <string.h>

typedef struct conv2d_geo {
    int64_t N, C, H, W, M, OH, OW, group, Cg, Mg, KH, KW;
    int64_t sh, sw, dh, dw, ph, pw; /* strides, dilations, begin pads */
} conv2d_geo;

static mec_status ints2(mec_bw_ctx *ctx, const char *name, int nsp, int64_t dflt, int64_t *a, int64_t *b) {
    const int64_t *v = NULL;
    int64_t n = mec_node_ints(ctx->node, name, &v);
    *a = *b = dflt;
    if (n < 0) return MEC_OK;
    if (n != nsp && !(n == 2 * nsp && !strcmp(name, "pads")))
        return mec_bw_error(ctx, MEC_ERR_SHAPE, "attribute %s has %lld values", name, (long long)n);
    if (nsp == 1) *b = v[0];
    else {
        *a = v[0];
        *b = v[1];
    }
    return MEC_OK;
}

/* The geometry from the actual input/output shapes; pads are the begin pads
 * (with auto_pad SAME_* derived from the output size as the forward did). */
static mec_status conv2d_geometry(mec_bw_ctx *ctx, conv2d_geo *g) {
    const mec_tensor *x = ctx->in[0], *w = ctx->in[1], *y = ctx->out[0];
    int nsp = x->ndim - 2;
    if (nsp != 1 && nsp != 2)
        return mec_bw_error(ctx, MEC_ERR_UNSUPPORTED, "%d spatial dims; training supports 1-D and 2-D Conv", nsp);
    memset(g, 0, sizeof *g);
    g->N = x->shape[0];
    g->C = x->shape[1];
    g->H = nsp == 2 ? x->shape[2] : 1;
    g->W = x->shape[nsp + 1];
    g->M = w->shape[0];
    g->KH = nsp == 2 ? w->shape[2] : 1;
    g->KW = w->shape[nsp + 1];
    g->OH = nsp == 2 ? y->shape[2] : 1;
    g->OW = y->shape[nsp + 1];
    g->group = mec_node_int(ctx->node, "group", 1);
    g->Cg = g->C / g->group;
    g->Mg = g->M / g->group;
    mec_status st;
    if ((st = ints2(ctx, "strides", nsp, 1, &g->sh, &g->sw))) return st;
    if ((st = ints2(ctx, "dilations", nsp, 1, &g->dh, &g->dw))) return st;
    if ((st = ints2(ctx, "pads", nsp, 0, &g->ph, &g->pw))) return st;
    const char *ap = mec_node_string(ctx->node, "auto_pad", "NOTSET");
    if (!strcmp(ap, "VALID")) g->ph = g->pw = 0;
    else if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
        int64_t th = (g->OH - 1) * g->sh + (g->KH - 1) * g->dh + 1 - g->H;
        int64_t tw = (g->OW - 1) * g->sw + (g->KW - 1) * g->dw + 1 - g->W;
        if (th < 0) th = 0;
        if (tw < 0) tw = 0;
        bool upper = !strcmp(ap, "SAME_UPPER");
        g->ph = upper ? th / 2 : th - th / 2;
        g->pw = upper ? tw / 2 : tw - tw / 2;
    }
    if (nsp == 1) {
        g->sh = g->dh = 1;
        g->ph = 0;
    }
    return MEC_OK;
}

// x: (Cg, H, W) -> col: (Cg*KH*KW, OH*OW)
static void im2col(const conv2d_geo *g, const float *x, float *col) {
    int64_t rows = g->Cg * g->KH * g->KW, osp = g->OH * g->OW;
#pragma omp parallel for schedule(static) if (rows * osp >= 65536)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r / (g->KH * g->KW), kh = (r / g->KW) % g->KH, kw = r % g->KW;
        const float *xc = x + c * g->H * g->W;
        float *dst = col + r * osp;
        for (int64_t oh = 0; oh < g->OH; oh++) {
            int64_t ih = oh * g->sh - g->ph + kh * g->dh;
            float *drow = dst + oh * g->OW;
            if (ih < 0 || ih >= g->H) {
                memset(drow, 0, (size_t)g->OW * sizeof(float));
                continue;
            }
            const float *xrow = xc + ih * g->W;
            int64_t off = kw * g->dw - g->pw;
            if (g->sw == 1 && off >= 0 && off + g->OW <= g->W) {
                memcpy(drow, xrow + off, (size_t)g->OW * sizeof(float));
                continue;
            }
            for (int64_t ow = 0; ow < g->OW; ow++) {
                int64_t iw = ow * g->sw + off;
                drow[ow] = iw >= 0 && iw < g->W ? xrow[iw] : 0.0f;
            }
        }
    }
}

// col: (Cg*KH*KW, OH*OW) added into dx: (Cg, H, W); parallel over channels (no write conflicts)
static void col2im_add(const conv2d_geo *g, const float *col, float *dx) {
    int64_t osp = g->OH * g->OW, kk = g->KH * g->KW;
#pragma omp parallel for schedule(static) if (g->Cg * kk * osp >= 65536)
    for (int64_t c = 0; c < g->Cg; c++) {
        float *xc = dx + c * g->H * g->W;
        for (int64_t k = 0; k < kk; k++) {
            int64_t kh = k / g->KW, kw = k % g->KW;
            const float *src = col + (c * kk + k) * osp;
            for (int64_t oh = 0; oh < g->OH; oh++) {
                int64_t ih = oh * g->sh - g->ph + kh * g->dh;
                if (ih < 0 || ih >= g->H) continue;
                float *xrow = xc + ih * g->W;
                const float *srow = src + oh * g->OW;
                int64_t off = kw * g->dw - g->pw;
                for (int64_t ow = 0; ow < g->OW; ow++) {
                    int64_t iw = ow * g->sw + off;
                    if (iw >= 0 && iw < g->W) xrow[iw] += srow[ow];
                }
            }
        }
    }
}

// x: (N, C, H, W), w: (M, C/group, KH, KW), b: (M), y/dy: (N, M, OH, OW)
static mec_status conv_backward(mec_bw_ctx *ctx) {
    conv2d_geo g;
    mec_status st = conv2d_geometry(ctx, &g);
    if (st) return st;
    const float *x = ctx->in[0]->data, *w = ctx->in[1]->data, *dy = ctx->dout[0]->data;
    float *dx = ctx->din[0] ? ctx->din[0]->data : NULL;
    float *dw = ctx->din[1] ? ctx->din[1]->data : NULL;
    float *db = ctx->n_in > 2 && ctx->din[2] ? ctx->din[2]->data : NULL;
    int64_t osp = g.OH * g.OW, isp = g.H * g.W, kk = g.KH * g.KW, wk = g.Cg * kk;
    bool pointwise = kk == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 && g.OH == g.H && g.OW == g.W;
    float *col = NULL;
    if (!pointwise && (dw || dx) && !(col = mec_malloc((size_t)(wk * osp) * sizeof(float))))
        return MEC_ERR_NOMEM;
    for (int64_t n = 0; n < g.N; n++)
        for (int64_t grp = 0; grp < g.group; grp++) {
            const float *xg = x + (n * g.C + grp * g.Cg) * isp;
            const float *dyg = dy + (n * g.M + grp * g.Mg) * osp;
            const float *wg = w + grp * g.Mg * wk;
            if (dw) {
                const float *cg = xg;
                if (!pointwise) {
                    im2col(&g, xg, col);
                    cg = col;
                }
                mec_sgemm(false, true, g.Mg, wk, osp, 1.0f, dyg, osp, cg, osp, 1.0f, dw + grp * g.Mg * wk, wk);
            }
            if (dx) {
                float *dxg = dx + (n * g.C + grp * g.Cg) * isp;
                if (pointwise) {
                    mec_sgemm(true, false, wk, osp, g.Mg, 1.0f, wg, wk, dyg, osp, 1.0f, dxg, osp);
                } else {
                    mec_sgemm(true, false, wk, osp, g.Mg, 1.0f, wg, wk, dyg, osp, 0.0f, col, osp);
                    col2im_add(&g, col, dxg);
                }
            }
        }
    if (db) {
#pragma omp parallel for schedule(static) if (g.N * g.M * osp >= 65536)
        for (int64_t m = 0; m < g.M; m++) {
            float s = 0.0f;
            for (int64_t n = 0; n < g.N; n++) {
                const float *r = dy + (n * g.M + m) * osp;
                for (int64_t i = 0; i < osp; i++) s += r[i];
            }
            db[m] += s;
        }
    }
    mec_free(col);
    return MEC_OK;
}

const mec_bw_op mec_bw_ops_conv[] = {
    {"Conv", 7u, conv_backward, NULL},
    {NULL, 0, NULL, NULL},
};
