/* Backward of data-movement ops: views (Reshape, Flatten, Squeeze,
 * Unsqueeze, Identity), Transpose, Concat, Split, Slice, Gather (embedding
 * rows), Expand, DepthToSpace and Resize (linear). Each scatters dy back to
 * where the forward read x from, adding. */
#include "../ops/op_util.h"
#include "train_internal.h"

#include <math.h>
#include <string.h>

// y: any shape with x's elements in the same order: dx += dy
static mec_status view_backward(mec_bw_ctx *ctx) {
    const float *g = ctx->dout[0]->data;
    float *dx = ctx->din[0]->data;
    int64_t n = mec_tensor_numel(ctx->in[0]);
#pragma omp parallel for schedule(static) if (n >= 65536)
    for (int64_t i = 0; i < n; i++) dx[i] += g[i];
    return MEC_OK;
}

// x: (d0..dk), y: (d_perm[0] .. d_perm[k]): dx[x index of y[i]] += dy[i]
static mec_status transpose_backward(mec_bw_ctx *ctx) {
    const mec_tensor *x = ctx->in[0], *y = ctx->out[0];
    int nd = x->ndim;
    int64_t perm[MEC_MAX_DIMS];
    const int64_t *p = NULL;
    int64_t np = mec_node_ints(ctx->node, "perm", &p);
    for (int d = 0; d < nd; d++) perm[d] = np == nd ? p[d] : nd - 1 - d;
    mec_bc_iter it;
    memset(&it, 0, sizeof it);
    it.nd = nd;
    for (int d = 0; d < nd; d++) {
        it.shape[d] = y->shape[d];
        it.sa[d] = x->strides[perm[d]];
    }
    const float *g = ctx->dout[0]->data;
    float *dx = ctx->din[0]->data;
    int64_t n = mec_tensor_numel(y);
    /* the last dim of y is contiguous in dy: walk rows for speed */
    int64_t last = nd ? y->shape[nd - 1] : 1, sl = nd ? it.sa[nd - 1] : 1;
    if (nd == 0) {
        dx[0] += g[0];
        return MEC_OK;
    }
    it.shape[nd - 1] = 1;
    for (int64_t r = 0; r < n / (last ? last : 1); r++, mec_bc_next(&it)) {
        const float *gr = g + r * last;
        float *d = dx + it.oa;
        for (int64_t j = 0; j < last; j++) d[j * sl] += gr[j];
    }
    return MEC_OK;
}

static int norm_axis(int64_t axis, int rank) { return (int)(axis < 0 ? axis + rank : axis); }

// inputs x_k: (..., a_k, ...) joined along axis into y: dx_k += its slab of dy
static mec_status concat_backward(mec_bw_ctx *ctx) {
    const mec_tensor *y = ctx->out[0];
    int axis = norm_axis(mec_node_int(ctx->node, "axis", 0), y->ndim);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= y->shape[d];
    for (int d = axis + 1; d < y->ndim; d++) inner *= y->shape[d];
    int64_t row = y->shape[axis] * inner, off = 0;
    const float *g = ctx->dout[0]->data;
    for (int k = 0; k < ctx->n_in; k++) {
        if (!ctx->in[k]) continue;
        int64_t chunk = ctx->in[k]->shape[axis] * inner;
        if (ctx->din[k]) {
            float *dx = ctx->din[k]->data;
            for (int64_t o = 0; o < outer; o++)
                for (int64_t j = 0; j < chunk; j++) dx[o * chunk + j] += g[o * row + off + j];
        }
        off += chunk;
    }
    return MEC_OK;
}

// x split along axis into y_k: dx's slab k += dy_k
static mec_status split_backward(mec_bw_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    int axis = norm_axis(mec_node_int(ctx->node, "axis", 0), x->ndim);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++) outer *= x->shape[d];
    for (int d = axis + 1; d < x->ndim; d++) inner *= x->shape[d];
    int64_t row = x->shape[axis] * inner, off = 0;
    float *dx = ctx->din[0]->data;
    for (int k = 0; k < ctx->n_out; k++) {
        if (!ctx->out[k]) continue;
        int64_t chunk = ctx->out[k]->shape[axis] * inner;
        if (ctx->dout[k]) {
            const float *g = ctx->dout[k]->data;
            for (int64_t o = 0; o < outer; o++)
                for (int64_t j = 0; j < chunk; j++) dx[o * row + off + j] += g[o * chunk + j];
        }
        off += chunk;
    }
    return MEC_OK;
}

/* Reads Slice's starts/steps per axis (opset < 10: attributes; else inputs). */
static mec_status slice_params(mec_bw_ctx *ctx, int64_t *start, int64_t *step) {
    const mec_tensor *x = ctx->in[0];
    int nd = x->ndim;
    int64_t st_v[MEC_MAX_DIMS], ax_v[MEC_MAX_DIMS], sp_v[MEC_MAX_DIMS];
    int n = 0, na = -1, ns = -1;
    for (int d = 0; d < nd; d++) {
        start[d] = 0;
        step[d] = 1;
    }
    if (ctx->opset < 10) {
        const int64_t *s = NULL, *a = NULL;
        n = (int)mec_node_ints(ctx->node, "starts", &s);
        int64_t cnt = mec_node_ints(ctx->node, "axes", &a);
        if (n < 0 || n > MEC_MAX_DIMS || cnt > MEC_MAX_DIMS) return mec_bw_error(ctx, MEC_ERR_GRAPH, "bad starts/axes");
        for (int i = 0; i < n; i++) st_v[i] = s[i];
        na = (int)cnt;
        for (int i = 0; i < na; i++) ax_v[i] = a[i];
    } else {
        for (int i = 1; i < 5 && i < ctx->n_in; i++) {
            const mec_tensor *t = ctx->in[i];
            if (!t) continue;
            int64_t cnt = mec_tensor_numel(t);
            if (cnt > MEC_MAX_DIMS) return mec_bw_error(ctx, MEC_ERR_SHAPE, "input %d too long", i);
            int64_t *dst = i == 1 ? st_v : i == 3 ? ax_v : i == 4 ? sp_v : NULL;
            if (!dst) continue;
            for (int64_t k = 0; k < cnt; k++) dst[k] = mec_tensor_get_i64(t, k);
            if (i == 1) n = (int)cnt;
            if (i == 3) na = (int)cnt;
            if (i == 4) ns = (int)cnt;
        }
    }
    for (int i = 0; i < n; i++) {
        int ax = na >= 0 ? norm_axis(ax_v[i], nd) : i;
        if (ax < 0 || ax >= nd) return mec_bw_error(ctx, MEC_ERR_RANGE, "axis out of range");
        int64_t dim = x->shape[ax], sp = ns >= 0 ? sp_v[i] : 1, s = st_v[i];
        if (s < 0) s += dim;
        if (sp > 0) s = s < 0 ? 0 : s > dim ? dim : s;
        else s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
        start[ax] = s;
        step[ax] = sp;
    }
    return MEC_OK;
}

// y[i] = x[start + i * step] per axis: dx[...] += dy[i]
static mec_status slice_backward(mec_bw_ctx *ctx) {
    const mec_tensor *x = ctx->in[0], *y = ctx->out[0];
    int64_t start[MEC_MAX_DIMS], step[MEC_MAX_DIMS];
    mec_status st = slice_params(ctx, start, step);
    if (st) return st;
    mec_bc_iter it;
    memset(&it, 0, sizeof it);
    it.nd = y->ndim;
    int64_t base = 0;
    for (int d = 0; d < y->ndim; d++) {
        it.shape[d] = y->shape[d];
        it.sa[d] = x->strides[d] * step[d];
        base += start[d] * x->strides[d];
    }
    const float *g = ctx->dout[0]->data;
    float *dx = ctx->din[0]->data;
    int64_t n = mec_tensor_numel(y);
    for (int64_t i = 0; i < n; i++, mec_bc_next(&it)) dx[base + it.oa] += g[i];
    return MEC_OK;
}

// data: (d0.., D_axis, ..dk), indices: (i...), y: (d0.., i..., ..dk): dx[.., idx, ..] += dy
static mec_status gather_backward(mec_bw_ctx *ctx) {
    const mec_tensor *x = ctx->in[0], *idx = ctx->in[1];
    int axis = norm_axis(mec_node_int(ctx->node, "axis", 0), x->ndim);
    int64_t outer = 1, inner = 1, D = x->shape[axis], ni = mec_tensor_numel(idx);
    for (int d = 0; d < axis; d++) outer *= x->shape[d];
    for (int d = axis + 1; d < x->ndim; d++) inner *= x->shape[d];
    const float *g = ctx->dout[0]->data;
    float *dx = ctx->din[0]->data;
    for (int64_t j = 0; j < ni; j++) {
        int64_t k = mec_tensor_get_i64(idx, j);
        if (k < 0) k += D;
        if (k < 0 || k >= D) return mec_bw_error(ctx, MEC_ERR_RANGE, "index %lld out of range", (long long)k);
    }
#pragma omp parallel for schedule(static) if (outer * ni * inner >= 65536 && outer > 1)
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < ni; j++) {
            int64_t k = mec_tensor_get_i64(idx, j);
            if (k < 0) k += D;
            const float *gr = g + (o * ni + j) * inner;
            float *d = dx + (o * D + k) * inner;
            for (int64_t i = 0; i < inner; i++) d[i] += gr[i];
        }
    return MEC_OK;
}

// y = expand(x, shape): dx += dy summed over the broadcast dims
static mec_status expand_backward(mec_bw_ctx *ctx) {
    const mec_tensor *dy = ctx->dout[0];
    mec_bw_reduce_broadcast(dy->data, dy->ndim, dy->shape, 1.0f, ctx->din[0]->data, ctx->in[0]);
    return MEC_OK;
}

// x: (N, C, H, W) -> y: (N, C/b², H·b, W·b); DCR: channel (i·b + j)·C' + c, CRD: c·b² + i·b + j
static mec_status d2s_backward(mec_bw_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    if (x->ndim != 4) return mec_bw_error(ctx, MEC_ERR_SHAPE, "input must be 4-D");
    int64_t b = mec_node_int(ctx->node, "blocksize", 1);
    bool crd = !strcmp(mec_node_string(ctx->node, "mode", "DCR"), "CRD");
    int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3], Co = C / (b * b);
    const float *g = ctx->dout[0]->data;
    float *dx = ctx->din[0]->data;
#pragma omp parallel for schedule(static) if (N * C * H * W >= 65536)
    for (int64_t nc = 0; nc < N * Co; nc++) {
        int64_t n = nc / Co, c = nc % Co;
        for (int64_t i = 0; i < b; i++)
            for (int64_t j = 0; j < b; j++) {
                int64_t cin = crd ? c * b * b + i * b + j : (i * b + j) * Co + c;
                float *xp = dx + (n * C + cin) * H * W;
                const float *yp = g + nc * H * b * W * b;
                for (int64_t h = 0; h < H; h++)
                    for (int64_t w = 0; w < W; w++) xp[h * W + w] += yp[(h * b + i) * W * b + w * b + j];
            }
    }
    return MEC_OK;
}

/* ------------------------------------------------------- Resize (linear) */

/* Linear taps of output coordinate o along an axis of in → out elements. */
static void linear_taps(int ctm, double scale, int64_t in, int64_t out, int64_t o, int64_t *i0,
                        int64_t *i1, double *w1) {
    double len = scale * (double)in, xo, r = (double)o;
    (void)out;
    switch (ctm) {
    case 1: xo = r / scale; break;                                      /* asymmetric */
    case 2: xo = len > 1 ? (r + 0.5) / scale - 0.5 : 0.0; break;       /* pytorch_half_pixel */
    case 3: xo = len == 1 ? 0.0 : r * (double)(in - 1) / (len - 1); break; /* align_corners */
    default: xo = (r + 0.5) / scale - 0.5; break;                       /* half_pixel */
    }
    double fl = floor(xo);
    int64_t i = (int64_t)fl;
    *w1 = xo - fl;
    *i0 = i < 0 ? 0 : i >= in ? in - 1 : i;
    *i1 = i + 1 < 0 ? 0 : i + 1 >= in ? in - 1 : i + 1;
}

/* The bilinear taps of a Resize over its last two dims. */
typedef struct resize_plan {
    int64_t H, W, OH, OW, planes;
    int64_t *ih0, *ih1, *iw0, *iw1;
    double *wh, *ww;
} resize_plan;

static void resize_plan_release(resize_plan *rp) {
    mec_free(rp->ih0);
    mec_free(rp->wh);
    rp->ih0 = NULL;
    rp->wh = NULL;
}

static mec_status resize_plan_make(mec_bw_ctx *ctx, resize_plan *rp) {
    const mec_tensor *x = ctx->in[0], *y = ctx->out[0];
    memset(rp, 0, sizeof *rp);
    if (strcmp(mec_node_string(ctx->node, "mode", "nearest"), "linear"))
        return mec_bw_error(ctx, MEC_ERR_UNSUPPORTED, "training supports Resize mode 'linear' only");
    if (mec_node_int(ctx->node, "exclude_outside", 0))
        return mec_bw_error(ctx, MEC_ERR_UNSUPPORTED, "exclude_outside is not supported in training");
    if (x->dtype != MEC_F32) return mec_bw_error(ctx, MEC_ERR_UNSUPPORTED, "training supports float32 Resize only");
    const char *cs = mec_node_string(ctx->node, "coordinate_transformation_mode", "half_pixel");
    int ctm = !strcmp(cs, "half_pixel") ? 0 : !strcmp(cs, "asymmetric") ? 1
              : !strcmp(cs, "pytorch_half_pixel") ? 2 : !strcmp(cs, "align_corners") ? 3 : -1;
    if (ctm < 0) return mec_bw_error(ctx, MEC_ERR_UNSUPPORTED, "coordinate_transformation_mode '%s'", cs);
    if (x->ndim < 2) return mec_bw_error(ctx, MEC_ERR_SHAPE, "input must have at least 2 dims");
    int nd = x->ndim;
    double scale[MEC_MAX_DIMS];
    const mec_tensor *sc = ctx->n_in > 2 && ctx->in[2] && mec_tensor_numel(ctx->in[2]) == nd ? ctx->in[2] : NULL;
    if (ctx->opset < 11 && ctx->n_in > 1 && ctx->in[1] && mec_tensor_numel(ctx->in[1]) == nd) sc = ctx->in[1];
    for (int d = 0; d < nd; d++) {
        scale[d] = sc ? mec_tensor_get_f64(sc, d) : (double)y->shape[d] / (double)x->shape[d];
        if (d < nd - 2 && y->shape[d] != x->shape[d])
            return mec_bw_error(ctx, MEC_ERR_UNSUPPORTED, "only the last two dims may be resized in training");
    }
    int64_t H = x->shape[nd - 2], W = x->shape[nd - 1];
    int64_t OH = y->shape[nd - 2], OW = y->shape[nd - 1];
    rp->H = H;
    rp->W = W;
    rp->OH = OH;
    rp->OW = OW;
    rp->planes = H > 0 && W > 0 ? mec_tensor_numel(x) / (H * W) : 0;
    rp->ih0 = mec_malloc((size_t)(2 * (OH + OW) + 1) * sizeof(int64_t));
    rp->wh = mec_malloc((size_t)(OH + OW + 1) * sizeof(double));
    if (!rp->ih0 || !rp->wh) {
        resize_plan_release(rp);
        return MEC_ERR_NOMEM;
    }
    rp->ih1 = rp->ih0 + OH;
    rp->iw0 = rp->ih0 + 2 * OH;
    rp->iw1 = rp->iw0 + OW;
    rp->ww = rp->wh + OH;
    bool same_h = OH == H && scale[nd - 2] == 1.0, same_w = OW == W && scale[nd - 1] == 1.0;
    for (int64_t o = 0; o < OH; o++) {
        if (same_h) rp->ih0[o] = rp->ih1[o] = o, rp->wh[o] = 0.0;
        else linear_taps(ctm, scale[nd - 2], H, OH, o, &rp->ih0[o], &rp->ih1[o], &rp->wh[o]);
    }
    for (int64_t o = 0; o < OW; o++) {
        if (same_w) rp->iw0[o] = rp->iw1[o] = o, rp->ww[o] = 0.0;
        else linear_taps(ctm, scale[nd - 1], W, OW, o, &rp->iw0[o], &rp->iw1[o], &rp->ww[o]);
    }
    return MEC_OK;
}

/* The registered reference kernel, for what the fast training forward does not cover. */
static mec_status ref_forward(mec_op_ctx *ctx) {
    const mec_kernel *k = mec_op_find(ctx->node->domain, ctx->node->op_type, ctx->opset, "ref");
    if (!k) return mec_error(MEC_ERR_UNSUPPORTED, "no reference kernel for %s", ctx->node->op_type);
    void *state = NULL, *scratch = NULL;
    size_t need = 0;
    mec_status st = k->prepare ? k->prepare(ctx, &state, &need) : MEC_OK;
    if (!st && need && !(scratch = mec_malloc(need))) st = MEC_ERR_NOMEM;
    if (!st) {
        ctx->state = state;
        ctx->scratch = scratch;
        ctx->scratch_bytes = need;
        st = k->exec(ctx);
    }
    if (state && k->release) k->release(state);
    mec_free(scratch);
    return st;
}

/* Training forward of Resize: bilinear over the last two dims from the same
 * taps as backward (the reference kernel recomputes them per pixel); other
 * modes run the reference kernel. */
static mec_status resize_forward(mec_op_ctx *octx, bool training, uint64_t *rng, void **saved) {
    (void)rng;
    *saved = NULL;
    mec_bw_ctx ctx = {octx->graph, octx->node_id, octx->node, octx->opset, octx->n_in, octx->in,
                      octx->n_out, (const mec_tensor *const *)octx->out, NULL, NULL, NULL, training};
    resize_plan rp;
    mec_status st = resize_plan_make(&ctx, &rp);
    if (st == MEC_ERR_NOMEM) return st;
    if (st) return ref_forward(octx);
    const float *x = octx->in[0]->data;
    float *y = octx->out[0]->data;
    int64_t H = rp.H, W = rp.W, OH = rp.OH, OW = rp.OW;
#pragma omp parallel for schedule(static) if (rp.planes * OH * OW >= 65536)
    for (int64_t p = 0; p < rp.planes; p++) {
        const float *xp = x + p * H * W;
        float *yp = y + p * OH * OW;
        for (int64_t oh = 0; oh < OH; oh++) {
            float a1 = (float)rp.wh[oh], a0 = 1.0f - a1;
            const float *r0 = xp + rp.ih0[oh] * W, *r1 = xp + rp.ih1[oh] * W;
            for (int64_t ow = 0; ow < OW; ow++) {
                float b1 = (float)rp.ww[ow], b0 = 1.0f - b1;
                int64_t c0 = rp.iw0[ow], c1 = rp.iw1[ow];
                yp[oh * OW + ow] = a0 * (b0 * r0[c0] + b1 * r0[c1]) + a1 * (b0 * r1[c0] + b1 * r1[c1]);
            }
        }
    }
    resize_plan_release(&rp);
    return MEC_OK;
}

// x: (N, C, H, W) -> y: (N, C, OH, OW), bilinear: dx gets dy spread by the same weights
static mec_status resize_backward(mec_bw_ctx *ctx) {
    resize_plan rp;
    mec_status st = resize_plan_make(ctx, &rp);
    if (st) return st;
    int64_t H = rp.H, W = rp.W, OH = rp.OH, OW = rp.OW;
    const float *g = ctx->dout[0]->data;
    float *dx = ctx->din[0]->data;
#pragma omp parallel for schedule(static) if (rp.planes * OH * OW >= 65536)
    for (int64_t p = 0; p < rp.planes; p++) {
        const float *gp = g + p * OH * OW;
        float *xp = dx + p * H * W;
        for (int64_t oh = 0; oh < OH; oh++) {
            float a1 = (float)rp.wh[oh], a0 = 1.0f - a1;
            for (int64_t ow = 0; ow < OW; ow++) {
                float b1 = (float)rp.ww[ow], b0 = 1.0f - b1, v = gp[oh * OW + ow];
                xp[rp.ih0[oh] * W + rp.iw0[ow]] += v * a0 * b0;
                xp[rp.ih0[oh] * W + rp.iw1[ow]] += v * a0 * b1;
                xp[rp.ih1[oh] * W + rp.iw0[ow]] += v * a1 * b0;
                xp[rp.ih1[oh] * W + rp.iw1[ow]] += v * a1 * b1;
            }
        }
    }
    resize_plan_release(&rp);
    return MEC_OK;
}

const mec_bw_op mec_bw_ops_shape[] = {
    {"Reshape", 1u, view_backward, NULL},
    {"Flatten", 1u, view_backward, NULL},
    {"Squeeze", 1u, view_backward, NULL},
    {"Unsqueeze", 1u, view_backward, NULL},
    {"Identity", 1u, view_backward, NULL},
    {"Transpose", 1u, transpose_backward, NULL},
    {"Concat", 0xffffffffu, concat_backward, NULL},
    {"Split", 1u, split_backward, NULL},
    {"Slice", 1u, slice_backward, NULL},
    {"Gather", 1u, gather_backward, NULL},
    {"Expand", 1u, expand_backward, NULL},
    {"DepthToSpace", 1u, d2s_backward, NULL},
    {"Resize", 1u, resize_backward, resize_forward},
    {NULL, 0, NULL, NULL},
};
