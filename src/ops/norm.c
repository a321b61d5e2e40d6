/* norm ops: reference BatchNormalization (inference and opset-14+ training
 * mode), LayerNormalization, InstanceNormalization, LRN and
 * MeanVarianceNormalization. Statistics are accumulated in double. */
#include "op_util.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

static const mec_dtype float_types[] = {MEC_F32, MEC_F64, MEC_F16, MEC_BF16, 0};

static int64_t spatial_size(const mec_tensor *x) {
    int64_t s = 1;
    for (int d = 2; d < x->ndim; d++) s *= x->shape[d];
    return s;
}

/* Inputs first..last are float tensors of shape (C). */
static mec_status check_channel_params(const mec_op_ctx *ctx, int first, int last, int64_t C) {
    for (int i = first; i <= last && i < ctx->n_in; i++) {
        const mec_tensor *t = ctx->in[i];
        if (!t) return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "required input %d is missing", i);
        mec_status st = mec_op_check_dtype(ctx, i, float_types);
        if (st) return st;
        if (t->ndim != 1 || t->shape[0] != C) {
            char s[160];
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input %d has shape %s, expected (%" PRId64 ")", i,
                              mec_shape_str(t->ndim, t->shape, s, sizeof s), C);
        }
    }
    return MEC_OK;
}

static mec_status check_nc_input(const mec_op_ctx *ctx, int min_rank) {
    mec_status st = mec_op_check_dtype(ctx, 0, float_types);
    if (st) return st;
    if (ctx->in[0]->ndim < min_rank)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input 0 has %d dims, expected at least %d (N, C, ...)",
                          ctx->in[0]->ndim, min_rank);
    return MEC_OK;
}

/* --------------------------------------------------- BatchNormalization */

static bool bn_training(const mec_op_ctx *ctx) {
    return ctx->opset >= 14 && mec_node_int(ctx->node, "training_mode", 0) != 0;
}

static mec_status bn_check(const mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 5, 5);
    if (!st) st = check_nc_input(ctx, 2);
    if (!st) st = check_channel_params(ctx, 1, 4, ctx->in[0]->shape[1]);
    if (st) return st;
    if (ctx->opset < 9 && mec_node_int(ctx->node, "spatial", 1) == 0)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "attribute spatial = 0 (per-activation statistics) is not supported");
    float eps = mec_node_float(ctx->node, "epsilon", 1e-5f);
    if (!(eps >= 0.0f))
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "attribute epsilon is %g, expected >= 0", (double)eps);
    bool extra = false;
    for (int i = 1; i < ctx->n_out; i++)
        if (ctx->out[i]) extra = true;
    if (extra && !bn_training(ctx))
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED,
                          ctx->opset >= 14 ? "outputs running_mean/running_var need training_mode = 1"
                                           : "training-mode outputs (mean, var, saved statistics) before opset 14 are not supported");
    if (ctx->opset >= 14 && ctx->n_out > 3)
        return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "has %d outputs, expected at most 3", ctx->n_out);
    return MEC_OK;
}

static mec_status bn_infer(mec_op_ctx *ctx) {
    mec_status st = bn_check(ctx);
    if (st) return st;
    st = mec_op_output_like(ctx, 0, 0);
    for (int i = 1; i < 3 && i < ctx->n_out && !st; i++) st = mec_op_output_like(ctx, i, 2 + i);
    return st;
}

// y: (N, C, ...) = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + B[c]
static mec_status bn_exec(mec_op_ctx *ctx) {
    mec_status st = bn_check(ctx);
    if (st) return st;
    const mec_tensor *x = ctx->in[0], *sc = ctx->in[1], *bi = ctx->in[2], *mean = ctx->in[3],
                     *var = ctx->in[4];
    mec_tensor *y = ctx->out[0];
    double eps = mec_node_float(ctx->node, "epsilon", 1e-5f);
    int64_t N = x->shape[0], C = x->shape[1], sp = spatial_size(x);
    bool train = bn_training(ctx);
    double momentum = mec_node_float(ctx->node, "momentum", 0.9f);
    int nth = N * C * sp >= 65536 ? mec_threads_get() : 1;
#pragma omp parallel for schedule(static) num_threads(nth) if (nth > 1)
    for (int64_t c = 0; c < C; c++) {
        double m = mec_op_load_f64(mean->data, mean->dtype, c),
               v = mec_op_load_f64(var->data, var->dtype, c);
        if (train) {
            double s = 0, s2 = 0;
            for (int64_t n = 0; n < N; n++)
                for (int64_t i = 0; i < sp; i++)
                    s += mec_op_load_f64(x->data, x->dtype, (n * C + c) * sp + i);
            double cnt = (double)(N * sp), bm = cnt > 0 ? s / cnt : 0;
            for (int64_t n = 0; n < N; n++)
                for (int64_t i = 0; i < sp; i++) {
                    double d = mec_op_load_f64(x->data, x->dtype, (n * C + c) * sp + i) - bm;
                    s2 += d * d;
                }
            double bv = cnt > 0 ? s2 / cnt : 0;
            if (ctx->n_out > 1 && ctx->out[1])
                mec_op_store_f64(ctx->out[1]->data, ctx->out[1]->dtype, c,
                                 m * momentum + bm * (1 - momentum));
            if (ctx->n_out > 2 && ctx->out[2])
                mec_op_store_f64(ctx->out[2]->data, ctx->out[2]->dtype, c,
                                 v * momentum + bv * (1 - momentum));
            m = bm;
            v = bv;
        }
        double a = mec_op_load_f64(sc->data, sc->dtype, c) / sqrt(v + eps);
        double b = mec_op_load_f64(bi->data, bi->dtype, c) - m * a;
        for (int64_t n = 0; n < N; n++) {
            int64_t base = (n * C + c) * sp;
            if (x->dtype == MEC_F32) {
                const float *xs = (const float *)x->data + base;
                float *ys = (float *)y->data + base, fa = (float)a, fb = (float)b;
                for (int64_t i = 0; i < sp; i++) ys[i] = xs[i] * fa + fb;
            } else {
                for (int64_t i = 0; i < sp; i++)
                    mec_op_store_f64(y->data, y->dtype, base + i,
                                     mec_op_load_f64(x->data, x->dtype, base + i) * a + b);
            }
        }
    }
    return MEC_OK;
}

/* ------------------------------------------------ InstanceNormalization */

static mec_status in_check(const mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 3, 3);
    if (!st) st = check_nc_input(ctx, 3);
    if (!st) st = check_channel_params(ctx, 1, 2, ctx->in[0]->shape[1]);
    return st;
}

static mec_status in_infer(mec_op_ctx *ctx) {
    mec_status st = in_check(ctx);
    return st ? st : mec_op_output_like(ctx, 0, 0);
}

// y: (N, C, ...) = (x - mean_nc) / sqrt(var_nc + eps) * scale[c] + B[c]
static mec_status in_exec(mec_op_ctx *ctx) {
    mec_status st = in_check(ctx);
    if (st) return st;
    const mec_tensor *x = ctx->in[0], *sc = ctx->in[1], *bi = ctx->in[2];
    mec_tensor *y = ctx->out[0];
    double eps = mec_node_float(ctx->node, "epsilon", 1e-5f);
    int64_t C = x->shape[1], sp = spatial_size(x), planes = x->shape[0] * C;
    int nth = planes * sp >= 65536 ? mec_threads_get() : 1;
#pragma omp parallel for schedule(static) num_threads(nth) if (nth > 1)
    for (int64_t p = 0; p < planes; p++) {
        int64_t base = p * sp, c = p % C;
        double s = 0, s2 = 0;
        for (int64_t i = 0; i < sp; i++) s += mec_op_load_f64(x->data, x->dtype, base + i);
        double m = sp ? s / (double)sp : 0;
        for (int64_t i = 0; i < sp; i++) {
            double d = mec_op_load_f64(x->data, x->dtype, base + i) - m;
            s2 += d * d;
        }
        double inv = 1.0 / sqrt((sp ? s2 / (double)sp : 0) + eps);
        double a = mec_op_load_f64(sc->data, sc->dtype, c) * inv,
               b = mec_op_load_f64(bi->data, bi->dtype, c) - m * a;
        for (int64_t i = 0; i < sp; i++)
            mec_op_store_f64(y->data, y->dtype, base + i,
                             mec_op_load_f64(x->data, x->dtype, base + i) * a + b);
    }
    return MEC_OK;
}

/* --------------------------------------------------- LayerNormalization */

typedef struct ln_geo {
    int axis;
    int64_t rows, cols;
    int64_t sc_str[MEC_MAX_DIMS], b_str[MEC_MAX_DIMS]; /* per normalized dim, 0 = broadcast */
} ln_geo;

/* Element strides of a parameter broadcast (right-aligned) to the normalized dims. */
static mec_status ln_param(const mec_op_ctx *ctx, int i, const mec_tensor *x, int axis, int64_t *str) {
    const mec_tensor *t = ctx->in[i];
    int nd = x->ndim - axis;
    mec_status st = mec_op_check_dtype(ctx, i, float_types);
    if (st) return st;
    if (t->ndim > nd) goto bad;
    int64_t acc = 1;
    for (int d = nd - 1; d >= 0; d--) {
        int td = d - (nd - t->ndim);
        int64_t dim = td >= 0 ? t->shape[td] : 1, want = x->shape[axis + d];
        if (dim != want && dim != 1) goto bad;
        str[d] = dim == 1 ? 0 : acc;
        acc *= dim;
    }
    return MEC_OK;
bad:;
    char s1[160], s2[160];
    return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input %d of shape %s does not broadcast to the normalized shape %s",
                      i, mec_shape_str(t->ndim, t->shape, s1, sizeof s1),
                      mec_shape_str(nd, x->shape + axis, s2, sizeof s2));
}

static mec_status ln_geometry(const mec_op_ctx *ctx, ln_geo *g) {
    mec_status st = mec_op_check_arity(ctx, 2, 3);
    if (!st) st = mec_op_check_dtype(ctx, 0, float_types);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    if (x->ndim < 1) return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input 0 is a scalar, expected at least 1 dim");
    if ((st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", -1), x->ndim, &g->axis))) return st;
    int64_t stash = mec_node_int(ctx->node, "stash_type", 1);
    if (stash != 1 && stash != 11 && stash != 10 && stash != 16)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "attribute stash_type is %" PRId64 ", expected a float type", stash);
    g->rows = g->cols = 1;
    for (int d = 0; d < x->ndim; d++) {
        if (d < g->axis) g->rows *= x->shape[d];
        else g->cols *= x->shape[d];
    }
    if ((st = ln_param(ctx, 1, x, g->axis, g->sc_str))) return st;
    if (ctx->n_in > 2 && ctx->in[2] && (st = ln_param(ctx, 2, x, g->axis, g->b_str))) return st;
    return MEC_OK;
}

static mec_status ln_infer(mec_op_ctx *ctx) {
    ln_geo g;
    mec_status st = ln_geometry(ctx, &g);
    if (st) return st;
    if (ctx->n_out > 3) return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "has %d outputs, expected at most 3", ctx->n_out);
    const mec_tensor *x = ctx->in[0];
    int64_t shape[MEC_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) shape[d] = d < g.axis ? x->shape[d] : 1;
    mec_dtype stash = (mec_dtype)mec_node_int(ctx->node, "stash_type", 1);
    st = mec_op_output_like(ctx, 0, 0);
    for (int i = 1; i < 3 && !st; i++) st = mec_op_set_output(ctx, i, stash, x->ndim, shape);
    return st;
}

/* Offset of normalized element j in a broadcast parameter. */
static int64_t param_off(const mec_tensor *x, int axis, const int64_t *str, int64_t j) {
    int64_t off = 0;
    for (int d = x->ndim - 1; d >= axis; d--) {
        int64_t dim = x->shape[d];
        off += (j % dim) * str[d - axis];
        j /= dim;
    }
    return off;
}

// y: (..., D...) = (x - mean) * invstd * scale + B over the dims from axis on
static mec_status ln_exec(mec_op_ctx *ctx) {
    ln_geo g;
    mec_status st = ln_geometry(ctx, &g);
    if (st) return st;
    const mec_tensor *x = ctx->in[0], *sc = ctx->in[1], *bi = ctx->n_in > 2 ? ctx->in[2] : NULL;
    mec_tensor *y = ctx->out[0];
    mec_tensor *mo = ctx->n_out > 1 ? ctx->out[1] : NULL, *io = ctx->n_out > 2 ? ctx->out[2] : NULL;
    double eps = mec_node_float(ctx->node, "epsilon", 1e-5f);
    bool plain = true; /* parameters have exactly the normalized shape */
    for (int d = 0; d < x->ndim - g.axis; d++) {
        int64_t want = 1;
        for (int e = d + 1; e < x->ndim - g.axis; e++) want *= x->shape[g.axis + e];
        if (g.sc_str[d] != want || (bi && g.b_str[d] != want)) plain = false;
    }
    int nth = g.rows * g.cols >= 65536 ? mec_threads_get() : 1;
#pragma omp parallel for schedule(static) num_threads(nth) if (nth > 1)
    for (int64_t r = 0; r < g.rows; r++) {
        int64_t base = r * g.cols;
        double s = 0, s2 = 0;
        for (int64_t j = 0; j < g.cols; j++) s += mec_op_load_f64(x->data, x->dtype, base + j);
        double m = g.cols ? s / (double)g.cols : 0;
        for (int64_t j = 0; j < g.cols; j++) {
            double d = mec_op_load_f64(x->data, x->dtype, base + j) - m;
            s2 += d * d;
        }
        double inv = 1.0 / sqrt((g.cols ? s2 / (double)g.cols : 0) + eps);
        if (mo) mec_op_store_f64(mo->data, mo->dtype, r, m);
        if (io) mec_op_store_f64(io->data, io->dtype, r, inv);
        for (int64_t j = 0; j < g.cols; j++) {
            int64_t so = plain ? j : param_off(x, g.axis, g.sc_str, j);
            double v = (mec_op_load_f64(x->data, x->dtype, base + j) - m) * inv *
                       mec_op_load_f64(sc->data, sc->dtype, so);
            if (bi)
                v += mec_op_load_f64(bi->data, bi->dtype,
                                     plain ? j : param_off(x, g.axis, g.b_str, j));
            mec_op_store_f64(y->data, y->dtype, base + j, v);
        }
    }
    return MEC_OK;
}

/* ------------------------------------------------------------------ LRN */

static mec_status lrn_check(const mec_op_ctx *ctx, int64_t *size) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (!st) st = check_nc_input(ctx, 2);
    if (st) return st;
    if (!mec_node_attr(ctx->node, "size"))
        return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "attribute size is missing");
    *size = mec_node_int(ctx->node, "size", 1);
    if (*size < 1)
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "attribute size is %" PRId64 ", expected >= 1", *size);
    return MEC_OK;
}

static mec_status lrn_infer(mec_op_ctx *ctx) {
    int64_t size;
    mec_status st = lrn_check(ctx, &size);
    return st ? st : mec_op_output_like(ctx, 0, 0);
}

// y[n,c] = x[n,c] / (bias + alpha / size * sum_{c' near c} x[n,c']^2) ^ beta
static mec_status lrn_exec(mec_op_ctx *ctx) {
    int64_t size;
    mec_status st = lrn_check(ctx, &size);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    double alpha = mec_node_float(ctx->node, "alpha", 1e-4f);
    double beta = mec_node_float(ctx->node, "beta", 0.75f);
    double bias = mec_node_float(ctx->node, "bias", 1.0f);
    int64_t C = x->shape[1], sp = spatial_size(x), planes = x->shape[0] * C;
    int64_t lo = (size - 1) / 2, hi = size - 1 - lo;
    int nth = planes * sp * size >= 65536 ? mec_threads_get() : 1;
#pragma omp parallel for schedule(static) num_threads(nth) if (nth > 1)
    for (int64_t p = 0; p < planes; p++) {
        int64_t n = p / C, c = p % C;
        int64_t c0 = c - lo < 0 ? 0 : c - lo, c1 = c + hi >= C ? C - 1 : c + hi;
        for (int64_t i = 0; i < sp; i++) {
            double sq = 0;
            for (int64_t cc = c0; cc <= c1; cc++) {
                double v = mec_op_load_f64(x->data, x->dtype, (n * C + cc) * sp + i);
                sq += v * v;
            }
            double v = mec_op_load_f64(x->data, x->dtype, p * sp + i);
            mec_op_store_f64(y->data, y->dtype, p * sp + i,
                             v / pow(bias + alpha / (double)size * sq, beta));
        }
    }
    return MEC_OK;
}

/* -------------------------------------------- MeanVarianceNormalization */

static mec_status mvn_axes(const mec_op_ctx *ctx, bool *reduce) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (!st) st = mec_op_check_dtype(ctx, 0, float_types);
    if (st) return st;
    int rank = ctx->in[0]->ndim;
    const int64_t *axes = NULL;
    static const int64_t dflt[] = {0, 2, 3};
    int64_t n = mec_node_ints(ctx->node, "axes", &axes);
    if (n < 0) {
        axes = dflt;
        n = 3;
        if (rank < 4)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input 0 has %d dims; the default axes [0, 2, 3] need 4", rank);
    }
    memset(reduce, 0, sizeof(bool) * MEC_MAX_DIMS);
    for (int64_t i = 0; i < n; i++) {
        int a;
        if ((st = mec_op_axis(ctx, axes[i], rank, &a))) return st;
        reduce[a] = true;
    }
    return MEC_OK;
}

static mec_status mvn_infer(mec_op_ctx *ctx) {
    bool reduce[MEC_MAX_DIMS];
    mec_status st = mvn_axes(ctx, reduce);
    return st ? st : mec_op_output_like(ctx, 0, 0);
}

// y = (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9), moments over `axes`
static mec_status mvn_exec(mec_op_ctx *ctx) {
    bool reduce[MEC_MAX_DIMS];
    mec_status st = mvn_axes(ctx, reduce);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    int nk = 0, nr = 0, rank = x->ndim;
    int64_t kd[MEC_MAX_DIMS], ks[MEC_MAX_DIMS], rd[MEC_MAX_DIMS], rs[MEC_MAX_DIMS];
    int64_t kept = 1, red = 1;
    for (int d = 0; d < rank; d++) {
        if (reduce[d]) { rd[nr] = x->shape[d]; rs[nr++] = x->strides[d]; red *= x->shape[d]; }
        else { kd[nk] = x->shape[d]; ks[nk++] = x->strides[d]; kept *= x->shape[d]; }
    }
    for (int64_t k = 0; k < kept; k++) {
        int64_t base = 0, t = k;
        for (int d = nk - 1; d >= 0; d--) {
            base += (t % kd[d]) * ks[d];
            t /= kd[d];
        }
        double s = 0, s2 = 0;
        for (int pass = 0; pass < 2; pass++) {
            double m = red ? s / (double)red : 0;
            double sd = sqrt(fmax(red ? s2 / (double)red - m * m : 0, 0.0)) + 1e-9;
            for (int64_t r = 0; r < red; r++) {
                int64_t off = base, u = r;
                for (int d = nr - 1; d >= 0; d--) {
                    off += (u % rd[d]) * rs[d];
                    u /= rd[d];
                }
                double v = mec_op_load_f64(x->data, x->dtype, off);
                if (pass == 0) {
                    s += v;
                    s2 += v * v;
                } else {
                    mec_op_store_f64(y->data, y->dtype, off, (v - m) / sd);
                }
            }
        }
    }
    return MEC_OK;
}

const mec_kernel mec_kernels_norm[] = {
    /* BatchNormalization: 1-5 consumed_inputs/spatial, 6 is_test, 7-8
     * spatial, 9-13 any rank, 14 training_mode, 15 split parameter types. */
    {"BatchNormalization", "", 1, 13, "ref", 0, 0, bn_infer, bn_exec, NULL, NULL, NULL},
    {"BatchNormalization", "", 14, 17, "ref", 0, 0, bn_infer, bn_exec, NULL, NULL, NULL},
    {"InstanceNormalization", "", 1, 17, "ref", 0, 0, in_infer, in_exec, NULL, NULL, NULL},
    {"LayerNormalization", "", 17, 17, "ref", 0, 0, ln_infer, ln_exec, NULL, NULL, NULL},
    {"LRN", "", 1, 17, "ref", 0, 0, lrn_infer, lrn_exec, NULL, NULL, NULL},
    {"MeanVarianceNormalization", "", 9, 17, "ref", 0, 0, mvn_infer, mvn_exec, NULL, NULL, NULL},
    {0},
};
