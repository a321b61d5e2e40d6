/* Recurrent ops: reference RNN, GRU and LSTM (float32). The input projection
 * X·W^T of every time step is one mec_sgemm per direction; each step then
 * adds H_{t-1}·R^T (another mec_sgemm over the batch) and applies the cell. */
#include "op_util.h"
#include "sgemm.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

typedef enum cell_kind { CELL_RNN, CELL_GRU, CELL_LSTM } cell_kind;

typedef enum act_kind {
    ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_AFFINE, ACT_LEAKYRELU, ACT_THRESHOLDEDRELU,
    ACT_SCALEDTANH, ACT_HARDSIGMOID, ACT_ELU, ACT_SOFTSIGN, ACT_SOFTPLUS
} act_kind;

typedef struct rnn_act {
    act_kind kind;
    float alpha, beta;
} rnn_act;

/* name, kind, uses alpha, uses beta, default alpha, default beta */
static const struct act_info {
    const char *name;
    act_kind kind;
    bool alpha, beta;
    float da, db;
} act_table[] = {
    {"sigmoid", ACT_SIGMOID, false, false, 0, 0},
    {"tanh", ACT_TANH, false, false, 0, 0},
    {"relu", ACT_RELU, false, false, 0, 0},
    {"affine", ACT_AFFINE, true, true, 1.0f, 0.0f},
    {"leakyrelu", ACT_LEAKYRELU, true, false, 0.01f, 0},
    {"thresholdedrelu", ACT_THRESHOLDEDRELU, true, false, 1.0f, 0},
    {"scaledtanh", ACT_SCALEDTANH, true, true, 1.0f, 1.0f},
    {"hardsigmoid", ACT_HARDSIGMOID, true, true, 0.2f, 0.5f},
    {"elu", ACT_ELU, true, false, 1.0f, 0},
    {"softsign", ACT_SOFTSIGN, false, false, 0, 0},
    {"softplus", ACT_SOFTPLUS, false, false, 0, 0},
};

static bool same_nocase(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char ca = (char)(*a >= 'A' && *a <= 'Z' ? *a + 32 : *a);
        char cb = (char)(*b >= 'A' && *b <= 'Z' ? *b + 32 : *b);
        if (ca != cb) return false;
    }
    return *a == *b;
}

static inline float act_apply(const rnn_act *a, float x) {
    switch (a->kind) {
    case ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case ACT_TANH: return tanhf(x);
    case ACT_RELU: return x > 0 ? x : 0;
    case ACT_AFFINE: return a->alpha * x + a->beta;
    case ACT_LEAKYRELU: return x >= 0 ? x : a->alpha * x;
    case ACT_THRESHOLDEDRELU: return x > a->alpha ? x : 0;
    case ACT_SCALEDTANH: return a->alpha * tanhf(a->beta * x);
    case ACT_HARDSIGMOID: {
        float v = a->alpha * x + a->beta;
        return v < 0 ? 0 : v > 1 ? 1 : v;
    }
    case ACT_ELU: return x >= 0 ? x : a->alpha * (expf(x) - 1.0f);
    case ACT_SOFTSIGN: return x / (1.0f + fabsf(x));
    case ACT_SOFTPLUS: return x > 20.0f ? x : log1pf(expf(x));
    }
    return x;
}

/* Geometry and attributes of one RNN/GRU/LSTM node. */
typedef struct rnn_geo {
    cell_kind kind;
    int G;              /* gates: 1, 3, 4 */
    int nd;             /* directions: 1 or 2 */
    bool reverse;       /* direction = "reverse" */
    bool batch_first;   /* layout = 1 */
    int64_t S, B, I, H; /* seq_length, batch_size, input_size, hidden_size */
    rnn_act acts[2][3];
    bool has_clip;
    float clip;
    bool linear_before_reset; /* GRU */
    bool input_forget;        /* LSTM */
} rnn_geo;

static const mec_tensor *opt_in(const mec_op_ctx *ctx, int i) { return i < ctx->n_in ? ctx->in[i] : NULL; }

static mec_status check_shape(const mec_op_ctx *ctx, int i, const char *what, int ndim,
                              const int64_t *want) {
    const mec_tensor *t = ctx->in[i];
    bool ok = t->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++) ok = t->shape[d] == want[d];
    if (ok) return MEC_OK;
    char s1[160], s2[160];
    return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input %d (%s) has shape %s, expected %s", i, what,
                      mec_shape_str(t->ndim, t->shape, s1, sizeof s1),
                      mec_shape_str(ndim, want, s2, sizeof s2));
}

static mec_status parse_acts(const mec_op_ctx *ctx, rnn_geo *g) {
    static const char *const defaults[3][3] = {
        {"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}};
    int per_dir = g->kind == CELL_RNN ? 1 : g->kind == CELL_GRU ? 2 : 3;
    const mec_attr *names = mec_node_attr(ctx->node, "activations");
    const float *alphas = NULL, *betas = NULL;
    int64_t na = mec_node_floats(ctx->node, "activation_alpha", &alphas);
    int64_t nb = mec_node_floats(ctx->node, "activation_beta", &betas);
    int64_t ia = 0, ib = 0;
    int64_t n = names ? names->n : 0;
    if (names && names->type != MEC_ATTR_STRINGS)
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute 'activations' must be a list of strings");
    if (names && n != per_dir && n != per_dir * g->nd)
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute 'activations' has %" PRId64
                          " entries, expected %d per direction", n, per_dir);
    for (int d = 0; d < g->nd; d++)
        for (int k = 0; k < per_dir; k++) {
            const char *name = defaults[g->kind][k];
            bool given = names != NULL;
            if (given) name = names->strings[(n == per_dir ? 0 : d * per_dir) + k];
            const struct act_info *info = NULL;
            for (size_t j = 0; j < sizeof act_table / sizeof act_table[0]; j++)
                if (same_nocase(name, act_table[j].name)) info = &act_table[j];
            if (!info)
                return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "activation '%s' is not supported", name);
            rnn_act *a = &g->acts[d][k];
            a->kind = info->kind;
            a->alpha = info->da;
            a->beta = info->db;
            /* alpha/beta are consumed in order by the functions that take them */
            if (given && info->alpha && ia < na) a->alpha = alphas[ia++];
            if (given && info->beta && ib < nb) a->beta = betas[ib++];
        }
    return MEC_OK;
}

static mec_status rnn_geometry(const mec_op_ctx *ctx, rnn_geo *g) {
    const char *op = ctx->node->op_type;
    g->kind = !strcmp(op, "LSTM") ? CELL_LSTM : !strcmp(op, "GRU") ? CELL_GRU : CELL_RNN;
    g->G = g->kind == CELL_LSTM ? 4 : g->kind == CELL_GRU ? 3 : 1;
    int max_in = g->kind == CELL_LSTM ? 8 : 6;
    mec_status st = mec_op_check_arity(ctx, 3, max_in);
    if (st) return st;
    static const mec_dtype fl[] = {MEC_F32, 0};
    for (int i = 0; i < ctx->n_in; i++) {
        if (!ctx->in[i] || i == 4) continue;
        if ((st = mec_op_check_dtype(ctx, i, fl))) return st;
    }
    int max_out = g->kind == CELL_LSTM ? 3 : 2;
    if (ctx->n_out > max_out)
        return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "has %d outputs, expected at most %d", ctx->n_out, max_out);

    const char *dir = mec_node_string(ctx->node, "direction", "forward");
    if (!strcmp(dir, "forward")) g->nd = 1, g->reverse = false;
    else if (!strcmp(dir, "reverse")) g->nd = 1, g->reverse = true;
    else if (!strcmp(dir, "bidirectional")) g->nd = 2, g->reverse = false;
    else return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "direction '%s' is not forward, reverse or bidirectional", dir);
    int64_t layout = mec_node_int(ctx->node, "layout", 0);
    if (layout != 0 && (layout != 1 || ctx->opset < 14))
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "layout = %" PRId64 " is invalid at opset %" PRId64,
                          layout, ctx->opset);
    g->batch_first = layout == 1;

    const mec_tensor *x = ctx->in[0], *r = ctx->in[2];
    if (x->ndim != 3)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input X has %d dims, expected 3", x->ndim);
    g->S = g->batch_first ? x->shape[1] : x->shape[0];
    g->B = g->batch_first ? x->shape[0] : x->shape[1];
    g->I = x->shape[2];
    if (r->ndim != 3)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input R has %d dims, expected 3", r->ndim);
    g->H = r->shape[2];
    int64_t hs = mec_node_int(ctx->node, "hidden_size", g->H);
    if (hs != g->H || g->H <= 0)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "hidden_size %" PRId64 " does not match R's last dim %" PRId64,
                          hs, g->H);
    int64_t GH = g->G * g->H;
    int64_t ws[3] = {g->nd, GH, g->I}, rs[3] = {g->nd, GH, g->H};
    if ((st = check_shape(ctx, 1, "W", 3, ws)) || (st = check_shape(ctx, 2, "R", 3, rs))) return st;
    if (opt_in(ctx, 3)) {
        int64_t bs[2] = {g->nd, 2 * GH};
        if ((st = check_shape(ctx, 3, "B", 2, bs))) return st;
    }
    const mec_tensor *sl = opt_in(ctx, 4);
    if (sl) {
        if (sl->dtype != MEC_I32 && sl->dtype != MEC_I64)
            return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "sequence_lens has dtype %s, expected int32",
                              mec_dtype_name(sl->dtype));
        int64_t ss[1] = {g->B};
        if ((st = check_shape(ctx, 4, "sequence_lens", 1, ss))) return st;
        if (sl->data)
            for (int64_t b = 0; b < g->B; b++) {
                int64_t v = mec_tensor_get_i64(sl, b);
                if (v < 0 || v > g->S)
                    return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "sequence_lens[%" PRId64 "] = %" PRId64
                                      " is outside [0, %" PRId64 "]", b, v, g->S);
            }
    }
    int64_t hshape[3] = {g->nd, g->B, g->H};
    if (g->batch_first) hshape[0] = g->B, hshape[1] = g->nd;
    if (opt_in(ctx, 5) && (st = check_shape(ctx, 5, "initial_h", 3, hshape))) return st;
    if (g->kind == CELL_LSTM) {
        if (opt_in(ctx, 6) && (st = check_shape(ctx, 6, "initial_c", 3, hshape))) return st;
        int64_t ps[2] = {g->nd, 3 * g->H};
        if (opt_in(ctx, 7) && (st = check_shape(ctx, 7, "P", 2, ps))) return st;
    }
    const mec_attr *clip = mec_node_attr(ctx->node, "clip");
    g->has_clip = clip != NULL;
    g->clip = mec_node_float(ctx->node, "clip", 0.0f);
    if (g->has_clip && !(g->clip > 0.0f))
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "clip = %g, expected a positive value", (double)g->clip);
    g->linear_before_reset = mec_node_int(ctx->node, "linear_before_reset", 0) != 0;
    g->input_forget = mec_node_int(ctx->node, "input_forget", 0) != 0;
    return parse_acts(ctx, g);
}

static mec_status rnn_infer(mec_op_ctx *ctx) {
    rnn_geo g;
    mec_status st = rnn_geometry(ctx, &g);
    if (st) return st;
    const mec_dtype t = ctx->in[0]->dtype;
    int64_t y[4] = {g.S, g.nd, g.B, g.H}, yh[3] = {g.nd, g.B, g.H};
    if (g.batch_first) {
        y[0] = g.B, y[1] = g.S, y[2] = g.nd;
        yh[0] = g.B, yh[1] = g.nd;
    }
    if ((st = mec_op_set_output(ctx, 0, t, 4, y))) return st;
    if ((st = mec_op_set_output(ctx, 1, t, 3, yh))) return st;
    return mec_op_set_output(ctx, 2, t, 3, yh);
}

/* Scratch (floats): XW (S*B, G*H), HR (B, G*H), gates (B, G*H), h, c,
 * r·h and its projection (B, H) each. */
static size_t scratch_floats(const rnn_geo *g) {
    int64_t GH = g->G * g->H;
    return (size_t)(g->S * g->B * GH + 2 * g->B * GH + 4 * g->B * g->H);
}

static mec_status rnn_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    rnn_geo g;
    mec_status st = rnn_geometry(ctx, &g);
    if (st) return st;
    *state = NULL;
    size_t bytes;
    if (!mec_size_mul(scratch_floats(&g), sizeof(float), &bytes))
        return MEC_OP_ERR(ctx, MEC_ERR_NOMEM, "scratch size overflows");
    *scratch_bytes = bytes;
    return MEC_OK;
}

static inline float clipv(const rnn_geo *g, float v) {
    if (!g->has_clip) return v;
    return v > g->clip ? g->clip : v < -g->clip ? -g->clip : v;
}

/* One direction over the whole sequence. */
static void run_direction(const mec_op_ctx *ctx, const rnn_geo *g, int dir, float *scratch) {
    int64_t S = g->S, B = g->B, H = g->H, I = g->I, G = g->G, GH = G * H, nd = g->nd;
    bool reverse = g->reverse || dir == 1;
    const float *x = ctx->in[0]->data;
    const float *w = (const float *)ctx->in[1]->data + dir * GH * I;
    const float *r = (const float *)ctx->in[2]->data + dir * GH * H;
    const mec_tensor *bt = opt_in(ctx, 3), *sl = opt_in(ctx, 4), *h0 = opt_in(ctx, 5);
    const mec_tensor *c0 = g->kind == CELL_LSTM ? opt_in(ctx, 6) : NULL;
    const mec_tensor *pt = g->kind == CELL_LSTM ? opt_in(ctx, 7) : NULL;
    const float *wb = bt ? (const float *)bt->data + dir * 2 * GH : NULL;
    const float *rb = wb ? wb + GH : NULL;
    const float *p = pt ? (const float *)pt->data + dir * 3 * H : NULL;
    const rnn_act *acts = g->acts[dir];
    mec_tensor *Y = ctx->n_out > 0 ? ctx->out[0] : NULL;

    float *xw = scratch, *hr = xw + S * B * GH, *gates = hr + B * GH, *h = gates + B * GH;
    float *c = h + B * H, *rh = c + B * H, *rhr = rh + B * H;

    /* rows of X are (t, b) for layout 0 and (b, t) for layout 1 */
    mec_sgemm(false, true, S * B, GH, I, 1.0f, x, I, w, I, 0.0f, xw, GH);
    for (int64_t b = 0; b < B; b++) {
        int64_t off = g->batch_first ? (b * nd + dir) * H : (dir * B + b) * H;
        for (int64_t j = 0; j < H; j++) {
            h[b * H + j] = h0 ? ((const float *)h0->data)[off + j] : 0.0f;
            c[b * H + j] = c0 ? ((const float *)c0->data)[off + j] : 0.0f;
        }
    }
    for (int64_t s = 0; s < S; s++) {
        mec_sgemm(false, true, B, GH, H, 1.0f, h, H, r, H, 0.0f, hr, GH);
        /* pre-activations of every gate: x·W^T + h·R^T + Wb + Rb */
        for (int64_t b = 0; b < B; b++) {
            int64_t len = sl ? mec_tensor_get_i64(sl, b) : S;
            if (s >= len) continue;
            int64_t t = reverse ? len - 1 - s : s;
            const float *xr = xw + (g->batch_first ? b * S + t : t * B + b) * GH;
            float *gt = gates + b * GH;
            /* GRU's h gate keeps only x·Wh^T + Wbh: its recurrent part depends on r */
            int64_t full = g->kind == CELL_GRU ? 2 * H : GH;
            for (int64_t k = 0; k < GH; k++) {
                float v = xr[k] + (wb ? wb[k] : 0.0f);
                if (k < full) v += hr[b * GH + k] + (rb ? rb[k] : 0.0f);
                gt[k] = v;
            }
        }
        if (g->kind == CELL_GRU) {
            /* z and r first: without linear_before_reset the h gate needs (r ⊙ h)·Rh^T */
            for (int64_t b = 0; b < B; b++) {
                int64_t len = sl ? mec_tensor_get_i64(sl, b) : S;
                float *gt = gates + b * GH;
                for (int64_t j = 0; j < 2 * H; j++) gt[j] = act_apply(&acts[0], clipv(g, gt[j]));
                for (int64_t j = 0; j < H; j++)
                    rh[b * H + j] = s < len ? gt[H + j] * h[b * H + j] : 0.0f;
            }
            if (!g->linear_before_reset)
                mec_sgemm(false, true, B, H, H, 1.0f, rh, H, r + 2 * H * H, H, 0.0f, rhr, H);
        }
        for (int64_t b = 0; b < B; b++) {
            int64_t len = sl ? mec_tensor_get_i64(sl, b) : S;
            if (s >= len) continue;
            int64_t t = reverse ? len - 1 - s : s;
            float *gt = gates + b * GH, *hb = h + b * H, *cb = c + b * H;
            const float *hrb = hr + b * GH;
            for (int64_t j = 0; j < H; j++) {
                if (g->kind == CELL_RNN) {
                    hb[j] = act_apply(&acts[0], clipv(g, gt[j]));
                } else if (g->kind == CELL_GRU) {
                    float z = gt[j], rr = gt[H + j], rbh = rb ? rb[2 * H + j] : 0.0f;
                    float pre = gt[2 * H + j] + (g->linear_before_reset ? rr * (hrb[2 * H + j] + rbh)
                                                                         : rhr[b * H + j] + rbh);
                    float hh = act_apply(&acts[1], clipv(g, pre));
                    hb[j] = (1.0f - z) * hh + z * hb[j];
                } else {
                    /* gate order i, o, f, c; peepholes i, o, f */
                    float cprev = cb[j];
                    float pi = gt[j] + (p ? p[j] * cprev : 0.0f);
                    float pf = gt[2 * H + j] + (p ? p[2 * H + j] * cprev : 0.0f);
                    float ig = act_apply(&acts[0], clipv(g, pi));
                    float fg = g->input_forget ? 1.0f - ig : act_apply(&acts[0], clipv(g, pf));
                    float cg = act_apply(&acts[1], clipv(g, gt[3 * H + j]));
                    float cn = fg * cprev + ig * cg;
                    float po = gt[H + j] + (p ? p[H + j] * cn : 0.0f);
                    float og = act_apply(&acts[0], clipv(g, po));
                    cb[j] = cn;
                    hb[j] = og * act_apply(&acts[2], cn);
                }
            }
            if (Y) {
                float *yd = Y->data;
                int64_t off = g->batch_first ? ((b * S + t) * nd + dir) * H : ((t * nd + dir) * B + b) * H;
                memcpy(yd + off, hb, (size_t)H * sizeof(float));
            }
        }
    }
    for (int k = 1; k <= 2; k++) {
        mec_tensor *o = k < ctx->n_out ? ctx->out[k] : NULL;
        if (!o || (k == 2 && g->kind != CELL_LSTM)) continue;
        const float *src = k == 1 ? h : c;
        for (int64_t b = 0; b < B; b++) {
            int64_t off = g->batch_first ? (b * nd + dir) * H : (dir * B + b) * H;
            memcpy((float *)o->data + off, src + b * H, (size_t)H * sizeof(float));
        }
    }
}

// X: (S, B, I) [layout 1: (B, S, I)], W: (D, G*H, I), R: (D, G*H, H), B: (D, 2*G*H)
// -> Y: (S, D, B, H) [(B, S, D, H)], Y_h, Y_c: (D, B, H) [(B, D, H)]
static mec_status rnn_exec(mec_op_ctx *ctx) {
    rnn_geo g;
    mec_status st = rnn_geometry(ctx, &g);
    if (st) return st;
    size_t need = scratch_floats(&g) * sizeof(float);
    if (ctx->scratch_bytes < need)
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "scratch is %zu bytes, needs %zu", ctx->scratch_bytes, need);
    const mec_tensor *sl = opt_in(ctx, 4);
    if (sl)
        for (int64_t b = 0; b < g.B; b++) {
            int64_t v = mec_tensor_get_i64(sl, b);
            if (v < 0 || v > g.S)
                return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "sequence_lens[%" PRId64 "] = %" PRId64
                                  " is outside [0, %" PRId64 "]", b, v, g.S);
        }
    if (ctx->n_out > 0 && ctx->out[0]) memset(ctx->out[0]->data, 0, mec_tensor_bytes(ctx->out[0]));
    for (int d = 0; d < g.nd; d++) run_direction(ctx, &g, d, ctx->scratch);
    return MEC_OK;
}

static int64_t rnn_flops(const mec_op_ctx *ctx) {
    rnn_geo g;
    if (rnn_geometry(ctx, &g)) return 0;
    return 2 * g.nd * g.S * g.B * g.G * g.H * (g.I + g.H);
}

#define K(op, lo, hi) {op, "", lo, hi, "ref", 0, 0, rnn_infer, rnn_exec, rnn_prepare, NULL, rnn_flops}

const mec_kernel mec_kernels_rnn[] = {
    /* 7..13 and 14+ differ only by the `layout` attribute */
    K("RNN", 7, 13), K("RNN", 14, 17),
    K("GRU", 7, 13), K("GRU", 14, 17),
    K("LSTM", 7, 13), K("LSTM", 14, 17),
    {0},
};
