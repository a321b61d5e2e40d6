/* activation ops: pointwise values (from numpy), Softmax/LogSoftmax/Hardmax
 * under both axis semantics (coerce-to-2-D before opset 13, one axis from
 * 13) against a naive computation, PRelu broadcasting, Clip, and errors. */
#include "mec/ops.h"
#include "op_harness.h"
#include "test.h"

#include <stdint.h>

/* Attributes for one run: up to 3 float and 2 int attributes by name. */
typedef struct attrs {
    const char *fname[3];
    float fval[3];
    const char *iname[2];
    int64_t ival[2];
} attrs;

static mec_status run_op(const char *op, int64_t opset, int n_in, mec_tensor **in, const attrs *a,
                         mec_graph **g, mec_tensor *out) {
    int node;
    mec_status st = oh_node(g, &node, op, opset, n_in, 1);
    if (st) return st;
    for (int i = 0; a && i < 3; i++)
        if (a->fname[i]) mec_node_set_float(*g, node, a->fname[i], a->fval[i]);
    for (int i = 0; a && i < 2; i++)
        if (a->iname[i]) mec_node_set_int(*g, node, a->iname[i], a->ival[i]);
    return oh_run(*g, node, opset, "ref", n_in, in, 1, out);
}

static void expect(const char *op, int64_t opset, int n_in, mec_tensor **in, const attrs *a,
                   int64_t n, const double *want, double tol) {
    mec_graph *g = NULL;
    mec_tensor out[1];
    mec_status st = run_op(op, opset, n_in, in, a, &g, out);
    CHECK_OK(st);
    if (!st) {
        CHECK(out[0].dtype == in[0]->dtype && mec_tensor_numel(&out[0]) == n);
        if (mec_tensor_numel(&out[0]) == n)
            for (int64_t i = 0; i < n; i++) CHECK_NEAR(mec_tensor_get_f64(&out[0], i), want[i], tol);
    }
    oh_free(g, 1, out);
}

static void expect_error(const char *op, int64_t opset, int n_in, mec_tensor **in, const attrs *a,
                         mec_status want_st) {
    mec_graph *g = NULL;
    mec_tensor out[1];
    mec_status st = run_op(op, opset, n_in, in, a, &g, out);
    CHECK(st == want_st);
    if (st != want_st) fprintf(stderr, "  got %d: %s\n", st, mec_last_error());
    CHECK(strstr(mec_last_error(), "node0") != NULL);
    oh_free(g, 1, out);
}

/* ------------------------------------------------------------------ */

static const double xs[] = {-3, -1, -0.25, 0, 0.5, 2, 100};

static void test_pointwise(void) {
    mec_tensor *in[1] = {oh_tensor_f64(MEC_F32, 1, SHAPE(7), xs)};
    expect("Relu", 14, 1, in, NULL, 7, F64S(0, 0, 0, 0, 0.5, 2, 100), 0);
    expect("LeakyRelu", 16, 1, in, NULL, 7, F64S(-0.03, -0.01, -0.0025, 0, 0.5, 2, 100), 1e-7);
    attrs a1 = {{"alpha"}, {0.1f}, {0}, {0}};
    expect("LeakyRelu", 16, 1, in, &a1, 7, F64S(-0.3, -0.1, -0.025, 0, 0.5, 2, 100), 1e-6);
    expect("Sigmoid", 13, 1, in, NULL, 7,
           F64S(0.0474258732, 0.2689414214, 0.4378234991, 0.5, 0.6224593312, 0.8807970780, 1), 1e-6);
    expect("Tanh", 13, 1, in, NULL, 7,
           F64S(-0.9950547537, -0.7615941560, -0.2449186624, 0, 0.4621171573, 0.9640275801, 1), 1e-6);
    expect("HardSigmoid", 6, 1, in, NULL, 7, F64S(0, 0.3, 0.45, 0.5, 0.6, 0.9, 1), 1e-6);
    expect("HardSwish", 14, 1, in, NULL, 7,
           F64S(0, -0.3333333, -0.1145833, 0, 0.2916667, 1.6666667, 100), 1e-6);
    expect("Elu", 6, 1, in, NULL, 7, F64S(-0.9502129316, -0.6321205588, -0.2211992169, 0, 0.5, 2, 100), 1e-6);
    expect("Selu", 6, 1, in, NULL, 7,
           F64S(-1.670568734, -1.1113307413, -0.3888901987, 0, 0.5253505111, 2.1014020443, 105.0701022),
           1e-4);
    attrs a2 = {{"alpha"}, {2.0f}, {0}, {0}};
    expect("Celu", 12, 1, in, &a2, 7, F64S(-1.5537396797, -0.7869386806, -0.2350061948, 0, 0.5, 2, 100), 1e-6);
    expect("Softplus", 1, 1, in, NULL, 7,
           F64S(0.0485873516, 0.3132616875, 0.5759394003, 0.6931471806, 0.9740769842, 2.1269280110, 100), 1e-5);
    expect("Softsign", 1, 1, in, NULL, 7, F64S(-0.75, -0.5, -0.2, 0, 0.3333333, 0.6666667, 0.9900990), 1e-6);
    expect("ThresholdedRelu", 10, 1, in, NULL, 7, F64S(0, 0, 0, 0, 0, 2, 100), 0);
    attrs a3 = {{"lambd", "bias"}, {0.5f, 0.25f}, {0}, {0}};
    expect("Shrink", 9, 1, in, &a3, 7, F64S(-2.75, -0.75, 0, 0, 0, 1.75, 99.75), 1e-6);
    mec_tensor_destroy(in[0]);
    /* integer Relu (opset 14) and Shrink */
    in[0] = oh_tensor_f64(MEC_I32, 1, SHAPE(3), F64S(-5, 0, 7));
    expect("Relu", 14, 1, in, NULL, 3, F64S(0, 0, 7), 0);
    attrs a4 = {{"lambd", "bias"}, {1.0f, 1.0f}, {0}, {0}};
    expect("Shrink", 9, 1, in, &a4, 3, F64S(-4, 0, 6), 0);
    expect_error("Sigmoid", 13, 1, in, NULL, MEC_ERR_UNSUPPORTED);
    mec_tensor_destroy(in[0]);
}

/* The float Tanh is a rational approximation: within 1e-6 of libm's
 * double tanh over [-12, 12], and exact for tiny inputs. */
static void test_tanh_accuracy(void) {
    int64_t n = 24001;
    mec_tensor *in[1] = {oh_tensor_f64(MEC_F32, 1, &n, NULL)};
    float *x = in[0]->data;
    for (int64_t i = 0; i < n; i++) x[i] = (float)(i - 12000) / 1000.0f;
    x[0] = 1e-6f;
    mec_graph *g = NULL;
    mec_tensor out[1];
    CHECK_OK(run_op("Tanh", 13, 1, in, NULL, &g, out));
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs(((float *)out[0].data)[i] - tanh((double)x[i]));
        worst = e > worst ? e : worst;
    }
    CHECK(worst < 1e-6);
    CHECK(((float *)out[0].data)[0] == 1e-6f);
    oh_free(g, 1, out);
    mec_tensor_destroy(in[0]);
}

/* Naive softmax family over (outer, n, inner) in double. */
static void naive_sm(const float *x, double *y, int64_t outer, int64_t n, int64_t inner, int kind) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double m = -INFINITY, s = 0;
            int64_t arg = 0;
            for (int64_t k = 0; k < n; k++) {
                double v = x[(o * n + k) * inner + i];
                if (v > m) m = v, arg = k;
            }
            for (int64_t k = 0; k < n; k++) s += exp(x[(o * n + k) * inner + i] - m);
            for (int64_t k = 0; k < n; k++) {
                double v = x[(o * n + k) * inner + i];
                y[(o * n + k) * inner + i] = kind == 0 ? exp(v - m) / s
                                             : kind == 1 ? v - m - log(s)
                                                         : (double)(k == arg);
            }
        }
}

static void check_sm(const char *op, int kind, int64_t opset, int axis, int nd, const int64_t *shape) {
    mec_tensor *in[1] = {oh_tensor_f64(MEC_F32, nd, shape, NULL)};
    int64_t total = mec_tensor_numel(in[0]);
    float *x = in[0]->data;
    for (int64_t i = 0; i < total; i++) x[i] = (float)((i * 37) % 101) / 10.0f - 5.0f;
    x[1] = x[0]; /* a tie for Hardmax: the first wins */
    int a = axis < 0 ? axis + nd : axis;
    int64_t outer = 1, n = 1, inner = 1;
    for (int d = 0; d < a; d++) outer *= shape[d];
    if (opset < 13) {
        for (int d = a; d < nd; d++) n *= shape[d];
    } else {
        n = shape[a];
        for (int d = a + 1; d < nd; d++) inner *= shape[d];
    }
    double *want = malloc(sizeof(double) * (size_t)total);
    naive_sm(x, want, outer, n, inner, kind);
    attrs at = {{0}, {0}, {"axis"}, {axis}};
    mec_graph *g = NULL;
    mec_tensor out[1];
    CHECK_OK(run_op(op, opset, 1, in, &at, &g, out));
    int bad = 0;
    for (int64_t i = 0; i < total && bad < 3; i++) {
        double got = ((float *)out[0].data)[i];
        if (!(fabs(got - want[i]) <= 1e-5 + 1e-4 * fabs(want[i]))) {
            bad++;
            fprintf(stderr, "  %s opset %lld axis %d: [%lld] = %g, expected %g\n", op,
                    (long long)opset, axis, (long long)i, got, want[i]);
        }
    }
    CHECK(bad == 0);
    oh_free(g, 1, out);
    free(want);
    mec_tensor_destroy(in[0]);
}

static void test_softmax_family(void) {
    const char *ops[] = {"Softmax", "LogSoftmax", "Hardmax"};
    mec_threads_set(2);
    for (int k = 0; k < 3; k++) {
        for (int axis = -3; axis < 3; axis++) {
            check_sm(ops[k], k, 11, axis, 3, SHAPE(2, 3, 4));
            check_sm(ops[k], k, 13, axis, 3, SHAPE(2, 3, 4));
        }
        check_sm(ops[k], k, 13, -1, 2, SHAPE(64, 1000)); /* threaded, contiguous */
        check_sm(ops[k], k, 13, 1, 3, SHAPE(8, 300, 20)); /* threaded, strided */
        check_sm(ops[k], k, 1, 1, 3, SHAPE(40, 30, 40));
    }
    mec_threads_set(0);
    /* default axes: 1 before 13 (rows of the flattened (2, 12)), -1 after */
    double v[24];
    for (int i = 0; i < 24; i++) v[i] = i % 5;
    mec_tensor *in[1] = {oh_tensor_f64(MEC_F32, 3, SHAPE(2, 3, 4), v)};
    mec_graph *g = NULL;
    mec_tensor out[1];
    CHECK_OK(run_op("Hardmax", 11, 1, in, NULL, &g, out));
    const float *y = out[0].data;
    for (int i = 0; i < 24; i++) CHECK(y[i] == (i == 4 || i == 14 ? 1.0f : 0.0f));
    oh_free(g, 1, out);
    CHECK_OK(run_op("Hardmax", 13, 1, in, NULL, &g, out));
    y = out[0].data;
    for (int i = 0; i < 24; i++) CHECK(y[i] == (i == 3 || i == 4 || i == 9 || i == 14 || i == 19 || i == 23 ? 1.0f : 0.0f));
    oh_free(g, 1, out);
    /* large inputs do not overflow */
    mec_tensor_destroy(in[0]);
    in[0] = oh_tensor_f64(MEC_F32, 1, SHAPE(3), F64S(1000, 1001, 1002));
    expect("Softmax", 13, 1, in, NULL, 3, F64S(0.0900305732, 0.2447284711, 0.6652409558), 1e-6);
    expect("LogSoftmax", 13, 1, in, NULL, 3, F64S(-2.4076059644, -1.4076059644, -0.4076059644), 1e-5);
    attrs bad = {{0}, {0}, {"axis"}, {1}};
    expect_error("Softmax", 13, 1, in, &bad, MEC_ERR_RANGE);
    mec_tensor_destroy(in[0]);
}

static void test_prelu(void) {
    double v[24];
    for (int i = 0; i < 24; i++) v[i] = i - 12;
    /* numpy unidirectional: slope (4) and (3, 1) against (2, 3, 4) */
    mec_tensor *in[2] = {oh_tensor_f64(MEC_F32, 3, SHAPE(2, 3, 4), v),
                         oh_tensor_f64(MEC_F32, 1, SHAPE(4), F64S(1, 2, 3, 4))};
    double want[24];
    for (int i = 0; i < 24; i++) want[i] = v[i] < 0 ? v[i] * (1 + i % 4) : v[i];
    expect("PRelu", 16, 2, in, NULL, 24, want, 0);
    mec_tensor_destroy(in[1]);
    in[1] = oh_tensor_f64(MEC_F32, 2, SHAPE(3, 1), F64S(0.5, 0.25, 0.125));
    const double ch[3] = {0.5, 0.25, 0.125};
    for (int i = 0; i < 24; i++) want[i] = v[i] < 0 ? v[i] * ch[(i / 4) % 3] : v[i];
    expect("PRelu", 9, 2, in, NULL, 24, want, 0);
    /* opset 6 (PyTorch export): a 1-D slope of C values is per channel */
    mec_tensor_destroy(in[1]);
    in[1] = oh_tensor_f64(MEC_F32, 1, SHAPE(3), ch);
    expect("PRelu", 6, 2, in, NULL, 24, want, 0);
    /* ...but from opset 7 (3) does not broadcast to (2, 3, 4) */
    expect_error("PRelu", 9, 2, in, NULL, MEC_ERR_SHAPE);
    oh_destroy_all(in, 2);
    /* a big scalar-slope run across threads */
    mec_threads_set(2);
    in[0] = oh_tensor_f64(MEC_F32, 2, SHAPE(256, 300), NULL);
    in[1] = oh_tensor_f64(MEC_F32, 1, SHAPE(1), F64S(0.5));
    float *x = in[0]->data;
    for (int i = 0; i < 256 * 300; i++) x[i] = (float)(i % 7) - 3.0f;
    mec_graph *g = NULL;
    mec_tensor out[1];
    CHECK_OK(run_op("PRelu", 16, 2, in, NULL, &g, out));
    int bad = 0;
    for (int i = 0; i < 256 * 300; i++)
        bad += ((float *)out[0].data)[i] != (x[i] < 0 ? x[i] * 0.5f : x[i]);
    CHECK(bad == 0);
    oh_free(g, 1, out);
    oh_destroy_all(in, 2);
    mec_threads_set(0);
}

static void test_clip(void) {
    mec_tensor *in[3] = {oh_tensor_f64(MEC_F32, 1, SHAPE(5), F64S(-3, -1, 0, 1, 3)),
                         oh_tensor_f64(MEC_F32, 0, NULL, F64S(-1.5)),
                         oh_tensor_f64(MEC_F32, 0, NULL, F64S(2))};
    expect("Clip", 13, 3, in, NULL, 5, F64S(-1.5, -1, 0, 1, 2), 0);
    /* min only, max only (omitted inputs are NULL) */
    mec_tensor *only_max[3] = {in[0], NULL, in[2]};
    expect("Clip", 13, 3, only_max, NULL, 5, F64S(-3, -1, 0, 1, 2), 0);
    expect("Clip", 11, 2, in, NULL, 5, F64S(-1.5, -1, 0, 1, 3), 0);
    /* min > max: everything becomes max */
    mec_tensor *swapped[3] = {in[0], in[2], in[1]};
    expect("Clip", 13, 3, swapped, NULL, 5, F64S(-1.5, -1.5, -1.5, -1.5, -1.5), 0);
    /* opset 6: attributes */
    attrs a = {{"min", "max"}, {-0.5f, 0.5f}, {0}, {0}};
    expect("Clip", 6, 1, in, &a, 5, F64S(-0.5, -0.5, 0, 0.5, 0.5), 0);
    expect("Clip", 6, 1, in, NULL, 5, F64S(-3, -1, 0, 1, 3), 0);
    /* bounds must be scalars of the input's dtype */
    mec_tensor *vec[3] = {in[0], in[0], NULL};
    expect_error("Clip", 13, 2, vec, NULL, MEC_ERR_SHAPE);
    oh_destroy_all(in, 3);
    /* int8 (opset 12+), not before */
    in[0] = oh_tensor_f64(MEC_I8, 1, SHAPE(4), F64S(-128, -5, 5, 127));
    in[1] = oh_tensor_f64(MEC_I8, 0, NULL, F64S(-10));
    in[2] = oh_tensor_f64(MEC_F32, 0, NULL, F64S(1));
    expect("Clip", 13, 2, in, NULL, 4, F64S(-10, -5, 5, 127), 0);
    expect_error("Clip", 11, 2, in, NULL, MEC_ERR_UNSUPPORTED);
    expect_error("Clip", 13, 3, in, NULL, MEC_ERR_DTYPE);
    oh_destroy_all(in, 3);
}

int main(void) {
    RUN(test_pointwise);
    RUN(test_tanh_accuracy);
    RUN(test_softmax_family);
    RUN(test_prelu);
    RUN(test_clip);
    return TEST_SUMMARY();
}
