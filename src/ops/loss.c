/* Loss ops: reference NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss
 * (inference only: the forward loss value). Both reduce a class axis 1 of
 * (N, C, d1..dk) against integer targets (N, d1..dk); math runs in double. */
#include "op_util.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

static int64_t load_i(const void *p, mec_dtype t, int64_t i) {
    return t == MEC_I32 ? ((const int32_t *)p)[i] : ((const int64_t *)p)[i];
}

enum loss_reduction { RED_NONE, RED_SUM, RED_MEAN };

/* Geometry shared by both losses: x (N, C, D...) viewed as (N, C, D). */
typedef struct loss_geo {
    int64_t N, C, D;
    enum loss_reduction red;
    bool has_ignore;
    int64_t ignore_index;
    const mec_tensor *weight; /* (C) or NULL */
} loss_geo;

static mec_status loss_geometry(const mec_op_ctx *ctx, loss_geo *g) {
    mec_status st = mec_op_check_arity(ctx, 2, 3);
    if (st) return st;
    static const mec_dtype fl[] = {MEC_F32, MEC_F64, MEC_F16, MEC_BF16, 0};
    static const mec_dtype ix[] = {MEC_I32, MEC_I64, 0};
    if ((st = mec_op_check_dtype(ctx, 0, fl)) || (st = mec_op_check_dtype(ctx, 1, ix))) return st;
    const mec_tensor *x = ctx->in[0], *t = ctx->in[1];
    g->weight = ctx->n_in > 2 ? ctx->in[2] : NULL;
    if (x->ndim < 2)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input 0 has %d dims, expected at least 2 (N, C, ...)",
                          x->ndim);
    if (t->ndim != x->ndim - 1)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "target has %d dims, expected %d (input rank - 1)",
                          t->ndim, x->ndim - 1);
    for (int d = 0; d < t->ndim; d++) {
        int64_t want = x->shape[d == 0 ? 0 : d + 1];
        if (t->shape[d] != want)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "target dim %d is %" PRId64 ", input gives %" PRId64,
                              d, t->shape[d], want);
    }
    g->N = x->shape[0];
    g->C = x->shape[1];
    g->D = 1;
    for (int d = 2; d < x->ndim; d++) g->D *= x->shape[d];
    if (g->weight) {
        if (g->weight->dtype != x->dtype)
            return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "weight has dtype %s, input has %s",
                              mec_dtype_name(g->weight->dtype), mec_dtype_name(x->dtype));
        if (g->weight->ndim != 1 || g->weight->shape[0] != g->C)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "weight must have shape (%" PRId64 ")", g->C);
    }
    const char *red = mec_node_string(ctx->node, "reduction", "mean");
    if (!strcmp(red, "none")) g->red = RED_NONE;
    else if (!strcmp(red, "sum")) g->red = RED_SUM;
    else if (!strcmp(red, "mean")) g->red = RED_MEAN;
    else
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "reduction '%s' is not none, sum or mean", red);
    g->has_ignore = mec_node_attr(ctx->node, "ignore_index") != NULL;
    g->ignore_index = mec_node_int(ctx->node, "ignore_index", 0);
    return MEC_OK;
}

static mec_status loss_set_outputs(mec_op_ctx *ctx, const loss_geo *g) {
    const mec_tensor *x = ctx->in[0], *t = ctx->in[1];
    mec_status st = g->red == RED_NONE ? mec_op_set_output(ctx, 0, x->dtype, t->ndim, t->shape)
                                       : mec_op_set_output(ctx, 0, x->dtype, 0, NULL);
    if (st) return st;
    if (ctx->n_out > 1) st = mec_op_output_like(ctx, 1, 0); /* SCE log_prob */
    return st;
}

static mec_status nll_infer(mec_op_ctx *ctx) {
    loss_geo g;
    mec_status st = loss_geometry(ctx, &g);
    if (st) return st;
    if (ctx->n_out > 1)
        return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "has %d outputs, expected 1", ctx->n_out);
    return loss_set_outputs(ctx, &g);
}

static mec_status sce_infer(mec_op_ctx *ctx) {
    loss_geo g;
    mec_status st = loss_geometry(ctx, &g);
    if (st) return st;
    if (ctx->n_out > 2)
        return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "has %d outputs, expected 1 or 2", ctx->n_out);
    return loss_set_outputs(ctx, &g);
}

/* Shared tail: per-element loss -logp[n, t, d] * w[t] (0 where ignored),
 * then the reduction. logp(n, c, d) comes from `lp` (contiguous (N, C, D)
 * log-probabilities) or, when lp is NULL, from x through log-softmax. */
static mec_status loss_run(mec_op_ctx *ctx, const loss_geo *g, bool softmax) {
    const mec_tensor *x = ctx->in[0], *tg = ctx->in[1];
    mec_tensor *y = ctx->out[0];
    mec_tensor *lp = softmax && ctx->n_out > 1 ? ctx->out[1] : NULL;
    int64_t N = g->N, C = g->C, D = g->D;
    double total = 0.0, wsum = 0.0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t d = 0; d < D; d++) {
            int64_t base = n * C * D + d;
            double shift = 0.0;
            if (softmax) {
                double mx = -INFINITY, s = 0.0;
                for (int64_t c = 0; c < C; c++) {
                    double v = mec_op_load_f64(x->data, x->dtype, base + c * D);
                    if (v > mx) mx = v;
                }
                for (int64_t c = 0; c < C; c++)
                    s += exp(mec_op_load_f64(x->data, x->dtype, base + c * D) - mx);
                shift = mx + log(s);
                if (lp)
                    for (int64_t c = 0; c < C; c++)
                        mec_op_store_f64(lp->data, lp->dtype, base + c * D,
                                         mec_op_load_f64(x->data, x->dtype, base + c * D) - shift);
            }
            int64_t t = load_i(tg->data, tg->dtype, n * D + d);
            double loss = 0.0, w = 0.0;
            if (!(g->has_ignore && t == g->ignore_index)) {
                if (t < 0 || t >= C)
                    return MEC_OP_ERR(ctx, MEC_ERR_RANGE,
                                      "target %" PRId64 " at (%" PRId64 ", %" PRId64 ") is outside [0, %" PRId64 ")",
                                      t, n, d, C);
                w = g->weight ? mec_op_load_f64(g->weight->data, g->weight->dtype, t) : 1.0;
                loss = -(mec_op_load_f64(x->data, x->dtype, base + t * D) - shift) * w;
            }
            if (g->red == RED_NONE) mec_op_store_f64(y->data, y->dtype, n * D + d, loss);
            total += loss;
            wsum += w;
        }
    if (g->red == RED_SUM) mec_op_store_f64(y->data, y->dtype, 0, total);
    else if (g->red == RED_MEAN)
        mec_op_store_f64(y->data, y->dtype, 0, total / wsum); /* 0/0 = NaN, as ONNX */
    return MEC_OK;
}

// x: (N, C, d1..dk) log-probabilities, target: (N, d1..dk) -> loss: (N, d1..dk) or ()
static mec_status nll_exec(mec_op_ctx *ctx) {
    loss_geo g;
    mec_status st = loss_geometry(ctx, &g);
    return st ? st : loss_run(ctx, &g, false);
}

// scores: (N, C, d1..dk), labels: (N, d1..dk) -> loss, log_prob: (N, C, d1..dk)
static mec_status sce_exec(mec_op_ctx *ctx) {
    loss_geo g;
    mec_status st = loss_geometry(ctx, &g);
    return st ? st : loss_run(ctx, &g, true);
}

const mec_kernel mec_kernels_loss[] = {
    {"NegativeLogLikelihoodLoss", "", 12, 17, "ref", 0, 0, nll_infer, nll_exec, NULL, NULL, NULL},
    {"SoftmaxCrossEntropyLoss", "", 12, 17, "ref", 0, 0, sce_infer, sce_exec, NULL, NULL, NULL},
    {0},
};
