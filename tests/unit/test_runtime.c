/* runtime: sessions on graphs built with the builder API — values, liveness
 * reuse, sub-graph runs, fed intermediates, dynamic shapes, and every error
 * path (missing input, wrong dtype/shape, unsupported ops, cycles, OOM). */
#include "mec/runtime.h"
#include "test.h"

static mec_tensor *f32(int nd, const int64_t *shape, const float *v) {
    mec_tensor *t = NULL;
    if (mec_tensor_create(&t, MEC_F32, nd, shape)) return NULL;
    if (v) memcpy(t->data, v, mec_tensor_bytes(t));
    return t;
}

/* x (N, 4) -> Add c -> Relu -> Reshape (N*2, 2) -> Mul 2 -> y ; also h = Relu output */
static mec_graph *small_graph(void) {
    mec_graph *g = NULL;
    int64_t xdims[] = {-1, 4};
    const char *names[] = {"batch", NULL};
    mec_graph_create("small", &g);
    mec_graph_set_opset(g, "", 13);
    mec_graph_add_input(g, "x", MEC_F32, 2, xdims, names, NULL);
    int64_t c4[] = {4};
    float cv[] = {-1, 0, 1, 2};
    mec_graph_add_initializer(g, "c", f32(1, c4, cv), NULL);
    int64_t s1[] = {2};
    mec_tensor *shape = NULL;
    mec_tensor_create(&shape, MEC_I64, 1, s1);
    ((int64_t *)shape->data)[0] = -1;
    ((int64_t *)shape->data)[1] = 2;
    mec_graph_add_initializer(g, "shape", shape, NULL);
    float two = 2;
    mec_graph_add_initializer(g, "two", f32(0, NULL, &two), NULL);
    const char *add_in[] = {"x", "c"}, *add_out[] = {"a"};
    mec_graph_add_node(g, "Add", "", "add", 2, add_in, 1, add_out, NULL);
    const char *relu_in[] = {"a"}, *relu_out[] = {"h"};
    mec_graph_add_node(g, "Relu", "", "relu", 1, relu_in, 1, relu_out, NULL);
    const char *rs_in[] = {"h", "shape"}, *rs_out[] = {"r"};
    mec_graph_add_node(g, "Reshape", "", "reshape", 2, rs_in, 1, rs_out, NULL);
    const char *mul_in[] = {"r", "two"}, *mul_out[] = {"y"};
    mec_graph_add_node(g, "Mul", "", "mul", 2, mul_in, 1, mul_out, NULL);
    mec_graph_add_output(g, "y", NULL);
    return g;
}

static void test_values(void) {
    mec_graph *g = small_graph();
    mec_sess *s = NULL;
    CHECK_OK(mec_sess_create(g, NULL, &s));
    if (!s) return;
    int64_t xs[] = {1, 4};
    float xv[] = {0.5f, -3, 2, -5};
    mec_tensor *x = f32(2, xs, xv);
    const char *in[] = {"x"};
    mec_tensor *y = NULL;
    CHECK_OK(mec_sess_run(s, 1, in, (const mec_tensor *const *)&x, 1, NULL, &y));
    CHECK(y && y->ndim == 2 && y->shape[0] == 2 && y->shape[1] == 2);
    if (y) {
        float *v = y->data; /* relu(x + c) * 2 = relu(-0.5, -3, 3, -3) * 2 */
        CHECK_NEAR(v[0], 0, 0);
        CHECK_NEAR(v[1], 0, 0);
        CHECK_NEAR(v[2], 6, 0);
        CHECK_NEAR(v[3], 0, 0);
    }
    mec_tensor_destroy(y);
    mec_tensor_destroy(x);
    mec_sess_destroy(s);
    mec_graph_destroy(g);
}

static void test_dynamic_batch(void) {
    mec_graph *g = small_graph();
    mec_sess *s = NULL;
    CHECK_OK(mec_sess_create(g, NULL, &s));
    if (!s) return;
    for (int64_t n = 1; n <= 5; n += 2) {
        int64_t xs[] = {n, 4};
        mec_tensor *x = f32(2, xs, NULL);
        for (int64_t i = 0; i < 4 * n; i++) ((float *)x->data)[i] = (float)i;
        const char *in[] = {"x"};
        mec_tensor *y = NULL;
        CHECK_OK(mec_sess_run(s, 1, in, (const mec_tensor *const *)&x, 1, NULL, &y));
        CHECK(y && y->shape[0] == 2 * n);
        if (y) CHECK_NEAR(((float *)y->data)[4 * n - 1], 2 * (4 * n - 1 + 2), 0);
        mec_tensor_destroy(y);
        mec_tensor_destroy(x);
    }
    mec_sess_destroy(s);
    mec_graph_destroy(g);
}

static void test_subgraph_and_fed(void) {
    mec_graph *g = small_graph();
    mec_sess_options opt;
    mec_sess_options_default(&opt);
    opt.profile = true;
    mec_sess *s = NULL;
    CHECK_OK(mec_sess_create(g, &opt, &s));
    if (!s) return;
    int64_t xs[] = {1, 4};
    float xv[] = {1, 1, 1, 1};
    mec_tensor *x = f32(2, xs, xv);
    const char *in[] = {"x"}, *want[] = {"h"};
    mec_tensor *h = NULL;
    /* an early output: only add and relu run */
    CHECK_OK(mec_sess_run(s, 1, in, (const mec_tensor *const *)&x, 1, want, &h));
    CHECK(h && h->ndim == 2 && ((float *)h->data)[3] == 3);
    int n;
    const mec_node_profile *p = mec_sess_profile(s, &n);
    CHECK(n == 4);
    CHECK(p[0].runs == 1 && p[1].runs == 1 && p[2].runs == 0 && p[3].runs == 0);
    /* start from the intermediate: x is not needed */
    const char *in2[] = {"h"};
    mec_tensor *y = NULL;
    CHECK_OK(mec_sess_run(s, 1, in2, (const mec_tensor *const *)&h, 1, NULL, &y));
    CHECK(y && y->shape[0] == 2 && ((float *)y->data)[3] == 6);
    CHECK(p[0].runs == 1 && p[3].runs == 1);
    mec_tensor_destroy(y);
    mec_tensor_destroy(h);
    mec_tensor_destroy(x);
    mec_sess_destroy(s);
    mec_graph_destroy(g);
}

static void test_liveness_reuse(void) {
    /* a chain of 20 Relu: liveness needs only two live buffers at a time */
    mec_graph *g = NULL;
    mec_graph_create("chain", &g);
    mec_graph_set_opset(g, "", 13);
    int64_t dims[] = {256, 256};
    mec_graph_add_input(g, "v0", MEC_F32, 2, dims, NULL, NULL);
    char a[16], b[16];
    for (int i = 0; i < 20; i++) {
        snprintf(a, sizeof a, "v%d", i);
        snprintf(b, sizeof b, "v%d", i + 1);
        const char *in[] = {a}, *out[] = {b};
        mec_graph_add_node(g, i % 2 ? "Relu" : "Neg", "", NULL, 1, in, 1, out, NULL);
    }
    mec_graph_add_output(g, "v20", NULL);
    mec_sess *s = NULL;
    CHECK_OK(mec_sess_create(g, NULL, &s));
    if (!s) return;
    mec_tensor *x = f32(2, dims, NULL);
    for (int i = 0; i < 256 * 256; i++) ((float *)x->data)[i] = (float)(i % 7) - 3;
    const char *in[] = {"v0"};
    mec_tensor *y = NULL;
    for (int run = 0; run < 3; run++) {
        CHECK_OK(mec_sess_run(s, 1, in, (const mec_tensor *const *)&x, 1, NULL, &y));
        mec_tensor_destroy(y);
        y = NULL;
    }
    int nbuf;
    size_t bytes;
    mec_sess_memory(s, &nbuf, &bytes);
    CHECK(nbuf <= 2);
    CHECK(bytes <= 2 * 256 * 256 * 4);
    /* no allocation on the hot path once the pool is warm (only the output copy) */
    long before = mec_alloc_count();
    CHECK_OK(mec_sess_run(s, 1, in, (const mec_tensor *const *)&x, 1, NULL, &y));
    CHECK(mec_alloc_count() - before <= 3);
    mec_tensor_destroy(y);
    mec_tensor_destroy(x);
    mec_sess_destroy(s);
    mec_graph_destroy(g);
}

static void test_input_errors(void) {
    mec_graph *g = small_graph();
    mec_sess *s = NULL;
    CHECK_OK(mec_sess_create(g, NULL, &s));
    if (!s) return;
    mec_tensor *y = NULL;
    /* missing input */
    CHECK(mec_sess_run(s, 0, NULL, NULL, 1, NULL, &y) != MEC_OK);
    CHECK(strstr(mec_last_error(), "input 'x' was not given") != NULL);
    /* wrong dtype */
    int64_t xs[] = {1, 4};
    mec_tensor *xi = NULL;
    mec_tensor_create(&xi, MEC_I64, 2, xs);
    const char *in[] = {"x"};
    CHECK(mec_sess_run(s, 1, in, (const mec_tensor *const *)&xi, 1, NULL, &y) == MEC_ERR_DTYPE);
    CHECK(strstr(mec_last_error(), "int64") && strstr(mec_last_error(), "float32"));
    /* wrong shape */
    int64_t bad[] = {1, 5};
    mec_tensor *xb = f32(2, bad, NULL);
    CHECK(mec_sess_run(s, 1, in, (const mec_tensor *const *)&xb, 1, NULL, &y) == MEC_ERR_SHAPE);
    CHECK(strstr(mec_last_error(), "(1, 5)") != NULL);
    /* unknown input and output names */
    const char *nope[] = {"nope"};
    CHECK(mec_sess_run(s, 1, nope, (const mec_tensor *const *)&xb, 1, NULL, &y) == MEC_ERR_NOT_FOUND);
    CHECK(mec_sess_run(s, 1, in, (const mec_tensor *const *)&xb, 1, nope, &y) == MEC_ERR_NOT_FOUND);
    CHECK(y == NULL);
    mec_tensor_destroy(xi);
    mec_tensor_destroy(xb);
    mec_sess_destroy(s);
    mec_graph_destroy(g);
}

static void test_unsupported_listed(void) {
    mec_graph *g = NULL;
    mec_graph_create("bad", &g);
    mec_graph_set_opset(g, "", 13);
    int64_t d[] = {2};
    mec_graph_add_input(g, "x", MEC_F32, 1, d, NULL, NULL);
    const char *i1[] = {"x"}, *o1[] = {"a"}, *i2[] = {"a"}, *o2[] = {"b"}, *i3[] = {"b"}, *o3[] = {"c"};
    mec_graph_add_node(g, "FrobnicateA", "", "f1", 1, i1, 1, o1, NULL);
    mec_graph_add_node(g, "Relu", "", "r", 1, i2, 1, o2, NULL);
    mec_graph_add_node(g, "Gelu", "com.example", "f2", 1, i3, 1, o3, NULL);
    mec_graph_set_opset(g, "com.example", 1);
    mec_graph_add_output(g, "c", NULL);
    mec_sess *s = NULL;
    CHECK(mec_sess_create(g, NULL, &s) == MEC_ERR_UNSUPPORTED);
    CHECK(s == NULL);
    const char *msg = mec_last_error();
    CHECK(strstr(msg, "2 problems") != NULL);
    CHECK(strstr(msg, "FrobnicateA") != NULL);
    CHECK(strstr(msg, "Gelu (domain com.example") != NULL);
    mec_graph_destroy(g);
}

static void test_cycle(void) {
    mec_graph *g = NULL;
    mec_graph_create("cycle", &g);
    mec_graph_set_opset(g, "", 13);
    const char *i1[] = {"b"}, *o1[] = {"a"}, *i2[] = {"a"}, *o2[] = {"b"};
    mec_graph_add_node(g, "Relu", "", "n1", 1, i1, 1, o1, NULL);
    mec_graph_add_node(g, "Relu", "", "n2", 1, i2, 1, o2, NULL);
    mec_graph_add_output(g, "b", NULL);
    CHECK(mec_graph_toposort(g) == MEC_ERR_GRAPH);
    CHECK(strstr(mec_last_error(), "cycle") != NULL);
    mec_sess *s = NULL;
    CHECK(mec_sess_create(g, NULL, &s) != MEC_OK);
    mec_graph_destroy(g);
}

static void test_alloc_failures(void) {
    /* every allocation of create + run fails in turn: a clean error, no crash */
    int64_t xs[] = {2, 4};
    mec_tensor *x = f32(2, xs, NULL);
    int clean = 0;
    for (long k = 0; k < 400; k++) {
        mec_graph *g = small_graph();
        mec_sess *s = NULL;
        mec_tensor *y = NULL;
        const char *in[] = {"x"};
        mec_alloc_fail_after(k);
        mec_status st = mec_sess_create(g, NULL, &s);
        if (!st) st = mec_sess_run(s, 1, in, (const mec_tensor *const *)&x, 1, NULL, &y);
        mec_alloc_fail_after(-1);
        CHECK(st == MEC_OK || st == MEC_ERR_NOMEM);
        if (st == MEC_OK) {
            CHECK(y != NULL);
            clean++;
        } else {
            CHECK(y == NULL);
        }
        mec_tensor_destroy(y);
        mec_sess_destroy(s);
        mec_graph_destroy(g);
        if (st == MEC_OK && clean > 2) break; /* past the last allocation */
    }
    CHECK(clean > 0);
    mec_tensor_destroy(x);
}

/* ------------------------------------------------------- freed constants */

enum { PK = 24, PN = 17, PN2 = 13 };

/* x (M, K) → MatMul W → y1; x → Gemm(transB) W2 + b2 → y2; z (K, N) * W →
 * y3. W is read by the fast MatMul (packs it) and by Mul (a reference
 * kernel that reads it every run); W2 only by the fast Gemm. */
static mec_graph *packed_graph(void) {
    mec_graph *g = NULL;
    mec_graph_create("packed", &g);
    mec_graph_set_opset(g, "", 13);
    int64_t xs[] = {-1, PK}, zs[] = {PK, PN}, w2s[] = {PN2, PK}, bs[] = {PN2};
    mec_graph_add_input(g, "x", MEC_F32, 2, xs, NULL, NULL);
    mec_graph_add_input(g, "z", MEC_F32, 2, zs, NULL, NULL);
    mec_tensor *w = f32(2, zs, NULL), *w2 = f32(2, w2s, NULL), *b2 = f32(1, bs, NULL);
    float *wv = w->data, *w2v = w2->data;
    for (int64_t i = 0; i < mec_tensor_numel(w); i++) wv[i] = (float)(i % 7) * 0.25f - 0.7f;
    for (int64_t i = 0; i < mec_tensor_numel(w2); i++) w2v[i] = (float)(i % 5) * 0.3f - 0.6f;
    for (int64_t i = 0; i < PN2; i++) ((float *)b2->data)[i] = (float)i * 0.1f;
    mec_graph_add_initializer(g, "W", w, NULL);
    mec_graph_add_initializer(g, "W2", w2, NULL);
    mec_graph_add_initializer(g, "b2", b2, NULL);
    const char *mm_in[] = {"x", "W"}, *mm_out[] = {"y1"};
    mec_graph_add_node(g, "MatMul", "", "mm", 2, mm_in, 1, mm_out, NULL);
    const char *gm_in[] = {"x", "W2", "b2"}, *gm_out[] = {"y2"};
    int gemm = -1;
    mec_graph_add_node(g, "Gemm", "", "gemm", 3, gm_in, 1, gm_out, &gemm);
    mec_node_set_int(g, gemm, "transB", 1);
    const char *mul_in[] = {"z", "W"}, *mul_out[] = {"y3"};
    mec_graph_add_node(g, "Mul", "", "mul", 2, mul_in, 1, mul_out, NULL);
    mec_graph_add_output(g, "y1", NULL);
    mec_graph_add_output(g, "y2", NULL);
    mec_graph_add_output(g, "y3", NULL);
    return g;
}

/* Inputs x (m, K) and z (K, N). */
static void packed_inputs(int64_t m, mec_tensor **x, mec_tensor **z) {
    int64_t xs[] = {m, PK}, zs[] = {PK, PN};
    *x = f32(2, xs, NULL);
    *z = f32(2, zs, NULL);
    float *xv = (*x)->data, *zv = (*z)->data;
    for (int64_t i = 0; i < mec_tensor_numel(*x); i++) xv[i] = (float)((i * 13) % 11) * 0.2f - 1.0f;
    for (int64_t i = 0; i < mec_tensor_numel(*z); i++) zv[i] = (float)(i % 3) - 1.0f;
}

/* Runs `fast` on x (m, K) and z, with allocation failure injected after
 * fail_after allocations (-1: none); on success, and when ref is given,
 * the outputs must agree with ref's. */
static mec_status run_packed(mec_sess *ref, mec_sess *fast, int64_t m, long fail_after) {
    mec_tensor *x = NULL, *z = NULL, *want[3] = {0}, *got[3] = {0};
    packed_inputs(m, &x, &z);
    const char *in[] = {"x", "z"};
    const mec_tensor *iv[] = {x, z};
    mec_alloc_fail_after(fail_after);
    mec_status st = mec_sess_run(fast, 2, in, iv, 3, NULL, got);
    mec_alloc_fail_after(-1);
    if (!st && ref) {
        CHECK_OK(mec_sess_run(ref, 2, in, iv, 3, NULL, want));
        for (int k = 0; k < 3; k++) {
            CHECK(want[k] && got[k] && mec_tensor_same_shape(want[k], got[k]));
            if (!want[k] || !got[k] || !mec_tensor_same_shape(want[k], got[k])) continue;
            const float *a = want[k]->data, *b = got[k]->data;
            for (int64_t i = 0; i < mec_tensor_numel(want[k]); i++)
                CHECK_NEAR(b[i], a[i], 1e-4 * (1 + fabs(a[i])));
        }
    }
    for (int k = 0; k < 3; k++) {
        mec_tensor_destroy(want[k]);
        mec_tensor_destroy(got[k]);
    }
    mec_tensor_destroy(x);
    mec_tensor_destroy(z);
    return st;
}

static const void *init_data(const mec_sess *s, const char *name) {
    const mec_graph *g = mec_sess_graph(s);
    return g->values[mec_graph_find(g, name)].init->data;
}

/* A constant is freed once every node reading it keeps its own packed copy,
 * and only then; the session still agrees with the reference when the rows
 * change (re-packed from its copy, through the reference fallback for no
 * rows and back), also when allocations fail while it prepares again. A
 * session over a borrowed graph frees nothing. */
static void test_packed_constants_freed(void) {
    mec_graph *g = packed_graph();
    mec_sess_options o;
    mec_sess_options_default(&o);
    o.optimize = false;
    o.impl = "ref";
    mec_sess *ref = NULL, *fast = NULL, *borrowed = NULL;
    CHECK_OK(mec_sess_create(g, &o, &ref));
    CHECK_OK(mec_sess_create(g, NULL, &fast)); /* optimised: its own copy of g */
    o.impl = "auto";
    CHECK_OK(mec_sess_create(g, &o, &borrowed));
    if (!ref || !fast || !borrowed) goto done;
    CHECK_OK(run_packed(ref, fast, 5, -1));
    CHECK(init_data(fast, "W2") == NULL); /* only the Gemm reads it: freed */
    CHECK(init_data(fast, "W") != NULL);  /* Mul reads it too */
    CHECK(init_data(fast, "b2") != NULL); /* the bias is used as it is */
    const int64_t rows[] = {2, 0, 7, 5};
    for (int r = 0; r < 4; r++) CHECK_OK(run_packed(ref, fast, rows[r], -1));
    CHECK_OK(run_packed(ref, borrowed, 5, -1));
    CHECK(init_data(borrowed, "W2") != NULL);
    /* every allocation of a run that prepares again (for 3 rows, or none:
     * the reference fallback) fails in turn; the session still works after */
    int clean = 0;
    for (long k = 0; k < 400 && clean < 4; k++) {
        CHECK_OK(run_packed(NULL, fast, 5, -1));
        mec_status st = run_packed(NULL, fast, k % 2 ? 0 : 3, k / 2);
        CHECK(st == MEC_OK || st == MEC_ERR_NOMEM);
        clean += st == MEC_OK;
        CHECK_OK(run_packed(ref, fast, k % 2 ? 0 : 3, -1));
    }
    CHECK(clean == 4);
done:
    mec_sess_destroy(ref);
    mec_sess_destroy(fast);
    mec_sess_destroy(borrowed);
    mec_graph_destroy(g);
}

int main(void) {
    RUN(test_values);
    RUN(test_dynamic_batch);
    RUN(test_subgraph_and_fed);
    RUN(test_liveness_reuse);
    RUN(test_input_errors);
    RUN(test_unsupported_listed);
    RUN(test_cycle);
    RUN(test_alloc_failures);
    RUN(test_packed_constants_freed);
    return TEST_SUMMARY();
}
