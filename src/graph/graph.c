/* The model IR: values, nodes, attributes, a name index, topological order. */
#include "mec/graph.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------ name index */

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static mec_status index_rebuild(mec_graph *g, int cap) {
    int *idx = mec_malloc(sizeof(int) * (size_t)cap);
    if (!idx) return MEC_ERR_NOMEM;
    for (int i = 0; i < cap; i++) idx[i] = -1;
    for (int v = 0; v < g->n_values; v++) {
        uint64_t h = hash_str(g->values[v].name) & (uint64_t)(cap - 1);
        while (idx[h] >= 0) h = (h + 1) & (uint64_t)(cap - 1);
        idx[h] = v;
    }
    mec_free(g->index);
    g->index = idx;
    g->index_cap = cap;
    return MEC_OK;
}

int mec_graph_find(const mec_graph *g, const char *name) {
    if (!name || !g->index_cap) return -1;
    uint64_t mask = (uint64_t)(g->index_cap - 1);
    for (uint64_t h = hash_str(name) & mask;; h = (h + 1) & mask) {
        int v = g->index[h];
        if (v < 0) return -1;
        if (strcmp(g->values[v].name, name) == 0) return v;
    }
}

mec_status mec_graph_value(mec_graph *g, const char *name, int *id) {
    if (!name) return mec_error(MEC_ERR_INVALID_ARG, "value name is NULL");
    int v = mec_graph_find(g, name);
    if (v >= 0) {
        if (id) *id = v;
        return MEC_OK;
    }
    if (g->n_values == g->cap_values) {
        int cap = g->cap_values ? g->cap_values * 2 : 64;
        mec_value *nv = mec_realloc(g->values, sizeof(mec_value) * (size_t)g->cap_values,
                                    sizeof(mec_value) * (size_t)cap);
        if (!nv) return MEC_ERR_NOMEM;
        g->values = nv;
        g->cap_values = cap;
    }
    char *copy = mec_strdup(name);
    if (!copy) return MEC_ERR_NOMEM;
    if ((g->n_values + 1) * 2 > g->index_cap) {
        int cap = g->index_cap ? g->index_cap : 128;
        while ((g->n_values + 1) * 2 > cap) cap *= 2;
        /* rebuild after adding below */
        mec_value *val = &g->values[g->n_values];
        memset(val, 0, sizeof *val);
        val->name = copy;
        val->ndim = -1;
        val->producer = -1;
        g->n_values++;
        mec_status st = index_rebuild(g, cap);
        if (st) {
            g->n_values--;
            mec_free(copy);
            return st;
        }
        if (id) *id = g->n_values - 1;
        return MEC_OK;
    }
    mec_value *val = &g->values[g->n_values];
    memset(val, 0, sizeof *val);
    val->name = copy;
    val->ndim = -1;
    val->producer = -1;
    uint64_t mask = (uint64_t)(g->index_cap - 1);
    uint64_t h = hash_str(copy) & mask;
    while (g->index[h] >= 0) h = (h + 1) & mask;
    g->index[h] = g->n_values;
    if (id) *id = g->n_values;
    g->n_values++;
    return MEC_OK;
}

/* ------------------------------------------------------------- lifecycle */

mec_status mec_graph_create(const char *name, mec_graph **out) {
    *out = NULL;
    mec_graph *g = mec_calloc(1, sizeof *g);
    if (!g) return MEC_ERR_NOMEM;
    g->name = mec_strdup(name ? name : "graph");
    if (!g->name) {
        mec_free(g);
        return MEC_ERR_NOMEM;
    }
    g->ir_version = 8;
    *out = g;
    return MEC_OK;
}

void mec_attr_release(mec_attr *a) {
    mec_free(a->name);
    mec_free(a->s);
    mec_tensor_destroy(a->t);
    mec_graph_destroy(a->g);
    mec_free(a->floats);
    mec_free(a->ints);
    if (a->strings)
        for (int64_t i = 0; i < a->n; i++) mec_free(a->strings[i]);
    mec_free(a->strings);
    if (a->tensors)
        for (int64_t i = 0; i < a->n; i++) mec_tensor_destroy(a->tensors[i]);
    mec_free(a->tensors);
    if (a->graphs)
        for (int64_t i = 0; i < a->n; i++) mec_graph_destroy(a->graphs[i]);
    mec_free(a->graphs);
    memset(a, 0, sizeof *a);
}

static void node_release(mec_node *n) {
    mec_free(n->name);
    mec_free(n->op_type);
    mec_free(n->domain);
    mec_free(n->doc);
    mec_free(n->in);
    mec_free(n->out);
    for (int i = 0; i < n->n_attr; i++) mec_attr_release(&n->attrs[i]);
    mec_free(n->attrs);
}

void mec_graph_destroy(mec_graph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_values; i++) {
        mec_value *v = &g->values[i];
        mec_free(v->name);
        for (int d = 0; d < MEC_MAX_DIMS; d++) mec_free(v->dim_names[d]);
        mec_tensor_destroy(v->init);
    }
    mec_free(g->values);
    for (int i = 0; i < g->n_nodes; i++) node_release(&g->nodes[i]);
    mec_free(g->nodes);
    mec_free(g->inputs);
    mec_free(g->outputs);
    for (int i = 0; i < g->n_opsets; i++) mec_free(g->opsets[i].domain);
    mec_free(g->opsets);
    for (int i = 0; i < g->n_meta; i++) {
        mec_free(g->meta_keys[i]);
        mec_free(g->meta_values[i]);
    }
    mec_free(g->meta_keys);
    mec_free(g->meta_values);
    mec_free(g->name);
    mec_free(g->producer_name);
    mec_free(g->producer_version);
    mec_free(g->model_domain);
    mec_free(g->doc);
    mec_free(g->index);
    mec_free(g);
}

/* ------------------------------------------------------------ inputs etc */

static mec_status push_int(int **arr, int *n, int v) {
    int *na = mec_realloc(*arr, sizeof(int) * (size_t)*n, sizeof(int) * (size_t)(*n + 1));
    if (!na) return MEC_ERR_NOMEM;
    na[*n] = v;
    *arr = na;
    (*n)++;
    return MEC_OK;
}

mec_status mec_graph_add_input(mec_graph *g, const char *name, mec_dtype dtype, int ndim,
                               const int64_t *dims, const char *const *dim_names, int *id) {
    if (ndim > MEC_MAX_DIMS)
        return mec_error(MEC_ERR_UNSUPPORTED, "input '%s' has rank %d, more than %d", name, ndim,
                         MEC_MAX_DIMS);
    int v;
    mec_status st = mec_graph_value(g, name, &v);
    if (st) return st;
    mec_value *val = &g->values[v];
    if (val->is_input) return mec_error(MEC_ERR_GRAPH, "input '%s' is declared twice", name);
    val->dtype = dtype;
    val->ndim = ndim;
    val->has_info = true;
    for (int d = 0; d < ndim && d < MEC_MAX_DIMS; d++) {
        val->dims[d] = dims ? dims[d] : -1;
        if (dim_names && dim_names[d]) {
            val->dim_names[d] = mec_strdup(dim_names[d]);
            if (!val->dim_names[d]) return MEC_ERR_NOMEM;
        }
    }
    st = push_int(&g->inputs, &g->n_inputs, v);
    if (st) return st;
    val->is_input = true;
    if (id) *id = v;
    return MEC_OK;
}

mec_status mec_graph_add_output(mec_graph *g, const char *name, int *id) {
    int v;
    mec_status st = mec_graph_value(g, name, &v);
    if (st) return st;
    if (g->values[v].is_output) {
        if (id) *id = v;
        return MEC_OK;
    }
    st = push_int(&g->outputs, &g->n_outputs, v);
    if (st) return st;
    g->values[v].is_output = true;
    if (id) *id = v;
    return MEC_OK;
}

mec_status mec_graph_add_initializer(mec_graph *g, const char *name, mec_tensor *t, int *id) {
    int v;
    mec_status st = mec_graph_value(g, name, &v);
    if (st) {
        mec_tensor_destroy(t);
        return st;
    }
    mec_value *val = &g->values[v];
    if (val->init) {
        mec_tensor_destroy(t);
        return mec_error(MEC_ERR_GRAPH, "initializer '%s' is defined twice", name);
    }
    val->init = t;
    if (!val->has_info || val->dtype == MEC_UNDEFINED) {
        val->dtype = t->dtype;
        val->ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++) val->dims[d] = t->shape[d];
    }
    if (id) *id = v;
    return MEC_OK;
}

mec_status mec_graph_set_opset(mec_graph *g, const char *domain, int64_t version) {
    if (!domain || !strcmp(domain, "ai.onnx")) domain = "";
    for (int i = 0; i < g->n_opsets; i++)
        if (!strcmp(g->opsets[i].domain, domain)) {
            g->opsets[i].version = version;
            return MEC_OK;
        }
    mec_opset *no = mec_realloc(g->opsets, sizeof(mec_opset) * (size_t)g->n_opsets,
                                sizeof(mec_opset) * (size_t)(g->n_opsets + 1));
    if (!no) return MEC_ERR_NOMEM;
    g->opsets = no;
    no[g->n_opsets].domain = mec_strdup(domain);
    if (!no[g->n_opsets].domain) return MEC_ERR_NOMEM;
    no[g->n_opsets].version = version;
    g->n_opsets++;
    return MEC_OK;
}

int64_t mec_graph_opset(const mec_graph *g, const char *domain) {
    if (!domain || !strcmp(domain, "ai.onnx")) domain = "";
    for (int i = 0; i < g->n_opsets; i++)
        if (!strcmp(g->opsets[i].domain, domain)) return g->opsets[i].version;
    return 0;
}

/* ----------------------------------------------------------------- nodes */

mec_status mec_graph_add_node(mec_graph *g, const char *op_type, const char *domain,
                              const char *name, int n_in, const char *const *inputs, int n_out,
                              const char *const *outputs, int *node_id) {
    if (!op_type || !*op_type) return mec_error(MEC_ERR_INVALID_ARG, "node without op_type");
    if (n_in < 0 || n_out < 0 || n_in > 4096 || n_out > 4096)
        return mec_error(MEC_ERR_INVALID_ARG, "node '%s': %d inputs / %d outputs", name ? name : "",
                         n_in, n_out);
    if (g->n_nodes == g->cap_nodes) {
        int cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
        mec_node *nn = mec_realloc(g->nodes, sizeof(mec_node) * (size_t)g->cap_nodes,
                                   sizeof(mec_node) * (size_t)cap);
        if (!nn) return MEC_ERR_NOMEM;
        g->nodes = nn;
        g->cap_nodes = cap;
    }
    mec_node n;
    memset(&n, 0, sizeof n);
    mec_status st = MEC_ERR_NOMEM;
    n.name = mec_strdup(name ? name : "");
    n.op_type = mec_strdup(op_type);
    n.domain = mec_strdup(domain && strcmp(domain, "ai.onnx") ? domain : "");
    n.in = mec_malloc(sizeof(int) * (size_t)(n_in ? n_in : 1));
    n.out = mec_malloc(sizeof(int) * (size_t)(n_out ? n_out : 1));
    if (!n.name || !n.op_type || !n.domain || !n.in || !n.out) goto fail;
    n.n_in = n_in;
    n.n_out = n_out;
    for (int i = 0; i < n_in; i++) {
        n.in[i] = -1;
        if (inputs && inputs[i] && *inputs[i]) {
            st = mec_graph_value(g, inputs[i], &n.in[i]);
            if (st) goto fail;
        }
    }
    for (int i = 0; i < n_out; i++) {
        n.out[i] = -1;
        if (outputs && outputs[i] && *outputs[i]) {
            st = mec_graph_value(g, outputs[i], &n.out[i]);
            if (st) goto fail;
            mec_value *v = &g->values[n.out[i]];
            if (v->producer >= 0 || v->init || v->is_input) {
                st = mec_error(MEC_ERR_GRAPH, "node '%s' (%s): output '%s' is already defined",
                               n.name, op_type, outputs[i]);
                goto fail;
            }
            v->producer = g->n_nodes;
        }
    }
    g->nodes[g->n_nodes] = n;
    if (node_id) *node_id = g->n_nodes;
    g->n_nodes++;
    return MEC_OK;
fail:
    for (int i = 0; i < n.n_out && n.out; i++)
        if (n.out[i] >= 0 && g->values[n.out[i]].producer == g->n_nodes)
            g->values[n.out[i]].producer = -1;
    node_release(&n);
    return st;
}

/* ------------------------------------------------------------ attributes */

mec_status mec_node_add_attr(mec_graph *g, int node_id, mec_attr *attr) {
    mec_node *n = &g->nodes[node_id];
    for (int i = 0; i < n->n_attr; i++)
        if (!strcmp(n->attrs[i].name, attr->name)) {
            mec_attr_release(&n->attrs[i]);
            n->attrs[i] = *attr;
            return MEC_OK;
        }
    mec_attr *na = mec_realloc(n->attrs, sizeof(mec_attr) * (size_t)n->n_attr,
                               sizeof(mec_attr) * (size_t)(n->n_attr + 1));
    if (!na) {
        mec_attr_release(attr);
        return MEC_ERR_NOMEM;
    }
    n->attrs = na;
    na[n->n_attr++] = *attr;
    return MEC_OK;
}

static mec_status attr_begin(mec_attr *a, const char *name, mec_attr_type type) {
    memset(a, 0, sizeof *a);
    a->type = type;
    a->name = mec_strdup(name);
    return a->name ? MEC_OK : MEC_ERR_NOMEM;
}

mec_status mec_node_set_int(mec_graph *g, int node_id, const char *name, int64_t v) {
    mec_attr a;
    if (attr_begin(&a, name, MEC_ATTR_INT)) return MEC_ERR_NOMEM;
    a.i = v;
    return mec_node_add_attr(g, node_id, &a);
}

mec_status mec_node_set_float(mec_graph *g, int node_id, const char *name, float v) {
    mec_attr a;
    if (attr_begin(&a, name, MEC_ATTR_FLOAT)) return MEC_ERR_NOMEM;
    a.f = v;
    return mec_node_add_attr(g, node_id, &a);
}

mec_status mec_node_set_string(mec_graph *g, int node_id, const char *name, const char *v) {
    mec_attr a;
    if (attr_begin(&a, name, MEC_ATTR_STRING)) return MEC_ERR_NOMEM;
    a.s = mec_strdup(v);
    if (!a.s) {
        mec_attr_release(&a);
        return MEC_ERR_NOMEM;
    }
    a.s_len = strlen(v);
    return mec_node_add_attr(g, node_id, &a);
}

mec_status mec_node_set_ints(mec_graph *g, int node_id, const char *name, int64_t n,
                             const int64_t *v) {
    mec_attr a;
    if (attr_begin(&a, name, MEC_ATTR_INTS)) return MEC_ERR_NOMEM;
    a.ints = mec_malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    if (!a.ints) {
        mec_attr_release(&a);
        return MEC_ERR_NOMEM;
    }
    if (n) memcpy(a.ints, v, sizeof(int64_t) * (size_t)n);
    a.n = n;
    return mec_node_add_attr(g, node_id, &a);
}

mec_status mec_node_set_floats(mec_graph *g, int node_id, const char *name, int64_t n,
                               const float *v) {
    mec_attr a;
    if (attr_begin(&a, name, MEC_ATTR_FLOATS)) return MEC_ERR_NOMEM;
    a.floats = mec_malloc(sizeof(float) * (size_t)(n ? n : 1));
    if (!a.floats) {
        mec_attr_release(&a);
        return MEC_ERR_NOMEM;
    }
    if (n) memcpy(a.floats, v, sizeof(float) * (size_t)n);
    a.n = n;
    return mec_node_add_attr(g, node_id, &a);
}

mec_status mec_node_set_tensor(mec_graph *g, int node_id, const char *name, mec_tensor *t) {
    mec_attr a;
    if (attr_begin(&a, name, MEC_ATTR_TENSOR)) {
        mec_tensor_destroy(t);
        return MEC_ERR_NOMEM;
    }
    a.t = t;
    return mec_node_add_attr(g, node_id, &a);
}

const mec_attr *mec_node_attr(const mec_node *n, const char *name) {
    for (int i = 0; i < n->n_attr; i++)
        if (!strcmp(n->attrs[i].name, name)) return &n->attrs[i];
    return NULL;
}

int64_t mec_node_int(const mec_node *n, const char *name, int64_t dflt) {
    const mec_attr *a = mec_node_attr(n, name);
    return a && a->type == MEC_ATTR_INT ? a->i : dflt;
}

float mec_node_float(const mec_node *n, const char *name, float dflt) {
    const mec_attr *a = mec_node_attr(n, name);
    if (!a) return dflt;
    if (a->type == MEC_ATTR_FLOAT) return a->f;
    if (a->type == MEC_ATTR_INT) return (float)a->i;
    return dflt;
}

const char *mec_node_string(const mec_node *n, const char *name, const char *dflt) {
    const mec_attr *a = mec_node_attr(n, name);
    return a && a->type == MEC_ATTR_STRING ? a->s : dflt;
}

int64_t mec_node_ints(const mec_node *n, const char *name, const int64_t **v) {
    const mec_attr *a = mec_node_attr(n, name);
    if (!a || a->type != MEC_ATTR_INTS) {
        if (v) *v = NULL;
        return -1;
    }
    if (v) *v = a->ints;
    return a->n;
}

int64_t mec_node_floats(const mec_node *n, const char *name, const float **v) {
    const mec_attr *a = mec_node_attr(n, name);
    if (!a || a->type != MEC_ATTR_FLOATS) {
        if (v) *v = NULL;
        return -1;
    }
    if (v) *v = a->floats;
    return a->n;
}

const char *mec_node_label(const mec_graph *g, int node_id, char *buf, size_t n) {
    const mec_node *nd = &g->nodes[node_id];
    if (nd->name && *nd->name) snprintf(buf, n, "'%s' (%s)", nd->name, nd->op_type);
    else snprintf(buf, n, "#%d (%s)", node_id, nd->op_type);
    return buf;
}

/* ------------------------------------------------------------ topo order */

mec_status mec_graph_toposort(mec_graph *g) {
    int nn = g->n_nodes;
    mec_status st = MEC_OK;
    char label[256];
    for (int v = 0; v < g->n_values; v++) g->values[v].producer = -1;
    for (int i = 0; i < nn; i++)
        for (int k = 0; k < g->nodes[i].n_out; k++) {
            int v = g->nodes[i].out[k];
            if (v < 0) continue;
            mec_value *val = &g->values[v];
            if (val->producer >= 0 || val->init || val->is_input)
                return mec_error(MEC_ERR_GRAPH, "node %s: output '%s' is defined more than once",
                                 mec_node_label(g, i, label, sizeof label), val->name);
            val->producer = i;
        }
    for (int i = 0; i < nn; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++) {
            int v = g->nodes[i].in[k];
            if (v < 0) continue;
            const mec_value *val = &g->values[v];
            if (val->producer < 0 && !val->init && !val->is_input)
                return mec_error(MEC_ERR_GRAPH,
                                 "node %s: input %d '%s' is not a graph input, an initializer "
                                 "or the output of any node",
                                 mec_node_label(g, i, label, sizeof label), k, val->name);
        }
    for (int o = 0; o < g->n_outputs; o++) {
        const mec_value *val = &g->values[g->outputs[o]];
        if (val->producer < 0 && !val->init && !val->is_input)
            return mec_error(MEC_ERR_GRAPH, "graph output '%s' is produced by no node", val->name);
    }
    /* Kahn's algorithm, taking the lowest ready index first keeps sorted
     * graphs in their order. */
    int *indeg = mec_calloc((size_t)nn + 1, sizeof(int));
    int *order = mec_calloc((size_t)nn + 1, sizeof(int));
    char *done = mec_calloc((size_t)nn + 1, 1);
    if (!indeg || !order || !done) {
        st = MEC_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < nn; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++) {
            int v = g->nodes[i].in[k];
            if (v >= 0 && g->values[v].producer >= 0) indeg[i]++;
        }
    int count = 0, scan = 0;
    while (count < nn) {
        int pick = -1;
        for (int i = scan; i < nn; i++)
            if (!done[i] && indeg[i] == 0) {
                pick = i;
                break;
            }
        if (pick < 0)
            for (int i = 0; i < scan; i++)
                if (!done[i] && indeg[i] == 0) {
                    pick = i;
                    break;
                }
        if (pick < 0) {
            for (int i = 0; i < nn; i++)
                if (!done[i]) {
                    st = mec_error(MEC_ERR_GRAPH, "the graph has a cycle through node %s",
                                   mec_node_label(g, i, label, sizeof label));
                    goto out;
                }
        }
        done[pick] = 1;
        order[count++] = pick;
        scan = pick + 1;
        const mec_node *p = &g->nodes[pick];
        for (int k = 0; k < p->n_out; k++) {
            int v = p->out[k];
            if (v < 0) continue;
            for (int i = 0; i < nn; i++) {
                if (done[i]) continue;
                for (int j = 0; j < g->nodes[i].n_in; j++)
                    if (g->nodes[i].in[j] == v) indeg[i]--;
            }
        }
    }
    {
        mec_node *sorted = mec_malloc(sizeof(mec_node) * (size_t)(g->cap_nodes ? g->cap_nodes : 1));
        if (!sorted) {
            st = MEC_ERR_NOMEM;
            goto out;
        }
        for (int i = 0; i < nn; i++) sorted[i] = g->nodes[order[i]];
        mec_free(g->nodes);
        g->nodes = sorted;
        for (int i = 0; i < nn; i++)
            for (int k = 0; k < g->nodes[i].n_out; k++)
                if (g->nodes[i].out[k] >= 0) g->values[g->nodes[i].out[k]].producer = i;
    }
out:
    mec_free(indeg);
    mec_free(order);
    mec_free(done);
    return st;
}

/* ------------------------------------------------------------ edit */

mec_status mec_graph_remove_nodes(mec_graph *g, const char *remove) {
    int kept = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        if (remove[i]) {
            node_release(&g->nodes[i]);
            continue;
        }
        g->nodes[kept++] = g->nodes[i];
    }
    g->n_nodes = kept;
    for (int v = 0; v < g->n_values; v++) g->values[v].producer = -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_out; k++)
            if (g->nodes[i].out[k] >= 0) g->values[g->nodes[i].out[k]].producer = i;
    return MEC_OK;
}

mec_status mec_node_set_input(mec_graph *g, int node_id, int index, int value) {
    mec_node *n = &g->nodes[node_id];
    if (index < 0 || index > 4096) return mec_error(MEC_ERR_INVALID_ARG, "input index %d", index);
    if (index >= n->n_in) {
        int *ni = mec_realloc(n->in, sizeof(int) * (size_t)n->n_in, sizeof(int) * (size_t)(index + 1));
        if (!ni) return MEC_ERR_NOMEM;
        for (int k = n->n_in; k <= index; k++) ni[k] = -1;
        n->in = ni;
        n->n_in = index + 1;
    }
    n->in[index] = value;
    return MEC_OK;
}
