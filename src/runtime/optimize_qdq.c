/* QDQ pass: int8 patterns (DequantizeLinear → Conv/MatMul/Add →
 * QuantizeLinear) become real int8 ops, so a quantized model never runs as
 * dequantize → f32 → quantize. Modelled on ONNX Runtime's QDQ selectors and
 * QDQ propagation; see docs/int8.md. In order:
 *   1. DQ → MaxPool | Reshape | Flatten  ⇒  op on the int8 tensor → DQ
 *      (exact: these ops only move or pick values, and DQ is monotone);
 *   2. Q(DQ(q)) with the same scale and zero point  ⇒  q (exact);
 *   3. Conv(DQ(x), DQ(w const), [DQ(b int32) | b f32]) → [Relu] → Q
 *      ⇒  QLinearConv, or mec.QConv activation="Relu" (Relu = clamp at y_zp);
 *   4. Add(DQ(a), DQ(b)) → [Relu] → Q  ⇒  mec.QAdd (bit-exact);
 *   4b. mec.QAdd(conv, r) where conv is a QLinearConv (or mec.QConv without
 *      activation) used only there, r of the same shape  ⇒  mec.QConv with
 *      the residual r as its trailing sum input and the QAdd's activation
 *      (±1: the conv's own output is no longer rounded and saturated);
 *   5. MatMul(DQ(a), DQ(b)) → [Add(bias)] → [Relu] → Q, and Gemm(DQ(a),
 *      DQ(b), [C]) → [Relu] → Q (alpha 1, beta 1, A not transposed; a
 *      transposed constant B is transposed here)  ⇒  QLinearMatMul, or
 *      mec.QMatMul with an int32 bias (made like the Conv's) and/or Relu.
 * Every scale and zero point must be a constant; a weight scale may be per
 * output channel (axis 0 of a Conv's, the N axis of a MatMul's). Anything
 * else is left alone and still runs correctly through the reference Q/DQ
 * kernels. The only change in value is the requantization of a Conv/MatMul
 * accumulator in float (and a float bias rounded to int32 at scale
 * x_scale * w_scale): ±1 in the int8 output. Activations need explicit zero
 * points (their dtype is not known here). */
#include "optimize.h"

#include <math.h>
#include <stdio.h>
#include <string.h>





static const mec_tensor *const_of(const mec_graph *g, int v) {
    if (v < 0) return NULL;
    const mec_tensor *t = g->values[v].init;
    return t && t->data && mec_tensor_is_contiguous(t) ? t : NULL;
}

static bool is_q8(mec_dtype t) { return t == MEC_U8 || t == MEC_I8; }

/* A DequantizeLinear or QuantizeLinear node's parameters, all constant. */
typedef struct qparam {
    int node;
    int data, scale, zp;      /* value ids (zp -1 when omitted) */
    const mec_tensor *s, *z;  /* z NULL when omitted (uint8 0) */
    mec_dtype qtype;          /* the quantized side's dtype */
    int64_t n;                /* scale values: 1 per tensor, else per axis */
    int axis;                 /* as written (default 1) */
} qparam;

static bool qparam_read(const mec_graph *g, int node, qparam *q) {
    const mec_node *n = &g->nodes[node];
    if (n->n_in < 2 || n->n_out < 1 || n->in[0] < 0 || n->out[0] < 0) return false;
    memset(q, 0, sizeof *q);
    q->node = node;
    q->data = n->in[0];
    q->scale = n->in[1];
    q->zp = n->n_in > 2 ? n->in[2] : -1;
    q->s = const_of(g, q->scale);
    q->z = const_of(g, q->zp);
    if (!q->s || q->s->dtype != MEC_F32 || (q->zp >= 0 && !q->z)) return false;
    q->n = mec_tensor_numel(q->s);
    if (q->n < 1 || (q->z && mec_tensor_numel(q->z) != q->n)) return false;
    q->qtype = q->z ? q->z->dtype : MEC_U8; /* int32 for a bias: callers check */
    q->axis = (int)mec_node_int(n, "axis", 1);
    for (int64_t i = 0; i < q->n; i++) {
        float s = ((const float *)q->s->data)[i];
        if (!(s > 0) || !isfinite(s)) return false;
    }
    return true;
}

static float qp_scale(const qparam *q, int64_t i) { return ((const float *)q->s->data)[q->n > 1 ? i : 0]; }
static int32_t qp_zp(const qparam *q, int64_t i) {
    return q->z ? (int32_t)mec_tensor_get_i64(q->z, q->n > 1 ? i : 0) : 0;
}

/* The DequantizeLinear producing v with per-tensor constant parameters. */
static bool dq_of(const mec_graph *g, const char *removed, int v, qparam *q) {
    int p = v >= 0 ? g->values[v].producer : -1;
    if (p < 0 || removed[p] || !mec_opt_is_op(&g->nodes[p], "DequantizeLinear")) return false;
    return qparam_read(g, p, q);
}

static bool same_params(const qparam *a, const qparam *b) {
    if (a->n != 1 || b->n != 1 || a->qtype != b->qtype) return false;
    return qp_scale(a, 0) == qp_scale(b, 0) && qp_zp(a, 0) == qp_zp(b, 0);
}

static mec_status unique_name(mec_graph *g, const char *base, const char *suffix, char *out, size_t n) {
    for (int k = 0; k < 1000; k++) {
        if (k) snprintf(out, n, "%s%s_%d", base, suffix, k);
        else snprintf(out, n, "%s%s", base, suffix);
        if (mec_graph_find(g, out) < 0) return MEC_OK;
    }
    return mec_error(MEC_ERR_INTERNAL, "no free name for '%s%s'", base, suffix);
}

/* The zero point value of q, or a new zero initializer of its type. */
static mec_status zp_value(mec_graph *g, const qparam *q, const char *base, int *id) {
    if (q->zp >= 0) {
        *id = q->zp;
        return MEC_OK;
    }
    char name[512];
    mec_tensor *t = NULL;
    mec_status st = unique_name(g, base, "_zero_point", name, sizeof name);
    if (!st) st = mec_tensor_create(&t, q->qtype, 0, NULL);
    if (!st) st = mec_graph_add_initializer(g, name, t, id);
    return st;
}

static mec_status set_op(mec_graph *g, int node, const char *op, const char *domain) {
    mec_node *n = &g->nodes[node];
    char *op_copy = mec_strdup(op), *dom = mec_strdup(domain);
    if (!op_copy || !dom) {
        mec_free(op_copy);
        mec_free(dom);
        return MEC_ERR_NOMEM;
    }
    mec_free(n->op_type);
    mec_free(n->domain);
    n->op_type = op_copy;
    n->domain = dom;
    return MEC_OK;
}

/* Node `to` produces node `from`'s first output from now on. */
static void take_output(mec_graph *g, int to, int from) {
    int v = g->nodes[from].out[0];
    g->nodes[to].out[0] = v;
    g->nodes[from].out[0] = -1;
    if (v >= 0) g->values[v].producer = to;
}

static mec_status set_inputs(mec_graph *g, int node, int n, const int *ids) {
    for (int i = 0; i < n; i++) {
        mec_status st = mec_node_set_input(g, node, i, ids[i]);
        if (st) return st;
    }
    g->nodes[node].n_in = n; /* drop what the float op had beyond (never more than n) */
    return MEC_OK;
}

/* y → [Relu] → QuantizeLinear (per tensor): returns the Q node, *relu the
 * Relu or -1. Each link has one consumer. */
static int match_tail(const mec_graph *g, const mec_opt_uses *u, const char *removed, int y, int *relu, qparam *q) {
    *relu = -1;
    int nx = mec_opt_sole_consumer(u, removed, y);
    if (nx < 0) return -1;
    if (mec_opt_is_op(&g->nodes[nx], "Relu")) {
        *relu = nx;
        nx = mec_opt_sole_consumer(u, removed, g->nodes[nx].out[0]);
        if (nx < 0) return -1;
    }
    if (!mec_opt_is_op(&g->nodes[nx], "QuantizeLinear") || g->nodes[nx].in[0] != (*relu >= 0 ? g->nodes[*relu].out[0] : y))
        return -1;
    if (!qparam_read(g, nx, q) || q->n != 1) return -1;
    return nx;
}

/* ------------------------------------------- 1. DQ moved below data ops */

static bool movable(const mec_graph *g, const mec_node *n) {
    if (mec_opt_is_op(n, "MaxPool"))
        return mec_graph_opset(g, "") >= 12 && (n->n_out == 1 || n->out[1] < 0) &&
               mec_node_int(n, "storage_order", 0) == 0;
    return mec_opt_is_op(n, "Reshape") || mec_opt_is_op(n, "Flatten") || mec_opt_is_op(n, "Squeeze") || mec_opt_is_op(n, "Unsqueeze");
}

static mec_status propagate_dq(mec_graph *g, char *removed, int *count) {
    mec_opt_uses u = {0};
    mec_status st = MEC_OK;
    for (int sweep = 0; sweep < 16 && !st; sweep++) {
        int moved = 0;
        if ((st = mec_opt_uses_compute(g, removed, &u))) break;
        for (int p = 0; p < g->n_nodes && !st; p++) {
            mec_node *op = &g->nodes[p];
            if (removed[p] || !movable(g, op) || op->n_in < 1 || op->n_out < 1 || op->out[0] < 0) continue;
            qparam dq;
            int v = op->in[0];
            if (!dq_of(g, removed, v, &dq) || dq.n != 1 || !is_q8(dq.qtype) || u.count[v] != 1) continue;
            if (g->values[op->out[0]].is_output) continue;
            char name[512];
            int nv;
            if ((st = unique_name(g, g->values[op->out[0]].name, "_q", name, sizeof name))) break;
            if ((st = mec_graph_value(g, name, &nv))) break;
            op = &g->nodes[p];
            mec_node *dn = &g->nodes[dq.node];
            int vout = op->out[0];
            op->in[0] = dq.data;
            op->out[0] = nv;
            g->values[nv].producer = p;
            dn->in[0] = nv;
            dn->out[0] = vout;
            g->values[vout].producer = dq.node;
            g->values[v].producer = -1;
            moved++;
            (*count)++;
            if ((st = mec_opt_uses_compute(g, removed, &u))) break;
        }
        if (!moved) break;
    }
    mec_opt_uses_free(&u);
    return st;
}

/* ------------------------------------------ 2. Q(DQ(q)) with equal params */

static mec_status drop_requant(mec_graph *g, char *removed, int *count) {
    mec_opt_uses u = {0};
    mec_status st = mec_opt_uses_compute(g, removed, &u);
    for (int i = 0; i < g->n_nodes && !st; i++) {
        mec_node *qn = &g->nodes[i];
        if (removed[i] || !mec_opt_is_op(qn, "QuantizeLinear")) continue;
        qparam q, dq;
        if (!qparam_read(g, i, &q) || !is_q8(q.qtype) || !dq_of(g, removed, qn->in[0], &dq) ||
            !same_params(&q, &dq))
            continue;
        int from = qn->out[0], to = dq.data;
        if (from < 0 || g->values[from].is_output || g->values[to].init) continue;
        for (int c = 0; c < g->n_nodes; c++) {
            if (removed[c]) continue;
            for (int k = 0; k < g->nodes[c].n_in; k++)
                if (g->nodes[c].in[k] == from) g->nodes[c].in[k] = to;
        }
        removed[i] = 1;
        (*count)++;
    }
    mec_opt_uses_free(&u);
    return st;
}

/* -------------------------------------------------------------- 3. Conv */

/* The int32 bias at scale x_scale * w_scale[m]: a DequantizeLinear'd int32
 * whose scale is exactly that product is taken as it is; anything else (a
 * float bias) is rounded to it. */
static mec_status conv_bias(mec_graph *g, const char *removed, int b, const qparam *x, const qparam *w,
                            int64_t M, const char *base, int *id) {
    const mec_tensor *bf = const_of(g, b);
    qparam bq;
    bool from_dq = false;
    if (!bf) {
        if (!dq_of(g, removed, b, &bq)) return MEC_ERR_NOT_FOUND;
        const mec_tensor *bt = const_of(g, bq.data);
        /* qparam_read wants an int8 zero point; a bias has an int32 one */
        if (!bt || bt->dtype != MEC_I32 || mec_tensor_numel(bt) != M) return MEC_ERR_NOT_FOUND;
        from_dq = true;
        bf = bt;
    } else if (bf->dtype != MEC_F32 || mec_tensor_numel(bf) != M) {
        return MEC_ERR_NOT_FOUND;
    }
    mec_tensor *t = NULL;
    int64_t shape[1] = {M};
    mec_status st = mec_tensor_create(&t, MEC_I32, 1, shape);
    if (st) return st;
    int32_t *out = t->data;
    for (int64_t m = 0; m < M; m++) {
        float s = qp_scale(x, 0) * qp_scale(w, m);
        double v;
        if (from_dq) {
            float bs = qp_scale(&bq, m);
            int32_t raw = ((const int32_t *)bf->data)[m], zp = qp_zp(&bq, m);
            if (bs == s && zp == 0) {
                out[m] = raw;
                continue;
            }
            v = (double)((float)((int64_t)raw - zp) * bs);
        } else {
            v = ((const float *)bf->data)[m];
        }
        double r = rint(v / s);
        out[m] = r > 2147483647.0 ? 2147483647 : r < -2147483648.0 ? INT32_MIN : (int32_t)r;
    }
    char name[512];
    if ((st = unique_name(g, base, "_bias_i32", name, sizeof name))) {
        mec_tensor_destroy(t);
        return st;
    }
    return mec_graph_add_initializer(g, name, t, id);
}

/* Like qparam_read for a bias DequantizeLinear, whose zero point is int32. */
static bool bias_dq_ok(const mec_graph *g, const char *removed, int b) {
    int p = b >= 0 ? g->values[b].producer : -1;
    if (p < 0 || removed[p] || !mec_opt_is_op(&g->nodes[p], "DequantizeLinear")) return false;
    return true;
}

/* Node `at`'s name for the constants made for it (a copy: adding values may
 * move the graph's strings). */
static void node_base(const mec_graph *g, int at, char *buf, size_t cap) {
    const mec_node *n = &g->nodes[at];
    snprintf(buf, cap, "%s", n->name[0] ? n->name : g->values[n->out[0]].name);
}

/* The inputs of the int8 op that replaces node `at`, in QLinearConv's order:
 * ids[0..7] = x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp (a zero
 * initializer where a zero point was omitted), ids[8] = the int32 bias made
 * from `bias` over M outputs (-1 without one). MEC_ERR_NOT_FOUND: the bias
 * cannot be folded, nothing was added and the pattern stays as it is. */
static mec_status qop_inputs(mec_graph *g, const char *removed, int at, const qparam *x, const qparam *w,
                             const qparam *y, int bias, int64_t M, int ids[9]) {
    char base[480];
    node_base(g, at, base, sizeof base);
    ids[8] = -1;
    mec_status st = bias >= 0 ? conv_bias(g, removed, bias, x, w, M, base, &ids[8]) : MEC_OK;
    if (st) return st;
    ids[0] = x->data;
    ids[1] = x->scale;
    ids[3] = w->data;
    ids[4] = w->scale;
    ids[6] = y->scale;
    st = zp_value(g, x, base, &ids[2]);
    if (!st) st = zp_value(g, w, base, &ids[5]);
    if (!st) st = zp_value(g, y, base, &ids[7]);
    return st;
}

static mec_status fuse_qconv(mec_graph *g, char *removed, int *count) {
    mec_opt_uses u = {0};
    mec_status st = mec_opt_uses_compute(g, removed, &u);
    for (int c = 0; c < g->n_nodes && !st; c++) {
        mec_node *conv = &g->nodes[c];
        if (removed[c] || !mec_opt_is_op(conv, "Conv") || conv->n_in < 2 || conv->n_out != 1) continue;
        qparam x, w, y;
        if (!dq_of(g, removed, conv->in[0], &x) || x.n != 1 || !is_q8(x.qtype) || x.zp < 0) continue;
        int wp = g->values[conv->in[1]].producer;
        if (wp < 0 || removed[wp] || !mec_opt_is_op(&g->nodes[wp], "DequantizeLinear") || !qparam_read(g, wp, &w))
            continue;
        const mec_tensor *wt = const_of(g, w.data);
        if (!wt || wt->ndim < 3 || !is_q8(wt->dtype) || (w.z && wt->dtype != w.qtype)) continue;
        w.qtype = wt->dtype;
        int64_t M = wt->shape[0];
        if (w.n != 1 && !(w.n == M && (w.axis == 0 || w.axis == -wt->ndim))) continue;
        int relu, qn = match_tail(g, &u, removed, conv->out[0], &relu, &y);
        if (qn < 0 || !is_q8(y.qtype)) continue;
        int b = conv->n_in > 2 ? conv->in[2] : -1;
        if (b >= 0 && !const_of(g, b) && !bias_dq_ok(g, removed, b)) continue;
        int ids[9];
        st = qop_inputs(g, removed, c, &x, &w, &y, b, M, ids);
        if (st == MEC_ERR_NOT_FOUND) {
            st = MEC_OK;
            continue;
        }
        if (st) break;
        if (relu >= 0) {
            if ((st = set_op(g, c, "QConv", "mec")) || (st = mec_node_set_string(g, c, "activation", "Relu")))
                break;
        } else if ((st = set_op(g, c, "QLinearConv", ""))) {
            break;
        }
        if ((st = set_inputs(g, c, b >= 0 ? 9 : 8, ids))) break;
        take_output(g, c, qn);
        removed[qn] = 1;
        if (relu >= 0) removed[relu] = 1;
        (*count)++;
        if ((st = mec_opt_uses_compute(g, removed, &u))) break;
    }
    mec_opt_uses_free(&u);
    return st;
}

/* --------------------------------------------------------------- 4. Add */

static mec_status fuse_qadd(mec_graph *g, char *removed, int *count) {
    mec_opt_uses u = {0};
    mec_status st = mec_opt_uses_compute(g, removed, &u);
    for (int i = 0; i < g->n_nodes && !st; i++) {
        mec_node *add = &g->nodes[i];
        if (removed[i] || !mec_opt_is_op(add, "Add") || add->n_in != 2 || add->n_out != 1) continue;
        qparam a, b, y;
        if (!dq_of(g, removed, add->in[0], &a) || a.n != 1 || !dq_of(g, removed, add->in[1], &b) || b.n != 1 ||
            !is_q8(a.qtype) || !is_q8(b.qtype) || a.zp < 0 || b.zp < 0)
            continue;
        int relu, qn = match_tail(g, &u, removed, add->out[0], &relu, &y);
        if (qn >= 0 && !is_q8(y.qtype)) continue;
        if (qn < 0) {
            /* no Q after it: the float form mec.QAdd(a, .., b_zp) → float32,
             * taking a Relu that is the sum's only reader along */
            int nx = mec_opt_sole_consumer(&u, removed, add->out[0]);
            relu = nx >= 0 && mec_opt_is_op(&g->nodes[nx], "Relu") && g->nodes[nx].n_out == 1 ? nx : -1;
        }
        int ids[9];
        /* (the float form has no y: a's parameters stand in, unused) */
        if ((st = qop_inputs(g, removed, i, &a, &b, qn >= 0 ? &y : &a, -1, 0, ids))) break;
        if ((st = set_op(g, i, "QAdd", "mec")) ||
            (st = mec_node_set_string(g, i, "activation", relu >= 0 ? "Relu" : "")))
            break;
        if ((st = set_inputs(g, i, qn >= 0 ? 8 : 6, ids))) break;
        if (qn >= 0) {
            take_output(g, i, qn);
            removed[qn] = 1;
        } else if (relu >= 0) {
            take_output(g, i, relu);
        }
        if (relu >= 0) removed[relu] = 1;
        (*count)++;
        if ((st = mec_opt_uses_compute(g, removed, &u))) break;
    }
    mec_opt_uses_free(&u);
    return st;
}

/* ------------------------------------------- 4b. residual into the conv */

static bool is_mec_op(const mec_node *n, const char *op) {
    return !strcmp(n->op_type, op) && !strcmp(n->domain, "mec");
}

/* v is a constant holding one value: a float32 scale, or an int8/uint8 zero point */
static const mec_tensor *const_one(const mec_graph *g, int v, bool scale) {
    const mec_tensor *t = const_of(g, v);
    if (!t || mec_tensor_numel(t) != 1) return NULL;
    return (scale ? t->dtype == MEC_F32 : is_q8(t->dtype)) ? t : NULL;
}

/* The QLinearConv (or mec.QConv without activation or sum) whose output is
 * operand `side` (0: a, 1: b) of the mec.QAdd `add` and can take the add
 * over, or -1: the QAdd is its only consumer, reads it with the conv's own
 * scale and zero point, the other operand has the same known shape (no
 * broadcast), and every scale and zero point involved is a constant. */
static int sum_conv(const mec_graph *g, const mec_opt_uses *u, const char *removed,
                    const mec_tensor *info, const mec_node *add, int side) {
    const int *in = add->in;
    int cv = in[side ? 3 : 0], other = in[side ? 0 : 3];
    if (cv < 0 || other < 0 || cv == other || u->count[cv] != 1) return -1;
    int p = g->values[cv].producer;
    if (p < 0 || removed[p]) return -1;
    const mec_node *c = &g->nodes[p];
    bool plain = mec_opt_is_op(c, "QLinearConv") ||
                 (is_mec_op(c, "QConv") && !mec_node_string(c, "activation", "")[0]);
    if (!plain || c->n_in < 8 || c->n_in > 9 || c->n_out != 1 || c->out[0] != cv) return -1;
    const mec_tensor *cs = const_one(g, c->in[6], true), *cz = const_one(g, c->in[7], false);
    const mec_tensor *as = const_one(g, in[side ? 4 : 1], true),
                     *az = const_one(g, in[side ? 5 : 2], false);
    if (!cs || !cz || !as || !az || cz->dtype != az->dtype ||
        *(const float *)cs->data != *(const float *)as->data ||
        mec_tensor_get_i64(cz, 0) != mec_tensor_get_i64(az, 0))
        return -1;
    if (!const_one(g, in[side ? 1 : 4], true) || !const_one(g, in[side ? 2 : 5], false) ||
        !const_one(g, in[6], true) || !const_one(g, in[7], false))
        return -1;
    const mec_tensor *ta = &info[cv], *tb = &info[other];
    if (ta->ndim < 0 || tb->ndim < 0 || !mec_tensor_same_shape(ta, tb)) return -1;
    return p;
}

/* removed[] plus the nodes whose outputs nothing reads (the DQs that the
 * steps before left behind; prune drops them at the end), so that use counts
 * see the real consumers. A long dead chain may survive the sweeps: it only
 * stops a fusion. */
static mec_status removed_or_dead(const mec_graph *g, const char *removed, char **out) {
    char *skip = mec_malloc((size_t)g->n_nodes + 1);
    *out = skip;
    if (!skip) return MEC_ERR_NOMEM;
    memcpy(skip, removed, (size_t)g->n_nodes + 1);
    mec_opt_uses u = {0};
    mec_status st = MEC_OK;
    for (int sweep = 0; sweep < 8 && !st; sweep++) {
        if ((st = mec_opt_uses_compute(g, skip, &u))) break;
        int dropped = 0;
        for (int i = 0; i < g->n_nodes; i++) {
            const mec_node *n = &g->nodes[i];
            bool unread = !skip[i] && n->n_out > 0;
            for (int j = 0; unread && j < n->n_out; j++)
                if (n->out[j] >= 0 && u.count[n->out[j]]) unread = false;
            if (unread) {
                skip[i] = 1;
                dropped++;
            }
        }
        if (!dropped) break;
    }
    mec_opt_uses_free(&u);
    return st;
}

static mec_status fuse_qconv_sum(mec_graph *g, char *removed, int *count) {
    mec_opt_uses u = {0};
    mec_tensor *info = NULL; /* static shapes, made at the first QAdd */
    char *skip = NULL;       /* removed[] and the dead nodes */
    mec_status st = removed_or_dead(g, removed, &skip);
    if (!st) st = mec_opt_uses_compute(g, skip, &u);
    for (int i = 0; i < g->n_nodes && !st; i++) {
        const mec_node *add = &g->nodes[i];
        if (skip[i] || !is_mec_op(add, "QAdd") || add->n_in != 8 || add->n_out != 1 ||
            add->out[0] < 0)
            continue;
        if (!info && (st = mec_opt_infer_shapes(g, skip, &info))) break;
        int side = 0, c = sum_conv(g, &u, skip, info, add, 0);
        if (c < 0) c = sum_conv(g, &u, skip, info, add, side = 1);
        if (c < 0) continue;
        const int other = add->in[side ? 0 : 3], other_s = add->in[side ? 1 : 4],
                  other_z = add->in[side ? 2 : 5], y_s = add->in[6], y_z = add->in[7];
        const int cv = g->nodes[c].out[0];
        char act[32];
        snprintf(act, sizeof act, "%s", mec_node_string(add, "activation", ""));
        /* conv(..., y_scale, y_zp, [B]) → mec.QConv(..., the add's y_scale and
         * y_zp, B | "", the residual's scale and zero point, the residual) */
        if ((st = set_op(g, c, "QConv", "mec")) ||
            (st = mec_node_set_string(g, c, "activation", act)))
            break;
        if ((st = mec_node_set_input(g, c, 11, other)) ||
            (st = mec_node_set_input(g, c, 9, other_s)) ||
            (st = mec_node_set_input(g, c, 10, other_z)) ||
            (st = mec_node_set_input(g, c, 6, y_s)) || (st = mec_node_set_input(g, c, 7, y_z)))
            break;
        take_output(g, c, i);
        g->values[cv].producer = -1;
        removed[i] = skip[i] = 1;
        (*count)++;
        /* the residual may come after the conv in node order (a ResNet's
         * downsample conv): mec_optimize_graph sorts the graph after the passes */
        if ((st = mec_opt_uses_compute(g, skip, &u))) break;
    }
    mec_free(info);
    mec_free(skip);
    mec_opt_uses_free(&u);
    return st;
}

/* ------------------------------------------------------------ 5. MatMul */

/* Gemm with A as it is and alpha 1 (beta 1 when it has a C): B may be
 * transposed (a constant B is then transposed here). */
static bool plain_gemm(const mec_node *n) {
    if (!mec_opt_is_op(n, "Gemm") || mec_node_int(n, "transA", 0) != 0 ||
        mec_node_float(n, "alpha", 1.0f) != 1.0f)
        return false;
    bool has_c = n->n_in >= 3 && n->in[2] >= 0;
    return !has_c || mec_node_float(n, "beta", 1.0f) == 1.0f;
}

/* A new initializer holding the transpose of the 2-D int8 tensor t. */
static mec_status transposed_init(mec_graph *g, const mec_tensor *t, const char *base, int *id) {
    int64_t R = t->shape[0], C = t->shape[1], shape[2] = {C, R};
    mec_tensor *tt = NULL;
    mec_status st = mec_tensor_create(&tt, t->dtype, 2, shape);
    if (st) return st;
    const uint8_t *src = t->data;
    uint8_t *dst = tt->data;
    for (int64_t r = 0; r < R; r++)
        for (int64_t c = 0; c < C; c++)
            dst[c * R + r] = src[r * C + c];
    char name[512];
    if ((st = unique_name(g, base, "_weight_t", name, sizeof name))) {
        mec_tensor_destroy(tt);
        return st;
    }
    return mec_graph_add_initializer(g, name, tt, id);
}

/* v is a bias over N columns: a float32 constant or a DequantizeLinear'd
 * int32 constant of N values whose shape broadcasts only along the last
 * dim, (N) — or (1, N) when max_ndim is 2. */
static bool matmul_bias_ok(const mec_graph *g, const char *removed, int v, int64_t N,
                           int max_ndim) {
    const mec_tensor *t = const_of(g, v);
    if (!t) {
        if (!bias_dq_ok(g, removed, v)) return false;
        const mec_node *dq = &g->nodes[g->values[v].producer];
        t = dq->n_in > 0 ? const_of(g, dq->in[0]) : NULL;
        if (!t || t->dtype != MEC_I32) return false;
    } else if (t->dtype != MEC_F32) {
        return false;
    }
    if (t->ndim < 1 || t->ndim > max_ndim || mec_tensor_numel(t) != N || t->shape[t->ndim - 1] != N)
        return false;
    return true;
}

static mec_status fuse_qmatmul(mec_graph *g, char *removed, int *count) {
    mec_opt_uses u = {0};
    mec_status st = mec_opt_uses_compute(g, removed, &u);
    /* QLinearMatMul's reference kernel covers opsets 10-20; a newer model gets mec.QMatMul */
    const bool qlinear_ok = mec_graph_opset(g, "") <= 20;
    for (int i = 0; i < g->n_nodes && !st; i++) {
        mec_node *mm = &g->nodes[i];
        bool gemm = plain_gemm(mm);
        if (removed[i] || !(mec_opt_is_op(mm, "MatMul") || gemm) || mm->n_in < 2 ||
            mm->n_out != 1 || mm->out[0] < 0)
            continue;
        bool trans_b = gemm && mec_node_int(mm, "transB", 0) != 0;
        qparam a, b, y;
        if (!dq_of(g, removed, mm->in[0], &a) || a.n != 1 || !is_q8(a.qtype) || a.zp < 0) continue;
        int bp = g->values[mm->in[1]].producer;
        if (bp < 0 || removed[bp] || !mec_opt_is_op(&g->nodes[bp], "DequantizeLinear") ||
            !qparam_read(g, bp, &b))
            continue;
        const mec_tensor *bt = const_of(g, b.data);
        if (bt) {
            /* a constant B: its dtype is known, the zero point may be omitted */
            if (!is_q8(bt->dtype) || (b.z && bt->dtype != b.qtype)) continue;
            b.qtype = bt->dtype;
        } else if (!is_q8(b.qtype) || b.zp < 0 || trans_b) {
            continue;
        }
        /* N (columns of the product) when B's shape is known, else -1 */
        const mec_value *bv = &g->values[b.data];
        int bnd = bt ? bt->ndim : bv->ndim;
        if ((gemm && bnd != 2) || (b.n != 1 && (!bt || bnd != 2))) continue;
        int64_t N =
            bt ? (bnd == 2 ? bt->shape[trans_b ? 0 : 1] : -1) : (bnd >= 2 ? bv->dims[bnd - 1] : -1);
        if (b.n != 1) {
            /* per column: a scale per N, on axis 1 of (K, N) or axis 0 of B^T (N, K) */
            bool on_n = trans_b ? (b.axis == 0 || b.axis == -2) : (b.axis == 1 || b.axis == -1);
            if (!on_n || b.n != N) continue;
        }
        /* the bias: Gemm's C, or an Add right after a MatMul */
        int bias = -1, add = -1, tail_from = mm->out[0];
        if (gemm && mm->n_in >= 3 && mm->in[2] >= 0) {
            bias = mm->in[2];
            if (N <= 0 || !matmul_bias_ok(g, removed, bias, N, 2)) continue;
        } else if (!gemm && N > 0) {
            int c = mec_opt_sole_consumer(&u, removed, mm->out[0]);
            const mec_node *an = c >= 0 ? &g->nodes[c] : NULL;
            if (an && mec_opt_is_op(an, "Add") && an->n_in == 2 && an->n_out == 1 &&
                an->in[0] != an->in[1]) {
                int other = an->in[0] == mm->out[0] ? an->in[1] : an->in[0];
                if (matmul_bias_ok(g, removed, other, N, 1)) {
                    bias = other;
                    add = c;
                    tail_from = an->out[0];
                }
            }
        }
        int relu, qn = match_tail(g, &u, removed, tail_from, &relu, &y);
        if (qn < 0 || !is_q8(y.qtype)) continue;
        int ids[9];
        st = qop_inputs(g, removed, i, &a, &b, &y, bias, N, ids);
        if (st == MEC_ERR_NOT_FOUND) {
            st = MEC_OK;
            continue;
        }
        if (st) break;
        if (trans_b) {
            char base[480];
            node_base(g, i, base, sizeof base);
            if ((st = transposed_init(g, bt, base, &ids[3]))) break;
        }
        const int bid = ids[8];
        mm = &g->nodes[i];
        /* Gemm's attributes mean nothing to the int8 op: they were checked above */
        for (int k = 0; k < mm->n_attr; k++) mec_attr_release(&mm->attrs[k]);
        mec_free(mm->attrs);
        mm->attrs = NULL;
        mm->n_attr = 0;
        if (bid >= 0 || relu >= 0 || !qlinear_ok) {
            if ((st = set_op(g, i, "QMatMul", "mec")) ||
                (st = mec_node_set_string(g, i, "activation", relu >= 0 ? "Relu" : "")))
                break;
        } else if ((st = set_op(g, i, "QLinearMatMul", ""))) {
            break;
        }
        if ((st = set_inputs(g, i, bid >= 0 ? 9 : 8, ids))) break;
        take_output(g, i, qn);
        removed[qn] = 1;
        if (add >= 0) removed[add] = 1;
        if (relu >= 0) removed[relu] = 1;
        (*count)++;
        if ((st = mec_opt_uses_compute(g, removed, &u))) break;
    }
    mec_opt_uses_free(&u);
    return st;
}

/* ------------------------------------------------------------- driver */

mec_status mec_optimize_qdq(mec_graph *g, char *removed, int *count) {
    *count = 0;
    if (mec_graph_opset(g, "") < 10) return MEC_OK; /* no QLinear* ops before opset 10 */
    mec_status st = propagate_dq(g, removed, count);
    if (!st) st = drop_requant(g, removed, count);
    if (!st) st = fuse_qconv(g, removed, count);
    if (!st) st = fuse_qadd(g, removed, count);
    if (!st) st = fuse_qconv_sum(g, removed, count);
    if (!st) st = fuse_qmatmul(g, removed, count);
    return st;
}
