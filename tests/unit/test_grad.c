/* Finite-difference gradient checks for every backward kernel of the
 * training layer, and for the losses. Each case builds a tiny graph whose
 * float inputs are initializers (so they are parameters), takes
 * L = sum(y * R) for a fixed random R, backpropagates R, and compares every
 * parameter gradient (up to 24 sampled elements each) with central
 * differences of L computed in double from the float forward. */
#include "mec/train.h"
#include "test.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t rng_state = 88172645463325252ull;
static float frand(void) { /* uniform in [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static mec_graph *gnew(int64_t opset) {
    mec_graph *g = NULL;
    CHECK_OK(mec_graph_create("grad", &g));
    CHECK_OK(mec_graph_set_opset(g, "", opset));
    return g;
}

/* A random float initializer in [lo, hi). */
static void param(mec_graph *g, const char *name, int ndim, const int64_t *shape, float lo, float hi) {
    mec_tensor *t = NULL;
    CHECK_OK(mec_tensor_create(&t, MEC_F32, ndim, shape));
    float *d = t->data;
    for (int64_t i = 0; i < mec_tensor_numel(t); i++) d[i] = lo + (frand() + 1.0f) * 0.5f * (hi - lo);
    CHECK_OK(mec_graph_add_initializer(g, name, t, NULL));
}

static void ints(mec_graph *g, const char *name, int ndim, const int64_t *shape, const int64_t *v) {
    mec_tensor *t = NULL;
    CHECK_OK(mec_tensor_create(&t, MEC_I64, ndim, shape));
    memcpy(t->data, v, mec_tensor_bytes(t));
    CHECK_OK(mec_graph_add_initializer(g, name, t, NULL));
}

static void scalar(mec_graph *g, const char *name, float v) {
    mec_tensor *t = NULL;
    CHECK_OK(mec_tensor_create(&t, MEC_F32, 0, NULL));
    ((float *)t->data)[0] = v;
    CHECK_OK(mec_graph_add_initializer(g, name, t, NULL));
}

/* Adds a node; inputs/outputs as comma-free arrays. Returns its index. */
static int node(mec_graph *g, const char *op, int n_in, const char *const *in, const char *out) {
    int id = -1;
    CHECK_OK(mec_graph_add_node(g, op, "", op, n_in, in, 1, &out, &id));
    return id;
}

static double weighted_sum(const mec_tensor *y, const float *r) {
    double s = 0.0;
    const float *d = y->data;
    for (int64_t i = 0; i < mec_tensor_numel(y); i++) s += (double)d[i] * r[i];
    return s;
}

/* Runs the check on output `out` of g (takes ownership of g). */
/* eps: 1e-2 for smooth ops; piecewise-linear ops (Relu, MaxPool, Clip) use
 * 1e-3 so that few points lie within eps of a kink. */
static void gradcheck_eps(mec_graph *g, const char *out, bool training, float eps, const char *label) {
    mec_graph_add_output(g, out, NULL);
    mec_train_config cfg;
    mec_train_config_default(&cfg);
    cfg.loss = MEC_LOSS_NONE;
    cfg.threads = 1;
    mec_trainer *tr = NULL;
    mec_status st = mec_train_create(g, &cfg, &tr);
    CHECK_OK(st);
    mec_graph_destroy(g);
    if (st) return;
    mec_train_set_seed(tr, 1234); /* the same Dropout mask in every forward */
    CHECK_OK(mec_train_forward(tr, 0, NULL, NULL, training));
    const mec_tensor *y = mec_train_value(tr, out);
    CHECK(y != NULL);
    if (!y) {
        mec_train_destroy(tr);
        return;
    }
    int64_t ny = mec_tensor_numel(y);
    float *r = malloc((size_t)ny * sizeof(float));
    for (int64_t i = 0; i < ny; i++) r[i] = frand();
    mec_tensor *rt = NULL;
    CHECK_OK(mec_tensor_create(&rt, MEC_F32, y->ndim, y->shape));
    memcpy(rt->data, r, (size_t)ny * sizeof(float));
    mec_train_zero_grad(tr);
    const mec_tensor *grads[1] = {rt};
    CHECK_OK(mec_train_backward(tr, 1, &out, grads));
    int np = mec_train_param_count(tr), bad = 0, checked = 0;
    CHECK(np > 0);
    for (int p = 0; p < np; p++) {
        const char *name;
        mec_tensor *w, *gw;
        CHECK_OK(mec_train_param(tr, p, &name, &w, &gw));
        int64_t n = mec_tensor_numel(w), stride = n > 24 ? n / 24 : 1;
        for (int64_t i = 0; i < n; i += stride) {
            float *x = (float *)w->data + i, keep = *x;
            *x = keep + eps;
            mec_train_set_seed(tr, 1234);
            CHECK_OK(mec_train_forward(tr, 0, NULL, NULL, training));
            double lp = weighted_sum(mec_train_value(tr, out), r);
            *x = keep - eps;
            mec_train_set_seed(tr, 1234);
            CHECK_OK(mec_train_forward(tr, 0, NULL, NULL, training));
            double lm = weighted_sum(mec_train_value(tr, out), r);
            *x = keep;
            double fd = (lp - lm) / (2.0 * eps), an = ((float *)gw->data)[i];
            checked++;
            if (fabs(fd - an) > 3e-3 + 1e-2 * fabs(fd)) {
                if (bad < 5)
                    fprintf(stderr, "  %s: d/d %s[%lld]: backward %.6g, finite difference %.6g\n", label,
                            name, (long long)i, an, fd);
                bad++;
            }
        }
    }
    CHECK(bad == 0);
    CHECK(checked > 0);
    free(r);
    mec_tensor_destroy(rt);
    mec_train_destroy(tr);
}

static void gradcheck_mode(mec_graph *g, const char *out, bool training, const char *label) {
    gradcheck_eps(g, out, training, 1e-2f, label);
}
static void gradcheck(mec_graph *g, const char *out, const char *label) {
    gradcheck_eps(g, out, true, 1e-2f, label);
}
static void gradcheck_kinked(mec_graph *g, const char *out, const char *label) {
    gradcheck_eps(g, out, true, 1e-3f, label);
}

#define S(...) ((const int64_t[]){__VA_ARGS__})
#define IN(...) ((const char *const[]){__VA_ARGS__})

/* ------------------------------------------------------------ elementwise */

static void test_grad_broadcast_binary(void) {
    const char *ops[] = {"Add", "Sub", "Mul", "Div"};
    for (int k = 0; k < 4; k++) {
        mec_graph *g = gnew(17);
        param(g, "a", 3, S(2, 3, 4), -1, 1);
        param(g, "b", 2, S(3, 1), 0.5f, 1.5f); /* positive: a safe divisor */
        node(g, ops[k], 2, IN("a", "b"), "y");
        gradcheck(g, "y", ops[k]);
        g = gnew(17);
        param(g, "a", 1, S(4), 0.5f, 1.5f);
        param(g, "b", 3, S(2, 1, 4), 0.5f, 1.5f);
        node(g, ops[k], 2, IN("b", "a"), "y");
        gradcheck(g, "y", ops[k]);
        g = gnew(17);
        param(g, "a", 2, S(3, 4), 0.5f, 1.5f);
        param(g, "b", 2, S(3, 4), 0.5f, 1.5f);
        node(g, ops[k], 2, IN("a", "b"), "y");
        gradcheck(g, "y", ops[k]);
    }
}

static void test_grad_unary(void) {
    const char *ops[] = {"Relu", "Tanh", "Sigmoid", "Erf", "Exp", "Sqrt", "Log", "Neg", "Reciprocal", "LeakyRelu"};
    for (int k = 0; k < 10; k++) {
        mec_graph *g = gnew(17);
        bool positive = k >= 5 && k != 7 && k != 9;
        param(g, "x", 2, S(3, 5), positive ? 0.5f : -1.5f, 1.5f);
        node(g, ops[k], 1, IN("x"), "y");
        if (k == 0 || k == 9) gradcheck_kinked(g, "y", ops[k]);
        else gradcheck(g, "y", ops[k]);
    }
    mec_graph *g = gnew(17);
    param(g, "x", 2, S(3, 5), -1.5f, 1.5f);
    scalar(g, "e", 2.0f);
    node(g, "Pow", 2, IN("x", "e"), "y");
    gradcheck(g, "y", "Pow");
    g = gnew(17);
    param(g, "x", 2, S(3, 5), -1.5f, 1.5f);
    scalar(g, "lo", -0.5f);
    scalar(g, "hi", 0.6f);
    node(g, "Clip", 3, IN("x", "lo", "hi"), "y");
    gradcheck_kinked(g, "y", "Clip");
}

static void test_grad_gelu_erf_chain(void) {
    /* exact GELU as exported: 0.5 * x * (1 + erf(x / sqrt(2))) */
    mec_graph *g = gnew(17);
    param(g, "x", 2, S(4, 6), -2, 2);
    scalar(g, "sqrt2", 1.4142135f);
    scalar(g, "one", 1.0f);
    scalar(g, "half", 0.5f);
    node(g, "Div", 2, IN("x", "sqrt2"), "t1");
    node(g, "Erf", 1, IN("t1"), "t2");
    node(g, "Add", 2, IN("t2", "one"), "t3");
    node(g, "Mul", 2, IN("x", "t3"), "t4");
    node(g, "Mul", 2, IN("t4", "half"), "y");
    gradcheck(g, "y", "GELU");
}

static void test_grad_where(void) {
    mec_graph *g = gnew(17);
    mec_tensor *c = NULL;
    CHECK_OK(mec_tensor_create(&c, MEC_BOOL, 2, S(1, 4)));
    uint8_t cv[4] = {1, 0, 0, 1};
    memcpy(c->data, cv, 4);
    CHECK_OK(mec_graph_add_initializer(g, "c", c, NULL));
    param(g, "a", 2, S(3, 4), -1, 1);
    param(g, "b", 1, S(4), -1, 1);
    node(g, "Where", 3, IN("c", "a", "b"), "y");
    gradcheck(g, "y", "Where");
}

static void test_grad_softmax(void) {
    for (int k = 0; k < 2; k++) {
        const char *op = k ? "LogSoftmax" : "Softmax";
        mec_graph *g = gnew(17);
        param(g, "x", 3, S(2, 3, 4), -2, 2);
        int id = node(g, op, 1, IN("x"), "y");
        mec_node_set_int(g, id, "axis", 1);
        gradcheck(g, "y", op);
        g = gnew(11); /* the old flatten-from-axis semantics */
        param(g, "x", 3, S(2, 3, 4), -2, 2);
        id = node(g, op, 1, IN("x"), "y");
        mec_node_set_int(g, id, "axis", 1);
        gradcheck(g, "y", op);
    }
}

static void test_grad_dropout(void) {
    mec_graph *g = gnew(17);
    param(g, "x", 2, S(4, 8), -1, 1);
    scalar(g, "ratio", 0.3f);
    node(g, "Dropout", 2, IN("x", "ratio"), "y");
    gradcheck(g, "y", "Dropout");
}

/* ------------------------------------------------------------------ conv */

static void test_grad_conv_grouped_dilated(void) {
    mec_graph *g = gnew(17);
    param(g, "x", 4, S(2, 4, 6, 5), -1, 1);
    param(g, "w", 4, S(6, 2, 3, 3), -0.5f, 0.5f);
    param(g, "b", 1, S(6), -0.5f, 0.5f);
    int id = node(g, "Conv", 3, IN("x", "w", "b"), "y");
    mec_node_set_int(g, id, "group", 2);
    mec_node_set_ints(g, id, "dilations", 2, S(2, 1));
    mec_node_set_ints(g, id, "strides", 2, S(2, 1));
    mec_node_set_ints(g, id, "pads", 4, S(2, 1, 1, 0));
    gradcheck(g, "y", "Conv grouped+dilated+strided");
}

static void test_grad_conv_pointwise_1d_depthwise(void) {
    mec_graph *g = gnew(17);
    param(g, "x", 4, S(2, 3, 3, 3), -1, 1);
    param(g, "w", 4, S(4, 3, 1, 1), -0.5f, 0.5f);
    node(g, "Conv", 2, IN("x", "w"), "y");
    gradcheck(g, "y", "Conv 1x1");
    g = gnew(17);
    param(g, "x", 3, S(2, 2, 7), -1, 1);
    param(g, "w", 3, S(3, 2, 3), -0.5f, 0.5f);
    int id = node(g, "Conv", 2, IN("x", "w"), "y");
    mec_node_set_string(g, id, "auto_pad", "SAME_UPPER");
    mec_node_set_ints(g, id, "strides", 1, S(2));
    gradcheck(g, "y", "Conv 1-D SAME_UPPER");
    g = gnew(17);
    param(g, "x", 4, S(1, 3, 5, 5), -1, 1);
    param(g, "w", 4, S(3, 1, 3, 3), -0.5f, 0.5f);
    id = node(g, "Conv", 2, IN("x", "w"), "y");
    mec_node_set_int(g, id, "group", 3);
    mec_node_set_ints(g, id, "pads", 4, S(1, 1, 1, 1));
    gradcheck(g, "y", "Conv depthwise");
}

/* ----------------------------------------------------------------- norms */

static void test_grad_batchnorm(void) {
    for (int mode = 0; mode < 2; mode++) {
        mec_graph *g = gnew(15);
        param(g, "x", 4, S(3, 2, 2, 3), -1, 1);
        param(g, "scale", 1, S(2), 0.5f, 1.5f);
        param(g, "bias", 1, S(2), -0.5f, 0.5f);
        param(g, "mean", 1, S(2), -0.2f, 0.2f);
        param(g, "var", 1, S(2), 0.5f, 1.5f);
        node(g, "BatchNormalization", 5, IN("x", "scale", "bias", "mean", "var"), "y");
        gradcheck_mode(g, "y", mode == 0, mode == 0 ? "BatchNorm training" : "BatchNorm inference");
    }
}

static void test_grad_layernorm(void) {
    mec_graph *g = gnew(17);
    param(g, "x", 3, S(2, 3, 5), -1, 1);
    param(g, "scale", 1, S(5), 0.5f, 1.5f);
    param(g, "bias", 1, S(5), -0.5f, 0.5f);
    node(g, "LayerNormalization", 3, IN("x", "scale", "bias"), "y");
    gradcheck(g, "y", "LayerNorm");
    g = gnew(17);
    param(g, "x", 3, S(2, 3, 4), -1, 1);
    param(g, "scale", 2, S(3, 4), 0.5f, 1.5f);
    int id = node(g, "LayerNormalization", 2, IN("x", "scale"), "y");
    mec_node_set_int(g, id, "axis", 1);
    gradcheck(g, "y", "LayerNorm axis 1");
}

/* ----------------------------------------------------------------- pools */

static void test_grad_pools(void) {
    mec_graph *g = gnew(17);
    param(g, "x", 4, S(2, 2, 5, 5), -1, 1);
    int id = node(g, "MaxPool", 1, IN("x"), "y");
    mec_node_set_ints(g, id, "kernel_shape", 2, S(3, 3));
    mec_node_set_ints(g, id, "strides", 2, S(2, 2));
    mec_node_set_ints(g, id, "pads", 4, S(1, 1, 1, 1));
    gradcheck_kinked(g, "y", "MaxPool");
    for (int inc = 0; inc < 2; inc++) {
        g = gnew(17);
        param(g, "x", 4, S(2, 2, 5, 4), -1, 1);
        id = node(g, "AveragePool", 1, IN("x"), "y");
        mec_node_set_ints(g, id, "kernel_shape", 2, S(3, 2));
        mec_node_set_ints(g, id, "strides", 2, S(2, 2));
        mec_node_set_ints(g, id, "pads", 4, S(1, 0, 1, 1));
        mec_node_set_int(g, id, "count_include_pad", inc);
        mec_node_set_int(g, id, "ceil_mode", 1);
        gradcheck(g, "y", inc ? "AveragePool include pad" : "AveragePool");
    }
    g = gnew(17);
    param(g, "x", 4, S(2, 3, 3, 2), -1, 1);
    node(g, "GlobalAveragePool", 1, IN("x"), "y");
    gradcheck(g, "y", "GlobalAveragePool");
    g = gnew(17);
    param(g, "x", 4, S(2, 3, 3, 2), -1, 1);
    node(g, "GlobalMaxPool", 1, IN("x"), "y");
    gradcheck_kinked(g, "y", "GlobalMaxPool");
}

/* ------------------------------------------------------------ gemm, matmul */

static void test_grad_gemm(void) {
    for (int t = 0; t < 4; t++) {
        mec_graph *g = gnew(17);
        int ta = t & 1, tb = t >> 1;
        param(g, "a", 2, ta ? S(4, 3) : S(3, 4), -1, 1);
        param(g, "b", 2, tb ? S(5, 4) : S(4, 5), -1, 1);
        param(g, "c", 1, S(5), -1, 1);
        int id = node(g, "Gemm", 3, IN("a", "b", "c"), "y");
        mec_node_set_int(g, id, "transA", ta);
        mec_node_set_int(g, id, "transB", tb);
        mec_node_set_float(g, id, "alpha", 0.7f);
        mec_node_set_float(g, id, "beta", 1.3f);
        gradcheck(g, "y", "Gemm");
    }
}

static void test_grad_matmul(void) {
    mec_graph *g = gnew(17);
    param(g, "a", 4, S(2, 1, 3, 4), -1, 1);
    param(g, "b", 3, S(3, 4, 2), -1, 1);
    node(g, "MatMul", 2, IN("a", "b"), "y");
    gradcheck(g, "y", "MatMul broadcast batch");
    g = gnew(17);
    param(g, "a", 3, S(2, 3, 4), -1, 1);
    param(g, "b", 2, S(4, 5), -1, 1);
    node(g, "MatMul", 2, IN("a", "b"), "y");
    gradcheck(g, "y", "MatMul shared weight");
    g = gnew(17);
    param(g, "a", 1, S(4), -1, 1);
    param(g, "b", 3, S(2, 4, 3), -1, 1);
    node(g, "MatMul", 2, IN("a", "b"), "y");
    gradcheck(g, "y", "MatMul 1-D a");
    g = gnew(17);
    param(g, "a", 3, S(2, 3, 4), -1, 1);
    param(g, "b", 1, S(4), -1, 1);
    node(g, "MatMul", 2, IN("a", "b"), "y");
    gradcheck(g, "y", "MatMul 1-D b");
}

static void test_grad_attention_block(void) {
    /* softmax(q k^T * s) v, heads as a batch dim: (B, H, S, D) */
    mec_graph *g = gnew(17);
    param(g, "q", 4, S(2, 2, 3, 4), -1, 1);
    param(g, "k", 4, S(2, 2, 3, 4), -1, 1);
    param(g, "v", 4, S(2, 2, 3, 4), -1, 1);
    scalar(g, "s", 0.5f);
    int id = node(g, "Transpose", 1, IN("k"), "kt");
    mec_node_set_ints(g, id, "perm", 4, S(0, 1, 3, 2));
    node(g, "MatMul", 2, IN("q", "kt"), "qk");
    node(g, "Mul", 2, IN("qk", "s"), "sc");
    id = node(g, "Softmax", 1, IN("sc"), "p");
    mec_node_set_int(g, id, "axis", -1);
    node(g, "MatMul", 2, IN("p", "v"), "y");
    gradcheck(g, "y", "attention");
}

/* ------------------------------------------------------------------ shape */

static void test_grad_views_transpose(void) {
    mec_graph *g = gnew(17);
    param(g, "x", 3, S(2, 3, 4), -1, 1);
    ints(g, "shape", 1, S(2), S(4, -1));
    node(g, "Reshape", 2, IN("x", "shape"), "r");
    int id = node(g, "Transpose", 1, IN("r"), "t");
    mec_node_set_ints(g, id, "perm", 2, S(1, 0));
    ints(g, "axes", 1, S(1), S(0));
    node(g, "Unsqueeze", 2, IN("t", "axes"), "u");
    id = node(g, "Flatten", 1, IN("u"), "f");
    mec_node_set_int(g, id, "axis", 2);
    node(g, "Squeeze", 1, IN("f"), "y");
    gradcheck(g, "y", "views+Transpose");
    g = gnew(17);
    param(g, "x", 4, S(2, 3, 2, 4), -1, 1);
    id = node(g, "Transpose", 1, IN("x"), "y");
    mec_node_set_ints(g, id, "perm", 4, S(0, 2, 3, 1));
    gradcheck(g, "y", "Transpose 4-D");
}

static void test_grad_concat_split_slice_expand(void) {
    mec_graph *g = gnew(17);
    param(g, "a", 3, S(2, 2, 3), -1, 1);
    param(g, "b", 3, S(2, 1, 3), -1, 1);
    int id = node(g, "Concat", 2, IN("a", "b"), "y");
    mec_node_set_int(g, id, "axis", 1);
    gradcheck(g, "y", "Concat");

    g = gnew(17);
    param(g, "x", 2, S(3, 5), -1, 1);
    ints(g, "sp", 1, S(2), S(2, 3));
    const char *outs[2] = {"y0", "y1"};
    CHECK_OK(mec_graph_add_node(g, "Split", "", "split", 2, IN("x", "sp"), 2, outs, &id));
    mec_node_set_int(g, id, "axis", 1);
    param(g, "w", 2, S(3, 3), -1, 1);
    node(g, "Mul", 2, IN("y1", "w"), "y");
    gradcheck(g, "y", "Split");

    g = gnew(17);
    param(g, "x", 3, S(3, 6, 4), -1, 1);
    ints(g, "st", 1, S(2), S(-1, 1));
    ints(g, "en", 1, S(2), S(-100, 6));
    ints(g, "ax", 1, S(2), S(1, 2));
    ints(g, "sp", 1, S(2), S(-2, 2));
    node(g, "Slice", 5, IN("x", "st", "en", "ax", "sp"), "y");
    gradcheck(g, "y", "Slice steps");

    g = gnew(17);
    param(g, "x", 2, S(3, 1), -1, 1);
    ints(g, "shape", 1, S(3), S(2, 3, 4));
    node(g, "Expand", 2, IN("x", "shape"), "y");
    gradcheck(g, "y", "Expand");
}

static void test_grad_gather_embedding(void) {
    mec_graph *g = gnew(17);
    param(g, "table", 2, S(6, 4), -1, 1);
    ints(g, "ids", 2, S(2, 3), S(1, 5, 1, 0, -1, 3)); /* repeated and negative ids */
    node(g, "Gather", 2, IN("table", "ids"), "y");
    gradcheck(g, "y", "Gather");
    g = gnew(17);
    param(g, "x", 3, S(2, 5, 3), -1, 1);
    ints(g, "ids", 1, S(3), S(4, 0, 4));
    int id = node(g, "Gather", 2, IN("x", "ids"), "y");
    mec_node_set_int(g, id, "axis", 1);
    gradcheck(g, "y", "Gather axis 1");
}

static void test_grad_depth_to_space(void) {
    for (int crd = 0; crd < 2; crd++) {
        mec_graph *g = gnew(17);
        param(g, "x", 4, S(2, 8, 2, 3), -1, 1);
        int id = node(g, "DepthToSpace", 1, IN("x"), "y");
        mec_node_set_int(g, id, "blocksize", 2);
        mec_node_set_string(g, id, "mode", crd ? "CRD" : "DCR");
        gradcheck(g, "y", crd ? "DepthToSpace CRD" : "DepthToSpace DCR");
    }
}

static void test_grad_resize_linear(void) {
    const char *modes[] = {"half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel"};
    for (int m = 0; m < 4; m++) {
        mec_graph *g = gnew(17);
        param(g, "x", 4, S(1, 2, 3, 4), -1, 1);
        mec_tensor *sc = NULL;
        CHECK_OK(mec_tensor_create(&sc, MEC_F32, 1, S(4)));
        float s[4] = {1, 1, 2, m == 3 ? 1.5f : 2};
        memcpy(sc->data, s, sizeof s);
        CHECK_OK(mec_graph_add_initializer(g, "scales", sc, NULL));
        int id = node(g, "Resize", 3, IN("x", "", "scales"), "y");
        mec_node_set_string(g, id, "mode", "linear");
        mec_node_set_string(g, id, "coordinate_transformation_mode", modes[m]);
        gradcheck(g, "y", modes[m]);
    }
    mec_graph *g = gnew(17);
    param(g, "x", 4, S(1, 2, 6, 5), -1, 1);
    ints(g, "sizes", 1, S(4), S(1, 2, 3, 7));
    int id = node(g, "Resize", 4, IN("x", "", "", "sizes"), "y");
    mec_node_set_string(g, id, "mode", "linear");
    gradcheck(g, "y", "Resize sizes down/up");
}

static void test_grad_tiny_cnn(void) {
    /* Conv-BN-Relu-MaxPool-GAP-Flatten-Gemm: gradients through the chain */
    mec_graph *g = gnew(17);
    param(g, "x", 4, S(2, 2, 6, 6), -1, 1);
    param(g, "w", 4, S(3, 2, 3, 3), -0.5f, 0.5f);
    param(g, "scale", 1, S(3), 0.5f, 1.5f);
    param(g, "bias", 1, S(3), -0.5f, 0.5f);
    param(g, "mean", 1, S(3), 0, 0.1f);
    param(g, "var", 1, S(3), 0.9f, 1.1f);
    param(g, "fw", 2, S(4, 3), -1, 1);
    param(g, "fb", 1, S(4), -1, 1);
    int id = node(g, "Conv", 2, IN("x", "w"), "c");
    mec_node_set_ints(g, id, "pads", 4, S(1, 1, 1, 1));
    node(g, "BatchNormalization", 5, IN("c", "scale", "bias", "mean", "var"), "bn");
    node(g, "Relu", 1, IN("bn"), "r");
    id = node(g, "MaxPool", 1, IN("r"), "mp");
    mec_node_set_ints(g, id, "kernel_shape", 2, S(2, 2));
    mec_node_set_ints(g, id, "strides", 2, S(2, 2));
    node(g, "GlobalAveragePool", 1, IN("mp"), "gap");
    node(g, "Flatten", 1, IN("gap"), "f");
    id = node(g, "Gemm", 3, IN("f", "fw", "fb"), "y");
    mec_node_set_int(g, id, "transB", 1);
    gradcheck_kinked(g, "y", "tiny CNN");
}

/* ------------------------------------------------------------------ losses */

static void loss_check(mec_train_config *cfg, mec_tensor *logits, const mec_tensor *labels,
                       const mec_tensor *teacher, const char *label) {
    mec_tensor d;
    memset(&d, 0, sizeof d);
    float loss;
    CHECK_OK(mec_train_loss(cfg, logits, labels, teacher, &loss, &d));
    CHECK(isfinite(loss) && loss > 0);
    float *x = logits->data;
    int bad = 0;
    for (int64_t i = 0; i < mec_tensor_numel(logits); i++) {
        float keep = x[i], lp, lm, eps = 1e-2f;
        x[i] = keep + eps;
        CHECK_OK(mec_train_loss(cfg, logits, labels, teacher, &lp, NULL));
        x[i] = keep - eps;
        CHECK_OK(mec_train_loss(cfg, logits, labels, teacher, &lm, NULL));
        x[i] = keep;
        double fd = ((double)lp - lm) / (2.0 * eps), an = ((float *)d.data)[i];
        if (fabs(fd - an) > 2e-4 + 1e-2 * fabs(fd)) {
            if (bad++ < 5) fprintf(stderr, "  %s: d/dlogits[%lld]: %.6g vs %.6g\n", label, (long long)i, an, fd);
        }
    }
    CHECK(bad == 0);
    mec_tensor_release(&d);
}

static void test_grad_losses(void) {
    mec_train_config cfg;
    mec_train_config_default(&cfg);
    mec_tensor *logits = NULL, *labels = NULL, *teacher = NULL;
    CHECK_OK(mec_tensor_create(&logits, MEC_F32, 2, S(4, 5)));
    CHECK_OK(mec_tensor_create(&teacher, MEC_F32, 2, S(4, 5)));
    for (int i = 0; i < 20; i++) {
        ((float *)logits->data)[i] = 2 * frand();
        ((float *)teacher->data)[i] = 2 * frand();
    }
    CHECK_OK(mec_tensor_create(&labels, MEC_I64, 1, S(4)));
    int64_t lv[4] = {0, 4, -100, 2};
    memcpy(labels->data, lv, sizeof lv);
    loss_check(&cfg, logits, labels, NULL, "CE");
    cfg.label_smoothing = 0.1f;
    loss_check(&cfg, logits, labels, NULL, "CE smoothing");
    cfg.label_smoothing = 0.0f;
    cfg.loss = MEC_LOSS_DISTILL;
    cfg.kd_temperature = 3.0f;
    cfg.kd_alpha = 0.7f;
    loss_check(&cfg, logits, labels, teacher, "KD+CE");
    /* KD alone: no labels needed */
    cfg.kd_alpha = 1.0f;
    loss_check(&cfg, logits, NULL, teacher, "KD");
    /* a known value: uniform logits give log(C) */
    cfg.loss = MEC_LOSS_CROSS_ENTROPY;
    memset(logits->data, 0, 20 * sizeof(float));
    float loss;
    CHECK_OK(mec_train_loss(&cfg, logits, labels, NULL, &loss, NULL));
    CHECK_NEAR(loss, log(5.0), 1e-6);
    mec_tensor_destroy(logits);
    mec_tensor_destroy(labels);
    mec_tensor_destroy(teacher);

    /* per-pixel CE over (N, C, H, W) with ignored pixels */
    CHECK_OK(mec_tensor_create(&logits, MEC_F32, 4, S(2, 3, 2, 2)));
    for (int i = 0; i < 24; i++) ((float *)logits->data)[i] = 2 * frand();
    CHECK_OK(mec_tensor_create(&labels, MEC_I64, 3, S(2, 2, 2)));
    int64_t pv[8] = {0, 1, 2, 255, 1, 255, 0, 2};
    memcpy(labels->data, pv, sizeof pv);
    cfg.ignore_index = 255;
    loss_check(&cfg, logits, labels, NULL, "pixel CE");
    /* a label out of range is an error, not a crash */
    ((int64_t *)labels->data)[0] = 3;
    CHECK(mec_train_loss(&cfg, logits, labels, NULL, &loss, NULL) == MEC_ERR_RANGE);
    mec_tensor_destroy(logits);
    mec_tensor_destroy(labels);
}

int main(void) {
    RUN(test_grad_broadcast_binary);
    RUN(test_grad_unary);
    RUN(test_grad_gelu_erf_chain);
    RUN(test_grad_where);
    RUN(test_grad_softmax);
    RUN(test_grad_dropout);
    RUN(test_grad_conv_grouped_dilated);
    RUN(test_grad_conv_pointwise_1d_depthwise);
    RUN(test_grad_batchnorm);
    RUN(test_grad_layernorm);
    RUN(test_grad_pools);
    RUN(test_grad_gemm);
    RUN(test_grad_matmul);
    RUN(test_grad_attention_block);
    RUN(test_grad_views_transpose);
    RUN(test_grad_concat_split_slice_expand);
    RUN(test_grad_gather_embedding);
    RUN(test_grad_depth_to_space);
    RUN(test_grad_resize_linear);
    RUN(test_grad_tiny_cnn);
    RUN(test_grad_losses);
    return TEST_SUMMARY();
}
