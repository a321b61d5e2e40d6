/* Sessions: validate at load, fold constants, plan by requested outputs,
 * run with liveness-based buffer reuse, profile per node. */
#include "mec/runtime.h"
#include "optimize.h"
#include "runtime_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A pooled activation buffer; refs counts the live values that point into it
 * (a view such as Reshape shares its input's buffer). */
typedef struct pool_buf {
    void *data;
    size_t cap;
    int refs;
} pool_buf;

/* Which nodes to run and when each value dies, for one set of fed inputs and
 * requested outputs. */
typedef struct plan {
    char *key;
    int n_order;
    int *order;     /* node ids in topological order */
    int *last_use;  /* per value: step of its last consumer, -1 if none */
    char *fed;      /* per value: 1 if fed by the caller */
    char *keep;     /* per value: 1 if requested as an output */
} plan;

/* What the last prepare of a node saw, to redo it when input shapes change. */
typedef struct prep_sig {
    uint64_t hash;
    bool valid;
} prep_sig;

struct mec_sess {
    const mec_graph *g;
    mec_graph *owned_graph;
    mec_sess_options opt;
    int conv_algo;           /* mec_conv_algo of opt.conv_algo */
    const mec_kernel **kern; /* per node; NULL for folded nodes */
    void **state;
    prep_sig *sig;
    uint32_t *kept;          /* per node: constant inputs its state keeps a copy of */
    size_t *scratch_need;
    char *folded;            /* per node: 1 if folded into constants at load */
    mec_tensor *vals;        /* per value: the tensor during a run, or the constant */
    int *val_buf;            /* per value: pool buffer index, -1 if not pooled */
    char *is_const;          /* per value: initializer or folded constant */
    mec_tensor *info;        /* per value: load-time dtype/shape (ndim -1 unknown) */
    pool_buf *pool;
    int n_pool, cap_pool;
    void *scratch;
    size_t scratch_cap;
    plan *plans;
    int n_plans;
    mec_node_profile *prof;
    double load_ms;
};

void mec_sess_options_default(mec_sess_options *o) {
    memset(o, 0, sizeof *o);
    o->impl = "auto";
    o->optimize = true;
    o->conv_algo = "auto";
}

/* The session option conv_algo as a mec_conv_algo; -1 when unknown. */
static int conv_algo_parse(const char *name) {
    if (!name || !strcmp(name, "auto")) return MEC_CONV_ALGO_AUTO;
    if (!strcmp(name, "direct")) return MEC_CONV_ALGO_DIRECT;
    if (!strcmp(name, "winograd")) return MEC_CONV_ALGO_WINOGRAD;
    return -1;
}

const mec_graph *mec_sess_graph(const mec_sess *s) { return s->g; }

void mec_sess_set_load_ms(mec_sess *s, double load_ms) { s->load_ms = load_ms; }
double mec_sess_load_ms(const mec_sess *s) { return s->load_ms; }

/* ------------------------------------------------------------------ pool */

static int pool_get(mec_sess *s, size_t bytes) {
    int best = -1;
    for (int i = 0; i < s->n_pool; i++) {
        pool_buf *b = &s->pool[i];
        if (b->refs == 0 && b->cap >= bytes && (best < 0 || b->cap < s->pool[best].cap)) best = i;
    }
    if (best >= 0) {
        s->pool[best].refs = 1;
        return best;
    }
    /* Grow the largest free buffer rather than keep many small ones. */
    int grow = -1;
    for (int i = 0; i < s->n_pool; i++)
        if (s->pool[i].refs == 0 && (grow < 0 || s->pool[i].cap > s->pool[grow].cap)) grow = i;
    void *p = mec_malloc(bytes);
    if (!p) return -1;
    if (grow >= 0) {
        mec_free(s->pool[grow].data);
        s->pool[grow] = (pool_buf){p, bytes, 1};
        return grow;
    }
    if (s->n_pool == s->cap_pool) {
        int cap = s->cap_pool ? s->cap_pool * 2 : 32;
        pool_buf *np = mec_realloc(s->pool, sizeof(pool_buf) * (size_t)s->cap_pool,
                                   sizeof(pool_buf) * (size_t)cap);
        if (!np) {
            mec_free(p);
            return -1;
        }
        s->pool = np;
        s->cap_pool = cap;
    }
    s->pool[s->n_pool] = (pool_buf){p, bytes, 1};
    return s->n_pool++;
}

static void value_release(mec_sess *s, int v) {
    int b = s->val_buf[v];
    if (b >= 0 && --s->pool[b].refs < 0) s->pool[b].refs = 0;
    s->val_buf[v] = -1;
    s->vals[v].data = NULL;
}

/* ------------------------------------------------------------ validation */

typedef struct problems {
    char text[3600];
    size_t used;
    int count;
} problems;

static void problem_add(problems *p, const char *fmt, ...) MEC_PRINTF(2, 3);
static void problem_add(problems *p, const char *fmt, ...) {
    p->count++;
    if (p->used + 80 >= sizeof p->text) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->text + p->used, sizeof p->text - p->used, fmt, ap);
    va_end(ap);
    if (n > 0) p->used += (size_t)n < sizeof p->text - p->used ? (size_t)n : sizeof p->text - p->used - 1;
    if (p->used + 1 < sizeof p->text) p->text[p->used++] = '\n', p->text[p->used] = '\0';
}

static const char *domain_name(const char *d) { return d && *d ? d : "ai.onnx"; }

static int64_t node_opset(const mec_graph *g, const mec_node *n) {
    int64_t v = mec_graph_opset(g, n->domain);
    if (v == 0 && (!n->domain || !*n->domain)) v = mec_graph_opset(g, "");
    return v;
}

/* Resolves a kernel for every node, recording each missing (op, opset). */
static void find_kernels(mec_sess *s, problems *p) {
    const mec_graph *g = s->g;
    for (int i = 0; i < g->n_nodes; i++) {
        const mec_node *n = &g->nodes[i];
        int64_t opset = node_opset(g, n);
        s->kern[i] = mec_op_find(n->domain, n->op_type, opset, s->opt.impl);
        if (!s->kern[i] && s->opt.impl && strcmp(s->opt.impl, "auto") && strcmp(s->opt.impl, "ref"))
            s->kern[i] = mec_op_find(n->domain, n->op_type, opset, "ref");
        if (s->kern[i]) continue;
        /* list each (op, domain, opset) once */
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = !s->kern[j] && !strcmp(g->nodes[j].op_type, n->op_type) &&
                   !strcmp(g->nodes[j].domain, n->domain);
        if (seen) continue;
        char label[300];
        mec_node_label(g, i, label, sizeof label);
        if (opset == 0)
            problem_add(p, "  node %s: domain '%s' is not imported by the model (no opset_import)",
                        label, domain_name(n->domain));
        else if (mec_op_known(n->domain, n->op_type))
            problem_add(p, "  op %s (domain %s) at opset %" PRId64 " is not supported (first at node %s)",
                        n->op_type, domain_name(n->domain), opset, label);
        else
            problem_add(p, "  op %s (domain %s, opset %" PRId64 ") is not supported (first at node %s)",
                        n->op_type, domain_name(n->domain), opset, label);
    }
}

/* ----------------------------------------------------- static inference */

static uint64_t shapes_hash(const mec_op_ctx *ctx) {
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < ctx->n_in; i++) {
        const mec_tensor *t = ctx->in[i];
        uint64_t x = t ? (uint64_t)t->dtype * 31 + (uint64_t)t->ndim : 0xffff;
        h = (h ^ x) * 1099511628211ull;
        if (t)
            for (int d = 0; d < t->ndim; d++) {
                h = (h ^ (uint64_t)t->shape[d]) * 1099511628211ull;
                h = (h ^ (uint64_t)t->strides[d]) * 1099511628211ull;
            }
    }
    return h;
}

/* Small values computed during static inference are evaluated so that shape
 * sub-graphs (Shape → Gather → Concat → Reshape) resolve. */
#define STATIC_EVAL_MAX_ELEMS 4096

/* Infers info[] for every value given info[] of the inputs. Collects dtype
 * and support problems into p (if not NULL); with `exact` false (some input
 * dims were guessed) shape errors are not reported. Runs small nodes whose
 * inputs all have data. */
static mec_status static_pass(mec_sess *s, mec_tensor *info, problems *p, bool exact) {
    const mec_graph *g = s->g;
    const mec_tensor *in_ptr[64];
    mec_tensor *out_ptr[64];
    for (int i = 0; i < g->n_nodes; i++) {
        const mec_node *n = &g->nodes[i];
        const mec_kernel *k = s->kern[i];
        if (!k || n->n_in > 64 || n->n_out > 64) continue;
        bool known = true, have_data = true;
        for (int j = 0; j < n->n_in; j++) {
            int v = n->in[j];
            if (v < 0) {
                in_ptr[j] = NULL;
                continue;
            }
            in_ptr[j] = &info[v];
            if (info[v].ndim < 0 || info[v].dtype == MEC_UNDEFINED) known = false;
            if (!info[v].data) have_data = false;
        }
        for (int j = 0; j < n->n_out; j++) out_ptr[j] = n->out[j] >= 0 ? &info[n->out[j]] : NULL;
        if (!known) continue;
        if (s->folded[i]) continue; /* outputs already constant */
        mec_op_ctx ctx = {g, i, n, node_opset(g, n), n->n_in, in_ptr, n->n_out, out_ptr, NULL, NULL, 0, 0, 0, 0};
        mec_error_clear();
        mec_status st = k->infer(&ctx);
        if (st == MEC_ERR_DEFER) {
            for (int j = 0; j < n->n_out; j++)
                if (out_ptr[j]) out_ptr[j]->ndim = -1;
            continue;
        }
        if (st) {
            for (int j = 0; j < n->n_out; j++)
                if (out_ptr[j]) out_ptr[j]->ndim = -1;
            bool type_problem = st == MEC_ERR_UNSUPPORTED || st == MEC_ERR_DTYPE;
            if (p && (type_problem || exact)) problem_add(p, "  %s", mec_last_error());
            continue;
        }
        /* evaluate small nodes with all inputs known (shape arithmetic) */
        bool small = true;
        for (int j = 0; j < n->n_out; j++)
            if (out_ptr[j] && mec_tensor_numel(out_ptr[j]) > STATIC_EVAL_MAX_ELEMS) small = false;
        bool shape_only = !strcmp(n->op_type, "Shape") || !strcmp(n->op_type, "Size");
        /* kernels that need prepare (packing, scratch) are not worth it here */
        if (!shape_only && !(have_data && small && !k->prepare)) continue;
        bool ok = true;
        for (int j = 0; j < n->n_out && ok; j++)
            if (out_ptr[j] && mec_tensor_alloc(out_ptr[j])) ok = false;
        if (!ok) return MEC_ERR_NOMEM;
        if (!have_data) {
            /* Shape/Size without input data: exec reads only shapes; pass a
             * non-NULL dummy pointer so kernels that check data don't fail. */
            static const int64_t dummy[1];
            mec_tensor tmp = *in_ptr[0];
            tmp.data = (void *)dummy;
            tmp.owned = NULL;
            const mec_tensor *saved = in_ptr[0];
            in_ptr[0] = &tmp;
            st = k->exec(&ctx);
            in_ptr[0] = saved;
        } else {
            st = k->exec(&ctx);
        }
        if (st) {
            for (int j = 0; j < n->n_out; j++)
                if (out_ptr[j]) {
                    mec_free(out_ptr[j]->owned);
                    out_ptr[j]->owned = NULL;
                    out_ptr[j]->data = NULL;
                    out_ptr[j]->capacity = 0;
                }
        }
    }
    return MEC_OK;
}

static void info_release(mec_sess *s, mec_tensor *info) {
    for (int v = 0; v < s->g->n_values; v++)
        if (!s->is_const[v]) mec_tensor_release(&info[v]);
}

/* Seeds info[] from initializers/constants and declared inputs; unknown dims
 * become 1 (then *exact = false). */
static void info_seed(mec_sess *s, mec_tensor *info, bool *exact) {
    const mec_graph *g = s->g;
    *exact = true;
    for (int v = 0; v < g->n_values; v++) {
        if (s->is_const[v]) {
            info[v] = s->vals[v];
            info[v].owned = NULL;
            continue;
        }
        memset(&info[v], 0, sizeof info[v]);
        info[v].ndim = -1;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        int v = g->inputs[i];
        const mec_value *val = &g->values[v];
        if (s->is_const[v]) continue;
        if (val->ndim < 0 || val->dtype == MEC_UNDEFINED) {
            *exact = false;
            continue;
        }
        info[v].dtype = val->dtype;
        info[v].ndim = val->ndim;
        for (int d = 0; d < val->ndim; d++) {
            info[v].shape[d] = val->dims[d] >= 0 ? val->dims[d] : 1;
            if (val->dims[d] < 0) *exact = false;
        }
        mec_tensor_contiguous_strides(&info[v]);
    }
}

/* ------------------------------------------------------- constant folding */

static bool foldable(const mec_node *n) {
    /* ops with side effects or randomness are never folded */
    static const char *const never[] = {"RandomNormal", "RandomUniform", "RandomNormalLike",
                                        "RandomUniformLike", "Multinomial", "Bernoulli", NULL};
    for (int i = 0; never[i]; i++)
        if (!strcmp(n->op_type, never[i])) return false;
    return true;
}

static mec_status fold_constants(mec_sess *s) {
    const mec_graph *g = s->g;
    const mec_tensor *in_ptr[64];
    mec_tensor *out_ptr[64];
    for (int i = 0; i < g->n_nodes; i++) {
        const mec_node *n = &g->nodes[i];
        const mec_kernel *k = s->kern[i];
        if (!k || !foldable(n) || n->n_in > 64 || n->n_out > 64) continue;
        bool all_const = true;
        for (int j = 0; j < n->n_in; j++) {
            int v = n->in[j];
            in_ptr[j] = v >= 0 ? &s->vals[v] : NULL;
            if (v >= 0 && !s->is_const[v]) all_const = false;
        }
        if (!all_const) continue;
        bool out_is_graph_io = false;
        for (int j = 0; j < n->n_out; j++) {
            int v = n->out[j];
            out_ptr[j] = v >= 0 ? &s->vals[v] : NULL;
            if (v >= 0 && g->values[v].is_input) out_is_graph_io = true;
        }
        if (out_is_graph_io) continue;
        mec_op_ctx ctx = {g, i, n, node_opset(g, n), n->n_in, in_ptr, n->n_out, out_ptr, NULL, NULL, 0, 0, 0, 0};
        mec_status st = k->infer(&ctx);
        if (st) return st;
        for (int j = 0; j < n->n_out; j++)
            if (out_ptr[j] && (st = mec_tensor_alloc(out_ptr[j]))) return st;
        void *state = NULL;
        size_t scratch = 0;
        if (k->prepare && (st = k->prepare(&ctx, &state, &scratch))) return st;
        void *mem = NULL;
        if (scratch && !(mem = mec_malloc(scratch))) {
            if (k->release && state) k->release(state);
            return MEC_ERR_NOMEM;
        }
        ctx.state = state;
        ctx.scratch = mem;
        ctx.scratch_bytes = scratch;
        st = k->exec(&ctx);
        mec_free(mem);
        if (k->release && state) k->release(state);
        if (st) return st;
        for (int j = 0; j < n->n_out; j++)
            if (n->out[j] >= 0) s->is_const[n->out[j]] = 1;
        s->folded[i] = 1;
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- lifecycle */

static void plan_free(plan *p) {
    mec_free(p->key);
    mec_free(p->order);
    mec_free(p->last_use);
    mec_free(p->fed);
    mec_free(p->keep);
}

void mec_sess_destroy(mec_sess *s) {
    if (!s) return;
    const mec_graph *g = s->g;
    if (g) {
        for (int i = 0; i < g->n_nodes && s->state && s->kern; i++)
            if (s->state[i] && s->kern[i] && s->kern[i]->release)
                s->kern[i]->release(s->state[i]);
        if (s->vals && s->is_const)
            for (int v = 0; v < g->n_values; v++)
                if (s->is_const[v]) mec_tensor_release(&s->vals[v]);
        if (s->info && s->is_const) info_release(s, s->info);
    }
    for (int i = 0; i < s->n_pool; i++) mec_free(s->pool[i].data);
    for (int i = 0; i < s->n_plans; i++) plan_free(&s->plans[i]);
    mec_free(s->plans);
    mec_free(s->pool);
    mec_free(s->scratch);
    mec_free(s->kern);
    mec_free(s->state);
    mec_free(s->sig);
    mec_free(s->kept);
    mec_free(s->scratch_need);
    mec_free(s->folded);
    mec_free(s->vals);
    mec_free(s->val_buf);
    mec_free(s->is_const);
    mec_free(s->info);
    mec_free(s->prof);
    mec_graph_destroy(s->owned_graph);
    mec_free(s);
}

static mec_status sess_create(const mec_graph *g, mec_graph *owned, const mec_sess_options *opt,
                              mec_sess **out);

mec_status mec_sess_create(const mec_graph *g, const mec_sess_options *opt, mec_sess **out) {
    mec_sess_options o;
    if (opt) o = *opt;
    else mec_sess_options_default(&o);
    *out = NULL;
    if (!o.optimize) return sess_create(g, NULL, &o, out);
    mec_graph *copy = NULL;
    mec_status st = mec_graph_clone(g, &copy);
    if (st) return st;
    return mec_sess_create_owned(copy, &o, out);
}

mec_status mec_sess_create_owned(mec_graph *g, const mec_sess_options *opt, mec_sess **out) {
    mec_sess_options o;
    if (opt) o = *opt;
    else mec_sess_options_default(&o);
    *out = NULL;
    mec_status st = MEC_OK;
    if (o.optimize) {
        mec_optimize_report rep;
        st = mec_graph_toposort(g);
        if (!st) st = mec_optimize_graph(g, &rep);
        if (!st)
            mec_log(MEC_LOG_INFO,
                    "optimised: %d constants inlined, %d BatchNorm folded, %d Conv fused, %d MatMul "
                    "fused, %d LayerNorm fused (%d with the residual), %d attention fused, %d int8 "
                    "(QDQ) ops",
                    rep.constants_inlined, rep.bn_folded, rep.conv_fused, rep.matmul_fused,
                    rep.layernorm_fused, rep.skip_layernorm_fused, rep.attention_fused,
                    rep.qdq_fused);
    }
    if (st) {
        mec_graph_destroy(g);
        return st;
    }
    return sess_create(g, g, &o, out);
}

/* Creates the session over g; `owned` (g itself or NULL) is freed with the
 * session, and also here on failure. */
static mec_status sess_create(const mec_graph *g, mec_graph *owned, const mec_sess_options *opt,
                              mec_sess **out) {
    *out = NULL;
    double t0 = mec_now_ms();
    int conv_algo = conv_algo_parse(opt->conv_algo);
    if (conv_algo < 0) {
        mec_graph_destroy(owned);
        return mec_error(MEC_ERR_INVALID_ARG, "conv_algo '%s': expected auto, direct or winograd",
                         opt->conv_algo);
    }
    mec_sess *s = mec_calloc(1, sizeof *s);
    if (!s) {
        mec_graph_destroy(owned);
        return MEC_ERR_NOMEM;
    }
    s->g = g;
    s->owned_graph = owned;
    s->opt = *opt;
    if (!s->opt.impl) s->opt.impl = "auto";
    if (!s->opt.conv_algo) s->opt.conv_algo = "auto";
    s->conv_algo = conv_algo;
    mec_threads_set(s->opt.threads);
    size_t nn = (size_t)g->n_nodes + 1, nv = (size_t)g->n_values + 1;
    s->kern = mec_calloc(nn, sizeof *s->kern);
    s->state = mec_calloc(nn, sizeof *s->state);
    s->sig = mec_calloc(nn, sizeof *s->sig);
    s->kept = mec_calloc(nn, sizeof *s->kept);
    s->scratch_need = mec_calloc(nn, sizeof *s->scratch_need);
    s->folded = mec_calloc(nn, 1);
    s->prof = mec_calloc(nn, sizeof *s->prof);
    s->vals = mec_calloc(nv, sizeof *s->vals);
    s->val_buf = mec_calloc(nv, sizeof *s->val_buf);
    s->is_const = mec_calloc(nv, 1);
    s->info = mec_calloc(nv, sizeof *s->info);
    if (!s->kern || !s->state || !s->sig || !s->kept || !s->scratch_need || !s->folded || !s->prof ||
        !s->vals || !s->val_buf || !s->is_const || !s->info) {
        mec_sess_destroy(s);
        return MEC_ERR_NOMEM;
    }
    for (int v = 0; v < g->n_values; v++) {
        s->val_buf[v] = -1;
        if (g->values[v].init) {
            /* constants are views of the graph's initializers (not owned) */
            s->vals[v] = *g->values[v].init;
            s->vals[v].owned = NULL;
            s->vals[v].capacity = 0;
            s->is_const[v] = 1;
        }
    }
    for (int i = 0; i < g->n_nodes; i++) {
        s->prof[i].node_id = i;
        s->prof[i].name = g->nodes[i].name;
        s->prof[i].op_type = g->nodes[i].op_type;
    }
    problems p;
    memset(&p, 0, sizeof p);
    /* graph structure: every node must be reachable in order */
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++) {
            int v = g->nodes[i].in[j];
            if (v < 0) continue;
            int prod = g->values[v].producer;
            if (prod >= i) {
                char label[300];
                problem_add(&p, "  node %s: input '%s' is produced later (graph not in topological order)",
                            mec_node_label(g, i, label, sizeof label), g->values[v].name);
            } else if (prod < 0 && !g->values[v].init && !g->values[v].is_input) {
                char label[300];
                problem_add(&p, "  node %s: input '%s' is not defined anywhere",
                            mec_node_label(g, i, label, sizeof label), g->values[v].name);
            }
        }
    if (!p.count) find_kernels(s, &p);
    mec_status st = MEC_OK;
    if (!p.count) {
        st = fold_constants(s);
        if (st) {
            mec_sess_destroy(s);
            return mec_error_prefix(st, "while folding constants: ");
        }
        bool exact;
        info_seed(s, s->info, &exact);
        st = static_pass(s, s->info, &p, exact);
        if (st) {
            mec_sess_destroy(s);
            return st;
        }
        if (!exact) /* shapes derived from guessed dims are not facts */
            for (int v = 0; v < g->n_values; v++)
                if (!s->is_const[v] && !g->values[v].is_input) {
                    for (int d = 0; d < s->info[v].ndim; d++) s->info[v].shape[d] = -1;
                }
    }
    if (p.count) {
        mec_sess_destroy(s);
        return mec_error(MEC_ERR_UNSUPPORTED, "the model cannot run (%d problem%s):\n%s", p.count,
                         p.count == 1 ? "" : "s", p.text);
    }
    s->load_ms = mec_now_ms() - t0;
    *out = s;
    return MEC_OK;
}

mec_status mec_sess_value_info(const mec_sess *s, const char *name, mec_dtype *dtype, int *ndim,
                               int64_t *dims) {
    int v = mec_graph_find(s->g, name);
    if (v < 0) return mec_error(MEC_ERR_NOT_FOUND, "no value named '%s' in the model", name);
    const mec_tensor *t = &s->info[v];
    if (dtype) *dtype = t->dtype;
    if (ndim) *ndim = t->ndim;
    if (dims)
        for (int d = 0; d < t->ndim; d++) dims[d] = t->shape[d];
    return MEC_OK;
}

mec_status mec_sess_infer_shapes(mec_sess *s, int n_in, const char *const *in_names,
                                 const mec_tensor *const *in_meta, mec_tensor *info) {
    bool exact;
    info_seed(s, info, &exact);
    for (int i = 0; i < n_in; i++) {
        int v = mec_graph_find(s->g, in_names[i]);
        if (v < 0) return mec_error(MEC_ERR_NOT_FOUND, "no value named '%s' in the model", in_names[i]);
        info[v] = *in_meta[i];
        info[v].owned = NULL;
        info[v].capacity = 0;
        mec_tensor_contiguous_strides(&info[v]);
    }
    problems p;
    memset(&p, 0, sizeof p);
    mec_status st = static_pass(s, info, &p, true);
    if (st) return st;
    if (p.count) return mec_error(MEC_ERR_SHAPE, "shape inference failed:\n%s", p.text);
    return MEC_OK;
}

/* ------------------------------------------------------------------ plan */

static mec_status plan_get(mec_sess *s, int n_in, const char *const *in_names, int n_out,
                           const int *out_vals, plan **out) {
    const mec_graph *g = s->g;
    /* key: fed names + requested output ids */
    size_t klen = 16;
    for (int i = 0; i < n_in; i++) klen += strlen(in_names[i]) + 1;
    klen += (size_t)n_out * 12;
    char *key = mec_malloc(klen);
    if (!key) return MEC_ERR_NOMEM;
    size_t used = 0;
    for (int i = 0; i < n_in; i++) used += (size_t)snprintf(key + used, klen - used, "%s\x1f", in_names[i]);
    used += (size_t)snprintf(key + used, klen - used, "|");
    for (int i = 0; i < n_out; i++) used += (size_t)snprintf(key + used, klen - used, "%d,", out_vals[i]);
    for (int i = 0; i < s->n_plans; i++)
        if (!strcmp(s->plans[i].key, key)) {
            mec_free(key);
            *out = &s->plans[i];
            return MEC_OK;
        }
    plan pl;
    memset(&pl, 0, sizeof pl);
    pl.key = key;
    size_t nv = (size_t)g->n_values + 1, nn = (size_t)g->n_nodes + 1;
    pl.fed = mec_calloc(nv, 1);
    pl.keep = mec_calloc(nv, 1);
    pl.last_use = mec_malloc(nv * sizeof(int));
    pl.order = mec_malloc(nn * sizeof(int));
    char *need = mec_calloc(nn, 1);
    char *val_needed = mec_calloc(nv, 1);
    mec_status st = MEC_OK;
    if (!pl.fed || !pl.keep || !pl.last_use || !pl.order || !need || !val_needed) {
        st = MEC_ERR_NOMEM;
        goto fail;
    }
    for (int i = 0; i < n_in; i++) pl.fed[mec_graph_find(g, in_names[i])] = 1;
    for (int i = 0; i < n_out; i++) {
        pl.keep[out_vals[i]] = 1;
        val_needed[out_vals[i]] = 1;
    }
    /* walk back from the outputs, stopping at fed values and constants */
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        const mec_node *n = &g->nodes[i];
        if (s->folded[i]) continue;
        bool wanted = false;
        for (int j = 0; j < n->n_out; j++) {
            int v = n->out[j];
            if (v >= 0 && val_needed[v] && !pl.fed[v]) wanted = true;
        }
        if (!wanted) continue;
        need[i] = 1;
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0) val_needed[n->in[j]] = 1;
    }
    for (int v = 0; v < g->n_values; v++) pl.last_use[v] = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        if (!need[i]) continue;
        const mec_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0) pl.last_use[n->in[j]] = pl.n_order;
        pl.order[pl.n_order++] = i;
    }
    /* every needed value must come from somewhere */
    for (int v = 0; v < g->n_values; v++) {
        if (!val_needed[v] || pl.fed[v] || s->is_const[v]) continue;
        int prod = g->values[v].producer;
        if (prod >= 0 && need[prod]) continue;
        if (g->values[v].is_input)
            st = mec_error(MEC_ERR_INVALID_ARG, "input '%s' was not given", g->values[v].name);
        else
            st = mec_error(MEC_ERR_GRAPH, "value '%s' is needed but nothing computes it",
                           g->values[v].name);
        goto fail;
    }
    plan *np = mec_realloc(s->plans, sizeof(plan) * (size_t)s->n_plans,
                           sizeof(plan) * (size_t)(s->n_plans + 1));
    if (!np) {
        st = MEC_ERR_NOMEM;
        goto fail;
    }
    s->plans = np;
    s->plans[s->n_plans] = pl;
    *out = &s->plans[s->n_plans++];
    mec_free(need);
    mec_free(val_needed);
    return MEC_OK;
fail:
    plan_free(&pl);
    mec_free(need);
    mec_free(val_needed);
    return st;
}

/* ------------------------------------------------------------------- run */

static mec_status check_input(const mec_sess *s, int v, const mec_tensor *t) {
    const mec_value *val = &s->g->values[v];
    char a[160], b[160];
    if (!t || (!t->data && mec_tensor_numel(t) > 0))
        return mec_error(MEC_ERR_INVALID_ARG, "input '%s' has no data", val->name);
    if (val->dtype != MEC_UNDEFINED && t->dtype != val->dtype)
        return mec_error(MEC_ERR_DTYPE, "input '%s' has dtype %s, the model expects %s", val->name,
                         mec_dtype_name(t->dtype), mec_dtype_name(val->dtype));
    if (val->ndim >= 0) {
        bool bad = t->ndim != val->ndim;
        for (int d = 0; d < val->ndim && !bad; d++)
            if (val->dims[d] >= 0 && val->dims[d] != t->shape[d]) bad = true;
        if (bad) {
            int64_t want[MEC_MAX_DIMS];
            for (int d = 0; d < val->ndim; d++) want[d] = val->dims[d];
            return mec_error(MEC_ERR_SHAPE, "input '%s' has shape %s, the model expects %s (-1 = any)",
                             val->name, mec_shape_str(t->ndim, t->shape, a, sizeof a),
                             mec_shape_str(val->ndim, want, b, sizeof b));
        }
    }
    return MEC_OK;
}

static mec_status run_node_inner(mec_sess *s, int i, int step, const plan *pl,
                                 const mec_tensor **in_ptr, const int *in_buf, uint32_t const_mask);

/* Runs node i. Inputs with a layout permutation (e.g. NHWC strides from a
 * fast conv) are made contiguous first for kernels that need that. */
static mec_status run_node(mec_sess *s, int i, int step, const plan *pl) {
    const mec_graph *g = s->g;
    const mec_node *n = &g->nodes[i];
    const mec_kernel *k = s->kern[i];
    const mec_tensor *in_ptr[64];
    int in_buf[64]; /* pool buffer behind each input (-1: constant or caller's) */
    mec_tensor tmp[8];
    int tmp_buf[8], n_tmp = 0;
    uint32_t const_mask = 0;
    if (n->n_in > 64 || n->n_out > 64)
        return mec_error(MEC_ERR_UNSUPPORTED, "node '%s' has more than 64 inputs or outputs", n->name);
    for (int j = 0; j < n->n_in; j++) {
        int v = n->in[j];
        in_ptr[j] = v >= 0 ? &s->vals[v] : NULL;
        in_buf[j] = v >= 0 ? s->val_buf[v] : -1;
        if (v >= 0 && s->is_const[v] && j < 32) const_mask |= 1u << j;
        if (!in_ptr[j] || (k->flags & MEC_KF_STRIDED) || mec_tensor_is_contiguous(in_ptr[j])) continue;
        if (n_tmp == 8) return mec_error(MEC_ERR_UNSUPPORTED, "node '%s': too many strided inputs", n->name);
        int b = pool_get(s, mec_tensor_bytes(in_ptr[j]));
        if (b < 0) {
            for (int t = 0; t < n_tmp; t++) s->pool[tmp_buf[t]].refs--;
            return MEC_ERR_NOMEM;
        }
        tmp[n_tmp] = *in_ptr[j];
        tmp[n_tmp].data = s->pool[b].data;
        tmp[n_tmp].owned = NULL;
        mec_tensor_contiguous_strides(&tmp[n_tmp]);
        mec_tensor_copy(&tmp[n_tmp], in_ptr[j]);
        tmp_buf[n_tmp] = b;
        in_buf[j] = b;
        in_ptr[j] = &tmp[n_tmp++];
    }
    /* a view (Reshape of a materialised input) takes its own reference on
     * the temporary buffer, so dropping ours below does not free it */
    mec_status st = run_node_inner(s, i, step, pl, in_ptr, in_buf, const_mask);
    for (int t = 0; t < n_tmp; t++) s->pool[tmp_buf[t]].refs--;
    return st;
}

/* The pool buffer behind input j of node i (at `step` of the plan) that
 * out[0] may take over: a pooled value of the same dtype, shape and layout,
 * dying at this node, referenced by nothing else. -1 if none. */
static int inplace_buffer(const mec_sess *s, int i, int step, const plan *pl,
                          const mec_tensor *const *in_ptr, int j, const mec_tensor *o) {
    const mec_node *n = &s->g->nodes[i];
    if (j < 0 || j >= n->n_in || n->in[j] < 0) return -1;
    int v = n->in[j], b = s->val_buf[v];
    if (in_ptr[j] != &s->vals[v] || b < 0 || s->pool[b].refs != 1 || s->is_const[v] || pl->fed[v] ||
        pl->keep[v] || pl->last_use[v] != step)
        return -1;
    for (int k = 0; k < n->n_in; k++)
        if (k != j && n->in[k] == v) return -1;
    const mec_tensor *t = in_ptr[j];
    if (t->dtype != o->dtype || t->ndim != o->ndim || t->data != s->pool[b].data) return -1;
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] != o->shape[d] || (t->shape[d] != 1 && t->strides[d] != o->strides[d])) return -1;
    return s->pool[b].cap >= mec_tensor_bytes(o) ? b : -1;
}

/* Frees the data of the constants that node i keeps copies of, once every
 * node reading them does (packed weights: the original would only sit
 * beside the copies). Only what the session owns, and never a graph input
 * or output. */
static void consts_free_kept(mec_sess *s, int i) {
    const mec_graph *g = s->g;
    const mec_node *n = &g->nodes[i];
    for (int j = 0; j < n->n_in && j < 32; j++) {
        int v = n->in[j];
        if (v < 0 || !(s->kept[i] >> j & 1u) || !s->vals[v].data) continue;
        const mec_value *val = &g->values[v];
        if (val->is_input || val->is_output || (val->init && !s->owned_graph)) continue;
        bool all = true;
        for (int c = 0; c < g->n_nodes && all; c++) {
            const mec_node *cn = &g->nodes[c];
            for (int k = 0; k < cn->n_in && all && !s->folded[c]; k++)
                if (cn->in[k] == v && (k >= 32 || !(s->kept[c] >> k & 1u))) all = false;
        }
        mec_tensor *t = val->init ? s->owned_graph->values[v].init : &s->vals[v];
        if (!all || !t->owned || t->data != t->owned) continue; /* a view is not ours to free */
        mec_free(t->owned);
        t->owned = t->data = NULL;
        t->capacity = 0;
        s->vals[v].data = NULL;
        s->info[v].data = NULL;
    }
}

static mec_status run_node_inner(mec_sess *s, int i, int step, const plan *pl,
                                 const mec_tensor **in_ptr, const int *in_buf, uint32_t const_mask) {
    const mec_graph *g = s->g;
    const mec_node *n = &g->nodes[i];
    const mec_kernel *k = s->kern[i];
    mec_tensor *out_ptr[64];
    for (int j = 0; j < n->n_out; j++) {
        int v = n->out[j];
        /* an output the caller fed is not recomputed (nor overwritten) */
        out_ptr[j] = v >= 0 && !pl->fed[v] ? &s->vals[v] : NULL;
        if (out_ptr[j]) {
            memset(&s->vals[v], 0, sizeof s->vals[v]);
            s->val_buf[v] = -1;
        }
    }
    mec_op_ctx ctx = {g, i, n, node_opset(g, n), n->n_in, in_ptr, n->n_out, out_ptr, NULL, NULL, 0, const_mask, 0,
                      s->conv_algo};
    mec_status st = k->infer(&ctx);
    if (st == MEC_ERR_DEFER) {
        char label[300];
        return mec_error(MEC_ERR_INTERNAL, "node %s: shape still unknown at run time",
                         mec_node_label(g, i, label, sizeof label));
    }
    if (st) return st;
    int live_outs = 0;
    for (int j = 0; j < n->n_out; j++) live_outs += out_ptr[j] != NULL;
    bool alias = (k->flags & MEC_KF_ALIAS) && n->n_in > 0 && in_ptr[0] && out_ptr[0] && live_outs == 1;
    uint64_t t0 = s->opt.profile ? mec_now_ns() : 0;
    for (int j = 0; j < n->n_out; j++) {
        mec_tensor *o = out_ptr[j];
        if (!o) continue;
        if (j == 0 && alias) {
            o->data = in_ptr[0]->data;
            int b = in_buf[0];
            s->val_buf[n->out[0]] = b;
            if (b >= 0) s->pool[b].refs++;
            continue;
        }
        if (j == 0 && (k->flags & MEC_KF_SUM_INPLACE)) {
            int b = inplace_buffer(s, i, step, pl, in_ptr, n->n_in - 1, o);
            if (b >= 0) {
                s->pool[b].refs++;
                s->val_buf[n->out[0]] = b;
                o->data = s->pool[b].data;
                continue;
            }
        }
        size_t esize = mec_dtype_size(o->dtype);
        if (!esize) {
            char label[300];
            return mec_error(MEC_ERR_UNSUPPORTED, "node %s: output %d has dtype %s",
                             mec_node_label(g, i, label, sizeof label), j, mec_dtype_name(o->dtype));
        }
        int b = pool_get(s, (size_t)mec_tensor_numel(o) * esize);
        if (b < 0) return MEC_ERR_NOMEM;
        s->val_buf[n->out[j]] = b;
        o->data = s->pool[b].data;
    }
    if (!alias) {
        if (k->prepare) {
            uint64_t h = shapes_hash(&ctx);
            if (!s->sig[i].valid || s->sig[i].hash != h) {
                /* a state keeping copies of constants (whose data may be
                 * freed) goes to the next prepare, to take them from */
                void *prev = s->kept[i] ? s->state[i] : NULL;
                if (s->state[i] && !prev && k->release) k->release(s->state[i]);
                s->state[i] = NULL;
                s->sig[i].valid = false;
                size_t need = 0;
                ctx.state = prev;
                ctx.const_kept = 0;
                st = k->prepare(&ctx, &s->state[i], &need);
                ctx.state = NULL;
                if (st) {
                    s->state[i] = prev; /* still holds the copies */
                    return st;
                }
                if (prev && k->release) k->release(prev);
                s->kept[i] = ctx.const_kept & const_mask;
                s->scratch_need[i] = need;
                s->sig[i] = (prep_sig){h, true};
                if (s->kept[i]) consts_free_kept(s, i);
            }
            ctx.state = s->state[i];
        }
        size_t need = k->prepare ? s->scratch_need[i] : 0;
        if (need > s->scratch_cap) {
            void *p = mec_malloc(need);
            if (!p) return MEC_ERR_NOMEM;
            mec_free(s->scratch);
            s->scratch = p;
            s->scratch_cap = need;
        }
        ctx.scratch = need ? s->scratch : NULL;
        ctx.scratch_bytes = need;
        st = k->exec(&ctx);
        if (st) return st;
    }
    if (s->opt.profile) {
        mec_node_profile *pr = &s->prof[i];
        pr->total_ns += mec_now_ns() - t0;
        pr->runs++;
        pr->impl = alias ? "alias" : k->impl;
        int64_t bi = 0, bo = 0;
        for (int j = 0; j < n->n_in; j++)
            if (in_ptr[j]) bi += (int64_t)mec_tensor_bytes(in_ptr[j]);
        for (int j = 0; j < n->n_out; j++)
            if (out_ptr[j]) bo += (int64_t)mec_tensor_bytes(out_ptr[j]);
        pr->bytes_in = bi;
        pr->bytes_out = bo;
        pr->flops = k->flops ? k->flops(&ctx) : 0;
    }
    return MEC_OK;
}

mec_status mec_sess_run(mec_sess *s, int n_in, const char *const *in_names,
                        const mec_tensor *const *inputs, int n_out, const char *const *out_names,
                        mec_tensor **out) {
    const mec_graph *g = s->g;
    int out_vals_stack[64];
    int *out_vals = out_vals_stack;
    mec_status st = MEC_OK;
    if (n_out < 0 || n_in < 0) return mec_error(MEC_ERR_INVALID_ARG, "negative input/output count");
    if (!out_names && n_out != g->n_outputs)
        return mec_error(MEC_ERR_INVALID_ARG, "asked for %d outputs, the model has %d", n_out,
                         g->n_outputs);
    if (n_out > 64 && !(out_vals = mec_malloc(sizeof(int) * (size_t)n_out))) return MEC_ERR_NOMEM;
    for (int i = 0; i < n_out; i++) {
        out[i] = NULL;
        if (!out_names) {
            out_vals[i] = g->outputs[i];
            continue;
        }
        out_vals[i] = mec_graph_find(g, out_names[i]);
        if (out_vals[i] < 0) {
            st = mec_error(MEC_ERR_NOT_FOUND, "the model has no value named '%s'", out_names[i]);
            goto done;
        }
    }
    for (int i = 0; i < n_in; i++) {
        int v = mec_graph_find(g, in_names[i]);
        if (v < 0) {
            st = mec_error(MEC_ERR_NOT_FOUND, "the model has no input named '%s'", in_names[i]);
            goto done;
        }
        if (s->is_const[v] && !g->values[v].is_input) {
            st = mec_error(MEC_ERR_INVALID_ARG, "'%s' is a constant of the model, not an input",
                           in_names[i]);
            goto done;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(in_names[j], in_names[i])) {
                st = mec_error(MEC_ERR_INVALID_ARG, "input '%s' is given twice", in_names[i]);
                goto done;
            }
        if ((st = check_input(s, v, inputs[i]))) goto done;
    }
    plan *pl = NULL;
    if ((st = plan_get(s, n_in, in_names, n_out, out_vals, &pl))) goto done;
    /* bind inputs: contiguous ones are used in place, others copied */
    for (int i = 0; i < n_in; i++) {
        int v = mec_graph_find(g, in_names[i]);
        s->vals[v] = *inputs[i];
        s->vals[v].owned = NULL;
        s->vals[v].capacity = 0;
        s->val_buf[v] = -1;
        if (!mec_tensor_is_contiguous(inputs[i])) {
            int b = pool_get(s, mec_tensor_bytes(inputs[i]));
            if (b < 0) {
                st = MEC_ERR_NOMEM;
                goto done;
            }
            s->val_buf[v] = b;
            s->vals[v].data = s->pool[b].data;
            mec_tensor_contiguous_strides(&s->vals[v]);
            mec_tensor_copy(&s->vals[v], inputs[i]);
        }
    }
    for (int step = 0; step < pl->n_order && !st; step++) {
        int i = pl->order[step];
        st = run_node(s, i, step, pl);
        if (st) break;
        /* free what died at this step */
        const mec_node *n = &g->nodes[i];
        for (int j = 0; j < n->n_in; j++) {
            int v = n->in[j];
            if (v >= 0 && pl->last_use[v] == step && !pl->keep[v] && !s->is_const[v] && !pl->fed[v])
                value_release(s, v);
        }
        for (int j = 0; j < n->n_out; j++) {
            int v = n->out[j];
            if (v >= 0 && pl->last_use[v] < 0 && !pl->keep[v]) value_release(s, v);
        }
    }
    if (!st) {
        for (int i = 0; i < n_out; i++) {
            const mec_tensor *src = &s->vals[out_vals[i]];
            if (!src->data && mec_tensor_numel(src) > 0) {
                st = mec_error(MEC_ERR_UNSUPPORTED,
                               "'%s' is a constant whose data was freed: the kernels reading it "
                               "keep their own (packed) copies",
                               g->values[out_vals[i]].name);
                break;
            }
            if ((st = mec_tensor_clone(src, &out[i]))) break;
        }
    }
    if (st) {
        for (int i = 0; i < n_out; i++) {
            mec_tensor_destroy(out[i]);
            out[i] = NULL;
        }
    }
    /* everything goes back to the pool (memory is kept for the next run) */
    for (int v = 0; v < g->n_values; v++)
        if (!s->is_const[v]) {
            if (s->val_buf[v] >= 0) value_release(s, v);
            s->vals[v].data = NULL;
        }
    for (int b = 0; b < s->n_pool; b++) s->pool[b].refs = 0;
done:
    if (out_vals != out_vals_stack) mec_free(out_vals);
    return st;
}

void mec_sess_memory(const mec_sess *s, int *n_buffers, size_t *bytes) {
    size_t total = 0;
    for (int i = 0; i < s->n_pool; i++) total += s->pool[i].cap;
    if (n_buffers) *n_buffers = s->n_pool;
    if (bytes) *bytes = total;
}

const mec_node_profile *mec_sess_profile(const mec_sess *s, int *count) {
    *count = s->g->n_nodes;
    return s->prof;
}

void mec_sess_profile_reset(mec_sess *s) {
    for (int i = 0; i < s->g->n_nodes; i++) {
        s->prof[i].runs = 0;
        s->prof[i].total_ns = 0;
    }
}
