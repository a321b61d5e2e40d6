/* shape ops: hand-computed results, the memcpy fast paths against a naive
 * index computation, and errors for bad attributes/shapes. */
#include "mec/ops.h"
#include "op_harness.h"
#include "test.h"

#include <stdint.h>

static void check_f32(const mec_tensor *t, int64_t n, const float *want) {
    CHECK(t->dtype == MEC_F32 && mec_tensor_numel(t) == n);
    if (t->dtype != MEC_F32 || mec_tensor_numel(t) != n) return;
    for (int64_t i = 0; i < n; i++) CHECK_NEAR(((const float *)t->data)[i], want[i], 0);
}

static void check_i64(const mec_tensor *t, int64_t n, const int64_t *want) {
    CHECK(t->dtype == MEC_I64 && mec_tensor_numel(t) == n);
    if (t->dtype != MEC_I64 || mec_tensor_numel(t) != n) return;
    for (int64_t i = 0; i < n; i++) CHECK(((const int64_t *)t->data)[i] == want[i]);
}

/* ------------------------------------------------------------------ */

static void test_reshape(void) {
    mec_graph *g;
    int node;
    float v[24];
    for (int i = 0; i < 24; i++) v[i] = (float)i;
    mec_tensor *in[2] = {oh_f32(3, SHAPE(2, 3, 4), v), oh_i64(1, SHAPE(3), I64S(0, -1, 2))}, out[1];
    CHECK_OK(oh_node(&g, &node, "Reshape", 13, 2, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, out));
    oh_check_shape(&out[0], 3, SHAPE(2, 6, 2));
    check_f32(&out[0], 24, v);
    oh_free(g, 1, out);
    CHECK(mec_op_find("", "Reshape", 13, "ref")->flags & MEC_KF_ALIAS);

    /* two -1s, a size mismatch, and 0 with allowzero on a non-empty input */
    int64_t bad[3][3] = {{-1, -1, 2}, {5, 5, 1}, {0, 12, 2}};
    for (int c = 0; c < 3; c++) {
        memcpy(in[1]->data, bad[c], sizeof bad[c]);
        CHECK_OK(oh_node(&g, &node, "Reshape", 14, 2, 1));
        if (c == 2) mec_node_set_int(g, node, "allowzero", 1);
        CHECK(oh_run(g, node, 14, "ref", 2, in, 1, out) == MEC_ERR_SHAPE);
        CHECK(strstr(mec_last_error(), "node0") != NULL);
        oh_free(g, 1, out);
    }
    /* allowzero: a 0 is a real zero-size dim */
    mec_tensor *empty = oh_f32(2, SHAPE(0, 3), NULL);
    mec_tensor *in2[2] = {empty, oh_i64(1, SHAPE(3), I64S(3, 0, 5))};
    CHECK_OK(oh_node(&g, &node, "Reshape", 14, 2, 1));
    mec_node_set_int(g, node, "allowzero", 1);
    CHECK_OK(oh_run(g, node, 14, "ref", 2, in2, 1, out));
    oh_check_shape(&out[0], 3, SHAPE(3, 0, 5));
    oh_free(g, 1, out);
    /* shape not known at load time: infer defers */
    mec_tensor *in3[2] = {in[0], oh_i64(1, SHAPE(2), NULL)};
    in3[1]->data = NULL;
    mec_tensor o;
    memset(&o, 0, sizeof o);
    mec_tensor *op[1] = {&o};
    CHECK_OK(oh_node(&g, &node, "Reshape", 13, 2, 1));
    mec_op_ctx ctx = {.graph = g, .node_id = node, .node = &g->nodes[node], .opset = 13, .n_in = 2,
                      .in = (const mec_tensor *const *)in3, .n_out = 1, .out = op};
    CHECK(mec_op_find("", "Reshape", 13, "ref")->infer(&ctx) == MEC_ERR_DEFER);
    CHECK(mec_op_find("", "Reshape", 13, "ref")->value_inputs == 2u);
    in3[1]->data = in3[1]->owned;
    mec_graph_destroy(g);
    oh_destroy_all(in, 2);
    oh_destroy_all(in2, 2);
    mec_tensor_destroy(in3[1]);
}

static void test_flatten_squeeze_unsqueeze(void) {
    mec_graph *g;
    int node;
    mec_tensor *x = oh_f32(4, SHAPE(2, 1, 3, 1), NULL), out[1];
    mec_tensor *in[2] = {x, NULL};
    CHECK_OK(oh_node(&g, &node, "Flatten", 13, 1, 1));
    mec_node_set_int(g, node, "axis", -2);
    CHECK_OK(oh_run(g, node, 13, "ref", 1, in, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 3));
    oh_free(g, 1, out);

    CHECK_OK(oh_node(&g, &node, "Squeeze", 13, 1, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 1, in, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 3));
    oh_free(g, 1, out);

    in[1] = oh_i64(1, SHAPE(1), I64S(-1));
    CHECK_OK(oh_node(&g, &node, "Squeeze", 13, 2, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, out));
    oh_check_shape(&out[0], 3, SHAPE(2, 1, 3));
    oh_free(g, 1, out);

    ((int64_t *)in[1]->data)[0] = 2; /* dim 2 has size 3 */
    CHECK_OK(oh_node(&g, &node, "Squeeze", 13, 2, 1));
    CHECK(oh_run(g, node, 13, "ref", 2, in, 1, out) == MEC_ERR_SHAPE);
    oh_free(g, 1, out);
    mec_tensor_destroy(in[1]);

    CHECK_OK(oh_node(&g, &node, "Squeeze", 11, 1, 1));
    mec_node_set_ints(g, node, "axes", 2, I64S(1, -1));
    CHECK_OK(oh_run(g, node, 11, "ref", 1, in, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 3));
    oh_free(g, 1, out);

    in[1] = oh_i64(1, SHAPE(2), I64S(-1, 0));
    CHECK_OK(oh_node(&g, &node, "Unsqueeze", 13, 2, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, out));
    oh_check_shape(&out[0], 6, SHAPE(1, 2, 1, 3, 1, 1));
    oh_free(g, 1, out);
    ((int64_t *)in[1]->data)[0] = 0; /* repeated */
    CHECK_OK(oh_node(&g, &node, "Unsqueeze", 13, 2, 1));
    CHECK(oh_run(g, node, 13, "ref", 2, in, 1, out) == MEC_ERR_INVALID_ARG);
    oh_free(g, 1, out);
    ((int64_t *)in[1]->data)[0] = 6; /* out of range for rank 6 */
    CHECK_OK(oh_node(&g, &node, "Unsqueeze", 13, 2, 1));
    CHECK(oh_run(g, node, 13, "ref", 2, in, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);
    oh_destroy_all(in, 2);
}

/* Transpose through both fast paths and the generic one, checked against
 * the index formula out[i0..] = in[i[perm^-1]]. */
static void test_transpose(void) {
    static const int perms[][4] = {{0, 2, 3, 1}, {0, 3, 1, 2}, {0, 2, 1, 3}, {3, 2, 1, 0}, {1, 0, 2, 3}, {2, 0, 3, 1}};
    const int64_t shape[4] = {2, 3, 5, 7};
    for (size_t p = 0; p < sizeof perms / sizeof perms[0]; p++) {
        for (int dt = 0; dt < 2; dt++) {
            mec_dtype type = dt ? MEC_I64 : MEC_F32;
            mec_tensor *x = oh_tensor(type, 4, shape, NULL);
            for (int i = 0; i < 210; i++) mec_tensor_set_f64(x, i, i);
            mec_graph *g;
            int node;
            mec_tensor *in[1] = {x}, out[1];
            int64_t perm[4] = {perms[p][0], perms[p][1], perms[p][2], perms[p][3]};
            CHECK_OK(oh_node(&g, &node, "Transpose", 13, 1, 1));
            mec_node_set_ints(g, node, "perm", 4, perm);
            CHECK_OK(oh_run(g, node, 13, "ref", 1, in, 1, out));
            int64_t oshape[4];
            for (int d = 0; d < 4; d++) oshape[d] = shape[perm[d]];
            oh_check_shape(&out[0], 4, oshape);
            int bad = 0;
            for (int64_t o = 0; o < 210; o++) {
                int64_t idx[4], rem = o, src = 0;
                for (int d = 3; d >= 0; d--) {
                    idx[d] = rem % oshape[d];
                    rem /= oshape[d];
                }
                for (int d = 0; d < 4; d++) src += idx[d] * x->strides[perm[d]];
                if (mec_tensor_get_f64(&out[0], o) != (double)src) bad++;
            }
            CHECK(bad == 0);
            oh_free(g, 1, out);
            mec_tensor_destroy(x);
        }
    }
    /* default perm reverses; a bad perm is refused */
    mec_graph *g;
    int node;
    mec_tensor *in[1] = {oh_f32(2, SHAPE(2, 3), F32S(1, 2, 3, 4, 5, 6))}, out[1];
    CHECK_OK(oh_node(&g, &node, "Transpose", 13, 1, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 1, in, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(3, 2));
    check_f32(&out[0], 6, F32S(1, 4, 2, 5, 3, 6));
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "Transpose", 13, 1, 1));
    mec_node_set_ints(g, node, "perm", 2, I64S(1, 1));
    CHECK(oh_run(g, node, 13, "ref", 1, in, 1, out) == MEC_ERR_INVALID_ARG);
    oh_free(g, 1, out);
    oh_destroy_all(in, 1);
}

static void test_concat_split(void) {
    mec_graph *g;
    int node;
    mec_tensor *a = oh_f32(2, SHAPE(2, 2), F32S(1, 2, 3, 4));
    mec_tensor *b = oh_f32(2, SHAPE(2, 1), F32S(5, 6));
    mec_tensor *in[2] = {a, b}, out[3];
    CHECK_OK(oh_node(&g, &node, "Concat", 13, 2, 1));
    mec_node_set_int(g, node, "axis", -1);
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 3));
    check_f32(&out[0], 6, F32S(1, 2, 5, 3, 4, 6));
    mec_tensor *cat = NULL;
    CHECK_OK(mec_tensor_clone(&out[0], &cat));
    oh_free(g, 1, out);

    CHECK_OK(oh_node(&g, &node, "Concat", 13, 2, 1));
    mec_node_set_int(g, node, "axis", 0); /* dim 1 differs: 2 vs 1 */
    CHECK(oh_run(g, node, 13, "ref", 2, in, 1, out) == MEC_ERR_SHAPE);
    oh_free(g, 1, out);

    /* split it back: sizes from the input (opset 13) and the attribute (11) */
    mec_tensor *sin[2] = {cat, oh_i64(1, SHAPE(3), I64S(1, 0, 2))};
    CHECK_OK(oh_node(&g, &node, "Split", 13, 2, 3));
    mec_node_set_int(g, node, "axis", 1);
    CHECK_OK(oh_run(g, node, 13, "ref", 2, sin, 3, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 1));
    oh_check_shape(&out[1], 2, SHAPE(2, 0));
    check_f32(&out[0], 2, F32S(1, 3));
    check_f32(&out[2], 4, F32S(2, 5, 4, 6));
    oh_free(g, 3, out);

    CHECK_OK(oh_node(&g, &node, "Split", 11, 1, 3));
    mec_node_set_int(g, node, "axis", 1); /* 3 equal parts */
    CHECK_OK(oh_run(g, node, 11, "ref", 1, sin, 3, out));
    check_f32(&out[1], 2, F32S(2, 4));
    oh_free(g, 3, out);

    CHECK_OK(oh_node(&g, &node, "Split", 11, 1, 2));
    mec_node_set_int(g, node, "axis", 1); /* 3 into 2 equal parts */
    CHECK(oh_run(g, node, 11, "ref", 1, sin, 2, out) == MEC_ERR_SHAPE);
    oh_free(g, 2, out);
    CHECK_OK(oh_node(&g, &node, "Split", 11, 1, 2));
    mec_node_set_ints(g, node, "split", 2, I64S(1, 1)); /* adds up to 2, not 3 */
    mec_node_set_int(g, node, "axis", 1);
    CHECK(oh_run(g, node, 11, "ref", 1, sin, 2, out) == MEC_ERR_SHAPE);
    oh_free(g, 2, out);
    oh_destroy_all(in, 2);
    oh_destroy_all(sin, 2);
}

static void test_slice(void) {
    mec_graph *g;
    int node;
    float v[20];
    for (int i = 0; i < 20; i++) v[i] = (float)i;
    mec_tensor *x = oh_f32(2, SHAPE(4, 5), v), out[1];
    /* rows 3,1 (step -2 from the end), cols 1.. to INT64_MAX */
    mec_tensor *in[5] = {x, oh_i64(1, SHAPE(2), I64S(-1, 1)), oh_i64(1, SHAPE(2), I64S(INT64_MIN, INT64_MAX)),
                         oh_i64(1, SHAPE(2), I64S(0, 1)), oh_i64(1, SHAPE(2), I64S(-2, 1))};
    CHECK_OK(oh_node(&g, &node, "Slice", 13, 5, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 5, in, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 4));
    check_f32(&out[0], 8, F32S(16, 17, 18, 19, 6, 7, 8, 9));
    oh_free(g, 1, out);

    /* axes omitted, steps omitted; start past the end gives an empty dim */
    mec_tensor *in2[3] = {x, oh_i64(1, SHAPE(2), I64S(1, 7)), oh_i64(1, SHAPE(2), I64S(-1, 9))};
    CHECK_OK(oh_node(&g, &node, "Slice", 13, 3, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 3, in2, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 0));
    oh_free(g, 1, out);

    /* opset 1 attributes, step -3 via opset 10 inputs on 1-D */
    CHECK_OK(oh_node(&g, &node, "Slice", 9, 1, 1));
    mec_node_set_ints(g, node, "starts", 1, I64S(1));
    mec_node_set_ints(g, node, "ends", 1, I64S(1000));
    mec_node_set_ints(g, node, "axes", 1, I64S(1));
    CHECK_OK(oh_run(g, node, 9, "ref", 1, in, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(4, 4));
    CHECK_NEAR(((float *)out[0].data)[4], 6, 0);
    oh_free(g, 1, out);

    mec_tensor *flat = oh_f32(1, SHAPE(10), v);
    mec_tensor *in3[5] = {flat, oh_i64(1, SHAPE(1), I64S(8)), oh_i64(1, SHAPE(1), I64S(INT64_MIN)), NULL,
                          oh_i64(1, SHAPE(1), I64S(-3))};
    CHECK_OK(oh_node(&g, &node, "Slice", 13, 5, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 5, in3, 1, out));
    check_f32(&out[0], 3, F32S(8, 5, 2));
    oh_free(g, 1, out);

    /* errors: axis out of range, zero step */
    ((int64_t *)in[3]->data)[1] = 2;
    CHECK_OK(oh_node(&g, &node, "Slice", 13, 5, 1));
    CHECK(oh_run(g, node, 13, "ref", 5, in, 1, out) == MEC_ERR_RANGE);
    oh_free(g, 1, out);
    ((int64_t *)in[3]->data)[1] = 1;
    ((int64_t *)in[4]->data)[1] = 0;
    CHECK_OK(oh_node(&g, &node, "Slice", 13, 5, 1));
    CHECK(oh_run(g, node, 13, "ref", 5, in, 1, out) == MEC_ERR_INVALID_ARG);
    oh_free(g, 1, out);
    oh_destroy_all(in, 5);
    oh_destroy_all(in2 + 1, 2);
    oh_destroy_all(in3, 3);
    mec_tensor_destroy(in3[4]);
}

static void test_expand_tile(void) {
    mec_graph *g;
    int node;
    mec_tensor *x = oh_f32(2, SHAPE(3, 1), F32S(1, 2, 3)), out[1];
    mec_tensor *in[2] = {x, oh_i64(1, SHAPE(3), I64S(2, 1, 2))};
    CHECK_OK(oh_node(&g, &node, "Expand", 13, 2, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, out));
    oh_check_shape(&out[0], 3, SHAPE(2, 3, 2));
    check_f32(&out[0], 12, F32S(1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3));
    oh_free(g, 1, out);
    ((int64_t *)in[1]->data)[1] = 2; /* 3 vs 2 */
    CHECK_OK(oh_node(&g, &node, "Expand", 13, 2, 1));
    CHECK(oh_run(g, node, 13, "ref", 2, in, 1, out) == MEC_ERR_SHAPE);
    oh_free(g, 1, out);
    mec_tensor_destroy(in[1]);

    mec_tensor *y = oh_f32(2, SHAPE(2, 2), F32S(1, 2, 3, 4));
    mec_tensor *tin[2] = {y, oh_i64(1, SHAPE(2), I64S(2, 3))};
    CHECK_OK(oh_node(&g, &node, "Tile", 13, 2, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 2, tin, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(4, 6));
    check_f32(&out[0], 24, F32S(1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4));
    oh_free(g, 1, out);
    ((int64_t *)tin[1]->data)[1] = -1;
    CHECK_OK(oh_node(&g, &node, "Tile", 13, 2, 1));
    CHECK(oh_run(g, node, 13, "ref", 2, tin, 1, out) == MEC_ERR_INVALID_ARG);
    oh_free(g, 1, out);
    mec_tensor_destroy(x);
    oh_destroy_all(tin, 2);
}

static void test_shape_size_range(void) {
    mec_graph *g;
    int node;
    mec_tensor *x = oh_f32(4, SHAPE(2, 3, 4, 5), NULL), out[1];
    mec_tensor *in[3] = {x, NULL, NULL};
    CHECK_OK(oh_node(&g, &node, "Shape", 15, 1, 1));
    mec_node_set_int(g, node, "start", -3);
    mec_node_set_int(g, node, "end", -1);
    CHECK_OK(oh_run(g, node, 15, "ref", 1, in, 1, out));
    check_i64(&out[0], 2, I64S(3, 4));
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "Size", 13, 1, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 1, in, 1, out));
    CHECK(out[0].ndim == 0);
    check_i64(&out[0], 1, I64S(120));
    oh_free(g, 1, out);
    mec_tensor_destroy(x);

    mec_tensor *rin[3] = {oh_i64(0, NULL, I64S(10)), oh_i64(0, NULL, I64S(1)), oh_i64(0, NULL, I64S(-4))};
    CHECK_OK(oh_node(&g, &node, "Range", 11, 3, 1));
    CHECK_OK(oh_run(g, node, 11, "ref", 3, rin, 1, out));
    check_i64(&out[0], 3, I64S(10, 6, 2));
    oh_free(g, 1, out);
    ((int64_t *)rin[2]->data)[0] = 0;
    CHECK_OK(oh_node(&g, &node, "Range", 11, 3, 1));
    CHECK(oh_run(g, node, 11, "ref", 3, rin, 1, out) == MEC_ERR_INVALID_ARG);
    oh_free(g, 1, out);
    oh_destroy_all(rin, 3);

    mec_tensor *fin[3] = {oh_f32(0, NULL, F32S(1)), oh_f32(0, NULL, F32S(2)), oh_f32(0, NULL, F32S(0.25f))};
    CHECK_OK(oh_node(&g, &node, "Range", 11, 3, 1));
    CHECK_OK(oh_run(g, node, 11, "ref", 3, fin, 1, out));
    check_f32(&out[0], 4, F32S(1, 1.25f, 1.5f, 1.75f));
    oh_free(g, 1, out);
    oh_destroy_all(fin, 3);
}

static void test_cast(void) {
    mec_graph *g;
    int node;
    float nan = NAN;
    mec_tensor *x = oh_f32(1, SHAPE(6), F32S(-1.7f, 2.9f, 0.0f, -0.0f, 300.5f, nan)), out[1];
    mec_tensor *in[2] = {x, NULL};
    struct {
        mec_dtype to;
        double want[6];
    } cases[] = {
        {MEC_I32, {-1, 2, 0, 0, 300, 0}},
        {MEC_BOOL, {1, 1, 0, 0, 1, 1}},
        {MEC_U8, {255, 2, 0, 0, 44, 0}}, /* wraps like numpy */
        {MEC_F16, {-1.7001953125, 2.900390625, 0, 0, 300.5, NAN}},
        {MEC_F64, {-1.7000000476837158, 2.9000000953674316, 0, 0, 300.5, NAN}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        CHECK_OK(oh_node(&g, &node, "Cast", 13, 1, 1));
        mec_node_set_int(g, node, "to", cases[c].to);
        CHECK_OK(oh_run(g, node, 13, "ref", 1, in, 1, out));
        CHECK(out[0].dtype == cases[c].to);
        for (int i = 0; i < 6; i++) {
            double got = mec_tensor_get_f64(&out[0], i);
            if (isnan(cases[c].want[i])) CHECK(isnan(got));
            else CHECK_NEAR(got, cases[c].want[i], 0);
        }
        oh_free(g, 1, out);
    }
    /* int64 -> int8 wraps, bool -> float; CastLike takes the type of input 1 */
    mec_tensor *big = oh_i64(1, SHAPE(2), I64S(257, -129));
    mec_tensor *like = oh_tensor(MEC_I8, 1, SHAPE(1), NULL);
    mec_tensor *lin[2] = {big, like};
    CHECK_OK(oh_node(&g, &node, "CastLike", 15, 2, 1));
    CHECK_OK(oh_run(g, node, 15, "ref", 2, lin, 1, out));
    CHECK(out[0].dtype == MEC_I8);
    CHECK(((int8_t *)out[0].data)[0] == 1 && ((int8_t *)out[0].data)[1] == 127);
    oh_free(g, 1, out);
    /* opset 1 names the type as a string; strings are refused */
    CHECK_OK(oh_node(&g, &node, "Cast", 1, 1, 1));
    mec_node_set_string(g, node, "to", "INT64");
    mec_tensor *xin[1] = {big};
    CHECK_OK(oh_run(g, node, 1, "ref", 1, xin, 1, out));
    check_i64(&out[0], 2, I64S(257, -129));
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "Cast", 13, 1, 1));
    mec_node_set_int(g, node, "to", MEC_STRING);
    CHECK(oh_run(g, node, 13, "ref", 1, in, 1, out) == MEC_ERR_UNSUPPORTED);
    oh_free(g, 1, out);
    mec_tensor_destroy(x);
    oh_destroy_all(lin, 2);
}

static void test_pad(void) {
    mec_graph *g;
    int node;
    mec_tensor *x = oh_f32(1, SHAPE(3), F32S(1, 2, 3)), out[1];
    mec_tensor *in[3] = {x, oh_i64(1, SHAPE(2), I64S(2, 2)), oh_f32(0, NULL, F32S(9))};
    struct {
        const char *mode;
        float want[7];
    } cases[] = {{"constant", {9, 9, 1, 2, 3, 9, 9}}, {"reflect", {3, 2, 1, 2, 3, 2, 1}}, {"edge", {1, 1, 1, 2, 3, 3, 3}}};
    for (int c = 0; c < 3; c++) {
        CHECK_OK(oh_node(&g, &node, "Pad", 13, 3, 1));
        mec_node_set_string(g, node, "mode", cases[c].mode);
        CHECK_OK(oh_run(g, node, 13, "ref", 3, in, 1, out));
        check_f32(&out[0], 7, cases[c].want);
        oh_free(g, 1, out);
    }
    /* negative pads crop */
    memcpy(in[1]->data, I64S(-1, 1), 16);
    CHECK_OK(oh_node(&g, &node, "Pad", 13, 2, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, out));
    check_f32(&out[0], 3, F32S(2, 3, 0));
    oh_free(g, 1, out);
    /* 2-D reflect, opset 2 attributes */
    mec_tensor *y = oh_f32(2, SHAPE(2, 3), F32S(1, 2, 3, 4, 5, 6));
    mec_tensor *yin[1] = {y};
    CHECK_OK(oh_node(&g, &node, "Pad", 2, 1, 1));
    mec_node_set_ints(g, node, "pads", 4, I64S(1, 0, 0, 1));
    mec_node_set_string(g, node, "mode", "reflect");
    CHECK_OK(oh_run(g, node, 2, "ref", 1, yin, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(3, 4));
    check_f32(&out[0], 12, F32S(4, 5, 6, 5, 1, 2, 3, 2, 4, 5, 6, 5));
    oh_free(g, 1, out);
    /* wrong pads length */
    CHECK_OK(oh_node(&g, &node, "Pad", 2, 1, 1));
    mec_node_set_ints(g, node, "pads", 2, I64S(1, 1));
    CHECK(oh_run(g, node, 2, "ref", 1, yin, 1, out) == MEC_ERR_SHAPE);
    oh_free(g, 1, out);
    oh_destroy_all(in, 3);
    mec_tensor_destroy(y);
}

static void test_depth_space(void) {
    mec_graph *g;
    int node;
    mec_tensor *x = oh_f32(4, SHAPE(1, 8, 1, 1), F32S(0, 1, 2, 3, 4, 5, 6, 7)), out[1];
    mec_tensor *in[1] = {x};
    CHECK_OK(oh_node(&g, &node, "DepthToSpace", 13, 1, 1));
    mec_node_set_int(g, node, "blocksize", 2);
    CHECK_OK(oh_run(g, node, 13, "ref", 1, in, 1, out));
    oh_check_shape(&out[0], 4, SHAPE(1, 2, 2, 2));
    check_f32(&out[0], 8, F32S(0, 2, 4, 6, 1, 3, 5, 7));
    /* SpaceToDepth undoes DCR */
    mec_tensor *back_in[1] = {NULL};
    CHECK_OK(mec_tensor_clone(&out[0], &back_in[0]));
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "SpaceToDepth", 13, 1, 1));
    mec_node_set_int(g, node, "blocksize", 2);
    CHECK_OK(oh_run(g, node, 13, "ref", 1, back_in, 1, out));
    oh_check_shape(&out[0], 4, SHAPE(1, 8, 1, 1));
    check_f32(&out[0], 8, F32S(0, 1, 2, 3, 4, 5, 6, 7));
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "DepthToSpace", 13, 1, 1));
    mec_node_set_int(g, node, "blocksize", 2);
    mec_node_set_string(g, node, "mode", "CRD");
    CHECK_OK(oh_run(g, node, 13, "ref", 1, in, 1, out));
    check_f32(&out[0], 8, F32S(0, 1, 2, 3, 4, 5, 6, 7));
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "DepthToSpace", 13, 1, 1));
    mec_node_set_int(g, node, "blocksize", 3); /* 8 channels not a multiple of 9 */
    CHECK(oh_run(g, node, 13, "ref", 1, in, 1, out) == MEC_ERR_SHAPE);
    oh_free(g, 1, out);
    mec_tensor_destroy(x);
    mec_tensor_destroy(back_in[0]);
}

/* Both DepthToSpace modes and SpaceToDepth on a shape that takes the tiled
 * copy path, against the index formulas of the ONNX spec. */
static void test_depth_space_formula(void) {
    const int64_t N = 2, C = 12, H = 3, W = 40, bs = 2, Co = C / (bs * bs);
    mec_tensor *x = oh_tensor(MEC_F32, 4, SHAPE(N, C, H, W), NULL), out[1];
    float *xv = x->data;
    for (int64_t i = 0; i < N * C * H * W; i++) xv[i] = (float)i;
    mec_tensor *in[1] = {x};
    for (int crd = 0; crd < 2; crd++) {
        mec_graph *g;
        int node;
        CHECK_OK(oh_node(&g, &node, "DepthToSpace", 13, 1, 1));
        mec_node_set_int(g, node, "blocksize", bs);
        mec_node_set_string(g, node, "mode", crd ? "CRD" : "DCR");
        CHECK_OK(oh_run(g, node, 13, "ref", 1, in, 1, out));
        oh_check_shape(&out[0], 4, SHAPE(N, Co, H * bs, W * bs));
        int bad = 0;
        const float *y = out[0].data;
        for (int64_t n = 0; n < N; n++)
            for (int64_t c = 0; c < Co; c++)
                for (int64_t h = 0; h < H * bs; h++)
                    for (int64_t w = 0; w < W * bs; w++) {
                        int64_t b1 = h % bs, b2 = w % bs;
                        int64_t ci = crd ? c * bs * bs + b1 * bs + b2 : (b1 * bs + b2) * Co + c;
                        float want = xv[((n * C + ci) * H + h / bs) * W + w / bs];
                        if (y[((n * Co + c) * H * bs + h) * W * bs + w] != want) bad++;
                    }
        CHECK(bad == 0);
        oh_free(g, 1, out);
    }
    mec_graph *g;
    int node;
    CHECK_OK(oh_node(&g, &node, "SpaceToDepth", 13, 1, 1));
    mec_node_set_int(g, node, "blocksize", 4); /* H = 3 is not a multiple */
    CHECK(oh_run(g, node, 13, "ref", 1, in, 1, out) == MEC_ERR_SHAPE);
    oh_free(g, 1, out);
    mec_tensor *z = oh_tensor(MEC_F32, 4, SHAPE(N, 3, 4, 8), NULL);
    for (int64_t i = 0; i < N * 3 * 4 * 8; i++) ((float *)z->data)[i] = (float)i;
    mec_tensor *zin[1] = {z};
    CHECK_OK(oh_node(&g, &node, "SpaceToDepth", 13, 1, 1));
    mec_node_set_int(g, node, "blocksize", 2);
    CHECK_OK(oh_run(g, node, 13, "ref", 1, zin, 1, out));
    oh_check_shape(&out[0], 4, SHAPE(N, 12, 2, 4));
    int bad = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < 12; c++)
            for (int64_t h = 0; h < 2; h++)
                for (int64_t w = 0; w < 4; w++) {
                    int64_t b = c / 3, ci = c % 3, b1 = b / 2, b2 = b % 2;
                    float want = ((float *)z->data)[((n * 3 + ci) * 4 + h * 2 + b1) * 8 + w * 2 + b2];
                    if (((float *)out[0].data)[((n * 12 + c) * 2 + h) * 4 + w] != want) bad++;
                }
    CHECK(bad == 0);
    oh_free(g, 1, out);
    mec_tensor_destroy(x);
    mec_tensor_destroy(z);
}

static void test_constants(void) {
    mec_graph *g;
    int node;
    mec_tensor out[1];
    mec_tensor *in[1] = {oh_i64(1, SHAPE(2), I64S(2, 3))};
    CHECK_OK(oh_node(&g, &node, "ConstantOfShape", 9, 1, 1));
    mec_tensor *v = oh_i64(1, SHAPE(1), I64S(7));
    mec_node_set_tensor(g, node, "value", v);
    CHECK_OK(oh_run(g, node, 9, "ref", 1, in, 1, out));
    oh_check_shape(&out[0], 2, SHAPE(2, 3));
    check_i64(&out[0], 6, I64S(7, 7, 7, 7, 7, 7));
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "ConstantOfShape", 9, 1, 1));
    CHECK_OK(oh_run(g, node, 9, "ref", 1, in, 1, out));
    check_f32(&out[0], 6, F32S(0, 0, 0, 0, 0, 0));
    oh_free(g, 1, out);
    mec_tensor_destroy(in[0]);

    CHECK_OK(oh_node(&g, &node, "Constant", 13, 0, 1));
    mec_node_set_ints(g, node, "value_ints", 3, I64S(4, -5, 6));
    CHECK_OK(oh_run(g, node, 13, "ref", 0, NULL, 1, out));
    check_i64(&out[0], 3, I64S(4, -5, 6));
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "Constant", 13, 0, 1));
    mec_node_set_float(g, node, "value_float", 2.5f);
    CHECK_OK(oh_run(g, node, 13, "ref", 0, NULL, 1, out));
    CHECK(out[0].ndim == 0);
    check_f32(&out[0], 1, F32S(2.5f));
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "Constant", 13, 0, 1));
    mec_node_set_string(g, node, "value_string", "hi");
    CHECK(oh_run(g, node, 13, "ref", 0, NULL, 1, out) == MEC_ERR_UNSUPPORTED);
    oh_free(g, 1, out);
}

static void test_eyelike_trilu_dropout(void) {
    mec_graph *g;
    int node;
    mec_tensor *x = oh_f32(2, SHAPE(3, 4), F32S(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)), out[2];
    mec_tensor *in[3] = {x, oh_i64(0, NULL, I64S(1)), NULL};
    CHECK_OK(oh_node(&g, &node, "EyeLike", 9, 1, 1));
    mec_node_set_int(g, node, "k", 1);
    mec_node_set_int(g, node, "dtype", MEC_I64);
    CHECK_OK(oh_run(g, node, 9, "ref", 1, in, 1, out));
    check_i64(&out[0], 12, I64S(0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1));
    oh_free(g, 1, out);

    CHECK_OK(oh_node(&g, &node, "Trilu", 14, 2, 1));
    CHECK_OK(oh_run(g, node, 14, "ref", 2, in, 1, out));
    check_f32(&out[0], 12, F32S(0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12));
    oh_free(g, 1, out);
    CHECK_OK(oh_node(&g, &node, "Trilu", 14, 1, 1));
    mec_node_set_int(g, node, "upper", 0);
    CHECK_OK(oh_run(g, node, 14, "ref", 1, in, 1, out));
    check_f32(&out[0], 12, F32S(1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0));
    oh_free(g, 1, out);
    mec_tensor_destroy(in[1]);

    /* Dropout: identity with an all-true mask; training with ratio > 0 refused */
    in[1] = oh_f32(0, NULL, F32S(0.5f));
    in[2] = oh_tensor(MEC_BOOL, 0, NULL, (const uint8_t[]){0});
    CHECK_OK(oh_node(&g, &node, "Dropout", 13, 3, 2));
    CHECK_OK(oh_run(g, node, 13, "ref", 3, in, 2, out));
    check_f32(&out[0], 12, (const float *)x->data);
    CHECK(out[1].dtype == MEC_BOOL && ((uint8_t *)out[1].data)[11] == 1);
    oh_free(g, 2, out);
    ((uint8_t *)in[2]->data)[0] = 1;
    CHECK_OK(oh_node(&g, &node, "Dropout", 13, 3, 2));
    CHECK(oh_run(g, node, 13, "ref", 3, in, 2, out) == MEC_ERR_UNSUPPORTED);
    oh_free(g, 2, out);
    oh_destroy_all(in, 3);
}

/* A strided copy the size where the parallel path runs, against the naive
 * formula (Slice with steps on a 3-D tensor). */
static void test_slice_large(void) {
    mec_graph *g;
    int node;
    const int64_t shape[3] = {16, 64, 130};
    mec_tensor *x = oh_tensor(MEC_F32, 3, shape, NULL), out[1];
    int64_t n = mec_tensor_numel(x);
    for (int64_t i = 0; i < n; i++) ((float *)x->data)[i] = (float)i;
    mec_tensor *in[5] = {x, oh_i64(1, SHAPE(3), I64S(15, 1, 3)), oh_i64(1, SHAPE(3), I64S(-100, 64, 129)),
                         NULL, oh_i64(1, SHAPE(3), I64S(-1, 2, 1))};
    CHECK_OK(oh_node(&g, &node, "Slice", 13, 5, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 5, in, 1, out));
    oh_check_shape(&out[0], 3, SHAPE(16, 32, 126));
    int bad = 0;
    for (int64_t a = 0; a < 16; a++)
        for (int64_t b = 0; b < 32; b++)
            for (int64_t c = 0; c < 126; c++) {
                float want = (float)((15 - a) * 64 * 130 + (1 + 2 * b) * 130 + 3 + c);
                if (((float *)out[0].data)[(a * 32 + b) * 126 + c] != want) bad++;
            }
    CHECK(bad == 0);
    oh_free(g, 1, out);
    oh_destroy_all(in, 3);
    mec_tensor_destroy(in[4]);
}

int main(void) {
    RUN(test_reshape);
    RUN(test_flatten_squeeze_unsqueeze);
    RUN(test_transpose);
    RUN(test_concat_split);
    RUN(test_slice);
    RUN(test_slice_large);
    RUN(test_expand_tile);
    RUN(test_shape_size_range);
    RUN(test_cast);
    RUN(test_pad);
    RUN(test_depth_space);
    RUN(test_depth_space_formula);
    RUN(test_constants);
    RUN(test_eyelike_trilu_dropout);
    return TEST_SUMMARY();
}
