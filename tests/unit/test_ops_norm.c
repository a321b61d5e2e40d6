/* norm ops: LayerNormalization (with Mean/InvStdDev), LRN,
 * InstanceNormalization and BatchNormalization (inference and training mode)
 * against PyTorch values, MeanVarianceNormalization against its definition,
 * and the checks. */
#include "mec/ops.h"
#include "op_harness.h"
#include "test.h"

/* Values from torch.nn.functional (training-mode statistics in float64). */
static const float ln_y[24] = {-0.25, 1.0378357, -0.26261184, 2.3761187, -0.25, -1.8499812, 0.69999379, -0.6499964, -0.25, 2.5391622, 0.12048223, -2.3383584, -0.25, -1.8499813, 0.69999373, -0.6499964, -0.25, 2.5391622, 0.12048224, -2.3383584, -0.25, -0.11144666, -0.76305401, 1.1957866};
static const float ln_mean[6] = {0, 0.15000002, -0.52500004, 0.44999999, -0.22499999, -0.075000003};
static const float ln_inv[6] = {0.87537289, 1.3333215, 1.070953, 1.3333215, 1.0709529, 1.070953};
static const float lrn_y[20] = {-1.1753458, 0.47028491, -0.47020596, 1.175374, 0.23497903, -0.70527512, 0.94038934, 0, -0.94038934, 0.70527512, -0.23497903, -1.1753458, 0.47010452, -0.47010452, 1.1753458, 0.23497903, -0.70542735, 0.94041193, 0, -0.94047958};
static const float in_y[30] = {-0.25, -0.25, -0.25, -0.25, -0.25, -1.173017, 2.147356, 0.25, -1.6473562, 1.673017, -0.11664183, -0.69985092, 0.32076502, -0.26244411, 0.75817186, -0.25, -0.25, -0.25, -0.25, -0.25, 2.1311665, 0.040981498, -2.0492034, 1.6086203, -0.48156476, 0.62705547, -0.069672838, -0.76640117, 0.45287344, -0.24385493};
static const float bn_y[30] = {-0.25, -0.25, -0.25, -0.25, -0.25, -1.6591691, 2.7955589, 0.25, -2.2955589, 2.159169, -0.27950674, -0.95032293, 0.22360541, -0.44721079, 0.72671753, -0.25, -0.25, -0.25, -0.25, -0.25, 2.159169, -0.38638973, -2.9319487, 1.5227795, -1.0227795, 0.72671753, 0.055901356, -0.61491483, 0.55901349, -0.1118027};
static const float bn_train_y[30] = {-0.25, -0.25, -0.25, -0.25, -0.25, -1.0845122, 2.3753345, 0.39827916, -1.5787762, 1.8810706, -0.24525446, -0.85839057, 0.21459766, -0.3985385, 0.67444974, -0.25, -0.25, -0.25, -0.25, -0.25, 1.8810706, -0.09598469, -2.07304, 1.3868068, -0.59024853, 0.67444974, 0.061313614, -0.55182248, 0.52116573, -0.091970421};
static const float bn_train_rm[3] = {-0.16600001, -0.018000001, 0.19600001};
static const float bn_train_rv[3] = {0.82161999, 0.56577998, 0.83152002};

/* oh_pat_t with every value v mapped to |v| * abs_scale + add (abs when abs_scale < 0 is not used).
 */
static mec_tensor *param(int64_t n, int a, int m, double s, bool absval, float add) {
    mec_tensor *t = oh_pat_t(1, &n, a, m, s);
    float *f = t->data;
    for (int64_t i = 0; i < n; i++) f[i] = (absval ? fabsf(f[i]) : f[i]) + add;
    return t;
}

static void test_layer_norm(void) {
    int64_t xs[] = {2, 3, 4};
    mec_tensor *in[3] = {oh_pat_t(3, xs, 7, 11, 0.3), param(4, 3, 5, 0.5, false, 1),
                         param(4, 2, 3, 0.25, false, 0)};
    mec_tensor out[3];
    CHECK_OK(oh_run_op("LayerNormalization", 17, 3, in, 3, out, NULL));
    oh_check_close(&out[0], ln_y, 24, 1e-5);
    CHECK(out[1].ndim == 3 && out[1].shape[0] == 2 && out[1].shape[1] == 3 && out[1].shape[2] == 1);
    oh_check_close(&out[1], ln_mean, 6, 1e-6);
    oh_check_close(&out[2], ln_inv, 6, 1e-5);
    oh_release(3, out);
    /* scale of the wrong length */
    mec_tensor_destroy(in[1]);
    in[1] = param(3, 3, 5, 0.5, false, 1);
    CHECK(oh_run_op("LayerNormalization", 17, 3, in, 1, out, NULL) == MEC_ERR_SHAPE);
    CHECK(strstr(mec_last_error(), "normalized shape") != NULL);
    for (int i = 0; i < 3; i++) mec_tensor_destroy(in[i]);
}

static void set_lrn(mec_graph *g, int n) {
    mec_node_set_int(g, n, "size", 3);
    mec_node_set_float(g, n, "alpha", 0.002f);
    mec_node_set_float(g, n, "beta", 0.6f);
    mec_node_set_float(g, n, "bias", 1.5f);
}

static void test_lrn(void) {
    int64_t xs[] = {1, 5, 2, 2};
    mec_tensor *x = oh_pat_t(4, xs, 7, 11, 0.3), out[1];
    CHECK_OK(oh_run_op("LRN", 13, 1, &x, 1, out, set_lrn));
    oh_check_close(&out[0], lrn_y, 20, 1e-5);
    oh_release(1, out);
    CHECK(oh_run_op("LRN", 13, 1, &x, 1, out, NULL) == MEC_ERR_GRAPH); /* size is required */
    mec_tensor_destroy(x);
}

static void test_instance_norm(void) {
    int64_t xs[] = {2, 3, 5};
    mec_tensor *in[3] = {oh_pat_t(3, xs, 7, 11, 0.3), param(3, 3, 5, 0.5, false, 1),
                         param(3, 2, 3, 0.25, false, 0)};
    mec_tensor out[1];
    CHECK_OK(oh_run_op("InstanceNormalization", 6, 3, in, 1, out, NULL));
    oh_check_close(&out[0], in_y, 30, 1e-5);
    oh_release(1, out);
    for (int i = 0; i < 3; i++) mec_tensor_destroy(in[i]);
}

static void set_training(mec_graph *g, int n) {
    mec_node_set_int(g, n, "training_mode", 1);
    mec_node_set_float(g, n, "momentum", 0.8f);
}

static void test_batch_norm(void) {
    int64_t xs[] = {2, 3, 5};
    mec_tensor *in[5] = {oh_pat_t(3, xs, 7, 11, 0.3), param(3, 3, 5, 0.5, false, 1),
                         param(3, 2, 3, 0.25, false, 0), param(3, 2, 5, 0.1, false, 0),
                         param(3, 3, 7, 0.1, true, 0.5f)};
    mec_tensor out[3];
    CHECK_OK(oh_run_op("BatchNormalization", 15, 5, in, 1, out, NULL));
    oh_check_close(&out[0], bn_y, 30, 1e-5);
    oh_release(1, out);
    CHECK_OK(oh_run_op("BatchNormalization", 9, 5, in, 1, out, NULL));
    oh_check_close(&out[0], bn_y, 30, 1e-5);
    oh_release(1, out);
    CHECK_OK(oh_run_op("BatchNormalization", 15, 5, in, 3, out, set_training));
    oh_check_close(&out[0], bn_train_y, 30, 1e-5);
    oh_check_close(&out[1], bn_train_rm, 3, 1e-5);
    oh_check_close(&out[2], bn_train_rv, 3, 1e-5);
    oh_release(3, out);
    /* running statistics requested without training_mode */
    CHECK(oh_run_op("BatchNormalization", 15, 5, in, 3, out, NULL) == MEC_ERR_UNSUPPORTED);
    mec_tensor_destroy(in[3]);
    in[3] = param(4, 2, 5, 0.1, false, 0);
    CHECK(oh_run_op("BatchNormalization", 15, 5, in, 1, out, NULL) == MEC_ERR_SHAPE);
    CHECK(strstr(mec_last_error(), "input 3") != NULL);
    for (int i = 0; i < 5; i++) mec_tensor_destroy(in[i]);
}

/* MVN over the default axes (0, 2, 3): per channel, (x - mean) / (std + 1e-9). */
static void test_mvn(void) {
    int64_t xs[] = {2, 3, 2, 2};
    mec_tensor *x = oh_pat_t(4, xs, 7, 11, 0.3), out[1];
    CHECK_OK(oh_run_op("MeanVarianceNormalization", 13, 1, &x, 1, out, NULL));
    const float *xf = x->data;
    float want[24];
    for (int c = 0; c < 3; c++) {
        double s = 0, s2 = 0;
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 4; i++) {
                double v = xf[(n * 3 + c) * 4 + i];
                s += v;
                s2 += v * v;
            }
        double m = s / 8, sd = sqrt(s2 / 8 - m * m) + 1e-9;
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 4; i++) want[(n * 3 + c) * 4 + i] = (float)((xf[(n * 3 + c) * 4 + i] - m) / sd);
    }
    oh_check_close(&out[0], want, 24, 1e-5);
    oh_release(1, out);
    mec_tensor_destroy(x);
}

int main(void) {
    RUN(test_layer_norm);
    RUN(test_lrn);
    RUN(test_instance_norm);
    RUN(test_batch_norm);
    RUN(test_mvn);
    return TEST_SUMMARY();
}
