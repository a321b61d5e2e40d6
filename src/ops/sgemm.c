/* Plain-C blocked SGEMM for the reference kernels: C is cut into MC x NC
 * tiles (one OpenMP task each); for every KC slice of K the tile's panels of
 * op(A) and op(B) are packed into stack buffers and an MR x NR register-tile
 * micro-kernel (GCC vector extensions) walks them. An AVX2 build of the
 * micro-kernel loop is picked at run time on x86-64 CPUs that have it. */
#include "sgemm.h"

#include "mec/core.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

enum { MR = 6, NR = 16, MC = 72, NC = 128, KC = 256 };

#if defined(__GNUC__) || defined(__clang__)
#define SGEMM_VEC 1
typedef float v8f __attribute__((vector_size(32)));
#endif

/* Packs op(A)[i0 .. i0+mc, p0 .. p0+kc] into MR-row slivers: for each sliver,
 * for each p, MR values (rows past mc are zero). */
static void pack_a(bool transA, const float *A, int64_t lda, int64_t i0, int64_t p0, int64_t mc,
                   int64_t kc, float *pa) {
    for (int64_t ir = 0; ir < mc; ir += MR) {
        int64_t mr = mc - ir < MR ? mc - ir : MR;
        for (int64_t p = 0; p < kc; p++) {
            float *dst = pa + p * MR;
            for (int64_t r = 0; r < mr; r++) {
                int64_t i = i0 + ir + r, k = p0 + p;
                dst[r] = transA ? A[k * lda + i] : A[i * lda + k];
            }
            for (int64_t r = mr; r < MR; r++) dst[r] = 0.0f;
        }
        pa += kc * MR;
    }
}

/* Packs op(B)[p0 .. p0+kc, j0 .. j0+nc] into NR-column slivers: for each
 * sliver, for each p, NR values (columns past nc are zero). */
static void pack_b(bool transB, const float *B, int64_t ldb, int64_t p0, int64_t j0, int64_t nc,
                   int64_t kc, float *pb) {
    for (int64_t jr = 0; jr < nc; jr += NR) {
        int64_t nr = nc - jr < NR ? nc - jr : NR;
        for (int64_t p = 0; p < kc; p++) {
            float *dst = pb + p * NR;
            int64_t k = p0 + p;
            if (!transB) {
                memcpy(dst, B + k * ldb + j0 + jr, (size_t)nr * sizeof(float));
            } else {
                for (int64_t c = 0; c < nr; c++) dst[c] = B[(j0 + jr + c) * ldb + k];
            }
            for (int64_t c = nr; c < NR; c++) dst[c] = 0.0f;
        }
        pb += kc * NR;
    }
}

/* C[0..mc, 0..nc] += alpha * (packed A) * (packed B) over kc. */
#ifdef SGEMM_VEC
#define MACRO_KERNEL_BODY                                                                        \
    for (int64_t jr = 0; jr < nc; jr += NR) {                                                    \
        const float *pbs = pb + (jr / NR) * kc * NR;                                             \
        int64_t nr = nc - jr < NR ? nc - jr : NR;                                                \
        for (int64_t ir = 0; ir < mc; ir += MR) {                                                \
            const float *pas = pa + (ir / MR) * kc * MR;                                         \
            int64_t mr = mc - ir < MR ? mc - ir : MR;                                            \
            v8f c0[MR], c1[MR];                                                                  \
            for (int r = 0; r < MR; r++) c0[r] = c1[r] = (v8f){0};                               \
            for (int64_t p = 0; p < kc; p++) {                                                   \
                v8f b0, b1;                                                                      \
                memcpy(&b0, pbs + p * NR, sizeof b0);                                            \
                memcpy(&b1, pbs + p * NR + 8, sizeof b1);                                        \
                const float *a = pas + p * MR;                                                   \
                for (int r = 0; r < MR; r++) {                                                   \
                    c0[r] += a[r] * b0;                                                          \
                    c1[r] += a[r] * b1;                                                          \
                }                                                                                \
            }                                                                                    \
            float acc[MR][NR];                                                                   \
            for (int r = 0; r < MR; r++) {                                                       \
                memcpy(&acc[r][0], &c0[r], sizeof c0[r]);                                        \
                memcpy(&acc[r][8], &c1[r], sizeof c1[r]);                                        \
            }                                                                                    \
            for (int64_t r = 0; r < mr; r++) {                                                   \
                float *crow = C + (ir + r) * ldc + jr;                                           \
                for (int64_t c = 0; c < nr; c++) crow[c] += alpha * acc[r][c];                   \
            }                                                                                    \
        }                                                                                        \
    }
#else
#define MACRO_KERNEL_BODY                                                                        \
    for (int64_t jr = 0; jr < nc; jr += NR) {                                                    \
        const float *pbs = pb + (jr / NR) * kc * NR;                                             \
        int64_t nr = nc - jr < NR ? nc - jr : NR;                                                \
        for (int64_t ir = 0; ir < mc; ir += MR) {                                                \
            const float *pas = pa + (ir / MR) * kc * MR;                                         \
            int64_t mr = mc - ir < MR ? mc - ir : MR;                                            \
            float acc[MR][NR] = {{0}};                                                           \
            for (int64_t p = 0; p < kc; p++)                                                     \
                for (int r = 0; r < MR; r++)                                                     \
                    for (int c = 0; c < NR; c++) acc[r][c] += pas[p * MR + r] * pbs[p * NR + c]; \
            for (int64_t r = 0; r < mr; r++) {                                                   \
                float *crow = C + (ir + r) * ldc + jr;                                           \
                for (int64_t c = 0; c < nr; c++) crow[c] += alpha * acc[r][c];                   \
            }                                                                                    \
        }                                                                                        \
    }
#endif

static void macro_kernel(int64_t mc, int64_t nc, int64_t kc, const float *pa, const float *pb,
                         float *C, int64_t ldc, float alpha) {
    MACRO_KERNEL_BODY
}

#if defined(SGEMM_VEC) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SGEMM_AVX2 1
__attribute__((target("avx2"))) static void macro_kernel_avx2(int64_t mc, int64_t nc, int64_t kc,
                                                              const float *pa, const float *pb,
                                                              float *C, int64_t ldc, float alpha) {
    MACRO_KERNEL_BODY
}
#endif

/* One MC x NC tile of C: scale by beta, then accumulate every KC slice. */
static void sgemm_tile(bool transA, bool transB, int64_t i0, int64_t j0, int64_t mc, int64_t nc,
                       int64_t K, float alpha, const float *A, int64_t lda, const float *B,
                       int64_t ldb, float beta, float *C, int64_t ldc, bool avx2) {
    _Alignas(64) float pa[MC * KC];
    _Alignas(64) float pb[KC * NC];
    float *ct = C + i0 * ldc + j0;
    for (int64_t r = 0; r < mc; r++) {
        float *row = ct + r * ldc;
        if (beta == 0.0f) memset(row, 0, (size_t)nc * sizeof(float));
        else if (beta != 1.0f)
            for (int64_t c = 0; c < nc; c++) row[c] *= beta;
    }
    for (int64_t p0 = 0; p0 < K; p0 += KC) {
        int64_t kc = K - p0 < KC ? K - p0 : KC;
        pack_b(transB, B, ldb, p0, j0, nc, kc, pb);
        pack_a(transA, A, lda, i0, p0, mc, kc, pa);
#ifdef SGEMM_AVX2
        if (avx2) {
            macro_kernel_avx2(mc, nc, kc, pa, pb, ct, ldc, alpha);
            continue;
        }
#endif
        (void)avx2;
        macro_kernel(mc, nc, kc, pa, pb, ct, ldc, alpha);
    }
}

void mec_sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
               const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
               int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0f) {
        for (int64_t i = 0; i < M; i++) {
            float *row = C + i * ldc;
            if (beta == 0.0f) memset(row, 0, (size_t)N * sizeof(float));
            else if (beta != 1.0f)
                for (int64_t j = 0; j < N; j++) row[j] *= beta;
        }
        return;
    }
    bool avx2 = false;
#ifdef SGEMM_AVX2
    avx2 = __builtin_cpu_supports("avx2");
#endif
    int64_t tiles_m = (M + MC - 1) / MC, tiles_n = (N + NC - 1) / NC;
    int64_t tiles = tiles_m * tiles_n;
    int nth = 1;
#ifdef _OPENMP
    if ((double)M * (double)N * (double)K >= 262144.0 && tiles > 1 && !omp_in_parallel())
        nth = mec_threads_get();
#endif
#pragma omp parallel for schedule(dynamic, 1) num_threads(nth) if (nth > 1)
    for (int64_t t = 0; t < tiles; t++) {
        int64_t i0 = (t / tiles_n) * MC, j0 = (t % tiles_n) * NC;
        int64_t mc = M - i0 < MC ? M - i0 : MC, nc = N - j0 < NC ? N - j0 : NC;
        sgemm_tile(transA, transB, i0, j0, mc, nc, K, alpha, A, lda, B, ldb, beta, C, ldc, avx2);
    }
}
