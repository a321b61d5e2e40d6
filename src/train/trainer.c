/* The trainer: finds parameters, runs the graph forward keeping every
 * activation, runs backward kernels in reverse topological order, and puts
 * loss, clipping and the optimiser together into mec_train_step. */
#include "train_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void mec_train_config_default(mec_train_config *c) {
    memset(c, 0, sizeof *c);
    c->loss = MEC_LOSS_CROSS_ENTROPY;
    c->ignore_index = -100;
    c->kd_temperature = 4.0f;
    c->kd_alpha = 0.9f;
    c->optim = MEC_OPTIM_SGD;
    c->lr = 0.01f;
    c->momentum = 0.9f;
    c->decay_1d = true;
    c->beta1 = 0.9f;
    c->beta2 = 0.999f;
    c->eps = 1e-8f;
    c->schedule = MEC_LR_CONSTANT;
    c->gamma = 0.1f;
    c->seed = 0x5eed;
}

/* ------------------------------------------------------------- the table */

static const mec_bw_op *const bw_tables[] = {mec_bw_ops_elementwise, mec_bw_ops_conv,
                                             mec_bw_ops_norm,        mec_bw_ops_shape,
                                             mec_bw_ops_gemm,        mec_bw_ops_pool};

const mec_bw_op *mec_bw_find(const char *op_type) {
    for (size_t t = 0; t < sizeof bw_tables / sizeof bw_tables[0]; t++)
        for (const mec_bw_op *o = bw_tables[t]; o->op_type; o++)
            if (!strcmp(o->op_type, op_type)) return o;
    return NULL;
}

bool mec_bw_nondiff(const char *op_type) {
    static const char *const ops[] = {
        "Shape", "Size", "Cast", "CastLike", "Constant", "ConstantOfShape", "Range", "Equal",
        "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or", "Xor", "CumSum",
        "ArgMax", "ArgMin", "NonZero", "OneHot", "EyeLike", "Floor", "Ceil", "Round", "Sign",
        "IsNaN", "IsInf", "TopK", NULL};
    for (int i = 0; ops[i]; i++)
        if (!strcmp(ops[i], op_type)) return true;
    return false;
}

mec_status mec_bw_error(const mec_bw_ctx *ctx, mec_status s, const char *fmt, ...) {
    char msg[512], label[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mec_error(s, "node %s: backward: %s",
                     mec_node_label(ctx->graph, ctx->node_id, label, sizeof label), msg);
}

/* ------------------------------------------------------------- lifecycle */

static int64_t node_opset(const mec_graph *g, const mec_node *n) {
    int64_t v = mec_graph_opset(g, n->domain);
    if (v == 0 && (!n->domain || !*n->domain)) v = mec_graph_opset(g, "");
    return v;
}

void mec_train_destroy(mec_trainer *t) {
    if (!t) return;
    if (t->g) {
        for (int v = 0; v < t->g->n_values && t->val; v++) {
            if (!t->g->values[v].init) mec_tensor_release(&t->val[v]);
            if (t->grad) mec_tensor_release(&t->grad[v]);
        }
        for (int i = 0; i < t->g->n_nodes && t->saved; i++) mec_free(t->saved[i]);
    }
    for (int p = 0; p < t->n_params; p++) {
        if (t->opt_m) mec_free(t->opt_m[p]);
        if (t->opt_v) mec_free(t->opt_v[p]);
    }
    mec_free(t->opt_m);
    mec_free(t->opt_v);
    mec_free(t->param_val);
    mec_free(t->buffer_val);
    mec_free(t->kern);
    mec_free(t->bw);
    mec_free(t->opset);
    mec_free(t->saved);
    mec_free(t->val);
    mec_free(t->grad);
    mec_free(t->req);
    mec_free(t->has_grad);
    mec_free(t->is_param);
    mec_free(t->scratch);
    mec_tensor_release(&t->dlogits);
    mec_graph_destroy(t->g);
    mec_free(t);
}

/* Makes t (shaped) own a contiguous buffer of its size; the data is not
 * cleared. */
static mec_status buf_ensure(mec_tensor *t) {
    size_t esize = mec_dtype_size(t->dtype);
    if (!esize)
        return mec_error(MEC_ERR_UNSUPPORTED, "cannot hold a tensor of dtype %s",
                         mec_dtype_name(t->dtype));
    size_t bytes = (size_t)mec_tensor_numel(t) * esize;
    if (!t->owned || t->capacity < bytes) {
        void *p = mec_malloc(bytes);
        if (!p) return MEC_ERR_NOMEM;
        mec_free(t->owned);
        t->owned = p;
        t->capacity = bytes;
    }
    t->data = t->owned;
    mec_tensor_contiguous_strides(t);
    return MEC_OK;
}

/* Gives grad[v] value v's shape and zeros it. */
static mec_status grad_zeroed(mec_trainer *t, int v) {
    mec_tensor *gr = &t->grad[v];
    const mec_tensor *x = &t->val[v];
    gr->dtype = MEC_F32;
    gr->ndim = x->ndim;
    for (int d = 0; d < x->ndim; d++) gr->shape[d] = x->shape[d];
    mec_status st = buf_ensure(gr);
    if (st) return st;
    memset(gr->data, 0, mec_tensor_bytes(gr));
    t->has_grad[v] = 1;
    return MEC_OK;
}

/* Which values can carry a gradient, and the parameters; lists every op a
 * gradient would need to pass but cannot. */
static mec_status find_params(mec_trainer *t) {
    const mec_graph *g = t->g;
    char problems[2048] = "";
    size_t used = 0;
    int n_problems = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const mec_node *n = &g->nodes[i];
        const mec_bw_op *bw = t->bw[i];
        if (!bw) continue;
        for (int j = 0; j < n->n_in && j < 32; j++) {
            int v = n->in[j];
            if (v < 0 || !(bw->diff_inputs & (1u << j))) continue;
            const mec_value *val = &g->values[v];
            /* one-element initializers are constants (1/sqrt(d), GELU's 0.5 ...), not weights */
            if (val->init && val->init->dtype == MEC_F32 && !val->is_input &&
                mec_tensor_numel(val->init) > 1)
                t->is_param[v] = 1;
        }
    }
    for (int v = 0; v < g->n_values; v++) t->req[v] = t->is_param[v];
    for (int i = 0; i < g->n_nodes; i++) {
        const mec_node *n = &g->nodes[i];
        const mec_bw_op *bw = t->bw[i];
        bool any = false, any_diff = false;
        for (int j = 0; j < n->n_in; j++) {
            int v = n->in[j];
            if (v < 0 || !t->req[v]) continue;
            any = true;
            if (bw && j < 32 && (bw->diff_inputs & (1u << j))) any_diff = true;
        }
        if (!any) continue;
        if (!bw) {
            if (mec_bw_nondiff(n->op_type)) continue;
            bool seen = false;
            for (int k = 0; k < i && !seen; k++) seen = !t->bw[k] && !strcmp(g->nodes[k].op_type, n->op_type);
            n_problems++;
            if (!seen && used + 200 < sizeof problems) {
                char label[300];
                used += (size_t)snprintf(problems + used, sizeof problems - used,
                                         "  op %s has no backward (first at node %s)\n", n->op_type,
                                         mec_node_label(g, i, label, sizeof label));
            }
            continue;
        }
        if (!any_diff) continue;
        for (int j = 0; j < n->n_out; j++) {
            int v = n->out[j];
            /* Only float outputs carry gradients (Dropout's mask does not). */
            if (v >= 0 && j == 0) t->req[v] = 1;
            else if (v >= 0 && !strcmp(n->op_type, "Split")) t->req[v] = 1;
        }
    }
    if (n_problems)
        return mec_error(MEC_ERR_UNSUPPORTED, "the model cannot be trained:\n%s", problems);
    for (int v = 0; v < g->n_values; v++) t->n_params += t->is_param[v];
    t->param_val = mec_calloc((size_t)t->n_params + 1, sizeof(int));
    t->opt_m = mec_calloc((size_t)t->n_params + 1, sizeof(float *));
    t->opt_v = mec_calloc((size_t)t->n_params + 1, sizeof(float *));
    if (!t->param_val || !t->opt_m || !t->opt_v) return MEC_ERR_NOMEM;
    int p = 0;
    for (int v = 0; v < g->n_values; v++)
        if (t->is_param[v]) {
            t->param_val[p++] = v;
            mec_status st = grad_zeroed(t, v);
            if (st) return st;
        }
    /* buffers: BatchNorm running statistics */
    int nb = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].op_type, "BatchNormalization")) nb += 2;
    t->buffer_val = mec_calloc((size_t)nb + 1, sizeof(int));
    if (!t->buffer_val) return MEC_ERR_NOMEM;
    for (int i = 0; i < g->n_nodes; i++) {
        const mec_node *n = &g->nodes[i];
        if (strcmp(n->op_type, "BatchNormalization") || n->n_in < 5) continue;
        for (int j = 3; j < 5; j++) {
            int v = n->in[j];
            if (v < 0 || !g->values[v].init || g->values[v].init->dtype != MEC_F32) continue;
            bool dup = false;
            for (int k = 0; k < t->n_buffers && !dup; k++) dup = t->buffer_val[k] == v;
            if (!dup) t->buffer_val[t->n_buffers++] = v;
        }
    }
    return MEC_OK;
}

mec_status mec_train_create(const mec_graph *g, const mec_train_config *cfg, mec_trainer **out) {
    *out = NULL;
    mec_trainer *t = mec_calloc(1, sizeof *t);
    if (!t) return MEC_ERR_NOMEM;
    if (cfg) t->cfg = *cfg;
    else mec_train_config_default(&t->cfg);
    t->rng = t->cfg.seed ? t->cfg.seed : 0x5eed;
    mec_status st = mec_graph_clone(g, &t->g);
    if (!st) st = mec_graph_toposort(t->g);
    if (st) {
        mec_train_destroy(t);
        return st;
    }
    const mec_graph *G = t->g;
    size_t nn = (size_t)G->n_nodes + 1, nv = (size_t)G->n_values + 1;
    t->kern = mec_calloc(nn, sizeof *t->kern);
    t->bw = mec_calloc(nn, sizeof *t->bw);
    t->opset = mec_calloc(nn, sizeof *t->opset);
    t->saved = mec_calloc(nn, sizeof *t->saved);
    t->val = mec_calloc(nv, sizeof *t->val);
    t->grad = mec_calloc(nv, sizeof *t->grad);
    t->req = mec_calloc(nv, 1);
    t->has_grad = mec_calloc(nv, 1);
    t->is_param = mec_calloc(nv, 1);
    if (!t->kern || !t->bw || !t->opset || !t->saved || !t->val || !t->grad || !t->req ||
        !t->has_grad || !t->is_param) {
        mec_train_destroy(t);
        return MEC_ERR_NOMEM;
    }
    char problems[2048] = "";
    size_t used = 0;
    int n_problems = 0;
    for (int i = 0; i < G->n_nodes; i++) {
        const mec_node *n = &G->nodes[i];
        t->opset[i] = node_opset(G, n);
        t->kern[i] = mec_op_find(n->domain, n->op_type, t->opset[i], "ref");
        if (!n->domain || !*n->domain || !strcmp(n->domain, "ai.onnx")) t->bw[i] = mec_bw_find(n->op_type);
        if (!t->kern[i] && !(t->bw[i] && t->bw[i]->forward)) {
            char label[300];
            n_problems++;
            if (used + 200 < sizeof problems)
                used += (size_t)snprintf(problems + used, sizeof problems - used,
                                         "  op %s at opset %" PRId64 " has no kernel (node %s)\n",
                                         n->op_type, t->opset[i],
                                         mec_node_label(G, i, label, sizeof label));
        }
    }
    if (n_problems) {
        st = mec_error(MEC_ERR_UNSUPPORTED, "the model cannot run:\n%s", problems);
        mec_train_destroy(t);
        return st;
    }
    for (int v = 0; v < G->n_values; v++)
        if (G->values[v].init) {
            t->val[v] = *G->values[v].init;
            t->val[v].owned = NULL;
            t->val[v].capacity = 0;
        }
    if ((st = find_params(t))) {
        mec_train_destroy(t);
        return st;
    }
    const char *lname = t->cfg.output;
    if (lname) t->loss_value = mec_graph_find(G, lname);
    else t->loss_value = G->n_outputs > 0 ? G->outputs[0] : -1;
    if (t->loss_value < 0) {
        st = mec_error(MEC_ERR_NOT_FOUND, "the model has no output %s%s%s", lname ? "'" : "",
                       lname ? lname : "at all", lname ? "'" : "");
        mec_train_destroy(t);
        return st;
    }
    t->cfg.output = NULL; /* the caller's string need not outlive the call */
    mec_threads_set(t->cfg.threads);
    *out = t;
    return MEC_OK;
}

/* --------------------------------------------------------------- forward */

static mec_status run_forward_node(mec_trainer *t, int i, bool training) {
    const mec_graph *g = t->g;
    const mec_node *n = &g->nodes[i];
    const mec_kernel *k = t->kern[i];
    const mec_bw_op *bw = t->bw[i];
    const mec_tensor *in_ptr[64];
    mec_tensor *out_ptr[64];
    if (n->n_in > 64 || n->n_out > 64)
        return mec_error(MEC_ERR_UNSUPPORTED, "node '%s' has more than 64 inputs or outputs", n->name);
    for (int j = 0; j < n->n_in; j++) in_ptr[j] = n->in[j] >= 0 ? &t->val[n->in[j]] : NULL;
    for (int j = 0; j < n->n_out; j++) out_ptr[j] = n->out[j] >= 0 ? &t->val[n->out[j]] : NULL;
    mec_op_ctx ctx = {g, i, n, t->opset[i], n->n_in, in_ptr, n->n_out, out_ptr, NULL, NULL, 0, 0, 0, 0};
    for (int j = 0; j < n->n_in; j++)
        if (in_ptr[j] && !in_ptr[j]->data && mec_tensor_numel(in_ptr[j]) > 0) {
            char label[300];
            return mec_error(MEC_ERR_INVALID_ARG, "node %s: input '%s' was not given",
                             mec_node_label(g, i, label, sizeof label), g->values[n->in[j]].name);
        }
    mec_status st = k->infer(&ctx);
    if (st) return st;
    bool alias = (k->flags & MEC_KF_ALIAS) && n->n_in > 0 && in_ptr[0] && out_ptr[0] && n->n_out == 1;
    for (int j = 0; j < n->n_out; j++) {
        if (!out_ptr[j]) continue;
        if (alias) {
            out_ptr[j]->data = in_ptr[0]->data; /* a view: same elements, new shape */
            continue;
        }
        if ((st = buf_ensure(out_ptr[j]))) return st;
    }
    if (alias) return MEC_OK;
    mec_free(t->saved[i]);
    t->saved[i] = NULL;
    if (bw && bw->forward) return bw->forward(&ctx, training, &t->rng, &t->saved[i]);
    void *state = NULL;
    size_t need = 0;
    if (k->prepare && (st = k->prepare(&ctx, &state, &need))) return st;
    if (need > t->scratch_cap) {
        void *p = mec_malloc(need);
        if (!p) {
            if (state && k->release) k->release(state);
            return MEC_ERR_NOMEM;
        }
        mec_free(t->scratch);
        t->scratch = p;
        t->scratch_cap = need;
    }
    ctx.state = state;
    ctx.scratch = need ? t->scratch : NULL;
    ctx.scratch_bytes = need;
    st = k->exec(&ctx);
    if (state && k->release) k->release(state);
    return st;
}

mec_status mec_train_forward(mec_trainer *t, int n_in, const char *const *names,
                             const mec_tensor *const *inputs, bool training) {
    const mec_graph *g = t->g;
    t->forward_done = false;
    for (int i = 0; i < n_in; i++) {
        int v = mec_graph_find(g, names[i]);
        if (v < 0) return mec_error(MEC_ERR_NOT_FOUND, "the model has no input named '%s'", names[i]);
        if (g->values[v].init)
            return mec_error(MEC_ERR_INVALID_ARG, "'%s' is a parameter or constant, not an input", names[i]);
        const mec_tensor *x = inputs[i];
        const mec_value *val = &g->values[v];
        if (!x || (!x->data && mec_tensor_numel(x) > 0))
            return mec_error(MEC_ERR_INVALID_ARG, "input '%s' has no data", names[i]);
        if (val->dtype != MEC_UNDEFINED && x->dtype != val->dtype)
            return mec_error(MEC_ERR_DTYPE, "input '%s' has dtype %s, the model expects %s", names[i],
                             mec_dtype_name(x->dtype), mec_dtype_name(val->dtype));
        if (val->ndim >= 0) {
            bool bad = x->ndim != val->ndim;
            for (int d = 0; d < val->ndim && !bad; d++) bad = val->dims[d] >= 0 && val->dims[d] != x->shape[d];
            if (bad) {
                char a[160];
                return mec_error(MEC_ERR_SHAPE, "input '%s' has shape %s, which the model does not accept",
                                 names[i], mec_shape_str(x->ndim, x->shape, a, sizeof a));
            }
        }
        mec_tensor *dst = &t->val[v];
        dst->dtype = x->dtype;
        dst->ndim = x->ndim;
        for (int d = 0; d < x->ndim; d++) dst->shape[d] = x->shape[d];
        mec_status st = buf_ensure(dst);
        if (!st) st = mec_tensor_copy(dst, x);
        if (st) return st;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        int v = g->inputs[i];
        if (g->values[v].init) continue;
        bool given = false;
        for (int j = 0; j < n_in && !given; j++) given = !strcmp(names[j], g->values[v].name);
        if (!given) return mec_error(MEC_ERR_INVALID_ARG, "input '%s' was not given", g->values[v].name);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        mec_status st = run_forward_node(t, i, training);
        if (st) return st;
    }
    t->forward_done = true;
    t->last_training = training;
    return MEC_OK;
}

const mec_tensor *mec_train_value(const mec_trainer *t, const char *name) {
    int v = mec_graph_find(t->g, name);
    if (v < 0 || (!t->val[v].data && !t->g->values[v].init)) return NULL;
    return &t->val[v];
}

/* -------------------------------------------------------------- backward */

void mec_train_zero_grad(mec_trainer *t) {
    for (int p = 0; p < t->n_params; p++) {
        mec_tensor *gr = &t->grad[t->param_val[p]];
        memset(gr->data, 0, mec_tensor_bytes(gr));
    }
}

mec_status mec_train_backward(mec_trainer *t, int n, const char *const *names,
                              const mec_tensor *const *grads) {
    const mec_graph *g = t->g;
    if (!t->forward_done) return mec_error(MEC_ERR_INVALID_ARG, "backward needs a forward first");
    for (int v = 0; v < g->n_values; v++)
        if (!t->is_param[v]) t->has_grad[v] = 0;
    mec_status st;
    for (int i = 0; i < n; i++) {
        int v = mec_graph_find(g, names[i]);
        if (v < 0) return mec_error(MEC_ERR_NOT_FOUND, "the model has no value named '%s'", names[i]);
        if (!t->req[v]) continue; /* no parameter reaches it */
        if (mec_tensor_numel(grads[i]) != mec_tensor_numel(&t->val[v]) || grads[i]->dtype != MEC_F32)
            return mec_error(MEC_ERR_SHAPE, "gradient of '%s' has %" PRId64 " %s elements, the value has %" PRId64 " float32",
                             names[i], mec_tensor_numel(grads[i]), mec_dtype_name(grads[i]->dtype),
                             mec_tensor_numel(&t->val[v]));
        if (!t->has_grad[v] && (st = grad_zeroed(t, v))) return st;
        float *dst = t->grad[v].data;
        const float *src = grads[i]->data;
        int64_t cnt = mec_tensor_numel(grads[i]);
        for (int64_t k = 0; k < cnt; k++) dst[k] += src[k];
    }
    const mec_tensor *in_ptr[64], *out_ptr[64], *dout[64];
    mec_tensor *din[64];
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const mec_node *nd = &g->nodes[i];
        const mec_bw_op *bw = t->bw[i];
        if (!bw || nd->n_in > 64 || nd->n_out > 64) continue;
        bool any_out = false, any_in = false;
        for (int j = 0; j < nd->n_out; j++) {
            int v = nd->out[j];
            dout[j] = v >= 0 && t->has_grad[v] ? &t->grad[v] : NULL;
            out_ptr[j] = v >= 0 ? &t->val[v] : NULL;
            any_out |= dout[j] != NULL;
        }
        if (!any_out) continue;
        for (int j = 0; j < nd->n_in; j++) {
            int v = nd->in[j];
            in_ptr[j] = v >= 0 ? &t->val[v] : NULL;
            din[j] = NULL;
            if (v < 0 || !t->req[v] || j >= 32 || !(bw->diff_inputs & (1u << j))) continue;
            if (!t->has_grad[v] && (st = grad_zeroed(t, v))) return st;
            din[j] = &t->grad[v];
            any_in = true;
        }
        if (!any_in) continue;
        mec_bw_ctx ctx = {g,      i,    nd,  t->opset[i], nd->n_in, in_ptr, nd->n_out,
                          out_ptr, dout, din, t->saved[i], t->last_training};
        if ((st = bw->backward(&ctx))) return st;
    }
    return MEC_OK;
}

/* ------------------------------------------------------------------ step */

mec_status mec_train_step(mec_trainer *t, const mec_train_batch *b, float *loss) {
    mec_train_zero_grad(t);
    mec_status st = mec_train_forward(t, b->n_inputs, b->names, b->inputs, true);
    if (st) return st;
    const mec_tensor *logits = &t->val[t->loss_value];
    float l = 0.0f;
    if ((st = mec_train_loss(&t->cfg, logits, b->labels, b->teacher, &l, &t->dlogits))) return st;
    const char *name = t->g->values[t->loss_value].name;
    const mec_tensor *grads[1] = {&t->dlogits};
    if ((st = mec_train_backward(t, 1, &name, grads))) return st;
    if ((st = mec_train_update(t, NULL))) return st;
    if (loss) *loss = l;
    return MEC_OK;
}

mec_status mec_train_eval(mec_trainer *t, int n_in, const char *const *names,
                          const mec_tensor *const *inputs, mec_tensor **logits) {
    *logits = NULL;
    mec_status st = mec_train_forward(t, n_in, names, inputs, false);
    if (st) return st;
    return mec_tensor_clone(&t->val[t->loss_value], logits);
}

/* ------------------------------------------------------------ inspection */

int mec_train_param_count(const mec_trainer *t) { return t->n_params; }

mec_status mec_train_param(mec_trainer *t, int i, const char **name, mec_tensor **value,
                           mec_tensor **grad) {
    if (i < 0 || i >= t->n_params)
        return mec_error(MEC_ERR_RANGE, "parameter %d of %d", i, t->n_params);
    int v = t->param_val[i];
    if (name) *name = t->g->values[v].name;
    if (value) *value = t->g->values[v].init;
    if (grad) *grad = &t->grad[v];
    return MEC_OK;
}

const mec_tensor *mec_train_grad(const mec_trainer *t, const char *name) {
    int v = mec_graph_find(t->g, name);
    if (v < 0 || !t->has_grad[v]) return NULL;
    return &t->grad[v];
}

int64_t mec_train_steps_done(const mec_trainer *t) { return t->step; }
int64_t mec_train_epoch(const mec_trainer *t) { return t->epoch; }
void mec_train_set_epoch(mec_trainer *t, int64_t epoch) { t->epoch = epoch; }
void mec_train_set_seed(mec_trainer *t, uint64_t seed) { t->rng = seed ? seed : 0x5eed; }

mec_status mec_train_export(const mec_trainer *t, mec_graph **out) {
    mec_status st = mec_graph_clone(t->g, out);
    if (st) return st;
    mec_graph *g = *out;
    for (int i = 0; i < g->n_nodes; i++) {
        const mec_node *n = &g->nodes[i];
        if (!strcmp(n->op_type, "BatchNormalization") && mec_node_attr(n, "training_mode") &&
            (st = mec_node_set_int(g, i, "training_mode", 0))) {
            mec_graph_destroy(g);
            *out = NULL;
            return st;
        }
    }
    return MEC_OK;
}
