/* conv ops: Conv and ConvTranspose against PyTorch values (small cases),
 * against a naive direct convolution (3-D, grouped, strided, dilated), and
 * every shape/attribute check on bad input. */
#include "mec/ops.h"
#include "op_harness.h"
#include "test.h"

/* Values from torch.nn.functional (see the generator in the commit message). */
static const float conv_y[90] = {-1.0599999, -0.81999999, -1.14, -0.25999999, -1.0599999, -1.28, -1.28, -0.33999997, -1.28, -0.30000001, -0.84000003, -1.28, -1.6800001, -0.94, -1.28, 0.19999996, 0.40000001, 0.76000005, 0.53999996, 0.70000005, 0.54000002, -0.060000002, 0.36000001, 1.0600002, 0.33999994, 0.69999999, 0.54000002, -0.5200001, 0.46000001, 1.0600002, -0.33999997, -1.1600001, -0.25999999, -0.31999999, -0.74000001, -0.27999997, 0.060000002, -1.3, -0.77999997, -0.12, -0.40000004, -0.27999997, -0.17999998, -0.77999997, -0.77999997, 0.95999998, 1.54, 0.47999996, 0.58000004, 1.6600001, 0.71999997, 1.02, 1.36, 0.95999998, 0.13999999, 1.3, 0.71999997, 1.0599999, 1.5600001, 0.95999998, -0.039999999, 0.17999999, -0.24000001, -0.36000001, -0.30000001, 0.28, -0.020000003, 0.41999999, 0.059999987, -0.47999999, -0.52000004, 0.28, 0.58000004, -0.28000003, 0.059999987, -1.04, -1.1800001, -1.24, -0.45999998, -1.4200001, -0.43999994, -0.77999997, -0.94, -0.97999996, -0.67999995, -1.64, -0.43999994, -0.88, -1.28, -0.97999996};
static const float convt_y[216] = {-1.4200001, -1, -0.83999997, -0.94, -0.92000002, -1.34, -0.68000001, -1.38, -0.94, -0.91999996, -1.2, -0.57999998, -0.77999997, -0.81999999, -0.86000001, -0.98000002, -1.38, -0.75999999, -1.24, -0.88, -0.83999997, -0.63999999, -1.3200001, -1.26, -0.80000001, -0.86000001, -0.88, -1.02, -1.4000001, -0.84000003, -1.26, -0.95999998, -0.94, -0.65999997, -0.84000003, -1.4000001, 0.65999997, 0.72000003, 0.44, 0.060000002, 0.44, 0.72000003, 0.42000002, 0.98000002, 0.41999999, 0.98000002, 0.42000002, 0.20000002, 0.44, 0.060000002, 0.44, 0.72000003, 0.65999997, 0.57999998, 0.41999999, 0.54000002, 0.41999999, 0.31999999, 0.86000001, 0.21999997, 0.44, 0.059999973, 0.44, 0.72000003, 0.66000003, 0.65999997, 0.54000002, 0.51999998, 0.38, 0.099999964, 0.66000003, 0.66000003, -0.88, -0.47999999, -0.35999998, -0.31999999, -0.28, -0.69999999, -0.70000005, -0.41999999, -0.44, -0.88, -0.18000001, -0.68000001, -0.42000002, -0.44, -0.33999997, -0.5, -0.92000002, -0.30000001, -0.13999999, -0.25999999, -0.53999996, -0.94000006, -0.72000003, -0.099999964, -0.39999998, -0.39999998, -0.31999999, -0.46000001, -0.90000004, -0.33999997, -0.30000001, -0.35999998, -0.38, -0.51999998, -0.90000004, -0.34, 0.88, 0.59999996, 1.16, 1.28, 1, 0.88, 0.75999999, 0.75999999, 1.3199999, 1.5600001, 1, 0.84000003, 0.83999997, 0.65999997, 1.12, 1.34, 0.95999998, 0.92000002, 0.67999995, 0.95999998, 1.02, 0.88, 0.92000002, 0.92000002, 0.80000001, 1.16, 1.08, 0.96000004, 0.92000002, 0.95999998, 0.65999997, 1.16, 1.22, 1.08, 0.89999998, 0.94, 0.12, -0.019999996, -0.40000004, 0.039999992, 0.18000001, 0.060000002, 0.25999999, 0.42000002, -0.22, -0.44000003, -0.039999992, 0.079999998, 0.10000001, -0.060000017, -0.42000002, 0, 0.16000001, -0.02, 0.36000001, -0.18000002, 0.31999999, -0.38, 0.06000001, 0.06000001, 0.079999998, -0.54000002, 0.22, 0.17999999, 0.14000002, -0.1, 0.22, 0.16, -0.34, 0.019999996, -0.02, 0.16000001, -1.0599999, -0.77999997, -0.83999997, -0.77999997, -1.0599999, -1.1800001, -1.08, -1.1800001, -0.63999999, -1.1799999, -1.08, -0.95999998, -1.0599999, -0.77999997, -0.84000003, -0.77999997, -1.0599999, -1.1, -1.08, -1.1799999, -1.08, -0.51999998, -1.08, -0.94, -1.0599999, -0.56, -1.0599999, -1.4400001, -1.0599999, -1.02, -1.2, -0.84000003, -0.92000002, -1.04, -1.08, -1.04};

/* conv2d(x (1,4,6,5), w (6,2,3,3), b, stride (2,1), padding (1,2), dilation (1,2), groups 2) */
static void test_conv2d_torch(void) {
    int64_t xs[] = {1, 4, 6, 5}, ws[] = {6, 2, 3, 3}, bs[] = {6};
    mec_tensor *in[3] = {oh_pat_t(4, xs, 7, 11, 0.1), oh_pat_t(4, ws, 5, 7, 0.2),
                         oh_pat_t(1, bs, 3, 5, 0.5)};
    mec_graph *g;
    int node;
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, "Conv", 13, 3, 1));
    int64_t st[] = {2, 1}, pads[] = {1, 2, 1, 2}, dl[] = {1, 2}, ks[] = {3, 3};
    mec_node_set_ints(g, node, "strides", 2, st);
    mec_node_set_ints(g, node, "pads", 4, pads);
    mec_node_set_ints(g, node, "dilations", 2, dl);
    mec_node_set_ints(g, node, "kernel_shape", 2, ks);
    mec_node_set_int(g, node, "group", 2);
    CHECK_OK(oh_run(g, node, 13, "ref", 3, in, 1, out));
    CHECK(out[0].ndim == 4 && out[0].shape[1] == 6 && out[0].shape[2] == 3 && out[0].shape[3] == 5);
    oh_check_close(&out[0], conv_y, 90, 1e-5);
    const mec_kernel *k = mec_op_find("", "Conv", 13, "ref");
    mec_tensor *outp[1] = {&out[0]};
    mec_op_ctx ctx = {.graph = g, .node_id = node, .node = &g->nodes[node], .opset = 13, .n_in = 3,
                      .in = (const mec_tensor *const *)in, .n_out = 1, .out = outp};
    CHECK(k && k->flops && k->flops(&ctx) == 2LL * 6 * 15 * 2 * 9);
    oh_free(g, 1, out);
    for (int i = 0; i < 3; i++) mec_tensor_destroy(in[i]);
}

/* conv_transpose2d(x (1,4,3,3), w (4,3,3,3), b (6), stride 2, padding 1, output_padding 1, groups 2) */
static void test_convtranspose2d_torch(void) {
    int64_t xs[] = {1, 4, 3, 3}, ws[] = {4, 3, 3, 3}, bs[] = {6};
    mec_tensor *in[3] = {oh_pat_t(4, xs, 7, 11, 0.1), oh_pat_t(4, ws, 5, 7, 0.2),
                         oh_pat_t(1, bs, 3, 5, 0.5)};
    mec_graph *g;
    int node;
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, "ConvTranspose", 11, 3, 1));
    int64_t st[] = {2, 2}, pads[] = {1, 1, 1, 1}, op[] = {1, 1};
    mec_node_set_ints(g, node, "strides", 2, st);
    mec_node_set_ints(g, node, "pads", 4, pads);
    mec_node_set_ints(g, node, "output_padding", 2, op);
    mec_node_set_int(g, node, "group", 2);
    CHECK_OK(oh_run(g, node, 11, "ref", 3, in, 1, out));
    CHECK(out[0].ndim == 4 && out[0].shape[1] == 6 && out[0].shape[2] == 6 && out[0].shape[3] == 6);
    oh_check_close(&out[0], convt_y, 216, 1e-5);
    oh_free(g, 1, out);
    /* the same output size requested through output_shape */
    CHECK_OK(oh_node(&g, &node, "ConvTranspose", 11, 3, 1));
    int64_t os[] = {6, 6};
    mec_node_set_ints(g, node, "strides", 2, st);
    mec_node_set_ints(g, node, "output_shape", 2, os);
    mec_node_set_int(g, node, "group", 2);
    CHECK_OK(oh_run(g, node, 11, "ref", 3, in, 1, out));
    CHECK(out[0].shape[2] == 6 && out[0].shape[3] == 6);
    oh_free(g, 1, out);
    for (int i = 0; i < 3; i++) mec_tensor_destroy(in[i]);
}

/* Naive direct 3-D convolution (the definition) for one configuration. */
static void naive_conv3d(const float *x, const float *w, const float *b, float *y, int64_t C,
                         const int64_t *in, int64_t M, int64_t group, const int64_t *k,
                         const int64_t *s, const int64_t *dl, const int64_t *pb, const int64_t *out) {
    int64_t Cg = C / group, Mg = M / group;
    for (int64_t m = 0; m < M; m++)
        for (int64_t o0 = 0; o0 < out[0]; o0++)
            for (int64_t o1 = 0; o1 < out[1]; o1++)
                for (int64_t o2 = 0; o2 < out[2]; o2++) {
                    double acc = b[m];
                    for (int64_t c = 0; c < Cg; c++)
                        for (int64_t k0 = 0; k0 < k[0]; k0++)
                            for (int64_t k1 = 0; k1 < k[1]; k1++)
                                for (int64_t k2 = 0; k2 < k[2]; k2++) {
                                    int64_t i0 = o0 * s[0] - pb[0] + k0 * dl[0];
                                    int64_t i1 = o1 * s[1] - pb[1] + k1 * dl[1];
                                    int64_t i2 = o2 * s[2] - pb[2] + k2 * dl[2];
                                    if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] || i2 < 0 || i2 >= in[2])
                                        continue;
                                    int64_t ci = (m / Mg) * Cg + c;
                                    acc += (double)x[((ci * in[0] + i0) * in[1] + i1) * in[2] + i2] *
                                           w[(((m * Cg + c) * k[0] + k0) * k[1] + k1) * k[2] + k2];
                                }
                    y[((m * out[0] + o0) * out[1] + o1) * out[2] + o2] = (float)acc;
                }
}

static void test_conv3d_vs_naive(void) {
    int64_t C = 6, M = 9, group = 3, in[] = {5, 7, 9}, k[] = {2, 3, 3}, s[] = {1, 2, 2},
            dl[] = {2, 1, 2}, pb[] = {1, 0, 2}, pe[] = {0, 1, 1};
    int64_t xs[] = {1, C, in[0], in[1], in[2]}, ws[] = {M, C / group, k[0], k[1], k[2]}, bs[] = {M};
    mec_tensor *in_t[3] = {oh_pat_t(5, xs, 7, 19, 0.05), oh_pat_t(5, ws, 5, 11, 0.1),
                           oh_pat_t(1, bs, 3, 5, 0.5)};
    int64_t out[3];
    for (int d = 0; d < 3; d++) out[d] = (in[d] + pb[d] + pe[d] - ((k[d] - 1) * dl[d] + 1)) / s[d] + 1;
    static float want[9 * 5 * 4 * 5];
    CHECK(M * out[0] * out[1] * out[2] <= (int64_t)(sizeof want / sizeof want[0]));
    naive_conv3d(in_t[0]->data, in_t[1]->data, in_t[2]->data, want, C, in, M, group, k, s, dl, pb, out);
    mec_graph *g;
    int node;
    mec_tensor y[1];
    CHECK_OK(oh_node(&g, &node, "Conv", 11, 3, 1));
    int64_t pads[] = {pb[0], pb[1], pb[2], pe[0], pe[1], pe[2]};
    mec_node_set_ints(g, node, "strides", 3, s);
    mec_node_set_ints(g, node, "dilations", 3, dl);
    mec_node_set_ints(g, node, "pads", 6, pads);
    mec_node_set_int(g, node, "group", group);
    CHECK_OK(oh_run(g, node, 11, "ref", 3, in_t, 1, y));
    CHECK(y[0].ndim == 5 && y[0].shape[2] == out[0] && y[0].shape[3] == out[1] && y[0].shape[4] == out[2]);
    oh_check_close(&y[0], want, M * out[0] * out[1] * out[2], 1e-5);
    oh_free(g, 1, y);
    for (int i = 0; i < 3; i++) mec_tensor_destroy(in_t[i]);
}

/* SAME_UPPER keeps ceil(in / stride) and a 1x1 kernel takes the no-im2col path. */
static void test_conv_auto_pad_and_pointwise(void) {
    int64_t xs[] = {2, 3, 7, 5}, ws[] = {4, 3, 3, 3}, w1[] = {4, 3, 1, 1};
    mec_tensor *in[2] = {oh_pat_t(4, xs, 7, 11, 0.1), oh_pat_t(4, ws, 5, 7, 0.2)};
    mec_graph *g;
    int node;
    mec_tensor y[1];
    CHECK_OK(oh_node(&g, &node, "Conv", 11, 2, 1));
    int64_t st[] = {2, 2};
    mec_node_set_ints(g, node, "strides", 2, st);
    mec_node_set_string(g, node, "auto_pad", "SAME_UPPER");
    CHECK_OK(oh_run(g, node, 11, "ref", 2, in, 1, y));
    CHECK(y[0].shape[0] == 2 && y[0].shape[1] == 4 && y[0].shape[2] == 4 && y[0].shape[3] == 3);
    oh_free(g, 1, y);
    mec_tensor_destroy(in[1]);
    in[1] = oh_pat_t(4, w1, 5, 7, 0.2);
    CHECK_OK(oh_node(&g, &node, "Conv", 11, 2, 1));
    CHECK_OK(oh_run(g, node, 11, "ref", 2, in, 1, y));
    /* y[n, m, p] = sum_c w[m, c] x[n, c, p] */
    const float *x = in[0]->data, *w = in[1]->data, *yf = y[0].data;
    int bad = 0;
    for (int64_t n = 0; n < 2; n++)
        for (int64_t m = 0; m < 4; m++)
            for (int64_t p = 0; p < 35; p++) {
                double acc = 0;
                for (int64_t c = 0; c < 3; c++) acc += (double)w[m * 3 + c] * x[(n * 3 + c) * 35 + p];
                if (fabs(acc - yf[(n * 4 + m) * 35 + p]) > 1e-5) bad++;
            }
    CHECK(bad == 0);
    oh_free(g, 1, y);
    for (int i = 0; i < 2; i++) mec_tensor_destroy(in[i]);
}

/* Runs Conv with the given W shape and attributes set by `setup`; returns the status. */
static mec_status conv_status(const int64_t *xs, const int64_t *ws, int wnd,
                              void (*setup)(mec_graph *, int)) {
    mec_tensor *in[2] = {oh_pat_t(4, xs, 7, 11, 0.1), oh_pat_t(wnd, ws, 5, 7, 0.2)};
    mec_graph *g;
    int node;
    mec_tensor y[1];
    oh_node(&g, &node, "Conv", 13, 2, 1);
    if (setup) setup(g, node);
    mec_status st = oh_run(g, node, 13, "ref", 2, in, 1, y);
    oh_free(g, st ? 0 : 1, y);
    for (int i = 0; i < 2; i++) mec_tensor_destroy(in[i]);
    return st;
}

static void set_group3(mec_graph *g, int n) { mec_node_set_int(g, n, "group", 3); }
static void set_bad_pads(mec_graph *g, int n) {
    int64_t p[] = {1, 1};
    mec_node_set_ints(g, n, "pads", 2, p);
}
static void set_zero_stride(mec_graph *g, int n) {
    int64_t s[] = {1, 0};
    mec_node_set_ints(g, n, "strides", 2, s);
}
static void set_bad_auto_pad(mec_graph *g, int n) { mec_node_set_string(g, n, "auto_pad", "SAME"); }
static void set_bad_kernel_shape(mec_graph *g, int n) {
    int64_t k[] = {5, 5};
    mec_node_set_ints(g, n, "kernel_shape", 2, k);
}

static void test_conv_bad_input(void) {
    int64_t xs[] = {1, 4, 5, 5}, ws[] = {2, 4, 3, 3}, wrong_c[] = {2, 3, 3, 3}, big[] = {2, 4, 7, 3},
            w3[] = {2, 4, 3};
    CHECK(conv_status(xs, wrong_c, 4, NULL) == MEC_ERR_SHAPE);
    CHECK(strstr(mec_last_error(), "node0") != NULL);
    CHECK(conv_status(xs, ws, 4, set_group3) == MEC_ERR_SHAPE);
    CHECK(strstr(mec_last_error(), "group 3") != NULL);
    CHECK(conv_status(xs, big, 4, NULL) == MEC_ERR_SHAPE);
    CHECK(strstr(mec_last_error(), "larger than the padded input") != NULL);
    CHECK(conv_status(xs, w3, 3, NULL) == MEC_ERR_SHAPE);
    CHECK(conv_status(xs, ws, 4, set_bad_pads) == MEC_ERR_SHAPE);
    CHECK(conv_status(xs, ws, 4, set_zero_stride) == MEC_ERR_RANGE);
    CHECK(conv_status(xs, ws, 4, set_bad_auto_pad) == MEC_ERR_UNSUPPORTED);
    CHECK(conv_status(xs, ws, 4, set_bad_kernel_shape) == MEC_ERR_SHAPE);
    CHECK(conv_status(xs, ws, 4, NULL) == MEC_OK);
}

int main(void) {
    RUN(test_conv2d_torch);
    RUN(test_convtranspose2d_torch);
    RUN(test_conv3d_vs_naive);
    RUN(test_conv_auto_pad_and_pointwise);
    RUN(test_conv_bad_input);
    return TEST_SUMMARY();
}
