/* Transformer fusions: a small BERT-like block (decomposed LayerNorm,
 * Reshape/Transpose attention with a mask, GELU FFN, residuals, constants as
 * Constant nodes) gives the same outputs optimised and not, and fuses into
 * what we expect; the fast mec.LayerNormalization / LayerNormalization-17 /
 * mec.Attention kernels agree with the reference ones on random shapes. */
#include "mec/runtime.h"
#include "op_harness.h"
#include "test.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(void) { /* uniform in [-1, 1) */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static mec_tensor *rand_t(int nd, const int64_t *shape, float lo, float hi) {
    mec_tensor *t = NULL;
    if (mec_tensor_create(&t, MEC_F32, nd, shape)) return NULL;
    float *v = t->data;
    for (int64_t i = 0; i < mec_tensor_numel(t); i++) v[i] = lo + (hi - lo) * (frand() * 0.5f + 0.5f);
    return t;
}

static mec_tensor *scalar(float v) {
    mec_tensor *t = NULL;
    if (mec_tensor_create(&t, MEC_F32, 0, NULL)) return NULL;
    *(float *)t->data = v;
    return t;
}

static void node(mec_graph *g, const char *op, int n_in, const char **in, const char *out) {
    const char *o[] = {out};
    mec_graph_add_node(g, op, "", out, n_in, in, 1, o, NULL);
}

/* A Constant node holding a scalar (as PyTorch exports them). */
static void constant(mec_graph *g, const char *out, float v) {
    const char *o[] = {out};
    int id = -1;
    mec_graph_add_node(g, "Constant", "", out, 0, NULL, 1, o, &id);
    if (id >= 0) mec_node_set_tensor(g, id, "value", scalar(v));
}

static void int64_init(mec_graph *g, const char *name, int n, const int64_t *v) {
    mec_tensor *t = NULL;
    int64_t shape[1] = {n};
    mec_tensor_create(&t, MEC_I64, 1, shape);
    memcpy(t->data, v, sizeof(int64_t) * (size_t)n);
    mec_graph_add_initializer(g, name, t, NULL);
}

/* ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add over the last axis. */
static void layernorm(mec_graph *g, const char *x, const char *p, const char *out, int64_t c) {
    char n[16][64];
    for (int i = 0; i < 16; i++) snprintf(n[i], sizeof n[i], "%s_%d", p, i);
    int64_t cs[1] = {c};
    snprintf(n[10], sizeof n[10], "%s_gamma", p);
    snprintf(n[11], sizeof n[11], "%s_beta", p);
    mec_graph_add_initializer(g, n[10], rand_t(1, cs, 0.5f, 1.5f), NULL);
    mec_graph_add_initializer(g, n[11], rand_t(1, cs, -0.5f, 0.5f), NULL);
    int64_t axes[1] = {-1};
    const char *r1[] = {x};
    node(g, "ReduceMean", 1, r1, n[0]);
    mec_node_set_ints(g, g->n_nodes - 1, "axes", 1, axes);
    const char *sb[] = {x, n[0]};
    node(g, "Sub", 2, sb, n[1]);
    constant(g, n[12], 2.0f);
    const char *pw[] = {n[1], n[12]};
    node(g, "Pow", 2, pw, n[2]);
    const char *r2[] = {n[2]};
    node(g, "ReduceMean", 1, r2, n[3]);
    mec_node_set_ints(g, g->n_nodes - 1, "axes", 1, axes);
    constant(g, n[13], 1e-5f);
    const char *ae[] = {n[3], n[13]};
    node(g, "Add", 2, ae, n[4]);
    const char *sq[] = {n[4]};
    node(g, "Sqrt", 1, sq, n[5]);
    const char *dv[] = {n[1], n[5]};
    node(g, "Div", 2, dv, n[6]);
    const char *ml[] = {n[6], n[10]};
    node(g, "Mul", 2, ml, n[7]);
    const char *ab[] = {n[11], n[7]}; /* bias first, as in the export */
    node(g, "Add", 2, ab, out);
}

/* x (B, S, C) @ W (C, N) + b, b as the first operand of the Add. */
static void linear(mec_graph *g, const char *x, const char *p, const char *out, int64_t c, int64_t nout) {
    char w[64], b[64], mm[64];
    snprintf(w, sizeof w, "%s_W", p);
    snprintf(b, sizeof b, "%s_b", p);
    snprintf(mm, sizeof mm, "%s_mm", p);
    int64_t ws[2] = {c, nout}, bs[1] = {nout};
    mec_graph_add_initializer(g, w, rand_t(2, ws, -0.3f, 0.3f), NULL);
    mec_graph_add_initializer(g, b, rand_t(1, bs, -0.1f, 0.1f), NULL);
    const char *m[] = {x, w};
    node(g, "MatMul", 2, m, mm);
    const char *a[] = {b, mm};
    node(g, "Add", 2, a, out);
}

enum { B = 2, S = 7, H = 2, D = 8, C = H * D, F = 32 };

/* emb → LN → attention (+ residual) → LN → FFN with GELU (+ residual) → LN */
static mec_graph *build_block(void) {
    mec_graph *g = NULL;
    mec_graph_create("bert_block", &g);
    mec_graph_set_opset(g, "", 13);
    int64_t xs[] = {B, S, C}, ms[] = {B, 1, 1, S};
    mec_graph_add_input(g, "x", MEC_F32, 3, xs, NULL, NULL);
    mec_graph_add_input(g, "mask", MEC_F32, 4, ms, NULL, NULL);
    int64_t heads[4] = {0, 0, H, D}, merged[3] = {0, 0, C};
    int64_t p0213[4] = {0, 2, 1, 3}, p0231[4] = {0, 2, 3, 1};
    int64_init(g, "heads", 4, heads);
    int64_init(g, "merged", 3, merged);
    layernorm(g, "x", "ln0", "h0", C);
    linear(g, "h0", "q", "q", C, C);
    linear(g, "h0", "k", "k", C, C);
    linear(g, "h0", "v", "v", C, C);
    const char *rq[] = {"q", "heads"}, *rk[] = {"k", "heads"}, *rv[] = {"v", "heads"};
    node(g, "Reshape", 2, rq, "q4");
    node(g, "Reshape", 2, rk, "k4");
    node(g, "Reshape", 2, rv, "v4");
    const char *tq[] = {"q4"}, *tk[] = {"k4"}, *tv[] = {"v4"};
    node(g, "Transpose", 1, tq, "qt");
    mec_node_set_ints(g, g->n_nodes - 1, "perm", 4, p0213);
    node(g, "Transpose", 1, tk, "kt");
    mec_node_set_ints(g, g->n_nodes - 1, "perm", 4, p0231);
    node(g, "Transpose", 1, tv, "vt");
    mec_node_set_ints(g, g->n_nodes - 1, "perm", 4, p0213);
    const char *qk[] = {"qt", "kt"};
    node(g, "MatMul", 2, qk, "scores");
    constant(g, "sqrt_d", sqrtf((float)D));
    const char *sc[] = {"scores", "sqrt_d"};
    node(g, "Div", 2, sc, "scaled");
    const char *am[] = {"scaled", "mask"};
    node(g, "Add", 2, am, "masked");
    const char *sm[] = {"masked"};
    node(g, "Softmax", 1, sm, "probs");
    mec_node_set_int(g, g->n_nodes - 1, "axis", -1);
    const char *pv[] = {"probs", "vt"};
    node(g, "MatMul", 2, pv, "ctx4");
    const char *to[] = {"ctx4"};
    node(g, "Transpose", 1, to, "ctxt");
    mec_node_set_ints(g, g->n_nodes - 1, "perm", 4, p0213);
    const char *rm[] = {"ctxt", "merged"};
    node(g, "Reshape", 2, rm, "ctx");
    linear(g, "ctx", "o", "attn", C, C);
    const char *r1[] = {"h0", "attn"};
    node(g, "Add", 2, r1, "res1");
    layernorm(g, "res1", "ln1", "h1", C);
    linear(g, "h1", "ff1", "ff1", C, F);
    constant(g, "sqrt2", 1.4142135f);
    constant(g, "one", 1.0f);
    constant(g, "half", 0.5f);
    const char *g1[] = {"ff1", "sqrt2"};
    node(g, "Div", 2, g1, "g_div");
    const char *g2[] = {"g_div"};
    node(g, "Erf", 1, g2, "g_erf");
    const char *g3[] = {"g_erf", "one"};
    node(g, "Add", 2, g3, "g_add");
    const char *g4[] = {"ff1", "g_add"};
    node(g, "Mul", 2, g4, "g_mul");
    const char *g5[] = {"g_mul", "half"};
    node(g, "Mul", 2, g5, "gelu");
    linear(g, "gelu", "ff2", "ff2", F, C);
    const char *r2[] = {"h1", "ff2"};
    node(g, "Add", 2, r2, "res2");
    layernorm(g, "res2", "ln2", "y", C);
    mec_graph_add_output(g, "y", NULL);
    return g;
}

static mec_tensor *mask_t(void) {
    int64_t ms[] = {B, 1, 1, S};
    mec_tensor *m = NULL;
    mec_tensor_create(&m, MEC_F32, 4, ms);
    float *v = m->data;
    for (int b = 0; b < B; b++)
        for (int s = 0; s < S; s++) v[b * S + s] = s < S - 2 * b ? 0.0f : -10000.0f; /* padding */
    return m;
}

static int count_op(const mec_graph *g, const char *domain, const char *op) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        n += !strcmp(g->nodes[i].op_type, op) && !strcmp(g->nodes[i].domain, domain);
    return n;
}

static mec_tensor *run_block(mec_graph *g, bool optimize, const char *impl, const mec_tensor *x,
                             const mec_tensor *mask, mec_graph **opt_copy) {
    mec_sess_options o;
    mec_sess_options_default(&o);
    o.optimize = optimize;
    o.impl = impl;
    mec_sess *s = NULL;
    mec_tensor *y = NULL;
    CHECK_OK(mec_sess_create(g, &o, &s));
    if (!s) return NULL;
    if (opt_copy) CHECK_OK(mec_graph_clone(mec_sess_graph(s), opt_copy));
    const char *in[] = {"x", "mask"};
    const mec_tensor *iv[] = {x, mask};
    CHECK_OK(mec_sess_run(s, 2, in, iv, 1, NULL, &y));
    mec_sess_destroy(s);
    return y;
}

static double max_abs(const mec_tensor *t) {
    double m = 0;
    for (int64_t i = 0; i < mec_tensor_numel(t); i++) m = fmax(m, fabs(((const float *)t->data)[i]));
    return m;
}

/* |got - want| <= rel * max|want| elementwise; returns the worst error. */
static double check_close(const mec_tensor *want, const mec_tensor *got, double rel) {
    CHECK(want && got);
    if (!want || !got) return INFINITY;
    CHECK(mec_tensor_same_shape(want, got));
    if (!mec_tensor_same_shape(want, got)) return INFINITY;
    double mx = max_abs(want), worst = 0;
    CHECK(mx > 1e-3);
    const float *a = want->data, *b = got->data;
    for (int64_t i = 0; i < mec_tensor_numel(want); i++) worst = fmax(worst, fabs((double)a[i] - b[i]));
    if (!(worst <= rel * mx))
        fprintf(stderr, "  worst |diff| %.3g > %.3g (max|ref| %.3g)\n", worst, rel * mx, mx);
    CHECK(worst <= rel * mx);
    return worst;
}

static void test_block_fuses_and_agrees(void) {
    mec_graph *g = build_block();
    int64_t xs[] = {B, S, C};
    mec_tensor *x = rand_t(3, xs, -2, 2), *mask = mask_t();
    mec_graph *og = NULL;
    mec_tensor *plain = run_block(g, false, "ref", x, mask, NULL);
    mec_tensor *ref = run_block(g, true, "ref", x, mask, NULL);
    mec_tensor *fast = run_block(g, true, "auto", x, mask, &og);
    check_close(plain, ref, 1e-5);
    check_close(plain, fast, 1e-4);
    CHECK(og != NULL);
    if (og) {
        CHECK(count_op(og, "mec", "Attention") == 1);
        /* ln0 plain; ln1 and ln2 take the residual as their skip */
        CHECK(count_op(og, "mec", "LayerNormalization") == 3);
        int skips = 0;
        for (int i = 0; i < og->n_nodes; i++)
            if (!strcmp(og->nodes[i].op_type, "LayerNormalization")) skips += og->nodes[i].n_in == 4;
        CHECK(skips == 2);
        CHECK(count_op(og, "mec", "FusedMatMul") == 6);
        int gelu = 0;
        for (int i = 0; i < og->n_nodes; i++)
            if (!strcmp(og->nodes[i].op_type, "FusedMatMul"))
                gelu += !strcmp(mec_node_string(&og->nodes[i], "activation", ""), "Gelu");
        CHECK(gelu == 1);
        const char *gone[] = {"Constant", "ReduceMean", "Softmax", "Erf", "Div", "Add", "Sqrt", "Pow", NULL};
        for (int k = 0; gone[k]; k++) {
            if (count_op(og, "", gone[k])) fprintf(stderr, "  %s left\n", gone[k]);
            CHECK(count_op(og, "", gone[k]) == 0);
        }
        const mec_node *att = NULL;
        for (int i = 0; i < og->n_nodes; i++)
            if (!strcmp(og->nodes[i].op_type, "Attention")) att = &og->nodes[i];
        if (att) {
            CHECK(att->n_in == 4);
            CHECK_NEAR(mec_node_float(att, "scale", 0), 1.0 / sqrt((double)D), 1e-7);
        }
    }
    /* the caller's graph is untouched */
    CHECK(count_op(g, "", "Softmax") == 1);
    mec_tensor_destroy(plain);
    mec_tensor_destroy(ref);
    mec_tensor_destroy(fast);
    mec_tensor_destroy(x);
    mec_tensor_destroy(mask);
    mec_graph_destroy(og);
    mec_graph_destroy(g);
}

/* (b, 1, 1, s) with the last 2 * row positions of each row masked out. */
static mec_tensor *mask_bs(int64_t b, int64_t s) {
    int64_t ms[] = {b, 1, 1, s};
    mec_tensor *m = NULL;
    mec_tensor_create(&m, MEC_F32, 4, ms);
    float *v = m->data;
    for (int64_t i = 0; i < b; i++)
        for (int64_t j = 0; j < s; j++) v[i * s + j] = j < s - 2 * i ? 0.0f : -10000.0f;
    return m;
}

/* The fast session packs the Linear weights and frees the originals (its own
 * optimised copy of the graph; the caller's keeps them); it still agrees
 * with the reference when the batch and sequence length change afterwards
 * (prepared again from the packed copies), and a freed weight asked for as
 * an output is a clean error. */
static void test_weights_freed_across_lengths(void) {
    mec_graph *g = build_block();
    /* batch and sequence length dynamic: x (B, S, C), mask (B, 1, 1, S) */
    mec_value *xv = &g->values[mec_graph_find(g, "x")], *mv = &g->values[mec_graph_find(g, "mask")];
    xv->dims[0] = xv->dims[1] = mv->dims[0] = mv->dims[3] = -1;
    mec_sess_options o;
    mec_sess_options_default(&o);
    o.optimize = false;
    o.impl = "ref";
    mec_sess *ref = NULL, *fast = NULL;
    CHECK_OK(mec_sess_create(g, &o, &ref));
    CHECK_OK(mec_sess_create(g, NULL, &fast));
    const char *weights[] = {"q_W", "k_W", "v_W", "o_W", "ff1_W", "ff2_W"};
    const char *in[] = {"x", "mask"};
    const mec_graph *og = fast ? mec_sess_graph(fast) : NULL;
    for (int k = 0; og && k < 6; k++)
        CHECK(og->values[mec_graph_find(og, weights[k])].init->data != NULL);
    const int64_t lengths[][2] = {{B, S}, {1, 5}, {3, 12}, {B, S}};
    for (int r = 0; ref && fast && r < 4; r++) {
        int64_t xs[] = {lengths[r][0], lengths[r][1], C};
        mec_tensor *x = rand_t(3, xs, -2, 2), *mask = mask_bs(lengths[r][0], lengths[r][1]);
        const mec_tensor *iv[] = {x, mask};
        mec_tensor *want = NULL, *got = NULL;
        CHECK_OK(mec_sess_run(ref, 2, in, iv, 1, NULL, &want));
        CHECK_OK(mec_sess_run(fast, 2, in, iv, 1, NULL, &got));
        if (want && got) check_close(want, got, 1e-4);
        if (r == 0) /* packed by their FusedMatMul nodes at the first run: freed */
            for (int k = 0; k < 6; k++)
                CHECK(og->values[mec_graph_find(og, weights[k])].init->data == NULL);
        mec_tensor_destroy(want);
        mec_tensor_destroy(got);
        mec_tensor_destroy(x);
        mec_tensor_destroy(mask);
    }
    /* the caller's graph keeps its weights */
    for (int k = 0; k < 6; k++) CHECK(g->values[mec_graph_find(g, weights[k])].init->data != NULL);
    if (fast) {
        int64_t xs[] = {1, 3, C};
        mec_tensor *x = rand_t(3, xs, -1, 1), *mask = mask_bs(1, 3), *w = NULL;
        const mec_tensor *iv[] = {x, mask};
        const char *out[] = {"q_W"};
        CHECK(mec_sess_run(fast, 2, in, iv, 1, out, &w) == MEC_ERR_UNSUPPORTED);
        CHECK(w == NULL);
        CHECK(strstr(mec_last_error(), "q_W") && strstr(mec_last_error(), "freed"));
        mec_tensor_destroy(x);
        mec_tensor_destroy(mask);
    }
    mec_sess_destroy(ref);
    mec_sess_destroy(fast);
    mec_graph_destroy(g);
}

/* The patterns are left alone where an intermediate is used elsewhere. */
static void test_no_fusion_when_shared(void) {
    mec_graph *g = build_block();
    mec_graph_add_output(g, "probs", NULL);   /* attention probabilities wanted */
    mec_graph_add_output(g, "ln1_1", NULL);   /* x - mean of ln1 wanted */
    int64_t xs[] = {B, S, C};
    mec_tensor *x = rand_t(3, xs, -2, 2), *mask = mask_t();
    mec_sess *s = NULL;
    CHECK_OK(mec_sess_create(g, NULL, &s));
    if (s) {
        const mec_graph *og = mec_sess_graph(s);
        CHECK(count_op(og, "mec", "Attention") == 0);
        CHECK(count_op(og, "", "Softmax") == 1);
        CHECK(count_op(og, "mec", "LayerNormalization") == 2);
        mec_tensor *y[3] = {0};
        const char *in[] = {"x", "mask"};
        const mec_tensor *iv[] = {x, mask};
        CHECK_OK(mec_sess_run(s, 2, in, iv, 3, NULL, y));
        for (int i = 0; i < 3; i++) mec_tensor_destroy(y[i]);
    }
    mec_sess_destroy(s);
    mec_tensor_destroy(x);
    mec_tensor_destroy(mask);
    mec_graph_destroy(g);
}

/* ------------------------------------------------- fast vs reference kernels */

/* A one-node graph of domain `dom` (opset `opset`) with n_in inputs. */
static mec_status one_node(mec_graph **g, int *node_id, const char *dom, const char *op, int64_t opset, int n_in) {
    const char *in[4] = {"x0", "x1", "x2", "x3"}, *out[1] = {"y0"};
    mec_status st = mec_graph_create("k", g);
    if (st) return st;
    mec_graph_set_opset(*g, dom, opset);
    return mec_graph_add_node(*g, op, dom, "node0", n_in, in, 1, out, node_id);
}

/* Runs the node with impl "ref" and "auto" and compares. */
static void fast_vs_ref(mec_graph *g, int node_id, int64_t opset, int n_in, mec_tensor **in, const char *what) {
    mec_tensor ref[1], fast[1];
    CHECK_OK(oh_run(g, node_id, opset, "ref", n_in, in, 1, ref));
    CHECK_OK(oh_run(g, node_id, opset, "auto", n_in, in, 1, fast));
    double worst = check_close(ref, fast, 1e-4);
    if (!(worst <= 1e-4 * max_abs(ref))) fprintf(stderr, "  case %s\n", what);
    mec_tensor_release(&ref[0]);
    mec_tensor_release(&fast[0]);
}

static void test_layernorm_fast_vs_ref(void) {
    static const struct {
        int nd;
        int64_t x[3];
        int skip_nd; /* 0: no skip */
        int64_t skip[3];
        bool bias;
    } cases[] = {
        {3, {2, 5, 7}, 0, {0}, false},
        {2, {3, 64}, 0, {0}, true},
        {3, {2, 3, 768}, 3, {2, 3, 768}, true},
        {3, {2, 3, 16}, 3, {1, 3, 16}, true},   /* position-embedding broadcast */
        {2, {3, 33}, 3, {2, 3, 33}, true},      /* X the smaller one */
        {3, {2, 3, 5}, 1, {5}, false},
        {2, {4, 1}, 2, {4, 1}, true},
        {3, {2, 3, 4}, 3, {2, 1, 4}, true},     /* not row repetition: reference */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        mec_graph *g = NULL;
        int id = -1;
        int n_in = cases[c].skip_nd ? 4 : cases[c].bias ? 3 : 2;
        CHECK_OK(one_node(&g, &id, "mec", "LayerNormalization", 1, n_in));
        mec_node_set_float(g, id, "epsilon", 1e-5f);
        int64_t cs[1] = {cases[c].x[cases[c].nd - 1]};
        mec_tensor *in[4] = {rand_t(cases[c].nd, cases[c].x, -3, 3), rand_t(1, cs, 0.5f, 1.5f),
                             cases[c].bias ? rand_t(1, cs, -1, 1) : NULL,
                             cases[c].skip_nd ? rand_t(cases[c].skip_nd, cases[c].skip, -1, 1) : NULL};
        char what[32];
        snprintf(what, sizeof what, "mec.LayerNormalization #%zu", c);
        fast_vs_ref(g, id, 1, n_in, in, what);
        for (int i = 0; i < 4; i++) mec_tensor_destroy(in[i]);
        mec_graph_destroy(g);
    }
    /* ONNX LayerNormalization-17: last axis (fast) and axis 1 (reference) */
    for (int axis = -1; axis <= 1; axis += 2) {
        mec_graph *g = NULL;
        int id = -1;
        CHECK_OK(one_node(&g, &id, "", "LayerNormalization", 17, 3));
        mec_node_set_int(g, id, "axis", axis);
        int64_t xs[3] = {3, 4, 50}, cs[2] = {4, 50};
        int pn = axis == -1 ? 1 : 2;
        mec_tensor *in[3] = {rand_t(3, xs, -3, 3), rand_t(pn, cs + 2 - pn, 0.5f, 1.5f),
                             rand_t(pn, cs + 2 - pn, -1, 1)};
        fast_vs_ref(g, id, 17, 3, in, axis == -1 ? "LayerNormalization-17 axis -1" : "axis 1");
        for (int i = 0; i < 3; i++) mec_tensor_destroy(in[i]);
        mec_graph_destroy(g);
    }
}

static void test_attention_fast_vs_ref(void) {
    static const struct {
        int nd;
        int64_t q[4], kt[4], v[4];
        int mask_nd; /* 0: no mask */
        int64_t mask[4];
        float scale;
    } cases[] = {
        {4, {1, 2, 5, 8}, {1, 2, 8, 5}, {1, 2, 5, 8}, 4, {1, 1, 1, 5}, 0.35f},
        {4, {2, 3, 17, 16}, {2, 3, 16, 33}, {2, 3, 33, 24}, 4, {2, 1, 17, 33}, 0.25f},
        {4, {2, 12, 128, 64}, {2, 12, 64, 128}, {2, 12, 128, 64}, 4, {2, 1, 1, 128}, 0.125f},
        {3, {4, 7, 9}, {4, 9, 7}, {4, 7, 3}, 0, {0}, 1.0f},
        {3, {2, 6, 4}, {2, 4, 19}, {2, 19, 5}, 2, {6, 1}, 0.5f},              /* mask over rows */
        {4, {2, 3, 5, 8}, {1, 3, 8, 6}, {2, 3, 6, 8}, 1, {6}, 0.3f},          /* batch broadcast */
        {2, {9, 16}, {16, 40}, {40, 16}, 2, {9, 40}, 0.2f},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        mec_graph *g = NULL;
        int id = -1;
        int n_in = cases[c].mask_nd ? 4 : 3, nd = cases[c].nd;
        CHECK_OK(one_node(&g, &id, "mec", "Attention", 1, n_in));
        mec_node_set_float(g, id, "scale", cases[c].scale);
        mec_tensor *in[4] = {rand_t(nd, cases[c].q, -2, 2), rand_t(nd, cases[c].kt, -2, 2),
                             rand_t(nd, cases[c].v, -1, 1),
                             cases[c].mask_nd ? rand_t(cases[c].mask_nd, cases[c].mask, -3, 0) : NULL};
        char what[32];
        snprintf(what, sizeof what, "mec.Attention #%zu", c);
        fast_vs_ref(g, id, 1, n_in, in, what);
        for (int i = 0; i < 4; i++) mec_tensor_destroy(in[i]);
        mec_graph_destroy(g);
    }
}

/* Errors name the node: a mask that does not broadcast to the scores. */
static void test_attention_bad_mask(void) {
    mec_graph *g = NULL;
    int id = -1;
    CHECK_OK(one_node(&g, &id, "mec", "Attention", 1, 4));
    int64_t q[3] = {2, 5, 8}, kt[3] = {2, 8, 5}, m[3] = {2, 5, 4};
    mec_tensor *in[4] = {rand_t(3, q, -1, 1), rand_t(3, kt, -1, 1), rand_t(3, q, -1, 1), rand_t(3, m, -1, 1)};
    mec_tensor out[1];
    mec_status st = oh_run(g, id, 1, "auto", 4, in, 1, out);
    CHECK(st != MEC_OK);
    CHECK(strstr(mec_last_error(), "node0") != NULL);
    CHECK(strstr(mec_last_error(), "broadcast") != NULL);
    for (int i = 0; i < 4; i++) mec_tensor_destroy(in[i]);
    mec_graph_destroy(g);
}

int main(void) {
    RUN(test_block_fuses_and_agrees);
    RUN(test_no_fusion_when_shared);
    RUN(test_weights_freed_across_lengths);
    RUN(test_layernorm_fast_vs_ref);
    RUN(test_attention_fast_vs_ref);
    RUN(test_attention_bad_mask);
    return TEST_SUMMARY();
}
