/* MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool on oneDNN: 2-D
 * float32, channels-last in gives channels-last out. ceil_mode becomes extra
 * end padding. The Indices output, other dtypes and ranks, and average
 * pooling that would count the extra ceil_mode padding run the reference
 * kernel. Global pooling over contiguous NCHW is a plain loop per plane
 * (oneDNN's plain-layout pooling is slow). */
#include "dnnl_common.h"

#include <string.h>

typedef struct pool_state {
    bool fallback;
    bool plain_global; /* global pool over contiguous NCHW: a loop per (n, c) row */
    mec_dnnl_fallback fb;
    mec_dnnl_call call;
    int64_t out_strides[4];
} pool_state;

typedef struct pool2d {
    dnnl_alg_kind_t alg;
    int64_t k[2], s[2], dl[2], pb[2], pe[2];
} pool2d;

static bool is_global(const mec_op_ctx *ctx) { return !strncmp(ctx->node->op_type, "Global", 6); }
static bool is_max(const mec_op_ctx *ctx) { return strstr(ctx->node->op_type, "Max") != NULL; }

static bool pool_handled(const mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    if (x->ndim != 4 || x->dtype != MEC_F32 || !ctx->out[0]) return false;
    for (int j = 1; j < ctx->n_out; j++)
        if (ctx->out[j]) return false; /* MaxPool's Indices */
    return mec_tensor_numel(x) > 0 && mec_tensor_numel(ctx->out[0]) > 0;
}

/* Window geometry exactly as the reference pool.c reads it (attributes were
 * checked by the reference infer); false when oneDNN's padding cannot match
 * the reference's averaging. */
static bool pool_geometry(const mec_op_ctx *ctx, pool2d *g) {
    const mec_tensor *x = ctx->in[0], *y = ctx->out[0];
    const mec_node *n = ctx->node;
    bool include_pad = !is_max(ctx) && mec_node_int(n, "count_include_pad", 0) != 0;
    g->alg = is_max(ctx) ? dnnl_pooling_max
             : include_pad ? dnnl_pooling_avg_include_padding : dnnl_pooling_avg_exclude_padding;
    if (is_global(ctx)) {
        for (int d = 0; d < 2; d++) {
            g->k[d] = x->shape[2 + d];
            g->s[d] = g->dl[d] = 1;
            g->pb[d] = g->pe[d] = 0;
        }
        return true;
    }
    const int64_t *v = NULL;
    const char *ap = mec_node_string(n, "auto_pad", "NOTSET");
    bool upper = !strcmp(ap, "SAME_UPPER"), lower = !strcmp(ap, "SAME_LOWER"), valid = !strcmp(ap, "VALID");
    for (int d = 0; d < 2; d++) {
        g->k[d] = mec_node_ints(n, "kernel_shape", &v) == 2 ? v[d] : 1;
        g->s[d] = mec_node_ints(n, "strides", &v) == 2 ? v[d] : 1;
        g->dl[d] = mec_node_ints(n, "dilations", &v) == 2 ? v[d] : 1;
        bool has_pads = mec_node_ints(n, "pads", &v) == 4;
        g->pb[d] = has_pads && !valid ? v[d] : 0;
        g->pe[d] = has_pads && !valid ? v[2 + d] : 0;
        int64_t in = x->shape[2 + d], eff = (g->k[d] - 1) * g->dl[d] + 1;
        if (upper || lower) mec_dnnl_same_pads(upper, in, eff, g->s[d], &g->pb[d], &g->pe[d]);
        /* end padding that makes oneDNN's output size the reference's
         * (ceil_mode windows reach past the end) */
        int64_t need = (y->shape[2 + d] - 1) * g->s[d] + eff - in - g->pb[d];
        if (need > g->pe[d]) {
            if (include_pad) return false; /* the reference does not count that padding */
            g->pe[d] = need;
        }
    }
    return true;
}

mec_status mec_dnnl_pool_infer(mec_op_ctx *ctx) {
    mec_status st = mec_dnnl_ref_infer(ctx);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    if (pool_handled(ctx) && mec_dnnl_is_nhwc(x) && !mec_tensor_is_contiguous(x))
        mec_dnnl_nhwc_strides(ctx->out[0]->shape, ctx->out[0]->strides);
    return MEC_OK;
}

void mec_dnnl_pool_release(void *state) {
    pool_state *ps = state;
    if (!ps) return;
    mec_dnnl_fallback_release(&ps->fb);
    mec_dnnl_call_release(&ps->call);
    mec_free(ps);
}

static dnnl_status_t pool_build(mec_op_ctx *ctx, pool_state *ps, mec_status *st) {
    dnnl_engine_t engine;
    pool2d g;
    *st = MEC_OK;
    if ((*st = mec_dnnl_env(ctx, &engine, NULL))) return dnnl_runtime_error;
    if (!pool_geometry(ctx, &g)) return dnnl_unimplemented;
    dnnl_memory_desc_t src_md, dst_md;
    dnnl_status_t s = mec_dnnl_md(&src_md, ctx->in[0], 4);
    if (s == dnnl_success) s = mec_dnnl_md(&dst_md, ctx->out[0], 4);
    if (s != dnnl_success) return s;
    dnnl_dims_t strides = {g.s[0], g.s[1]}, kernel = {g.k[0], g.k[1]};
    dnnl_dims_t dil = {g.dl[0] - 1, g.dl[1] - 1}, pl = {g.pb[0], g.pb[1]}, pr = {g.pe[0], g.pe[1]};
    dnnl_pooling_v2_desc_t desc;
    s = dnnl_pooling_v2_forward_desc_init(&desc, dnnl_forward_inference, g.alg, &src_md, &dst_md,
                                          strides, kernel, dil, pl, pr);
    if (s != dnnl_success) return s;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    s = mec_dnnl_attr(&attr);
    /* oneDNN's naive loops are slower than our reference kernels */
    if ((s = mec_dnnl_pd_create(s, &desc, attr, NULL, engine, &pd)) != dnnl_success) return s;
    if ((s = mec_dnnl_call_init(&ps->call, pd)) != dnnl_success) return s;
    s = mec_dnnl_call_arg(&ps->call, DNNL_ARG_SRC, &src_md);
    if (s == dnnl_success) s = mec_dnnl_call_arg(&ps->call, DNNL_ARG_DST, &dst_md);
    if (s != dnnl_success) *st = mec_dnnl_error(ctx, s, "creating the pooling's arguments");
    mec_log(MEC_LOG_DEBUG, "node '%s' (%s): oneDNN %s", ctx->node->name, ctx->node->op_type, ps->call.impl);
    return s;
}

mec_status mec_dnnl_pool_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    pool_state *ps = mec_calloc(1, sizeof *ps);
    if (!ps) return MEC_ERR_NOMEM;
    *state = ps;
    *scratch_bytes = 0;
    if (ctx->out[0] && ctx->out[0]->ndim == 4) memcpy(ps->out_strides, ctx->out[0]->strides, sizeof ps->out_strides);
    if (pool_handled(ctx) && is_global(ctx) && mec_tensor_is_contiguous(ctx->in[0]) &&
        mec_tensor_is_contiguous(ctx->out[0])) {
        /* oneDNN's plain-layout pooling is slow; these are contiguous rows */
        ps->plain_global = true;
        return MEC_OK;
    }
    mec_status st = MEC_OK;
    dnnl_status_t s = pool_handled(ctx) ? pool_build(ctx, ps, &st) : dnnl_unimplemented;
    if (!st && s == dnnl_success) {
        *scratch_bytes = ps->call.scratchpad_bytes;
        return MEC_OK;
    }
    if (!st) {
        mec_dnnl_call_release(&ps->call);
        ps->fallback = true;
        st = mec_dnnl_fallback_prepare(ctx, &ps->fb, scratch_bytes);
    }
    if (st) {
        mec_dnnl_pool_release(ps);
        *state = NULL;
    }
    return st;
}

// y: (N, C, OH, OW) = max / mean over each window of x (N, C, H, W)
mec_status mec_dnnl_pool_exec(mec_op_ctx *ctx) {
    pool_state *ps = ctx->state;
    if (!ps) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "exec without prepare");
    if (ps->fallback) return mec_dnnl_fallback_exec(ctx, &ps->fb);
    if (ps->plain_global) {
        /* each (n, c) plane is a row of H·W values; summed in double like the reference */
        const float *x = ctx->in[0]->data;
        float *y = ctx->out[0]->data;
        const int64_t rows = ctx->in[0]->shape[0] * ctx->in[0]->shape[1];
        const int64_t len = ctx->in[0]->shape[2] * ctx->in[0]->shape[3];
        const bool max = is_max(ctx);
#pragma omp parallel for schedule(static) if (rows * len > (1 << 15))
        for (int64_t r = 0; r < rows; r++) {
            const float *row = x + r * len;
            if (max) {
                float m = row[0];
                for (int64_t i = 1; i < len; i++) m = row[i] > m ? row[i] : m;
                y[r] = m;
            } else {
                double acc = 0.0;
                for (int64_t i = 0; i < len; i++) acc += row[i];
                y[r] = (float)(acc / (double)len);
            }
        }
        return MEC_OK;
    }
    if (memcmp(ps->out_strides, ctx->out[0]->strides, sizeof ps->out_strides))
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "output strides changed after prepare");
    void *data[2] = {ctx->in[0]->data, ctx->out[0]->data};
    dnnl_status_t s = mec_dnnl_call_run(&ps->call, data, ctx->scratch);
    if (s != dnnl_success) return mec_dnnl_error(ctx, s, "running the pooling");
    return MEC_OK;
}
