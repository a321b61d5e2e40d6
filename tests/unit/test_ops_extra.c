/* loss, rnn, signal and detection ops: hand-computed results for each op,
 * the optional outputs and attributes the conformance cases leave out
 * (bidirectional/reverse RNNs, custom activations, unsorted Unique), and
 * clean errors (never a crash) for out-of-range targets and indices. */
#include "mec/ops.h"
#include "op_harness.h"
#include "test.h"

#include <math.h>
#include <stdint.h>

static mec_tensor *i64_scalar(int64_t v) { return oh_tensor(MEC_I64, 0, SHAPE(1), &v); }
static mec_tensor *f32_scalar(float v) { return oh_tensor(MEC_F32, 0, SHAPE(1), &v); }

static void check_vals(const mec_tensor *t, int64_t n, const double *want, double tol) {
    CHECK(mec_tensor_numel(t) == n);
    if (mec_tensor_numel(t) != n) return;
    for (int64_t i = 0; i < n; i++) CHECK_NEAR(mec_tensor_get_f64(t, i), want[i], tol);
}

/* ------------------------------------------------------------- loss */

static void test_nllloss(void) {
    mec_graph *g;
    int node;
    /* x: (2, 3), target [0, 2] */
    mec_tensor *in[3] = {oh_f32(2, SHAPE(2, 3), F32S(-1, -2, -3, -4, -5, -6)),
                         oh_i64(1, SHAPE(2), I64S(0, 2)), oh_f32(1, SHAPE(3), F32S(1, 2, 3))};
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, "NegativeLogLikelihoodLoss", 13, 2, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, out));
    oh_check_shape(&out[0], 0, NULL);
    check_vals(&out[0], 1, VALS((1 + 6) / 2.0), 1e-6); /* default reduction: mean */
    oh_free(g, 1, out);

    /* weighted mean: (1*1 + 3*6) / (1 + 3) */
    CHECK_OK(oh_node(&g, &node, "NegativeLogLikelihoodLoss", 13, 3, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 3, in, 1, out));
    check_vals(&out[0], 1, VALS(19.0 / 4.0), 1e-6);
    oh_free(g, 1, out);

    /* none with ignore_index = 2: the second loss is 0 */
    CHECK_OK(oh_node(&g, &node, "NegativeLogLikelihoodLoss", 13, 3, 1));
    mec_node_set_string(g, node, "reduction", "none");
    mec_node_set_int(g, node, "ignore_index", 2);
    CHECK_OK(oh_run(g, node, 13, "ref", 3, in, 1, out));
    oh_check_shape(&out[0], 1, SHAPE(2));
    check_vals(&out[0], 2, VALS(1, 0), 1e-6);
    oh_free(g, 1, out);

    /* a target outside [0, C) that is not ignored is a range error */
    ((int64_t *)in[1]->data)[1] = 3;
    CHECK_OK(oh_node(&g, &node, "NegativeLogLikelihoodLoss", 13, 2, 1));
    CHECK(oh_run(g, node, 13, "ref", 2, in, 1, out) == MEC_ERR_RANGE);
    CHECK(strstr(mec_last_error(), "target 3") != NULL);
    oh_free(g, 1, out);

    CHECK_OK(oh_node(&g, &node, "NegativeLogLikelihoodLoss", 13, 2, 1));
    mec_node_set_string(g, node, "reduction", "avg");
    CHECK(oh_run(g, node, 13, "ref", 2, in, 1, out) == MEC_ERR_INVALID_ARG);
    oh_free(g, 1, out);
    oh_destroy_all(in, 3);
}

static void test_softmax_cross_entropy(void) {
    mec_graph *g;
    int node;
    /* scores (1, 2, 2): position 0 has equal scores, position 1 scores (0, ln 3) */
    mec_tensor *in[2] = {oh_f32(3, SHAPE(1, 2, 2), F32S(0, 0, 0, (float)log(3.0))),
                         oh_i64(2, SHAPE(1, 2), I64S(0, 1))};
    mec_tensor out[2];
    CHECK_OK(oh_node(&g, &node, "SoftmaxCrossEntropyLoss", 13, 2, 2));
    mec_node_set_string(g, node, "reduction", "sum");
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 2, out));
    /* -log(1/2) - log(3/4) */
    check_vals(&out[0], 1, VALS(log(2.0) + log(4.0 / 3.0)), 1e-6);
    oh_check_shape(&out[1], 3, SHAPE(1, 2, 2));
    check_vals(&out[1], 4, VALS(-log(2.0), -log(4.0), -log(2.0), log(3.0 / 4.0)), 1e-6);
    oh_free(g, 2, out);
    oh_destroy_all(in, 2);
}

/* ------------------------------------------------------------- rnn */

static mec_status set_strings(mec_graph *g, int node, const char *name, int n, const char *const *v) {
    mec_attr a;
    memset(&a, 0, sizeof a);
    a.name = mec_strdup(name);
    a.type = MEC_ATTR_STRINGS;
    a.n = n;
    a.strings = mec_calloc((size_t)n, sizeof(char *));
    for (int i = 0; i < n; i++) a.strings[i] = mec_strdup(v[i]);
    return mec_node_add_attr(g, node, &a);
}

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

static void test_rnn(void) {
    mec_graph *g;
    int node;
    /* I = H = 1, bidirectional: forward W = 1, R = 0.5; reverse W = 2, R = -1;
     * biases Wb + Rb = 0.1 forward, 0 reverse. X = 1, 2, 3; batch 1. */
    mec_tensor *in[6] = {oh_f32(3, SHAPE(3, 1, 1), F32S(1, 2, 3)), oh_f32(3, SHAPE(2, 1, 1), F32S(1, 2)),
                         oh_f32(3, SHAPE(2, 1, 1), F32S(0.5f, -1)),
                         oh_f32(2, SHAPE(2, 2), F32S(0.05f, 0.05f, 0, 0)), NULL, NULL};
    mec_tensor out[2];
    CHECK_OK(oh_node(&g, &node, "RNN", 14, 4, 2));
    mec_node_set_string(g, node, "direction", "bidirectional");
    mec_node_set_int(g, node, "hidden_size", 1);
    CHECK_OK(oh_run(g, node, 14, "ref", 4, in, 2, out));
    double f1 = tanh(1 + 0.1), f2 = tanh(2 + 0.5 * f1 + 0.1), f3 = tanh(3 + 0.5 * f2 + 0.1);
    double r3 = tanh(6), r2 = tanh(4 - r3), r1 = tanh(2 - r2);
    oh_check_shape(&out[0], 4, SHAPE(3, 2, 1, 1));
    check_vals(&out[0], 6, VALS(f1, r1, f2, r2, f3, r3), 1e-5);
    oh_check_shape(&out[1], 3, SHAPE(2, 1, 1));
    check_vals(&out[1], 2, VALS(f3, r1), 1e-5);
    oh_free(g, 2, out);

    /* reverse with sequence_lens = 2, layout 1 and a Relu activation */
    int32_t len = 2;
    mec_tensor *in2[6] = {
        oh_f32(3, SHAPE(1, 3, 1), F32S(1, 2, 3)), oh_f32(3, SHAPE(1, 1, 1), F32S(1)),
        oh_f32(3, SHAPE(1, 1, 1), F32S(0.5f)),    NULL,
        oh_tensor(MEC_I32, 1, SHAPE(1), &len),    oh_f32(3, SHAPE(1, 1, 1), F32S(-10))};
    CHECK_OK(oh_node(&g, &node, "RNN", 14, 6, 2));
    mec_node_set_string(g, node, "direction", "reverse");
    mec_node_set_int(g, node, "layout", 1);
    CHECK_OK(set_strings(g, node, "activations", 1, (const char *const[]){"Relu"}));
    CHECK_OK(oh_run(g, node, 14, "ref", 6, in2, 2, out));
    /* t = 1: relu(2 - 5) = 0; t = 0: relu(1 + 0) = 1; t = 2 is past the length */
    oh_check_shape(&out[0], 4, SHAPE(1, 3, 1, 1));
    check_vals(&out[0], 3, VALS(1, 0, 0), 1e-6);
    check_vals(&out[1], 1, VALS(1), 1e-6);
    oh_free(g, 2, out);

    /* a sequence length beyond seq_length is a range error */
    len = 4;
    memcpy(in2[4]->data, &len, sizeof len);
    CHECK_OK(oh_node(&g, &node, "RNN", 14, 6, 2));
    mec_node_set_int(g, node, "layout", 1);
    CHECK(oh_run(g, node, 14, "ref", 6, in2, 2, out) == MEC_ERR_RANGE);
    oh_free(g, 2, out);
    oh_destroy_all(in, 6);
    oh_destroy_all(in2, 6);
}

static void test_gru(void) {
    mec_graph *g;
    int node;
    /* I = H = 1; gates z, r, h: W = (0.5, -0.5, 1), R = (0.2, 0.3, 0.4),
     * Rb for h = 0.1; X = 1, 2; initial h = 0.5 */
    mec_tensor *in[6] = {oh_f32(3, SHAPE(2, 1, 1), F32S(1, 2)), oh_f32(3, SHAPE(1, 3, 1), F32S(0.5f, -0.5f, 1)),
                         oh_f32(3, SHAPE(1, 3, 1), F32S(0.2f, 0.3f, 0.4f)),
                         oh_f32(2, SHAPE(1, 6), F32S(0, 0, 0, 0, 0, 0.1f)), NULL,
                         oh_f32(3, SHAPE(1, 1, 1), F32S(0.5f))};
    for (int lbr = 0; lbr <= 1; lbr++) {
        mec_tensor out[2];
        CHECK_OK(oh_node(&g, &node, "GRU", 14, 6, 2));
        mec_node_set_int(g, node, "linear_before_reset", lbr);
        CHECK_OK(oh_run(g, node, 14, "ref", 6, in, 2, out));
        double h = 0.5, y[2];
        for (int t = 0; t < 2; t++) {
            double x = t + 1;
            double z = sigm(0.5 * x + 0.2 * h), r = sigm(-0.5 * x + 0.3 * h);
            double hh = lbr ? tanh(x + r * (0.4 * h + 0.1)) : tanh(x + 0.4 * (r * h) + 0.1);
            h = (1 - z) * hh + z * h;
            y[t] = h;
        }
        oh_check_shape(&out[0], 4, SHAPE(2, 1, 1, 1));
        check_vals(&out[0], 2, y, 1e-5);
        check_vals(&out[1], 1, VALS(y[1]), 1e-5);
        oh_free(g, 2, out);
    }
    oh_destroy_all(in, 6);
}

static void test_lstm(void) {
    mec_graph *g;
    int node;
    /* I = H = 1; gates i, o, f, c: W = (1, 0.5, -1, 2), R = 0.1 each,
     * peepholes i, o, f = (0.3, 0.2, 0.1); initial c = 1; X = 0.5 */
    mec_tensor *in[8] = {oh_f32(3, SHAPE(1, 1, 1), F32S(0.5f)), oh_f32(3, SHAPE(1, 4, 1), F32S(1, 0.5f, -1, 2)),
                         oh_f32(3, SHAPE(1, 4, 1), F32S(0.1f, 0.1f, 0.1f, 0.1f)), NULL, NULL,
                         oh_f32(3, SHAPE(1, 1, 1), F32S(0.2f)), oh_f32(3, SHAPE(1, 1, 1), F32S(1)),
                         oh_f32(2, SHAPE(1, 3), F32S(0.3f, 0.2f, 0.1f))};
    mec_tensor out[3];
    CHECK_OK(oh_node(&g, &node, "LSTM", 14, 8, 3));
    CHECK_OK(oh_run(g, node, 14, "ref", 8, in, 3, out));
    double x = 0.5, h = 0.2, c = 1;
    double i = sigm(x + 0.1 * h + 0.3 * c), f = sigm(-x + 0.1 * h + 0.1 * c), cc = tanh(2 * x + 0.1 * h);
    double cn = f * c + i * cc, o = sigm(0.5 * x + 0.1 * h + 0.2 * cn), hn = o * tanh(cn);
    check_vals(&out[0], 1, VALS(hn), 1e-5);
    check_vals(&out[1], 1, VALS(hn), 1e-5);
    check_vals(&out[2], 1, VALS(cn), 1e-5);
    oh_free(g, 3, out);

    /* clip bounds every pre-activation */
    CHECK_OK(oh_node(&g, &node, "LSTM", 14, 8, 3));
    mec_node_set_float(g, node, "clip", 0.05f);
    CHECK_OK(oh_run(g, node, 14, "ref", 8, in, 3, out));
    i = sigm(0.05), f = sigm(-0.05), cc = tanh(0.05), cn = f * c + i * cc, o = sigm(0.05);
    check_vals(&out[2], 1, VALS(cn), 1e-5);
    check_vals(&out[1], 1, VALS(o * tanh(cn)), 1e-5);
    oh_free(g, 3, out);

    /* W with the wrong gate count */
    mec_tensor *bad[3] = {in[0], oh_f32(3, SHAPE(1, 3, 1), F32S(1, 2, 3)), in[2]};
    CHECK_OK(oh_node(&g, &node, "LSTM", 14, 3, 1));
    CHECK(oh_run(g, node, 14, "ref", 3, bad, 1, out) == MEC_ERR_SHAPE);
    oh_free(g, 1, out);
    mec_tensor_destroy(bad[1]);
    oh_destroy_all(in, 8);
}

/* ------------------------------------------------------------- signal */

static void test_windows(void) {
    mec_graph *g;
    int node;
    mec_tensor *in[1] = {i64_scalar(4)}, out[1];
    CHECK_OK(oh_node(&g, &node, "HannWindow", 17, 1, 1));
    CHECK_OK(oh_run(g, node, 17, "ref", 1, in, 1, out));
    check_vals(&out[0], 4, VALS(0, 0.5, 1, 0.5), 1e-6);
    oh_free(g, 1, out);

    *(int64_t *)in[0]->data = 5;
    CHECK_OK(oh_node(&g, &node, "HannWindow", 17, 1, 1));
    mec_node_set_int(g, node, "periodic", 0);
    mec_node_set_int(g, node, "output_datatype", MEC_F64);
    CHECK_OK(oh_run(g, node, 17, "ref", 1, in, 1, out));
    CHECK(out[0].dtype == MEC_F64);
    check_vals(&out[0], 5, VALS(0, 0.5, 1, 0.5, 0), 1e-12);
    oh_free(g, 1, out);

    *(int64_t *)in[0]->data = 2;
    CHECK_OK(oh_node(&g, &node, "HammingWindow", 17, 1, 1));
    CHECK_OK(oh_run(g, node, 17, "ref", 1, in, 1, out));
    check_vals(&out[0], 2, VALS(25.0 / 46 - 21.0 / 46, 25.0 / 46 + 21.0 / 46), 1e-6);
    oh_free(g, 1, out);

    CHECK_OK(oh_node(&g, &node, "BlackmanWindow", 17, 1, 1));
    CHECK_OK(oh_run(g, node, 17, "ref", 1, in, 1, out));
    check_vals(&out[0], 2, VALS(0.42 - 0.5 + 0.08, 0.42 + 0.5 + 0.08), 1e-6);
    oh_free(g, 1, out);

    *(int64_t *)in[0]->data = -1;
    CHECK_OK(oh_node(&g, &node, "BlackmanWindow", 17, 1, 1));
    CHECK(oh_run(g, node, 17, "ref", 1, in, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);
    oh_destroy_all(in, 1);
}

static void test_dft(void) {
    mec_graph *g;
    int node;
    /* real (1, 4, 1) = 1, 2, 3, 4 -> 10, -2+2i, -2, -2-2i */
    mec_tensor *in[2] = {oh_f32(3, SHAPE(1, 4, 1), F32S(1, 2, 3, 4)), NULL}, out[1];
    CHECK_OK(oh_node(&g, &node, "DFT", 17, 1, 1));
    CHECK_OK(oh_run(g, node, 17, "ref", 1, in, 1, out));
    oh_check_shape(&out[0], 3, SHAPE(1, 4, 2));
    check_vals(&out[0], 8, VALS(10, 0, -2, 2, -2, 0, -2, -2), 1e-5);
    mec_tensor *spec = NULL;
    CHECK_OK(mec_tensor_clone(&out[0], &spec));
    oh_free(g, 1, out);

    /* the inverse gives the signal back (complex, imaginary parts 0) */
    mec_tensor *inv[1] = {spec};
    CHECK_OK(oh_node(&g, &node, "DFT", 17, 1, 1));
    mec_node_set_int(g, node, "inverse", 1);
    CHECK_OK(oh_run(g, node, 17, "ref", 1, inv, 1, out));
    check_vals(&out[0], 8, VALS(1, 0, 2, 0, 3, 0, 4, 0), 1e-5);
    oh_free(g, 1, out);

    /* onesided with dft_length 6 (zero-padded): bins 0..3 */
    in[1] = i64_scalar(6);
    CHECK_OK(oh_node(&g, &node, "DFT", 17, 2, 1));
    mec_node_set_int(g, node, "onesided", 1);
    CHECK_OK(oh_run(g, node, 17, "ref", 2, in, 1, out));
    oh_check_shape(&out[0], 3, SHAPE(1, 4, 2));
    /* X[3] = sum x_j (-1)^j = 1 - 2 + 3 - 4 */
    CHECK_NEAR(mec_tensor_get_f64(&out[0], 0), 10, 1e-5);
    CHECK_NEAR(mec_tensor_get_f64(&out[0], 6), -2, 1e-5);
    CHECK_NEAR(mec_tensor_get_f64(&out[0], 7), 0, 1e-5);
    oh_free(g, 1, out);

    /* the last axis holds (re, im): it cannot be the transform axis */
    CHECK_OK(oh_node(&g, &node, "DFT", 17, 1, 1));
    mec_node_set_int(g, node, "axis", 2);
    CHECK(oh_run(g, node, 17, "ref", 1, in, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);
    oh_destroy_all(in, 2);
    mec_tensor_destroy(spec);
}

static void test_stft(void) {
    mec_graph *g;
    int node;
    /* signal 1..6, frames of 4 every 2 with a rectangular window: 2 frames */
    mec_tensor *in[3] = {oh_f32(3, SHAPE(1, 6, 1), F32S(1, 2, 3, 4, 5, 6)), i64_scalar(2),
                         oh_f32(1, SHAPE(4), F32S(1, 1, 1, 1))};
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, "STFT", 17, 3, 1));
    CHECK_OK(oh_run(g, node, 17, "ref", 3, in, 1, out));
    oh_check_shape(&out[0], 4, SHAPE(1, 2, 3, 2));
    /* frame 0 = 1..4 (as the DFT test); frame 1 = 3..6: 18, -2+2i, -2 */
    check_vals(&out[0], 12, VALS(10, 0, -2, 2, -2, 0, 18, 0, -2, 2, -2, 0), 1e-5);
    oh_free(g, 1, out);
    oh_destroy_all(in, 3);
}

static void test_mel_weight_matrix(void) {
    mec_graph *g;
    int node;
    /* 2 mel bins, dft 8, 8 kHz, 0..4 kHz: points fall in bins 0, 0, 1, 2 */
    mec_tensor *in[5] = {i64_scalar(2), i64_scalar(8), i64_scalar(8000), f32_scalar(0), f32_scalar(4000)};
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, "MelWeightMatrix", 17, 5, 1));
    CHECK_OK(oh_run(g, node, 17, "ref", 5, in, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(5, 2));
    check_vals(&out[0], 10, VALS(1, 0, 0, 1, 0, 0, 0, 0, 0, 0), 1e-6);
    oh_free(g, 1, out);
    oh_destroy_all(in, 5);
}

/* ------------------------------------------------------------- detection */

static void test_nms(void) {
    mec_graph *g;
    int node;
    /* box 1 overlaps box 0 (IoU 0.9); box 2 is apart; scores 0.9, 0.95, 0.3 */
    mec_tensor *in[5] = {oh_f32(3, SHAPE(1, 3, 4), F32S(0, 0, 10, 10, 0, 1, 10, 10, 20, 20, 30, 30)),
                         oh_f32(3, SHAPE(1, 1, 3), F32S(0.9f, 0.95f, 0.3f)), i64_scalar(3), f32_scalar(0.5f),
                         f32_scalar(0.0f)};
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, "NonMaxSuppression", 11, 5, 1));
    CHECK_OK(oh_run(g, node, 11, "ref", 5, in, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 3));
    check_vals(&out[0], 6, VALS(0, 0, 1, 0, 0, 2), 0);
    oh_free(g, 1, out);

    /* score threshold above 0.3 and max one box */
    *(int64_t *)in[2]->data = 1;
    *(float *)in[4]->data = 0.5f;
    CHECK_OK(oh_node(&g, &node, "NonMaxSuppression", 11, 5, 1));
    CHECK_OK(oh_run(g, node, 11, "ref", 5, in, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(1, 3));
    oh_free(g, 1, out);

    /* no max_output_boxes_per_class: nothing is selected */
    CHECK_OK(oh_node(&g, &node, "NonMaxSuppression", 11, 2, 1));
    CHECK_OK(oh_run(g, node, 11, "ref", 2, in, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(0, 3));
    oh_free(g, 1, out);
    oh_destroy_all(in, 5);
}

static void test_roialign(void) {
    mec_graph *g;
    int node;
    mec_tensor *in[3] = {oh_f32(4, SHAPE(1, 1, 2, 2), F32S(1, 2, 3, 4)), oh_f32(2, SHAPE(1, 4), F32S(0, 0, 1, 1)),
                         oh_i64(1, SHAPE(1), I64S(0))};
    mec_tensor out[1];
    /* one sample at (0.5, 0.5): the mean of the four pixels */
    CHECK_OK(oh_node(&g, &node, "RoiAlign", 16, 3, 1));
    mec_node_set_string(g, node, "coordinate_transformation_mode", "output_half_pixel");
    mec_node_set_int(g, node, "sampling_ratio", 1);
    CHECK_OK(oh_run(g, node, 16, "ref", 3, in, 1, out));
    oh_check_shape(&out[0], 4, SHAPE(1, 1, 1, 1));
    check_vals(&out[0], 1, VALS(2.5), 1e-6);
    oh_free(g, 1, out);

    /* half_pixel shifts the roi to (-0.5..0.5): sample at (0, 0) */
    CHECK_OK(oh_node(&g, &node, "RoiAlign", 16, 3, 1));
    mec_node_set_int(g, node, "sampling_ratio", 1);
    CHECK_OK(oh_run(g, node, 16, "ref", 3, in, 1, out));
    check_vals(&out[0], 1, VALS(1), 1e-6);
    oh_free(g, 1, out);

    ((int64_t *)in[2]->data)[0] = 1;
    CHECK_OK(oh_node(&g, &node, "RoiAlign", 16, 3, 1));
    CHECK(oh_run(g, node, 16, "ref", 3, in, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);
    oh_destroy_all(in, 3);
}

static void test_gridsample(void) {
    mec_graph *g;
    int node;
    /* grid points: centre, top-left corner, far outside right */
    mec_tensor *in[2] = {oh_f32(4, SHAPE(1, 1, 2, 2), F32S(1, 2, 3, 4)),
                         oh_f32(4, SHAPE(1, 1, 3, 2), F32S(0, 0, -1, -1, 3, 0))};
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, "GridSample", 16, 2, 1));
    mec_node_set_int(g, node, "align_corners", 1);
    CHECK_OK(oh_run(g, node, 16, "ref", 2, in, 1, out));
    oh_check_shape(&out[0], 4, SHAPE(1, 1, 1, 3));
    check_vals(&out[0], 3, VALS(2.5, 1, 0), 1e-6); /* zeros padding */
    oh_free(g, 1, out);

    CHECK_OK(oh_node(&g, &node, "GridSample", 16, 2, 1));
    mec_node_set_int(g, node, "align_corners", 1);
    mec_node_set_string(g, node, "padding_mode", "border");
    CHECK_OK(oh_run(g, node, 16, "ref", 2, in, 1, out));
    check_vals(&out[0], 3, VALS(2.5, 1, 3), 1e-6); /* right edge, mid row */
    oh_free(g, 1, out);

    CHECK_OK(oh_node(&g, &node, "GridSample", 16, 2, 1));
    mec_node_set_string(g, node, "mode", "cubic");
    CHECK(oh_run(g, node, 16, "ref", 2, in, 1, out) == MEC_ERR_INVALID_ARG);
    oh_free(g, 1, out);
    oh_destroy_all(in, 2);
}

static void test_maxunpool(void) {
    mec_graph *g;
    int node;
    mec_tensor *in[3] = {oh_f32(4, SHAPE(1, 1, 1, 2), F32S(5, 6)), oh_i64(4, SHAPE(1, 1, 1, 2), I64S(1, 2)),
                         oh_i64(1, SHAPE(4), I64S(1, 1, 2, 5))};
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, "MaxUnpool", 11, 2, 1));
    mec_node_set_ints(g, node, "kernel_shape", 2, I64S(1, 2));
    mec_node_set_ints(g, node, "strides", 2, I64S(1, 2));
    CHECK_OK(oh_run(g, node, 11, "ref", 2, in, 1, out));
    oh_check_shape(&out[0], 4, SHAPE(1, 1, 1, 4));
    check_vals(&out[0], 4, VALS(0, 5, 6, 0), 0);
    oh_free(g, 1, out);

    /* a larger output_shape pads at the ends; indices keep their (h, w) */
    CHECK_OK(oh_node(&g, &node, "MaxUnpool", 11, 3, 1));
    mec_node_set_ints(g, node, "kernel_shape", 2, I64S(1, 2));
    mec_node_set_ints(g, node, "strides", 2, I64S(1, 2));
    CHECK_OK(oh_run(g, node, 11, "ref", 3, in, 1, out));
    oh_check_shape(&out[0], 4, SHAPE(1, 1, 2, 5));
    check_vals(&out[0], 10, VALS(0, 5, 6, 0, 0, 0, 0, 0, 0, 0), 0);
    oh_free(g, 1, out);

    ((int64_t *)in[1]->data)[1] = 4;
    CHECK_OK(oh_node(&g, &node, "MaxUnpool", 11, 2, 1));
    mec_node_set_ints(g, node, "kernel_shape", 2, I64S(1, 2));
    mec_node_set_ints(g, node, "strides", 2, I64S(1, 2));
    CHECK(oh_run(g, node, 11, "ref", 2, in, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);
    oh_destroy_all(in, 3);
}

static void test_unique(void) {
    mec_graph *g;
    int node;
    mec_tensor *in[1] = {oh_f32(1, SHAPE(4), F32S(2, 1, 1, 3))}, out[4];
    CHECK_OK(oh_node(&g, &node, "Unique", 11, 1, 4));
    CHECK_OK(oh_run(g, node, 11, "ref", 1, in, 4, out));
    check_vals(&out[0], 3, VALS(1, 2, 3), 0);
    check_vals(&out[1], 3, VALS(1, 0, 3), 0);
    check_vals(&out[2], 4, VALS(1, 0, 0, 2), 0);
    check_vals(&out[3], 3, VALS(2, 1, 1), 0);
    oh_free(g, 4, out);

    CHECK_OK(oh_node(&g, &node, "Unique", 11, 1, 4));
    mec_node_set_int(g, node, "sorted", 0);
    CHECK_OK(oh_run(g, node, 11, "ref", 1, in, 4, out));
    check_vals(&out[0], 3, VALS(2, 1, 3), 0);
    check_vals(&out[1], 3, VALS(0, 1, 3), 0);
    check_vals(&out[2], 4, VALS(0, 1, 1, 2), 0);
    check_vals(&out[3], 3, VALS(1, 2, 1), 0);
    oh_free(g, 4, out);
    oh_destroy_all(in, 1);

    /* rows along axis 0: (1, 2), (0, 5), (1, 2) */
    mec_tensor *rows[1] = {oh_i64(2, SHAPE(3, 2), I64S(1, 2, 0, 5, 1, 2))};
    CHECK_OK(oh_node(&g, &node, "Unique", 11, 1, 4));
    mec_node_set_int(g, node, "axis", 0);
    CHECK_OK(oh_run(g, node, 11, "ref", 1, rows, 4, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 2));
    check_vals(&out[0], 4, VALS(0, 5, 1, 2), 0);
    check_vals(&out[2], 3, VALS(1, 0, 1), 0);
    check_vals(&out[3], 2, VALS(1, 2), 0);
    oh_free(g, 4, out);
    oh_destroy_all(rows, 1);
}

static void test_reverse_sequence(void) {
    mec_graph *g;
    int node;
    mec_tensor *in[2] = {oh_i64(2, SHAPE(3, 2), I64S(0, 1, 2, 3, 4, 5)), oh_i64(1, SHAPE(2), I64S(3, 2))};
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, "ReverseSequence", 10, 2, 1));
    CHECK_OK(oh_run(g, node, 10, "ref", 2, in, 1, out));
    check_vals(&out[0], 6, VALS(4, 3, 2, 1, 0, 5), 0);
    oh_free(g, 1, out);

    ((int64_t *)in[1]->data)[0] = 4;
    CHECK_OK(oh_node(&g, &node, "ReverseSequence", 10, 2, 1));
    CHECK(oh_run(g, node, 10, "ref", 2, in, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);
    oh_destroy_all(in, 2);
}

static void test_det(void) {
    mec_graph *g;
    int node;
    /* block-diagonal [[1, 2], [3, 4]] (+) [1] = -2; the second needs a row swap */
    mec_tensor *in[1] = {oh_f32(3, SHAPE(2, 3, 3), F32S(1, 2, 0, 3, 4, 0, 0, 0, 1, 0, 1, 2, 1, 0, 3, 4, -3, 8))};
    mec_tensor out[1];
    CHECK_OK(oh_node(&g, &node, "Det", 11, 1, 1));
    CHECK_OK(oh_run(g, node, 11, "ref", 1, in, 1, out));
    oh_check_shape(&out[0], 1, SHAPE(2));
    /* second: 0*(0*8+9) - 1*(8-12) + 2*(-3-0) = 4 - 6 = -2 */
    check_vals(&out[0], 2, VALS(-2, -2), 1e-5);
    oh_free(g, 1, out);
    oh_destroy_all(in, 1);
}

static void test_einsum(void) {
    mec_graph *g;
    int node;
    mec_tensor *a = oh_f32(2, SHAPE(2, 3), F32S(1, 2, 3, 4, 5, 6));
    mec_tensor *b = oh_f32(2, SHAPE(3, 2), F32S(1, 0, 0, 1, 1, 1));
    mec_tensor *in[2] = {a, b}, out[1];
    CHECK_OK(oh_node(&g, &node, "Einsum", 12, 2, 1));
    mec_node_set_string(g, node, "equation", "ij,jk->ik");
    CHECK_OK(oh_run(g, node, 12, "ref", 2, in, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 2));
    check_vals(&out[0], 4, VALS(4, 5, 10, 11), 1e-6);
    oh_free(g, 1, out);

    /* implicit output: letters seen once, alphabetically: "ij,jk" -> "ik" */
    CHECK_OK(oh_node(&g, &node, "Einsum", 12, 2, 1));
    mec_node_set_string(g, node, "equation", "ij, jk");
    CHECK_OK(oh_run(g, node, 12, "ref", 2, in, 1, out));
    check_vals(&out[0], 4, VALS(4, 5, 10, 11), 1e-6);
    oh_free(g, 1, out);

    /* transpose and a full sum */
    CHECK_OK(oh_node(&g, &node, "Einsum", 12, 1, 1));
    mec_node_set_string(g, node, "equation", "ij->ji");
    CHECK_OK(oh_run(g, node, 12, "ref", 1, in, 1, out));
    check_vals(&out[0], 6, VALS(1, 4, 2, 5, 3, 6), 0);
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "Einsum", 12, 1, 1));
    mec_node_set_string(g, node, "equation", "ij->");
    CHECK_OK(oh_run(g, node, 12, "ref", 1, in, 1, out));
    oh_check_shape(&out[0], 0, NULL);
    check_vals(&out[0], 1, VALS(21), 1e-6);
    oh_free(g, 1, out);

    /* batch diagonal with an ellipsis */
    mec_tensor *sq[1] = {oh_f32(3, SHAPE(2, 2, 2), F32S(1, 2, 3, 4, 5, 6, 7, 8))};
    CHECK_OK(oh_node(&g, &node, "Einsum", 12, 1, 1));
    mec_node_set_string(g, node, "equation", "...ii->...i");
    CHECK_OK(oh_run(g, node, 12, "ref", 1, sq, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 2));
    check_vals(&out[0], 4, VALS(1, 4, 5, 8), 0);
    oh_free(g, 1, out);

    /* int64 inner product */
    mec_tensor *iv[2] = {oh_i64(1, SHAPE(3), I64S(1, 2, 3)), oh_i64(1, SHAPE(3), I64S(4, 5, 6))};
    CHECK_OK(oh_node(&g, &node, "Einsum", 12, 2, 1));
    mec_node_set_string(g, node, "equation", "i,i");
    CHECK_OK(oh_run(g, node, 12, "ref", 2, iv, 1, out));
    CHECK(out[0].dtype == MEC_I64 && mec_tensor_get_i64(&out[0], 0) == 32);
    oh_free(g, 1, out);

    /* the batched-GEMM path: batch labels, a transposed output, and a
     * label only one operand has (summed out) — against direct loops */
    float av[24], bv[24];
    for (int i = 0; i < 24; i++) av[i] = (float)(i % 7) - 3, bv[i] = (float)(i % 5) * 0.5f - 1;
    mec_tensor *bm[2] = {oh_f32(3, SHAPE(2, 3, 4), av), oh_f32(3, SHAPE(2, 4, 3), bv)};
    CHECK_OK(oh_node(&g, &node, "Einsum", 12, 2, 1));
    mec_node_set_string(g, node, "equation", "bij,bjk->bki");
    CHECK_OK(oh_run(g, node, 12, "ref", 2, bm, 1, out));
    oh_check_shape(&out[0], 3, SHAPE(2, 3, 3));
    for (int b2 = 0; b2 < 2; b2++)
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 3; k++) {
                double want = 0;
                for (int j = 0; j < 4; j++) want += av[(b2 * 3 + i) * 4 + j] * bv[(b2 * 4 + j) * 3 + k];
                CHECK_NEAR(mec_tensor_get_f64(&out[0], (b2 * 3 + k) * 3 + i), want, 1e-5);
            }
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "Einsum", 12, 2, 1));
    mec_node_set_string(g, node, "equation", "bij,bkl->bl");
    CHECK_OK(oh_run(g, node, 12, "ref", 2, bm, 1, out));
    for (int b2 = 0; b2 < 2; b2++)
        for (int l = 0; l < 3; l++) {
            double sa = 0, sb = 0;
            for (int i = 0; i < 12; i++) sa += av[b2 * 12 + i];
            for (int k = 0; k < 4; k++) sb += bv[(b2 * 4 + k) * 3 + l];
            CHECK_NEAR(mec_tensor_get_f64(&out[0], b2 * 3 + l), sa * sb, 1e-4);
        }
    oh_free(g, 1, out);
    oh_destroy_all(bm, 2);

    /* mismatched sizes and malformed equations are errors */
    CHECK_OK(oh_node(&g, &node, "Einsum", 12, 2, 1));
    mec_node_set_string(g, node, "equation", "ij,ij->ij");
    CHECK(oh_run(g, node, 12, "ref", 2, in, 1, out) == MEC_ERR_SHAPE);
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "Einsum", 12, 2, 1));
    mec_node_set_string(g, node, "equation", "ij,j#->i");
    CHECK(oh_run(g, node, 12, "ref", 2, in, 1, out) == MEC_ERR_INVALID_ARG);
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "Einsum", 12, 2, 1));
    mec_node_set_string(g, node, "equation", "ij->i");
    CHECK(oh_run(g, node, 12, "ref", 2, in, 1, out) == MEC_ERR_INVALID_ARG);
    oh_free(g, 1, out);
    oh_destroy_all(in, 2);
    oh_destroy_all(sq, 1);
    oh_destroy_all(iv, 2);
}

int main(void) {
    RUN(test_nllloss);
    RUN(test_softmax_cross_entropy);
    RUN(test_rnn);
    RUN(test_gru);
    RUN(test_lstm);
    RUN(test_windows);
    RUN(test_dft);
    RUN(test_stft);
    RUN(test_mel_weight_matrix);
    RUN(test_nms);
    RUN(test_roialign);
    RUN(test_gridsample);
    RUN(test_maxunpool);
    RUN(test_unique);
    RUN(test_reverse_sequence);
    RUN(test_det);
    RUN(test_einsum);
    return TEST_SUMMARY();
}
