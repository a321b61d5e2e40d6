/* Whole-graph edits: deep copy (mec_graph_clone) and dead-code removal
 * (mec_graph_prune). */
#include "mec/graph.h"

#include <string.h>

/* ----------------------------------------------------------------- clone */

/* Copies s into *dst (NULL stays NULL); false when out of memory. */
static bool copy_str(char **dst, const char *s) {
    *dst = NULL;
    if (!s) return true;
    *dst = mec_strdup(s);
    return *dst != NULL;
}

static mec_status attr_clone(const mec_attr *src, mec_attr *dst) {
    memset(dst, 0, sizeof *dst);
    dst->type = src->type;
    dst->f = src->f;
    dst->i = src->i;
    if (!copy_str(&dst->name, src->name)) return MEC_ERR_NOMEM;
    if (src->s) {
        dst->s = mec_malloc(src->s_len + 1);
        if (!dst->s) return MEC_ERR_NOMEM;
        memcpy(dst->s, src->s, src->s_len + 1);
        dst->s_len = src->s_len;
    }
    mec_status st;
    if (src->t && (st = mec_tensor_clone(src->t, &dst->t))) return st;
    if (src->g && (st = mec_graph_clone(src->g, &dst->g))) return st;
    size_t n = src->n > 0 ? (size_t)src->n : 0;
    if (src->floats) {
        if (!(dst->floats = mec_calloc(n ? n : 1, sizeof(float)))) return MEC_ERR_NOMEM;
        if (n) memcpy(dst->floats, src->floats, n * sizeof(float));
    }
    if (src->ints) {
        if (!(dst->ints = mec_calloc(n ? n : 1, sizeof(int64_t)))) return MEC_ERR_NOMEM;
        if (n) memcpy(dst->ints, src->ints, n * sizeof(int64_t));
    }
    /* n is set before the element copies so a partial copy releases cleanly. */
    dst->n = src->n;
    if (src->strings) {
        if (!(dst->strings = mec_calloc(n ? n : 1, sizeof(char *)))) return MEC_ERR_NOMEM;
        for (size_t k = 0; k < n; k++)
            if (!copy_str(&dst->strings[k], src->strings[k])) return MEC_ERR_NOMEM;
    }
    if (src->tensors) {
        if (!(dst->tensors = mec_calloc(n ? n : 1, sizeof(mec_tensor *)))) return MEC_ERR_NOMEM;
        for (size_t k = 0; k < n; k++)
            if (src->tensors[k] && (st = mec_tensor_clone(src->tensors[k], &dst->tensors[k])))
                return st;
    }
    if (src->graphs) {
        if (!(dst->graphs = mec_calloc(n ? n : 1, sizeof(mec_graph *)))) return MEC_ERR_NOMEM;
        for (size_t k = 0; k < n; k++)
            if (src->graphs[k] && (st = mec_graph_clone(src->graphs[k], &dst->graphs[k])))
                return st;
    }
    return MEC_OK;
}

static mec_status node_clone(const mec_node *src, mec_node *dst) {
    memset(dst, 0, sizeof *dst);
    if (!copy_str(&dst->name, src->name) || !copy_str(&dst->op_type, src->op_type) ||
        !copy_str(&dst->domain, src->domain) || !copy_str(&dst->doc, src->doc))
        return MEC_ERR_NOMEM;
    dst->in = mec_malloc(sizeof(int) * (size_t)(src->n_in ? src->n_in : 1));
    dst->out = mec_malloc(sizeof(int) * (size_t)(src->n_out ? src->n_out : 1));
    if (!dst->in || !dst->out) return MEC_ERR_NOMEM;
    if (src->n_in) memcpy(dst->in, src->in, sizeof(int) * (size_t)src->n_in);
    if (src->n_out) memcpy(dst->out, src->out, sizeof(int) * (size_t)src->n_out);
    dst->n_in = src->n_in;
    dst->n_out = src->n_out;
    if (src->n_attr) {
        dst->attrs = mec_calloc((size_t)src->n_attr, sizeof(mec_attr));
        if (!dst->attrs) return MEC_ERR_NOMEM;
        for (int a = 0; a < src->n_attr; a++) {
            dst->n_attr = a + 1;
            mec_status st = attr_clone(&src->attrs[a], &dst->attrs[a]);
            if (st) return st;
        }
    }
    return MEC_OK;
}

static int *int_array_clone(const int *src, int n) {
    int *d = mec_malloc(sizeof(int) * (size_t)(n ? n : 1));
    if (d && n) memcpy(d, src, sizeof(int) * (size_t)n);
    return d;
}

static mec_status graph_clone_into(const mec_graph *g, mec_graph *c) {
    c->ir_version = g->ir_version;
    c->model_version = g->model_version;
    if (!copy_str(&c->name, g->name) || !copy_str(&c->producer_name, g->producer_name) ||
        !copy_str(&c->producer_version, g->producer_version) ||
        !copy_str(&c->model_domain, g->model_domain) || !copy_str(&c->doc, g->doc))
        return MEC_ERR_NOMEM;
    mec_status st;
    /* values and the name index (same indices, so the index copies as is) */
    if (g->cap_values) {
        c->values = mec_calloc((size_t)g->cap_values, sizeof(mec_value));
        if (!c->values) return MEC_ERR_NOMEM;
        c->cap_values = g->cap_values;
    }
    for (int v = 0; v < g->n_values; v++) {
        const mec_value *s = &g->values[v];
        mec_value *d = &c->values[v];
        *d = *s;
        d->name = NULL;
        d->init = NULL;
        memset(d->dim_names, 0, sizeof d->dim_names);
        c->n_values = v + 1;
        if (!copy_str(&d->name, s->name)) return MEC_ERR_NOMEM;
        for (int k = 0; k < MEC_MAX_DIMS; k++)
            if (!copy_str(&d->dim_names[k], s->dim_names[k])) return MEC_ERR_NOMEM;
        if (s->init && (st = mec_tensor_clone(s->init, &d->init))) return st;
    }
    if (g->index_cap) {
        c->index = int_array_clone(g->index, g->index_cap);
        if (!c->index) return MEC_ERR_NOMEM;
        c->index_cap = g->index_cap;
    }
    /* nodes */
    if (g->cap_nodes) {
        c->nodes = mec_calloc((size_t)g->cap_nodes, sizeof(mec_node));
        if (!c->nodes) return MEC_ERR_NOMEM;
        c->cap_nodes = g->cap_nodes;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        c->n_nodes = i + 1;
        if ((st = node_clone(&g->nodes[i], &c->nodes[i]))) return st;
    }
    /* interface, opsets, metadata */
    c->inputs = int_array_clone(g->inputs, g->n_inputs);
    c->outputs = int_array_clone(g->outputs, g->n_outputs);
    if (!c->inputs || !c->outputs) return MEC_ERR_NOMEM;
    c->n_inputs = g->n_inputs;
    c->n_outputs = g->n_outputs;
    if (g->n_opsets) {
        c->opsets = mec_calloc((size_t)g->n_opsets, sizeof(mec_opset));
        if (!c->opsets) return MEC_ERR_NOMEM;
        for (int i = 0; i < g->n_opsets; i++) {
            c->n_opsets = i + 1;
            c->opsets[i].version = g->opsets[i].version;
            if (!copy_str(&c->opsets[i].domain, g->opsets[i].domain)) return MEC_ERR_NOMEM;
        }
    }
    if (g->n_meta) {
        c->meta_keys = mec_calloc((size_t)g->n_meta, sizeof(char *));
        c->meta_values = mec_calloc((size_t)g->n_meta, sizeof(char *));
        if (!c->meta_keys || !c->meta_values) return MEC_ERR_NOMEM;
        c->n_meta = g->n_meta;
        for (int i = 0; i < g->n_meta; i++)
            if (!copy_str(&c->meta_keys[i], g->meta_keys[i]) ||
                !copy_str(&c->meta_values[i], g->meta_values[i]))
                return MEC_ERR_NOMEM;
    }
    return MEC_OK;
}

mec_status mec_graph_clone(const mec_graph *g, mec_graph **out) {
    if (!g || !out) return mec_error(MEC_ERR_INVALID_ARG, "mec_graph_clone: NULL argument");
    *out = NULL;
    mec_graph *c = mec_calloc(1, sizeof *c);
    if (!c) return MEC_ERR_NOMEM;
    mec_status st = graph_clone_into(g, c);
    if (st) {
        mec_graph_destroy(c);
        return st;
    }
    *out = c;
    return MEC_OK;
}

/* ----------------------------------------------------------------- prune */

typedef struct work_stack {
    int *items;
    int n;
    char *seen; /* per value: already pushed */
} work_stack;

static void push_value(work_stack *ws, int v) {
    if (v < 0 || ws->seen[v]) return;
    ws->seen[v] = 1;
    ws->items[ws->n++] = v;
}

/* Values of `outer` that subgraph sg (and graphs nested in it) reads without
 * defining them itself: If/Loop/Scan bodies capture outer values by name. */
static mec_status push_captured(const mec_graph *sg, const mec_graph *outer, work_stack *ws,
                                int depth) {
    if (depth > 64) return mec_error(MEC_ERR_GRAPH, "subgraphs nest more than 64 deep");
    char *defined = mec_calloc((size_t)sg->n_values + 1, 1);
    if (!defined) return MEC_ERR_NOMEM;
    for (int v = 0; v < sg->n_values; v++)
        defined[v] = sg->values[v].init != NULL || sg->values[v].is_input;
    for (int i = 0; i < sg->n_nodes; i++)
        for (int k = 0; k < sg->nodes[i].n_out; k++)
            if (sg->nodes[i].out[k] >= 0) defined[sg->nodes[i].out[k]] = 1;
    mec_status st = MEC_OK;
    for (int i = 0; i < sg->n_nodes && !st; i++) {
        const mec_node *n = &sg->nodes[i];
        for (int k = 0; k < n->n_in; k++) {
            int v = n->in[k];
            if (v >= 0 && !defined[v]) push_value(ws, mec_graph_find(outer, sg->values[v].name));
        }
        for (int a = 0; a < n->n_attr && !st; a++) {
            const mec_attr *at = &n->attrs[a];
            if (at->g) st = push_captured(at->g, outer, ws, depth + 1);
            for (int64_t k = 0; at->graphs && k < at->n && !st; k++)
                if (at->graphs[k]) st = push_captured(at->graphs[k], outer, ws, depth + 1);
        }
    }
    for (int o = 0; o < sg->n_outputs; o++) {
        int v = sg->outputs[o];
        if (!defined[v]) push_value(ws, mec_graph_find(outer, sg->values[v].name));
    }
    mec_free(defined);
    return st;
}

static void node_free(mec_node *n) {
    mec_free(n->name);
    mec_free(n->op_type);
    mec_free(n->domain);
    mec_free(n->doc);
    mec_free(n->in);
    mec_free(n->out);
    for (int a = 0; a < n->n_attr; a++) mec_attr_release(&n->attrs[a]);
    mec_free(n->attrs);
    memset(n, 0, sizeof *n);
}

mec_status mec_graph_prune(mec_graph *g) {
    if (!g) return mec_error(MEC_ERR_INVALID_ARG, "mec_graph_prune: NULL graph");
    int nv = g->n_values, nn = g->n_nodes;
    mec_status st = MEC_OK;
    int *producer = mec_malloc(sizeof(int) * (size_t)(nv + 1));
    int *map = mec_malloc(sizeof(int) * (size_t)(nv + 1));
    char *live = mec_calloc((size_t)nn + 1, 1);
    char *keep = mec_calloc((size_t)nv + 1, 1);
    work_stack ws = {mec_malloc(sizeof(int) * (size_t)(nv + 1)), 0, mec_calloc((size_t)nv + 1, 1)};
    mec_graph *ng = NULL;
    mec_node *nodes = NULL;
    if (!producer || !map || !live || !keep || !ws.items || !ws.seen) {
        st = MEC_ERR_NOMEM;
        goto out;
    }
    for (int v = 0; v < nv; v++) producer[v] = -1;
    for (int i = 0; i < nn; i++)
        for (int k = 0; k < g->nodes[i].n_out; k++)
            if (g->nodes[i].out[k] >= 0) producer[g->nodes[i].out[k]] = i;
    /* Walk back from the outputs. */
    for (int o = 0; o < g->n_outputs; o++) push_value(&ws, g->outputs[o]);
    while (ws.n > 0) {
        int v = ws.items[--ws.n];
        int p = producer[v];
        if (p < 0 || live[p]) continue;
        live[p] = 1;
        const mec_node *n = &g->nodes[p];
        for (int k = 0; k < n->n_in; k++) push_value(&ws, n->in[k]);
        for (int a = 0; a < n->n_attr && !st; a++) {
            const mec_attr *at = &n->attrs[a];
            if (at->g) st = push_captured(at->g, g, &ws, 0);
            for (int64_t k = 0; at->graphs && k < at->n && !st; k++)
                if (at->graphs[k]) st = push_captured(at->graphs[k], g, &ws, 0);
        }
        if (st) goto out;
    }
    /* Values kept: the interface, what live nodes touch, needed values. */
    int n_live = 0;
    for (int v = 0; v < nv; v++)
        keep[v] = ws.seen[v] || g->values[v].is_input || g->values[v].is_output;
    for (int i = 0; i < nn; i++) {
        if (!live[i]) continue;
        n_live++;
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] >= 0) keep[g->nodes[i].in[k]] = 1;
        for (int k = 0; k < g->nodes[i].n_out; k++)
            if (g->nodes[i].out[k] >= 0) keep[g->nodes[i].out[k]] = 1;
    }
    /* Allocate everything first, so that a failure leaves g untouched. */
    if ((st = mec_graph_create(g->name, &ng))) goto out;
    for (int v = 0; v < nv; v++) {
        map[v] = -1;
        if (keep[v] && (st = mec_graph_value(ng, g->values[v].name, &map[v]))) goto out;
    }
    nodes = mec_calloc((size_t)(n_live ? n_live : 1), sizeof(mec_node));
    if (!nodes) {
        st = MEC_ERR_NOMEM;
        goto out;
    }
    /* Commit: move kept values' contents, live nodes, remap indices. */
    for (int v = 0; v < nv; v++) {
        if (map[v] < 0) continue;
        mec_value *s = &g->values[v], *d = &ng->values[map[v]];
        d->dtype = s->dtype;
        d->ndim = s->ndim;
        memcpy(d->dims, s->dims, sizeof d->dims);
        memcpy(d->dim_names, s->dim_names, sizeof d->dim_names);
        memset(s->dim_names, 0, sizeof s->dim_names);
        d->init = s->init;
        s->init = NULL;
        d->is_input = s->is_input;
        d->is_output = s->is_output;
        d->has_info = s->has_info;
        d->producer = -1;
    }
    int k_out = 0;
    for (int i = 0; i < nn; i++) {
        mec_node *n = &g->nodes[i];
        if (!live[i]) {
            node_free(n);
            continue;
        }
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0) n->in[k] = map[n->in[k]];
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0) {
                n->out[k] = map[n->out[k]];
                ng->values[n->out[k]].producer = k_out;
            }
        nodes[k_out++] = *n;
    }
    for (int i = 0; i < g->n_inputs; i++) g->inputs[i] = map[g->inputs[i]];
    for (int i = 0; i < g->n_outputs; i++) g->outputs[i] = map[g->outputs[i]];
    mec_free(g->nodes);
    g->nodes = nodes;
    nodes = NULL;
    g->n_nodes = k_out;
    g->cap_nodes = n_live ? n_live : 1;
    /* Swap the value tables; destroying ng frees the old one. */
    {
        mec_value *vals = g->values;
        int n_vals = g->n_values, cap_vals = g->cap_values, *index = g->index,
            index_cap = g->index_cap;
        g->values = ng->values;
        g->n_values = ng->n_values;
        g->cap_values = ng->cap_values;
        g->index = ng->index;
        g->index_cap = ng->index_cap;
        ng->values = vals;
        ng->n_values = n_vals;
        ng->cap_values = cap_vals;
        ng->index = index;
        ng->index_cap = index_cap;
    }
out:
    mec_graph_destroy(ng);
    mec_free(nodes);
    mec_free(producer);
    mec_free(map);
    mec_free(live);
    mec_free(keep);
    mec_free(ws.items);
    mec_free(ws.seen);
    return st;
}
