/* Internal plain-C single-precision GEMM shared by the reference Conv,
 * ConvTranspose, Gemm and MatMul kernels. Not part of the public API. */
#ifndef MEC_SGEMM_H
#define MEC_SGEMM_H

#include <stdbool.h>
#include <stdint.h>

/* C = alpha * op(A) * op(B) + beta * C, row-major, with
 *   op(A): (M, K) — A is (M, K) with row stride lda, or (K, M) when transA;
 *   op(B): (K, N) — B is (K, N) with row stride ldb, or (N, K) when transB;
 *   C:     (M, N) with row stride ldc.
 * beta == 0 overwrites C without reading it (NaN in C is not propagated).
 * Cache-blocked with packed panels on the stack (no heap allocation), and
 * OpenMP-parallel over tiles of C when the problem is large enough. Safe to
 * call from inside a parallel region (it then runs on the calling thread). */
void mec_sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
               const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
               int64_t ldc);

#endif
