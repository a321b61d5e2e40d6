/* Conv and mec.FusedConv on oneDNN: 2-D float32 convolution with any group,
 * stride, dilation and padding; the fused residual add and ReLU run as
 * post-ops. Activations are channels-last (NHWC strides on the NCHW shape),
 * weights are packed once into the layout oneDNN picks ("any"). Anything
 * else (1-D/3-D, other dtypes, a shape oneDNN refuses) runs the reference
 * kernel. */
#include "../fused.h"
#include "dnnl_common.h"

#include <string.h>

typedef struct conv_state {
    bool fallback;
    mec_dnnl_fallback fb;
    mec_dnnl_call call;
    mec_dnnl_weights w;
    bool has_bias, has_sum;
    /* scratch: [0, scratchpad) oneDNN, then per-run packed weights, then x
     * copied channels-last when oneDNN has no fast kernel for x's layout */
    size_t scratchpad, packed_off, packed_bytes, src_off;
    size_t sum_off; /* fallback: after the reference's scratch, a copy of a residual dst took over */
    bool src_to_nhwc;
    int64_t out_strides[4];
} conv_state;

static bool is_fused(const mec_op_ctx *ctx) { return !strcmp(ctx->node->op_type, "FusedConv"); }

/* What oneDNN runs here: 2-D float32 with data. */
static bool conv_handled(const mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    if (x->ndim != 4 || !ctx->out[0] || ctx->out[0]->dtype != MEC_F32) return false;
    for (int i = 0; i < ctx->n_in; i++)
        if (ctx->in[i] && ctx->in[i]->dtype != MEC_F32) return false;
    return mec_tensor_numel(x) > 0 && mec_tensor_numel(ctx->out[0]) > 0;
}

mec_status mec_dnnl_conv_infer(mec_op_ctx *ctx) {
    mec_status st = mec_dnnl_ref_infer(ctx);
    if (st) return st;
    /* channels-last output so that the next conv reads it without a reorder */
    if (conv_handled(ctx)) mec_dnnl_nhwc_strides(ctx->out[0]->shape, ctx->out[0]->strides);
    return MEC_OK;
}

void mec_dnnl_conv_release(void *state) {
    conv_state *cs = state;
    if (!cs) return;
    mec_dnnl_fallback_release(&cs->fb);
    mec_dnnl_call_release(&cs->call);
    mec_dnnl_weights_release(&cs->w);
    mec_free(cs);
}

/* Builds the oneDNN convolution; a dnnl status other than success means
 * "not runnable here" (the caller falls back) unless *st is set. */
static dnnl_status_t conv_build(mec_op_ctx *ctx, conv_state *cs, bool src_to_nhwc, mec_status *st) {
    const mec_tensor *x = ctx->in[0], *w = ctx->in[1], *y = ctx->out[0];
    const mec_tensor *b = ctx->n_in > 2 ? ctx->in[2] : NULL;
    const mec_tensor *sum = is_fused(ctx) && ctx->n_in > 3 ? ctx->in[3] : NULL;
    dnnl_engine_t engine;
    *st = MEC_OK;
    if ((*st = mec_dnnl_env(ctx, &engine, NULL))) return dnnl_runtime_error;
    mec_fused_act act = MEC_ACT_NONE;
    if (is_fused(ctx)) {
        act = mec_fused_activation(ctx, st);
        if (*st) return dnnl_invalid_arguments;
        if (act == MEC_ACT_GELU) return dnnl_unimplemented; /* never made by the optimiser */
    }
    mec_dnnl_conv_geo g;
    mec_dnnl_conv_geometry(ctx->node, ctx->in[0], ctx->in[1], &g);
    dnnl_memory_desc_t src_md, wuser_md, wany_md, bias_md, dst_md;
    mec_tensor x_nhwc = *x;
    mec_dnnl_nhwc_strides(x_nhwc.shape, x_nhwc.strides);
    dnnl_status_t s = mec_dnnl_md(&src_md, src_to_nhwc ? &x_nhwc : x, 4);
    if (s == dnnl_success) s = mec_dnnl_md(&dst_md, y, 4);
    if (s == dnnl_success && b) s = mec_dnnl_md(&bias_md, b, 1);
    /* weights (M, C/g, KH, KW); grouped as (g, M/g, C/g, KH, KW) */
    int64_t wd[5], ws[5];
    int wn = g.group > 1 ? 5 : 4;
    if (g.group > 1) {
        wd[0] = g.group;
        ws[0] = w->strides[0] * (w->shape[0] / g.group);
        wd[1] = w->shape[0] / g.group;
        for (int d = 1; d < 4; d++) wd[1 + d] = w->shape[d];
        for (int d = 0; d < 4; d++) ws[1 + d] = w->strides[d];
    } else {
        for (int d = 0; d < 4; d++) {
            wd[d] = w->shape[d];
            ws[d] = w->strides[d];
        }
    }
    if (s == dnnl_success) s = mec_dnnl_md_raw(&wuser_md, wn, wd, ws);
    dnnl_dims_t wdims;
    for (int d = 0; d < wn; d++) wdims[d] = wd[d];
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&wany_md, wn, wdims, dnnl_f32, dnnl_format_tag_any);
    if (s != dnnl_success) return s;
    dnnl_dims_t strides = {g.s[0], g.s[1]}, dil = {g.dl[0] - 1, g.dl[1] - 1};
    dnnl_dims_t pl = {g.pb[0], g.pb[1]}, pr = {g.pe[0], g.pe[1]};
    dnnl_convolution_desc_t desc;
    s = dnnl_dilated_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct,
                                                   &src_md, &wany_md, b ? &bias_md : NULL, &dst_md,
                                                   strides, dil, pl, pr);
    if (s != dnnl_success) return s;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    s = mec_dnnl_attr(&attr);
    if (s == dnnl_success && (sum || act != MEC_ACT_NONE)) {
        s = dnnl_post_ops_create(&po);
        /* the residual is copied into dst before the run and summed there:
         * every oneDNN conv supports the sum post-op (2.6's gemm conv gets
         * a channels-last binary add wrong) */
        if (s == dnnl_success && sum) s = dnnl_post_ops_append_sum(po, 1.0f);
        if (s == dnnl_success && act == MEC_ACT_RELU)
            s = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
        if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, po);
    }
    /* oneDNN's naive loops are slower than our reference kernels */
    if ((s = mec_dnnl_pd_create(s, &desc, attr, po, engine, &pd)) != dnnl_success) return s;
    const dnnl_memory_desc_t *wpack = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_memory_desc_t wpack_md = *wpack;
    if ((s = mec_dnnl_call_init(&cs->call, pd)) != dnnl_success) return s;
    s = mec_dnnl_call_arg(&cs->call, DNNL_ARG_SRC, &src_md);
    if (s == dnnl_success) s = mec_dnnl_call_arg(&cs->call, DNNL_ARG_WEIGHTS, &wpack_md);
    if (s == dnnl_success && b) s = mec_dnnl_call_arg(&cs->call, DNNL_ARG_BIAS, &bias_md);
    if (s == dnnl_success) s = mec_dnnl_call_arg(&cs->call, DNNL_ARG_DST, &dst_md);
    if (s != dnnl_success) {
        *st = mec_dnnl_error(ctx, s, "creating the convolution's arguments");
        return s;
    }
    size_t packed = 0, reorder_sp = 0;
    bool w_const = (ctx->const_inputs & 2u) != 0;
    if ((*st = mec_dnnl_weights_prepare(ctx, &cs->w, &wuser_md, &wpack_md, w->data, w_const, &packed,
                                        &reorder_sp)))
        return dnnl_runtime_error;
    cs->has_bias = b != NULL;
    cs->has_sum = sum != NULL;
    cs->scratchpad = cs->call.scratchpad_bytes > reorder_sp ? cs->call.scratchpad_bytes : reorder_sp;
    cs->packed_off = mec_dnnl_align(cs->scratchpad);
    cs->packed_bytes = packed;
    cs->src_to_nhwc = src_to_nhwc;
    cs->src_off = mec_dnnl_align(cs->packed_off + packed);
    mec_log(MEC_LOG_DEBUG, "node '%s' (%s): oneDNN %s, weights %s", ctx->node->name,
            ctx->node->op_type, cs->call.impl, cs->w.reorder ? (w_const ? "packed once" : "packed per run") : "as they are");
    return dnnl_success;
}

mec_status mec_dnnl_conv_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    conv_state *cs = mec_calloc(1, sizeof *cs);
    if (!cs) return MEC_ERR_NOMEM;
    *state = cs;
    *scratch_bytes = 0;
    memcpy(cs->out_strides, ctx->out[0]->strides, sizeof cs->out_strides);
    mec_status st = MEC_OK;
    dnnl_status_t s = conv_handled(ctx) ? conv_build(ctx, cs, false, &st) : dnnl_unimplemented;
    if (!st && s != dnnl_success && conv_handled(ctx) && !mec_dnnl_is_nhwc(ctx->in[0])) {
        /* e.g. an NCHW image into the stem: oneDNN's fast kernels want
         * channels-last, so x is copied that way first */
        mec_dnnl_call_release(&cs->call);
        mec_dnnl_weights_release(&cs->w);
        s = conv_build(ctx, cs, true, &st);
    }
    if (st) {
        mec_dnnl_conv_release(cs);
        *state = NULL;
        return st;
    }
    if (s == dnnl_success) {
        *scratch_bytes = cs->src_to_nhwc ? cs->src_off + mec_tensor_bytes(ctx->in[0])
                                         : cs->packed_off + cs->packed_bytes;
        return MEC_OK;
    }
    if (conv_handled(ctx))
        mec_log(MEC_LOG_DEBUG, "node '%s' (%s): oneDNN cannot run it (%s); using the reference kernel",
                ctx->node->name, ctx->node->op_type, dnnl_status2str(s));
    mec_dnnl_call_release(&cs->call);
    mec_dnnl_weights_release(&cs->w);
    cs->fallback = true;
    if ((st = mec_dnnl_fallback_prepare(ctx, &cs->fb, scratch_bytes))) {
        mec_dnnl_conv_release(cs);
        *state = NULL;
        return st;
    }
    if (is_fused(ctx) && ctx->n_in > 3 && ctx->in[3]) {
        /* the reference adds the residual after writing y: when y took over
         * the residual's buffer (MEC_KF_SUM_INPLACE), it reads a copy */
        cs->sum_off = mec_dnnl_align(*scratch_bytes);
        *scratch_bytes = cs->sum_off + mec_tensor_bytes(ctx->in[3]);
    }
    return MEC_OK;
}

// y: (N, M, OH, OW) = conv(x (N, C, H, W), w (M, C/group, KH, KW)) + b (M) [+ sum] [relu]
mec_status mec_dnnl_conv_exec(mec_op_ctx *ctx) {
    conv_state *cs = ctx->state;
    if (!cs) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "exec without prepare");
    if (cs->fallback) {
        if (!is_fused(ctx) || ctx->n_in < 4 || !ctx->in[3] || ctx->in[3]->data != ctx->out[0]->data)
            return mec_dnnl_fallback_exec(ctx, &cs->fb);
        /* y and the residual share a buffer (same dense layout): copy it aside */
        mec_tensor sum = *ctx->in[3];
        sum.owned = NULL;
        sum.data = (char *)ctx->scratch + cs->sum_off;
        memcpy(sum.data, ctx->in[3]->data, mec_tensor_bytes(&sum));
        const mec_tensor *in[4] = {ctx->in[0], ctx->in[1], ctx->in[2], &sum};
        mec_op_ctx c = *ctx;
        c.in = in;
        return mec_dnnl_fallback_exec(&c, &cs->fb);
    }
    if (memcmp(cs->out_strides, ctx->out[0]->strides, sizeof cs->out_strides))
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "output strides changed after prepare");
    char *scratch = ctx->scratch;
    mec_status st;
    const void *w = mec_dnnl_weights_get(ctx, &cs->w, ctx->in[1]->data,
                                         scratch ? scratch + cs->packed_off : NULL, scratch, &st);
    if (!w) return st;
    void *data[4];
    int n = 0;
    data[n++] = cs->src_to_nhwc ? mec_dnnl_to_nhwc(ctx->in[0], scratch + cs->src_off)
                                : ctx->in[0]->data;
    data[n++] = (void *)w;
    if (cs->has_bias) data[n++] = ctx->in[2]->data;
    data[n++] = ctx->out[0]->data;
    if (cs->has_sum && ctx->out[0]->data != ctx->in[3]->data) {
        /* y = residual (broadcast to y's shape), then the conv sums into it;
         * nothing to copy when the session gave y the residual's buffer */
        const mec_tensor *sum = ctx->in[3];
        mec_tensor view = *ctx->out[0];
        view.data = sum->data;
        view.owned = NULL;
        mec_op_broadcast_strides(sum, view.ndim, view.shape, view.strides);
        mec_dnnl_copy(ctx->out[0], &view);
    }
    dnnl_status_t s = mec_dnnl_call_run(&cs->call, data, scratch);
    if (s != dnnl_success) return mec_dnnl_error(ctx, s, "running the convolution");
    return MEC_OK;
}

