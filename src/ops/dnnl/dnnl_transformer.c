/* Fast transformer kernels (impl "dnnl"): LayerNormalization (ONNX-17 and
 * mec) as one vectorised pass per row, OpenMP over rows; mec.Attention as
 * two batched oneDNN matmuls around a fused scale + mask + softmax row loop
 * (AVX-512 where the CPU has it). What they do not cover runs the reference
 * kernel (mec_dnnl_fallback_*). */
#include "dnnl_common.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

/* Rows in parallel only when there is enough work for the threads' start-up. */
#define TF_PAR_MIN_ELEMS ((int64_t)1 << 15)

static bool cpu_avx512(void) {
    static int has = -1; /* benign race: every thread computes the same value */
    if (has < 0) has = __builtin_cpu_supports("avx512f") ? 1 : 0;
    return has == 1;
}

static bool all_f32(const mec_op_ctx *ctx) {
    for (int i = 0; i < ctx->n_in; i++)
        if (ctx->in[i] && ctx->in[i]->dtype != MEC_F32) return false;
    for (int j = 0; j < ctx->n_out; j++)
        if (ctx->out[j] && ctx->out[j]->dtype != MEC_F32) return false;
    return true;
}

/* ------------------------------------------------------- LayerNormalization */

/* One row: y = LayerNorm(x [+ skip]) * g [+ b]; with a skip, the sum is
 * written to y first and normalised there. */
typedef void (*ln_row_fn)(const float *x, const float *skip, float *y, int64_t n, const float *g,
                          const float *b, float eps);

// y: (n) = (x - mean) / sqrt(var + eps) * g + b, two passes for the statistics
static void ln_row_c(const float *x, const float *skip, float *y, int64_t n, const float *g,
                     const float *b, float eps) {
    float s = 0.0f, s2 = 0.0f;
    if (skip) {
        for (int64_t j = 0; j < n; j++) y[j] = x[j] + skip[j];
        x = y;
    }
    for (int64_t j = 0; j < n; j++) s += x[j];
    float mean = s / (float)n;
    for (int64_t j = 0; j < n; j++) s2 += (x[j] - mean) * (x[j] - mean);
    float inv = 1.0f / sqrtf(s2 / (float)n + eps);
    for (int64_t j = 0; j < n; j++) y[j] = (x[j] - mean) * inv * g[j] + (b ? b[j] : 0.0f);
}

__attribute__((target("avx512f"))) static void ln_row_avx512(const float *x, const float *skip,
                                                             float *y, int64_t n, const float *g,
                                                             const float *b, float eps) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    int64_t j = 0;
    if (skip) {
        for (; j < n; j += 16) {
            __mmask16 m = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
            __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, x + j), _mm512_maskz_loadu_ps(m, skip + j));
            _mm512_mask_storeu_ps(y + j, m, v);
            a0 = _mm512_add_ps(a0, v);
        }
        x = y;
    }
    for (; j + 32 <= n; j += 32) {
        a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + j));
        a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + j + 16));
    }
    for (; j < n; j += 16) {
        __mmask16 m = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
        a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(m, x + j));
    }
    float mean = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1)) / (float)n;
    __m512 vm = _mm512_set1_ps(mean);
    a0 = a1 = _mm512_setzero_ps();
    for (j = 0; j + 32 <= n; j += 32) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + j), vm);
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(x + j + 16), vm);
        a0 = _mm512_fmadd_ps(d0, d0, a0);
        a1 = _mm512_fmadd_ps(d1, d1, a1);
    }
    for (; j < n; j += 16) {
        __mmask16 m = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
        __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + j), vm);
        a0 = _mm512_fmadd_ps(d, d, a0);
    }
    float var = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1)) / (float)n;
    __m512 vinv = _mm512_set1_ps(1.0f / sqrtf(var + eps));
    for (j = 0; j < n; j += 16) {
        __mmask16 m = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
        __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + j), vm), vinv);
        __m512 bb = b ? _mm512_maskz_loadu_ps(m, b + j) : _mm512_setzero_ps();
        _mm512_mask_storeu_ps(y + j, m, _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(m, g + j), bb));
    }
}

typedef struct ln_state {
    bool fallback;
    mec_dnnl_fallback fb;
    int64_t rows, cols;           /* the output as (rows, cols) */
    int64_t x_rows, skip_rows;    /* rows of X and Skip, repeated to fill the output's */
    float eps;
} ln_state;

static mec_status ln_infer(mec_op_ctx *ctx) { return mec_dnnl_ref_infer(ctx); }

static void ln_release(void *state) {
    ln_state *s = state;
    if (!s) return;
    mec_dnnl_fallback_release(&s->fb);
    mec_free(s);
}

/* True when t, broadcast to y's shape, only repeats whole blocks of rows:
 * t's shape without its leading 1s is a suffix of y's (position embeddings
 * (1, S, C) against (B, S, C)). */
static bool repeats_rows(const mec_tensor *t, const mec_tensor *y) {
    int lead = 0;
    while (lead < t->ndim && t->shape[lead] == 1 && t->ndim - lead > 1) lead++;
    int n = t->ndim - lead;
    if (n > y->ndim) return false;
    for (int d = 0; d < n; d++)
        if (t->shape[lead + d] != y->shape[y->ndim - n + d]) return false;
    return true;
}

/* The fast path: float32, normalising the last axis, Scale and B with one
 * value per column, no Mean/InvStdDev outputs; X and Skip (mec only)
 * broadcast by repeating rows. */
static bool ln_plan(const mec_op_ctx *ctx, ln_state *s) {
    const mec_tensor *x = ctx->in[0], *sc = ctx->in[1], *b = ctx->n_in > 2 ? ctx->in[2] : NULL;
    const mec_tensor *skip = ctx->n_in > 3 ? ctx->in[3] : NULL, *y = ctx->out[0];
    if (!all_f32(ctx) || y->ndim < 1 || !repeats_rows(x, y) || (skip && !repeats_rows(skip, y)))
        return false;
    for (int j = 1; j < ctx->n_out; j++)
        if (ctx->out[j]) return false;
    int64_t axis = mec_node_int(ctx->node, "axis", -1);
    if (axis != -1 && axis != y->ndim - 1) return false;
    s->cols = y->shape[y->ndim - 1];
    if (s->cols <= 0 || mec_tensor_numel(y) <= 0) return false;
    s->rows = mec_tensor_numel(y) / s->cols;
    s->x_rows = mec_tensor_numel(x) / s->cols;
    s->skip_rows = skip ? mec_tensor_numel(skip) / s->cols : 0;
    s->eps = mec_node_float(ctx->node, "epsilon", 1e-5f);
    return mec_tensor_numel(sc) == s->cols && (!b || mec_tensor_numel(b) == s->cols);
}

static mec_status ln_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    ln_state *s = mec_calloc(1, sizeof *s);
    if (!s) return MEC_ERR_NOMEM;
    *state = s;
    *scratch_bytes = 0;
    if (ln_plan(ctx, s)) return MEC_OK;
    s->fallback = true;
    mec_status st = mec_dnnl_fallback_prepare(ctx, &s->fb, scratch_bytes);
    if (st) {
        ln_release(s);
        *state = NULL;
    }
    return st;
}

// y: (..., C) = LayerNorm(x (..., C)) * scale (C) + b (C)
static mec_status ln_exec(mec_op_ctx *ctx) {
    ln_state *s = ctx->state;
    if (!s) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "exec without prepare");
    if (s->fallback) return mec_dnnl_fallback_exec(ctx, &s->fb);
    const float *x = ctx->in[0]->data, *g = ctx->in[1]->data;
    const float *b = ctx->n_in > 2 && ctx->in[2] ? ctx->in[2]->data : NULL;
    const float *skip = ctx->n_in > 3 && ctx->in[3] ? ctx->in[3]->data : NULL;
    float *y = ctx->out[0]->data;
    ln_row_fn row = cpu_avx512() ? ln_row_avx512 : ln_row_c;
    int64_t rows = s->rows, cols = s->cols, x_rows = s->x_rows, skip_rows = s->skip_rows;
    float eps = s->eps;
    int nth = rows > 1 && rows * cols >= TF_PAR_MIN_ELEMS ? mec_threads_get() : 1;
#pragma omp parallel for schedule(static) num_threads(nth) if (nth > 1)
    for (int64_t r = 0; r < rows; r++)
        row(x + r % x_rows * cols, skip ? skip + r % skip_rows * cols : NULL, y + r * cols, cols, g, b, eps);
    return MEC_OK;
}

/* ---------------------------------------------------------------- Attention */

/* One row of scores: s = softmax(s * scale + mask) with mask[j * mstride]
 * (mask NULL: none). */
typedef void (*sm_row_fn)(float *s, int64_t n, float scale, const float *mask, int64_t mstride);

static void sm_row_c(float *s, int64_t n, float scale, const float *mask, int64_t mstride) {
    float mx = -INFINITY, sum = 0.0f;
    for (int64_t j = 0; j < n; j++) {
        s[j] = s[j] * scale + (mask ? mask[j * mstride] : 0.0f);
        mx = s[j] > mx ? s[j] : mx;
    }
    for (int64_t j = 0; j < n; j++) {
        s[j] = expf(s[j] - mx);
        sum += s[j];
    }
    float inv = 1.0f / sum;
    for (int64_t j = 0; j < n; j++) s[j] *= inv;
}

/* exp(x) for x <= 0: 2^k * p(r), x = k ln2 + r, |r| <= ln2/2, p of degree 6
 * (relative error about 2e-7); below -87.3 it returns about 1e-38. */
__attribute__((target("avx512f"))) static inline __m512 exp512_neg(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145752f), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.42860677e-6f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, k);
}

__attribute__((target("avx512f"))) static void sm_row_avx512(float *s, int64_t n, float scale,
                                                             const float *mask, int64_t mstride) {
    __m512 vs = _mm512_set1_ps(scale), vmax = _mm512_set1_ps(-INFINITY);
    for (int64_t j = 0; j < n; j += 16) {
        __mmask16 m = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
        __m512 add = !mask ? _mm512_setzero_ps()
                     : mstride ? _mm512_maskz_loadu_ps(m, mask + j)
                               : _mm512_set1_ps(mask[0]);
        __m512 v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, s + j), vs, add);
        _mm512_mask_storeu_ps(s + j, m, v);
        vmax = _mm512_mask_max_ps(vmax, m, vmax, v);
    }
    __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vmax)), vsum = _mm512_setzero_ps();
    for (int64_t j = 0; j < n; j += 16) {
        __mmask16 m = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
        __m512 e = exp512_neg(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), mx));
        _mm512_mask_storeu_ps(s + j, m, e);
        vsum = _mm512_mask_add_ps(vsum, m, vsum, e);
    }
    __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
    for (int64_t j = 0; j < n; j += 16) {
        __mmask16 m = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
        _mm512_mask_storeu_ps(s + j, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, s + j), inv));
    }
}

typedef struct att_state {
    bool fallback;
    mec_dnnl_fallback fb;
    mec_dnnl_call qk, pv;         /* scores = Q @ Kt; Y = P @ V */
    int nd;                       /* rank of the scores */
    int64_t sshape[MEC_MAX_DIMS]; /* scores' shape */
    int64_t mstr[MEC_MAX_DIMS];   /* mask's element strides broadcast to it */
    int64_t rows, cols;           /* scores as (rows, T) */
    float scale;
    size_t sp_off;                /* scratch: scores, then the matmuls' scratchpad */
} att_state;

static mec_status att_infer(mec_op_ctx *ctx) { return mec_dnnl_ref_infer(ctx); }

static void att_release(void *state) {
    att_state *s = state;
    if (!s) return;
    mec_dnnl_fallback_release(&s->fb);
    mec_dnnl_call_release(&s->qk);
    mec_dnnl_call_release(&s->pv);
    mec_free(s);
}

/* A batched matmul (batch, M, K) x (batch, K, N) -> (batch, M, N), all dense. */
static dnnl_status_t att_matmul(mec_dnnl_call *c, dnnl_engine_t engine, int64_t batch, int64_t M,
                                int64_t K, int64_t N) {
    int64_t ad[3] = {batch, M, K}, bd[3] = {batch, K, N}, yd[3] = {batch, M, N};
    int64_t as[3] = {M * K, K, 1}, bs[3] = {K * N, N, 1}, ys[3] = {M * N, N, 1};
    dnnl_memory_desc_t a_md, b_md, y_md;
    dnnl_status_t s = mec_dnnl_md_raw(&a_md, 3, ad, as);
    if (s == dnnl_success) s = mec_dnnl_md_raw(&b_md, 3, bd, bs);
    if (s == dnnl_success) s = mec_dnnl_md_raw(&y_md, 3, yd, ys);
    dnnl_matmul_desc_t desc;
    if (s == dnnl_success) s = dnnl_matmul_desc_init(&desc, &a_md, &b_md, NULL, &y_md);
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    if (s == dnnl_success) s = mec_dnnl_attr(&attr);
    /* oneDNN's naive loops are slower than our reference kernels */
    if ((s = mec_dnnl_pd_create(s, &desc, attr, NULL, engine, &pd)) != dnnl_success) return s;
    if ((s = mec_dnnl_call_init(c, pd)) != dnnl_success) return s;
    s = mec_dnnl_call_arg(c, DNNL_ARG_SRC, &a_md);
    if (s == dnnl_success) s = mec_dnnl_call_arg(c, DNNL_ARG_WEIGHTS, &b_md);
    if (s == dnnl_success) s = mec_dnnl_call_arg(c, DNNL_ARG_DST, &y_md);
    return s;
}

/* The fast path: float32, Q, Kt and V of one rank >= 2 with the same batch
 * dims (no broadcasting), nothing empty. */
static dnnl_status_t att_build(mec_op_ctx *ctx, att_state *s, mec_status *st) {
    const mec_tensor *q = ctx->in[0], *kt = ctx->in[1], *v = ctx->in[2];
    const mec_tensor *mask = ctx->n_in > 3 ? ctx->in[3] : NULL;
    *st = MEC_OK;
    int nd = q->ndim;
    if (!all_f32(ctx) || nd < 2 || kt->ndim != nd || v->ndim != nd) return dnnl_unimplemented;
    int64_t batch = 1;
    for (int d = 0; d < nd - 2; d++) {
        if (kt->shape[d] != q->shape[d] || v->shape[d] != q->shape[d]) return dnnl_unimplemented;
        batch *= q->shape[d];
    }
    int64_t S = q->shape[nd - 2], D = q->shape[nd - 1], T = kt->shape[nd - 1], Dv = v->shape[nd - 1];
    if (batch <= 0 || S <= 0 || D <= 0 || T <= 0 || Dv <= 0 || v->shape[nd - 2] != T) return dnnl_unimplemented;
    dnnl_engine_t engine;
    if ((*st = mec_dnnl_env(ctx, &engine, NULL))) return dnnl_runtime_error;
    dnnl_status_t ds = att_matmul(&s->qk, engine, batch, S, D, T);
    if (ds == dnnl_success) ds = att_matmul(&s->pv, engine, batch, S, T, Dv);
    if (ds != dnnl_success) return ds;
    s->nd = nd;
    memcpy(s->sshape, q->shape, sizeof(int64_t) * (size_t)nd);
    s->sshape[nd - 1] = T;
    if (mask) mec_op_broadcast_strides(mask, nd, s->sshape, s->mstr);
    s->rows = batch * S;
    s->cols = T;
    s->scale = mec_node_float(ctx->node, "scale", 1.0f);
    s->sp_off = mec_dnnl_align((size_t)(s->rows * s->cols) * sizeof(float));
    mec_log(MEC_LOG_DEBUG, "node '%s' (%s): oneDNN %s / %s, %lld x %lld scores", ctx->node->name,
            ctx->node->op_type, s->qk.impl, s->pv.impl, (long long)s->rows, (long long)s->cols);
    return dnnl_success;
}

static mec_status att_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    att_state *s = mec_calloc(1, sizeof *s);
    if (!s) return MEC_ERR_NOMEM;
    *state = s;
    *scratch_bytes = 0;
    mec_status st = MEC_OK;
    dnnl_status_t ds = att_build(ctx, s, &st);
    if (!st && ds == dnnl_success) {
        size_t sp = s->qk.scratchpad_bytes > s->pv.scratchpad_bytes ? s->qk.scratchpad_bytes
                                                                    : s->pv.scratchpad_bytes;
        *scratch_bytes = s->sp_off + sp;
        return MEC_OK;
    }
    if (!st) {
        if (all_f32(ctx))
            mec_log(MEC_LOG_DEBUG, "node '%s' (%s): not for the fast kernel (%s); using the reference kernel",
                    ctx->node->name, ctx->node->op_type, dnnl_status2str(ds));
        mec_dnnl_call_release(&s->qk);
        mec_dnnl_call_release(&s->pv);
        s->fallback = true;
        st = mec_dnnl_fallback_prepare(ctx, &s->fb, scratch_bytes);
    }
    if (st) {
        att_release(s);
        *state = NULL;
    }
    return st;
}

// y: (..., S, Dv) = softmax(scale * q (..., S, D) @ kt (..., D, T) + mask) @ v (..., T, Dv)
static mec_status att_exec(mec_op_ctx *ctx) {
    att_state *s = ctx->state;
    if (!s) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "exec without prepare");
    if (s->fallback) return mec_dnnl_fallback_exec(ctx, &s->fb);
    char *scratch = ctx->scratch;
    if (!scratch) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "exec without its scratch memory");
    float *scores = (float *)scratch;
    void *sp = scratch + s->sp_off;
    void *a1[3] = {ctx->in[0]->data, ctx->in[1]->data, scores};
    dnnl_status_t ds = mec_dnnl_call_run(&s->qk, a1, sp);
    if (ds != dnnl_success) return mec_dnnl_error(ctx, ds, "running Q @ Kt");
    const mec_tensor *mask = ctx->n_in > 3 ? ctx->in[3] : NULL;
    const float *mv = mask ? mask->data : NULL;
    sm_row_fn row = cpu_avx512() ? sm_row_avx512 : sm_row_c;
    int nd = s->nd;
    int64_t rows = s->rows, cols = s->cols, mlast = mask ? s->mstr[nd - 1] : 0;
    float scale = s->scale;
    int nth = rows > 1 && rows * cols >= TF_PAR_MIN_ELEMS ? mec_threads_get() : 1;
#pragma omp parallel for schedule(static) num_threads(nth) if (nth > 1)
    for (int64_t r = 0; r < rows; r++) {
        const float *mrow = NULL;
        if (mv) {
            int64_t off = 0, i = r;
            for (int d = nd - 2; d >= 0; d--) {
                off += (i % s->sshape[d]) * s->mstr[d];
                i /= s->sshape[d];
            }
            mrow = mv + off;
        }
        row(scores + r * cols, cols, scale, mrow, mlast);
    }
    void *a2[3] = {scores, ctx->in[2]->data, ctx->out[0]->data};
    ds = mec_dnnl_call_run(&s->pv, a2, sp);
    if (ds != dnnl_success) return mec_dnnl_error(ctx, ds, "running P @ V");
    return MEC_OK;
}

const mec_kernel mec_kernels_dnnl_transformer[] = {
    {"LayerNormalization", "", 17, 17, "dnnl", 0, 0, ln_infer, ln_exec, ln_prepare, ln_release, mec_dnnl_ref_flops},
    {"LayerNormalization", "mec", 1, 1, "dnnl", 0, 0, ln_infer, ln_exec, ln_prepare, ln_release, mec_dnnl_ref_flops},
    {"Attention", "mec", 1, 1, "dnnl", 0, 0, att_infer, att_exec, att_prepare, att_release, mec_dnnl_ref_flops},
    {0},
};
