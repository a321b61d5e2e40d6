/* optimiser: BatchNorm folding and Conv/MatMul epilogue fusion give the same
 * outputs as the unoptimised graph, and the fused graph is what we expect. */
#include "mec/runtime.h"
#include "test.h"

static uint64_t rng = 88172645463325252ull;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static mec_tensor *rand_t(int nd, const int64_t *shape, float lo, float hi) {
    mec_tensor *t = NULL;
    mec_tensor_create(&t, MEC_F32, nd, shape);
    float *v = t->data;
    for (int64_t i = 0; i < mec_tensor_numel(t); i++) v[i] = lo + (hi - lo) * (frand() * 0.5f + 0.5f);
    return t;
}

static void node(mec_graph *g, const char *op, int n_in, const char **in, const char *out) {
    const char *o[] = {out};
    mec_graph_add_node(g, op, "", out, n_in, in, 1, o, NULL);
}

/* x → Conv → BN → Relu → Conv → Add(residual) → Relu → Flatten → MatMul → Add → GELU → y */
static mec_graph *build(void) {
    mec_graph *g = NULL;
    mec_graph_create("opt", &g);
    mec_graph_set_opset(g, "", 13);
    int64_t xs[] = {2, 4, 6, 6};
    mec_graph_add_input(g, "x", MEC_F32, 4, xs, NULL, NULL);
    int64_t w1[] = {4, 4, 3, 3}, c4[] = {4}, wm[] = {144, 10}, b10[] = {10};
    mec_graph_add_initializer(g, "w1", rand_t(4, w1, -0.3f, 0.3f), NULL);
    mec_graph_add_initializer(g, "b1", rand_t(1, c4, -0.1f, 0.1f), NULL);
    mec_graph_add_initializer(g, "gamma", rand_t(1, c4, 0.5f, 1.5f), NULL);
    mec_graph_add_initializer(g, "beta", rand_t(1, c4, -0.2f, 0.2f), NULL);
    mec_graph_add_initializer(g, "mean", rand_t(1, c4, -0.2f, 0.2f), NULL);
    mec_graph_add_initializer(g, "var", rand_t(1, c4, 0.5f, 2.0f), NULL);
    mec_graph_add_initializer(g, "w2", rand_t(4, w1, -0.3f, 0.3f), NULL);
    mec_graph_add_initializer(g, "wm", rand_t(2, wm, -0.1f, 0.1f), NULL);
    mec_graph_add_initializer(g, "bm", rand_t(1, b10, -0.1f, 0.1f), NULL);
    float sq2 = 1.4142135f, one = 1, half = 0.5f;
    mec_tensor *t;
    mec_tensor_create(&t, MEC_F32, 0, NULL); *(float *)t->data = sq2; mec_graph_add_initializer(g, "sq2", t, NULL);
    mec_tensor_create(&t, MEC_F32, 0, NULL); *(float *)t->data = one; mec_graph_add_initializer(g, "one", t, NULL);
    mec_tensor_create(&t, MEC_F32, 0, NULL); *(float *)t->data = half; mec_graph_add_initializer(g, "half", t, NULL);
    const char *c1[] = {"x", "w1", "b1"};
    node(g, "Conv", 3, c1, "c1");
    mec_node_set_ints(g, g->n_nodes - 1, "pads", 4, (int64_t[]){1, 1, 1, 1});
    const char *bn[] = {"c1", "gamma", "beta", "mean", "var"};
    node(g, "BatchNormalization", 5, bn, "bn");
    const char *r1[] = {"bn"};
    node(g, "Relu", 1, r1, "r1");
    const char *c2[] = {"r1", "w2"};
    node(g, "Conv", 2, c2, "c2");
    mec_node_set_ints(g, g->n_nodes - 1, "pads", 4, (int64_t[]){1, 1, 1, 1});
    const char *ad[] = {"c2", "r1"};
    node(g, "Add", 2, ad, "sum");
    const char *r2[] = {"sum"};
    node(g, "Relu", 1, r2, "r2");
    const char *fl[] = {"r2"};
    node(g, "Flatten", 1, fl, "flat");
    const char *mm[] = {"flat", "wm"};
    node(g, "MatMul", 2, mm, "mm");
    const char *ab[] = {"mm", "bm"};
    node(g, "Add", 2, ab, "z");
    const char *dv[] = {"z", "sq2"};
    node(g, "Div", 2, dv, "dv");
    const char *ef[] = {"dv"};
    node(g, "Erf", 1, ef, "ef");
    const char *a1[] = {"ef", "one"};
    node(g, "Add", 2, a1, "a1");
    const char *m1[] = {"z", "a1"};
    node(g, "Mul", 2, m1, "m1");
    const char *m2[] = {"m1", "half"};
    node(g, "Mul", 2, m2, "y");
    mec_graph_add_output(g, "y", NULL);
    return g;
}

static mec_tensor *run(mec_graph *g, bool optimize, const mec_tensor *x, int *n_nodes, const char *impl) {
    mec_sess_options o;
    mec_sess_options_default(&o);
    o.optimize = optimize;
    o.impl = impl;
    mec_sess *s = NULL;
    mec_tensor *y = NULL;
    CHECK_OK(mec_sess_create(g, &o, &s));
    if (!s) return NULL;
    *n_nodes = mec_sess_graph(s)->n_nodes;
    const char *in[] = {"x"};
    CHECK_OK(mec_sess_run(s, 1, in, &x, 1, NULL, &y));
    mec_sess_destroy(s);
    return y;
}

static void test_fusion_same_result(void) {
    mec_graph *g = build();
    int64_t xs[] = {2, 4, 6, 6};
    mec_tensor *x = rand_t(4, xs, -1, 1);
    int n_plain = 0, n_opt = 0, n_fast = 0;
    mec_tensor *a = run(g, false, x, &n_plain, "ref");
    mec_tensor *b = run(g, true, x, &n_opt, "ref");
    mec_tensor *c = run(g, true, x, &n_fast, "auto");
    CHECK(n_plain == 14);
    /* Conv+BN+Relu, Conv+Add+Relu, Flatten, MatMul+Add+GELU */
    CHECK(n_opt == 4);
    CHECK(a && b && c);
    if (a && b && c) {
        CHECK(mec_tensor_same_shape(a, b) && mec_tensor_same_shape(a, c));
        double mx = 0;
        for (int64_t i = 0; i < mec_tensor_numel(a); i++)
            if (fabs(((float *)a->data)[i]) > mx) mx = fabs(((float *)a->data)[i]);
        CHECK(mx > 1e-3);
        for (int64_t i = 0; i < mec_tensor_numel(a); i++) {
            CHECK_NEAR(((float *)b->data)[i], ((float *)a->data)[i], 1e-5 * mx + 1e-6);
            CHECK_NEAR(((float *)c->data)[i], ((float *)a->data)[i], 1e-4 * mx + 1e-6);
        }
    }
    /* the caller's graph is untouched */
    CHECK(g->n_nodes == 14);
    mec_tensor_destroy(a);
    mec_tensor_destroy(b);
    mec_tensor_destroy(c);
    mec_tensor_destroy(x);
    mec_graph_destroy(g);
}

static void test_no_fusion_when_shared(void) {
    /* the Conv output is also a graph output: BN must not be folded into it */
    mec_graph *g = build();
    mec_graph_add_output(g, "c1", NULL);
    int64_t xs[] = {2, 4, 6, 6};
    mec_tensor *x = rand_t(4, xs, -1, 1);
    mec_sess *s = NULL;
    CHECK_OK(mec_sess_create(g, NULL, &s));
    if (s) {
        const mec_graph *og = mec_sess_graph(s);
        int bn = 0;
        for (int i = 0; i < og->n_nodes; i++) bn += !strcmp(og->nodes[i].op_type, "BatchNormalization");
        CHECK(bn == 1);
        mec_tensor *y[2] = {0};
        const char *in[] = {"x"};
        CHECK_OK(mec_sess_run(s, 1, in, (const mec_tensor *const *)&x, 2, NULL, y));
        mec_tensor_destroy(y[0]);
        mec_tensor_destroy(y[1]);
    }
    mec_sess_destroy(s);
    mec_tensor_destroy(x);
    mec_graph_destroy(g);
}

/* Conv (fast: channels-last output) → Reshape (a view, needs a contiguous
 * copy) → Neg → Relu: the view must keep its copy alive while later nodes
 * take buffers from the pool. */
static void test_view_of_strided(void) {
    mec_graph *g = NULL;
    mec_graph_create("view", &g);
    mec_graph_set_opset(g, "", 13);
    int64_t xs[] = {1, 8, 6, 6}, ws[] = {8, 8, 3, 3}, ss[] = {2};
    mec_graph_add_input(g, "x", MEC_F32, 4, xs, NULL, NULL);
    mec_graph_add_initializer(g, "w", rand_t(4, ws, -0.3f, 0.3f), NULL);
    mec_tensor *shape = NULL;
    mec_tensor_create(&shape, MEC_I64, 1, ss);
    ((int64_t *)shape->data)[0] = 1;
    ((int64_t *)shape->data)[1] = -1;
    mec_graph_add_initializer(g, "shape", shape, NULL);
    const char *c[] = {"x", "w"};
    node(g, "Conv", 2, c, "conv");
    mec_node_set_ints(g, g->n_nodes - 1, "pads", 4, (int64_t[]){1, 1, 1, 1});
    const char *r[] = {"conv", "shape"};
    node(g, "Reshape", 2, r, "flat");
    const char *n1[] = {"flat"};
    node(g, "Neg", 1, n1, "neg");
    const char *n2[] = {"neg"};
    node(g, "Relu", 1, n2, "relu");
    const char *n3[] = {"flat", "relu"};
    node(g, "Add", 2, n3, "y");
    mec_graph_add_output(g, "y", NULL);
    mec_tensor *x = rand_t(4, xs, -1, 1);
    int n1c, n2c;
    mec_tensor *a = run(g, false, x, &n1c, "ref");
    mec_tensor *b = run(g, true, x, &n2c, "auto");
    CHECK(a && b);
    if (a && b) {
        CHECK(mec_tensor_same_shape(a, b));
        for (int64_t i = 0; i < mec_tensor_numel(a); i++)
            CHECK_NEAR(((float *)b->data)[i], ((float *)a->data)[i], 1e-4);
    }
    mec_tensor_destroy(a);
    mec_tensor_destroy(b);
    mec_tensor_destroy(x);
    mec_graph_destroy(g);
}

int main(void) {
    RUN(test_view_of_strided);
    RUN(test_fusion_same_result);
    RUN(test_no_fusion_when_shared);
    return TEST_SUMMARY();
}
