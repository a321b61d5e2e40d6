/* Training forward and backward of Conv (1-D and 2-D; groups, strides,
 * dilations, pads, auto_pad) on oneDNN's sgemm (mec_train_sgemm), with the batch folded into the
 * GEMM's columns: per group and chunk of images the input is unfolded
 * (im2col) into col (Cg·KH·KW, nb·P), then
 *   Y_g = W_g · col,   dW_g += dY_g · col^T,   dcol = W_g^T · dY_g,   dX_g += col2im(dcol),
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

/* Grow-only scratch per thread: the column matrices are reused from call to
 * call instead of being mapped (and page-faulted) again at every step. */
static _Thread_local float *scratch_col, *scratch_mat;
static _Thread_local size_t scratch_col_n, scratch_mat_n;

static float *scratch(float **buf, size_t *have, size_t n) {
    if (n > *have) {
        float *p = mec_malloc(n * sizeof(float));
        if (!p) return NULL;
        mec_free(*buf);
        *buf = p;
        *have = n;
    }
    return *buf;
}

/* Images per chunk so that one chunk's columns stay under about 32 MB. */
static int64_t chunk_images(const conv2d_geo *g) {
    int64_t per = g->Cg * g->KH * g->KW * g->OH * g->OW;
    int64_t nb = per > 0 ? ((int64_t)8 << 20) / per : g->N;
    return nb < 1 ? 1 : nb > g->N ? g->N : nb;
}

// x: (nb, C, H, W) images n0.. -> col: (Cg*KH*KW, nb*OH*OW) of group grp
static void im2col_batch(const conv2d_geo *g, const float *x, int64_t nb, int64_t grp, float *col) {
    int64_t rows = g->Cg * g->KH * g->KW, osp = g->OH * g->OW, ld = nb * osp;
#pragma omp parallel for collapse(2) schedule(static) if (rows * ld >= 65536)
    for (int64_t n = 0; n < nb; n++)
        for (int64_t r = 0; r < rows; r++) {
            int64_t c = r / (g->KH * g->KW), kh = (r / g->KW) % g->KH, kw = r % g->KW;
            const float *xc = x + (n * g->C + grp * g->Cg + c) * g->H * g->W;
            float *dst = col + r * ld + n * osp;
            int64_t off = kw * g->dw - g->pw;
            for (int64_t oh = 0; oh < g->OH; oh++) {
                int64_t ih = oh * g->sh - g->ph + kh * g->dh;
                float *drow = dst + oh * g->OW;
                if (ih < 0 || ih >= g->H) {
                    memset(drow, 0, (size_t)g->OW * sizeof(float));
                    continue;
                }
                const float *xrow = xc + ih * g->W;
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

// col: (Cg*KH*KW, nb*OH*OW) added into dx: (nb, C, H, W) at group grp; parallel over (image, channel)
static void col2im_batch_add(const conv2d_geo *g, const float *col, int64_t nb, int64_t grp, float *dx) {
    int64_t osp = g->OH * g->OW, kk = g->KH * g->KW, ld = nb * osp;
#pragma omp parallel for collapse(2) schedule(static) if (g->Cg * kk * ld >= 65536)
    for (int64_t n = 0; n < nb; n++)
        for (int64_t c = 0; c < g->Cg; c++) {
            float *xc = dx + (n * g->C + grp * g->Cg + c) * g->H * g->W;
            for (int64_t k = 0; k < kk; k++) {
                int64_t kh = k / g->KW, kw = k % g->KW;
                const float *src = col + (c * kk + k) * ld + n * osp;
                int64_t off = kw * g->dw - g->pw;
                for (int64_t oh = 0; oh < g->OH; oh++) {
                    int64_t ih = oh * g->sh - g->ph + kh * g->dh;
                    if (ih < 0 || ih >= g->H) continue;
                    float *xrow = xc + ih * g->W;
                    const float *srow = src + oh * g->OW;
                    for (int64_t ow = 0; ow < g->OW; ow++) {
                        int64_t iw = ow * g->sw + off;
                        if (iw >= 0 && iw < g->W) xrow[iw] += srow[ow];
                    }
                }
            }
        }
}

// y: (nb, M, P) rows of group grp <-> mat: (Mg, nb*P)
static void gather_rows(const conv2d_geo *g, const float *y, int64_t nb, int64_t grp, float *mat) {
    int64_t P = g->OH * g->OW;
#pragma omp parallel for collapse(2) schedule(static) if (nb * g->Mg * P >= 65536)
    for (int64_t m = 0; m < g->Mg; m++)
        for (int64_t n = 0; n < nb; n++)
            memcpy(mat + m * nb * P + n * P, y + (n * g->M + grp * g->Mg + m) * P, (size_t)P * sizeof(float));
}

static void scatter_rows(const conv2d_geo *g, const float *mat, const float *bias, int64_t nb,
                         int64_t grp, float *y) {
    int64_t P = g->OH * g->OW;
#pragma omp parallel for collapse(2) schedule(static) if (nb * g->Mg * P >= 65536)
    for (int64_t m = 0; m < g->Mg; m++)
        for (int64_t n = 0; n < nb; n++) {
            float *dst = y + (n * g->M + grp * g->Mg + m) * P;
            const float *src = mat + m * nb * P + n * P;
            float b = bias ? bias[grp * g->Mg + m] : 0.0f;
            for (int64_t p = 0; p < P; p++) dst[p] = src[p] + b;
        }
}

/* Training forward of Conv: the batch folded into one GEMM per group and
 * chunk, Y(Mg, nb·P) = W_g · col(Cg·KH·KW, nb·P), instead of one small GEMM
 * per image (layer4 of resnet-small has P = 4). */
static mec_status conv_forward(mec_op_ctx *octx, bool training, uint64_t *rng, void **saved) {
    (void)training;
    (void)rng;
    *saved = NULL;
    mec_bw_ctx ctx = {octx->graph, octx->node_id, octx->node, octx->opset, octx->n_in, octx->in,
                      octx->n_out, (const mec_tensor *const *)octx->out, NULL, NULL, NULL, training};
    if (octx->in[0]->dtype != MEC_F32 || octx->in[1]->dtype != MEC_F32)
        return mec_bw_error(&ctx, MEC_ERR_DTYPE, "training supports float32 Conv only");
    conv2d_geo g;
    mec_status st = conv2d_geometry(&ctx, &g);
    if (st) return st;
    const float *x = octx->in[0]->data, *w = octx->in[1]->data;
    const float *b = octx->n_in > 2 && octx->in[2] ? octx->in[2]->data : NULL;
    float *y = octx->out[0]->data;
    int64_t osp = g.OH * g.OW, wk = g.Cg * g.KH * g.KW, cn = chunk_images(&g);
    float *col = scratch(&scratch_col, &scratch_col_n, (size_t)(wk * cn * osp));
    float *mat = scratch(&scratch_mat, &scratch_mat_n, (size_t)(g.Mg * cn * osp));
    if (!col || !mat) return MEC_ERR_NOMEM;
    for (int64_t n0 = 0; n0 < g.N; n0 += cn) {
        int64_t nb = g.N - n0 < cn ? g.N - n0 : cn;
        const float *xb = x + n0 * g.C * g.H * g.W;
        float *yb = y + n0 * g.M * osp;
        for (int64_t grp = 0; grp < g.group; grp++) {
            im2col_batch(&g, xb, nb, grp, col);
            mec_train_sgemm(false, false, g.Mg, nb * osp, wk, 1.0f, w + grp * g.Mg * wk, wk, col, nb * osp, 0.0f,
                      mat, nb * osp);
            scatter_rows(&g, mat, b, nb, grp, yb);
        }
    }
    return MEC_OK;
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
    int64_t osp = g.OH * g.OW, wk = g.Cg * g.KH * g.KW, cn = chunk_images(&g);
    if (dw || dx) {
        float *col = scratch(&scratch_col, &scratch_col_n, (size_t)(wk * cn * osp));
        float *mat = scratch(&scratch_mat, &scratch_mat_n, (size_t)(g.Mg * cn * osp));
        if (!col || !mat) return MEC_ERR_NOMEM;
        for (int64_t n0 = 0; n0 < g.N; n0 += cn) {
            int64_t nb = g.N - n0 < cn ? g.N - n0 : cn, ld = nb * osp;
            const float *xb = x + n0 * g.C * g.H * g.W;
            const float *dyb = dy + n0 * g.M * osp;
            for (int64_t grp = 0; grp < g.group; grp++) {
                const float *wg = w + grp * g.Mg * wk;
                gather_rows(&g, dyb, nb, grp, mat); /* dY_g: (Mg, nb·P) */
                if (dw) {
                    im2col_batch(&g, xb, nb, grp, col);
                    mec_train_sgemm(false, true, g.Mg, wk, ld, 1.0f, mat, ld, col, ld, 1.0f, dw + grp * g.Mg * wk, wk);
                }
                if (dx) {
                    mec_train_sgemm(true, false, wk, ld, g.Mg, 1.0f, wg, wk, mat, ld, 0.0f, col, ld);
                    col2im_batch_add(&g, col, nb, grp, dx + n0 * g.C * g.H * g.W);
                }
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
    return MEC_OK;
}

const mec_bw_op mec_bw_ops_conv[] = {
    {"Conv", 7u, conv_backward, conv_forward},
    {NULL, 0, NULL, NULL},
};
