/* Graph-level optimisation before a session runs: BatchNorm folded into the
 * preceding Conv, Conv(+Add)(+Relu) fused into mec.FusedConv, MatMul+Add
 * (+GELU) fused into mec.FusedMatMul, LayerNorm patterns into
 * LayerNormalization, then dead nodes and initializers removed. Fused ops live
 * in the "mec" domain; each has a reference kernel (src/ops/fused.c) and a
 * fast one. */
#include "optimize.h"

#include <math.h>
#include <stdio.h>
#include <string.h>





/* A scalar constant (any shape with one element) equal to `want`. */
static bool const_scalar(const mec_graph *g, int v, double want, double tol) {
    const mec_tensor *t = mec_opt_const_f32(g, v);
    return t && mec_tensor_numel(t) == 1 && fabs(((const float *)t->data)[0] - want) <= tol;
}


static mec_status unique_name(mec_graph *g, const char *base, const char *suffix, char *out,
                              size_t n) {
    for (int k = 0; k < 1000; k++) {
        if (k) snprintf(out, n, "%s%s_%d", base, suffix, k);
        else snprintf(out, n, "%s%s", base, suffix);
        if (mec_graph_find(g, out) < 0) return MEC_OK;
    }
    return mec_error(MEC_ERR_INTERNAL, "no free name for '%s%s'", base, suffix);
}

/* Moves node `from`'s output `k` to be produced by node `to` at index j. */
static void take_output(mec_graph *g, int to, int j, int from, int k) {
    int v = g->nodes[from].out[k];
    g->nodes[to].out[j] = v;
    g->nodes[from].out[k] = -1;
    if (v >= 0) g->values[v].producer = to;
}

/* ---------------------------------------------------- BatchNorm folding */

static mec_status fold_batchnorm(mec_graph *g, char *removed, int *count) {
    mec_opt_uses u = {0};
    mec_status st = mec_opt_uses_compute(g, NULL, &u);
    for (int i = 0; !st && i < g->n_nodes; i++) {
        mec_node *bn = &g->nodes[i];
        if (removed[i] || !mec_opt_is_op(bn, "BatchNormalization") || bn->n_in != 5) continue;
        if (mec_node_int(bn, "training_mode", 0)) continue;
        for (int k = 1; k < bn->n_out; k++)
            if (bn->out[k] >= 0) goto next; /* training outputs wanted */
        int x = bn->in[0];
        int c = x >= 0 ? g->values[x].producer : -1;
        if (c < 0 || removed[c] || !mec_opt_is_op(&g->nodes[c], "Conv") || u.count[x] != 1) continue;
        mec_node *conv = &g->nodes[c];
        const mec_tensor *w = mec_opt_const_f32(g, conv->in[1]);
        const mec_tensor *b = conv->n_in > 2 ? mec_opt_const_f32(g, conv->in[2]) : NULL;
        if (!w || (conv->n_in > 2 && conv->in[2] >= 0 && !b)) continue;
        const mec_tensor *scale = mec_opt_const_f32(g, bn->in[1]), *beta = mec_opt_const_f32(g, bn->in[2]),
                         *mean = mec_opt_const_f32(g, bn->in[3]), *var = mec_opt_const_f32(g, bn->in[4]);
        int64_t oc = w->ndim > 0 ? w->shape[0] : 0;
        if (!scale || !beta || !mean || !var || oc <= 0 || mec_tensor_numel(scale) != oc ||
            mec_tensor_numel(beta) != oc || mec_tensor_numel(mean) != oc ||
            mec_tensor_numel(var) != oc || (b && mec_tensor_numel(b) != oc))
            continue;
        float eps = mec_node_float(bn, "epsilon", 1e-5f);
        mec_tensor *nw = NULL, *nb = NULL;
        if ((st = mec_tensor_clone(w, &nw))) break;
        int64_t bshape[1] = {oc};
        if ((st = mec_tensor_create(&nb, MEC_F32, 1, bshape))) {
            mec_tensor_destroy(nw);
            break;
        }
        int64_t per = mec_tensor_numel(w) / oc;
        float *wv = nw->data, *bv = nb->data;
        const float *sv = scale->data, *be = beta->data, *mv = mean->data, *vv = var->data;
        for (int64_t o = 0; o < oc; o++) {
            float f = sv[o] / sqrtf(vv[o] + eps);
            for (int64_t q = 0; q < per; q++) wv[o * per + q] *= f;
            float b0 = b ? ((const float *)b->data)[o] : 0.0f;
            bv[o] = (b0 - mv[o]) * f + be[o];
        }
        char name[512];
        int wid, bid;
        const char *base = conv->name[0] ? conv->name : g->values[x].name;
        if ((st = unique_name(g, base, "_W_bnfold", name, sizeof name)) ||
            (st = mec_graph_add_initializer(g, name, nw, &wid))) {
            mec_tensor_destroy(nb);
            break;
        }
        if ((st = unique_name(g, base, "_B_bnfold", name, sizeof name)) ||
            (st = mec_graph_add_initializer(g, name, nb, &bid)))
            break;
        conv = &g->nodes[c]; /* add_initializer may have moved values, not nodes */
        if ((st = mec_node_set_input(g, c, 1, wid)) || (st = mec_node_set_input(g, c, 2, bid))) break;
        take_output(g, c, 0, i, 0);
        removed[i] = 1;
        (*count)++;
    next:;
    }
    mec_opt_uses_free(&u);
    return st;
}

/* ------------------------------------------------------ Conv fusion */

static mec_status set_fused(mec_graph *g, int node, const char *op, const char *activation) {
    mec_node *n = &g->nodes[node];
    char *op_copy = mec_strdup(op), *dom = mec_strdup("mec");
    if (!op_copy || !dom) {
        mec_free(op_copy);
        mec_free(dom);
        return MEC_ERR_NOMEM;
    }
    mec_free(n->op_type);
    mec_free(n->domain);
    n->op_type = op_copy;
    n->domain = dom;
    return mec_node_set_string(g, node, "activation", activation);
}

/* Conv → [Add(other)] → [Relu]  ⇒  mec.FusedConv(X, W, B, Sum) activation */
static mec_status fuse_conv(mec_graph *g, char *removed, int *count) {
    mec_opt_uses u = {0};
    mec_status st = mec_opt_uses_compute(g, NULL, &u);
    for (int c = 0; !st && c < g->n_nodes; c++) {
        mec_node *conv = &g->nodes[c];
        if (removed[c] || !mec_opt_is_op(conv, "Conv") || conv->n_out != 1 || !mec_opt_const_f32(g, conv->in[1]))
            continue;
        int y = conv->out[0];
        int nxt = mec_opt_sole_consumer(&u, NULL, y);
        if (nxt < 0 || removed[nxt]) continue;
        int sum = -1, relu = -1, add = -1;
        mec_node *n2 = &g->nodes[nxt];
        if (mec_opt_is_op(n2, "Add") && n2->n_in == 2 && n2->in[0] != n2->in[1]) {
            int other = n2->in[0] == y ? n2->in[1] : n2->in[0];
            /* a residual (a computed tensor), not a broadcast bias constant */
            if (other < 0 || g->values[other].init) continue;
            sum = other;
            add = nxt;
            int r = mec_opt_sole_consumer(&u, NULL, n2->out[0]);
            if (r >= 0 && !removed[r] && mec_opt_is_op(&g->nodes[r], "Relu")) relu = r;
        } else if (mec_opt_is_op(n2, "Relu")) {
            relu = nxt;
        } else {
            continue;
        }
        int last = relu >= 0 ? relu : add;
        if ((st = set_fused(g, c, "FusedConv", relu >= 0 ? "Relu" : ""))) break;
        conv = &g->nodes[c];
        if (conv->n_in < 3 && (st = mec_node_set_input(g, c, 2, -1))) break;
        if (sum >= 0 && (st = mec_node_set_input(g, c, 3, sum))) break;
        take_output(g, c, 0, last, 0);
        if (add >= 0) removed[add] = 1;
        if (relu >= 0) removed[relu] = 1;
        (*count)++;
    }
    mec_opt_uses_free(&u);
    return st;
}

/* ---------------------------------------------------- MatMul fusion */

/* Matches y → Div(√2) → Erf → Add(1) → Mul(y) → Mul(0.5) (either operand
 * order), the exact GELU that PyTorch exports; returns the last node and puts
 * the five node ids in nodes[]. */
static int match_gelu(const mec_graph *g, const mec_opt_uses *u, const char *removed, int y, int *nodes) {
    int div = -1, mul1 = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const mec_node *n = &g->nodes[i];
        if (removed[i] || n->n_in != 2) continue;
        if (mec_opt_is_op(n, "Div") && n->in[0] == y && const_scalar(g, n->in[1], 1.41421356, 1e-4)) div = i;
        if (mec_opt_is_op(n, "Mul") && (n->in[0] == y || n->in[1] == y)) mul1 = i;
    }
    if (div < 0 || mul1 < 0 || u->count[y] != 2) return -1;
    int erf = mec_opt_sole_consumer(u, NULL, g->nodes[div].out[0]);
    if (erf < 0 || !mec_opt_is_op(&g->nodes[erf], "Erf")) return -1;
    int add = mec_opt_sole_consumer(u, NULL, g->nodes[erf].out[0]);
    if (add < 0 || !mec_opt_is_op(&g->nodes[add], "Add")) return -1;
    const mec_node *a = &g->nodes[add];
    int one = a->in[0] == g->nodes[erf].out[0] ? a->in[1] : a->in[0];
    if (!const_scalar(g, one, 1.0, 1e-6)) return -1;
    const mec_node *m1 = &g->nodes[mul1];
    if (!((m1->in[0] == y && m1->in[1] == a->out[0]) || (m1->in[1] == y && m1->in[0] == a->out[0])))
        return -1;
    int mul2 = mec_opt_sole_consumer(u, NULL, m1->out[0]);
    if (mul2 < 0 || !mec_opt_is_op(&g->nodes[mul2], "Mul")) return -1;
    const mec_node *m2 = &g->nodes[mul2];
    int half = m2->in[0] == m1->out[0] ? m2->in[1] : m2->in[0];
    if (!const_scalar(g, half, 0.5, 1e-6)) return -1;
    nodes[0] = div;
    nodes[1] = erf;
    nodes[2] = add;
    nodes[3] = mul1;
    nodes[4] = mul2;
    return mul2;
}

/* MatMul(A, const B) → Add(const bias over the last dim) [→ GELU | Relu]
 *   ⇒  mec.FusedMatMul(A, B, bias) activation */
static mec_status fuse_matmul(mec_graph *g, char *removed, int *count) {
    mec_opt_uses u = {0};
    mec_status st = mec_opt_uses_compute(g, NULL, &u);
    for (int m = 0; !st && m < g->n_nodes; m++) {
        mec_node *mm = &g->nodes[m];
        if (removed[m] || !mec_opt_is_op(mm, "MatMul") || mm->n_in != 2) continue;
        const mec_tensor *b = mec_opt_const_f32(g, mm->in[1]);
        if (!b || b->ndim != 2) continue;
        int y = mm->out[0];
        int add = mec_opt_sole_consumer(&u, NULL, y);
        if (add < 0 || removed[add] || !mec_opt_is_op(&g->nodes[add], "Add")) continue;
        const mec_node *an = &g->nodes[add];
        int bias = an->in[0] == y ? an->in[1] : an->in[0];
        const mec_tensor *bt = mec_opt_const_f32(g, bias);
        if (!bt || mec_tensor_numel(bt) != b->shape[1] || bt->ndim < 1 ||
            bt->shape[bt->ndim - 1] != b->shape[1])
            continue;
        int z = an->out[0];
        const char *act = "";
        int gelu_nodes[5];
        int last = add, gelu_end = match_gelu(g, &u, removed, z, gelu_nodes);
        if (gelu_end >= 0) {
            act = "Gelu";
            last = gelu_end;
        } else {
            int r = mec_opt_sole_consumer(&u, NULL, z);
            if (r >= 0 && !removed[r] && mec_opt_is_op(&g->nodes[r], "Relu")) {
                act = "Relu";
                last = r;
            }
        }
        if ((st = set_fused(g, m, "FusedMatMul", act))) break;
        if ((st = mec_node_set_input(g, m, 2, bias))) break;
        take_output(g, m, 0, last, 0);
        removed[add] = 1;
        if (gelu_end >= 0) {
            for (int k = 0; k < 5; k++) removed[gelu_nodes[k]] = 1;
        } else if (last != add) {
            removed[last] = 1;
        }
        (*count)++;
    }
    mec_opt_uses_free(&u);
    return st;
}

/* ------------------------------------------------------------- driver */

mec_status mec_optimize_graph(mec_graph *g, mec_optimize_report *rep) {
    mec_optimize_report local;
    if (!rep) rep = &local;
    memset(rep, 0, sizeof *rep);
    mec_status st;
    char *removed = mec_calloc((size_t)g->n_nodes + 1, 1);
    if (!removed) return MEC_ERR_NOMEM;
    /* first: it turns Constant nodes into the initializers the others match */
    st = mec_optimize_transformer(g, rep);
    if (!st) st = fold_batchnorm(g, removed, &rep->bn_folded);
    if (!st) st = mec_graph_remove_nodes(g, removed);
    memset(removed, 0, (size_t)g->n_nodes + 1);
    if (!st) st = fuse_conv(g, removed, &rep->conv_fused);
    if (!st) st = mec_graph_remove_nodes(g, removed);
    memset(removed, 0, (size_t)g->n_nodes + 1);
    if (!st) st = fuse_matmul(g, removed, &rep->matmul_fused);
    if (!st) st = mec_graph_remove_nodes(g, removed);
    mec_free(removed);
    /* QDQ last: it rewrites nodes in place and marks the absorbed Q/DQ ones */
    if (!st) {
        removed = mec_calloc((size_t)g->n_nodes + 1, 1);
        if (!removed) return MEC_ERR_NOMEM;
        st = mec_optimize_qdq(g, removed, &rep->qdq_fused);
        if (!st) st = mec_graph_remove_nodes(g, removed);
        mec_free(removed);
    }
    if (!st && (rep->bn_folded || rep->conv_fused || rep->matmul_fused || rep->qdq_fused ||
                rep->constants_inlined || rep->layernorm_fused || rep->skip_layernorm_fused ||
                rep->attention_fused)) {
        if (!mec_graph_opset(g, "mec")) st = mec_graph_set_opset(g, "mec", 1);
        if (!st) st = mec_graph_prune(g);
        if (!st) st = mec_graph_toposort(g);
    }
    return st;
}
