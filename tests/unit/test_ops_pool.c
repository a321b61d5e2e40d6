/* pool ops: MaxPool (Indices, ceil_mode, dilations), AveragePool
 * (count_include_pad), global pooling against PyTorch values, and the checks. */
#include "mec/ops.h"
#include "op_harness.h"
#include "test.h"

/* Values from torch.nn.functional on x (1, 2, 5, 5) = oh_pat(i, 7, 13, 0.1). */
static const float maxpool_y[18] = {0.30000001, 0.40000001, 0.5, 0.60000002, 0.60000002, 0.5, 0.40000001, 0.5, 0.60000002, 0.30000001, 0.40000001, 0.40000001, 0.5, 0.60000002, 0.40000001, 0.40000001, 0.5, 0.5};
static const float maxpool_dil_y[18] = {0, 0.60000002, 0.1, 0.40000001, 0.30000001, 0.5, 0.5, 0.60000002, 0.60000002, 0.60000002, 0, 0.60000002, 0.2, 0.40000001, 0.30000001, 0.60000002, 0.5, 0.60000002};
static const float avgpool_incl_y[18] = {-0.055555556, -0.033333335, 0.01111111, 0.022222223, 0, -0.022222225, -0.011111112, 0.033333335, 0.055555556, -0.077777773, -0.06666667, -0.011111112, -0.01111111, 0.022222225, -0.055555563, -0.033333339, -6.6227384e-09, 0.033333335};
static const float avgpool_excl_y[18] = {-0.125, -0.050000001, 0.024999999, 0.033333335, 0, -0.033333335, -0.025000002, 0.050000001, 0.125, -0.175, -0.1, -0.025000002, -0.016666666, 0.022222225, -0.083333343, -0.07500001, -9.9341078e-09, 0.075000003};

static void set_k3s2p1_ceil(mec_graph *g, int n) {
    int64_t k[] = {3, 3}, s[] = {2, 2}, p[] = {1, 1, 1, 1};
    mec_node_set_ints(g, n, "kernel_shape", 2, k);
    mec_node_set_ints(g, n, "strides", 2, s);
    mec_node_set_ints(g, n, "pads", 4, p);
    mec_node_set_int(g, n, "ceil_mode", 1);
}

static void set_k2d2(mec_graph *g, int n) {
    int64_t k[] = {2, 2}, d[] = {2, 2};
    mec_node_set_ints(g, n, "kernel_shape", 2, k);
    mec_node_set_ints(g, n, "dilations", 2, d);
}

static void set_avg_incl(mec_graph *g, int n) {
    set_k3s2p1_ceil(g, n);
    mec_node_set_int(g, n, "ceil_mode", 0);
    mec_node_set_int(g, n, "count_include_pad", 1);
}

static void set_avg_excl(mec_graph *g, int n) {
    set_k3s2p1_ceil(g, n);
    mec_node_set_int(g, n, "ceil_mode", 0);
}

static void test_maxpool_indices(void) {
    int64_t xs[] = {1, 2, 5, 5};
    mec_tensor *x = oh_pat_t(4, xs, 7, 13, 0.1), out[2];
    CHECK_OK(oh_run_op("MaxPool", 12, 1, &x, 2, out, set_k3s2p1_ceil));
    CHECK(out[0].ndim == 4 && out[0].shape[2] == 3 && out[0].shape[3] == 3);
    oh_check_close(&out[0], maxpool_y, 18, 1e-6);
    /* torch's per-plane indices; ONNX adds the (n, c) plane offset (25 for c = 1) */
    static const int64_t idx[] = {5, 7, 9, 11, 11, 9, 20, 22, 24, 6, 8, 8, 10, 12, 8, 21, 23, 23};
    CHECK(out[1].dtype == MEC_I64 && mec_tensor_numel(&out[1]) == 18);
    const int64_t *got = out[1].data;
    for (int i = 0; i < 18; i++) CHECK(got[i] == idx[i] + (i >= 9 ? 25 : 0));
    oh_release(2, out);
    CHECK_OK(oh_run_op("MaxPool", 12, 1, &x, 1, out, set_k2d2));
    CHECK(out[0].shape[2] == 3 && out[0].shape[3] == 3);
    oh_check_close(&out[0], maxpool_dil_y, 18, 1e-6);
    oh_release(1, out);
    mec_tensor_destroy(x);
}

static void test_avgpool_pads(void) {
    int64_t xs[] = {1, 2, 5, 5};
    mec_tensor *x = oh_pat_t(4, xs, 7, 13, 0.1), out[1];
    CHECK_OK(oh_run_op("AveragePool", 11, 1, &x, 1, out, set_avg_incl));
    oh_check_close(&out[0], avgpool_incl_y, 18, 1e-5);
    oh_release(1, out);
    CHECK_OK(oh_run_op("AveragePool", 11, 1, &x, 1, out, set_avg_excl));
    oh_check_close(&out[0], avgpool_excl_y, 18, 1e-5);
    oh_release(1, out);
    mec_tensor_destroy(x);
}

static void test_global_pools(void) {
    int64_t xs[] = {2, 3, 2, 2};
    mec_tensor *x = oh_pat_t(4, xs, 7, 13, 0.1), out[1];
    const float *xf = x->data;
    float mean[6], mx[6];
    for (int p = 0; p < 6; p++) {
        double s = 0;
        float m = -INFINITY;
        for (int i = 0; i < 4; i++) {
            s += xf[p * 4 + i];
            if (xf[p * 4 + i] > m) m = xf[p * 4 + i];
        }
        mean[p] = (float)(s / 4);
        mx[p] = m;
    }
    CHECK_OK(oh_run_op("GlobalAveragePool", 1, 1, &x, 1, out, NULL));
    CHECK(out[0].ndim == 4 && out[0].shape[1] == 3 && out[0].shape[2] == 1 && out[0].shape[3] == 1);
    oh_check_close(&out[0], mean, 6, 1e-6);
    oh_release(1, out);
    CHECK_OK(oh_run_op("GlobalMaxPool", 1, 1, &x, 1, out, NULL));
    oh_check_close(&out[0], mx, 6, 1e-6);
    oh_release(1, out);
    mec_tensor_destroy(x);
}

static void set_no_kernel(mec_graph *g, int n) { (void)g; (void)n; }
static void set_big_pads(mec_graph *g, int n) {
    int64_t k[] = {2, 2}, p[] = {2, 0, 0, 0};
    mec_node_set_ints(g, n, "kernel_shape", 2, k);
    mec_node_set_ints(g, n, "pads", 4, p);
}
static void set_kernel_3d(mec_graph *g, int n) {
    int64_t k[] = {2, 2, 2};
    mec_node_set_ints(g, n, "kernel_shape", 3, k);
}
static void set_huge_kernel(mec_graph *g, int n) {
    int64_t k[] = {9, 2};
    mec_node_set_ints(g, n, "kernel_shape", 2, k);
}

static void test_pool_bad_input(void) {
    int64_t xs[] = {1, 2, 5, 5}, x2[] = {5, 5};
    mec_tensor *x = oh_pat_t(4, xs, 7, 13, 0.1), *flat = oh_pat_t(2, x2, 7, 13, 0.1), out[2];
    CHECK(oh_run_op("MaxPool", 12, 1, &x, 1, out, set_no_kernel) == MEC_ERR_GRAPH);
    CHECK(strstr(mec_last_error(), "kernel_shape") != NULL);
    CHECK(oh_run_op("MaxPool", 12, 1, &x, 1, out, set_big_pads) == MEC_ERR_RANGE);
    CHECK(oh_run_op("AveragePool", 11, 1, &x, 1, out, set_kernel_3d) == MEC_ERR_SHAPE);
    CHECK(oh_run_op("AveragePool", 11, 1, &x, 1, out, set_huge_kernel) == MEC_ERR_SHAPE);
    CHECK(oh_run_op("MaxPool", 12, 1, &flat, 1, out, set_k2d2) == MEC_ERR_SHAPE);
    CHECK(oh_run_op("GlobalAveragePool", 1, 1, &flat, 1, out, NULL) == MEC_ERR_SHAPE);
    mec_tensor_destroy(x);
    mec_tensor_destroy(flat);
}

int main(void) {
    RUN(test_maxpool_indices);
    RUN(test_avgpool_pads);
    RUN(test_global_pools);
    RUN(test_pool_bad_input);
    return TEST_SUMMARY();
}
