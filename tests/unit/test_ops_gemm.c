/* gemm ops: mec_sgemm against a naive double-precision product on shapes that
 * cross its block edges, Gemm with broadcast C, MatMul with 1-D and batched
 * broadcast operands, and the shape checks. */
#include "ops/sgemm.h"
#include "mec/ops.h"
#include "op_harness.h"
#include "test.h"


/* y = alpha op(a) op(b) + beta c in double, the definition. */
static void naive_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                       const float *a, const float *b, double beta, const float *c, double *y) {
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++)
                s += (double)(ta ? a[k * M + i] : a[i * K + k]) * (tb ? b[j * K + k] : b[k * N + j]);
            y[i * N + j] = alpha * s + (beta != 0 ? beta * c[i * N + j] : 0);
        }
}

static void test_sgemm_vs_naive(void) {
    static const int64_t shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {77, 131, 300}, {150, 17, 513}, {6, 16, 256}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        float *a = malloc(sizeof(float) * (size_t)(M * K)), *b = malloc(sizeof(float) * (size_t)(K * N));
        float *c = malloc(sizeof(float) * (size_t)(M * N)), *c0 = malloc(sizeof(float) * (size_t)(M * N));
        double *want = malloc(sizeof(double) * (size_t)(M * N));
        for (int64_t i = 0; i < M * K; i++) a[i] = oh_pat(i, 7, 23, 0.05);
        for (int64_t i = 0; i < K * N; i++) b[i] = oh_pat(i, 5, 19, 0.04);
        for (int t = 0; t < 4; t++) {
            bool ta = t & 1, tb = t & 2;
            for (int beta0 = 0; beta0 < 2; beta0++) {
                double beta = beta0 ? 0.0 : 0.5;
                for (int64_t i = 0; i < M * N; i++)
                    c0[i] = c[i] = beta0 ? NAN : oh_pat(i, 3, 7, 0.3);
                naive_gemm(ta, tb, M, N, K, 1.5, a, b, beta, c0, want);
                mec_sgemm(ta, tb, M, N, K, 1.5f, a, ta ? M : K, b, tb ? K : N, (float)beta, c, N);
                int bad = 0;
                for (int64_t i = 0; i < M * N; i++)
                    if (!(fabs(c[i] - want[i]) <= 1e-4 + 1e-4 * fabs(want[i]))) bad++;
                if (bad) fprintf(stderr, "  M %lld N %lld K %lld ta %d tb %d beta %g: %d bad\n",
                                 (long long)M, (long long)N, (long long)K, ta, tb, beta, bad);
                CHECK(bad == 0);
            }
        }
        free(a); free(b); free(c); free(c0); free(want);
    }
}

/* Gemm: A^T (2x3 -> 3x2)... y = 2 * A^T B + 0.5 * C with C (1, N) broadcast over rows. */
static void test_gemm_broadcast_c(void) {
    int64_t as[] = {2, 3}, bs[] = {2, 4}, cs[] = {1, 4};
    float av[] = {1, 2, 3, 4, 5, 6}, bv[] = {1, 0, -1, 2, 0, 1, 1, -1}, cv[] = {10, 20, 30, 40};
    mec_tensor *in[3] = {oh_f32(2, as, av), oh_f32(2, bs, bv), oh_f32(2, cs, cv)};
    mec_graph *g;
    int node;
    mec_tensor y[1];
    CHECK_OK(oh_node(&g, &node, "Gemm", 13, 3, 1));
    mec_node_set_int(g, node, "transA", 1);
    mec_node_set_float(g, node, "alpha", 2.0f);
    mec_node_set_float(g, node, "beta", 0.5f);
    CHECK_OK(oh_run(g, node, 13, "ref", 3, in, 1, y));
    /* A^T = [[1,4],[2,5],[3,6]]; A^T B = [[1,4,3,-2],[2,5,3,-1],[3,6,3,0]] */
    float want[] = {7, 18, 21, 16, 9, 20, 21, 18, 11, 22, 21, 20};
    CHECK(y[0].ndim == 2 && y[0].shape[0] == 3 && y[0].shape[1] == 4);
    oh_check_close(&y[0], want, 12, 1e-6);
    oh_free(g, 1, y);
    /* no C (optional from opset 11) */
    CHECK_OK(oh_node(&g, &node, "Gemm", 13, 2, 1));
    mec_node_set_int(g, node, "transA", 1);
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, y));
    float want2[] = {1, 4, 3, -2, 2, 5, 3, -1, 3, 6, 3, 0};
    oh_check_close(&y[0], want2, 12, 1e-6);
    oh_free(g, 1, y);
    /* K mismatch without transA */
    CHECK_OK(oh_node(&g, &node, "Gemm", 13, 3, 1));
    CHECK(oh_run(g, node, 13, "ref", 3, in, 1, y) == MEC_ERR_SHAPE);
    CHECK(strstr(mec_last_error(), "node0") && strstr(mec_last_error(), "K"));
    mec_graph_destroy(g);
    for (int i = 0; i < 3; i++) mec_tensor_destroy(in[i]);
}

/* MatMul (2, 1, 3, 4) @ (5, 4, 2) -> (2, 5, 3, 2), and 1-D operands. */
static void test_matmul_broadcast(void) {
    int64_t as[] = {2, 1, 3, 4}, bs[] = {5, 4, 2};
    mec_tensor *in[2] = {oh_pat_t(4, as, 7, 11, 0.1), oh_pat_t(3, bs, 5, 7, 0.2)};
    mec_graph *g;
    int node;
    mec_tensor y[1];
    CHECK_OK(oh_node(&g, &node, "MatMul", 13, 2, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, y));
    CHECK(y[0].ndim == 4 && y[0].shape[0] == 2 && y[0].shape[1] == 5 && y[0].shape[2] == 3 && y[0].shape[3] == 2);
    const float *a = in[0]->data, *b = in[1]->data, *yf = y[0].data;
    int bad = 0;
    for (int i0 = 0; i0 < 2; i0++)
        for (int i1 = 0; i1 < 5; i1++)
            for (int m = 0; m < 3; m++)
                for (int n = 0; n < 2; n++) {
                    double s = 0;
                    for (int k = 0; k < 4; k++) s += (double)a[(i0 * 3 + m) * 4 + k] * b[(i1 * 4 + k) * 2 + n];
                    if (fabs(s - yf[((i0 * 5 + i1) * 3 + m) * 2 + n]) > 1e-5) bad++;
                }
    CHECK(bad == 0);
    oh_free(g, 1, y);
    mec_tensor_destroy(in[0]);
    mec_tensor_destroy(in[1]);
    /* (4) @ (4, 2) -> (2); (3, 4) @ (4) -> (3) */
    int64_t v4[] = {4}, m42[] = {4, 2}, m34[] = {3, 4};
    float vv[] = {1, 2, 3, 4}, mv[] = {1, 0, 0, 1, 1, 1, 2, -1};
    in[0] = oh_f32(1, v4, vv);
    in[1] = oh_f32(2, m42, mv);
    CHECK_OK(oh_node(&g, &node, "MatMul", 13, 2, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, y));
    float w1[] = {12, 1};
    CHECK(y[0].ndim == 1 && y[0].shape[0] == 2);
    oh_check_close(&y[0], w1, 2, 1e-6);
    oh_free(g, 1, y);
    mec_tensor_destroy(in[1]);
    in[1] = in[0];
    in[0] = oh_f32(2, m34, (float[]){1, 1, 1, 1, 0, 1, 0, 1, 2, 0, 0, 0});
    CHECK_OK(oh_node(&g, &node, "MatMul", 13, 2, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, y));
    float w2[] = {10, 6, 2};
    CHECK(y[0].ndim == 1 && y[0].shape[0] == 3);
    oh_check_close(&y[0], w2, 3, 1e-6);
    oh_free(g, 1, y);
    /* inner dims 4 vs 3 */
    mec_tensor *t = in[1];
    in[1] = in[0];
    in[0] = t;
    CHECK_OK(oh_node(&g, &node, "MatMul", 13, 2, 1));
    CHECK(oh_run(g, node, 13, "ref", 2, in, 1, y) == MEC_ERR_SHAPE);
    mec_graph_destroy(g);
    mec_tensor_destroy(in[0]);
    mec_tensor_destroy(in[1]);
}

/* Integer MatMul takes the generic path. */
static void test_matmul_int64(void) {
    int64_t s[] = {2, 2};
    int64_t av[] = {1, 2, 3, 4}, bv[] = {5, 6, 7, 8};
    mec_tensor *in[2] = {oh_i64(2, s, av), oh_i64(2, s, bv)};
    mec_graph *g;
    int node;
    mec_tensor y[1];
    CHECK_OK(oh_node(&g, &node, "MatMul", 13, 2, 1));
    CHECK_OK(oh_run(g, node, 13, "ref", 2, in, 1, y));
    CHECK(y[0].dtype == MEC_I64);
    const int64_t *yi = y[0].data;
    CHECK(yi[0] == 19 && yi[1] == 22 && yi[2] == 43 && yi[3] == 50);
    oh_free(g, 1, y);
    mec_tensor_destroy(in[0]);
    mec_tensor_destroy(in[1]);
}

int main(void) {
    RUN(test_sgemm_vs_naive);
    RUN(test_gemm_broadcast_c);
    RUN(test_matmul_broadcast);
    RUN(test_matmul_int64);
    return TEST_SUMMARY();
}
