/* oneDNN plumbing shared by the dnnl kernels: engine/stream, errors, memory
 * descriptors from strided tensors, primitive calls with user scratchpads,
 * prepacked weights, and the reference fallback. */
#include "dnnl_common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

/* ---------------------------------------------------------- engine, stream */

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static dnnl_engine_t env_engine;
static dnnl_stream_t env_stream;
static dnnl_status_t env_status = dnnl_success;

static void env_create(void) {
    env_status = dnnl_engine_create(&env_engine, dnnl_cpu, 0);
    if (env_status == dnnl_success)
        env_status = dnnl_stream_create(&env_stream, env_engine, dnnl_stream_default_flags);
}

mec_status mec_dnnl_env(const mec_op_ctx *ctx, dnnl_engine_t *engine, dnnl_stream_t *stream) {
    pthread_once(&env_once, env_create);
    if (env_status != dnnl_success) return mec_dnnl_error(ctx, env_status, "creating the CPU engine");
    if (engine) *engine = env_engine;
    if (stream) *stream = env_stream;
    return MEC_OK;
}

mec_status mec_dnnl_error(const mec_op_ctx *ctx, dnnl_status_t s, const char *what) {
    mec_status st = MEC_ERR_INTERNAL;
    if (s == dnnl_unimplemented || s == dnnl_invalid_arguments) st = MEC_ERR_UNSUPPORTED;
    else if (s == dnnl_out_of_memory) st = MEC_ERR_NOMEM;
    return MEC_OP_ERR(ctx, st, "oneDNN failed %s: %s (status %d)", what, dnnl_status2str(s), (int)s);
}

/* ------------------------------------------------------- memory descriptors */

void mec_dnnl_nhwc_strides(const int64_t *shape, int64_t *strides) {
    int64_t c = shape[1] > 0 ? shape[1] : 1, h = shape[2] > 0 ? shape[2] : 1,
            w = shape[3] > 0 ? shape[3] : 1;
    strides[1] = 1;
    strides[3] = c;
    strides[2] = w * c;
    strides[0] = h * w * c;
}

bool mec_dnnl_is_nhwc(const mec_tensor *t) {
    if (t->ndim != 4) return false;
    int64_t s[4];
    mec_dnnl_nhwc_strides(t->shape, s);
    for (int d = 0; d < 4; d++)
        if (t->shape[d] != 1 && t->strides[d] != s[d]) return false;
    return true;
}

dnnl_status_t mec_dnnl_md_raw(dnnl_memory_desc_t *md, int nd, const int64_t *dims,
                              const int64_t *strides) {
    dnnl_dims_t d, s;
    if (nd < 1 || nd > DNNL_MAX_NDIMS) return dnnl_unimplemented;
    for (int i = 0; i < nd; i++) {
        d[i] = dims[i];
        s[i] = strides[i];
    }
    return dnnl_memory_desc_init_by_strides(md, nd, d, dnnl_f32, s);
}

dnnl_status_t mec_dnnl_md(dnnl_memory_desc_t *md, const mec_tensor *t, int nd) {
    int64_t dims[MEC_MAX_DIMS + 4], strides[MEC_MAX_DIMS + 4];
    int lead = nd - t->ndim;
    if (lead < 0 || nd > MEC_MAX_DIMS + 4) return dnnl_invalid_arguments;
    if (mec_dnnl_is_nhwc(t) && !mec_tensor_is_contiguous(t)) {
        mec_dnnl_nhwc_strides(t->shape, strides + lead);
    } else if (mec_dnnl_is_nhwc(t) && (t->shape[2] * t->shape[3] == 1)) {
        /* (N, C, 1, 1): both layouts at once; call it NHWC like its neighbours */
        mec_dnnl_nhwc_strides(t->shape, strides + lead);
    } else {
        int64_t acc = 1;
        for (int i = t->ndim - 1; i >= 0; i--) {
            /* size-1 dims get dense strides so that oneDNN matches plain tags */
            strides[lead + i] = t->shape[i] == 1 ? acc : t->strides[i];
            if (t->shape[i] != 1 && t->strides[i] > 0) acc = t->strides[i] * t->shape[i];
            else acc *= t->shape[i] > 0 ? t->shape[i] : 1;
        }
    }
    int64_t outer = 1;
    for (int i = 0; i < t->ndim; i++) {
        dims[lead + i] = t->shape[i];
        int64_t span = strides[lead + i] * (t->shape[i] > 0 ? t->shape[i] : 1);
        if (span > outer) outer = span;
    }
    for (int i = 0; i < lead; i++) {
        dims[i] = 1;
        strides[i] = outer;
    }
    return mec_dnnl_md_raw(md, nd, dims, strides);
}

/* ------------------------------------------------------------------- copies */

void mec_dnnl_copy(mec_tensor *dst, const mec_tensor *src) {
    size_t es = mec_dtype_size(src->dtype);
    int64_t n = mec_tensor_numel(src);
    if (n <= 0 || !es) return;
    bool same = src->ndim == dst->ndim;
    for (int d = 0; d < src->ndim && same; d++)
        if (src->shape[d] != 1 && src->strides[d] != dst->strides[d]) same = false;
    /* the same dense layout on both sides (contiguous, or both NHWC) */
    if (same && (mec_tensor_is_contiguous(src) || mec_dnnl_is_nhwc(src))) {
        memcpy(dst->data, src->data, (size_t)n * es);
        return;
    }
    int nd = src->ndim, last = nd - 1;
    int64_t idx[MEC_MAX_DIMS] = {0};
    int64_t inner = nd ? src->shape[last] : 1, rows = n / inner;
    int64_t ss = nd ? src->strides[last] : 1, ds = nd ? dst->strides[last] : 1;
    for (int64_t r = 0; r < rows; r++) {
        int64_t so = 0, doff = 0;
        for (int d = 0; d < last; d++) {
            so += idx[d] * src->strides[d];
            doff += idx[d] * dst->strides[d];
        }
        const char *sp = (const char *)src->data + (size_t)so * es;
        char *dp = (char *)dst->data + (size_t)doff * es;
        if (es == 4) {
            const float *sf = (const float *)(const void *)sp;
            float *df = (float *)(void *)dp;
            for (int64_t i = 0; i < inner; i++) df[i * ds] = sf[i * ss];
        } else {
            for (int64_t i = 0; i < inner; i++) memcpy(dp + (size_t)(i * ds) * es, sp + (size_t)(i * ss) * es, es);
        }
        for (int d = last - 1; d >= 0; d--) {
            if (++idx[d] < src->shape[d]) break;
            idx[d] = 0;
        }
    }
}

/* ----------------------------------------------------------------- conv */

void mec_dnnl_same_pads(bool upper, int64_t in, int64_t eff, int64_t s, int64_t *pb, int64_t *pe) {
    int64_t out = (in + s - 1) / s, total = (out - 1) * s + eff - in;
    if (total < 0) total = 0;
    *pb = upper ? total / 2 : total - total / 2;
    *pe = total - *pb;
}

/* Pads exactly as the reference conv.c computes them. Attributes were
 * checked by the reference infer. */
void mec_dnnl_conv_geometry(const mec_node *n, const mec_tensor *x, const mec_tensor *w, mec_dnnl_conv_geo *g) {
    const int64_t *v = NULL;
    g->group = mec_node_int(n, "group", 1);
    for (int d = 0; d < 2; d++) {
        g->k[d] = w->shape[2 + d];
        g->s[d] = mec_node_ints(n, "strides", &v) == 2 ? v[d] : 1;
        g->dl[d] = mec_node_ints(n, "dilations", &v) == 2 ? v[d] : 1;
        bool has_pads = mec_node_ints(n, "pads", &v) == 4;
        g->pb[d] = has_pads ? v[d] : 0;
        g->pe[d] = has_pads ? v[2 + d] : 0;
    }
    const char *ap = mec_node_string(n, "auto_pad", "NOTSET");
    bool upper = !strcmp(ap, "SAME_UPPER"), lower = !strcmp(ap, "SAME_LOWER");
    for (int d = 0; d < 2; d++) {
        int64_t in = x->shape[2 + d], eff = (g->k[d] - 1) * g->dl[d] + 1;
        if (upper || lower) {
            mec_dnnl_same_pads(upper, in, eff, g->s[d], &g->pb[d], &g->pe[d]);
        } else if (!strcmp(ap, "VALID")) {
            g->pb[d] = g->pe[d] = 0;
        }
    }
}

/* --------------------------------------------------------------- primitives */

dnnl_status_t mec_dnnl_attr(dnnl_primitive_attr_t *attr) {
    dnnl_status_t s = dnnl_primitive_attr_create(attr);
    if (s != dnnl_success) return s;
    s = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
    if (s != dnnl_success) {
        dnnl_primitive_attr_destroy(*attr);
        *attr = NULL;
    }
    return s;
}

static bool is_ref_impl(const_dnnl_primitive_desc_t pd) {
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl)
        return false;
    return !strncmp(impl, "ref", 3);
}

dnnl_status_t mec_dnnl_pd_create(dnnl_status_t s, const_dnnl_op_desc_t desc, dnnl_primitive_attr_t attr,
                                 dnnl_post_ops_t po, dnnl_engine_t engine, dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    if (s == dnnl_success) s = dnnl_primitive_desc_create(pd, desc, attr, engine, NULL);
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (s == dnnl_success && is_ref_impl(*pd)) {
        dnnl_primitive_desc_destroy(*pd);
        *pd = NULL;
        s = dnnl_unimplemented;
    }
    return s;
}

dnnl_status_t mec_dnnl_call_init(mec_dnnl_call *c, dnnl_primitive_desc_t pd) {
    memset(c, 0, sizeof *c);
    const char *impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl)
        snprintf(c->impl, sizeof c->impl, "%s", impl);
    const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t sp_bytes = sp ? dnnl_memory_desc_get_size(sp) : 0;
    dnnl_status_t s = dnnl_primitive_create(&c->prim, pd);
    if (s == dnnl_success && sp_bytes) {
        c->scratchpad_bytes = sp_bytes;
        s = mec_dnnl_call_arg(c, DNNL_ARG_SCRATCHPAD, sp);
    }
    dnnl_primitive_desc_destroy(pd);
    if (s != dnnl_success) mec_dnnl_call_release(c);
    return s;
}

dnnl_status_t mec_dnnl_call_arg(mec_dnnl_call *c, int arg, const dnnl_memory_desc_t *md) {
    dnnl_engine_t engine;
    if (c->n_args == MEC_DNNL_MAX_ARGS) return dnnl_invalid_arguments;
    pthread_once(&env_once, env_create);
    if (env_status != dnnl_success) return env_status;
    engine = env_engine;
    dnnl_memory_t m = NULL;
    dnnl_status_t s = dnnl_memory_create(&m, md, engine, DNNL_MEMORY_NONE);
    if (s != dnnl_success) return s;
    c->args[c->n_args].arg = arg;
    c->args[c->n_args].memory = m;
    c->n_args++;
    return dnnl_success;
}

dnnl_status_t mec_dnnl_call_run(mec_dnnl_call *c, void *const *data, void *scratch) {
    int k = 0;
    for (int i = 0; i < c->n_args; i++) {
        void *p = c->args[i].arg == DNNL_ARG_SCRATCHPAD ? scratch : data[k++];
        dnnl_status_t s = dnnl_memory_set_data_handle(c->args[i].memory, p);
        if (s != dnnl_success) return s;
    }
    return dnnl_primitive_execute(c->prim, env_stream, c->n_args, c->args);
}

void mec_dnnl_call_release(mec_dnnl_call *c) {
    for (int i = 0; i < c->n_args; i++)
        if (c->args[i].memory) dnnl_memory_destroy(c->args[i].memory);
    if (c->prim) dnnl_primitive_destroy(c->prim);
    c->n_args = 0;
    c->prim = NULL;
}

/* ------------------------------------------------------------------ weights */

dnnl_status_t mec_dnnl_reorder_init(mec_dnnl_call *c, dnnl_engine_t engine,
                                    const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to) {
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s = mec_dnnl_attr(&attr);
    if (s == dnnl_success)
        s = dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, attr);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (s == dnnl_success) s = mec_dnnl_call_init(c, pd);
    if (s == dnnl_success) s = mec_dnnl_call_arg(c, DNNL_ARG_FROM, from);
    if (s == dnnl_success) s = mec_dnnl_call_arg(c, DNNL_ARG_TO, to);
    if (s != dnnl_success) mec_dnnl_call_release(c);
    return s;
}

/* Runs reorder c once from src into dst, with a scratchpad of its own. */
static mec_status reorder_run_once(const mec_op_ctx *ctx, mec_dnnl_call *c, const void *src,
                                   void *dst) {
    void *sp = c->scratchpad_bytes ? mec_malloc(c->scratchpad_bytes) : NULL;
    if (c->scratchpad_bytes && !sp) return MEC_ERR_NOMEM;
    void *args[2] = {(void *)src, dst};
    dnnl_status_t s = mec_dnnl_call_run(c, args, sp);
    mec_free(sp);
    return s == dnnl_success ? MEC_OK : mec_dnnl_error(ctx, s, "packing the weights");
}

mec_status mec_dnnl_weights_prepare(const mec_op_ctx *ctx, mec_dnnl_weights *w,
                                    const dnnl_memory_desc_t *user, const dnnl_memory_desc_t *want,
                                    const void *data, bool constant, size_t *scratch_packed,
                                    size_t *scratchpad) {
    dnnl_engine_t engine = NULL;
    mec_status st = mec_dnnl_env(ctx, &engine, NULL);
    if (st) return st;
    memset(w, 0, sizeof *w);
    *scratch_packed = *scratchpad = 0;
    w->constant = constant;
    w->user_md = *user;
    w->packed_md = *want;
    if (dnnl_memory_desc_equal(user, want)) return MEC_OK;
    w->reorder = true;
    w->bytes = dnnl_memory_desc_get_size(want);
    dnnl_status_t s = mec_dnnl_reorder_init(&w->call, engine, user, want);
    if (s != dnnl_success) {
        mec_dnnl_weights_release(w);
        return mec_dnnl_error(ctx, s, "creating the weights reorder");
    }
    if (!constant) {
        *scratch_packed = w->bytes;
        *scratchpad = w->call.scratchpad_bytes;
        return MEC_OK;
    }
    /* pack once now; the reorder is not needed after that */
    w->packed = mec_malloc(w->bytes);
    st = w->packed ? reorder_run_once(ctx, &w->call, data, w->packed) : MEC_ERR_NOMEM;
    mec_dnnl_call_release(&w->call);
    if (st) mec_dnnl_weights_release(w);
    return st;
}

mec_status mec_dnnl_weights_adopt(const mec_op_ctx *ctx, mec_dnnl_weights *w,
                                  mec_dnnl_weights *from, const dnnl_memory_desc_t *user,
                                  const dnnl_memory_desc_t *want) {
    dnnl_engine_t engine = NULL;
    mec_status st = mec_dnnl_env(ctx, &engine, NULL);
    if (st) return st;
    memset(w, 0, sizeof *w);
    if (!from->packed)
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL,
                          "no packed copy of the constant weights to take over");
    if (dnnl_memory_desc_equal(&from->packed_md, want)) {
        /* the same layout (the usual case: it does not depend on the rows of A) */
        *w = (mec_dnnl_weights){.reorder = true, .constant = true, .packed = from->packed,
                                .bytes = from->bytes, .user_md = *user, .packed_md = *want};
        from->packed = NULL;
        return MEC_OK;
    }
    size_t plain_bytes = dnnl_memory_desc_get_size(&from->user_md);
    if (dnnl_memory_desc_get_size(user) != plain_bytes)
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL,
                          "the constant weights changed size (%zu vs %zu bytes)",
                          dnnl_memory_desc_get_size(user), plain_bytes);
    /* back to the original's layout, then packed as from the original */
    mec_log(MEC_LOG_DEBUG, "node '%s' (%s): weights repacked from the previous layout",
            ctx->node->name, ctx->node->op_type);
    void *plain = mec_malloc(plain_bytes);
    if (!plain) return MEC_ERR_NOMEM;
    mec_dnnl_call unpack;
    memset(&unpack, 0, sizeof unpack);
    dnnl_status_t s = mec_dnnl_reorder_init(&unpack, engine, &from->packed_md, &from->user_md);
    st = s == dnnl_success ? reorder_run_once(ctx, &unpack, from->packed, plain)
                           : mec_dnnl_error(ctx, s, "creating the weights unpacking reorder");
    mec_dnnl_call_release(&unpack);
    size_t unused_packed, unused_sp;
    if (!st)
        st = mec_dnnl_weights_prepare(ctx, w, user, want, plain, true, &unused_packed, &unused_sp);
    if (st || w->packed) {
        mec_free(plain);
        return st;
    }
    /* `want` is the user layout: the plain copy is ours */
    w->reorder = true;
    w->packed = plain;
    w->bytes = plain_bytes;
    return MEC_OK;
}

const void *mec_dnnl_weights_get(const mec_op_ctx *ctx, mec_dnnl_weights *w, const void *data,
                                 void *packed_scratch, void *scratchpad, mec_status *st) {
    *st = MEC_OK;
    if (w->packed) return w->packed;
    if (!w->reorder) return data;
    void *args[2] = {(void *)data, packed_scratch};
    dnnl_status_t s = mec_dnnl_call_run(&w->call, args, scratchpad);
    if (s != dnnl_success) {
        *st = mec_dnnl_error(ctx, s, "packing the weights");
        return NULL;
    }
    return packed_scratch;
}

void mec_dnnl_weights_release(mec_dnnl_weights *w) {
    mec_dnnl_call_release(&w->call);
    mec_free(w->packed);
    w->packed = NULL;
}

mec_op_ctx *mec_dnnl_with_own_weights(mec_op_ctx *ctx, const mec_dnnl_weights *w, mec_op_ctx *c,
                                      const mec_tensor **in, mec_tensor *t) {
    if (!w->packed || ctx->n_in > MEC_DNNL_MAX_IN) return ctx;
    *c = *ctx;
    for (int i = 0; i < ctx->n_in; i++)
        in[i] = ctx->in[i];
    *t = *ctx->in[1];
    t->data = w->packed;
    t->owned = NULL;
    t->capacity = 0;
    in[1] = t;
    c->in = in;
    return c;
}

bool mec_dnnl_mm_dims(const mec_tensor *a, const mec_tensor *b, int max_nd, int *nd, int64_t *a_dims,
                      int64_t *b_dims, int64_t *y_dims) {
    int64_t as[MEC_MAX_DIMS + 1], bs[MEC_MAX_DIMS + 1];
    int an = a->ndim, bn = b->ndim;
    if (an < 1 || bn < 1 || an > MEC_MAX_DIMS || bn > MEC_MAX_DIMS) return false;
    if (an == 1) {
        as[0] = 1;
        as[1] = a->shape[0];
        an = 2;
    } else {
        memcpy(as, a->shape, sizeof(int64_t) * (size_t)an);
    }
    if (bn == 1) {
        bs[0] = b->shape[0];
        bs[1] = 1;
        bn = 2;
    } else {
        memcpy(bs, b->shape, sizeof(int64_t) * (size_t)bn);
    }
    int64_t M = as[an - 2], K = as[an - 1], N = bs[bn - 1], a_batch = 1, b_batch = 1;
    if (M <= 0 || K <= 0 || N <= 0) return false;
    for (int d = 0; d < an - 2; d++) a_batch *= as[d];
    for (int d = 0; d < bn - 2; d++) b_batch *= bs[d];
    int nb = b_batch == 1 ? 0 : (an > bn ? an : bn) - 2;
    if (nb + 2 > max_nd) return false;
    *nd = nb + 2;
    if (b_batch == 1) {
        /* one B for every batch: a single (batch * M, K) x (K, N) product */
        a_dims[0] = a_batch * M;
    } else {
        for (int d = 0; d < nb; d++) {
            int ia = d - (nb - (an - 2)), ib = d - (nb - (bn - 2));
            a_dims[d] = ia >= 0 ? as[ia] : 1;
            b_dims[d] = ib >= 0 ? bs[ib] : 1;
            y_dims[d] = a_dims[d] > b_dims[d] ? a_dims[d] : b_dims[d];
        }
        a_dims[nb] = M;
    }
    a_dims[nb + 1] = K;
    b_dims[nb] = K;
    b_dims[nb + 1] = N;
    y_dims[nb] = a_dims[nb];
    y_dims[nb + 1] = N;
    return true;
}

mec_status mec_dnnl_fallback_prepare_own(mec_op_ctx *ctx, mec_dnnl_weights *w, mec_dnnl_weights *keep,
                                         mec_dnnl_fallback *fb, size_t *scratch_bytes) {
    mec_status st = keep ? mec_dnnl_weights_adopt(ctx, w, keep, &keep->user_md, &keep->user_md) : MEC_OK;
    if (st) return st;
    mec_op_ctx c = *ctx, cw;
    c.state = NULL; /* a previous state is the fast kernel's, not the reference kernel's */
    const mec_tensor *in[MEC_DNNL_MAX_IN];
    mec_tensor t;
    st = mec_dnnl_fallback_prepare(mec_dnnl_with_own_weights(&c, w, &cw, in, &t), fb, scratch_bytes);
    if (!st && w->packed) ctx->const_kept |= 2u;
    return st;
}

/* ----------------------------------------------------------------- fallback */

const mec_kernel *mec_dnnl_ref(const mec_op_ctx *ctx) {
    return mec_op_find(ctx->node->domain, ctx->node->op_type, ctx->opset, "ref");
}

mec_status mec_dnnl_ref_infer(mec_op_ctx *ctx) {
    const mec_kernel *k = mec_dnnl_ref(ctx);
    if (!k) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "no reference kernel to check it");
    return k->infer(ctx);
}

int64_t mec_dnnl_ref_flops(const mec_op_ctx *ctx) {
    const mec_kernel *k = mec_dnnl_ref(ctx);
    return k && k->flops ? k->flops(ctx) : 0;
}

/* Contiguous stand-ins for the inputs and outputs, data in scratch where a
 * copy is needed (scratch NULL: only plan the offsets). */
static void fallback_views(const mec_op_ctx *ctx, const mec_dnnl_fallback *fb, char *scratch,
                           mec_tensor *tin, const mec_tensor **pin, mec_tensor *tout,
                           mec_tensor **pout) {
    for (int i = 0; i < ctx->n_in; i++) {
        pin[i] = ctx->in[i];
        if (!ctx->in[i] || fb->in_off[i] == SIZE_MAX) continue;
        tin[i] = *ctx->in[i];
        tin[i].owned = NULL;
        mec_tensor_contiguous_strides(&tin[i]);
        if (scratch) tin[i].data = scratch + fb->in_off[i];
        pin[i] = &tin[i];
    }
    for (int j = 0; j < ctx->n_out; j++) pout[j] = ctx->out[j];
    if (ctx->n_out > 0 && ctx->out[0] && fb->out_off != SIZE_MAX) {
        tout[0] = *ctx->out[0];
        tout[0].owned = NULL;
        mec_tensor_contiguous_strides(&tout[0]);
        if (scratch) tout[0].data = scratch + fb->out_off;
        pout[0] = &tout[0];
    }
}

mec_status mec_dnnl_fallback_prepare(mec_op_ctx *ctx, mec_dnnl_fallback *fb, size_t *scratch_bytes) {
    memset(fb, 0, sizeof *fb);
    fb->ref = mec_dnnl_ref(ctx);
    if (!fb->ref) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "no reference kernel to fall back on");
    if (ctx->n_in > MEC_DNNL_MAX_IN || ctx->n_out > 8)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "too many inputs or outputs for the fallback");
    size_t off = 0;
    for (int i = 0; i < MEC_DNNL_MAX_IN; i++) fb->in_off[i] = SIZE_MAX;
    fb->out_off = SIZE_MAX;
    for (int i = 0; i < ctx->n_in; i++) {
        if (!ctx->in[i] || mec_tensor_is_contiguous(ctx->in[i])) continue;
        fb->in_off[i] = off;
        off = mec_dnnl_align(off + mec_tensor_bytes(ctx->in[i]));
    }
    if (ctx->n_out > 0 && ctx->out[0] && !mec_tensor_is_contiguous(ctx->out[0])) {
        fb->out_off = off;
        off = mec_dnnl_align(off + mec_tensor_bytes(ctx->out[0]));
    }
    fb->ref_off = off;
    mec_tensor tin[MEC_DNNL_MAX_IN], tout[8];
    const mec_tensor *pin[MEC_DNNL_MAX_IN];
    mec_tensor *pout[8];
    fallback_views(ctx, fb, NULL, tin, pin, tout, pout);
    mec_op_ctx c = *ctx;
    c.in = pin;
    c.out = pout;
    if (fb->ref->prepare) {
        mec_status st = fb->ref->prepare(&c, &fb->state, &fb->ref_scratch);
        if (st) return st;
    }
    *scratch_bytes = off + fb->ref_scratch;
    return MEC_OK;
}

mec_status mec_dnnl_fallback_exec(mec_op_ctx *ctx, const mec_dnnl_fallback *fb) {
    mec_tensor tin[MEC_DNNL_MAX_IN], tout[8];
    const mec_tensor *pin[MEC_DNNL_MAX_IN];
    mec_tensor *pout[8];
    char *scratch = ctx->scratch;
    if (fb->ref_off && !scratch)
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "fallback without its scratch memory");
    fallback_views(ctx, fb, scratch, tin, pin, tout, pout);
    for (int i = 0; i < ctx->n_in; i++)
        if (pin[i] && pin[i] != ctx->in[i]) mec_dnnl_copy(&tin[i], ctx->in[i]);
    mec_op_ctx c = *ctx;
    c.in = pin;
    c.out = pout;
    c.state = fb->state;
    c.scratch = fb->ref_scratch ? scratch + fb->ref_off : NULL;
    c.scratch_bytes = fb->ref_scratch;
    mec_status st = fb->ref->exec(&c);
    if (st) return st;
    if (pout[0] != ctx->out[0]) mec_dnnl_copy(ctx->out[0], &tout[0]);
    return MEC_OK;
}

void mec_dnnl_fallback_release(mec_dnnl_fallback *fb) {
    if (fb->ref && fb->ref->release && fb->state) fb->ref->release(fb->state);
    fb->state = NULL;
}

const char *mec_op_fast_library(void) {
    static char text[64];
    if (!text[0]) {
        const dnnl_version_t *v = dnnl_version();
        snprintf(text, sizeof text, "oneDNN %d.%d.%d (%s)", v->major, v->minor, v->patch,
                 v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other CPU runtime");
    }
    return text;
}

void *mec_dnnl_to_nhwc(const mec_tensor *x, void *buf) {
    mec_tensor nhwc = *x;
    nhwc.data = buf;
    nhwc.owned = NULL;
    mec_dnnl_nhwc_strides(nhwc.shape, nhwc.strides);
    mec_dnnl_copy(&nhwc, x);
    return buf;
}
