/* Helpers shared by the optimiser's passes: who consumes each value,
 * op matching, constant access, static shapes. */
#include "optimize.h"

#include "mec/ops.h"

#include <string.h>

mec_status mec_opt_uses_compute(const mec_graph *g, const char *removed, mec_opt_uses *u) {
    mec_opt_uses_free(u);
    u->count = mec_calloc((size_t)g->n_values + 1, sizeof(int));
    u->consumer = mec_calloc((size_t)g->n_values + 1, sizeof(int));
    if (!u->count || !u->consumer) return MEC_ERR_NOMEM;
    for (int i = 0; i < g->n_nodes; i++) {
        if (removed && removed[i]) continue;
        for (int k = 0; k < g->nodes[i].n_in; k++) {
            int v = g->nodes[i].in[k];
            if (v < 0) continue;
            u->count[v]++;
            u->consumer[v] = i;
        }
    }
    for (int o = 0; o < g->n_outputs; o++) u->count[g->outputs[o]] += MEC_OPT_OUTPUT_USE;
    return MEC_OK;
}

void mec_opt_uses_free(mec_opt_uses *u) {
    mec_free(u->count);
    mec_free(u->consumer);
    u->count = u->consumer = NULL;
}

int mec_opt_sole_consumer(const mec_opt_uses *u, const char *removed, int v) {
    if (v < 0 || u->count[v] != 1) return -1;
    if (removed && removed[u->consumer[v]]) return -1;
    return u->consumer[v];
}

bool mec_opt_is_op(const mec_node *n, const char *op) {
    return !strcmp(n->op_type, op) && (!n->domain[0] || !strcmp(n->domain, "ai.onnx"));
}

const mec_tensor *mec_opt_const_f32(const mec_graph *g, int v) {
    const mec_tensor *t = v >= 0 ? g->values[v].init : NULL;
    return t && t->dtype == MEC_F32 && t->data && mec_tensor_is_contiguous(t) ? t : NULL;
}

/* A stand-in for the k-th distinct unknown input dim: distinct primes, large
 * enough that convolutions and pools still have room. */
static int64_t dim_stand_in(int k) {
    static const int64_t primes[] = {97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151};
    const int np = (int)(sizeof primes / sizeof primes[0]);
    return k < np ? primes[k] : 151 + 2 * (int64_t)(k - np + 1);
}

/* info[] of the graph inputs: declared dims, unknown ones as stand-ins (one
 * per dim name, a new one for each unnamed dim). */
static void seed_inputs(const mec_graph *g, mec_tensor *info) {
    const char *names[64];
    int n_names = 0, k = 0;
    for (int i = 0; i < g->n_inputs; i++) {
        int v = g->inputs[i];
        const mec_value *val = &g->values[v];
        if (val->init || val->ndim < 0 || val->dtype == MEC_UNDEFINED) continue;
        mec_tensor *t = &info[v];
        t->dtype = val->dtype;
        t->ndim = val->ndim;
        for (int d = 0; d < val->ndim; d++) {
            if (val->dims[d] >= 0) {
                t->shape[d] = val->dims[d];
                continue;
            }
            const char *name = val->dim_names[d];
            int found = -1;
            for (int j = 0; name && j < n_names; j++)
                if (!strcmp(names[j], name)) found = j;
            if (found < 0 && name && n_names < 64) {
                names[n_names] = name;
                found = n_names++;
            }
            t->shape[d] = dim_stand_in(found >= 0 ? found : 64 + k++);
        }
        mec_tensor_contiguous_strides(t);
    }
}

/* Runs the reference kernel's infer of node i on info[]; outputs it cannot
 * tell are marked unknown (ndim -1). Only an allocation failure is an error. */
static mec_status infer_node(const mec_graph *g, int i, mec_tensor *info) {
    const mec_node *n = &g->nodes[i];
    const mec_tensor *in_ptr[64];
    mec_tensor *out_ptr[64];
    if (n->n_in > 64 || n->n_out > 64) return MEC_OK;
    int64_t opset = mec_graph_opset(g, n->domain);
    if (!opset && !strcmp(n->domain, "mec")) opset = 1; /* set by the driver at the end */
    const mec_kernel *k = mec_op_find(n->domain, n->op_type, opset, "ref");
    bool known = k != NULL;
    for (int j = 0; j < n->n_in; j++) {
        int v = n->in[j];
        in_ptr[j] = v >= 0 ? &info[v] : NULL;
        if (v >= 0 && (info[v].ndim < 0 || info[v].dtype == MEC_UNDEFINED)) known = false;
    }
    for (int j = 0; j < n->n_out; j++)
        out_ptr[j] = n->out[j] >= 0 ? &info[n->out[j]] : NULL;
    mec_status st = MEC_ERR_NOT_FOUND;
    if (known) {
        mec_op_ctx ctx = {g, i, n, opset, n->n_in, in_ptr, n->n_out, out_ptr, NULL, NULL, 0, 0, 0, 0};
        mec_error_clear();
        st = k->infer(&ctx);
        mec_error_clear();
        if (st == MEC_ERR_NOMEM) return st;
    }
    for (int j = 0; st && j < n->n_out; j++)
        if (out_ptr[j]) out_ptr[j]->ndim = -1;
    return MEC_OK;
}

mec_status mec_opt_infer_shapes(const mec_graph *g, const char *removed, mec_tensor **out) {
    *out = NULL;
    const size_t nv = (size_t)g->n_values, nn = (size_t)g->n_nodes;
    size_t slots = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (!removed || !removed[i]) slots += (size_t)g->nodes[i].n_in;
    mec_tensor *info = mec_calloc(nv + 1, sizeof *info);
    int *prod = mec_malloc((nv + 1) * sizeof(int));
    /* the consumers of value v: cons[start[v] .. start[v + 1]) */
    int *start = mec_calloc(nv + 2, sizeof(int));
    int *cons = mec_malloc((slots + 1) * sizeof(int));
    int *pending = mec_calloc(nn + 1, sizeof(int));
    int *queue = mec_malloc((nn + 1) * sizeof(int));
    int *fill = mec_calloc(nv + 1, sizeof(int));
    int head = 0, tail = 0;
    mec_status st = MEC_OK;
    if (!info || !prod || !start || !cons || !pending || !queue || !fill) {
        st = MEC_ERR_NOMEM;
        goto done;
    }
    for (size_t v = 0; v < nv; v++) {
        prod[v] = -1;
        const mec_tensor *init = g->values[v].init;
        if (init) {
            info[v] = *init;
            info[v].owned = NULL; /* borrowed: infer may read a constant's values */
        } else {
            info[v].ndim = -1;
        }
    }
    seed_inputs(g, info);
    /* Kahn's order over the live nodes: a pass may have left them unsorted */
    for (int i = 0; i < g->n_nodes; i++) {
        if (removed && removed[i]) continue;
        for (int j = 0; j < g->nodes[i].n_out; j++)
            if (g->nodes[i].out[j] >= 0) prod[g->nodes[i].out[j]] = i;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        if (removed && removed[i]) continue;
        for (int j = 0; j < g->nodes[i].n_in; j++) {
            int v = g->nodes[i].in[j];
            if (v >= 0 && prod[v] >= 0) {
                start[v + 1]++;
                pending[i]++;
            }
        }
    }
    for (size_t v = 0; v < nv; v++)
        start[v + 1] += start[v];
    for (int i = 0; i < g->n_nodes; i++) {
        if (removed && removed[i]) continue;
        for (int j = 0; j < g->nodes[i].n_in; j++) {
            int v = g->nodes[i].in[j];
            if (v >= 0 && prod[v] >= 0) cons[start[v] + fill[v]++] = i;
        }
    }
    for (int i = 0; i < g->n_nodes; i++)
        if ((!removed || !removed[i]) && !pending[i]) queue[tail++] = i;
    while (head < tail && !st) {
        int i = queue[head++];
        st = infer_node(g, i, info);
        for (int j = 0; j < g->nodes[i].n_out && !st; j++) {
            int v = g->nodes[i].out[j];
            if (v < 0) continue;
            for (int c = start[v]; c < start[v + 1]; c++)
                if (--pending[cons[c]] == 0) queue[tail++] = cons[c];
        }
    }
    /* nodes on a cycle (never queued) leave their outputs unknown */
done:
    mec_free(prod);
    mec_free(start);
    mec_free(cons);
    mec_free(pending);
    mec_free(queue);
    mec_free(fill);
    if (st) {
        mec_free(info);
        return st;
    }
    *out = info;
    return MEC_OK;
}
