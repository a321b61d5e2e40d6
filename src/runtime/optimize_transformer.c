/* Transformer passes of the optimiser: Constant nodes become initializers
 * (so that every pattern sees its constants the same way), the LayerNorm
 * that PyTorch exports before opset 17 (ReduceMean/Sub/Pow/ReduceMean/Add/
 * Sqrt/Div/Mul/Add) becomes mec.LayerNormalization, a residual Add before
 * a LayerNorm becomes its Skip input, and scaled dot-product
 * attention (MatMul → Div|Mul → [Add mask] → Softmax → MatMul) becomes
 * mec.Attention. Reference kernels in src/ops/transformer.c. */
#include "optimize.h"

#include <math.h>
#include <stdio.h>
#include <string.h>





/* The producer of v if it is an op_type node with n_in inputs, else -1. */
static int producer_op(const mec_graph *g, int v, const char *op, int n_in) {
    int p = v >= 0 ? g->values[v].producer : -1;
    return p >= 0 && mec_opt_is_op(&g->nodes[p], op) && g->nodes[p].n_in == n_in ? p : -1;
}


/* The value of a one-element float constant, or NAN. */
static float const_scalar(const mec_graph *g, int v) {
    const mec_tensor *t = mec_opt_const_f32(g, v);
    return t && mec_tensor_numel(t) == 1 ? ((const float *)t->data)[0] : NAN;
}

/* For a binary node with input `x` on one side: the other input. */
static int other_input(const mec_node *n, int x) {
    if (n->n_in != 2 || n->in[0] == n->in[1]) return -1;
    return n->in[0] == x ? n->in[1] : n->in[1] == x ? n->in[0] : -1;
}

/* Turns node `id` into domain "mec" op `op` with the given inputs and no
 * attributes (outputs are set by the caller). */
static mec_status node_rewrite(mec_graph *g, int id, const char *op, int n_in, const int *in) {
    mec_node *n = &g->nodes[id];
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
    for (int a = 0; a < n->n_attr; a++) mec_attr_release(&n->attrs[a]);
    n->n_attr = 0;
    if (n_in < n->n_in) n->n_in = n_in;
    for (int k = 0; k < n_in; k++) {
        mec_status st = mec_node_set_input(g, id, k, in[k]);
        if (st) return st;
    }
    return MEC_OK;
}

/* ------------------------------------------------ Constant → initializer */

static mec_status inline_constants(mec_graph *g, char *removed, int *count) {
    for (int i = 0; i < g->n_nodes; i++) {
        mec_node *n = &g->nodes[i];
        if (!mec_opt_is_op(n, "Constant") || n->n_out != 1 || n->out[0] < 0 || n->n_attr != 1) continue;
        mec_attr *a = &n->attrs[0];
        mec_value *val = &g->values[n->out[0]];
        if (strcmp(a->name, "value") || a->type != MEC_ATTR_TENSOR || !a->t ||
            a->t->dtype == MEC_STRING || !mec_tensor_is_contiguous(a->t) || val->init ||
            val->is_output || val->is_input)
            continue;
        val->init = a->t;
        a->t = NULL;
        if (!val->has_info || val->dtype == MEC_UNDEFINED) {
            val->dtype = val->init->dtype;
            val->ndim = val->init->ndim;
            for (int d = 0; d < val->ndim; d++) val->dims[d] = val->init->shape[d];
        }
        n->out[0] = -1;
        val->producer = -1;
        removed[i] = 1;
        (*count)++;
    }
    return MEC_OK;
}

/* ------------------------------------------------------------ LayerNorm */

/* ReduceMean over the last axis only, keeping dims. */
static bool mean_last_axis(const mec_graph *g, const mec_node *n) {
    if (!mec_opt_is_op(n, "ReduceMean") || n->n_out != 1 || mec_node_int(n, "keepdims", 1) != 1) return false;
    const int64_t *axes = NULL;
    int64_t na = mec_node_ints(n, "axes", &axes);
    int64_t ax[2];
    if (n->n_in >= 2 && n->in[1] >= 0) { /* opset 18: axes as an input */
        const mec_tensor *t = g->values[n->in[1]].init;
        if (na || !t || t->dtype != MEC_I64 || mec_tensor_numel(t) != 1) return false;
        ax[0] = ((const int64_t *)t->data)[0];
        axes = ax;
        na = 1;
    } else if (n->n_in != 1) {
        return false;
    }
    if (na != 1) return false;
    if (axes[0] == -1) return true;
    int x = n->in[0];
    return g->values[x].ndim > 0 && axes[0] == g->values[x].ndim - 1;
}

/* X → ReduceMean → Sub(X, ·) → Pow(·, 2) → ReduceMean → Add(eps) → Sqrt →
 * Div(Sub, ·) → Mul(gamma) [→ Add(beta)]  ⇒  mec.LayerNormalization(X,
 * gamma, [beta]) axis=-1 epsilon. gamma and beta 1-D constants, the
 * intermediates used by nothing else. */
static mec_status fuse_layernorm(mec_graph *g, char *removed, int *count) {
    mec_opt_uses u = {0};
    mec_status st = mec_opt_uses_compute(g, NULL, &u);
    for (int r1 = 0; !st && r1 < g->n_nodes; r1++) {
        const mec_node *rm = &g->nodes[r1];
        if (removed[r1] || !mean_last_axis(g, rm)) continue;
        int x = rm->in[0], mean = rm->out[0];
        int sub = mec_opt_sole_consumer(&u, NULL, mean);
        if (sub < 0 || !mec_opt_is_op(&g->nodes[sub], "Sub") || g->nodes[sub].n_in != 2 ||
            g->nodes[sub].in[0] != x || g->nodes[sub].in[1] != mean)
            continue;
        int d = g->nodes[sub].out[0];
        if (u.count[d] != 2) continue;
        /* d's two consumers: Pow(d, 2) and Div(d, std) */
        int pw = -1, dv = -1;
        for (int i = sub + 1; i < g->n_nodes; i++) {
            const mec_node *n = &g->nodes[i];
            if (removed[i] || n->n_in != 2) continue;
            if (mec_opt_is_op(n, "Pow") && n->in[0] == d && const_scalar(g, n->in[1]) == 2.0f) pw = i;
            if (mec_opt_is_op(n, "Div") && n->in[0] == d) dv = i;
        }
        if (pw < 0 || dv < 0) continue;
        int r2 = mec_opt_sole_consumer(&u, NULL, g->nodes[pw].out[0]);
        if (r2 < 0 || removed[r2] || !mean_last_axis(g, &g->nodes[r2])) continue;
        int add_eps = mec_opt_sole_consumer(&u, NULL, g->nodes[r2].out[0]);
        if (add_eps < 0 || !mec_opt_is_op(&g->nodes[add_eps], "Add")) continue;
        float eps = const_scalar(g, other_input(&g->nodes[add_eps], g->nodes[r2].out[0]));
        if (!(eps >= 0.0f)) continue;
        int sq = mec_opt_sole_consumer(&u, NULL, g->nodes[add_eps].out[0]);
        if (sq < 0 || !mec_opt_is_op(&g->nodes[sq], "Sqrt") || g->nodes[dv].in[1] != g->nodes[sq].out[0] ||
            u.count[g->nodes[sq].out[0]] != 1)
            continue;
        int mul = mec_opt_sole_consumer(&u, NULL, g->nodes[dv].out[0]);
        if (mul < 0 || !mec_opt_is_op(&g->nodes[mul], "Mul")) continue;
        int gamma = other_input(&g->nodes[mul], g->nodes[dv].out[0]);
        const mec_tensor *gt = mec_opt_const_f32(g, gamma);
        if (!gt || gt->ndim != 1) continue;
        int last = mul, beta = -1;
        int add_b = mec_opt_sole_consumer(&u, NULL, g->nodes[mul].out[0]);
        if (add_b >= 0 && !removed[add_b] && mec_opt_is_op(&g->nodes[add_b], "Add")) {
            int b = other_input(&g->nodes[add_b], g->nodes[mul].out[0]);
            const mec_tensor *bt = mec_opt_const_f32(g, b);
            if (bt && bt->ndim == 1 && bt->shape[0] == gt->shape[0]) {
                beta = b;
                last = add_b;
            }
        }
        int chain[] = {r1, sub, pw, r2, add_eps, sq, dv, mul, add_b};
        int n_chain = last == add_b ? 9 : 8;
        bool free_ = true;
        for (int k = 0; k < n_chain; k++) free_ = free_ && !removed[chain[k]];
        if (!free_) continue;
        /* the fused node replaces the last one: its inputs exist by then */
        int in[3] = {x, gamma, beta};
        if ((st = node_rewrite(g, last, "LayerNormalization", beta >= 0 ? 3 : 2, in))) break;
        if ((st = mec_node_set_int(g, last, "axis", -1))) break;
        if ((st = mec_node_set_float(g, last, "epsilon", eps))) break;
        for (int k = 0; k < n_chain; k++)
            if (chain[k] != last) removed[chain[k]] = 1;
        (*count)++;
    }
    mec_opt_uses_free(&u);
    return st;
}

/* Add(A, B) → LayerNormalization (ONNX or mec, last axis, one output), the
 * sum used only there  ⇒  mec.LayerNormalization(A, Scale, B?, Skip = B):
 * the residual add of a post-LN transformer block. */
static mec_status fuse_skip_layernorm(mec_graph *g, char *removed, int *count) {
    mec_opt_uses u = {0};
    mec_status st = mec_opt_uses_compute(g, NULL, &u);
    for (int l = 0; !st && l < g->n_nodes; l++) {
        mec_node *ln = &g->nodes[l];
        bool onnx = mec_opt_is_op(ln, "LayerNormalization");
        if (removed[l] || (!onnx && (strcmp(ln->op_type, "LayerNormalization") || strcmp(ln->domain, "mec"))))
            continue;
        if (ln->n_in < 2 || ln->n_in > 3 || ln->n_out < 1 || mec_node_int(ln, "axis", -1) != -1 ||
            mec_node_int(ln, "stash_type", 1) != 1)
            continue;
        bool extra_out = false;
        for (int k = 1; k < ln->n_out; k++) extra_out = extra_out || ln->out[k] >= 0;
        int x = ln->in[0];
        int a = producer_op(g, x, "Add", 2);
        if (extra_out || a < 0 || removed[a] || u.count[x] != 1) continue;
        const mec_node *an = &g->nodes[a];
        if (an->in[0] == an->in[1] || an->in[0] < 0 || an->in[1] < 0 || g->values[an->in[0]].init ||
            g->values[an->in[1]].init)
            continue;
        float eps = mec_node_float(ln, "epsilon", 1e-5f);
        int in[4] = {an->in[0], ln->in[1], ln->n_in > 2 ? ln->in[2] : -1, an->in[1]};
        if ((st = node_rewrite(g, l, "LayerNormalization", 4, in))) break;
        g->nodes[l].n_out = 1;
        if ((st = mec_node_set_int(g, l, "axis", -1))) break;
        if ((st = mec_node_set_float(g, l, "epsilon", eps))) break;
        removed[a] = 1;
        (*count)++;
    }
    mec_opt_uses_free(&u);
    return st;
}

/* ------------------------------------------------------------ Attention */

/* The Softmax normalises the last axis of its input. */
static bool softmax_last_axis(const mec_graph *g, const mec_node *n, int64_t opset) {
    if (!mec_opt_is_op(n, "Softmax") || n->n_in != 1 || n->n_out != 1) return false;
    /* before opset 13 the input is flattened from axis on: the same when
     * axis is the last one */
    int64_t axis = mec_node_int(n, "axis", opset >= 13 ? -1 : 1);
    int r = g->values[n->in[0]].ndim;
    return axis == -1 || (r > 0 && axis == r - 1);
}

/* Q·Kt → [Div(c) | Mul(c)] ending in value v, each step used only by the
 * next: the MatMul node (or -1), its scale and the scaling node (or -1). */
static int scores_chain(const mec_graph *g, const mec_opt_uses *u, int v, float *scale, int *scale_node) {
    *scale = 1.0f;
    *scale_node = -1;
    if (v < 0 || u->count[v] != 1) return -1;
    int p = g->values[v].producer;
    if (p < 0) return -1;
    const mec_node *sn = &g->nodes[p];
    if (mec_opt_is_op(sn, "MatMul") && sn->n_in == 2) return p;
    bool div = mec_opt_is_op(sn, "Div");
    if ((!div && !mec_opt_is_op(sn, "Mul")) || sn->n_in != 2) return -1;
    for (int side = 0; side < (div ? 1 : 2); side++) {
        float c = const_scalar(g, sn->in[1 - side]);
        int m = producer_op(g, sn->in[side], "MatMul", 2);
        if (isfinite(c) && c != 0.0f && m >= 0 && u->count[sn->in[side]] == 1) {
            *scale = div ? 1.0f / c : c;
            *scale_node = p;
            return m;
        }
    }
    return -1;
}

/* MatMul(Q, Kt) → [Div(c) | Mul(c)] → [Add(mask)] → Softmax(last axis) →
 * MatMul(·, V)  ⇒  mec.Attention(Q, Kt, V, [mask]) scale (= 1/c or c). */
static mec_status fuse_attention(mec_graph *g, char *removed, int *count) {
    mec_opt_uses u = {0};
    mec_status st = mec_opt_uses_compute(g, NULL, &u);
    int64_t opset = mec_graph_opset(g, "");
    for (int s = 0; !st && s < g->n_nodes; s++) {
        const mec_node *sm = &g->nodes[s];
        if (removed[s] || !softmax_last_axis(g, sm, opset)) continue;
        int pv = mec_opt_sole_consumer(&u, NULL, sm->out[0]);
        if (pv < 0 || removed[pv] || !mec_opt_is_op(&g->nodes[pv], "MatMul") || g->nodes[pv].n_in != 2 ||
            g->nodes[pv].in[0] != sm->out[0] || g->nodes[pv].in[1] == sm->out[0])
            continue;
        int logits = sm->in[0], mask = -1, add = -1, scale_node = -1;
        float scale = 1.0f;
        int qk = scores_chain(g, &u, logits, &scale, &scale_node);
        int a = producer_op(g, logits, "Add", 2);
        if (qk < 0 && a >= 0 && u.count[logits] == 1) {
            const mec_node *an = &g->nodes[a];
            for (int side = 0; side < 2 && qk < 0; side++) {
                if (an->in[side] == an->in[1 - side]) break;
                qk = scores_chain(g, &u, an->in[side], &scale, &scale_node);
                if (qk >= 0) {
                    add = a;
                    mask = an->in[1 - side];
                }
            }
        }
        if (qk < 0 || removed[qk] || (scale_node >= 0 && removed[scale_node]) || (add >= 0 && removed[add]))
            continue;
        const mec_node *qn = &g->nodes[qk];
        /* a constant Kt is a learned projection, not attention */
        if (g->values[qn->in[1]].init || g->values[qn->in[0]].init) continue;
        int in[4] = {qn->in[0], qn->in[1], g->nodes[pv].in[1], mask};
        if ((st = node_rewrite(g, pv, "Attention", mask >= 0 ? 4 : 3, in))) break;
        if ((st = mec_node_set_float(g, pv, "scale", scale))) break;
        removed[qk] = removed[s] = 1;
        if (scale_node >= 0) removed[scale_node] = 1;
        if (add >= 0) removed[add] = 1;
        (*count)++;
    }
    mec_opt_uses_free(&u);
    return st;
}

/* ---------------------------------------------------------------- driver */

mec_status mec_optimize_transformer(mec_graph *g, mec_optimize_report *rep) {
    char *removed = mec_calloc((size_t)g->n_nodes + 1, 1);
    if (!removed) return MEC_ERR_NOMEM;
    mec_status st = inline_constants(g, removed, &rep->constants_inlined);
    if (!st) st = mec_graph_remove_nodes(g, removed);
    memset(removed, 0, (size_t)g->n_nodes + 1);
    if (!st) st = fuse_layernorm(g, removed, &rep->layernorm_fused);
    if (!st) st = mec_graph_remove_nodes(g, removed);
    memset(removed, 0, (size_t)g->n_nodes + 1);
    if (!st) st = fuse_skip_layernorm(g, removed, &rep->skip_layernorm_fused);
    if (!st) st = mec_graph_remove_nodes(g, removed);
    memset(removed, 0, (size_t)g->n_nodes + 1);
    if (!st) st = fuse_attention(g, removed, &rep->attention_fused);
    if (!st) st = mec_graph_remove_nodes(g, removed);
    mec_free(removed);
    return st;
}
