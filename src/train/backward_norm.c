/* Normalisation for training: BatchNormalization forward in training mode
 * (batch statistics, running statistics updated with momentum as PyTorch
 * does: unbiased variance) and inference mode, its backward in both modes,
 * and LayerNormalization backward. */
#include "../ops/op_util.h"
#include "train_internal.h"

#include <math.h>
#include <string.h>

#define PAR_MIN 32768

typedef struct bn_saved {
    int64_t C;
    float *mean, *invstd; /* point into data */
    float data[];
} bn_saved;

static void bn_dims(const mec_tensor *x, int64_t *N, int64_t *C, int64_t *S) {
    *N = x->shape[0];
    *C = x->ndim > 1 ? x->shape[1] : 1;
    *S = 1;
    for (int d = 2; d < x->ndim; d++) *S *= x->shape[d];
}

// x, y: (N, C, d...); scale, B, running mean, running var: (C)
static mec_status bn_forward(mec_op_ctx *ctx, bool training, uint64_t *rng, void **saved) {
    (void)rng;
    if (ctx->n_in < 5) return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "BatchNormalization needs 5 inputs");
    const mec_tensor *x = ctx->in[0];
    for (int i = 0; i < 5; i++)
        if (!ctx->in[i] || ctx->in[i]->dtype != MEC_F32)
            return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "training supports float32 BatchNormalization only");
    int64_t N, C, S;
    bn_dims(x, &N, &C, &S);
    for (int i = 1; i < 5; i++)
        if (mec_tensor_numel(ctx->in[i]) != C)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input %d has %lld values, expected C = %lld", i,
                              (long long)mec_tensor_numel(ctx->in[i]), (long long)C);
    float eps = mec_node_float(ctx->node, "epsilon", 1e-5f);
    float momentum = mec_node_float(ctx->node, "momentum", 0.9f);
    const float *xv = x->data, *scale = ctx->in[1]->data, *bias = ctx->in[2]->data;
    float *rmean = ctx->in[3]->data, *rvar = ctx->in[4]->data; /* buffers: updated in place */
    float *y = ctx->out[0]->data;
    bn_saved *s = NULL;
    if (training) {
        s = mec_malloc(sizeof *s + (size_t)(2 * C) * sizeof(float));
        if (!s) return MEC_ERR_NOMEM;
        s->C = C;
        s->mean = s->data;
        s->invstd = s->data + C;
    }
#pragma omp parallel for schedule(static) if (N * C * S >= PAR_MIN)
    for (int64_t c = 0; c < C; c++) {
        double mean, var;
        if (training) {
            double sum = 0.0, sq = 0.0;
            for (int64_t n = 0; n < N; n++) {
                const float *r = xv + (n * C + c) * S;
                for (int64_t i = 0; i < S; i++) sum += r[i];
            }
            int64_t m = N * S;
            mean = sum / (double)m;
            for (int64_t n = 0; n < N; n++) {
                const float *r = xv + (n * C + c) * S;
                for (int64_t i = 0; i < S; i++) sq += (r[i] - mean) * (r[i] - mean);
            }
            var = sq / (double)m;
            double unbiased = m > 1 ? sq / (double)(m - 1) : var;
            rmean[c] = (float)(momentum * rmean[c] + (1.0 - momentum) * mean);
            rvar[c] = (float)(momentum * rvar[c] + (1.0 - momentum) * unbiased);
        } else {
            mean = rmean[c];
            var = rvar[c];
        }
        float invstd = (float)(1.0 / sqrt(var + eps));
        if (s) {
            s->mean[c] = (float)mean;
            s->invstd[c] = invstd;
        }
        float a = scale[c] * invstd, b = bias[c] - (float)mean * a;
        for (int64_t n = 0; n < N; n++) {
            const float *r = xv + (n * C + c) * S;
            float *o = y + (n * C + c) * S;
            for (int64_t i = 0; i < S; i++) o[i] = r[i] * a + b;
        }
    }
    /* training-mode outputs (opset 14+): the updated running statistics */
    for (int j = 1; j < 3 && j < ctx->n_out; j++)
        if (ctx->out[j] && ctx->out[j]->data && mec_tensor_numel(ctx->out[j]) == C)
            memcpy(ctx->out[j]->data, j == 1 ? rmean : rvar, (size_t)C * sizeof(float));
    *saved = s;
    return MEC_OK;
}

// dy: (N, C, d...) -> dx (same), dscale, dB: (C)
static mec_status bn_backward(mec_bw_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    int64_t N, C, S;
    bn_dims(x, &N, &C, &S);
    const bn_saved *s = ctx->saved;
    float eps = mec_node_float(ctx->node, "epsilon", 1e-5f);
    const float *xv = x->data, *scale = ctx->in[1]->data, *g = ctx->dout[0]->data;
    const float *rmean = ctx->in[3]->data, *rvar = ctx->in[4]->data;
    float *dx = ctx->din[0] ? ctx->din[0]->data : NULL;
    float *dscale = ctx->din[1] ? ctx->din[1]->data : NULL;
    float *db = ctx->din[2] ? ctx->din[2]->data : NULL;
    if (s && s->C != C) return mec_bw_error(ctx, MEC_ERR_INTERNAL, "saved statistics do not match");
    int64_t m = N * S;
#pragma omp parallel for schedule(static) if (N * C * S >= PAR_MIN)
    for (int64_t c = 0; c < C; c++) {
        float mean = s ? s->mean[c] : rmean[c];
        float invstd = s ? s->invstd[c] : 1.0f / sqrtf(rvar[c] + eps);
        double sum_g = 0.0, sum_gx = 0.0;
        for (int64_t n = 0; n < N; n++) {
            const float *r = xv + (n * C + c) * S, *gr = g + (n * C + c) * S;
            for (int64_t i = 0; i < S; i++) {
                sum_g += gr[i];
                sum_gx += gr[i] * (r[i] - mean) * invstd;
            }
        }
        if (dscale) dscale[c] += (float)sum_gx;
        if (db) db[c] += (float)sum_g;
        if (!dx) continue;
        float k = scale[c] * invstd;
        float mg = (float)(sum_g / (double)m), mgx = (float)(sum_gx / (double)m);
        for (int64_t n = 0; n < N; n++) {
            const float *r = xv + (n * C + c) * S, *gr = g + (n * C + c) * S;
            float *d = dx + (n * C + c) * S;
            if (s)
                for (int64_t i = 0; i < S; i++) d[i] += k * (gr[i] - mg - (r[i] - mean) * invstd * mgx);
            else
                for (int64_t i = 0; i < S; i++) d[i] += k * gr[i];
        }
    }
    return MEC_OK;
}

/* --------------------------------------------------- LayerNormalization */

// x, y: (rows, D) with D = product of dims from axis; scale, B: D values
static mec_status ln_backward(mec_bw_ctx *ctx) {
    const mec_tensor *x = ctx->in[0], *sc = ctx->in[1];
    const mec_tensor *b = ctx->n_in > 2 ? ctx->in[2] : NULL;
    int64_t axis = mec_node_int(ctx->node, "axis", -1);
    if (axis < 0) axis += x->ndim;
    if (axis < 0 || axis >= x->ndim) return mec_bw_error(ctx, MEC_ERR_RANGE, "axis out of range");
    float eps = mec_node_float(ctx->node, "epsilon", 1e-5f);
    int64_t rows = 1, D = 1;
    for (int d = 0; d < axis; d++) rows *= x->shape[d];
    for (int d = (int)axis; d < x->ndim; d++) D *= x->shape[d];
    if (mec_tensor_numel(sc) != D || (b && mec_tensor_numel(b) != D))
        return mec_bw_error(ctx, MEC_ERR_UNSUPPORTED, "scale/bias must have the normalized shape (%lld values)", (long long)D);
    const float *xv = x->data, *scale = sc->data, *g = ctx->dout[0]->data;
    float *dx = ctx->din[0] ? ctx->din[0]->data : NULL;
    float *dscale = ctx->din[1] ? ctx->din[1]->data : NULL;
    float *db = ctx->n_in > 2 && ctx->din[2] ? ctx->din[2]->data : NULL;
    float *stat = mec_malloc((size_t)(2 * rows) * sizeof(float));
    if (!stat) return MEC_ERR_NOMEM;
    float *mean = stat, *invstd = stat + rows;
#pragma omp parallel for schedule(static) if (rows * D >= PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = xv + r * D;
        double s = 0.0, sq = 0.0;
        for (int64_t j = 0; j < D; j++) s += xr[j];
        double mu = s / (double)D;
        for (int64_t j = 0; j < D; j++) sq += (xr[j] - mu) * (xr[j] - mu);
        mean[r] = (float)mu;
        invstd[r] = (float)(1.0 / sqrt(sq / (double)D + eps));
        if (!dx) continue;
        const float *gr = g + r * D;
        float sum_d = 0.0f, sum_dx = 0.0f;
        for (int64_t j = 0; j < D; j++) {
            float dxh = gr[j] * scale[j];
            sum_d += dxh;
            sum_dx += dxh * (xr[j] - mean[r]) * invstd[r];
        }
        float md = sum_d / (float)D, mdx = sum_dx / (float)D;
        float *dr = dx + r * D;
        for (int64_t j = 0; j < D; j++) {
            float xh = (xr[j] - mean[r]) * invstd[r];
            dr[j] += invstd[r] * (gr[j] * scale[j] - md - xh * mdx);
        }
    }
    if (dscale || db) {
#pragma omp parallel for schedule(static) if (rows * D >= PAR_MIN)
        for (int64_t j = 0; j < D; j++) {
            float s_gx = 0.0f, s_g = 0.0f;
            for (int64_t r = 0; r < rows; r++) {
                float gv = g[r * D + j];
                s_g += gv;
                s_gx += gv * (xv[r * D + j] - mean[r]) * invstd[r];
            }
            if (dscale) dscale[j] += s_gx;
            if (db) db[j] += s_g;
        }
    }
    mec_free(stat);
    return MEC_OK;
}

const mec_bw_op mec_bw_ops_norm[] = {
    {"BatchNormalization", 7u, bn_backward, bn_forward},
    {"LayerNormalization", 7u, ln_backward, NULL},
    {NULL, 0, NULL, NULL},
};
