/* conv ops: reference Conv and ConvTranspose for 1-D/2-D/3-D (any N-D)
 * inputs, with groups, strides, dilations, pads and auto_pad. Conv lowers to
 * im2col + mec_sgemm per (image, group); ConvTranspose to mec_sgemm + col2im.
 * The column buffer is the kernel's scratch. */
#include "op_util.h"
#include "sgemm.h"

#include <inttypes.h>
#include <string.h>

/* x: (N, C, D1..Dn) — w: Conv (M, C/group, K1..Kn), ConvTranspose (C, M/group, K1..Kn). */
typedef struct conv_geo {
    int nsp;                     /* spatial dims */
    int64_t N, C, M, group, Cg, Mg;
    int64_t in[MEC_MAX_DIMS], k[MEC_MAX_DIMS], s[MEC_MAX_DIMS], dl[MEC_MAX_DIMS];
    int64_t pb[MEC_MAX_DIMS], pe[MEC_MAX_DIMS], out[MEC_MAX_DIMS];
    int64_t in_sp, out_sp, kk;   /* products of in, out and k */
} conv_geo;

/* Common checks and attributes of Conv and ConvTranspose; fills everything
 * but the output dims and (for auto_pad) the pads. */
static mec_status geo_common(const mec_op_ctx *ctx, bool transpose, conv_geo *g,
                             mec_auto_pad *auto_pad) {
    mec_status st = mec_op_check_arity(ctx, 2, 3);
    if (st) return st;
    const mec_tensor *x = ctx->in[0], *w = ctx->in[1], *b = ctx->n_in > 2 ? ctx->in[2] : NULL;
    for (int i = 0; i < ctx->n_in; i++)
        if (ctx->in[i] && ctx->in[i]->dtype != MEC_F32)
            return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "input %d has dtype %s; only float32 is supported",
                              i, mec_dtype_name(ctx->in[i]->dtype));
    if (x->ndim < 3)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input 0 has %d dims, expected at least 3 (N, C, spatial...)", x->ndim);
    if (w->ndim != x->ndim)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input 1 (W) has %d dims, expected %d like input 0", w->ndim, x->ndim);
    memset(g, 0, sizeof *g);
    g->nsp = x->ndim - 2;
    g->N = x->shape[0];
    g->C = x->shape[1];
    g->group = mec_node_int(ctx->node, "group", 1);
    if (g->group < 1)
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "attribute group is %" PRId64 ", expected >= 1", g->group);
    if (g->C % g->group)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "group %" PRId64 " does not divide the %" PRId64 " input channels",
                          g->group, g->C);
    g->Cg = g->C / g->group;
    if (!transpose) {
        g->M = w->shape[0];
        if (w->shape[1] != g->Cg)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "W has %" PRId64 " input channels per group, expected %" PRId64 " (C %" PRId64 " / group %" PRId64 ")",
                              w->shape[1], g->Cg, g->C, g->group);
        if (g->M % g->group)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "group %" PRId64 " does not divide the %" PRId64 " output channels",
                              g->group, g->M);
        g->Mg = g->M / g->group;
    } else {
        if (w->shape[0] != g->C)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "W has %" PRId64 " input channels, expected %" PRId64,
                              w->shape[0], g->C);
        g->Mg = w->shape[1];
        g->M = g->Mg * g->group;
    }
    if (b) {
        if (b->ndim != 1 || b->shape[0] != g->M)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input 2 (B) must be 1-D of %" PRId64 " values", g->M);
    }
    int n = g->nsp;
    const int64_t *ks = NULL;
    int64_t nks = mec_node_ints(ctx->node, "kernel_shape", &ks);
    if (nks >= 0 && nks != n)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "attribute kernel_shape has %" PRId64 " values, expected %d", nks, n);
    g->in_sp = g->kk = 1;
    for (int d = 0; d < n; d++) {
        g->in[d] = x->shape[2 + d];
        g->k[d] = w->shape[2 + d];
        if (nks >= 0 && ks[d] != g->k[d])
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "kernel_shape[%d] is %" PRId64 " but W has %" PRId64,
                              d, ks[d], g->k[d]);
        if (g->k[d] < 1)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "W has kernel dim %d of size %" PRId64, d, g->k[d]);
        g->in_sp *= g->in[d];
        g->kk *= g->k[d];
    }
    if ((st = mec_op_dims_attr(ctx, "strides", n, 1, 1, g->s))) return st;
    if ((st = mec_op_dims_attr(ctx, "dilations", n, 1, 1, g->dl))) return st;
    int64_t pads[2 * MEC_MAX_DIMS];
    if ((st = mec_op_dims_attr(ctx, "pads", 2 * n, 0, 0, pads))) return st;
    for (int d = 0; d < n; d++) {
        g->pb[d] = pads[d];
        g->pe[d] = pads[n + d];
    }
    return mec_op_auto_pad(ctx, auto_pad);
}

static mec_status conv_geometry(const mec_op_ctx *ctx, conv_geo *g) {
    mec_auto_pad auto_pad;
    mec_status st = geo_common(ctx, false, g, &auto_pad);
    if (st) return st;
    g->out_sp = 1;
    for (int d = 0; d < g->nsp; d++) {
        int64_t eff = (g->k[d] - 1) * g->dl[d] + 1;
        if (auto_pad == MEC_AUTO_PAD_SAME_UPPER || auto_pad == MEC_AUTO_PAD_SAME_LOWER) {
            mec_op_same_pads(g->in[d], g->s[d], eff, auto_pad == MEC_AUTO_PAD_SAME_UPPER,
                             &g->pb[d], &g->pe[d]);
        } else if (auto_pad == MEC_AUTO_PAD_VALID) {
            g->pb[d] = g->pe[d] = 0;
        }
        int64_t padded = g->in[d] + g->pb[d] + g->pe[d];
        if (padded < eff)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "kernel extent %" PRId64 " in spatial dim %d is larger than the padded input (%" PRId64 ")",
                              eff, d, padded);
        g->out[d] = (padded - eff) / g->s[d] + 1;
        g->out_sp *= g->out[d];
    }
    return MEC_OK;
}

static mec_status convt_geometry(const mec_op_ctx *ctx, conv_geo *g) {
    mec_auto_pad auto_pad;
    mec_status st = geo_common(ctx, true, g, &auto_pad);
    if (st) return st;
    int n = g->nsp;
    int64_t opad[MEC_MAX_DIMS];
    if ((st = mec_op_dims_attr(ctx, "output_padding", n, 0, 0, opad))) return st;
    const int64_t *os = NULL;
    int64_t nos = mec_node_ints(ctx->node, "output_shape", &os);
    /* output_shape may list all dims (N, C, ...) or only the spatial ones. */
    if (nos >= 0 && nos != n && nos != n + 2)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "attribute output_shape has %" PRId64 " values, expected %d", nos, n);
    if (nos == n + 2) os += 2;
    g->out_sp = 1;
    for (int d = 0; d < n; d++) {
        if (opad[d] >= g->s[d] && opad[d] >= g->dl[d])
            return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "output_padding[%d] is %" PRId64 ", expected less than the stride or dilation",
                              d, opad[d]);
        int64_t eff = (g->k[d] - 1) * g->dl[d] + 1;
        int64_t full = g->s[d] * (g->in[d] - 1) + opad[d] + eff;
        int64_t want = -1;
        if (nos >= 0) want = os[d];
        else if (auto_pad == MEC_AUTO_PAD_SAME_UPPER || auto_pad == MEC_AUTO_PAD_SAME_LOWER)
            want = g->in[d] * g->s[d];
        if (want >= 0) {
            if (want < 1)
                return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "output_shape[%d] is %" PRId64, d, want);
            int64_t total = full - want;
            if (total <= 0) { /* a larger output gets zeros past the end */
                g->pb[d] = 0;
                g->pe[d] = total;
            } else if (auto_pad == MEC_AUTO_PAD_SAME_UPPER) {
                g->pb[d] = total / 2;
                g->pe[d] = total - total / 2;
            } else {
                g->pb[d] = total - total / 2;
                g->pe[d] = total / 2;
            }
            g->out[d] = want;
        } else {
            if (auto_pad == MEC_AUTO_PAD_VALID) g->pb[d] = g->pe[d] = 0;
            g->out[d] = full - g->pb[d] - g->pe[d];
            if (g->out[d] < 1)
                return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "pads leave spatial dim %d with %" PRId64 " elements",
                                  d, g->out[d]);
        }
        g->out_sp *= g->out[d];
    }
    return MEC_OK;
}

static mec_status set_out(mec_op_ctx *ctx, const conv_geo *g) {
    int64_t shape[MEC_MAX_DIMS];
    shape[0] = g->N;
    shape[1] = g->M;
    for (int d = 0; d < g->nsp; d++) shape[2 + d] = g->out[d];
    return mec_op_set_output(ctx, 0, MEC_F32, g->nsp + 2, shape);
}

/* Unravels a kernel position index into per-dim offsets (last dim fastest). */
static void unravel(int n, const int64_t *dims, int64_t idx, int64_t *pos) {
    for (int d = n - 1; d >= 0; d--) {
        pos[d] = idx % dims[d];
        idx /= dims[d];
    }
}

/* x: (Cg, in...) -> col: (Cg * kk, out_sp); zeros where the window is in padding. */
static void im2col(const conv_geo *g, const float *x, float *col) {
    int n = g->nsp, last = n - 1;
    int64_t rows = g->Cg * g->kk, out_last = g->out[last], in_last = g->in[last];
    int64_t outer = g->out_sp / out_last;
    int nth = rows * g->out_sp >= 65536 ? mec_threads_get() : 1;
#pragma omp parallel for schedule(static) num_threads(nth) if (nth > 1)
    for (int64_t r = 0; r < rows; r++) {
        int64_t c = r / g->kk, koff[MEC_MAX_DIMS], idx[MEC_MAX_DIMS] = {0};
        unravel(n, g->k, r % g->kk, koff);
        const float *xc = x + c * g->in_sp;
        float *dst = col + r * g->out_sp;
        int64_t sl = g->s[last], off_last = koff[last] * g->dl[last] - g->pb[last];
        for (int64_t o = 0; o < outer; o++) {
            bool valid = true;
            int64_t base = 0;
            for (int d = 0; d < last; d++) {
                int64_t ii = idx[d] * g->s[d] - g->pb[d] + koff[d] * g->dl[d];
                if (ii < 0 || ii >= g->in[d]) valid = false;
                base = base * g->in[d] + ii;
            }
            float *drow = dst + o * out_last;
            if (!valid) {
                memset(drow, 0, (size_t)out_last * sizeof(float));
            } else {
                const float *xrow = xc + base * in_last;
                for (int64_t ol = 0; ol < out_last; ol++) {
                    int64_t ii = ol * sl + off_last;
                    drow[ol] = (ii >= 0 && ii < in_last) ? xrow[ii] : 0.0f;
                }
            }
            for (int d = last - 1; d >= 0; d--) {
                if (++idx[d] < g->out[d]) break;
                idx[d] = 0;
            }
        }
    }
}

/* col: (Mg * kk, in_sp) scattered-added into y: (Mg, out...), which starts zeroed. */
static void col2im(const conv_geo *g, const float *col, float *y) {
    int n = g->nsp, last = n - 1;
    int64_t in_last = g->in[last], out_last = g->out[last];
    int64_t outer = g->in_sp / in_last;
    int nth = g->Mg * g->kk * g->in_sp >= 65536 ? mec_threads_get() : 1;
#pragma omp parallel for schedule(static) num_threads(nth) if (nth > 1)
    for (int64_t m = 0; m < g->Mg; m++) {
        float *ym = y + m * g->out_sp;
        for (int64_t kidx = 0; kidx < g->kk; kidx++) {
            int64_t koff[MEC_MAX_DIMS], idx[MEC_MAX_DIMS] = {0};
            unravel(n, g->k, kidx, koff);
            const float *src = col + (m * g->kk + kidx) * g->in_sp;
            int64_t sl = g->s[last], off_last = koff[last] * g->dl[last] - g->pb[last];
            for (int64_t o = 0; o < outer; o++) {
                bool valid = true;
                int64_t base = 0;
                for (int d = 0; d < last; d++) {
                    int64_t oo = idx[d] * g->s[d] - g->pb[d] + koff[d] * g->dl[d];
                    if (oo < 0 || oo >= g->out[d]) valid = false;
                    base = base * g->out[d] + oo;
                }
                if (valid) {
                    const float *srow = src + o * in_last;
                    float *yrow = ym + base * out_last;
                    for (int64_t il = 0; il < in_last; il++) {
                        int64_t oo = il * sl + off_last;
                        if (oo >= 0 && oo < out_last) yrow[oo] += srow[il];
                    }
                }
                for (int d = last - 1; d >= 0; d--) {
                    if (++idx[d] < g->in[d]) break;
                    idx[d] = 0;
                }
            }
        }
    }
}

static void add_bias(const conv_geo *g, const mec_op_ctx *ctx, float *y) {
    const mec_tensor *b = ctx->n_in > 2 ? ctx->in[2] : NULL;
    if (!b) return;
    const float *bias = b->data;
    for (int64_t i = 0; i < g->N * g->M; i++) {
        float v = bias[i % g->M];
        float *row = y + i * g->out_sp;
        for (int64_t j = 0; j < g->out_sp; j++) row[j] += v;
    }
}

/* ----------------------------------------------------------------- Conv */

static bool conv_is_pointwise(const conv_geo *g) {
    if (g->kk != 1) return false;
    for (int d = 0; d < g->nsp; d++)
        if (g->s[d] != 1 || g->pb[d] || g->pe[d]) return false;
    return true;
}

static mec_status conv_infer(mec_op_ctx *ctx) {
    conv_geo g;
    mec_status st = conv_geometry(ctx, &g);
    return st ? st : set_out(ctx, &g);
}

static mec_status conv_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    (void)state;
    conv_geo g;
    mec_status st = conv_geometry(ctx, &g);
    if (st) return st;
    *scratch_bytes = 0;
    if (conv_is_pointwise(&g)) return MEC_OK;
    size_t n;
    if (!mec_size_mul((size_t)(g.Cg * g.kk), (size_t)g.out_sp, &n) ||
        !mec_size_mul(n, sizeof(float), scratch_bytes))
        return MEC_OP_ERR(ctx, MEC_ERR_NOMEM, "im2col buffer size overflows");
    return MEC_OK;
}

// y: (N, M, out...) = W (M, C/group, k...) (*) x (N, C, in...) + B (M)
static mec_status conv_exec(mec_op_ctx *ctx) {
    conv_geo g;
    mec_status st = conv_geometry(ctx, &g);
    if (st) return st;
    const float *x = ctx->in[0]->data, *w = ctx->in[1]->data;
    float *y = ctx->out[0]->data;
    bool pointwise = conv_is_pointwise(&g);
    size_t need = pointwise ? 0 : (size_t)(g.Cg * g.kk * g.out_sp) * sizeof(float);
    if (ctx->scratch_bytes < need)
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "scratch of %zu bytes, expected %zu", ctx->scratch_bytes, need);
    float *col = ctx->scratch;
    int64_t wk = g.Cg * g.kk;
    for (int64_t n = 0; n < g.N; n++) {
        for (int64_t grp = 0; grp < g.group; grp++) {
            const float *xg = x + (n * g.C + grp * g.Cg) * g.in_sp;
            const float *b = xg;
            if (!pointwise) {
                im2col(&g, xg, col);
                b = col;
            }
            float *yg = y + (n * g.M + grp * g.Mg) * g.out_sp;
            mec_sgemm(false, false, g.Mg, g.out_sp, wk, 1.0f, w + grp * g.Mg * wk, wk, b,
                      g.out_sp, 0.0f, yg, g.out_sp);
        }
    }
    add_bias(&g, ctx, y);
    return MEC_OK;
}

static int64_t conv_flops(const mec_op_ctx *ctx) {
    conv_geo g;
    if (conv_geometry(ctx, &g)) return 0;
    return 2 * g.N * g.M * g.out_sp * g.Cg * g.kk;
}

/* -------------------------------------------------------- ConvTranspose */

static mec_status convt_infer(mec_op_ctx *ctx) {
    conv_geo g;
    mec_status st = convt_geometry(ctx, &g);
    return st ? st : set_out(ctx, &g);
}

static mec_status convt_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    (void)state;
    conv_geo g;
    mec_status st = convt_geometry(ctx, &g);
    if (st) return st;
    size_t n;
    if (!mec_size_mul((size_t)(g.Mg * g.kk), (size_t)g.in_sp, &n) ||
        !mec_size_mul(n, sizeof(float), scratch_bytes))
        return MEC_OP_ERR(ctx, MEC_ERR_NOMEM, "col2im buffer size overflows");
    return MEC_OK;
}

// y: (N, M, out...) = col2im(W_g^T (Mg*k, Cg) x_g (Cg, in)) + B (M)
static mec_status convt_exec(mec_op_ctx *ctx) {
    conv_geo g;
    mec_status st = convt_geometry(ctx, &g);
    if (st) return st;
    const float *x = ctx->in[0]->data, *w = ctx->in[1]->data;
    float *y = ctx->out[0]->data;
    size_t need = (size_t)(g.Mg * g.kk * g.in_sp) * sizeof(float);
    if (ctx->scratch_bytes < need)
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "scratch of %zu bytes, expected %zu", ctx->scratch_bytes, need);
    float *col = ctx->scratch;
    int64_t wk = g.Mg * g.kk;
    memset(y, 0, (size_t)(g.N * g.M * g.out_sp) * sizeof(float));
    for (int64_t n = 0; n < g.N; n++) {
        for (int64_t grp = 0; grp < g.group; grp++) {
            const float *xg = x + (n * g.C + grp * g.Cg) * g.in_sp;
            const float *wg = w + grp * g.Cg * wk;
            mec_sgemm(true, false, wk, g.in_sp, g.Cg, 1.0f, wg, wk, xg, g.in_sp, 0.0f, col, g.in_sp);
            col2im(&g, col, y + (n * g.M + grp * g.Mg) * g.out_sp);
        }
    }
    add_bias(&g, ctx, y);
    return MEC_OK;
}

static int64_t convt_flops(const mec_op_ctx *ctx) {
    conv_geo g;
    if (convt_geometry(ctx, &g)) return 0;
    return 2 * g.N * g.C * g.in_sp * g.Mg * g.kk;
}

const mec_kernel mec_kernels_conv[] = {
    /* Conv-1 and Conv-11 differ only in documentation (pads default). */
    {"Conv", "", 1, 17, "ref", 0, 0, conv_infer, conv_exec, conv_prepare, NULL, conv_flops},
    {"ConvTranspose", "", 1, 17, "ref", 0, 0, convt_infer, convt_exec, convt_prepare, NULL, convt_flops},
    {0},
};
