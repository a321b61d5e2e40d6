/* index ops: hand-computed results, negative indices, and MEC_ERR_RANGE (never
 * a crash) for out-of-range indices. */
#include "mec/ops.h"
#include "op_harness.h"
#include "test.h"

#include <stdint.h>

static void check_vals(const mec_tensor *t, int64_t n, const double *want) {
    CHECK(mec_tensor_numel(t) == n);
    if (mec_tensor_numel(t) != n) return;
    for (int64_t i = 0; i < n; i++) CHECK_NEAR(mec_tensor_get_f64(t, i), want[i], 1e-6);
}

static void test_gather(void) {
    mec_graph *g;
    int node;
    mec_tensor *x = oh_f32(2, SHAPE(3, 2), F32S(1, 2, 3, 4, 5, 6)), out[1];
    mec_tensor *in[2] = {x, oh_i64(2, SHAPE(1, 2), I64S(0, -1))};
    CHECK_OK(oh_node(&g, &node, "Gather", 13, 2, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, out));
    oh_check_shape(&out[0], 3, SHAPE(1, 2, 2));
    check_vals(&out[0], 4, VALS(1, 2, 5, 6));
    oh_free(g, 1, out);

    int32_t one = 1;
    mec_tensor *in2[2] = {x, oh_tensor(MEC_I32, 1, SHAPE(1), &one)};
    CHECK_OK(oh_node(&g, &node, "Gather", 11, 2, 1));
    mec_node_set_int(g, node, "axis", -1);
    CHECK_OK(oh_run(g, node, 11, "ref", 2, in2, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(3, 1));
    check_vals(&out[0], 3, VALS(2, 4, 6));
    oh_free(g, 1, out);

    ((int64_t *)in[1]->data)[1] = 3; /* axis 0 has 3 rows */
    CHECK_OK(oh_node(&g, &node, "Gather", 13, 2, 1));
    CHECK(oh_run(g, node, 13, "ref", 2, in, 1, out) == MEC_ERR_RANGE);
    CHECK(strstr(mec_last_error(), "= 3 is out of range [-3, 2]") != NULL);
    oh_free(g, 1, out);
    ((int64_t *)in[1]->data)[1] = -4;
    CHECK_OK(oh_node(&g, &node, "Gather", 13, 2, 1));
    CHECK(oh_run(g, node, 13, "ref", 2, in, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "Gather", 13, 2, 1));
    mec_node_set_int(g, node, "axis", 2);
    CHECK(oh_run(g, node, 13, "ref", 2, in, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);
    oh_destroy_all(in, 2);
    mec_tensor_destroy(in2[1]);
}

static void test_gather_elements_nd(void) {
    mec_graph *g;
    int node;
    mec_tensor *x = oh_f32(2, SHAPE(2, 2), F32S(1, 2, 3, 4)), out[1];
    mec_tensor *in[2] = {x, oh_i64(2, SHAPE(2, 2), I64S(0, 0, 1, 0))};
    CHECK_OK(oh_node(&g, &node, "GatherElements", 13, 2, 1));
    mec_node_set_int(g, node, "axis", 1);
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, out));
    check_vals(&out[0], 4, VALS(1, 1, 4, 3));
    oh_free(g, 1, out);
    mec_tensor *in2[2] = {x, oh_i64(2, SHAPE(1, 2), I64S(-1, 0))};
    CHECK_OK(oh_node(&g, &node, "GatherElements", 13, 2, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in2, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(1, 2));
    check_vals(&out[0], 2, VALS(3, 2));
    oh_free(g, 1, out);
    ((int64_t *)in2[1]->data)[0] = 2;
    CHECK_OK(oh_node(&g, &node, "GatherElements", 13, 2, 1));
    CHECK(oh_run(g, node, 13, "ref", 2, in2, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);

    /* GatherND without and with batch_dims */
    mec_tensor *nin[2] = {x, oh_i64(2, SHAPE(2, 2), I64S(1, 0, 0, 1))};
    CHECK_OK(oh_node(&g, &node, "GatherND", 13, 2, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 2, nin, 1, out));
    oh_check_shape(&out[0], 1, SHAPE(2));
    check_vals(&out[0], 2, VALS(3, 2));
    oh_free(g, 1, out);
    mec_tensor *y = oh_f32(3, SHAPE(2, 2, 2), F32S(0, 1, 2, 3, 4, 5, 6, 7));
    mec_tensor *bin[2] = {y, oh_i64(2, SHAPE(2, 1), I64S(1, 0))};
    CHECK_OK(oh_node(&g, &node, "GatherND", 13, 2, 1));
    mec_node_set_int(g, node, "batch_dims", 1);
    CHECK_OK(oh_run(g, node, 13, "ref", 2, bin, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 2));
    check_vals(&out[0], 4, VALS(2, 3, 4, 5));
    oh_free(g, 1, out);
    ((int64_t *)bin[1]->data)[1] = -3;
    CHECK_OK(oh_node(&g, &node, "GatherND", 13, 2, 1));
    mec_node_set_int(g, node, "batch_dims", 1);
    CHECK(oh_run(g, node, 13, "ref", 2, bin, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);
    mec_tensor_destroy(x);
    mec_tensor_destroy(in[1]);
    mec_tensor_destroy(in2[1]);
    mec_tensor_destroy(nin[1]);
    oh_destroy_all(bin, 2);
}

static void test_scatter_nd(void) {
    mec_graph *g;
    int node;
    mec_tensor *x = oh_f32(1, SHAPE(4), F32S(1, 2, 3, 4)), out[1];
    mec_tensor *in[3] = {x, oh_i64(2, SHAPE(3, 1), I64S(1, 1, 3)), oh_f32(1, SHAPE(3), F32S(10, 20, 30))};
    const char *modes[] = {"add", "mul"};
    const double want[2][4] = {{1, 32, 3, 34}, {1, 400, 3, 120}};
    for (int m = 0; m < 2; m++) {
        CHECK_OK(oh_node(&g, &node, "ScatterND", 16, 3, 1));
        mec_node_set_string(g, node, "reduction", modes[m]);
        CHECK_OK(oh_run(g, node, 16, "ref", 3, in, 1, out));
        check_vals(&out[0], 4, want[m]);
        oh_free(g, 1, out);
    }
    ((int64_t *)in[1]->data)[2] = 4;
    CHECK_OK(oh_node(&g, &node, "ScatterND", 13, 3, 1));
    CHECK(oh_run(g, node, 13, "ref", 3, in, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);
    oh_destroy_all(in, 3);

    /* a row slice */
    mec_tensor *y = oh_f32(2, SHAPE(2, 2), F32S(0, 0, 0, 0));
    mec_tensor *rin[3] = {y, oh_i64(2, SHAPE(1, 1), I64S(-1)), oh_f32(2, SHAPE(1, 2), F32S(5, 6))};
    CHECK_OK(oh_node(&g, &node, "ScatterND", 13, 3, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 3, rin, 1, out));
    check_vals(&out[0], 4, VALS(0, 0, 5, 6));
    oh_free(g, 1, out);
    mec_tensor_destroy(rin[2]);
    rin[2] = oh_f32(1, SHAPE(2), F32S(5, 6)); /* wrong rank */
    CHECK_OK(oh_node(&g, &node, "ScatterND", 13, 3, 1));
    CHECK(oh_run(g, node, 13, "ref", 3, rin, 1, out) == MEC_ERR_SHAPE);
    oh_free(g, 1, out);
    oh_destroy_all(rin, 3);
}

static void test_scatter_elements(void) {
    mec_graph *g;
    int node;
    mec_tensor *x = oh_f32(2, SHAPE(3, 3), NULL), out[1];
    mec_tensor *in[3] = {x, oh_i64(2, SHAPE(2, 3), I64S(1, 0, 2, 0, 2, 1)),
                         oh_f32(2, SHAPE(2, 3), F32S(1.0f, 1.1f, 1.2f, 2.0f, 2.1f, 2.2f))};
    const char *ops[] = {"ScatterElements", "Scatter"};
    const int opsets[] = {13, 9};
    for (int k = 0; k < 2; k++) {
        CHECK_OK(oh_node(&g, &node, ops[k], opsets[k], 3, 1));
        CHECK_OK(oh_run(g, node, opsets[k], "ref", 3, in, 1, out));
        check_vals(&out[0], 9, VALS(2.0, 1.1, 0, 1.0, 0, 2.2, 0, 2.1, 1.2));
        oh_free(g, 1, out);
    }
    /* duplicates with reduction add, negative index, axis 1 */
    mec_tensor *y = oh_f32(2, SHAPE(1, 3), F32S(1, 2, 3));
    mec_tensor *din[3] = {y, oh_i64(2, SHAPE(1, 2), I64S(-2, 1)), oh_f32(2, SHAPE(1, 2), F32S(10, 20))};
    CHECK_OK(oh_node(&g, &node, "ScatterElements", 16, 3, 1));
    mec_node_set_int(g, node, "axis", 1);
    mec_node_set_string(g, node, "reduction", "add");
    CHECK_OK(oh_run(g, node, 16, "ref", 3, din, 1, out));
    check_vals(&out[0], 3, VALS(1, 32, 3));
    oh_free(g, 1, out);
    ((int64_t *)din[1]->data)[0] = 3;
    CHECK_OK(oh_node(&g, &node, "ScatterElements", 16, 3, 1));
    mec_node_set_int(g, node, "axis", 1);
    CHECK(oh_run(g, node, 16, "ref", 3, din, 1, out) == MEC_ERR_RANGE);
    CHECK(strstr(mec_last_error(), "[-3, 2]") != NULL);
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "ScatterElements", 16, 3, 1));
    mec_node_set_string(g, node, "reduction", "avg");
    CHECK(oh_run(g, node, 16, "ref", 3, din, 1, out) == MEC_ERR_INVALID_ARG);
    oh_free(g, 1, out);
    oh_destroy_all(in, 3);
    oh_destroy_all(din, 3);
}

static void test_onehot(void) {
    mec_graph *g;
    int node;
    mec_tensor out[1];
    mec_tensor *in[3] = {oh_i64(1, SHAPE(3), I64S(0, -1, 5)), oh_f32(0, NULL, F32S(3)), oh_f32(1, SHAPE(2), F32S(0, 1))};
    CHECK_OK(oh_node(&g, &node, "OneHot", 11, 3, 1));
    CHECK_OK(oh_run(g, node, 11, "ref", 3, in, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(3, 3));
    check_vals(&out[0], 9, VALS(1, 0, 0, 0, 0, 1, 0, 0, 0)); /* 5 is outside: all off */
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "OneHot", 11, 3, 1));
    mec_node_set_int(g, node, "axis", 0);
    CHECK_OK(oh_run(g, node, 11, "ref", 3, in, 1, out));
    check_vals(&out[0], 9, VALS(1, 0, 0, 0, 0, 0, 0, 1, 0));
    oh_free(g, 1, out);
    ((float *)in[1]->data)[0] = 0;
    CHECK_OK(oh_node(&g, &node, "OneHot", 11, 3, 1));
    CHECK(oh_run(g, node, 11, "ref", 3, in, 1, out) == MEC_ERR_INVALID_ARG);
    oh_free(g, 1, out);
    oh_destroy_all(in, 3);
}

static void test_cumsum(void) {
    mec_graph *g;
    int node;
    mec_tensor out[1];
    mec_tensor *in[2] = {oh_f32(1, SHAPE(4), F32S(1, 2, 3, 4)), oh_i64(0, NULL, I64S(0))};
    CHECK_OK(oh_node(&g, &node, "CumSum", 14, 2, 1));
    mec_node_set_int(g, node, "exclusive", 1);
    mec_node_set_int(g, node, "reverse", 1);
    CHECK_OK(oh_run(g, node, 14, "ref", 2, in, 1, out));
    check_vals(&out[0], 4, VALS(9, 7, 4, 0));
    oh_free(g, 1, out);
    int32_t v[4] = {1, 2, 3, 4};
    mec_tensor *in2[2] = {oh_tensor(MEC_I32, 2, SHAPE(2, 2), v), oh_i64(0, NULL, I64S(-1))};
    CHECK_OK(oh_node(&g, &node, "CumSum", 14, 2, 1));
    CHECK_OK(oh_run(g, node, 14, "ref", 2, in2, 1, out));
    CHECK(out[0].dtype == MEC_I32);
    check_vals(&out[0], 4, VALS(1, 3, 3, 7));
    oh_free(g, 1, out);
    ((int64_t *)in2[1]->data)[0] = 2;
    CHECK_OK(oh_node(&g, &node, "CumSum", 14, 2, 1));
    CHECK(oh_run(g, node, 14, "ref", 2, in2, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);
    oh_destroy_all(in, 2);
    oh_destroy_all(in2, 2);
}

static void test_topk(void) {
    mec_graph *g;
    int node;
    mec_tensor out[2];
    mec_tensor *in[2] = {oh_f32(1, SHAPE(4), F32S(3, 1, 3, 2)), oh_i64(1, SHAPE(1), I64S(2))};
    CHECK_OK(oh_node(&g, &node, "TopK", 11, 2, 2));
    CHECK_OK(oh_run(g, node, 11, "ref", 2, in, 2, out));
    check_vals(&out[0], 2, VALS(3, 3));
    check_vals(&out[1], 2, VALS(0, 2)); /* tie: lower index first */
    CHECK(out[1].dtype == MEC_I64);
    oh_free(g, 2, out);
    CHECK_OK(oh_node(&g, &node, "TopK", 11, 2, 2));
    mec_node_set_int(g, node, "largest", 0);
    CHECK_OK(oh_run(g, node, 11, "ref", 2, in, 2, out));
    check_vals(&out[0], 2, VALS(1, 2));
    check_vals(&out[1], 2, VALS(1, 3));
    oh_free(g, 2, out);
    ((int64_t *)in[1]->data)[0] = 5;
    CHECK_OK(oh_node(&g, &node, "TopK", 11, 2, 2));
    CHECK(oh_run(g, node, 11, "ref", 2, in, 2, out) == MEC_ERR_RANGE);
    oh_free(g, 2, out);

    /* opset 1 attribute k, axis 0 of a 2-D int64 tensor */
    mec_tensor *x = oh_i64(2, SHAPE(3, 2), I64S(1, 6, 5, 2, 3, 4));
    mec_tensor *xin[1] = {x};
    CHECK_OK(oh_node(&g, &node, "TopK", 1, 1, 2));
    mec_node_set_int(g, node, "k", 2);
    mec_node_set_int(g, node, "axis", 0);
    CHECK_OK(oh_run(g, node, 1, "ref", 1, xin, 2, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 2));
    check_vals(&out[0], 4, VALS(5, 6, 3, 4));
    check_vals(&out[1], 4, VALS(1, 0, 2, 2));
    oh_free(g, 2, out);
    oh_destroy_all(in, 2);
    mec_tensor_destroy(x);
}

static void test_nonzero_compress(void) {
    mec_graph *g;
    int node;
    mec_tensor out[1];
    mec_tensor *in[1] = {oh_f32(2, SHAPE(2, 2), F32S(1, 0, -0.0f, 3))};
    CHECK_OK(oh_node(&g, &node, "NonZero", 13, 1, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 1, in, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 2));
    check_vals(&out[0], 4, VALS(0, 1, 0, 1));
    oh_free(g, 1, out);
    /* data not known at load: the output shape is deferred */
    void *data = in[0]->data;
    in[0]->data = NULL;
    mec_tensor o;
    memset(&o, 0, sizeof o);
    mec_tensor *op[1] = {&o};
    CHECK_OK(oh_node(&g, &node, "NonZero", 13, 1, 1));
    mec_op_ctx ctx = {.graph = g, .node_id = node, .node = &g->nodes[node], .opset = 13, .n_in = 1,
                      .in = (const mec_tensor *const *)in, .n_out = 1, .out = op};
    CHECK(mec_op_find("", "NonZero", 13, "ref")->infer(&ctx) == MEC_ERR_DEFER);
    mec_graph_destroy(g);
    in[0]->data = data;
    mec_tensor_destroy(in[0]);

    mec_tensor *x = oh_f32(2, SHAPE(3, 2), F32S(1, 2, 3, 4, 5, 6));
    mec_tensor *cin[2] = {x, oh_tensor(MEC_BOOL, 1, SHAPE(3), (const uint8_t[]){0, 1, 1})};
    CHECK_OK(oh_node(&g, &node, "Compress", 11, 2, 1));
    mec_node_set_int(g, node, "axis", 0);
    CHECK_OK(oh_run(g, node, 11, "ref", 2, cin, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 2));
    check_vals(&out[0], 4, VALS(3, 4, 5, 6));
    oh_free(g, 1, out);
    mec_tensor *fin[2] = {x, oh_tensor(MEC_BOOL, 1, SHAPE(5), (const uint8_t[]){0, 1, 0, 0, 1})};
    CHECK_OK(oh_node(&g, &node, "Compress", 11, 2, 1));
    CHECK_OK(oh_run(g, node, 11, "ref", 2, fin, 1, out));
    oh_check_shape(&out[0], 1, SHAPE(2));
    check_vals(&out[0], 2, VALS(2, 5));
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "Compress", 11, 2, 1));
    mec_node_set_int(g, node, "axis", 1); /* condition selects index 4 of a size-2 axis */
    CHECK(oh_run(g, node, 11, "ref", 2, fin, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);
    oh_destroy_all(cin, 2);
    mec_tensor_destroy(fin[1]);
}

int main(void) {
    RUN(test_gather);
    RUN(test_gather_elements_nd);
    RUN(test_scatter_nd);
    RUN(test_scatter_elements);
    RUN(test_onehot);
    RUN(test_cumsum);
    RUN(test_topk);
    RUN(test_nonzero_compress);
    return TEST_SUMMARY();
}
