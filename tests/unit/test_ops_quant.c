/* quant ops: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
 * QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger run through the op
 * harness. Inputs come from a small LCG (same sequence in the generator);
 * expected values were computed with a pure-Python reference (/usr/bin/python3,
 * float32 emulated with struct, round() being half-to-even) and pasted here. */
#include "mec/ops.h"
#include "op_harness.h"
#include "test.h"

#include <stdint.h>

/* ------------------------------------------------------------- helpers */

static uint32_t lcg_state;
static int lcg_u8(void) {
    lcg_state = (lcg_state * 1103515245u + 12345u) & 0x7fffffffu;
    return (int)((lcg_state >> 16) & 0xff);
}

/* A tensor of dtype with values given as ints (u8/i8/i32) or floats (f32). */
static mec_tensor *mk_int(mec_dtype dt, int ndim, const int64_t *shape, const int32_t *v) {
    mec_tensor *t = NULL;
    if (mec_tensor_create(&t, dt, ndim, shape)) return NULL;
    int64_t n = mec_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        if (dt == MEC_U8) ((uint8_t *)t->data)[i] = (uint8_t)v[i];
        else if (dt == MEC_I8) ((int8_t *)t->data)[i] = (int8_t)v[i];
        else ((int32_t *)t->data)[i] = v[i];
    }
    return t;
}

/* u8/i8 tensor filled from the LCG seeded with seed (if seed != 0). */
static mec_tensor *mk_rand(mec_dtype dt, int ndim, const int64_t *shape, uint32_t seed) {
    if (seed) lcg_state = seed;
    mec_tensor *t = NULL;
    if (mec_tensor_create(&t, dt, ndim, shape)) return NULL;
    int64_t n = mec_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        int v = lcg_u8();
        if (dt == MEC_U8) ((uint8_t *)t->data)[i] = (uint8_t)v;
        else ((int8_t *)t->data)[i] = (int8_t)(v - 128);
    }
    return t;
}

static mec_tensor *scalar_f32(float v) { return oh_f32(0, NULL, &v); }
static mec_tensor *scalar_q(mec_dtype dt, int32_t v) { return mk_int(dt, 0, NULL, &v); }

static void destroy_all(int n, mec_tensor **t) {
    for (int i = 0; i < n; i++) mec_tensor_destroy(t[i]);
}

/* Compares out (u8/i8/i32) with expected, reporting the first mismatch. */
static void check_ints(const mec_tensor *out, const int32_t *expected, int64_t n) {
    CHECK(mec_tensor_numel(out) == n);
    if (mec_tensor_numel(out) != n) return;
    for (int64_t i = 0; i < n; i++) {
        int64_t got = mec_tensor_get_i64(out, i);
        if (got != expected[i]) {
            fprintf(stderr, "  element %lld = %lld, expected %d\n", (long long)i, (long long)got,
                    expected[i]);
            CHECK(got == expected[i]);
            return;
        }
    }
}

/* Sums used as checksums of large outputs: sum(y) and sum(y[i] * (i % 7 + 1)). */
static void checksums(const mec_tensor *t, int64_t *s1, int64_t *s2) {
    *s1 = *s2 = 0;
    for (int64_t i = 0; i < mec_tensor_numel(t); i++) {
        int64_t v = mec_tensor_get_i64(t, i);
        *s1 += v;
        *s2 += v * (i % 7 + 1);
    }
}

/* ------------------------------------------------ Quantize / Dequantize */

static void test_quantize_ties_and_saturation(void) {
    /* half to even, saturation to int8, out-of-range floats clamp */
    int64_t shp[] = {10};
    float xs[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 1e10f, -1e10f, 126.5f, -128.5f};
    int32_t expected[] = {0, 2, 2, 0, -2, -2, 127, -128, 126, -128};
    mec_tensor *in[3] = {oh_f32(1, shp, xs), scalar_f32(1.0f), scalar_q(MEC_I8, 0)}, out[1];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "QuantizeLinear", 13, 3, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 3, in, 1, out));
    CHECK(out[0].dtype == MEC_I8);
    check_ints(&out[0], expected, 10);
    oh_free(g, 1, out);
    destroy_all(3, in);
}

static void test_quantize_default_uint8_opset10(void) {
    /* no zero point: uint8 with zero point 0; int32 input is allowed */
    int64_t shp[] = {2, 3};
    int32_t xv[] = {-7, 0, 5, 6, 7, 1000};
    int32_t expected[] = {0, 0, 2, 3, 4, 255}; /* -3.5->-4->0, 2.5->2, 3.5->4 */
    mec_tensor *in[2] = {mk_int(MEC_I32, 2, shp, xv), scalar_f32(2.0f)}, out[1];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "QuantizeLinear", 10, 2, 1));
    CHECK_OK(oh_run(g, node, 10, "ref", 2, in, 1, out));
    CHECK(out[0].dtype == MEC_U8);
    oh_check_shape(&out[0], 2, shp);
    check_ints(&out[0], expected, 6);
    oh_free(g, 1, out);
    destroy_all(2, in);
}

static void test_quantize_per_axis(void) {
    /* x (2, 3), axis -1: per-column scale and int8 zero point; scalar scale with
     * 1-D x and the default axis 1 must also work (the axis is ignored). */
    int64_t shp[] = {2, 3}, c3[] = {3};
    float xv[] = {1.0f, 1.0f, 1.0f, -3.0f, 10.0f, -1000.0f};
    float sv[] = {0.5f, 0.25f, 4.0f};
    int32_t zv[] = {0, -10, 5};
    int32_t expected[] = {2, -6, 5, -6, 30, -128}; /* 1/4=0.25->0 +5 */
    mec_tensor *in[3] = {oh_f32(2, shp, xv), oh_f32(1, c3, sv), mk_int(MEC_I8, 1, c3, zv)}, out[1];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "QuantizeLinear", 13, 3, 1));
    CHECK_OK(mec_node_set_int(g, node, "axis", -1));
    CHECK_OK(oh_run(g, node, 13, "ref", 3, in, 1, out));
    check_ints(&out[0], expected, 6);
    oh_free(g, 1, out);
    destroy_all(3, in);

    int64_t s4[] = {4};
    float x4[] = {0.0f, 1.0f, 2.0f, 3.0f};
    int32_t e4[] = {128, 128, 129, 130}; /* 0.5 -> 0, 1.5 -> 2 */
    mec_tensor *in2[3] = {oh_f32(1, s4, x4), scalar_f32(2.0f), scalar_q(MEC_U8, 128)};
    CHECK_OK(oh_node(&g, &node, "QuantizeLinear", 13, 3, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 3, in2, 1, out));
    check_ints(&out[0], e4, 4);
    oh_free(g, 1, out);
    destroy_all(3, in2);
}

static void test_quantize_errors(void) {
    int64_t shp[] = {2, 3}, c3[] = {3}, c2[] = {2};
    float xv[6] = {0}, sv[3] = {1, 1, 1};
    int32_t zv[3] = {0, 0, 0};
    mec_graph *g;
    int node;
    mec_tensor out[1];
    /* per-axis before opset 13 */
    mec_tensor *in[3] = {oh_f32(2, shp, xv), oh_f32(1, c3, sv), mk_int(MEC_U8, 1, c3, zv)};
    CHECK_OK(oh_node(&g, &node, "QuantizeLinear", 10, 3, 1));
    CHECK(oh_run(g, node, 10, "ref", 3, in, 1, out) == MEC_ERR_SHAPE);
    CHECK(strstr(mec_last_error(), "node0") && strstr(mec_last_error(), "opset 13"));
    oh_free(g, 1, out);
    /* scale length does not match x's axis-1 dimension */
    CHECK_OK(oh_node(&g, &node, "DequantizeLinear", 13, 3, 1));
    CHECK_OK(mec_node_set_int(g, node, "axis", 0));
    mec_tensor *q = mk_rand(MEC_U8, 2, shp, 1);
    mec_tensor *dq_in[3] = {q, in[1], in[2]};
    CHECK(oh_run(g, node, 13, "ref", 3, dq_in, 1, out) == MEC_ERR_SHAPE);
    oh_free(g, 1, out);
    /* axis out of range */
    CHECK_OK(oh_node(&g, &node, "QuantizeLinear", 13, 3, 1));
    CHECK_OK(mec_node_set_int(g, node, "axis", 2));
    CHECK(oh_run(g, node, 13, "ref", 3, in, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);
    /* zero point shape differs from the scale's */
    mec_tensor *z2 = mk_int(MEC_U8, 1, c2, zv);
    mec_tensor *in_z2[3] = {in[0], in[1], z2};
    CHECK_OK(oh_node(&g, &node, "QuantizeLinear", 13, 3, 1));
    CHECK(oh_run(g, node, 13, "ref", 3, in_z2, 1, out) == MEC_ERR_SHAPE);
    oh_free(g, 1, out);
    /* DequantizeLinear zero point dtype must match x */
    mec_tensor *zi8 = scalar_q(MEC_I8, 0), *s1 = scalar_f32(1.0f);
    mec_tensor *in_dt[3] = {q, s1, zi8};
    CHECK_OK(oh_node(&g, &node, "DequantizeLinear", 13, 3, 1));
    CHECK(oh_run(g, node, 13, "ref", 3, in_dt, 1, out) == MEC_ERR_DTYPE);
    oh_free(g, 1, out);
    /* QuantizeLinear of uint8 input */
    mec_tensor *in_u8[2] = {q, s1};
    CHECK_OK(oh_node(&g, &node, "QuantizeLinear", 13, 2, 1));
    CHECK(oh_run(g, node, 13, "ref", 2, in_u8, 1, out) == MEC_ERR_UNSUPPORTED);
    oh_free(g, 1, out);
    destroy_all(3, in);
    mec_tensor_destroy(q);
    mec_tensor_destroy(z2);
    mec_tensor_destroy(zi8);
    mec_tensor_destroy(s1);
}

static void test_dequantize(void) {
    /* per-axis (axis 1 of (1, 3, 3, 2)) as in test_dequantizelinear_axis */
    int64_t shp[] = {1, 3, 3, 2}, c3[] = {3};
    int32_t xv[] = {3, 89, 34, 200, 74, 59, 5, 24, 24, 87, 32, 13, 245, 99, 4, 142, 121, 102};
    float sv[] = {2.0f, 4.0f, 5.0f};
    int32_t zv[] = {84, 24, 196};
    float expected[] = {-162, 10, -100, 232, -20, -50, -76, 0, 0, 252, 32, -44, 245, -485, -960, -270, -375, -470};
    mec_tensor *in[3] = {mk_int(MEC_U8, 4, shp, xv), oh_f32(1, c3, sv), mk_int(MEC_U8, 1, c3, zv)}, out[1];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "DequantizeLinear", 13, 3, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 3, in, 1, out));
    CHECK(out[0].dtype == MEC_F32);
    oh_check_shape(&out[0], 4, shp);
    for (int i = 0; i < 18; i++) CHECK_NEAR(((float *)out[0].data)[i], expected[i], 0);
    oh_free(g, 1, out);
    destroy_all(3, in);

    /* int32 without zero point, int8 with one (opset 10) */
    int64_t s3[] = {3};
    int32_t iv[] = {-2147483647, 0, 123456};
    mec_tensor *in32[2] = {mk_int(MEC_I32, 1, s3, iv), scalar_f32(0.5f)};
    CHECK_OK(oh_node(&g, &node, "DequantizeLinear", 10, 2, 1));
    CHECK_OK(oh_run(g, node, 10, "ref", 2, in32, 1, out));
    CHECK_NEAR(((float *)out[0].data)[0], -1073741824.0, 0); /* float(-2147483647) * 0.5 */
    CHECK_NEAR(((float *)out[0].data)[1], 0.0, 0);
    CHECK_NEAR(((float *)out[0].data)[2], 61728.0, 0);
    oh_free(g, 1, out);
    destroy_all(2, in32);

    int32_t i8v[] = {-128, 0, 127};
    mec_tensor *in8[3] = {mk_int(MEC_I8, 1, s3, i8v), scalar_f32(0.25f), scalar_q(MEC_I8, -1)};
    CHECK_OK(oh_node(&g, &node, "DequantizeLinear", 10, 3, 1));
    CHECK_OK(oh_run(g, node, 10, "ref", 3, in8, 1, out));
    CHECK_NEAR(((float *)out[0].data)[0], -31.75, 0);
    CHECK_NEAR(((float *)out[0].data)[1], 0.25, 0);
    CHECK_NEAR(((float *)out[0].data)[2], 32.0, 0);
    oh_free(g, 1, out);
    destroy_all(3, in8);
}

static void test_dynamic_quantize(void) {
    /* the three ONNX backend cases: mixed signs, all negative, all positive */
    static const float xs[3][6] = {{0.0f, 2.0f, -3.0f, -2.5f, 1.34f, 0.5f},
                                   {-1.0f, -2.1f, -1.3f, -2.5f, -3.34f, -4.0f},
                                   {1.0f, 2.1f, 1.3f, 2.5f, 3.34f, 4.0f}};
    static const int32_t ys[3][6] = {{153, 255, 0, 26, 221, 179},
                                     {191, 121, 172, 96, 42, 0},
                                     {64, 134, 83, 159, 213, 255}};
    static const float scales[3] = {0.019607843831181526f, 0.01568627543747425f, 0.01568627543747425f};
    static const int zps[3] = {153, 255, 0};
    int64_t shp[] = {6};
    for (int c = 0; c < 3; c++) {
        mec_tensor *in[1] = {oh_f32(1, shp, xs[c])}, out[3];
        mec_graph *g;
        int node;
        CHECK_OK(oh_node(&g, &node, "DynamicQuantizeLinear", 11, 1, 3));
        CHECK_OK(oh_run(g, node, 11, "ref", 1, in, 3, out));
        check_ints(&out[0], ys[c], 6);
        CHECK(out[1].ndim == 0 && out[2].ndim == 0 && out[2].dtype == MEC_U8);
        CHECK(*(float *)out[1].data == scales[c]);
        CHECK(*(uint8_t *)out[2].data == zps[c]);
        oh_free(g, 3, out);
        destroy_all(1, in);
    }
    /* all zeros: scale 1, zero point 0 (no division by zero) */
    float zeros[4] = {0};
    int64_t s4[] = {4};
    mec_tensor *in[1] = {oh_f32(1, s4, zeros)}, out[3];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "DynamicQuantizeLinear", 11, 1, 3));
    CHECK_OK(oh_run(g, node, 11, "ref", 1, in, 3, out));
    CHECK(*(float *)out[1].data == 1.0f && *(uint8_t *)out[2].data == 0);
    oh_free(g, 3, out);
    destroy_all(1, in);
}

/* ---------------------------------------------------------- convolution */

/* x u8 (1,4,7,6), w i8 (6,2,3,3), group 2, strides (2,1), dilations (1,2),
 * pads (1,2,0,1), per-channel w_scale and w_zero_point, bias; y u8 (1,6,3,5). */
static const int32_t qconv_expected[90] = {
    119, 96, 122, 117, 112, 122, 94, 113, 119, 134, 133, 110, 113, 122, 145, 115, 99, 114, 68, 89,
    119, 85, 123, 93, 117, 128, 88, 99, 112, 156, 122, 106, 113, 126, 118, 120, 121, 116, 128, 133,
    119, 121, 113, 117, 124, 137, 120, 114, 122, 115, 115, 128, 109, 114, 119, 102, 134, 117, 126,
    124, 90, 82, 34, 54, 76, 107, 76, 63, 91, 58, 53, 38, 58, 108, 87, 117, 119, 126, 118, 117,
    116, 121, 115, 119, 117, 122, 122, 114, 122, 116};

static void test_qlinearconv_grouped_per_channel(void) {
    int64_t xs[] = {1, 4, 7, 6}, ws[] = {6, 2, 3, 3}, c6[] = {6}, ys[] = {1, 6, 3, 5};
    float w_scale[] = {0.0125f, 0.02f, 0.0075f, 0.011f, 0.03f, 0.004f};
    int32_t w_zp[] = {0, 3, -2, 1, 0, -5}, bias[] = {100, -2000, 0, 5000, -30000, 7};
    mec_tensor *x = mk_rand(MEC_U8, 4, xs, 1), *w = mk_rand(MEC_I8, 4, ws, 0);
    mec_tensor *in[9] = {x, scalar_f32(0.02f), scalar_q(MEC_U8, 131), w, oh_f32(1, c6, w_scale),
                         mk_int(MEC_I8, 1, c6, w_zp), scalar_f32(0.35f), scalar_q(MEC_U8, 120),
                         mk_int(MEC_I32, 1, c6, bias)};
    mec_tensor out[1];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "QLinearConv", 10, 9, 1));
    int64_t strides[] = {2, 1}, dil[] = {1, 2}, pads[] = {1, 2, 0, 1}, ks[] = {3, 3};
    CHECK_OK(mec_node_set_int(g, node, "group", 2));
    CHECK_OK(mec_node_set_ints(g, node, "strides", 2, strides));
    CHECK_OK(mec_node_set_ints(g, node, "dilations", 2, dil));
    CHECK_OK(mec_node_set_ints(g, node, "pads", 4, pads));
    CHECK_OK(mec_node_set_ints(g, node, "kernel_shape", 2, ks));
    CHECK_OK(oh_run(g, node, 10, "ref", 9, in, 1, out));
    CHECK(out[0].dtype == MEC_U8);
    oh_check_shape(&out[0], 4, ys);
    check_ints(&out[0], qconv_expected, 90);
    oh_free(g, 1, out);
    destroy_all(9, in);
}

/* x i8 (2,3,5,5), w i8 (4,3,2,2), auto_pad SAME_UPPER, strides 2, x_zp -3,
 * w_zp 2, y i8 zero point -10; y (2,4,3,3). */
static const int32_t qconv_i8_expected[72] = {
    12, -21, -34, 78, 56, -28, -14, -44, -17, 7, 10, -60, 4, 13, 40, -23, 29, -2, 32, 26, 42, 22,
    16, -30, -32, 13, -11, -89, -33, -28, -89, -20, -22, -95, 36, -9, -77, 51, 31, 0, -43, -4, -7,
    -22, -12, -91, 70, -21, -59, 28, -9, 7, 25, 21, -63, -10, -7, -28, -37, -15, -85, 4, -53, 72,
    -33, -49, -12, -78, -34, -3, 10, 28};

static void test_qlinearconv_int8_same_upper(void) {
    int64_t xs[] = {2, 3, 5, 5}, ws[] = {4, 3, 2, 2}, ys[] = {2, 4, 3, 3}, one[] = {1};
    mec_tensor *x = mk_rand(MEC_I8, 4, xs, 7), *w = mk_rand(MEC_I8, 4, ws, 0);
    float wsc = 0.01f;
    int32_t wzp = 2;
    mec_tensor *in[8] = {x, scalar_f32(0.05f), scalar_q(MEC_I8, -3), w, oh_f32(1, one, &wsc),
                         mk_int(MEC_I8, 1, one, &wzp), scalar_f32(0.2f), scalar_q(MEC_I8, -10)};
    mec_tensor out[1];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "QLinearConv", 10, 8, 1));
    int64_t strides[] = {2, 2};
    CHECK_OK(mec_node_set_ints(g, node, "strides", 2, strides));
    CHECK_OK(mec_node_set_string(g, node, "auto_pad", "SAME_UPPER"));
    CHECK_OK(oh_run(g, node, 10, "ref", 8, in, 1, out));
    CHECK(out[0].dtype == MEC_I8);
    oh_check_shape(&out[0], 4, ys);
    check_ints(&out[0], qconv_i8_expected, 72);
    oh_free(g, 1, out);
    destroy_all(8, in);
}

static void test_qlinearconv_resnet_like(void) {
    /* x u8 (1,16,20,20), w i8 (36,16,3,3), pads 1, per-channel w_scale, bias:
     * many GEMM blocks and the parallel paths. Checksums from the reference. */
    int64_t xs[] = {1, 16, 20, 20}, ws[] = {36, 16, 3, 3}, c36[] = {36};
    float w_scale[36];
    int32_t bias[36];
    for (int m = 0; m < 36; m++) {
        w_scale[m] = (float)(0.001 * (1 + m % 5));
        bias[m] = m * 37 - 600;
    }
    mec_tensor *x = mk_rand(MEC_U8, 4, xs, 11), *w = mk_rand(MEC_I8, 4, ws, 0);
    mec_tensor *in[9] = {x, scalar_f32(0.05f), scalar_q(MEC_U8, 128), w, oh_f32(1, c36, w_scale),
                         scalar_q(MEC_I8, 0), scalar_f32(0.5f), scalar_q(MEC_U8, 128),
                         mk_int(MEC_I32, 1, c36, bias)};
    mec_tensor out[1];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "QLinearConv", 10, 9, 1));
    int64_t pads[] = {1, 1, 1, 1};
    CHECK_OK(mec_node_set_ints(g, node, "pads", 4, pads));
    CHECK_OK(oh_run(g, node, 10, "ref", 9, in, 1, out));
    int64_t s1, s2;
    checksums(&out[0], &s1, &s2);
    CHECK(s1 == 1846228);
    CHECK(s2 == 7386214);
    const mec_kernel *k = mec_op_find("", "QLinearConv", 10, "ref");
    mec_tensor *outp[1] = {&out[0]};
    mec_op_ctx ctx = {.graph = g, .node_id = node, .node = &g->nodes[node], .opset = 10, .n_in = 9,
                      .in = (const mec_tensor *const *)in, .n_out = 1, .out = outp};
    CHECK(k && k->flops && k->flops(&ctx) == 2LL * 36 * 400 * 16 * 9);
    oh_free(g, 1, out);
    destroy_all(9, in);
}

static void test_qlinearconv_errors(void) {
    int64_t xs[] = {1, 4, 5, 5}, ws[] = {6, 2, 3, 3}, c6[] = {6}, c4[] = {4};
    float w_scale[6] = {1, 1, 1, 1, 1, 1};
    int32_t bias[4] = {0};
    mec_tensor *x = mk_rand(MEC_U8, 4, xs, 1), *w = mk_rand(MEC_I8, 4, ws, 0);
    mec_tensor *in[9] = {x, scalar_f32(0.02f), scalar_q(MEC_U8, 131), w, oh_f32(1, c6, w_scale),
                         scalar_q(MEC_I8, 0), scalar_f32(0.35f), scalar_q(MEC_U8, 120),
                         mk_int(MEC_I32, 1, c4, bias)};
    mec_tensor out[1];
    mec_graph *g;
    int node;
    /* group 1: w has 2 input channels per group, x has 4 */
    CHECK_OK(oh_node(&g, &node, "QLinearConv", 10, 8, 1));
    CHECK(oh_run(g, node, 10, "ref", 8, in, 1, out) == MEC_ERR_SHAPE);
    CHECK(strstr(mec_last_error(), "node0") != NULL);
    oh_free(g, 1, out);
    /* bias of 4 values for 6 output channels */
    CHECK_OK(oh_node(&g, &node, "QLinearConv", 10, 9, 1));
    CHECK_OK(mec_node_set_int(g, node, "group", 2));
    CHECK(oh_run(g, node, 10, "ref", 9, in, 1, out) == MEC_ERR_SHAPE);
    CHECK(strstr(mec_last_error(), "bias") != NULL);
    oh_free(g, 1, out);
    /* x_zero_point of the wrong dtype */
    mec_tensor *bad_zp = scalar_q(MEC_I8, 0), *saved = in[2];
    in[2] = bad_zp;
    CHECK_OK(oh_node(&g, &node, "QLinearConv", 10, 8, 1));
    CHECK_OK(mec_node_set_int(g, node, "group", 2));
    CHECK(oh_run(g, node, 10, "ref", 8, in, 1, out) == MEC_ERR_DTYPE);
    oh_free(g, 1, out);
    in[2] = saved;
    /* per-channel w_scale of the wrong length */
    mec_tensor *bad_ws = oh_f32(1, c4, w_scale);
    saved = in[4];
    in[4] = bad_ws;
    CHECK_OK(oh_node(&g, &node, "QLinearConv", 10, 8, 1));
    CHECK_OK(mec_node_set_int(g, node, "group", 2));
    CHECK(oh_run(g, node, 10, "ref", 8, in, 1, out) == MEC_ERR_SHAPE);
    oh_free(g, 1, out);
    in[4] = saved;
    /* strides of the wrong count, kernel larger than the input, bad auto_pad */
    int64_t s3[] = {1, 1, 1}, big[] = {4, 4, 4, 4};
    CHECK_OK(oh_node(&g, &node, "QLinearConv", 10, 8, 1));
    CHECK_OK(mec_node_set_int(g, node, "group", 2));
    CHECK_OK(mec_node_set_ints(g, node, "strides", 3, s3));
    CHECK(oh_run(g, node, 10, "ref", 8, in, 1, out) == MEC_ERR_SHAPE);
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "QLinearConv", 10, 8, 1));
    CHECK_OK(mec_node_set_int(g, node, "group", 2));
    CHECK_OK(mec_node_set_ints(g, node, "dilations", 2, big));
    CHECK(oh_run(g, node, 10, "ref", 8, in, 1, out) == MEC_ERR_SHAPE);
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "QLinearConv", 10, 8, 1));
    CHECK_OK(mec_node_set_int(g, node, "group", 2));
    CHECK_OK(mec_node_set_string(g, node, "auto_pad", "SAME"));
    CHECK(oh_run(g, node, 10, "ref", 8, in, 1, out) == MEC_ERR_UNSUPPORTED);
    oh_free(g, 1, out);
    /* a missing required input */
    CHECK_OK(oh_node(&g, &node, "QLinearConv", 10, 7, 1));
    CHECK(oh_run(g, node, 10, "ref", 7, in, 1, out) == MEC_ERR_GRAPH);
    oh_free(g, 1, out);
    destroy_all(9, in);
    mec_tensor_destroy(bad_zp);
    mec_tensor_destroy(bad_ws);
}

/* x i8 (2,3,9), w u8 (4,3,3), strides 2, SAME_LOWER, x_zp -4, w_zp per channel; y (2,4,5). */
static const int32_t convint_expected[40] = {
    7315, 2046, -1906, 12743, 4380, -14330, -7248, -7237, -18280, 7156, -1395, -12811, -14384,
    35710, -12768, -6717, -3448, -18733, -35637, -3715, -6255, -2413, -3535, -16475, 1743, 7715,
    -30813, 24547, -20233, 11936, 3269, 5036, -27019, -46371, 44842, -11421, 1834, -13306, 63664,
    -32201};

static void test_convinteger_1d_same_lower(void) {
    int64_t xs[] = {2, 3, 9}, ws[] = {4, 3, 3}, c4[] = {4}, ys[] = {2, 4, 5};
    int32_t wzp[] = {128, 100, 0, 255};
    mec_tensor *x = mk_rand(MEC_I8, 3, xs, 3), *w = mk_rand(MEC_U8, 3, ws, 0);
    mec_tensor *in[4] = {x, w, scalar_q(MEC_I8, -4), mk_int(MEC_U8, 1, c4, wzp)}, out[1];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "ConvInteger", 10, 4, 1));
    int64_t strides[] = {2};
    CHECK_OK(mec_node_set_ints(g, node, "strides", 1, strides));
    CHECK_OK(mec_node_set_string(g, node, "auto_pad", "SAME_LOWER"));
    CHECK_OK(oh_run(g, node, 10, "ref", 4, in, 1, out));
    CHECK(out[0].dtype == MEC_I32);
    oh_check_shape(&out[0], 3, ys);
    check_ints(&out[0], convint_expected, 40);
    oh_free(g, 1, out);
    destroy_all(4, in);
}

static void test_convinteger_basic_and_grouped(void) {
    /* test_convinteger_with_padding: no w zero point given */
    int64_t xs[] = {1, 1, 3, 3}, ws[] = {1, 1, 2, 2};
    int32_t xv[] = {2, 3, 4, 5, 6, 7, 8, 9, 10}, wv[] = {1, 1, 1, 1};
    int32_t expected[] = {1, 3, 5, 3, 5, 12, 16, 9, 11, 24, 28, 15, 7, 15, 17, 9};
    mec_tensor *in[3] = {mk_int(MEC_U8, 4, xs, xv), mk_int(MEC_U8, 4, ws, wv), scalar_q(MEC_U8, 1)};
    mec_tensor out[1];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "ConvInteger", 10, 3, 1));
    int64_t pads[] = {1, 1, 1, 1};
    CHECK_OK(mec_node_set_ints(g, node, "pads", 4, pads));
    CHECK_OK(oh_run(g, node, 10, "ref", 3, in, 1, out));
    check_ints(&out[0], expected, 16);
    oh_free(g, 1, out);
    destroy_all(3, in);

    /* x u8 (2,32,9,9), w u8 (32,4,3,3), group 8, strides 2, dilations 2,
     * pads 2, x_zp 7, w_zp 9: checksums from the reference */
    int64_t xs2[] = {2, 32, 9, 9}, ws2[] = {32, 4, 3, 3}, ys2[] = {2, 32, 5, 5};
    mec_tensor *in2[4] = {mk_rand(MEC_U8, 4, xs2, 13), NULL, scalar_q(MEC_U8, 7), scalar_q(MEC_U8, 9)};
    in2[1] = mk_rand(MEC_U8, 4, ws2, 0);
    CHECK_OK(oh_node(&g, &node, "ConvInteger", 10, 4, 1));
    int64_t two[] = {2, 2}, pads2[] = {2, 2, 2, 2};
    CHECK_OK(mec_node_set_int(g, node, "group", 8));
    CHECK_OK(mec_node_set_ints(g, node, "strides", 2, two));
    CHECK_OK(mec_node_set_ints(g, node, "dilations", 2, two));
    CHECK_OK(mec_node_set_ints(g, node, "pads", 4, pads2));
    CHECK_OK(oh_run(g, node, 10, "ref", 4, in2, 1, out));
    oh_check_shape(&out[0], 4, ys2);
    int64_t s1, s2;
    checksums(&out[0], &s1, &s2);
    CHECK(s1 == 616119145LL);
    CHECK(s2 == 2458606207LL);
    oh_free(g, 1, out);
    destroy_all(4, in2);
}

/* x u8 (1,2,3,4,4), w u8 (2,2,2,3,2), strides (1,2,1), dilations (1,1,2),
 * pads (1,0,1, 0,1,1), x_zp 100, w_zp (50, 200): the N-D im2col path. */
static const int32_t convint3d_expected[48] = {
    52654, -4802, 37812, -17500, 8481, 11834, 11041, -30424, 16444, 43915, 49706, 5643, -33145,
    -2323, -44504, 6712, 1186, 98276, 9880, 5713, 19445, 68121, -50680, 22106, -56584, -1110,
    -98411, -2590, -20222, -12469, -21218, 17216, -21476, -44361, -57855, -34241, 34497, 5692,
    39243, 14696, 3856, -64704, -53440, -4638, 7123, -25824, 54700, -20452};

static void test_convinteger_3d(void) {
    int64_t xs[] = {1, 2, 3, 4, 4}, ws[] = {2, 2, 2, 3, 2}, c2[] = {2}, ys[] = {1, 2, 3, 2, 4};
    int32_t wzp[] = {50, 200};
    mec_tensor *x = mk_rand(MEC_U8, 5, xs, 17), *w = mk_rand(MEC_U8, 5, ws, 0);
    mec_tensor *in[4] = {x, w, scalar_q(MEC_U8, 100), mk_int(MEC_U8, 1, c2, wzp)}, out[1];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "ConvInteger", 10, 4, 1));
    int64_t strides[] = {1, 2, 1}, dil[] = {1, 1, 2}, pads[] = {1, 0, 1, 0, 1, 1};
    CHECK_OK(mec_node_set_ints(g, node, "strides", 3, strides));
    CHECK_OK(mec_node_set_ints(g, node, "dilations", 3, dil));
    CHECK_OK(mec_node_set_ints(g, node, "pads", 6, pads));
    CHECK_OK(oh_run(g, node, 10, "ref", 4, in, 1, out));
    oh_check_shape(&out[0], 5, ys);
    check_ints(&out[0], convint3d_expected, 48);
    oh_free(g, 1, out);
    destroy_all(4, in);
}

/* --------------------------------------------------------------- matmul */

static void test_qlinearmatmul_onnx_2d(void) {
    int64_t as[] = {2, 4}, bs[] = {4, 3}, one[] = {1};
    int32_t av[] = {208, 236, 0, 238, 3, 214, 255, 29};
    int32_t bv[] = {152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247};
    int32_t expected[] = {168, 115, 255, 1, 66, 151};
    float a_s = 0.0066f, b_s = 0.00705f, y_s = 0.0107f;
    int32_t a_z = 113, b_z = 114, y_z = 118;
    mec_tensor *in[8] = {mk_int(MEC_U8, 2, as, av), oh_f32(1, one, &a_s), mk_int(MEC_U8, 1, one, &a_z),
                         mk_int(MEC_U8, 2, bs, bv), oh_f32(1, one, &b_s), mk_int(MEC_U8, 1, one, &b_z),
                         oh_f32(1, one, &y_s), mk_int(MEC_U8, 1, one, &y_z)};
    mec_tensor out[1];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "QLinearMatMul", 10, 8, 1));
    CHECK_OK(oh_run(g, node, 10, "ref", 8, in, 1, out));
    int64_t ys[] = {2, 3};
    oh_check_shape(&out[0], 2, ys);
    check_ints(&out[0], expected, 6);
    oh_free(g, 1, out);
    destroy_all(8, in);
}

/* a i8 (2,1,3,5) per-row (2,1,3,1); b u8 (4,5,2) per-column (2,); y i8 -> (2,4,3,2). */
static const int32_t qmm_expected[48] = {
    -5, -7, -4, -2, 0, 4, -5, -5, -5, -6, -9, -4, -5, -6, -5, -2, -6, -6, -6, -3, -4, -8, -2, -12,
    -3, -3, -4, -9, -8, -6, -4, -8, -4, -5, 0, -9, -10, -6, -9, -14, -3, 3, 1, -12, -4, -6, -4, -2};

static void test_qlinearmatmul_batched_per_row_column(void) {
    int64_t as[] = {2, 1, 3, 5}, bs[] = {4, 5, 2}, azs[] = {2, 1, 3, 1}, c2[] = {2};
    float a_scale[6], b_scale[] = {0.003f, 0.0045f};
    for (int i = 0; i < 6; i++) a_scale[i] = (float)(0.01 * (i + 1));
    int32_t a_zp[] = {-1, 2, 0, 5, -7, 3}, b_zp[] = {128, 120};
    mec_tensor *a = mk_rand(MEC_I8, 4, as, 5), *b = mk_rand(MEC_U8, 3, bs, 0);
    mec_tensor *in[8] = {a, oh_f32(4, azs, a_scale), mk_int(MEC_I8, 4, azs, a_zp), b,
                         oh_f32(1, c2, b_scale), mk_int(MEC_U8, 1, c2, b_zp), scalar_f32(0.4f),
                         scalar_q(MEC_I8, -5)};
    mec_tensor out[1];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "QLinearMatMul", 10, 8, 1));
    CHECK_OK(oh_run(g, node, 10, "ref", 8, in, 1, out));
    int64_t ys[] = {2, 4, 3, 2};
    CHECK(out[0].dtype == MEC_I8);
    oh_check_shape(&out[0], 4, ys);
    check_ints(&out[0], qmm_expected, 48);
    oh_free(g, 1, out);

    /* scale and zero point shapes must agree */
    mec_tensor *saved = in[2];
    in[2] = scalar_q(MEC_I8, 0);
    CHECK_OK(oh_node(&g, &node, "QLinearMatMul", 10, 8, 1));
    CHECK(oh_run(g, node, 10, "ref", 8, in, 1, out) == MEC_ERR_SHAPE);
    oh_free(g, 1, out);
    mec_tensor_destroy(in[2]);
    in[2] = saved;
    destroy_all(8, in);
}

/* a u8 (3,4) with zero point (3,), b u8 (2,4,5) with zero point (2,1,5) -> (2,3,5). */
static const int32_t mmint_expected[30] = {
    -30372, -79062, 75041, 21399, -51742, 12036, 22881, -12493, -7146, 6622, 10899, 8009, -2357,
    8203, -11290, -36921, -32301, -106901, 68741, 80537, 26627, 15281, 21950, -11611, -6073, 15261,
    9755, 3324, -4740, -4131};

static void test_matmulinteger(void) {
    int64_t as[] = {3, 4}, bs[] = {2, 4, 5}, c3[] = {3}, bzs[] = {2, 1, 5};
    int32_t a_zp[] = {10, 200, 128};
    mec_tensor *a = mk_rand(MEC_U8, 2, as, 9), *b = mk_rand(MEC_U8, 3, bs, 0);
    mec_tensor *bz = mk_rand(MEC_U8, 3, bzs, 0); /* continues the sequence */
    mec_tensor *in[4] = {a, b, mk_int(MEC_U8, 1, c3, a_zp), bz}, out[1];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "MatMulInteger", 10, 4, 1));
    CHECK_OK(oh_run(g, node, 10, "ref", 4, in, 1, out));
    int64_t ys[] = {2, 3, 5};
    CHECK(out[0].dtype == MEC_I32);
    oh_check_shape(&out[0], 3, ys);
    check_ints(&out[0], mmint_expected, 30);
    oh_free(g, 1, out);
    destroy_all(4, in);

    /* test_matmulinteger: (4,3) x (3,2), zero points 12 and 0 */
    int64_t a2s[] = {4, 3}, b2s[] = {3, 2}, one[] = {1};
    int32_t av[] = {11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0}, bv[] = {1, 4, 2, 5, 3, 6}, z12 = 12, z0 = 0;
    int32_t expected[] = {-38, -83, -44, -98, -50, -113, -56, -128};
    mec_tensor *in2[4] = {mk_int(MEC_U8, 2, a2s, av), mk_int(MEC_U8, 2, b2s, bv),
                          mk_int(MEC_U8, 1, one, &z12), mk_int(MEC_U8, 1, one, &z0)};
    CHECK_OK(oh_node(&g, &node, "MatMulInteger", 10, 4, 1));
    CHECK_OK(oh_run(g, node, 10, "ref", 4, in2, 1, out));
    check_ints(&out[0], expected, 8);
    oh_free(g, 1, out);
    destroy_all(4, in2);
}

static void test_matmulinteger_vectors_and_errors(void) {
    /* 1-D A: (4,) x (4,3) -> (3,), no zero points */
    int64_t as[] = {4}, bs[] = {4, 3};
    int32_t av[] = {1, -2, 3, -4}, bv[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    int32_t expected[] = {-26, -28, -30};
    mec_tensor *in[2] = {mk_int(MEC_I8, 1, as, av), mk_int(MEC_I8, 2, bs, bv)}, out[1];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "MatMulInteger", 10, 2, 1));
    CHECK_OK(oh_run(g, node, 10, "ref", 2, in, 1, out));
    int64_t ys[] = {3};
    oh_check_shape(&out[0], 1, ys);
    check_ints(&out[0], expected, 3);
    oh_free(g, 1, out);
    /* inner dimensions differ */
    int64_t bad[] = {3, 3};
    mec_tensor *b3 = mk_rand(MEC_I8, 2, bad, 1), *in_bad[2] = {in[0], b3};
    CHECK_OK(oh_node(&g, &node, "MatMulInteger", 10, 2, 1));
    CHECK(oh_run(g, node, 10, "ref", 2, in_bad, 1, out) == MEC_ERR_SHAPE);
    CHECK(strstr(mec_last_error(), "inner") != NULL);
    oh_free(g, 1, out);
    mec_tensor_destroy(b3);
    destroy_all(2, in);
}

static void test_matmulinteger_int32_wraps(void) {
    /* 40000 products of 255 * 255 overflow int32: ONNX allows the wrap, and
     * the kernel must neither crash nor invoke C's signed-overflow UB. */
    int64_t as[] = {1, 40000}, bs[] = {40000, 1};
    mec_tensor *a = NULL, *b = NULL;
    CHECK_OK(mec_tensor_create(&a, MEC_U8, 2, as));
    CHECK_OK(mec_tensor_create(&b, MEC_U8, 2, bs));
    memset(a->data, 255, 40000);
    memset(b->data, 255, 40000);
    mec_tensor *in[2] = {a, b}, out[1];
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "MatMulInteger", 10, 2, 1));
    CHECK_OK(oh_run(g, node, 10, "ref", 2, in, 1, out));
    CHECK(((int32_t *)out[0].data)[0] == -1693967296); /* 2601000000 - 2^32 */
    oh_free(g, 1, out);
    destroy_all(2, in);
}

int main(void) {
    (void)oh_i64; /* op_harness.h helpers are static; this file has no int64 inputs */
    RUN(test_quantize_ties_and_saturation);
    RUN(test_quantize_default_uint8_opset10);
    RUN(test_quantize_per_axis);
    RUN(test_quantize_errors);
    RUN(test_dequantize);
    RUN(test_dynamic_quantize);
    RUN(test_qlinearconv_grouped_per_channel);
    RUN(test_qlinearconv_int8_same_upper);
    RUN(test_qlinearconv_resnet_like);
    RUN(test_qlinearconv_errors);
    RUN(test_convinteger_1d_same_lower);
    RUN(test_convinteger_basic_and_grouped);
    RUN(test_convinteger_3d);
    RUN(test_qlinearmatmul_onnx_2d);
    RUN(test_qlinearmatmul_batched_per_row_column);
    RUN(test_matmulinteger);
    RUN(test_matmulinteger_vectors_and_errors);
    RUN(test_matmulinteger_int32_wraps);
    return TEST_SUMMARY();
}
