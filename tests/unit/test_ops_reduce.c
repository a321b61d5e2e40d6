/* reduce ops: every Reduce* over many axis sets (with and without keepdims,
 * threaded sizes included) against a naive per-element accumulation;
 * ReduceSum-13's axes input and noop_with_empty_axes; integer rules;
 * ArgMax/ArgMin with select_last_index; errors. */
#include "mec/ops.h"
#include "op_harness.h"
#include "test.h"

#include <stdint.h>

static const char *const kinds[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
                                    "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
                                    "ReduceLogSumExp", "ReduceSumSquare"};

/* Naive reduction in double: each input element folds into the output
 * element found by zeroing its reduced coordinates. */
static void naive_reduce(int kind, const mec_tensor *x, const bool *red, double *y, int64_t n_out) {
    int64_t total = mec_tensor_numel(x), count = 1;
    for (int d = 0; d < x->ndim; d++) if (red[d]) count *= x->shape[d];
    double init = kind == 2 ? -INFINITY : kind == 3 ? INFINITY : kind == 4 ? 1 : 0;
    for (int64_t o = 0; o < n_out; o++) y[o] = init;
    double *mx = calloc((size_t)n_out, sizeof(double));
    for (int64_t o = 0; o < n_out; o++) mx[o] = -INFINITY;
    for (int pass = 0; pass < 2; pass++)
        for (int64_t i = 0; i < total; i++) {
            int64_t r = i, o = 0, mul = 1;
            for (int d = x->ndim - 1; d >= 0; d--) {
                int64_t k = r % x->shape[d];
                r /= x->shape[d];
                if (!red[d]) {
                    o += k * mul;
                    mul *= x->shape[d];
                }
            }
            double v = mec_tensor_get_f64(x, i);
            if (kind == 8 && pass == 0) mx[o] = v > mx[o] ? v : mx[o];
            if (pass == 0 && kind == 8) continue;
            if (pass == 1 && kind != 8) continue;
            switch (kind) {
            case 0: case 1: case 7: y[o] += v; break;
            case 2: y[o] = v > y[o] ? v : y[o]; break;
            case 3: y[o] = v < y[o] ? v : y[o]; break;
            case 4: y[o] *= v; break;
            case 5: y[o] += fabs(v); break;
            case 6: case 9: y[o] += v * v; break;
            case 8: y[o] += exp(v - mx[o]); break;
            }
        }
    for (int64_t o = 0; o < n_out; o++) {
        if (kind == 1) y[o] /= (double)count;
        if (kind == 6) y[o] = sqrt(y[o]);
        if (kind == 7) y[o] = log(y[o]);
        if (kind == 8) y[o] = log(y[o]) + mx[o];
    }
    free(mx);
}

static void check_reduce(int kind, int nd, const int64_t *shape, int n_axes, const int64_t *axes,
                         int keepdims) {
    mec_tensor *in[1] = {oh_tensor_f64(MEC_F32, nd, shape, NULL)};
    int64_t total = mec_tensor_numel(in[0]);
    float *x = in[0]->data;
    for (int64_t i = 0; i < total; i++) x[i] = 0.5f + (float)((i * 7919) % 113) / 113.0f;
    bool red[8] = {false};
    for (int d = 0; d < nd; d++) red[d] = n_axes == 0;
    for (int i = 0; i < n_axes; i++) red[axes[i] < 0 ? axes[i] + nd : axes[i]] = true;
    int64_t n_out = 1, want_shape[8];
    int want_nd = 0;
    for (int d = 0; d < nd; d++) {
        if (!red[d]) n_out *= shape[d], want_shape[want_nd++] = shape[d];
        else if (keepdims) want_shape[want_nd++] = 1;
    }
    double *want = malloc(sizeof(double) * (size_t)n_out);
    naive_reduce(kind, in[0], red, want, n_out);

    mec_graph *g;
    int node;
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, kinds[kind], 11, 1, 1));
    if (n_axes) mec_node_set_ints(g, node, "axes", n_axes, axes);
    mec_node_set_int(g, node, "keepdims", keepdims);
    CHECK_OK(oh_run(g, node, 11, "ref", 1, in, 1, out));
    CHECK(out[0].ndim == want_nd);
    for (int d = 0; d < want_nd && d < out[0].ndim; d++) CHECK(out[0].shape[d] == want_shape[d]);
    int bad = 0;
    if (mec_tensor_numel(&out[0]) == n_out)
        for (int64_t o = 0; o < n_out && bad < 3; o++) {
            double got = ((float *)out[0].data)[o];
            if (!(fabs(got - want[o]) <= 1e-5 + 2e-5 * fabs(want[o]))) {
                bad++;
                fprintf(stderr, "  %s axes(%d) keepdims %d: [%lld] = %.9g, expected %.9g\n",
                        kinds[kind], n_axes, keepdims, (long long)o, got, want[o]);
            }
        }
    else
        bad = 1;
    CHECK(bad == 0);
    oh_free(g, 1, out);
    free(want);
    mec_tensor_destroy(in[0]);
}

static void test_reduce_all_kinds(void) {
    static const int64_t axes_sets[][3] = {{0}, {1}, {3}, {-1}, {1, 2}, {0, 3}, {0, 2}, {3, 1, 0}, {0}};
    static const int n_axes[] = {1, 1, 1, 1, 2, 2, 2, 3, 0};
    for (int k = 0; k < 10; k++)
        for (unsigned a = 0; a < sizeof n_axes / sizeof n_axes[0]; a++)
            for (int keep = 0; keep < 2; keep++)
                check_reduce(k, 4, SHAPE(3, 4, 5, 6), n_axes[a], axes_sets[a], keep);
    /* sizes that split across threads; size-1 dims in between */
    mec_threads_set(2);
    for (int k = 0; k < 10; k++) {
        check_reduce(k, 3, SHAPE(64, 128, 20), 1, (const int64_t[]){1}, 1);
        check_reduce(k, 3, SHAPE(64, 128, 20), 2, (const int64_t[]){0, 2}, 0);
        check_reduce(k, 4, SHAPE(256, 1, 768, 1), 1, (const int64_t[]){-2}, 1);
    }
    mec_threads_set(0);
}

static void test_reduce_sum_axes_input(void) {
    double v[12];
    for (int i = 0; i < 12; i++) v[i] = i + 1;
    mec_tensor *in[2] = {oh_tensor_f64(MEC_F32, 3, SHAPE(3, 2, 2), v),
                         oh_tensor_f64(MEC_I64, 1, SHAPE(1), F64S(-2))};
    mec_graph *g;
    int node;
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, "ReduceSum", 13, 2, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, out));
    CHECK(out[0].ndim == 3 && out[0].shape[1] == 1);
    const float *y = out[0].data;
    CHECK(y[0] == 4 && y[1] == 6 && y[2] == 12 && y[3] == 14 && y[4] == 20 && y[5] == 22);
    oh_free(g, 1, out);
    CHECK(mec_op_find("", "ReduceSum", 13, "ref")->value_inputs == 2u);

    /* empty axes: all axes, or a copy with noop_with_empty_axes=1 */
    mec_tensor_destroy(in[1]);
    in[1] = oh_tensor_f64(MEC_I64, 1, SHAPE(0), NULL);
    CHECK_OK(oh_node(&g, &node, "ReduceSum", 13, 2, 1));
    mec_node_set_int(g, node, "keepdims", 0);
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, out));
    CHECK(out[0].ndim == 0 && ((float *)out[0].data)[0] == 78);
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "ReduceSum", 13, 2, 1));
    mec_node_set_int(g, node, "noop_with_empty_axes", 1);
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, out));
    CHECK(out[0].ndim == 3 && mec_tensor_numel(&out[0]) == 12 && ((float *)out[0].data)[11] == 12);
    oh_free(g, 1, out);
    /* omitted axes input */
    CHECK_OK(oh_node(&g, &node, "ReduceSum", 13, 1, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 1, in, 1, out));
    CHECK(out[0].ndim == 3 && out[0].shape[0] == 1 && ((float *)out[0].data)[0] == 78);
    oh_free(g, 1, out);

    /* load-time inference without the axes' values defers */
    const mec_kernel *k = mec_op_find("", "ReduceSum", 13, "ref");
    mec_tensor shape_only;
    mec_tensor_init(&shape_only, MEC_I64, 1, SHAPE(1));
    CHECK_OK(oh_node(&g, &node, "ReduceSum", 13, 2, 1));
    mec_tensor o0;
    memset(&o0, 0, sizeof o0);
    mec_tensor *outp[1] = {&o0};
    const mec_tensor *ins[2] = {in[0], &shape_only};
    mec_op_ctx ctx = {0};
    ctx.graph = g;
    ctx.node_id = node;
    ctx.node = &g->nodes[node];
    ctx.opset = 13;
    ctx.n_in = 2;
    ctx.in = ins;
    ctx.n_out = 1;
    ctx.out = outp;
    CHECK(k->infer(&ctx) == MEC_ERR_DEFER);
    mec_graph_destroy(g);

    /* out-of-range and repeated axes */
    mec_tensor_destroy(in[1]);
    in[1] = oh_tensor_f64(MEC_I64, 1, SHAPE(1), F64S(3));
    CHECK_OK(oh_node(&g, &node, "ReduceSum", 13, 2, 1));
    CHECK(oh_run(g, node, 13, "ref", 2, in, 1, out) == MEC_ERR_RANGE);
    CHECK(strstr(mec_last_error(), "node0") && strstr(mec_last_error(), "axis 3"));
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "ReduceMean", 13, 1, 1));
    mec_node_set_ints(g, node, "axes", 2, SHAPE(1, -2));
    CHECK(oh_run(g, node, 13, "ref", 1, in, 1, out) == MEC_ERR_INVALID_ARG);
    oh_free(g, 1, out);
    for (int i = 0; i < 2; i++) mec_tensor_destroy(in[i]);
}

static void test_reduce_ints(void) {
    mec_tensor *in[1] = {oh_tensor_f64(MEC_I32, 2, SHAPE(2, 3), F64S(-7, 2, 1, 100, -100, 4))};
    const char *ops[] = {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceSumSquare"};
    const int32_t want[][2] = {{-1, 1}, {2, 100}, {-7, -100}, {-14, -40000}, {10, 204}, {54, 20016}};
    for (int k = 0; k < 6; k++) {
        mec_graph *g;
        int node;
        mec_tensor out[1];
        CHECK_OK(oh_node(&g, &node, ops[k], 13, 1, 1));
        mec_node_set_ints(g, node, "axes", 1, SHAPE(1));
        mec_node_set_int(g, node, "keepdims", 0);
        CHECK_OK(oh_run(g, node, 13, "ref", 1, in, 1, out));
        CHECK(out[0].dtype == MEC_I32 && out[0].ndim == 1);
        const int32_t *y = out[0].data;
        if (y[0] != want[k][0] || y[1] != want[k][1])
            fprintf(stderr, "  %s: got %d %d\n", ops[k], y[0], y[1]);
        CHECK(y[0] == want[k][0] && y[1] == want[k][1]);
        oh_free(g, 1, out);
    }
    mec_tensor_destroy(in[0]);
}

static void test_argmax(void) {
    /* (2, 3) with ties */
    mec_tensor *in[1] = {oh_tensor_f64(MEC_F32, 2, SHAPE(2, 3), F64S(1, 5, 5, 7, 0, 7))};
    struct {
        const char *op;
        int64_t axis, keep, last;
        int nd;
        int64_t want[3];
    } cases[] = {
        {"ArgMax", 1, 1, 0, 2, {1, 0}},   {"ArgMax", 1, 0, 1, 1, {2, 2}},
        {"ArgMax", 0, 1, 0, 2, {1, 0, 1}}, {"ArgMin", -1, 0, 0, 1, {0, 1}},
        {"ArgMin", 0, 0, 1, 1, {0, 1, 0}},
    };
    for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        mec_graph *g;
        int node;
        mec_tensor out[1];
        CHECK_OK(oh_node(&g, &node, cases[c].op, 13, 1, 1));
        mec_node_set_int(g, node, "axis", cases[c].axis);
        mec_node_set_int(g, node, "keepdims", cases[c].keep);
        mec_node_set_int(g, node, "select_last_index", cases[c].last);
        CHECK_OK(oh_run(g, node, 13, "ref", 1, in, 1, out));
        CHECK(out[0].dtype == MEC_I64 && out[0].ndim == cases[c].nd);
        int64_t n = mec_tensor_numel(&out[0]);
        for (int64_t i = 0; i < n && i < 3; i++) CHECK(((int64_t *)out[0].data)[i] == cases[c].want[i]);
        oh_free(g, 1, out);
    }
    mec_graph *g;
    int node;
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, "ArgMax", 13, 1, 1));
    mec_node_set_int(g, node, "axis", 2);
    CHECK(oh_run(g, node, 13, "ref", 1, in, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);
    mec_tensor_destroy(in[0]);
}

int main(void) {
    RUN(test_reduce_all_kinds);
    RUN(test_reduce_sum_axes_input);
    RUN(test_reduce_ints);
    RUN(test_argmax);
    return TEST_SUMMARY();
}
