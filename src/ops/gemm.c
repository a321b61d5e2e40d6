/* gemm ops: reference Gemm and MatMul. float32 runs on mec_sgemm; other
 * dtypes (float64, float16, integer MatMul) on a plain triple loop. */
#include "op_util.h"
#include "sgemm.h"

#include <inttypes.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Element i of a contiguous integer tensor of dtype t as int64, and the
 * store back (float elements go through mec_op_load_f64/mec_op_store_f64). */
static int64_t load_i(const void *p, mec_dtype t, int64_t i) {
    switch (t) {
    case MEC_I32: return ((const int32_t *)p)[i];
    case MEC_I64: return ((const int64_t *)p)[i];
    case MEC_U32: return ((const uint32_t *)p)[i];
    case MEC_U64: return (int64_t)((const uint64_t *)p)[i];
    default: return 0;
    }
}

static void store_i(void *p, mec_dtype t, int64_t i, int64_t v) {
    switch (t) {
    case MEC_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    case MEC_I64: ((int64_t *)p)[i] = v; break;
    case MEC_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case MEC_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
    default: break;
    }
}

static bool is_int(mec_dtype t) {
    return t == MEC_I32 || t == MEC_I64 || t == MEC_U32 || t == MEC_U64;
}

/* y[ym, yn] (+)= alpha * op(a) op(b) for any supported dtype (slow path). */
static void gemm_generic(mec_dtype t, bool ta, bool tb, int64_t M, int64_t N, int64_t K,
                         double alpha, const void *a, int64_t aoff, const void *b, int64_t boff,
                         bool accumulate, void *y, int64_t yoff) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            int64_t ai = aoff + (ta ? i : i * K), bj = boff + (tb ? j * K : j);
            int64_t as = ta ? M : 1, bs = tb ? 1 : N;
            if (is_int(t)) {
                int64_t s = accumulate ? load_i(y, t, yoff + i * N + j) : 0;
                for (int64_t k = 0; k < K; k++)
                    s += load_i(a, t, ai + k * as) * load_i(b, t, bj + k * bs);
                store_i(y, t, yoff + i * N + j, s);
            } else {
                double s = 0;
                for (int64_t k = 0; k < K; k++)
                    s += mec_op_load_f64(a, t, ai + k * as) * mec_op_load_f64(b, t, bj + k * bs);
                s *= alpha;
                if (accumulate) s += mec_op_load_f64(y, t, yoff + i * N + j);
                mec_op_store_f64(y, t, yoff + i * N + j, s);
            }
        }
}

/* ----------------------------------------------------------------- Gemm */

typedef struct gemm_geo {
    int64_t M, N, K;
    bool ta, tb;
    int64_t c_rs, c_cs; /* strides of C broadcast to (M, N) */
} gemm_geo;

static mec_status gemm_geometry(const mec_op_ctx *ctx, gemm_geo *g) {
    mec_status st = mec_op_check_arity(ctx, 2, 3);
    if (st) return st;
    static const mec_dtype ok[] = {MEC_F32, MEC_F64, MEC_F16, MEC_BF16, 0};
    const mec_tensor *a = ctx->in[0], *b = ctx->in[1], *c = ctx->n_in > 2 ? ctx->in[2] : NULL;
    for (int i = 0; i < ctx->n_in; i++) {
        if (!ctx->in[i]) continue;
        if ((st = mec_op_check_dtype(ctx, i, ok))) return st;
        if (ctx->in[i]->dtype != a->dtype)
            return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "input %d has dtype %s, input 0 has %s", i,
                              mec_dtype_name(ctx->in[i]->dtype), mec_dtype_name(a->dtype));
    }
    if (a->ndim != 2 || b->ndim != 2)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "inputs A and B must be 2-D, have %d and %d dims",
                          a->ndim, b->ndim);
    g->ta = mec_node_int(ctx->node, "transA", 0) != 0;
    g->tb = mec_node_int(ctx->node, "transB", 0) != 0;
    g->M = g->ta ? a->shape[1] : a->shape[0];
    g->K = g->ta ? a->shape[0] : a->shape[1];
    int64_t kb = g->tb ? b->shape[1] : b->shape[0];
    g->N = g->tb ? b->shape[0] : b->shape[1];
    if (kb != g->K)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "A gives K = %" PRId64 " but B gives K = %" PRId64
                          " (transA %d, transB %d)", g->K, kb, g->ta, g->tb);
    g->c_rs = g->c_cs = 0;
    if (c) {
        if (c->ndim > 2)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input C has %d dims, expected at most 2", c->ndim);
        int64_t cr = c->ndim == 2 ? c->shape[0] : 1, cc = c->ndim >= 1 ? c->shape[c->ndim - 1] : 1;
        if ((cr != 1 && cr != g->M) || (cc != 1 && cc != g->N)) {
            char s[100];
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input C of shape %s cannot be broadcast to (%" PRId64 ", %" PRId64 ")",
                              mec_shape_str(c->ndim, c->shape, s, sizeof s), g->M, g->N);
        }
        g->c_cs = cc == 1 ? 0 : 1;
        g->c_rs = cr == 1 ? 0 : cc;
    }
    return MEC_OK;
}

static mec_status gemm_infer(mec_op_ctx *ctx) {
    gemm_geo g;
    mec_status st = gemm_geometry(ctx, &g);
    if (st) return st;
    int64_t shape[2] = {g.M, g.N};
    return mec_op_set_output(ctx, 0, ctx->in[0]->dtype, 2, shape);
}

// y: (M, N) = alpha * op(A) (M, K) op(B) (K, N) + beta * C (broadcast to (M, N))
static mec_status gemm_exec(mec_op_ctx *ctx) {
    gemm_geo g;
    mec_status st = gemm_geometry(ctx, &g);
    if (st) return st;
    const mec_tensor *a = ctx->in[0], *b = ctx->in[1], *c = ctx->n_in > 2 ? ctx->in[2] : NULL;
    mec_tensor *y = ctx->out[0];
    float alpha = mec_node_float(ctx->node, "alpha", 1.0f);
    float beta = mec_node_float(ctx->node, "beta", 1.0f);
    bool with_c = c && beta != 0.0f;
    if (with_c)
        for (int64_t i = 0; i < g.M; i++)
            for (int64_t j = 0; j < g.N; j++)
                mec_op_store_f64(y->data, y->dtype, i * g.N + j,
                                 (double)beta *
                                     mec_op_load_f64(c->data, c->dtype, i * g.c_rs + j * g.c_cs));
    if (a->dtype == MEC_F32) {
        mec_sgemm(g.ta, g.tb, g.M, g.N, g.K, alpha, a->data, a->shape[1], b->data, b->shape[1],
                  with_c ? 1.0f : 0.0f, y->data, g.N);
    } else {
        gemm_generic(a->dtype, g.ta, g.tb, g.M, g.N, g.K, alpha, a->data, 0, b->data, 0, with_c,
                     y->data, 0);
    }
    return MEC_OK;
}

static int64_t gemm_flops(const mec_op_ctx *ctx) {
    gemm_geo g;
    if (gemm_geometry(ctx, &g)) return 0;
    return 2 * g.M * g.N * g.K;
}

/* --------------------------------------------------------------- MatMul */

typedef struct matmul_geo {
    int64_t M, N, K, batch;
    int nb;                              /* batch dims of the output */
    int64_t bshape[MEC_MAX_DIMS];        /* broadcast batch shape */
    int64_t astr[MEC_MAX_DIMS], bstr[MEC_MAX_DIMS]; /* matrix strides per batch dim (0 = broadcast) */
    int out_ndim;
    int64_t out_shape[MEC_MAX_DIMS];
} matmul_geo;

static mec_status matmul_geometry(const mec_op_ctx *ctx, matmul_geo *g) {
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (st) return st;
    static const mec_dtype ok[] = {MEC_F32, MEC_F64, MEC_F16, MEC_BF16, MEC_I32,
                                   MEC_I64, MEC_U32, MEC_U64, 0};
    const mec_tensor *a = ctx->in[0], *b = ctx->in[1];
    if ((st = mec_op_check_dtype(ctx, 0, ok))) return st;
    if (b->dtype != a->dtype)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "inputs have dtypes %s and %s", mec_dtype_name(a->dtype),
                          mec_dtype_name(b->dtype));
    if (a->ndim < 1 || b->ndim < 1)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "inputs must have at least 1 dim, have %d and %d",
                          a->ndim, b->ndim);
    /* 1-D A is (1, K); 1-D B is (K, 1); the added dims are dropped again. */
    int64_t as[MEC_MAX_DIMS], bs[MEC_MAX_DIMS];
    int an = a->ndim, bn = b->ndim;
    if (an == 1) { as[0] = 1; as[1] = a->shape[0]; an = 2; }
    else memcpy(as, a->shape, sizeof(int64_t) * (size_t)an);
    if (bn == 1) { bs[0] = b->shape[0]; bs[1] = 1; bn = 2; }
    else memcpy(bs, b->shape, sizeof(int64_t) * (size_t)bn);
    g->M = as[an - 2];
    g->K = as[an - 1];
    g->N = bs[bn - 1];
    if (bs[bn - 2] != g->K) {
        char s1[160], s2[160];
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "shapes %s and %s do not match for MatMul (K %" PRId64 " vs %" PRId64 ")",
                          mec_shape_str(a->ndim, a->shape, s1, sizeof s1),
                          mec_shape_str(b->ndim, b->shape, s2, sizeof s2), g->K, bs[bn - 2]);
    }
    if ((st = mec_op_broadcast(ctx, an - 2, as, bn - 2, bs, &g->nb, g->bshape))) return st;
    /* batch strides in matrices */
    int64_t sa = 1, sb = 1;
    for (int d = g->nb - 1; d >= 0; d--) {
        int ia = d - (g->nb - (an - 2)), ib = d - (g->nb - (bn - 2));
        int64_t da = ia >= 0 ? as[ia] : 1, db = ib >= 0 ? bs[ib] : 1;
        g->astr[d] = da == 1 ? 0 : sa;
        g->bstr[d] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
    }
    g->batch = 1;
    int n = 0;
    for (int d = 0; d < g->nb; d++) {
        g->batch *= g->bshape[d];
        g->out_shape[n++] = g->bshape[d];
    }
    if (a->ndim > 1) g->out_shape[n++] = g->M;
    if (b->ndim > 1) g->out_shape[n++] = g->N;
    g->out_ndim = n;
    return MEC_OK;
}

static mec_status matmul_infer(mec_op_ctx *ctx) {
    matmul_geo g;
    mec_status st = matmul_geometry(ctx, &g);
    return st ? st : mec_op_set_output(ctx, 0, ctx->in[0]->dtype, g.out_ndim, g.out_shape);
}

static void batch_offsets(const matmul_geo *g, int64_t bi, int64_t *ao, int64_t *bo) {
    int64_t oa = 0, ob = 0;
    for (int d = g->nb - 1; d >= 0; d--) {
        int64_t i = bi % g->bshape[d];
        bi /= g->bshape[d];
        oa += i * g->astr[d];
        ob += i * g->bstr[d];
    }
    *ao = oa * g->M * g->K;
    *bo = ob * g->K * g->N;
}

// y: (..., M, N) = a (..., M, K) @ b (..., K, N), batch dims broadcast
static mec_status matmul_exec(mec_op_ctx *ctx) {
    matmul_geo g;
    mec_status st = matmul_geometry(ctx, &g);
    if (st) return st;
    const mec_tensor *a = ctx->in[0], *b = ctx->in[1];
    mec_tensor *y = ctx->out[0];
    int64_t mn = g.M * g.N;
    if (a->dtype != MEC_F32) {
        for (int64_t bi = 0; bi < g.batch; bi++) {
            int64_t ao, bo;
            batch_offsets(&g, bi, &ao, &bo);
            gemm_generic(a->dtype, false, false, g.M, g.N, g.K, 1.0, a->data, ao, b->data, bo,
                         false, y->data, bi * mn);
        }
        return MEC_OK;
    }
    const float *ad = a->data, *bd = b->data;
    float *yd = y->data;
    /* B shared by every batch and A not broadcast: one GEMM with M * batch rows. */
    bool b_shared = true, a_full = true;
    for (int d = 0; d < g.nb; d++) {
        if (g.bstr[d]) b_shared = false;
        if (!g.astr[d] && g.bshape[d] != 1) a_full = false;
    }
    if (b_shared && a_full) {
        mec_sgemm(false, false, g.M * g.batch, g.N, g.K, 1.0f, ad, g.K, bd, g.N, 0.0f, yd, g.N);
        return MEC_OK;
    }
    /* Many small products: one per thread; large ones: parallel inside. */
    bool small = (double)g.M * (double)g.N * (double)g.K < 1048576.0;
    int nth = small && g.batch > 1 ? mec_threads_get() : 1;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nth) if (nth > 1)
    for (int64_t bi = 0; bi < g.batch; bi++) {
        int64_t ao, bo;
        batch_offsets(&g, bi, &ao, &bo);
        mec_sgemm(false, false, g.M, g.N, g.K, 1.0f, ad + ao, g.K, bd + bo, g.N, 0.0f,
                  yd + bi * mn, g.N);
    }
    return MEC_OK;
}

static int64_t matmul_flops(const mec_op_ctx *ctx) {
    matmul_geo g;
    if (matmul_geometry(ctx, &g)) return 0;
    return 2 * g.batch * g.M * g.N * g.K;
}

const mec_kernel mec_kernels_gemm[] = {
    /* Gemm-1..6 carry a `broadcast` attribute; C always broadcasts here.
     * C became optional in opset 11; it is accepted as optional throughout. */
    {"Gemm", "", 1, 10, "ref", 0, 0, gemm_infer, gemm_exec, NULL, NULL, gemm_flops},
    {"Gemm", "", 11, 17, "ref", 0, 0, gemm_infer, gemm_exec, NULL, NULL, gemm_flops},
    {"MatMul", "", 1, 17, "ref", 0, 0, matmul_infer, matmul_exec, NULL, NULL, matmul_flops},
    {0},
};
