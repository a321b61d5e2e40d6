/* resize ops: Resize linear/cubic/nearest against torch.nn.functional.interpolate
 * (half_pixel = align_corners False, align_corners, asymmetric floor for
 * nearest), sizes vs scales inputs, Upsample, deferred inference, checks. */
#include "mec/ops.h"
#include "op_harness.h"
#include "test.h"

/* Values from F.interpolate on x (1, 2, 3, 4) = oh_pat(i, 7, 11, 0.3). */
static const float rs_bilinear_hp[70] = {-1.5, -0.74999988, 0.45000011, -1.3113022e-07, -0.44999981, 0.75000036, 1.5, -0.77999991, -0.50142848, -0.055714272, 0.060000032, 0.17571445, 0.62142873, 0.89999998, 0.29999992, -0.12857148, -0.81428558, 0.15000027, 1.1142856, 0.42857116, -8.9406967e-08, -0.60000014, -0.32142857, 0.1242859, 0.24000001, 0.21428549, -0.4714289, -0.9000001, -1.2, -0.44999993, 0.75000006, 0.29999983, -0.38571444, -1.0714288, -1.5, 0.60000002, 0.17142852, -0.5142858, 0.45000023, 1.4142857, 0.72857124, 0.30000001, -2.1457673e-08, 0.042857159, 0.11142864, 0.51000011, 0.81428558, 0.12857117, -0.30000004, -0.89999986, -0.14999983, 1.0500001, 0.59999979, -0.085714504, -0.77142876, -1.1999999, 0.18000017, 0.22285719, 0.29142851, -0.30000022, -0.84428579, -0.39857125, -0.11999985, 0.89999998, 0.47142848, -0.21428578, -0.90000015, -1.3499998, -0.14999962, 0.60000002};
static const float rs_bilinear_ac[70] = {-1.5, -0.44999999, 0.60000002, 0, -0.60000002, 0.44999999, 1.5, -0.60000002, -0.375, -0.14999998, 0.075000018, 0.30000001, 0.52499998, 0.75, 0.30000001, -0.29999998, -0.89999998, 0.15000004, 1.2, 0.60000002, 0, -0.45000002, -0.22500001, 0, 0.22500001, 0.45000002, -0.14999998, -0.75, -1.2, -0.15000004, 0.89999998, 0.29999998, -0.30000001, -0.89999998, -1.5, 0.60000002, 0, -0.60000002, 0.44999999, 1.5, 0.89999998, 0.30000001, -0.14999998, 0.075000018, 0.30000001, 0.52499998, 0.75, 0.14999998, -0.45000002, -0.89999998, 0.15000004, 1.2, 0.60000002, 0, -0.60000002, -1.2, 0, 0.22500001, 0.45000002, -0.14999998, -0.75, -0.52499998, -0.30000001, 0.89999998, 0.29999998, -0.30000001, -0.89999998, -1.5, -0.44999999, 0.60000002};
static const float rs_bicubic_hp[96] = {-1.9480362, -1.0807846, 0.3668381, 0.57960206, -0.61124271, -0.39847869, 1.0491439, 1.9163955, -1.1698471, -0.74752349, -0.04775846, 0.20352632, -0.16241913, 0.13146515, 0.89467621, 1.3555207, 0.13480684, -0.19072722, -0.74799949, -0.43326873, 0.58471537, 1.0272446, 0.66031033, 0.45033875, 0.23441623, -0.091117851, -0.64839011, -0.29513854, 0.79988718, 0.87860864, -0.087538145, -0.66131741, -0.92726892, -0.5049454, 0.19481966, 0.53991389, 0.36158752, -0.2305069, -0.92655492, -1.3516892, -1.6163955, -0.74914402, 0.6984787, 1.0394942, 0.10515287, -0.89334875, -1.4407517, -1.7847656, 0.92147368, 0.32140958, -0.69730687, -0.35629117, 1.1757065, 1.6445206, 0.81614232, 0.33164063, 0.23234709, 0.073132329, -0.2058838, 0.17773131, 1.0334747, 1.0573608, 0.2425781, -0.24192353, -0.9293381, -0.34885252, 0.61285406, 1.081668, 0.82358098, 0.099609375, -0.71517342, -1.2132707, -0.82972872, -0.21072233, 0.82802576, 0.89451128, -0.039830036, -0.76380157, -0.9023301, -0.99809867, 0.47492519, 0.40951994, 0.31812286, -0.27805024, -1.069185, -1.0452987, -0.21320343, 0.28208312, 1.2531142, 0.78130186, 0.019088734, -0.97941285, -1.6989442, -1.2301298, 0.19302064, 1.0480361};
static const float rs_nearest[96] = {-1.5, -1.5, 0.60000002, 0.60000002, -0.60000002, -0.60000002, 1.5, 1.5, -1.5, -1.5, 0.60000002, 0.60000002, -0.60000002, -0.60000002, 1.5, 1.5, 0.30000001, 0.30000001, -0.89999998, -0.89999998, 1.2, 1.2, 0, 0, 0.30000001, 0.30000001, -0.89999998, -0.89999998, 1.2, 1.2, 0, 0, -1.2, -1.2, 0.89999998, 0.89999998, -0.30000001, -0.30000001, -1.5, -1.5, -1.2, -1.2, 0.89999998, 0.89999998, -0.30000001, -0.30000001, -1.5, -1.5, 0.60000002, 0.60000002, -0.60000002, -0.60000002, 1.5, 1.5, 0.30000001, 0.30000001, 0.60000002, 0.60000002, -0.60000002, -0.60000002, 1.5, 1.5, 0.30000001, 0.30000001, -0.89999998, -0.89999998, 1.2, 1.2, 0, 0, -1.2, -1.2, -0.89999998, -0.89999998, 1.2, 1.2, 0, 0, -1.2, -1.2, 0.89999998, 0.89999998, -0.30000001, -0.30000001, -1.5, -1.5, 0.60000002, 0.60000002, 0.89999998, 0.89999998, -0.30000001, -0.30000001, -1.5, -1.5, 0.60000002, 0.60000002};

static void set_linear(mec_graph *g, int n) { mec_node_set_string(g, n, "mode", "linear"); }
static void set_linear_ac(mec_graph *g, int n) {
    set_linear(g, n);
    mec_node_set_string(g, n, "coordinate_transformation_mode", "align_corners");
}
static void set_cubic(mec_graph *g, int n) { mec_node_set_string(g, n, "mode", "cubic"); }
static void set_nearest_floor(mec_graph *g, int n) {
    mec_node_set_string(g, n, "coordinate_transformation_mode", "asymmetric");
    mec_node_set_string(g, n, "nearest_mode", "floor");
}
static void set_bad_mode(mec_graph *g, int n) { mec_node_set_string(g, n, "mode", "area"); }

static void test_resize_linear_sizes(void) {
    int64_t xs[] = {1, 2, 3, 4}, n4[] = {4}, sz[] = {1, 2, 5, 7};
    mec_tensor *in[4] = {oh_pat_t(4, xs, 7, 11, 0.3), NULL, NULL, oh_i64(1, n4, sz)};
    mec_tensor out[1];
    CHECK_OK(oh_run_op("Resize", 13, 4, in, 1, out, set_linear));
    CHECK(out[0].ndim == 4 && out[0].shape[2] == 5 && out[0].shape[3] == 7);
    oh_check_close(&out[0], rs_bilinear_hp, 70, 1e-5);
    oh_release(1, out);
    CHECK_OK(oh_run_op("Resize", 13, 4, in, 1, out, set_linear_ac));
    oh_check_close(&out[0], rs_bilinear_ac, 70, 1e-5);
    oh_release(1, out);
    for (int i = 0; i < 4; i++) mec_tensor_destroy(in[i]);
}

static void test_resize_scales(void) {
    int64_t xs[] = {1, 2, 3, 4}, n4[] = {4};
    float sc[] = {1, 1, 2, 2};
    mec_tensor *in[3] = {oh_pat_t(4, xs, 7, 11, 0.3), NULL, oh_f32(1, n4, sc)};
    mec_tensor out[1];
    CHECK_OK(oh_run_op("Resize", 13, 3, in, 1, out, set_cubic));
    CHECK(out[0].shape[2] == 6 && out[0].shape[3] == 8);
    oh_check_close(&out[0], rs_bicubic_hp, 96, 1e-5);
    oh_release(1, out);
    CHECK_OK(oh_run_op("Resize", 13, 3, in, 1, out, set_nearest_floor));
    oh_check_close(&out[0], rs_nearest, 96, 1e-6);
    oh_release(1, out);
    /* Upsample-9 (asymmetric, floor) gives the same nearest result */
    mec_tensor *up[2] = {in[0], in[2]};
    CHECK_OK(oh_run_op("Upsample", 9, 2, up, 1, out, NULL));
    oh_check_close(&out[0], rs_nearest, 96, 1e-6);
    oh_release(1, out);
    CHECK(oh_run_op("Resize", 13, 3, in, 1, out, set_bad_mode) == MEC_ERR_UNSUPPORTED);
    CHECK(strstr(mec_last_error(), "area") != NULL);
    for (int i = 0; i < 3; i++) mec_tensor_destroy(in[i]);
}

static void test_resize_checks(void) {
    int64_t xs[] = {1, 2, 3, 4}, n4[] = {4}, n3[] = {3}, sz[] = {1, 2, 5, 7};
    float sc[] = {1, 1, 2, 2};
    mec_tensor *in[4] = {oh_pat_t(4, xs, 7, 11, 0.3), NULL, oh_f32(1, n4, sc), oh_i64(1, n4, sz)};
    mec_tensor out[1];
    CHECK(oh_run_op("Resize", 13, 4, in, 1, out, NULL) ==
          MEC_ERR_GRAPH); /* both scales and sizes */
    mec_tensor_destroy(in[2]);
    in[2] = NULL;
    mec_tensor_destroy(in[3]);
    in[3] = oh_i64(1, n3, sz);
    CHECK(oh_run_op("Resize", 13, 4, in, 1, out, NULL) ==
          MEC_ERR_SHAPE); /* sizes of the wrong length */
    CHECK(oh_run_op("Resize", 13, 1, in, 1, out, NULL) == MEC_ERR_GRAPH); /* neither */
    /* at load time the sizes are not known yet: inference defers */
    mec_tensor sizes_unknown;
    CHECK_OK(mec_tensor_init(&sizes_unknown, MEC_I64, 1, n4));
    const mec_tensor *cin[4] = {in[0], NULL, NULL, &sizes_unknown};
    mec_tensor y;
    memset(&y, 0, sizeof y);
    mec_tensor *outp[1] = {&y};
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "Resize", 13, 4, 1));
    const mec_kernel *k = mec_op_find("", "Resize", 13, "ref");
    CHECK(k && (k->value_inputs & (1u << 3)));
    mec_op_ctx ctx = {.graph = g, .node_id = node, .node = &g->nodes[node], .opset = 13, .n_in = 4,
                      .in = cin, .n_out = 1, .out = outp};
    if (k) CHECK(k->infer(&ctx) == MEC_ERR_DEFER);
    mec_graph_destroy(g);
    for (int i = 0; i < 4; i++) mec_tensor_destroy(in[i]);
}

int main(void) {
    RUN(test_resize_linear_sizes);
    RUN(test_resize_scales);
    RUN(test_resize_checks);
    return TEST_SUMMARY();
}
