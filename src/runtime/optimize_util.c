/* Helpers shared by the optimiser's passes: who consumes each value,
 * op matching, constant access. */
#include "optimize.h"

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
