/* Conv and mec.FusedConv on oneDNN: 2-D float32 convolution with any group,
 * stride, dilation and padding; the fused residual add and ReLU run as
 * post-ops. Activations are channels-last (NHWC strides on the NCHW shape),
 * weights are packed once into the layout oneDNN picks ("any"). A 3x3
 * stride-1 convolution runs as Winograd when the session allows it
 * (mec_conv_algo): oneDNN's Winograd wants blocked activations, so x (and a
 * residual) are reordered into scratch and y back. Anything else (1-D/3-D,
 * other dtypes, a shape oneDNN refuses) runs the reference kernel. */
#include "../fused.h"
#include "dnnl_common.h"

#include <string.h>

typedef struct conv_state {
    bool fallback;
    mec_dnnl_fallback fb;
    mec_dnnl_call call;
    mec_dnnl_weights w;
    bool has_bias, has_sum;
    /* Winograd: x -> blocked, the residual -> blocked dst, blocked dst -> y */
    bool wino;
    mec_dnnl_call src_re, sum_re, dst_re;
    /* scratch: [0, scratchpad) oneDNN, then per-run packed weights, then x
     * copied channels-last when oneDNN has no fast kernel for x's layout,
     * or (Winograd) the blocked x and the blocked y */
    size_t scratchpad, packed_off, packed_bytes, src_off, dst_off, scratch_end;
    size_t
        sum_off; /* fallback: after the reference's scratch, a copy of a residual dst took over */
    bool src_to_nhwc;
    int64_t out_strides[4];
} conv_state;

static bool is_fused(const mec_op_ctx *ctx) {
    return !strcmp(ctx->node->op_type, "FusedConv");
}

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

/* Everything a conv_build made (before another try, or the fallback). */
static void conv_release_calls(conv_state *cs) {
    mec_dnnl_call_release(&cs->call);
    mec_dnnl_call_release(&cs->src_re);
    mec_dnnl_call_release(&cs->sum_re);
    mec_dnnl_call_release(&cs->dst_re);
    mec_dnnl_weights_release(&cs->w);
    cs->wino = false;
}

void mec_dnnl_conv_release(void *state) {
    conv_state *cs = state;
    if (!cs) return;
    mec_dnnl_fallback_release(&cs->fb);
    conv_release_calls(cs);
    mec_free(cs);
}

/* How conv_build lays the convolution out. */
typedef enum conv_mode {
    MODE_DIRECT,      /* x and y as they are */
    MODE_DIRECT_NHWC, /* x copied channels-last first */
    MODE_WINO,        /* Winograd on blocked copies of x and y */
} conv_mode;

/* Under MEC_CONV_ALGO_AUTO a conv runs Winograd only when its transformed
 * weights stay under this: F(4x4,3x3) stores each 3x3 filter as 6x6 (4x
 * the bytes), so a 2048->1216 head (90 MB) would take 358 MB, plus its
 * transform buffers. 64 MiB admits every 3x3 conv of a ResNet-50 (512x512:
 * 9.4 MB, 38 MB transformed). */
#define WINO_AUTO_MAX_WEIGHTS ((size_t)64 << 20)

/* Winograd may run this conv for some input shape: a 3x3 stride-1
 * ungrouped conv with constant weights, allowed by the session (and under
 * auto, small enough). Such a conv leaves the model its original weights
 * (Winograd's layout cannot be unpacked for a later prepare); any other
 * keeps a packed copy and lets the runtime free the original. */
static bool wino_possible(const mec_op_ctx *ctx, const mec_dnnl_conv_geo *g) {
    if (ctx->conv_algo == MEC_CONV_ALGO_DIRECT || !(ctx->const_inputs & 2u)) return false;
    if (g->group != 1 || g->k[0] != 3 || g->k[1] != 3 || g->s[0] != 1 || g->s[1] != 1) return false;
    return ctx->conv_algo == MEC_CONV_ALGO_WINOGRAD ||
           4 * mec_tensor_bytes(ctx->in[1]) <= WINO_AUTO_MAX_WEIGHTS;
}

/* Winograd is worth trying for these shapes: possible, the weights still
 * there, and a residual (if any) of y's shape. A dilated conv runs as
 * dh*dw undilated convs on the sub-grids x[r::dh, c::dw] (space to batch),
 * which needs H, W and the pads to be multiples of the dilation. oneDNN then
 * decides whether it has a kernel. */
static bool wino_candidate(const mec_op_ctx *ctx, const mec_dnnl_conv_geo *g) {
    if (!wino_possible(ctx, g) || !ctx->in[1]->data) return false;
    for (int d = 0; d < 2; d++) {
        int64_t dl = g->dl[d];
        if (ctx->in[0]->shape[2 + d] % dl || g->pb[d] % dl || g->pe[d] % dl) return false;
    }
    if (is_fused(ctx) && ctx->n_in > 3 && ctx->in[3]) {
        const mec_tensor *sum = ctx->in[3], *y = ctx->out[0];
        if (sum->ndim != y->ndim || memcmp(sum->shape, y->shape, sizeof(int64_t) * (size_t)y->ndim))
            return false;
    }
    return true;
}

/* t (x, y or the residual) as Winograd's reorders see it: 4-D as it is, or
 * for dilation (dh, dw) > 1 the sub-grids as a batch, the 6-D view
 * (dh, dw, N, C, H/dh, W/dw) of strides (sH, sW, sN, sC, dh*sH, dw*sW). */
static dnnl_status_t wino_view(dnnl_memory_desc_t *md, const mec_tensor *t, int64_t dh,
                               int64_t dw) {
    dnnl_status_t s = mec_dnnl_md(md, t, 4);
    if (s != dnnl_success || (dh == 1 && dw == 1)) return s;
    const dnnl_dim_t *st = md->format_desc.blocking.strides;
    int64_t dims[6] = {dh, dw, t->shape[0], t->shape[1], t->shape[2] / dh, t->shape[3] / dw};
    int64_t str[6] = {st[2], st[3], st[0], st[1], dh * st[2], dw * st[3]};
    return mec_dnnl_md_raw(md, 6, dims, str);
}

/* The primitive's blocked 4-D (dh*dw*N, C, h, w) as (dh, dw, N, C, h, w). */
static dnnl_status_t wino_split(dnnl_memory_desc_t *md, const dnnl_memory_desc_t *md4, int64_t dh,
                                int64_t dw) {
    if (dh == 1 && dw == 1) {
        *md = *md4;
        return dnnl_success;
    }
    dnnl_dims_t dims = {dh, dw, md4->dims[0] / (dh * dw), md4->dims[1], md4->dims[2], md4->dims[3]};
    return dnnl_memory_desc_reshape(md, md4, 6, dims);
}

/* Builds the oneDNN convolution; a dnnl status other than success means
 * "not runnable here" (the caller falls back) unless *st is set. */
static dnnl_status_t conv_build(mec_op_ctx *ctx, conv_state *cs, conv_mode mode,
                                mec_dnnl_weights *keep, mec_status *st) {
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
    bool src_to_nhwc = mode == MODE_DIRECT_NHWC, wino = mode == MODE_WINO;
    if (wino && !wino_candidate(ctx, &g)) return dnnl_unimplemented;
    /* src_md/dst_md: x and y as the primitive reads and writes them (for
     * Winograd, blocked as it picks: src_user/dst_user are x and y) */
    dnnl_memory_desc_t src_md, wuser_md, wany_md, bias_md, dst_md, src_user, dst_user, sum_user;
    mec_tensor x_nhwc = *x;
    mec_dnnl_nhwc_strides(x_nhwc.shape, x_nhwc.strides);
    int64_t dh = wino ? g.dl[0] : 1, dw = wino ? g.dl[1] : 1; /* Winograd's space to batch */
    dnnl_status_t s = wino_view(&src_user, src_to_nhwc ? &x_nhwc : x, dh, dw);
    if (s == dnnl_success) s = wino_view(&dst_user, y, dh, dw);
    if (s == dnnl_success && wino && sum) s = wino_view(&sum_user, sum, dh, dw);
    src_md = src_user;
    dst_md = dst_user;
    if (s == dnnl_success && wino) {
        dnnl_dims_t xd = {dh * dw * x->shape[0], x->shape[1], x->shape[2] / dh, x->shape[3] / dw};
        dnnl_dims_t yd = {dh * dw * y->shape[0], y->shape[1], y->shape[2] / dh, y->shape[3] / dw};
        s = dnnl_memory_desc_init_by_tag(&src_md, 4, xd, dnnl_f32, dnnl_format_tag_any);
        if (s == dnnl_success)
            s = dnnl_memory_desc_init_by_tag(&dst_md, 4, yd, dnnl_f32, dnnl_format_tag_any);
    }
    if (s == dnnl_success && b) s = mec_dnnl_md(&bias_md, b, 1);
    /* weights (M, C/g, KH, KW); grouped as (g, M/g, C/g, KH, KW) */
    int64_t wd[5], ws[5];
    int wn = g.group > 1 ? 5 : 4;
    if (g.group > 1) {
        wd[0] = g.group;
        ws[0] = w->strides[0] * (w->shape[0] / g.group);
        wd[1] = w->shape[0] / g.group;
        for (int d = 1; d < 4; d++)
            wd[1 + d] = w->shape[d];
        for (int d = 0; d < 4; d++)
            ws[1 + d] = w->strides[d];
    } else {
        for (int d = 0; d < 4; d++) {
            wd[d] = w->shape[d];
            ws[d] = w->strides[d];
        }
    }
    if (s == dnnl_success) s = mec_dnnl_md_raw(&wuser_md, wn, wd, ws);
    dnnl_dims_t wdims;
    for (int d = 0; d < wn; d++)
        wdims[d] = wd[d];
    if (s == dnnl_success)
        s = dnnl_memory_desc_init_by_tag(&wany_md, wn, wdims, dnnl_f32, dnnl_format_tag_any);
    if (s != dnnl_success) return s;
    dnnl_dims_t strides = {g.s[0], g.s[1]}, dil = {g.dl[0] / dh - 1, g.dl[1] / dw - 1};
    dnnl_dims_t pl = {g.pb[0] / dh, g.pb[1] / dw}, pr = {g.pe[0] / dh, g.pe[1] / dw};
    dnnl_convolution_desc_t desc;
    s = dnnl_dilated_convolution_forward_desc_init(
        &desc, dnnl_forward_inference, wino ? dnnl_convolution_winograd : dnnl_convolution_direct,
        &src_md, &wany_md, b ? &bias_md : NULL, &dst_md, strides, dil, pl, pr);
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
    dnnl_memory_desc_t wpack_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_memory_desc_t src_blk, dst_blk; /* the blocked x and y, split like src_user/dst_user */
    if (wino) {
        src_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
        dst_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
        s = wino_split(&src_blk, &src_md, dh, dw);
        if (s == dnnl_success) s = wino_split(&dst_blk, &dst_md, dh, dw);
        if (s != dnnl_success) {
            dnnl_primitive_desc_destroy(pd);
            return s;
        }
    }
    if ((s = mec_dnnl_call_init(&cs->call, pd)) != dnnl_success) return s;
    size_t re_sp = 0;
    if (wino) {
        s = mec_dnnl_reorder_init(&cs->src_re, engine, &src_user, &src_blk);
        if (s == dnnl_success) s = mec_dnnl_reorder_init(&cs->dst_re, engine, &dst_blk, &dst_user);
        if (s == dnnl_success && sum)
            s = mec_dnnl_reorder_init(&cs->sum_re, engine, &sum_user, &dst_blk);
        if (s != dnnl_success) return s;
        const mec_dnnl_call *re[3] = {&cs->src_re, &cs->dst_re, &cs->sum_re};
        for (int i = 0; i < 3; i++)
            if (re[i]->scratchpad_bytes > re_sp) re_sp = re[i]->scratchpad_bytes;
    }
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
    /* last: nothing may fail after the weights were taken over from `keep` */
    if (w_const && keep)
        *st = mec_dnnl_weights_adopt(ctx, &cs->w, keep, &wuser_md, &wpack_md);
    else
        *st = mec_dnnl_weights_prepare(ctx, &cs->w, &wuser_md, &wpack_md, w->data, w_const, &packed,
                                       &reorder_sp);
    if (*st) return dnnl_runtime_error;
    cs->has_bias = b != NULL;
    cs->has_sum = sum != NULL;
    cs->wino = wino;
    cs->scratchpad =
        cs->call.scratchpad_bytes > reorder_sp ? cs->call.scratchpad_bytes : reorder_sp;
    if (re_sp > cs->scratchpad) cs->scratchpad = re_sp;
    cs->packed_off = mec_dnnl_align(cs->scratchpad);
    cs->packed_bytes = packed;
    cs->src_to_nhwc = src_to_nhwc;
    cs->src_off = mec_dnnl_align(cs->packed_off + packed);
    /* after the packed weights: x channels-last, or the blocked x and y */
    cs->scratch_end = cs->src_off + (src_to_nhwc ? mec_tensor_bytes(x) : 0);
    if (wino) {
        cs->dst_off = mec_dnnl_align(cs->src_off + dnnl_memory_desc_get_size(&src_md));
        cs->scratch_end = cs->dst_off + dnnl_memory_desc_get_size(&dst_md);
    }
    mec_log(MEC_LOG_DEBUG, "node '%s' (%s): oneDNN %s, weights %s (%zu bytes), scratch %zu bytes",
            ctx->node->name, ctx->node->op_type, cs->call.impl,
            w_const && keep ? "from the previous prepare's copy"
            : cs->w.reorder ? (w_const ? "packed once" : "packed per run")
                            : "as they are",
            dnnl_memory_desc_get_size(&wpack_md), cs->scratch_end);
    return dnnl_success;
}

mec_status mec_dnnl_conv_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    /* a previous prepare of this node that kept its own copy of the
     * weights: the runtime may have freed the model's since */
    conv_state *prev = ctx->state;
    mec_dnnl_weights *keep = prev && prev->w.packed && !prev->wino ? &prev->w : NULL;
    bool w_const = (ctx->const_inputs & 2u) != 0;
    if (w_const && !keep && !ctx->in[1]->data && mec_tensor_numel(ctx->in[1]) > 0)
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL,
                          "the constant weights were freed and no packed copy is left");
    conv_state *cs = mec_calloc(1, sizeof *cs);
    if (!cs) return MEC_ERR_NOMEM;
    *state = cs;
    *scratch_bytes = 0;
    memcpy(cs->out_strides, ctx->out[0]->strides, sizeof cs->out_strides);
    mec_status st = MEC_OK;
    bool handled = conv_handled(ctx);
    dnnl_status_t s = handled ? conv_build(ctx, cs, MODE_WINO, keep, &st) : dnnl_unimplemented;
    if (!st && s != dnnl_success && handled) {
        conv_release_calls(cs);
        s = conv_build(ctx, cs, MODE_DIRECT, keep, &st);
    }
    if (!st && s != dnnl_success && handled && !mec_dnnl_is_nhwc(ctx->in[0])) {
        /* e.g. an NCHW image into the stem: oneDNN's fast kernels want
         * channels-last, so x is copied that way first */
        conv_release_calls(cs);
        s = conv_build(ctx, cs, MODE_DIRECT_NHWC, keep, &st);
    }
    if (!st && s == dnnl_success) {
        *scratch_bytes = cs->scratch_end;
        mec_dnnl_conv_geo g;
        mec_dnnl_conv_geometry(ctx->node, ctx->in[0], ctx->in[1], &g);
        if (w_const && cs->w.packed && !wino_possible(ctx, &g)) ctx->const_kept |= 2u;
        return MEC_OK;
    }
    if (!st) {
        if (handled)
            mec_log(MEC_LOG_DEBUG,
                    "node '%s' (%s): oneDNN cannot run it (%s); using the reference kernel",
                    ctx->node->name, ctx->node->op_type, dnnl_status2str(s));
        conv_release_calls(cs);
        cs->fallback = true;
        /* the reference kernel reads the weights plain: from our copy if we had one */
        st = mec_dnnl_fallback_prepare_own(ctx, &cs->w, w_const ? keep : NULL, &cs->fb, scratch_bytes);
        if (!st && is_fused(ctx) && ctx->n_in > 3 && ctx->in[3]) {
            /* the reference adds the residual after writing y: when y took over
             * the residual's buffer (MEC_KF_SUM_INPLACE), it reads a copy */
            cs->sum_off = mec_dnnl_align(*scratch_bytes);
            *scratch_bytes = cs->sum_off + mec_tensor_bytes(ctx->in[3]);
        }
    }
    if (st) {
        if (keep && !keep->packed && cs->w.packed) {
            /* give the weights back to the previous state (moved, not copied) */
            keep->packed = cs->w.packed;
            cs->w.packed = NULL;
        }
        mec_dnnl_conv_release(cs);
        *state = NULL;
    }
    return st;
}

/* Winograd: the residual into the blocked y first (read before y is
 * written: y may have taken over its buffer), x into the blocked x, the
 * convolution, then the blocked y out to y. */
static mec_status wino_exec(mec_op_ctx *ctx, conv_state *cs, const void *w) {
    char *scratch = ctx->scratch;
    void *xb = scratch + cs->src_off, *yb = scratch + cs->dst_off;
    dnnl_status_t s = dnnl_success;
    if (cs->has_sum) s = mec_dnnl_call_run(&cs->sum_re, (void *[]){ctx->in[3]->data, yb}, scratch);
    if (s == dnnl_success)
        s = mec_dnnl_call_run(&cs->src_re, (void *[]){ctx->in[0]->data, xb}, scratch);
    if (s != dnnl_success) return mec_dnnl_error(ctx, s, "reordering the convolution's input");
    void *data[4] = {xb, (void *)w};
    int n = 2;
    if (cs->has_bias) data[n++] = ctx->in[2]->data;
    data[n++] = yb;
    if ((s = mec_dnnl_call_run(&cs->call, data, scratch)) != dnnl_success)
        return mec_dnnl_error(ctx, s, "running the convolution");
    if ((s = mec_dnnl_call_run(&cs->dst_re, (void *[]){yb, ctx->out[0]->data}, scratch)) !=
        dnnl_success)
        return mec_dnnl_error(ctx, s, "reordering the convolution's output");
    return MEC_OK;
}

// y: (N, M, OH, OW) = conv(x (N, C, H, W), w (M, C/group, KH, KW)) + b (M) [+ sum] [relu]
mec_status mec_dnnl_conv_exec(mec_op_ctx *ctx) {
    conv_state *cs = ctx->state;
    if (!cs) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "exec without prepare");
    if (cs->fallback) {
        mec_op_ctx cw;
        const mec_tensor *win[MEC_DNNL_MAX_IN];
        mec_tensor wt;
        ctx = mec_dnnl_with_own_weights(ctx, &cs->w, &cw, win, &wt);
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
    if (cs->wino) return wino_exec(ctx, cs, w);
    void *data[4];
    int n = 0;
    data[n++] =
        cs->src_to_nhwc ? mec_dnnl_to_nhwc(ctx->in[0], scratch + cs->src_off) : ctx->in[0]->data;
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
