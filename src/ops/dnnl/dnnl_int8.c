/* Fast int8 kernels (impl "dnnl"): QLinearConv and mec.QConv on oneDNN's
 * int8 convolution (u8/s8 activations, s8 weights packed once, per-channel
 * output scales, src/dst zero points, s32 bias, a residual sum and ReLU as
 * post-ops; activations channels-last between convolutions), and mec.QAdd
 * as an AVX-512 loop. What they do not run (asymmetric weights, non-constant
 * scales, other ranks, a shape oneDNN only has naive loops for) runs the
 * reference kernel. */
#include "../fused.h"
#include "../qdq_fused.h"
#include "../quant_util.h"
#include "dnnl_common.h"

#include <string.h>

/* ------------------------------------------------------------ convolution */

typedef struct qconv_state {
    bool fallback;
    mec_dnnl_fallback fb;
    mec_dnnl_call call;
    mec_dnnl_weights w;
    bool has_bias, has_sum, src_to_nhwc;
    float *scales; /* owned: per output channel x_scale * w_scale / y_scale */
    /* x's zero point folded into the bias (QCONV_ZP_PAD): x is copied
     * channels-last into scratch inside a border of x_zp, as wide as the
     * pads, and bias_zp = B - x_zp * sum(w[m]) */
    int32_t *bias_zp;
    int32_t x_zp;
    int64_t pb[2], pe[2]; /* the border: x's pads */
    size_t xpad_bytes;    /* the padded copy */
    size_t xpad_off;      /* bytes from its start to x's first element */
    mec_dnnl_call xpad_re; /* x into the padded copy (oneDNN's reorder: parallel) */
    size_t scratchpad, packed_off, packed_bytes, src_off;
    int64_t out_strides[4];
} qconv_state;

/* How qconv_build lays the convolution out. */
typedef enum qconv_mode {
    QCONV_AS_IS,  /* x as it is, x's zero point an attribute */
    QCONV_NHWC,   /* x copied channels-last first */
    QCONV_ZP_PAD, /* x copied channels-last into a border of x_zp; the zero point in the bias */
} qconv_mode;

static bool is_q8_dtype(mec_dtype t) { return t == MEC_U8 || t == MEC_I8; }

static bool is_qconv(const mec_op_ctx *ctx) { return !strcmp(ctx->node->op_type, "QConv"); }

/* Inputs that must be constant: the scales and zero points (baked into the
 * primitive) — bits 1, 2, 4, 5, 6, 7, and a sum's 9, 10. */
#define QCONV_CONST_MASK ((1u << 1) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7))
#define QCONV_SUM_CONST_MASK ((1u << 9) | (1u << 10))

/* mec.QConv with the trailing (sum_scale, sum_zp, sum): the residual */
static const mec_tensor *qconv_sum(const mec_op_ctx *ctx) {
    return is_qconv(ctx) && mec_qconv_has_sum(ctx) ? ctx->in[11] : NULL;
}

/* What oneDNN runs here: 2-D, s8 weights with zero points 0, constant
 * quantization parameters, data present. */
static bool qconv_handled(const mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0], *w = ctx->in[3], *y = ctx->out[0];
    const uint32_t mask = QCONV_CONST_MASK | (qconv_sum(ctx) ? QCONV_SUM_CONST_MASK : 0);
    if (x->ndim != 4 || w->dtype != MEC_I8 || !y || (ctx->const_inputs & mask) != mask)
        return false;
    if (mec_tensor_numel(x) <= 0 || mec_tensor_numel(y) <= 0) return false;
    const mec_tensor *wz = ctx->in[5];
    for (int64_t i = 0; i < mec_tensor_numel(wz); i++)
        if (((const int8_t *)wz->data)[i]) return false;
    return true;
}

mec_status mec_dnnl_qconv_infer(mec_op_ctx *ctx) {
    mec_status st = is_qconv(ctx) ? mec_qconv_ref_infer(ctx) : mec_dnnl_ref_infer(ctx);
    if (st) return st;
    if (ctx->in[0]->ndim == 4 && ctx->in[3]->dtype == MEC_I8)
        mec_dnnl_nhwc_strides(ctx->out[0]->shape, ctx->out[0]->strides);
    return MEC_OK;
}

void mec_dnnl_qconv_release(void *state) {
    qconv_state *cs = state;
    if (!cs) return;
    mec_dnnl_fallback_release(&cs->fb);
    mec_dnnl_call_release(&cs->call);
    mec_dnnl_weights_release(&cs->w);
    mec_free(cs->scales);
    mec_free(cs->bias_zp);
    mec_dnnl_call_release(&cs->xpad_re);
    mec_free(cs);
}

/* The padded x of QCONV_ZP_PAD: x's shape grown by the pads. */
static void zp_pad_shape(const mec_tensor *x, const int64_t *pb, const int64_t *pe, int64_t *shape) {
    shape[0] = x->shape[0];
    shape[1] = x->shape[1];
    shape[2] = x->shape[2] + pb[0] + pe[0];
    shape[3] = x->shape[3] + pb[1] + pe[1];
}

/* B - x_zp * sum(w[m]) for each output channel m, into cs->bias_zp; false
 * when it leaves int32 (then the zero point stays an attribute). */
static bool zp_fold_bias(qconv_state *cs, const mec_tensor *w, const mec_tensor *b, int32_t x_zp,
                         mec_status *st) {
    int64_t M = w->shape[0], per = mec_tensor_numel(w) / (M ? M : 1);
    cs->bias_zp = mec_malloc((size_t)M * sizeof(int32_t));
    if (!cs->bias_zp) {
        *st = MEC_ERR_NOMEM;
        return false;
    }
    bool dense = mec_tensor_is_contiguous(w);
    for (int64_t m = 0; m < M; m++) {
        int64_t sum = 0;
        for (int64_t i = 0; i < per; i++)
            sum += dense ? ((const int8_t *)w->data)[m * per + i] : mec_tensor_get_i64(w, m * per + i);
        int64_t v = (b ? mec_tensor_get_i64(b, m) : 0) - (int64_t)x_zp * sum;
        if (v < INT32_MIN || v > INT32_MAX) return false;
        cs->bias_zp[m] = (int32_t)v;
    }
    return true;
}

static dnnl_data_type_t dnnl_dt(mec_dtype t) {
    switch (t) {
    case MEC_U8: return dnnl_u8;
    case MEC_I8: return dnnl_s8;
    case MEC_I32: return dnnl_s32;
    default: return dnnl_f32;
    }
}

/* The memory descriptor of t (strided, padded to nd dims) with t's dtype. */
static dnnl_status_t md_typed(dnnl_memory_desc_t *md, const mec_tensor *t, int nd) {
    dnnl_status_t s = mec_dnnl_md(md, t, nd);
    if (s != dnnl_success) return s;
    dnnl_dims_t dims, strides;
    for (int i = 0; i < md->ndims; i++) {
        dims[i] = md->dims[i];
        strides[i] = md->format_desc.blocking.strides[i];
    }
    return dnnl_memory_desc_init_by_strides(md, md->ndims, dims, dnnl_dt(t->dtype), strides);
}

static dnnl_status_t qconv_build(mec_op_ctx *ctx, qconv_state *cs, qconv_mode mode, mec_status *st) {
    const mec_tensor *x = ctx->in[0], *w = ctx->in[3], *y = ctx->out[0];
    const mec_tensor *b = ctx->n_in > 8 ? ctx->in[8] : NULL, *sum = qconv_sum(ctx);
    dnnl_engine_t engine;
    *st = MEC_OK;
    if ((*st = mec_dnnl_env(ctx, &engine, NULL))) return dnnl_runtime_error;
    mec_fused_act act = MEC_ACT_NONE;
    if (is_qconv(ctx)) {
        act = mec_fused_activation(ctx, st);
        if (*st) return dnnl_invalid_arguments;
        if (act == MEC_ACT_GELU) return dnnl_unimplemented;
    }
    mec_dnnl_conv_geo g;
    mec_dnnl_conv_geometry(ctx->node, ctx->in[0], ctx->in[3], &g);
    int64_t M = w->shape[0];
    /* the multiplier as the reference forms it: x_scale * w_scale[m] / y_scale */
    const float x_scale = *(const float *)ctx->in[1]->data, y_scale = *(const float *)ctx->in[6]->data;
    const mec_tensor *ws = ctx->in[4];
    bool per_channel = mec_tensor_numel(ws) > 1;
    cs->scales = mec_malloc((size_t)M * sizeof(float));
    if (!cs->scales) {
        *st = MEC_ERR_NOMEM;
        return dnnl_out_of_memory;
    }
    for (int64_t m = 0; m < M; m++)
        cs->scales[m] = x_scale * ((const float *)ws->data)[per_channel ? m : 0] / y_scale;
    int32_t x_zp = (int32_t)mec_tensor_get_i64(ctx->in[2], 0), y_zp = (int32_t)mec_tensor_get_i64(ctx->in[7], 0);
    bool src_to_nhwc = mode == QCONV_NHWC, zp_pad = mode == QCONV_ZP_PAD;
    if (zp_pad) {
        /* oneDNN 2.6's fast int8 kernels (brgconv) take no source zero
         * point: the image into ResNet's stem ran 2.2x slower with one */
        const uint32_t wb = (1u << 3) | (b ? 1u << 8 : 0);
        if (!x_zp || (ctx->const_inputs & wb) != wb || !w->data) return dnnl_unimplemented;
        if (!zp_fold_bias(cs, w, b, x_zp, st)) return *st ? dnnl_out_of_memory : dnnl_unimplemented;
        cs->x_zp = x_zp;
        x_zp = 0;
        memcpy(cs->pb, g.pb, sizeof cs->pb);
        memcpy(cs->pe, g.pe, sizeof cs->pe);
    }

    dnnl_memory_desc_t src_md, wuser_md, wany_md, bias_md, dst_md;
    mec_tensor x_nhwc = *x;
    if (zp_pad) zp_pad_shape(x, g.pb, g.pe, x_nhwc.shape);
    mec_dnnl_nhwc_strides(x_nhwc.shape, x_nhwc.strides);
    cs->xpad_bytes = zp_pad ? mec_tensor_bytes(&x_nhwc) : 0;
    if (zp_pad) {
        /* x's values land in the padded copy's interior: x's dims with the
         * padded copy's strides, starting pb rows and columns in */
        dnnl_memory_desc_t from, to;
        dnnl_dims_t dims = {x->shape[0], x->shape[1], x->shape[2], x->shape[3]};
        dnnl_dims_t st = {x_nhwc.strides[0], x_nhwc.strides[1], x_nhwc.strides[2], x_nhwc.strides[3]};
        cs->xpad_off = (size_t)(g.pb[0] * st[2] + g.pb[1] * st[3]) * mec_dtype_size(x->dtype);
        dnnl_status_t rs = md_typed(&from, x, 4);
        if (rs == dnnl_success) rs = dnnl_memory_desc_init_by_strides(&to, 4, dims, dnnl_dt(x->dtype), st);
        if (rs == dnnl_success) rs = mec_dnnl_reorder_init(&cs->xpad_re, engine, &from, &to);
        if (rs != dnnl_success) return rs;
    }
    dnnl_status_t s = md_typed(&src_md, src_to_nhwc || zp_pad ? &x_nhwc : x, 4);
    if (s == dnnl_success) s = md_typed(&dst_md, y, 4);
    if (s == dnnl_success && (b || zp_pad)) {
        dnnl_dims_t bd = {w->shape[0]};
        s = dnnl_memory_desc_init_by_tag(&bias_md, 1, bd, dnnl_s32, dnnl_x);
    }
    int64_t wd[5], wst[5];
    int wn = g.group > 1 ? 5 : 4;
    if (g.group > 1) {
        wd[0] = g.group;
        wst[0] = w->strides[0] * (w->shape[0] / g.group);
        wd[1] = w->shape[0] / g.group;
        for (int d = 1; d < 4; d++) wd[1 + d] = w->shape[d];
        for (int d = 0; d < 4; d++) wst[1 + d] = w->strides[d];
    } else {
        for (int d = 0; d < 4; d++) {
            wd[d] = w->shape[d];
            wst[d] = w->strides[d];
        }
    }
    dnnl_dims_t wdims, wstr;
    for (int d = 0; d < wn; d++) {
        wdims[d] = wd[d];
        wstr[d] = wst[d];
    }
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_strides(&wuser_md, wn, wdims, dnnl_s8, wstr);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&wany_md, wn, wdims, dnnl_s8, dnnl_format_tag_any);
    if (s != dnnl_success) return s;
    dnnl_dims_t strides = {g.s[0], g.s[1]}, dil = {g.dl[0] - 1, g.dl[1] - 1};
    dnnl_dims_t pl = {g.pb[0], g.pb[1]}, pr = {g.pe[0], g.pe[1]};
    if (zp_pad) pl[0] = pl[1] = pr[0] = pr[1] = 0; /* the border is in the copy */
    dnnl_convolution_desc_t desc;
    s = dnnl_dilated_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct,
                                                   &src_md, &wany_md, b || zp_pad ? &bias_md : NULL,
                                                   &dst_md, strides, dil, pl, pr);
    if (s != dnnl_success) return s;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    s = mec_dnnl_attr(&attr);
    if (s == dnnl_success)
        s = dnnl_primitive_attr_set_output_scales(attr, per_channel ? M : 1, per_channel ? 1 << 1 : 0,
                                                  cs->scales);
    if (s == dnnl_success && x_zp) s = dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_SRC, 1, 0, &x_zp);
    if (s == dnnl_success && y_zp) s = dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_DST, 1, 0, &y_zp);
    if (s == dnnl_success && (sum || act == MEC_ACT_RELU)) {
        s = dnnl_post_ops_create(&po);
        /* the residual, copied into dst before the run (or dst took over its
         * buffer), is read back as (sum - sum_zp) * sum_scale / y_scale and
         * added to the scaled accumulator, before the ReLU */
        if (s == dnnl_success && sum) {
            const float sum_scale = *(const float *)ctx->in[9]->data;
            const int32_t sum_zp = (int32_t)mec_tensor_get_i64(ctx->in[10], 0);
            s = dnnl_post_ops_append_sum_v3(po, sum_scale / y_scale, sum_zp, dnnl_dt(sum->dtype));
        }
        /* ReLU before the dst zero point is added: a clamp at y_zp */
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
    if (s == dnnl_success && (b || zp_pad)) s = mec_dnnl_call_arg(&cs->call, DNNL_ARG_BIAS, &bias_md);
    if (s == dnnl_success) s = mec_dnnl_call_arg(&cs->call, DNNL_ARG_DST, &dst_md);
    if (s != dnnl_success) {
        *st = mec_dnnl_error(ctx, s, "creating the int8 convolution's arguments");
        return s;
    }
    size_t packed = 0, reorder_sp = 0;
    bool w_const = (ctx->const_inputs & (1u << 3)) != 0;
    if ((*st = mec_dnnl_weights_prepare(ctx, &cs->w, &wuser_md, &wpack_md, w->data, w_const, &packed,
                                        &reorder_sp)))
        return dnnl_runtime_error;
    cs->has_bias = b != NULL || zp_pad;
    cs->has_sum = sum != NULL;
    cs->scratchpad = cs->call.scratchpad_bytes > reorder_sp ? cs->call.scratchpad_bytes : reorder_sp;
    if (cs->xpad_re.scratchpad_bytes > cs->scratchpad) cs->scratchpad = cs->xpad_re.scratchpad_bytes;
    cs->packed_off = mec_dnnl_align(cs->scratchpad);
    cs->packed_bytes = packed;
    cs->src_to_nhwc = src_to_nhwc;
    cs->src_off = mec_dnnl_align(cs->packed_off + packed);
    mec_log(MEC_LOG_DEBUG, "node '%s' (%s): oneDNN %s, weights %s%s%s", ctx->node->name,
            ctx->node->op_type, cs->call.impl,
            cs->w.reorder ? (w_const ? "packed once" : "packed per run") : "as they are",
            sum ? ", residual summed" : "", zp_pad ? ", x's zero point in the bias" : "");
    return dnnl_success;
}

static void qconv_reset(qconv_state *cs) {
    mec_dnnl_call_release(&cs->call);
    mec_dnnl_weights_release(&cs->w);
    mec_free(cs->scales);
    cs->scales = NULL;
    mec_free(cs->bias_zp);
    cs->bias_zp = NULL;
    mec_dnnl_call_release(&cs->xpad_re);
}

mec_status mec_dnnl_qconv_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    qconv_state *cs = mec_calloc(1, sizeof *cs);
    if (!cs) return MEC_ERR_NOMEM;
    *state = cs;
    *scratch_bytes = 0;
    memcpy(cs->out_strides, ctx->out[0]->strides, sizeof cs->out_strides);
    mec_status st = MEC_OK;
    bool handled = qconv_handled(ctx);
    dnnl_status_t s = handled ? qconv_build(ctx, cs, QCONV_ZP_PAD, &st) : dnnl_unimplemented;
    if (!st && s != dnnl_success && handled) {
        qconv_reset(cs);
        s = qconv_build(ctx, cs, QCONV_AS_IS, &st);
    }
    if (!st && s != dnnl_success && handled && !mec_dnnl_is_nhwc(ctx->in[0])) {
        /* an NCHW tensor (the quantized image): oneDNN's int8 kernels want
         * channels-last, so x is copied that way first */
        qconv_reset(cs);
        s = qconv_build(ctx, cs, QCONV_NHWC, &st);
    }
    if (st) {
        mec_dnnl_qconv_release(cs);
        *state = NULL;
        return st;
    }
    if (s == dnnl_success) {
        size_t xb = cs->bias_zp ? cs->xpad_bytes : mec_tensor_bytes(ctx->in[0]);
        *scratch_bytes = cs->src_to_nhwc || cs->bias_zp ? cs->src_off + xb : cs->packed_off + cs->packed_bytes;
        return MEC_OK;
    }
    if (handled)
        mec_log(MEC_LOG_DEBUG, "node '%s' (%s): oneDNN cannot run it (%s); using the reference kernel",
                ctx->node->name, ctx->node->op_type, dnnl_status2str(s));
    qconv_reset(cs);
    cs->fallback = true;
    if ((st = mec_dnnl_fallback_prepare(ctx, &cs->fb, scratch_bytes))) {
        mec_dnnl_qconv_release(cs);
        *state = NULL;
    }
    return st;
}

/* QCONV_ZP_PAD: x channels-last into buf inside a border of x_zp (x's
 * real zero, what the reference pads with); NULL on a oneDNN error. */
static void *zp_pad_copy(const mec_op_ctx *ctx, qconv_state *cs, void *buf, mec_status *st) {
    memset(buf, (uint8_t)cs->x_zp, cs->xpad_bytes);
    void *args[2] = {ctx->in[0]->data, (char *)buf + cs->xpad_off};
    dnnl_status_t s = mec_dnnl_call_run(&cs->xpad_re, args, ctx->scratch);
    if (s == dnnl_success) return buf;
    *st = mec_dnnl_error(ctx, s, "copying the int8 convolution's input");
    return NULL;
}

// y: (N, M, OH, OW) u8/s8 = requantize(conv(x - x_zp, w) + B [+ sum]) [relu at y_zp]
mec_status mec_dnnl_qconv_exec(mec_op_ctx *ctx) {
    qconv_state *cs = ctx->state;
    if (!cs) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "exec without prepare");
    if (cs->fallback) return mec_dnnl_fallback_exec(ctx, &cs->fb);
    if (memcmp(cs->out_strides, ctx->out[0]->strides, sizeof cs->out_strides))
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "output strides changed after prepare");
    char *scratch = ctx->scratch;
    mec_status st;
    const void *w = mec_dnnl_weights_get(ctx, &cs->w, ctx->in[3]->data,
                                         scratch ? scratch + cs->packed_off : NULL, scratch, &st);
    if (!w) return st;
    void *data[4];
    int n = 0;
    if (cs->bias_zp) {
        if (!(data[n++] = zp_pad_copy(ctx, cs, scratch + cs->src_off, &st))) return st;
    } else {
        data[n++] = cs->src_to_nhwc ? mec_dnnl_to_nhwc(ctx->in[0], scratch + cs->src_off) : ctx->in[0]->data;
    }
    data[n++] = (void *)w;
    if (cs->has_bias) data[n++] = cs->bias_zp ? cs->bias_zp : ctx->in[8]->data;
    data[n++] = ctx->out[0]->data;
    /* y = the residual, then the conv sums into it; nothing to copy when the
     * session gave y the residual's buffer (same shape and strides) */
    if (cs->has_sum && ctx->out[0]->data != ctx->in[11]->data)
        mec_dnnl_copy(ctx->out[0], ctx->in[11]);
    dnnl_status_t s = mec_dnnl_call_run(&cs->call, data, scratch);
    if (s != dnnl_success) return mec_dnnl_error(ctx, s, "running the int8 convolution");
    return MEC_OK;
}

/* ------------------------------------------------------------------- QAdd */

/* Channels-last outputs when both inputs share one dense layout and shape
 * (the residual of ResNet): the loop then runs over raw memory. */
static bool qadd_flat(const mec_op_ctx *ctx) {
    const mec_tensor *a = ctx->in[0], *b = ctx->in[3];
    if (!mec_tensor_same_shape(a, b)) return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != 1 && a->strides[d] != b->strides[d]) return false;
    return mec_tensor_is_contiguous(a) || mec_dnnl_is_nhwc(a);
}

mec_status mec_dnnl_qadd_infer(mec_op_ctx *ctx) {
    mec_status st = mec_dnnl_ref_infer(ctx);
    if (st) return st;
    if (qadd_flat(ctx) && mec_dnnl_is_nhwc(ctx->in[0]) && !mec_tensor_is_contiguous(ctx->in[0]))
        mec_dnnl_nhwc_strides(ctx->out[0]->shape, ctx->out[0]->strides);
    return MEC_OK;
}

typedef struct qadd_state {
    mec_dnnl_fallback fb;
    bool fallback;
} qadd_state;

mec_status mec_dnnl_qadd_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    qadd_state *qs = mec_calloc(1, sizeof *qs);
    if (!qs) return MEC_ERR_NOMEM;
    *state = qs;
    *scratch_bytes = 0;
    bool same_layout = true;
    for (int d = 0; d < ctx->out[0]->ndim; d++)
        if (ctx->out[0]->shape[d] != 1 && ctx->out[0]->strides[d] != ctx->in[0]->strides[d]) same_layout = false;
    qs->fallback = !qadd_flat(ctx) || !same_layout;
    mec_status st = qs->fallback ? mec_dnnl_fallback_prepare(ctx, &qs->fb, scratch_bytes) : MEC_OK;
    if (st) {
        mec_free(qs);
        *state = NULL;
    }
    return st;
}

void mec_dnnl_qadd_release(void *state) {
    qadd_state *qs = state;
    if (!qs) return;
    mec_dnnl_fallback_release(&qs->fb);
    mec_free(qs);
}

/* Elements [lo_i, hi_i) of y = Q(Relu?(DQ(a) + DQ(b))), or the float sum. */
static void qadd_scalar(const mec_qadd_params *p, bool a_u8, const void *a, bool b_u8, const void *b,
                        bool y_u8, void *y, int64_t lo_i, int64_t hi_i) {
    for (int64_t i = lo_i; i < hi_i; i++) {
        int32_t ai = a_u8 ? ((const uint8_t *)a)[i] : ((const int8_t *)a)[i];
        int32_t bi = b_u8 ? ((const uint8_t *)b)[i] : ((const int8_t *)b)[i];
        float v = mec_qadd_one(p, ai, bi);
        if (p->float_out) {
            ((float *)y)[i] = v;
            continue;
        }
        int32_t q = mec_q_clamp(mec_q_round(v / p->y_scale) + (float)p->y_zp, p->lo, p->hi);
        if (y_u8) ((uint8_t *)y)[i] = (uint8_t)q;
        else ((int8_t *)y)[i] = (int8_t)q;
    }
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define MEC_QADD_AVX512 1

/* The AVX-512 loops of this file need F and BW (checked once). */
static bool cpu_avx512bw(void) {
    static int has = -1;
    if (has < 0) has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    return has;
}

/* 16 lanes of mec_qadd_one + quantize: the same float operations in the same
 * order (no FMA: -std=c11 keeps contraction off), so it is bit-exact with
 * the reference; _mm512_cvtps_epi32 rounds half to even like rintf. */
__attribute__((target("avx512f,avx512bw"))) static void qadd_avx512(const mec_qadd_params *p, bool a_u8,
                                                                   const void *a, bool b_u8, const void *b,
                                                                   bool y_u8, void *y, int64_t lo_i,
                                                                   int64_t hi_i) {
    const __m512 as = _mm512_set1_ps(p->a_scale), bs = _mm512_set1_ps(p->b_scale), ys = _mm512_set1_ps(p->y_scale);
    const __m512i az = _mm512_set1_epi32(p->a_zp), bz = _mm512_set1_epi32(p->b_zp), yz = _mm512_set1_epi32(p->y_zp);
    const __m512i qlo = _mm512_set1_epi32((int)p->lo), qhi = _mm512_set1_epi32((int)p->hi);
    const __m512 zero = _mm512_setzero_ps();
    int64_t i = lo_i;
    for (; i + 16 <= hi_i; i += 16) {
        __m128i av = _mm_loadu_si128((const __m128i *)((const char *)a + i));
        __m128i bv = _mm_loadu_si128((const __m128i *)((const char *)b + i));
        __m512i ai = a_u8 ? _mm512_cvtepu8_epi32(av) : _mm512_cvtepi8_epi32(av);
        __m512i bi = b_u8 ? _mm512_cvtepu8_epi32(bv) : _mm512_cvtepi8_epi32(bv);
        __m512 fa = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(ai, az)), as);
        __m512 fb = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(bi, bz)), bs);
        __m512 v = _mm512_add_ps(fa, fb);
        if (p->relu) v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), v);
        if (p->float_out) {
            _mm512_storeu_ps((float *)y + i, v);
            continue;
        }
        __m512i q = _mm512_cvtps_epi32(_mm512_div_ps(v, ys));
        q = _mm512_add_epi32(q, yz);
        q = _mm512_min_epi32(_mm512_max_epi32(q, qlo), qhi);
        _mm_storeu_si128((__m128i *)((char *)y + i), _mm512_cvtepi32_epi8(q));
    }
    qadd_scalar(p, a_u8, a, b_u8, b, y_u8, y, i, hi_i);
}
#endif


// y = Q(Relu?(DQ(a) + DQ(b))) or the float sum, a, b, y: the same shape and dense layout
mec_status mec_dnnl_qadd_exec(mec_op_ctx *ctx) {
    qadd_state *qs = ctx->state;
    if (!qs) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "exec without prepare");
    if (qs->fallback) return mec_dnnl_fallback_exec(ctx, &qs->fb);
    mec_qadd_params p;
    mec_status st = mec_qadd_check(ctx, &p);
    if (st) return st;
    const int64_t n = mec_tensor_numel(ctx->out[0]);
    const bool a_u8 = ctx->in[0]->dtype == MEC_U8, b_u8 = ctx->in[3]->dtype == MEC_U8,
               y_u8 = ctx->out[0]->dtype == MEC_U8;
    const void *a = ctx->in[0]->data, *b = ctx->in[3]->data;
    void *y = ctx->out[0]->data;
#ifdef MEC_QADD_AVX512
    const bool has_avx512 = cpu_avx512bw();
#else
    const bool has_avx512 = false;
#endif
    const int64_t chunk = 1 << 16, chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t lo = c * chunk, hi = lo + chunk < n ? lo + chunk : n;
#ifdef MEC_QADD_AVX512
        if (has_avx512) {
            qadd_avx512(&p, a_u8, a, b_u8, b, y_u8, y, lo, hi);
            continue;
        }
#endif
        qadd_scalar(&p, a_u8, a, b_u8, b, y_u8, y, lo, hi);
    }
    return MEC_OK;
}

/* ------------------------------------- QuantizeLinear / DequantizeLinear */

/* Per-tensor QuantizeLinear (float32 → uint8/int8) and DequantizeLinear
 * (uint8/int8 → float32) as AVX-512 loops over raw memory, input and output
 * sharing one dense layout (channels-last passes through). The same float
 * operations as the reference kernels, so bit-exact: the division by the
 * scale, round half to even, the zero point added in float, the clamp in
 * float (NaN to the low end, as mec_q_clamp); (q - zp) * scale. Per-axis
 * parameters, int32 data and other layouts run the reference kernel. */
typedef struct qdq_state {
    mec_dnnl_fallback fb;
    bool fallback;
} qdq_state;

static bool is_quantize(const mec_op_ctx *ctx) {
    return !strcmp(ctx->node->op_type, "QuantizeLinear");
}

/* in[0] and out[0] have the same dense layout (contiguous or channels-last) */
static bool qdq_same_layout(const mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0], *y = ctx->out[0];
    if (!y || !mec_tensor_same_shape(x, y)) return false;
    for (int d = 0; d < x->ndim; d++)
        if (x->shape[d] != 1 && x->strides[d] != y->strides[d]) return false;
    return mec_tensor_is_contiguous(x) || mec_dnnl_is_nhwc(x);
}

static bool qdq_fast(const mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0], *y = ctx->out[0], *z = ctx->n_in > 2 ? ctx->in[2] : NULL;
    if (!y || mec_tensor_numel(ctx->in[1]) != 1 || (z && mec_tensor_numel(z) != 1)) return false;
    bool types = is_quantize(ctx) ? x->dtype == MEC_F32 && is_q8_dtype(y->dtype)
                                  : is_q8_dtype(x->dtype) && y->dtype == MEC_F32;
    return types && qdq_same_layout(ctx);
}

static mec_status mec_dnnl_qdq_infer(mec_op_ctx *ctx) {
    mec_status st = mec_dnnl_ref_infer(ctx);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    if (x->ndim == 4 && mec_dnnl_is_nhwc(x) && !mec_tensor_is_contiguous(x))
        mec_dnnl_nhwc_strides(ctx->out[0]->shape, ctx->out[0]->strides);
    return MEC_OK;
}

static mec_status mec_dnnl_qdq_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    qdq_state *qs = mec_calloc(1, sizeof *qs);
    if (!qs) return MEC_ERR_NOMEM;
    *state = qs;
    *scratch_bytes = 0;
    qs->fallback = !qdq_fast(ctx);
    if (qs->fallback)
        mec_log(MEC_LOG_DEBUG,
                "node '%s' (%s): not per tensor or not one layout; using the reference kernel",
                ctx->node->name, ctx->node->op_type);
    mec_status st = qs->fallback ? mec_dnnl_fallback_prepare(ctx, &qs->fb, scratch_bytes) : MEC_OK;
    if (st) {
        mec_free(qs);
        *state = NULL;
    }
    return st;
}

static void mec_dnnl_qdq_release(void *state) {
    qdq_state *qs = state;
    if (!qs) return;
    mec_dnnl_fallback_release(&qs->fb);
    mec_free(qs);
}

static void quantize_scalar(const float *x, void *y, bool y_u8, float scale, int32_t zp, float lo,
                            float hi, int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
        int32_t q = mec_q_quantize(x[i], scale, zp, lo, hi);
        if (y_u8)
            ((uint8_t *)y)[i] = (uint8_t)q;
        else
            ((int8_t *)y)[i] = (int8_t)q;
    }
}

static void dequantize_scalar(const void *x, bool x_u8, float *y, float scale, int32_t zp,
                              int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
        int32_t q = x_u8 ? ((const uint8_t *)x)[i] : ((const int8_t *)x)[i];
        y[i] = (float)(q - zp) * scale;
    }
}

#ifdef MEC_QADD_AVX512
__attribute__((target("avx512f,avx512bw"))) static void
quantize_avx512(const float *x, void *y, bool y_u8, float scale, int32_t zp, float lo, float hi,
                int64_t i0, int64_t i1) {
    const __m512 s = _mm512_set1_ps(scale), z = _mm512_set1_ps((float)zp), vlo = _mm512_set1_ps(lo),
                 vhi = _mm512_set1_ps(hi);
    int64_t i = i0;
    for (; i + 16 <= i1; i += 16) {
        __m512 v = _mm512_div_ps(_mm512_loadu_ps(x + i), s);
        v = _mm512_add_ps(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
                          z);
        v = _mm512_min_ps(_mm512_max_ps(v, vlo), vhi); /* max(NaN, lo) is lo */
        _mm_storeu_si128((__m128i *)((char *)y + i), _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(v)));
    }
    quantize_scalar(x, y, y_u8, scale, zp, lo, hi, i, i1);
}

__attribute__((target("avx512f,avx512bw"))) static void dequantize_avx512(const void *x, bool x_u8,
                                                                          float *y, float scale,
                                                                          int32_t zp, int64_t i0,
                                                                          int64_t i1) {
    const __m512 s = _mm512_set1_ps(scale);
    const __m512i z = _mm512_set1_epi32(zp);
    int64_t i = i0;
    for (; i + 16 <= i1; i += 16) {
        __m128i q = _mm_loadu_si128((const __m128i *)((const char *)x + i));
        __m512i w = x_u8 ? _mm512_cvtepu8_epi32(q) : _mm512_cvtepi8_epi32(q);
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(w, z)), s));
    }
    dequantize_scalar(x, x_u8, y, scale, zp, i, i1);
}
#endif

// QuantizeLinear y = saturate(round(x / scale) + zp); DequantizeLinear y = (x - zp) * scale
static mec_status mec_dnnl_qdq_exec(mec_op_ctx *ctx) {
    qdq_state *qs = ctx->state;
    if (!qs) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "exec without prepare");
    if (qs->fallback) return mec_dnnl_fallback_exec(ctx, &qs->fb);
    const mec_tensor *x = ctx->in[0], *z = ctx->n_in > 2 ? ctx->in[2] : NULL;
    mec_tensor *y = ctx->out[0];
    const float scale = *(const float *)ctx->in[1]->data;
    const int32_t zp = z ? (int32_t)mec_tensor_get_i64(z, 0) : 0;
    const bool quant = is_quantize(ctx);
    const mec_dtype qt = quant ? y->dtype : x->dtype;
    const float lo = mec_q_min(qt), hi = mec_q_max(qt);
    const int64_t n = mec_tensor_numel(x), chunk = 1 << 16, chunks = (n + chunk - 1) / chunk;
#ifdef MEC_QADD_AVX512
    const bool has_avx512 = cpu_avx512bw();
#else
    const bool has_avx512 = false;
#endif
#pragma omp parallel for schedule(static) if (chunks > 1)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t i0 = c * chunk, i1 = i0 + chunk < n ? i0 + chunk : n;
#ifdef MEC_QADD_AVX512
        if (has_avx512) {
            if (quant)
                quantize_avx512(x->data, y->data, qt == MEC_U8, scale, zp, lo, hi, i0, i1);
            else
                dequantize_avx512(x->data, qt == MEC_U8, y->data, scale, zp, i0, i1);
            continue;
        }
#endif
        if (quant)
            quantize_scalar(x->data, y->data, qt == MEC_U8, scale, zp, lo, hi, i0, i1);
        else
            dequantize_scalar(x->data, qt == MEC_U8, y->data, scale, zp, i0, i1);
    }
    return MEC_OK;
}

/* ---------------------------------------------------------- int8 MaxPool */

/* MaxPool on uint8/int8 (what the QDQ pass leaves between a DQ and a Q): a
 * direct loop over channels-last memory. Float MaxPool goes on to the
 * oneDNN float kernel (dnnl_pool.c), which this entry wraps. */
typedef struct qpool_state {
    int kind; /* 0: float (oneDNN pool state in inner), 1: int8 loop, 2: reference */
    void *inner;
    mec_dnnl_fallback fb;
    int64_t k[2], s[2], dl[2], pb[2];
} qpool_state;

static bool qpool_int8(const mec_op_ctx *ctx) { return ctx->in[0] && is_q8_dtype(ctx->in[0]->dtype); }

mec_status mec_dnnl_qpool_infer(mec_op_ctx *ctx) {
    if (!qpool_int8(ctx)) return mec_dnnl_pool_infer(ctx);
    mec_status st = mec_dnnl_ref_infer(ctx);
    if (st) return st;
    if (ctx->in[0]->ndim == 4 && ctx->n_out == 1 && mec_dnnl_is_nhwc(ctx->in[0]) &&
        !mec_tensor_is_contiguous(ctx->in[0]))
        mec_dnnl_nhwc_strides(ctx->out[0]->shape, ctx->out[0]->strides);
    return MEC_OK;
}

mec_status mec_dnnl_qpool_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    qpool_state *ps = mec_calloc(1, sizeof *ps);
    if (!ps) return MEC_ERR_NOMEM;
    *state = ps;
    *scratch_bytes = 0;
    mec_status st;
    if (!qpool_int8(ctx)) {
        st = mec_dnnl_pool_prepare(ctx, &ps->inner, scratch_bytes);
    } else {
        const mec_node *n = ctx->node;
        const int64_t *v = NULL;
        const char *ap = mec_node_string(n, "auto_pad", "NOTSET");
        bool ok = ctx->in[0]->ndim == 4 && (ctx->n_out == 1 || !ctx->out[1]) &&
                  (!strcmp(ap, "NOTSET") || !strcmp(ap, "VALID") || !ap[0]) &&
                  mec_node_ints(n, "kernel_shape", &v) == 2;
        for (int d = 0; ok && d < 2; d++) {
            ps->k[d] = mec_node_ints(n, "kernel_shape", &v) == 2 ? v[d] : 1;
            ps->s[d] = mec_node_ints(n, "strides", &v) == 2 ? v[d] : 1;
            ps->dl[d] = mec_node_ints(n, "dilations", &v) == 2 ? v[d] : 1;
            ps->pb[d] = mec_node_ints(n, "pads", &v) == 4 && strcmp(ap, "VALID") ? v[d] : 0;
        }
        ps->kind = ok ? 1 : 2;
        st = ok ? MEC_OK : mec_dnnl_fallback_prepare(ctx, &ps->fb, scratch_bytes);
    }
    if (st) {
        mec_free(ps);
        *state = NULL;
    }
    return st;
}

void mec_dnnl_qpool_release(void *state) {
    qpool_state *ps = state;
    if (!ps) return;
    if (ps->kind == 0) mec_dnnl_pool_release(ps->inner);
    mec_dnnl_fallback_release(&ps->fb);
    mec_free(ps);
}

// y: (N, C, OH, OW) = max over the window of x (N, C, H, W), uint8 or int8, any dense strides
#define QPOOL_LOOP(T)                                                                            \
    do {                                                                                         \
        const T *xv = ctx->in[0]->data;                                                          \
        T *yv = y->data;                                                                         \
        _Pragma("omp parallel for schedule(static) collapse(2) if (N * OH * OW * C > 65536)")   \
        for (int64_t nn = 0; nn < N; nn++)                                                       \
            for (int64_t oh = 0; oh < OH; oh++)                                                  \
                for (int64_t ow = 0; ow < OW; ow++) {                                            \
                    T *yp = yv + nn * ys[0] + oh * ys[2] + ow * ys[3];                           \
                    for (int64_t c = 0; c < C; c++) yp[c * ys[1]] = lowest;                      \
                    for (int64_t kh = 0; kh < ps->k[0]; kh++) {                                  \
                        int64_t ih = oh * ps->s[0] - ps->pb[0] + kh * ps->dl[0];                 \
                        if (ih < 0 || ih >= H) continue;                                         \
                        for (int64_t kw = 0; kw < ps->k[1]; kw++) {                              \
                            int64_t iw = ow * ps->s[1] - ps->pb[1] + kw * ps->dl[1];             \
                            if (iw < 0 || iw >= W) continue;                                     \
                            const T *xp = xv + nn * xs[0] + ih * xs[2] + iw * xs[3];             \
                            if (xs[1] == 1 && ys[1] == 1) {                                      \
                                _Pragma("omp simd")                                              \
                                for (int64_t c = 0; c < C; c++) yp[c] = xp[c] > yp[c] ? xp[c] : yp[c]; \
                            } else {                                                             \
                                for (int64_t c = 0; c < C; c++)                                  \
                                    if (xp[c * xs[1]] > yp[c * ys[1]]) yp[c * ys[1]] = xp[c * xs[1]]; \
                            }                                                                    \
                        }                                                                        \
                    }                                                                            \
                }                                                                                \
    } while (0)

#ifdef MEC_QADD_AVX512
/* One output pixel of channels-contiguous memory: the max of the n window
 * rows src[i][0, C), 64 channels a step. */
__attribute__((target("avx512f,avx512bw"))) static void qpool_pixel_avx512(bool u8, uint8_t *y,
                                                                           const uint8_t *const *src,
                                                                           int n, int64_t C) {
    for (int64_t c = 0; c < C; c += 64) {
        __mmask64 m = C - c >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (C - c)) - 1);
        __m512i acc = _mm512_set1_epi8(u8 ? 0 : -128);
        for (int i = 0; i < n; i++) {
            __m512i v = _mm512_maskz_loadu_epi8(m, src[i] + c);
            acc = u8 ? _mm512_max_epu8(acc, v) : _mm512_max_epi8(acc, v);
        }
        _mm512_mask_storeu_epi8(y + c, m, acc);
    }
}

/* The int8 MaxPool over channels-last x and y with AVX-512 (false when it
 * does not apply: other layouts, windows over 64 taps, no AVX-512BW). */
static bool qpool_nhwc_avx512(const qpool_state *ps, const mec_tensor *x, mec_tensor *y) {
    if (!cpu_avx512bw() || x->strides[1] != 1 || y->strides[1] != 1 || ps->k[0] * ps->k[1] > 64) return false;
    const int64_t N = y->shape[0], C = y->shape[1], OH = y->shape[2], OW = y->shape[3];
    const int64_t H = x->shape[2], W = x->shape[3];
    const int64_t *xs = x->strides, *ys = y->strides;
    const bool u8 = x->dtype == MEC_U8;
    const uint8_t *xv = x->data;
    uint8_t *yv = y->data;
#pragma omp parallel for schedule(static) collapse(2) if (N * OH * OW * C > 65536)
    for (int64_t nn = 0; nn < N; nn++)
        for (int64_t oh = 0; oh < OH; oh++) {
            const uint8_t *src[64];
            for (int64_t ow = 0; ow < OW; ow++) {
                int n = 0;
                for (int64_t kh = 0; kh < ps->k[0]; kh++) {
                    int64_t ih = oh * ps->s[0] - ps->pb[0] + kh * ps->dl[0];
                    if (ih < 0 || ih >= H) continue;
                    for (int64_t kw = 0; kw < ps->k[1]; kw++) {
                        int64_t iw = ow * ps->s[1] - ps->pb[1] + kw * ps->dl[1];
                        if (iw >= 0 && iw < W) src[n++] = xv + nn * xs[0] + ih * xs[2] + iw * xs[3];
                    }
                }
                qpool_pixel_avx512(u8, yv + nn * ys[0] + oh * ys[2] + ow * ys[3], src, n, C);
            }
        }
    return true;
}
#endif

mec_status mec_dnnl_qpool_exec(mec_op_ctx *ctx) {
    qpool_state *ps = ctx->state;
    if (!ps) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "exec without prepare");
    if (ps->kind == 0) {
        mec_op_ctx c = *ctx;
        c.state = ps->inner;
        return mec_dnnl_pool_exec(&c);
    }
    if (ps->kind == 2) return mec_dnnl_fallback_exec(ctx, &ps->fb);
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    const int64_t N = y->shape[0], C = y->shape[1], OH = y->shape[2], OW = y->shape[3];
    const int64_t H = x->shape[2], W = x->shape[3];
    const int64_t *xs = x->strides, *ys = y->strides;
#ifdef MEC_QADD_AVX512
    if (qpool_nhwc_avx512(ps, x, y)) return MEC_OK;
#endif
    if (x->dtype == MEC_U8) {
        const uint8_t lowest = 0;
        QPOOL_LOOP(uint8_t);
    } else {
        const int8_t lowest = -128;
        QPOOL_LOOP(int8_t);
    }
    return MEC_OK;
}

/* ------------------------------------------------------------------ table */

#define QCONV(op, dom, lo, hi, flags)                                                            \
    {op, dom, lo, hi, "dnnl", MEC_KF_STRIDED | (flags), 0, mec_dnnl_qconv_infer,                \
     mec_dnnl_qconv_exec, mec_dnnl_qconv_prepare, mec_dnnl_qconv_release, mec_qconv_flops}

const mec_kernel mec_kernels_dnnl_int8[] = {
    QCONV("QLinearConv", "", 10, 22, 0),
    /* y may take over the residual's buffer: the sum post-op reads dst in
     * place, the reference reads sum[i] before writing y[i] */
    QCONV("QConv", "mec", 1, 1, MEC_KF_SUM_INPLACE),
    /* the oneDNN float MaxPool's opsets: this entry hands float to it */
    {"MaxPool", "", 8, 17, "dnnl", MEC_KF_STRIDED, 0, mec_dnnl_qpool_infer, mec_dnnl_qpool_exec,
     mec_dnnl_qpool_prepare, mec_dnnl_qpool_release, mec_dnnl_ref_flops},
    {"QAdd", "mec", 1, 1, "dnnl", MEC_KF_STRIDED, 0, mec_dnnl_qadd_infer, mec_dnnl_qadd_exec,
     mec_dnnl_qadd_prepare, mec_dnnl_qadd_release, mec_dnnl_ref_flops},
    /* the reference kernels' opset ranges (10-12 per tensor, 13-18 per axis too) */
    {"QuantizeLinear", "", 10, 18, "dnnl", MEC_KF_STRIDED, 0, mec_dnnl_qdq_infer, mec_dnnl_qdq_exec,
     mec_dnnl_qdq_prepare, mec_dnnl_qdq_release, NULL},
    {"DequantizeLinear", "", 10, 18, "dnnl", MEC_KF_STRIDED, 0, mec_dnnl_qdq_infer,
     mec_dnnl_qdq_exec, mec_dnnl_qdq_prepare, mec_dnnl_qdq_release, NULL},
    {0},
};
