/* pool ops: reference MaxPool (with Indices), AveragePool, LpPool and their
 * Global forms, for any number of spatial dims. One generic window walker
 * serves them all; values are combined in double. */
#include "op_util.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

typedef enum pool_kind { POOL_MAX, POOL_AVG, POOL_LP } pool_kind;

/* x: (N, C, D1..Dn) -> y: (N, C, O1..On) */
typedef struct pool_geo {
    int nsp;
    int64_t N, C;
    int64_t in[MEC_MAX_DIMS], k[MEC_MAX_DIMS], s[MEC_MAX_DIMS], dl[MEC_MAX_DIMS];
    int64_t pb[MEC_MAX_DIMS], pe[MEC_MAX_DIMS], out[MEC_MAX_DIMS];
    int64_t in_sp, out_sp, kk;
} pool_geo;

/* Element access for the float dtypes plus int8/uint8, which only reach
 * MaxPool, whose results are input values. */
static inline double load_f(const void *p, mec_dtype t, int64_t i) {
    switch (t) {
    case MEC_I8: return ((const int8_t *)p)[i];
    case MEC_U8: return ((const uint8_t *)p)[i];
    default: return mec_op_load_f64(p, t, i);
    }
}

static inline void store_f(void *p, mec_dtype t, int64_t i, double v) {
    switch (t) {
    case MEC_I8: ((int8_t *)p)[i] = (int8_t)(isfinite(v) ? v : 0); break;
    case MEC_U8: ((uint8_t *)p)[i] = (uint8_t)(isfinite(v) ? v : 0); break;
    default: mec_op_store_f64(p, t, i, v); break;
    }
}

static mec_status check_input(const mec_op_ctx *ctx, pool_kind kind, pool_geo *g) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    static const mec_dtype fl[] = {MEC_F32, MEC_F64, MEC_F16, MEC_BF16, 0};
    static const mec_dtype mx[] = {MEC_F32, MEC_F64, MEC_F16, MEC_BF16, MEC_I8, MEC_U8, 0};
    if ((st = mec_op_check_dtype(ctx, 0, kind == POOL_MAX ? mx : fl))) return st;
    const mec_tensor *x = ctx->in[0];
    if (x->ndim < 3)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input 0 has %d dims, expected at least 3 (N, C, spatial...)",
                          x->ndim);
    memset(g, 0, sizeof *g);
    g->nsp = x->ndim - 2;
    g->N = x->shape[0];
    g->C = x->shape[1];
    g->in_sp = 1;
    for (int d = 0; d < g->nsp; d++) {
        g->in[d] = x->shape[2 + d];
        g->in_sp *= g->in[d];
    }
    return MEC_OK;
}

static mec_status pool_geometry(const mec_op_ctx *ctx, pool_kind kind, pool_geo *g) {
    mec_status st = check_input(ctx, kind, g);
    if (st) return st;
    int n = g->nsp;
    const int64_t *ks = NULL;
    int64_t nks = mec_node_ints(ctx->node, "kernel_shape", &ks);
    if (nks < 0) return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "attribute kernel_shape is missing");
    if ((st = mec_op_dims_attr(ctx, "kernel_shape", n, 1, 1, g->k))) return st;
    if ((st = mec_op_dims_attr(ctx, "strides", n, 1, 1, g->s))) return st;
    if ((st = mec_op_dims_attr(ctx, "dilations", n, 1, 1, g->dl))) return st;
    int64_t pads[2 * MEC_MAX_DIMS];
    if ((st = mec_op_dims_attr(ctx, "pads", 2 * n, 0, 0, pads))) return st;
    int64_t ceil_mode = mec_node_int(ctx->node, "ceil_mode", 0);
    if (ceil_mode != 0 && ceil_mode != 1)
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "attribute ceil_mode is %" PRId64 ", expected 0 or 1", ceil_mode);
    mec_auto_pad ap;
    if ((st = mec_op_auto_pad(ctx, &ap))) return st;
    bool same = ap == MEC_AUTO_PAD_SAME_UPPER || ap == MEC_AUTO_PAD_SAME_LOWER;
    bool valid = ap == MEC_AUTO_PAD_VALID;
    g->kk = g->out_sp = 1;
    for (int d = 0; d < n; d++) {
        int64_t eff = (g->k[d] - 1) * g->dl[d] + 1;
        g->pb[d] = valid ? 0 : pads[d];
        g->pe[d] = valid ? 0 : pads[n + d];
        if (g->pb[d] >= eff || g->pe[d] >= eff)
            return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "pads of spatial dim %d (%" PRId64 ", %" PRId64 ") must be smaller than the kernel extent %" PRId64,
                              d, g->pb[d], g->pe[d], eff);
        if (same) {
            g->out[d] = mec_op_same_pads(g->in[d], g->s[d], eff, ap == MEC_AUTO_PAD_SAME_UPPER,
                                         &g->pb[d], &g->pe[d]);
        } else {
            int64_t span = g->in[d] + g->pb[d] + g->pe[d] - eff;
            if (span < 0)
                return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "kernel extent %" PRId64 " in spatial dim %d is larger than the padded input (%" PRId64 ")",
                                  eff, d, span + eff);
            g->out[d] = (ceil_mode ? (span + g->s[d] - 1) / g->s[d] : span / g->s[d]) + 1;
            /* the last window must start inside the input or its leading pad */
            if (ceil_mode && (g->out[d] - 1) * g->s[d] >= g->in[d] + g->pb[d]) g->out[d]--;
        }
        g->kk *= g->k[d];
        g->out_sp *= g->out[d];
    }
    return MEC_OK;
}

/* Global pooling: one window covering every spatial position. */
static mec_status global_geometry(const mec_op_ctx *ctx, pool_kind kind, pool_geo *g) {
    mec_status st = check_input(ctx, kind, g);
    if (st) return st;
    g->kk = g->out_sp = 1;
    for (int d = 0; d < g->nsp; d++) {
        g->k[d] = g->in[d];
        g->s[d] = g->dl[d] = 1;
        g->out[d] = 1;
        g->kk *= g->k[d];
    }
    return MEC_OK;
}

static mec_status set_outputs(mec_op_ctx *ctx, const pool_geo *g) {
    int64_t shape[MEC_MAX_DIMS];
    shape[0] = g->N;
    shape[1] = g->C;
    for (int d = 0; d < g->nsp; d++) shape[2 + d] = g->out[d];
    mec_status st = mec_op_set_output(ctx, 0, ctx->in[0]->dtype, g->nsp + 2, shape);
    if (!st && ctx->n_out > 1) st = mec_op_set_output(ctx, 1, MEC_I64, g->nsp + 2, shape);
    return st;
}

/* Walks every window of every (n, c) plane. p is LpPool's exponent. */
static void pool_run(const mec_op_ctx *ctx, const pool_geo *g, pool_kind kind, double p,
                     bool count_include_pad, int storage_order) {
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    int64_t *ind = ctx->n_out > 1 && ctx->out[1] ? ctx->out[1]->data : NULL;
    int n = g->nsp;
    int64_t planes = g->N * g->C;
    /* column-major strides of the spatial dims for storage_order = 1 */
    int64_t cm[MEC_MAX_DIMS], acc = 1;
    for (int d = 0; d < n; d++) {
        cm[d] = acc;
        acc *= g->in[d];
    }
    int nth = planes * g->out_sp * g->kk >= 32768 ? mec_threads_get() : 1;
#pragma omp parallel for schedule(static) num_threads(nth) if (nth > 1)
    for (int64_t pl = 0; pl < planes; pl++) {
        int64_t oidx[MEC_MAX_DIMS] = {0};
        for (int64_t o = 0; o < g->out_sp; o++) {
            int64_t start[MEC_MAX_DIMS], kidx[MEC_MAX_DIMS] = {0};
            for (int d = 0; d < n; d++) start[d] = oidx[d] * g->s[d] - g->pb[d];
            double r = kind == POOL_MAX ? -INFINITY : 0.0;
            int64_t best = -1, counted = 0;
            for (int64_t kq = 0; kq < g->kk; kq++) {
                bool valid = true, padded = true;
                int64_t off = 0, offcm = 0;
                for (int d = 0; d < n; d++) {
                    int64_t ii = start[d] + kidx[d] * g->dl[d];
                    if (ii < 0 || ii >= g->in[d]) valid = false;
                    if (ii >= g->in[d] + g->pe[d]) padded = false;
                    off = off * g->in[d] + ii;
                    offcm += ii * cm[d];
                }
                if (valid) {
                    double v = load_f(x->data, x->dtype, pl * g->in_sp + off);
                    if (kind == POOL_MAX) {
                        if (v > r || best < 0) {
                            r = v;
                            best = storage_order ? offcm : off;
                        }
                    } else if (kind == POOL_AVG) {
                        r += v;
                    } else {
                        r += pow(fabs(v), p);
                    }
                    counted++;
                } else if (count_include_pad && padded) {
                    counted++;
                }
                for (int d = n - 1; d >= 0; d--) {
                    if (++kidx[d] < g->k[d]) break;
                    kidx[d] = 0;
                }
            }
            if (kind == POOL_AVG) r = counted ? r / (double)counted : 0.0;
            else if (kind == POOL_LP) r = pow(r, 1.0 / p);
            store_f(y->data, y->dtype, pl * g->out_sp + o, r);
            if (ind) ind[pl * g->out_sp + o] = pl * g->in_sp + (best < 0 ? 0 : best);
            for (int d = n - 1; d >= 0; d--) {
                if (++oidx[d] < g->out[d]) break;
                oidx[d] = 0;
            }
        }
    }
}

/* -------------------------------------------------------------- MaxPool */

static mec_status maxpool_infer(mec_op_ctx *ctx) {
    pool_geo g;
    mec_status st = pool_geometry(ctx, POOL_MAX, &g);
    if (st) return st;
    if (ctx->n_out > 2 || (ctx->n_out > 1 && ctx->opset < 8 && ctx->out[1]))
        return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "has %d outputs, expected %d", ctx->n_out, ctx->opset < 8 ? 1 : 2);
    int64_t so = mec_node_int(ctx->node, "storage_order", 0);
    if (so != 0 && so != 1)
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "attribute storage_order is %" PRId64 ", expected 0 or 1", so);
    return set_outputs(ctx, &g);
}

// y: (N, C, out...) = max over each window of x (N, C, in...); indices: flat (row- or column-major)
static mec_status maxpool_exec(mec_op_ctx *ctx) {
    pool_geo g;
    mec_status st = pool_geometry(ctx, POOL_MAX, &g);
    if (st) return st;
    pool_run(ctx, &g, POOL_MAX, 0, false, (int)mec_node_int(ctx->node, "storage_order", 0));
    return MEC_OK;
}

/* ---------------------------------------------------------- AveragePool */

static mec_status avgpool_infer(mec_op_ctx *ctx) {
    pool_geo g;
    mec_status st = pool_geometry(ctx, POOL_AVG, &g);
    return st ? st : set_outputs(ctx, &g);
}

static mec_status avgpool_exec(mec_op_ctx *ctx) {
    pool_geo g;
    mec_status st = pool_geometry(ctx, POOL_AVG, &g);
    if (st) return st;
    pool_run(ctx, &g, POOL_AVG, 0, mec_node_int(ctx->node, "count_include_pad", 0) != 0, 0);
    return MEC_OK;
}

/* --------------------------------------------------------------- LpPool */

static mec_status lp_exponent(const mec_op_ctx *ctx, double *p) {
    const mec_attr *a = mec_node_attr(ctx->node, "p");
    *p = 2.0;
    if (a && a->type == MEC_ATTR_FLOAT) *p = a->f;
    else if (a && a->type == MEC_ATTR_INT) *p = (double)a->i;
    if (!(*p > 0.0) || !isfinite(*p))
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "attribute p is %g, expected a positive number", *p);
    return MEC_OK;
}

static mec_status lppool_infer(mec_op_ctx *ctx) {
    pool_geo g;
    double p;
    mec_status st = pool_geometry(ctx, POOL_LP, &g);
    if (!st) st = lp_exponent(ctx, &p);
    return st ? st : set_outputs(ctx, &g);
}

static mec_status lppool_exec(mec_op_ctx *ctx) {
    pool_geo g;
    double p;
    mec_status st = pool_geometry(ctx, POOL_LP, &g);
    if (!st) st = lp_exponent(ctx, &p);
    if (st) return st;
    pool_run(ctx, &g, POOL_LP, p, false, 0);
    return MEC_OK;
}

/* --------------------------------------------------------------- Global */

#define GLOBAL_POOL(name, kind)                                                                  \
    static mec_status name##_infer(mec_op_ctx *ctx) {                                            \
        pool_geo g;                                                                              \
        double p = 2.0;                                                                          \
        mec_status st = global_geometry(ctx, kind, &g);                                          \
        if (!st && kind == POOL_LP) st = lp_exponent(ctx, &p);                                   \
        return st ? st : set_outputs(ctx, &g);                                                   \
    }                                                                                            \
    static mec_status name##_exec(mec_op_ctx *ctx) {                                             \
        pool_geo g;                                                                              \
        double p = 2.0;                                                                          \
        mec_status st = global_geometry(ctx, kind, &g);                                          \
        if (!st && kind == POOL_LP) st = lp_exponent(ctx, &p);                                   \
        if (st) return st;                                                                       \
        pool_run(ctx, &g, kind, p, false, 0);                                                    \
        return MEC_OK;                                                                           \
    }

GLOBAL_POOL(gmaxpool, POOL_MAX)
GLOBAL_POOL(gavgpool, POOL_AVG)
GLOBAL_POOL(glppool, POOL_LP)

const mec_kernel mec_kernels_pool[] = {
    /* MaxPool gained the Indices output in opset 8 (and dilations/ceil_mode
     * in 10, int8/uint8 in 12, handled for every version). */
    {"MaxPool", "", 1, 7, "ref", 0, 0, maxpool_infer, maxpool_exec, NULL, NULL, NULL},
    {"MaxPool", "", 8, 17, "ref", 0, 0, maxpool_infer, maxpool_exec, NULL, NULL, NULL},
    {"AveragePool", "", 1, 17, "ref", 0, 0, avgpool_infer, avgpool_exec, NULL, NULL, NULL},
    /* LpPool-1 has a float p, LpPool-2 an int p; both are read here. */
    {"LpPool", "", 1, 1, "ref", 0, 0, lppool_infer, lppool_exec, NULL, NULL, NULL},
    {"LpPool", "", 2, 17, "ref", 0, 0, lppool_infer, lppool_exec, NULL, NULL, NULL},
    {"GlobalMaxPool", "", 1, 17, "ref", 0, 0, gmaxpool_infer, gmaxpool_exec, NULL, NULL, NULL},
    {"GlobalAveragePool", "", 1, 17, "ref", 0, 0, gavgpool_infer, gavgpool_exec, NULL, NULL, NULL},
    {"GlobalLpPool", "", 1, 1, "ref", 0, 0, glppool_infer, glppool_exec, NULL, NULL, NULL},
    {"GlobalLpPool", "", 2, 17, "ref", 0, 0, glppool_infer, glppool_exec, NULL, NULL, NULL},
    {0},
};
