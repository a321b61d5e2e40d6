/* elementwise ops: hand-computed values for the integer and rounding rules,
 * the broadcasting fast paths (threaded, coalesced) against a naive index
 * computation, legacy (opset < 7) broadcasting, and errors. */
#include "mec/ops.h"
#include "op_harness.h"
#include "test.h"

#include <stdint.h>

/* Runs op on the inputs; checks dtype, numel and values (tolerance tol).
 * n < 0: the output is longer and only its first -n values are checked. */
static void expect(const char *op, int64_t opset, int n_in, mec_tensor **in, mec_dtype want_dt,
                   int64_t n, const double *want, double tol) {
    bool prefix = n < 0;
    if (prefix) n = -n;
    mec_graph *g;
    int node;
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, op, opset, n_in, 1));
    mec_status st = oh_run(g, node, opset, "ref", n_in, in, 1, out);
    CHECK_OK(st);
    if (!st) {
        CHECK(out[0].dtype == want_dt);
        bool size_ok = prefix ? mec_tensor_numel(&out[0]) >= n : mec_tensor_numel(&out[0]) == n;
        CHECK(size_ok);
        if (out[0].dtype == want_dt && size_ok)
            for (int64_t i = 0; i < n; i++) {
                double got = mec_tensor_get_f64(&out[0], i);
                if (isnan(want[i])) CHECK(isnan(got));
                else CHECK_NEAR(got, want[i], tol);
            }
    }
    oh_free(g, 1, out);
}

/* Runs op expecting status want_st and a message naming the node. */
static void expect_error(const char *op, int64_t opset, int n_in, mec_tensor **in,
                         const char *attr, int64_t attr_val, mec_status want_st) {
    mec_graph *g;
    int node;
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, op, opset, n_in, 1));
    if (attr) mec_node_set_int(g, node, attr, attr_val);
    mec_status st = oh_run(g, node, opset, "ref", n_in, in, 1, out);
    CHECK(st == want_st);
    if (st != want_st) fprintf(stderr, "  got %d: %s\n", st, mec_last_error());
    CHECK(strstr(mec_last_error(), "node0") != NULL);
    oh_free(g, 1, out);
}

/* ------------------------------------------------------------------ */

/* Random broadcast pairs, big enough to split across threads, against a
 * plain per-element index computation. */
static void test_broadcast_random(void) {
    static const int64_t shapes[][2][4] = {
        {{4, 1, 64, 33}, {1, 16, 1, 33}},   /* both sides broadcast */
        {{8, 128, 64, 1}, {1, 1, 64, 1}},   /* bias over a middle dim */
        {{2, 3, 4, 5}, {1, 1, 1, 5}},       /* trailing bias */
        {{64, 1, 1, 300}, {1, 1, 1, 1}},    /* scalar */
        {{1, 1, 1, 1}, {40, 1, 30, 40}},    /* scalar on the left */
        {{3, 40, 50, 7}, {3, 40, 50, 7}},   /* same shape */
        {{1, 200, 1, 9}, {30, 1, 7, 1}},    /* outer product */
    };
    mec_threads_set(2);
    for (unsigned c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        mec_tensor *a = oh_tensor_f64(MEC_F32, 4, shapes[c][0], NULL),
                   *b = oh_tensor_f64(MEC_F32, 4, shapes[c][1], NULL);
        int64_t na = mec_tensor_numel(a), nb = mec_tensor_numel(b);
        for (int64_t i = 0; i < na; i++) ((float *)a->data)[i] = (float)((i * 7919) % 1000) / 100.0f;
        for (int64_t i = 0; i < nb; i++) ((float *)b->data)[i] = (float)((i * 104729) % 997) / 50.0f + 0.5f;
        const char *ops[] = {"Add", "Sub", "Mul", "Div"};
        for (int o = 0; o < 4; o++) {
            mec_graph *g;
            int node;
            mec_tensor *in[2] = {a, b}, out[1];
            CHECK_OK(oh_node(&g, &node, ops[o], 14, 2, 1));
            CHECK_OK(oh_run(g, node, 14, "ref", 2, in, 1, out));
            int bad = 0;
            int64_t os[4];
            for (int d = 0; d < 4; d++) os[d] = a->shape[d] > b->shape[d] ? a->shape[d] : b->shape[d];
            for (int d = 0; d < 4; d++) CHECK(out[0].shape[d] == os[d]);
            for (int64_t i = 0, n = mec_tensor_numel(&out[0]); i < n && bad < 3; i++) {
                int64_t r = i, ia = 0, ib = 0, sa = 1, sb = 1;
                for (int d = 3; d >= 0; d--) {
                    int64_t k = r % os[d];
                    r /= os[d];
                    ia += (a->shape[d] == 1 ? 0 : k) * sa;
                    ib += (b->shape[d] == 1 ? 0 : k) * sb;
                    sa *= a->shape[d];
                    sb *= b->shape[d];
                }
                float x = ((float *)a->data)[ia], y = ((float *)b->data)[ib];
                float want = o == 0 ? x + y : o == 1 ? x - y : o == 2 ? x * y : x / y;
                if (((float *)out[0].data)[i] != want) {
                    bad++;
                    fprintf(stderr, "  case %u %s: element %lld is %g, expected %g\n", c, ops[o],
                            (long long)i, ((float *)out[0].data)[i], want);
                }
            }
            CHECK(bad == 0);
            oh_free(g, 1, out);
        }
        mec_tensor_destroy(a);
        mec_tensor_destroy(b);
    }
    mec_threads_set(0);
}

static void test_int_arith(void) {
    /* Div truncates toward zero; x/0 gives 0; INT32_MIN / -1 wraps */
    mec_tensor *in[2] = {oh_tensor_f64(MEC_I32, 1, SHAPE(5), F64S(-7, 7, -7, 5, -2147483648.0)),
                         oh_tensor_f64(MEC_I32, 1, SHAPE(5), F64S(2, -2, 0, -1, -1))};
    expect("Div", 14, 2, in, MEC_I32, 5, F64S(-3, -3, 0, -5, -2147483648.0), 0);
    /* uint8 wraps */
    oh_destroy_all(in, 2);
    in[0] = oh_tensor_f64(MEC_U8, 1, SHAPE(3), F64S(250, 3, 16));
    in[1] = oh_tensor_f64(MEC_U8, 1, SHAPE(3), F64S(10, 5, 16));
    expect("Add", 14, 2, in, MEC_U8, 3, F64S(4, 8, 32), 0);
    expect("Sub", 14, 2, in, MEC_U8, 3, F64S(240, 254, 0), 0);
    expect("Mul", 14, 2, in, MEC_U8, 3, F64S(196, 15, 0), 0);
    oh_destroy_all(in, 2);
    /* int64 keeps all 64 bits */
    in[0] = oh_tensor_f64(MEC_I64, 1, SHAPE(1), NULL);
    in[1] = oh_tensor_f64(MEC_I64, 1, SHAPE(1), NULL);
    ((int64_t *)in[0]->data)[0] = ((int64_t)1 << 60) + 1;
    ((int64_t *)in[1]->data)[0] = 3;
    {
        mec_graph *g;
        int node;
        mec_tensor out[1];
        CHECK_OK(oh_node(&g, &node, "Mul", 14, 2, 1));
        CHECK_OK(oh_run(g, node, 14, "ref", 2, in, 1, out));
        CHECK(((int64_t *)out[0].data)[0] == (int64_t)(((uint64_t)1 << 60) * 3 + 3));
        oh_free(g, 1, out);
    }
    oh_destroy_all(in, 2);
}

static void test_mod(void) {
    mec_tensor *in[2] = {oh_tensor_f64(MEC_I32, 1, SHAPE(6), F64S(-4, 7, 5, -3, 4, -7)),
                         oh_tensor_f64(MEC_I32, 1, SHAPE(6), F64S(3, -3, 0, 2, -1, -3))};
    /* sign of the divisor (Python) */
    expect("Mod", 13, 2, in, MEC_I32, 6, F64S(2, -2, 0, 1, 0, -1), 0);
    /* fmod=1: sign of the dividend (C) */
    {
        mec_graph *g;
        int node;
        mec_tensor out[1];
        CHECK_OK(oh_node(&g, &node, "Mod", 13, 2, 1));
        mec_node_set_int(g, node, "fmod", 1);
        CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, out));
        const double want[] = {-1, 1, 0, -1, 0, -1};
        for (int i = 0; i < 6; i++) CHECK(((int32_t *)out[0].data)[i] == (int32_t)want[i]);
        oh_free(g, 1, out);
    }
    oh_destroy_all(in, 2);
    /* floats need fmod=1 */
    in[0] = oh_tensor_f64(MEC_F32, 1, SHAPE(2), F64S(-4.5, 7));
    in[1] = oh_tensor_f64(MEC_F32, 1, SHAPE(2), F64S(2, -3));
    expect_error("Mod", 13, 2, in, NULL, 0, MEC_ERR_INVALID_ARG);
    {
        mec_graph *g;
        int node;
        mec_tensor out[1];
        CHECK_OK(oh_node(&g, &node, "Mod", 13, 2, 1));
        mec_node_set_int(g, node, "fmod", 1);
        CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, out));
        CHECK_NEAR(((float *)out[0].data)[0], -0.5, 0);
        CHECK_NEAR(((float *)out[0].data)[1], 1.0, 0);
        oh_free(g, 1, out);
    }
    oh_destroy_all(in, 2);
}

static void test_pow(void) {
    /* float base, int exponent (opset 12+) */
    mec_tensor *in[2] = {oh_tensor_f64(MEC_F32, 1, SHAPE(3), F64S(2, 3, -2)),
                         oh_tensor_f64(MEC_I64, 1, SHAPE(3), F64S(3, -1, 2))};
    expect("Pow", 15, 2, in, MEC_F32, 3, F64S(8, 1.0 / 3, 4), 1e-6);
    oh_destroy_all(in, 2);
    /* int base, int exponent: exact, negative exponents truncate */
    in[0] = oh_tensor_f64(MEC_I64, 1, SHAPE(4), F64S(2, 3, 2, -1));
    in[1] = oh_tensor_f64(MEC_I64, 1, SHAPE(4), F64S(62, 2, -1, -3));
    {
        mec_graph *g;
        int node;
        mec_tensor out[1];
        CHECK_OK(oh_node(&g, &node, "Pow", 15, 2, 1));
        CHECK_OK(oh_run(g, node, 15, "ref", 2, in, 1, out));
        const int64_t *y = out[0].data;
        CHECK(out[0].dtype == MEC_I64);
        CHECK(y[0] == (int64_t)1 << 62 && y[1] == 9 && y[2] == 0 && y[3] == -1);
        oh_free(g, 1, out);
    }
    oh_destroy_all(in, 2);
    /* int base, float exponent */
    in[0] = oh_tensor_f64(MEC_I32, 1, SHAPE(2), F64S(4, 9));
    in[1] = oh_tensor_f64(MEC_F32, 1, SHAPE(2), F64S(0.5, 1.5));
    expect("Pow", 15, 2, in, MEC_I32, 2, F64S(2, 27), 0);
    oh_destroy_all(in, 2);
    /* x^2 and x^0.5 shortcuts with a scalar exponent */
    in[0] = oh_tensor_f64(MEC_F32, 2, SHAPE(2, 2), F64S(-3, 0.5, 4, 9));
    in[1] = oh_tensor_f64(MEC_F32, 0, NULL, F64S(2));
    expect("Pow", 13, 2, in, MEC_F32, 4, F64S(9, 0.25, 16, 81), 0);
    mec_tensor_set_f64(in[1], 0, 0.5);
    expect("Pow", 13, 2, in, MEC_F32, 4, F64S(NAN, 0.70710678, 2, 3), 1e-6);
    oh_destroy_all(in, 2);
}

static void test_compare_where(void) {
    mec_tensor *in[3] = {oh_tensor_f64(MEC_F32, 2, SHAPE(2, 1), F64S(1, 3)),
                         oh_tensor_f64(MEC_F32, 1, SHAPE(3), F64S(0, 1, 3)), NULL};
    expect("Less", 13, 2, in, MEC_BOOL, 6, F64S(0, 0, 1, 0, 0, 0), 0);
    expect("Greater", 13, 2, in, MEC_BOOL, 6, F64S(1, 0, 0, 1, 1, 0), 0);
    expect("Equal", 13, 2, in, MEC_BOOL, 6, F64S(0, 1, 0, 0, 0, 1), 0);
    expect("LessOrEqual", 16, 2, in, MEC_BOOL, 6, F64S(0, 1, 1, 0, 0, 1), 0);
    expect("GreaterOrEqual", 16, 2, in, MEC_BOOL, 6, F64S(1, 1, 0, 1, 1, 1), 0);
    oh_destroy_all(in, 2);
    /* Where: cond (2,1), x (1,3), y scalar -> (2,3) */
    in[0] = oh_tensor_f64(MEC_BOOL, 2, SHAPE(2, 1), F64S(1, 0));
    in[1] = oh_tensor_f64(MEC_I64, 2, SHAPE(1, 3), F64S(10, 20, 30));
    in[2] = oh_tensor_f64(MEC_I64, 0, NULL, F64S(-1));
    expect("Where", 16, 3, in, MEC_I64, 6, F64S(10, 20, 30, -1, -1, -1), 0);
    /* condition must be bool */
    mec_tensor *bad[3] = {in[1], in[1], in[2]};
    expect_error("Where", 16, 3, bad, NULL, 0, MEC_ERR_DTYPE);
    oh_destroy_all(in, 3);
    /* logic with broadcasting */
    in[0] = oh_tensor_f64(MEC_BOOL, 2, SHAPE(2, 2), F64S(0, 0, 1, 1));
    in[1] = oh_tensor_f64(MEC_BOOL, 1, SHAPE(2), F64S(0, 1));
    expect("And", 7, 2, in, MEC_BOOL, 4, F64S(0, 0, 0, 1), 0);
    expect("Or", 7, 2, in, MEC_BOOL, 4, F64S(0, 1, 1, 1), 0);
    expect("Xor", 7, 2, in, MEC_BOOL, 4, F64S(0, 1, 1, 0), 0);
    expect("Not", 1, 1, in, MEC_BOOL, 4, F64S(1, 1, 0, 0), 0);
    oh_destroy_all(in, 2);
}

static void test_variadic(void) {
    mec_tensor *in[3] = {oh_tensor_f64(MEC_F32, 1, SHAPE(3), F64S(3, 2, 1)),
                         oh_tensor_f64(MEC_F32, 2, SHAPE(2, 1), F64S(1, 5)),
                         oh_tensor_f64(MEC_F32, 1, SHAPE(3), F64S(2, 4, 0))};
    expect("Max", 13, 3, in, MEC_F32, 6, F64S(3, 4, 1, 5, 5, 5), 0);
    expect("Min", 13, 3, in, MEC_F32, 6, F64S(1, 1, 0, 2, 2, 0), 0);
    expect("Sum", 13, 3, in, MEC_F32, 6, F64S(6, 7, 2, 10, 11, 6), 0);
    expect("Mean", 13, 3, in, MEC_F32, 6, F64S(2, 7.0 / 3, 2.0 / 3, 10.0 / 3, 11.0 / 3, 2), 1e-6);
    expect("Sum", 13, 1, in, MEC_F32, 3, F64S(3, 2, 1), 0);
    oh_destroy_all(in, 3);
    /* integer Max, NaN propagation in float Max */
    in[0] = oh_tensor_f64(MEC_U64, 1, SHAPE(2), F64S(1, 18446744073709549568.0));
    in[1] = oh_tensor_f64(MEC_U64, 1, SHAPE(2), F64S(2, 5));
    expect("Max", 13, 2, in, MEC_U64, 2, F64S(2, 18446744073709549568.0), 0);
    oh_destroy_all(in, 2);
    in[0] = oh_tensor_f64(MEC_F32, 1, SHAPE(2), F64S(NAN, 1));
    in[1] = oh_tensor_f64(MEC_F32, 1, SHAPE(2), F64S(1, NAN));
    expect("Max", 13, 2, in, MEC_F32, 2, F64S(NAN, NAN), 0);
    oh_destroy_all(in, 2);
    /* Sum of integers is not in the spec */
    in[0] = oh_tensor_f64(MEC_I32, 1, SHAPE(2), NULL);
    expect_error("Sum", 13, 1, in, NULL, 0, MEC_ERR_UNSUPPORTED);
    oh_destroy_all(in, 1);
}

static void test_unary(void) {
    mec_tensor *in[1] = {
        oh_tensor_f64(MEC_F32, 1, SHAPE(8), F64S(0.5, 1.5, 2.5, -0.5, -1.5, 2.4, -2.6, 0))};
    expect("Round", 11, 1, in, MEC_F32, 8, F64S(0, 2, 2, -0.0, -2, 2, -3, 0), 0);
    expect("Floor", 13, 1, in, MEC_F32, 8, F64S(0, 1, 2, -1, -2, 2, -3, 0), 0);
    expect("Ceil", 13, 1, in, MEC_F32, 8, F64S(1, 2, 3, -0.0, -1, 3, -2, 0), 0);
    expect("Sign", 13, 1, in, MEC_F32, 8, F64S(1, 1, 1, -1, -1, 1, -1, 0), 0);
    expect("Abs", 13, 1, in, MEC_F32, 8, F64S(0.5, 1.5, 2.5, 0.5, 1.5, 2.4, 2.6, 0), 1e-6);
    expect("Neg", 13, 1, in, MEC_F32, 8, F64S(-0.5, -1.5, -2.5, 0.5, 1.5, -2.4, 2.6, 0), 1e-6);
    /* erf, exp, log, sqrt, reciprocal and the trig family (values from numpy/scipy) */
    expect("Erf", 13, 1, in, MEC_F32, 8,
           F64S(0.5204998778, 0.9661051465, 0.9995930480, -0.5204998778, -0.9661051465,
                0.9993114861, -0.9997639655, 0), 1e-6);
    expect("Exp", 13, 1, in, MEC_F32, -3, F64S(1.6487212707, 4.4816890703, 12.182493961), 1e-5);
    expect("Reciprocal", 13, 1, in, MEC_F32, -3, F64S(2, 0.6666667, 0.4), 1e-6);
    expect("Sqrt", 13, 1, in, MEC_F32, -4, F64S(0.7071067812, 1.2247448714, 1.5811388301, NAN), 1e-6);
    expect("Log", 13, 1, in, MEC_F32, -3, F64S(-0.6931471806, 0.4054651081, 0.9162907319), 1e-6);
    expect("Atan", 7, 1, in, MEC_F32, -2, F64S(0.4636476090, 0.9827937232), 1e-6);
    expect("Asinh", 9, 1, in, MEC_F32, -2, F64S(0.4812118251, 1.1947632173), 1e-6);
    expect("Cosh", 9, 1, in, MEC_F32, -2, F64S(1.1276259652, 2.3524096152), 1e-6);
    mec_tensor_destroy(in[0]);
    in[0] = oh_tensor_f64(MEC_F32, 1, SHAPE(4), F64S(INFINITY, -INFINITY, NAN, 1));
    expect("IsNaN", 13, 1, in, MEC_BOOL, 4, F64S(0, 0, 1, 0), 0);
    expect("IsInf", 10, 1, in, MEC_BOOL, 4, F64S(1, 1, 0, 0), 0);
    {
        mec_graph *g;
        int node;
        mec_tensor out[1];
        CHECK_OK(oh_node(&g, &node, "IsInf", 10, 1, 1));
        mec_node_set_int(g, node, "detect_positive", 0);
        CHECK_OK(oh_run(g, node, 10, "ref", 1, in, 1, out));
        const uint8_t *b = out[0].data;
        CHECK(b[0] == 0 && b[1] == 1 && b[2] == 0 && b[3] == 0);
        oh_free(g, 1, out);
    }
    mec_tensor_destroy(in[0]);
    /* integer Abs/Neg wrap at the minimum instead of overflowing */
    in[0] = oh_tensor_f64(MEC_I8, 1, SHAPE(3), F64S(-128, -5, 7));
    expect("Abs", 13, 1, in, MEC_I8, 3, F64S(-128, 5, 7), 0);
    expect("Neg", 13, 1, in, MEC_I8, 3, F64S(-128, 5, -7), 0);
    expect("Sign", 13, 1, in, MEC_I8, 3, F64S(-1, -1, 1), 0);
    expect_error("Sqrt", 13, 1, in, NULL, 0, MEC_ERR_UNSUPPORTED);
    mec_tensor_destroy(in[0]);
    /* float16 goes through float */
    in[0] = oh_tensor_f64(MEC_F16, 1, SHAPE(3), F64S(0.25, 4, -1));
    expect("Sqrt", 13, 1, in, MEC_F16, -2, F64S(0.5, 2), 0);
    mec_tensor_destroy(in[0]);
}

/* The float Erf is a rational approximation: within 1e-6 of libm's double
 * erf everywhere (the clamp at |x| = 4 included), exact sign and zero. */
static void test_erf_accuracy(void) {
    int64_t n = 24001;
    mec_tensor *in[1] = {oh_tensor_f64(MEC_F32, 1, &n, NULL)};
    float *x = in[0]->data;
    for (int64_t i = 0; i < n; i++) x[i] = (float)(i - 12000) / 2000.0f; /* [-6, 6] */
    mec_graph *g;
    int node;
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, "Erf", 13, 1, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 1, in, 1, out));
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs(((float *)out[0].data)[i] - erf((double)x[i]));
        worst = e > worst ? e : worst;
    }
    CHECK(worst < 1e-6);
    CHECK(((float *)out[0].data)[12000] == 0.0f);
    oh_free(g, 1, out);
    mec_tensor_destroy(in[0]);
}

static void test_bitshift(void) {
    mec_tensor *in[2] = {oh_tensor_f64(MEC_U16, 1, SHAPE(3), F64S(1, 65535, 256)),
                         oh_tensor_f64(MEC_U16, 1, SHAPE(3), F64S(15, 15, 16))};
    mec_graph *g;
    int node;
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, "BitShift", 11, 2, 1));
    mec_node_set_string(g, node, "direction", "LEFT");
    CHECK_OK(oh_run(g, node, 11, "ref", 2, in, 1, out));
    const uint16_t *y = out[0].data;
    CHECK(y[0] == 32768 && y[1] == 32768 && y[2] == 0);
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "BitShift", 11, 2, 1));
    mec_node_set_string(g, node, "direction", "RIGHT");
    CHECK_OK(oh_run(g, node, 11, "ref", 2, in, 1, out));
    y = out[0].data;
    CHECK(y[0] == 0 && y[1] == 1 && y[2] == 0);
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "BitShift", 11, 2, 1));
    mec_node_set_string(g, node, "direction", "UP");
    CHECK(oh_run(g, node, 11, "ref", 2, in, 1, out) == MEC_ERR_INVALID_ARG);
    oh_free(g, 1, out);
    oh_destroy_all(in, 2);
}

/* Opsets before 7: broadcast=1 and axis place B inside A. */
static void test_legacy_broadcast(void) {
    double av[24];
    for (int i = 0; i < 24; i++) av[i] = i;
    mec_tensor *in[2] = {oh_tensor_f64(MEC_F32, 3, SHAPE(2, 3, 4), av),
                         oh_tensor_f64(MEC_F32, 1, SHAPE(3), F64S(100, 200, 300))};
    mec_graph *g;
    int node;
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, "Add", 6, 2, 1));
    mec_node_set_int(g, node, "broadcast", 1);
    mec_node_set_int(g, node, "axis", 1);
    CHECK_OK(oh_run(g, node, 6, "ref", 2, in, 1, out));
    const float *y = out[0].data;
    CHECK(out[0].ndim == 3 && out[0].shape[1] == 3);
    CHECK(y[0] == 100 && y[4] == 204 && y[11] == 311 && y[12] == 112 && y[23] == 323);
    oh_free(g, 1, out);
    /* without broadcast=1 the shapes must match */
    expect_error("Mul", 6, 2, in, NULL, 0, MEC_ERR_SHAPE);
    /* default axis aligns the trailing dims: (3) against (2,3,4) does not fit */
    expect_error("Mul", 6, 2, in, "broadcast", 1, MEC_ERR_SHAPE);
    oh_destroy_all(in, 2);
}

static void test_errors(void) {
    mec_tensor *in[2] = {oh_tensor_f64(MEC_F32, 2, SHAPE(2, 3), NULL),
                         oh_tensor_f64(MEC_F32, 1, SHAPE(4), NULL)};
    expect_error("Add", 14, 2, in, NULL, 0, MEC_ERR_SHAPE);
    CHECK(strstr(mec_last_error(), "(2, 3)") != NULL);
    mec_tensor_destroy(in[1]);
    in[1] = oh_tensor_f64(MEC_I32, 1, SHAPE(3), NULL);
    expect_error("Add", 14, 2, in, NULL, 0, MEC_ERR_DTYPE);
    expect_error("And", 7, 2, in, NULL, 0, MEC_ERR_DTYPE);
    oh_destroy_all(in, 2);
    in[0] = oh_tensor_f64(MEC_F32, 1, SHAPE(2), NULL);
    expect_error("Add", 14, 1, in, NULL, 0, MEC_ERR_GRAPH);
    oh_destroy_all(in, 1);
}

int main(void) {
    RUN(test_broadcast_random);
    RUN(test_int_arith);
    RUN(test_mod);
    RUN(test_pow);
    RUN(test_compare_where);
    RUN(test_variadic);
    RUN(test_unary);
    RUN(test_erf_accuracy);
    RUN(test_bitshift);
    RUN(test_legacy_broadcast);
    RUN(test_errors);
    return TEST_SUMMARY();
}
