/* MatMul, mec.FusedMatMul and Gemm on oneDNN's matmul: float32, batch dims
 * broadcast, a constant B packed once into oneDNN's layout ("any"); bias,
 * ReLU and exact GELU as post-ops; Gemm's transposes as strides and its
 * alpha/beta/C as bias or post-ops. Other dtypes and empty shapes run the
 * reference kernel. A packed constant B is the kernel's own copy (it tells
 * the runtime so, which frees the model's original once no other node reads
 * it); a prepare for new shapes takes it over from the previous state. */
#include "../fused.h"
#include "dnnl_common.h"

#include <string.h>

#define MM_MAX_ND (MEC_MAX_DIMS + 2)

typedef struct mm_plan {
    int nd;
    int64_t a_dims[MM_MAX_ND], a_str[MM_MAX_ND];
    int64_t b_dims[MM_MAX_ND], b_str[MM_MAX_ND];
    int64_t y_dims[MM_MAX_ND], y_str[MM_MAX_ND];
    int bias_in;                 /* input used as the bias argument, -1 if none */
    int64_t bias_dims[MM_MAX_ND], bias_str[MM_MAX_ND];
    int bin_in;                  /* input added by a binary post-op, -1 if none */
    float scale_before;          /* eltwise_linear before the binary add (1 = none) */
    mec_fused_act act;
} mm_plan;

typedef struct mm_state {
    bool fallback;
    mec_dnnl_fallback fb;
    mec_dnnl_call call;
    mec_dnnl_weights w;          /* fallback: w.packed, if set, is our plain copy of B */
    int bias_in, bin_in;
    size_t packed_off, packed_bytes;
} mm_state;

static void dense_strides(int nd, const int64_t *dims, int64_t *str) {
    int64_t acc = 1;
    for (int d = nd - 1; d >= 0; d--) {
        str[d] = acc;
        acc *= dims[d] > 0 ? dims[d] : 1;
    }
}

static bool all_f32(const mec_op_ctx *ctx) {
    for (int i = 0; i < ctx->n_in; i++)
        if (ctx->in[i] && ctx->in[i]->dtype != MEC_F32) return false;
    return ctx->out[0] && ctx->out[0]->dtype == MEC_F32 && mec_tensor_numel(ctx->out[0]) > 0;
}

/* MatMul / FusedMatMul: (..., M, K) x (..., K, N). false: not for oneDNN. */
static bool plan_matmul(const mec_op_ctx *ctx, mm_plan *p) {
    if (!mec_dnnl_mm_dims(ctx->in[0], ctx->in[1], MM_MAX_ND, &p->nd, p->a_dims, p->b_dims, p->y_dims))
        return false;
    int nd = p->nd;
    dense_strides(nd, p->a_dims, p->a_str);
    dense_strides(nd, p->b_dims, p->b_str);
    dense_strides(nd, p->y_dims, p->y_str);
    p->bias_in = p->bin_in = -1;
    p->scale_before = 1.0f;
    p->act = MEC_ACT_NONE;
    return true;
}

/* Gemm: alpha * op(A) op(B) + beta * C, transposes as strides. */
static bool plan_gemm(const mec_op_ctx *ctx, mm_plan *p) {
    const mec_tensor *a = ctx->in[0], *b = ctx->in[1], *c = ctx->n_in > 2 ? ctx->in[2] : NULL;
    bool ta = mec_node_int(ctx->node, "transA", 0) != 0, tb = mec_node_int(ctx->node, "transB", 0) != 0;
    float alpha = mec_node_float(ctx->node, "alpha", 1.0f), beta = mec_node_float(ctx->node, "beta", 1.0f);
    int64_t M = ta ? a->shape[1] : a->shape[0], K = ta ? a->shape[0] : a->shape[1];
    int64_t N = tb ? b->shape[0] : b->shape[1];
    if (M <= 0 || K <= 0 || N <= 0) return false;
    p->nd = 2;
    p->a_dims[0] = M;
    p->a_dims[1] = K;
    p->a_str[0] = ta ? 1 : K;
    p->a_str[1] = ta ? M : 1;
    p->b_dims[0] = K;
    p->b_dims[1] = N;
    p->b_str[0] = tb ? 1 : N;
    p->b_str[1] = tb ? K : 1;
    p->y_dims[0] = M;
    p->y_dims[1] = N;
    dense_strides(2, p->y_dims, p->y_str);
    p->bias_in = p->bin_in = -1;
    p->scale_before = 1.0f;
    p->act = MEC_ACT_NONE;
    if (!c || beta == 0.0f) {
        p->scale_before = alpha;
        return true;
    }
    /* C broadcast to (M, N): (M, N), (1, N), (M, 1), (1, 1) */
    int64_t cdims[2] = {c->ndim == 2 ? c->shape[0] : 1, c->ndim >= 1 ? c->shape[c->ndim - 1] : 1};
    if (alpha == 1.0f && beta == 1.0f) {
        p->bias_in = 2;
        memcpy(p->bias_dims, cdims, sizeof cdims);
        dense_strides(2, p->bias_dims, p->bias_str);
    } else if (beta == 1.0f) {
        /* alpha * acc, + C */
        p->bin_in = 2;
        memcpy(p->bias_dims, cdims, sizeof cdims);
        dense_strides(2, p->bias_dims, p->bias_str);
        p->scale_before = alpha;
    } else {
        /* alpha/beta * acc, + C, * beta would need two eltwise_linear
         * post-ops with different factors, which oneDNN 2.6's brgemm matmul
         * gets wrong (it applies the first factor twice): the reference runs it */
        return false;
    }
    return true;
}

static bool is_op(const mec_op_ctx *ctx, const char *op) { return !strcmp(ctx->node->op_type, op); }

mec_status mec_dnnl_mm_infer(mec_op_ctx *ctx) { return mec_dnnl_ref_infer(ctx); }

void mec_dnnl_mm_release(void *state) {
    mm_state *ms = state;
    if (!ms) return;
    mec_dnnl_fallback_release(&ms->fb);
    mec_dnnl_call_release(&ms->call);
    mec_dnnl_weights_release(&ms->w);
    mec_free(ms);
}

/* Builds the oneDNN matmul; a constant B comes from `keep` (a previous
 * prepare's copy) when given, else from in[1]. */
static dnnl_status_t mm_build(mec_op_ctx *ctx, mm_state *ms, mec_dnnl_weights *keep,
                              mec_status *st) {
    dnnl_engine_t engine;
    mm_plan p;
    *st = MEC_OK;
    if (!all_f32(ctx)) return dnnl_unimplemented;
    if ((*st = mec_dnnl_env(ctx, &engine, NULL))) return dnnl_runtime_error;
    bool ok = is_op(ctx, "Gemm") ? plan_gemm(ctx, &p) : plan_matmul(ctx, &p);
    if (!ok) return dnnl_unimplemented;
    if (is_op(ctx, "FusedMatMul")) {
        p.act = mec_fused_activation(ctx, st);
        if (*st) return dnnl_invalid_arguments;
        p.bias_in = 2;
        for (int d = 0; d < p.nd; d++) p.bias_dims[d] = d == p.nd - 1 ? p.y_dims[d] : 1;
        dense_strides(p.nd, p.bias_dims, p.bias_str);
    }
    dnnl_memory_desc_t a_md, b_md, bany_md, y_md, bias_md;
    dnnl_status_t s = mec_dnnl_md_raw(&a_md, p.nd, p.a_dims, p.a_str);
    if (s == dnnl_success) s = mec_dnnl_md_raw(&b_md, p.nd, p.b_dims, p.b_str);
    if (s == dnnl_success) s = mec_dnnl_md_raw(&y_md, p.nd, p.y_dims, p.y_str);
    if (s == dnnl_success && (p.bias_in >= 0 || p.bin_in >= 0))
        s = mec_dnnl_md_raw(&bias_md, p.nd, p.bias_dims, p.bias_str);
    bool b_const = (ctx->const_inputs & 2u) != 0;
    dnnl_dims_t bdims;
    for (int d = 0; d < p.nd; d++) bdims[d] = p.b_dims[d];
    if (s == dnnl_success) {
        if (b_const) s = dnnl_memory_desc_init_by_tag(&bany_md, p.nd, bdims, dnnl_f32, dnnl_format_tag_any);
        else bany_md = b_md;
    }
    if (s != dnnl_success) return s;
    dnnl_matmul_desc_t desc;
    s = dnnl_matmul_desc_init(&desc, &a_md, &bany_md, p.bias_in >= 0 ? &bias_md : NULL, &y_md);
    if (s != dnnl_success) return s;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    s = mec_dnnl_attr(&attr);
    bool any_po = p.bin_in >= 0 || p.act != MEC_ACT_NONE || p.scale_before != 1.0f;
    if (s == dnnl_success && any_po) {
        s = dnnl_post_ops_create(&po);
        if (s == dnnl_success && p.scale_before != 1.0f)
            s = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_linear, p.scale_before, 0.0f);
        if (s == dnnl_success && p.bin_in >= 0) s = dnnl_post_ops_append_binary(po, dnnl_binary_add, &bias_md);
        if (s == dnnl_success && p.act == MEC_ACT_RELU)
            s = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
        if (s == dnnl_success && p.act == MEC_ACT_GELU)
            s = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_gelu_erf, 0.0f, 0.0f);
        if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, po);
    }
    /* oneDNN's naive loops are slower than our reference kernels */
    if ((s = mec_dnnl_pd_create(s, &desc, attr, po, engine, &pd)) != dnnl_success) return s;
    dnnl_memory_desc_t bpack_md = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    if ((s = mec_dnnl_call_init(&ms->call, pd)) != dnnl_success) return s;
    /* the binary post-op's argument index counts the post-ops before it */
    int bin_idx = p.scale_before != 1.0f ? 1 : 0;
    s = mec_dnnl_call_arg(&ms->call, DNNL_ARG_SRC, &a_md);
    if (s == dnnl_success) s = mec_dnnl_call_arg(&ms->call, DNNL_ARG_WEIGHTS, &bpack_md);
    if (s == dnnl_success && p.bias_in >= 0) s = mec_dnnl_call_arg(&ms->call, DNNL_ARG_BIAS, &bias_md);
    if (s == dnnl_success) s = mec_dnnl_call_arg(&ms->call, DNNL_ARG_DST, &y_md);
    if (s == dnnl_success && p.bin_in >= 0)
        s = mec_dnnl_call_arg(&ms->call, DNNL_ARG_ATTR_MULTIPLE_POST_OP(bin_idx) | DNNL_ARG_SRC_1, &bias_md);
    if (s != dnnl_success) {
        *st = mec_dnnl_error(ctx, s, "creating the matmul's arguments");
        return s;
    }
    size_t packed = 0, reorder_sp = 0;
    /* last: nothing may fail after B was taken over from `keep` */
    if (b_const && keep) *st = mec_dnnl_weights_adopt(ctx, &ms->w, keep, &b_md, &bpack_md);
    else *st = mec_dnnl_weights_prepare(ctx, &ms->w, &b_md, &bpack_md, ctx->in[1]->data, b_const,
                                        &packed, &reorder_sp);
    if (*st) return dnnl_runtime_error;
    ms->bias_in = p.bias_in;
    ms->bin_in = p.bin_in;
    size_t sp = ms->call.scratchpad_bytes > reorder_sp ? ms->call.scratchpad_bytes : reorder_sp;
    ms->packed_off = mec_dnnl_align(sp);
    ms->packed_bytes = packed;
    mec_log(MEC_LOG_DEBUG, "node '%s' (%s): oneDNN %s, B %s", ctx->node->name, ctx->node->op_type,
            ms->call.impl,
            b_const && keep ? "from the previous prepare's copy"
            : ms->w.reorder ? (b_const ? "packed once" : "packed per run")
                            : "as it is");
    return dnnl_success;
}

mec_status mec_dnnl_mm_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    /* a previous prepare of this node that kept its own copy of B: the
     * runtime may have freed the model's since */
    mm_state *prev = ctx->state;
    mec_dnnl_weights *keep = prev && prev->w.packed ? &prev->w : NULL;
    bool b_const = (ctx->const_inputs & 2u) != 0;
    if (b_const && !keep && !ctx->in[1]->data && mec_tensor_numel(ctx->in[1]) > 0)
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL,
                          "the constant B was freed and no packed copy is left");
    mm_state *ms = mec_calloc(1, sizeof *ms);
    if (!ms) return MEC_ERR_NOMEM;
    *state = ms;
    *scratch_bytes = 0;
    mec_status st = MEC_OK;
    dnnl_status_t s = mm_build(ctx, ms, keep, &st);
    if (!st && s == dnnl_success) {
        *scratch_bytes = ms->packed_off + ms->packed_bytes;
        if (b_const && ms->w.packed) ctx->const_kept |= 2u;
        return MEC_OK;
    }
    if (!st) {
        if (all_f32(ctx))
            mec_log(MEC_LOG_DEBUG, "node '%s' (%s): oneDNN cannot run it (%s); using the reference kernel",
                    ctx->node->name, ctx->node->op_type, dnnl_status2str(s));
        mec_dnnl_call_release(&ms->call);
        mec_dnnl_weights_release(&ms->w);
        ms->fallback = true;
        /* the reference kernel reads B plain: from our copy if we had one */
        st = mec_dnnl_fallback_prepare_own(ctx, &ms->w, b_const ? keep : NULL, &ms->fb, scratch_bytes);
    }
    if (st) {
        if (keep && !keep->packed && ms->w.packed) {
            /* give B back to the previous state (it was moved, not copied) */
            keep->packed = ms->w.packed;
            ms->w.packed = NULL;
        }
        mec_dnnl_mm_release(ms);
        *state = NULL;
    }
    return st;
}

// y: (..., M, N) = [alpha *] a (..., M, K) @ b (..., K, N) [+ bias | beta * C] [relu | gelu]
mec_status mec_dnnl_mm_exec(mec_op_ctx *ctx) {
    mm_state *ms = ctx->state;
    if (!ms) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "exec without prepare");
    if (ms->fallback) {
        mec_op_ctx c;
        const mec_tensor *in[MEC_DNNL_MAX_IN];
        mec_tensor b;
        return mec_dnnl_fallback_exec(mec_dnnl_with_own_weights(ctx, &ms->w, &c, in, &b), &ms->fb);
    }
    char *scratch = ctx->scratch;
    mec_status st;
    const void *b = mec_dnnl_weights_get(ctx, &ms->w, ctx->in[1]->data,
                                         scratch ? scratch + ms->packed_off : NULL, scratch, &st);
    if (!b) return st;
    void *data[5];
    int n = 0;
    data[n++] = ctx->in[0]->data;
    data[n++] = (void *)b;
    if (ms->bias_in >= 0) data[n++] = ctx->in[ms->bias_in]->data;
    data[n++] = ctx->out[0]->data;
    if (ms->bin_in >= 0) data[n++] = ctx->in[ms->bin_in]->data;
    dnnl_status_t s = mec_dnnl_call_run(&ms->call, data, scratch);
    if (s != dnnl_success) return mec_dnnl_error(ctx, s, "running the matmul");
    return MEC_OK;
}
