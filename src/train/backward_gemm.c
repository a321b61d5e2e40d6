/* Backward of Gemm (transA/transB, alpha, beta, broadcast C) and MatMul
 * (batched with numpy broadcasting of the batch dims, 1-D operands), and
 * MatMul's training forward, on oneDNN's sgemm (mec_train_sgemm). */
#include "../ops/sgemm.h"
#include "train_internal.h"

#include <oneapi/dnnl/dnnl.h>
#include <string.h>

void mec_train_sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                     const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                     int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K > 0 && M <= INT32_MAX && N <= INT32_MAX && K <= INT32_MAX &&
        dnnl_sgemm(transA ? 'T' : 'N', transB ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C,
                   ldc) == dnnl_success)
        return;
    mec_sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// y (M, N) = alpha * op(a) (M, K) · op(b) (K, N) + beta * c (broadcast to (M, N))
static mec_status gemm_backward(mec_bw_ctx *ctx) {
    const mec_tensor *a = ctx->in[0], *b = ctx->in[1], *dyt = ctx->dout[0];
    if (a->dtype != MEC_F32 || b->dtype != MEC_F32)
        return mec_bw_error(ctx, MEC_ERR_UNSUPPORTED, "training supports float32 Gemm only");
    bool ta = mec_node_int(ctx->node, "transA", 0) != 0, tb = mec_node_int(ctx->node, "transB", 0) != 0;
    float alpha = mec_node_float(ctx->node, "alpha", 1.0f), beta = mec_node_float(ctx->node, "beta", 1.0f);
    int64_t M = dyt->shape[0], N = dyt->shape[1], K = ta ? a->shape[0] : a->shape[1];
    const float *A = a->data, *B = b->data, *dY = dyt->data;
    if (ctx->din[0]) {
        float *dA = ctx->din[0]->data;
        if (!ta) mec_train_sgemm(false, !tb, M, K, N, alpha, dY, N, B, tb ? K : N, 1.0f, dA, K);
        else mec_train_sgemm(tb, true, K, M, N, alpha, B, tb ? K : N, dY, N, 1.0f, dA, M);
    }
    if (ctx->din[1]) {
        float *dB = ctx->din[1]->data;
        if (!tb) mec_train_sgemm(!ta, false, K, N, M, alpha, A, ta ? M : K, dY, N, 1.0f, dB, N);
        else mec_train_sgemm(true, ta, N, K, M, alpha, dY, N, A, ta ? M : K, 1.0f, dB, K);
    }
    if (ctx->n_in > 2 && ctx->din[2])
        mec_bw_reduce_broadcast(dY, 2, dyt->shape, beta, ctx->din[2]->data, ctx->in[2]);
    return MEC_OK;
}

/* A batch-shape view (no data) of the dims before the last two of a matrix
 * operand (rank >= 2 after 1-D promotion), strides counted in matrices. */
static void batch_view(mec_tensor *v, int nb, const int64_t *dims) {
    memset(v, 0, sizeof *v);
    v->dtype = MEC_F32;
    v->ndim = nb;
    for (int d = 0; d < nb; d++) v->shape[d] = dims[d];
    mec_tensor_contiguous_strides(v);
}

// y (..., M, N) = a (..., M, K) · b (..., K, N); 1-D a is (1, K), 1-D b is (K, 1)
static mec_status matmul_backward(mec_bw_ctx *ctx) {
    const mec_tensor *a = ctx->in[0], *b = ctx->in[1];
    if (a->dtype != MEC_F32 || b->dtype != MEC_F32)
        return mec_bw_error(ctx, MEC_ERR_UNSUPPORTED, "training supports float32 MatMul only");
    int64_t M = a->ndim == 1 ? 1 : a->shape[a->ndim - 2], K = a->shape[a->ndim - 1];
    int64_t N = b->ndim == 1 ? 1 : b->shape[b->ndim - 1];
    int nba = a->ndim > 2 ? a->ndim - 2 : 0, nbb = b->ndim > 2 ? b->ndim - 2 : 0;
    int nb = nba > nbb ? nba : nbb;
    int64_t oshape[MEC_MAX_DIMS];
    mec_tensor av, bv;
    batch_view(&av, nba, a->shape);
    batch_view(&bv, nbb, b->shape);
    int64_t nbatch = 1;
    for (int d = 0; d < nb; d++) {
        int64_t da = d - (nb - nba) >= 0 ? a->shape[d - (nb - nba)] : 1;
        int64_t db = d - (nb - nbb) >= 0 ? b->shape[d - (nb - nbb)] : 1;
        oshape[d] = da > db ? da : db;
        nbatch *= oshape[d];
    }
    const float *A = a->data, *B = b->data, *dY = ctx->dout[0]->data;
    float *dA = ctx->din[0] ? ctx->din[0]->data : NULL, *dB = ctx->din[1] ? ctx->din[1]->data : NULL;
    /* b is one matrix shared by every batch: fold the batch into M */
    if (nbb == 0 && (a->ndim >= 2)) {
        int64_t Mall = mec_tensor_numel(a) / K;
        if (dA) mec_train_sgemm(false, true, Mall, K, N, 1.0f, dY, N, B, N, 1.0f, dA, K);
        if (dB) mec_train_sgemm(true, false, K, N, Mall, 1.0f, A, K, dY, N, 1.0f, dB, N);
        return MEC_OK;
    }
    int64_t *offa = mec_malloc((size_t)(2 * nbatch) * sizeof(int64_t));
    if (!offa) return MEC_ERR_NOMEM;
    int64_t *offb = offa + nbatch;
    mec_bc_iter it;
    mec_bc_init(&it, nb, oshape, &av, &bv);
    for (int64_t i = 0; i < nbatch; i++, mec_bc_next(&it)) {
        offa[i] = it.oa;
        offb[i] = it.ob;
    }
    int64_t na = mec_tensor_numel(&av), nbm = mec_tensor_numel(&bv);
    if (dA) {
        /* batches write distinct blocks of dA unless a is broadcast */
#pragma omp parallel for schedule(static) if (na == nbatch && nbatch > 1)
        for (int64_t i = 0; i < nbatch; i++)
            mec_train_sgemm(false, true, M, K, N, 1.0f, dY + i * M * N, N, B + offb[i] * K * N, N, 1.0f,
                      dA + offa[i] * M * K, K);
    }
    if (dB) {
#pragma omp parallel for schedule(static) if (nbm == nbatch && nbatch > 1)
        for (int64_t i = 0; i < nbatch; i++)
            mec_train_sgemm(true, false, K, N, M, 1.0f, A + offa[i] * M * K, K, dY + i * M * N, N, 1.0f,
                      dB + offb[i] * K * N, N);
    }
    mec_free(offa);
    return MEC_OK;
}

/* Training forward of MatMul (float32): the shared-weight case folded into
 * one GEMM, batched products (attention) one GEMM per batch in parallel. */
static mec_status matmul_forward(mec_op_ctx *octx, bool training, uint64_t *rng, void **saved) {
    (void)training;
    (void)rng;
    *saved = NULL;
    const mec_tensor *a = octx->in[0], *b = octx->in[1];
    mec_tensor *y = octx->out[0];
    if (a->dtype != MEC_F32 || b->dtype != MEC_F32) {
        mec_bw_ctx ctx = {octx->graph, octx->node_id, octx->node, octx->opset, octx->n_in, octx->in,
                          octx->n_out, (const mec_tensor *const *)octx->out, NULL, NULL, NULL, training};
        return mec_bw_error(&ctx, MEC_ERR_UNSUPPORTED, "training supports float32 MatMul only");
    }
    int64_t M = a->ndim == 1 ? 1 : a->shape[a->ndim - 2], K = a->shape[a->ndim - 1];
    int64_t N = b->ndim == 1 ? 1 : b->shape[b->ndim - 1];
    int nba = a->ndim > 2 ? a->ndim - 2 : 0, nbb = b->ndim > 2 ? b->ndim - 2 : 0;
    int nb = nba > nbb ? nba : nbb;
    const float *A = a->data, *B = b->data;
    float *Y = y->data;
    if (nbb == 0 && a->ndim >= 2) {
        mec_train_sgemm(false, false, mec_tensor_numel(a) / K, N, K, 1.0f, A, K, B, N, 0.0f, Y, N);
        return MEC_OK;
    }
    int64_t oshape[MEC_MAX_DIMS], nbatch = 1;
    mec_tensor av, bv;
    batch_view(&av, nba, a->shape);
    batch_view(&bv, nbb, b->shape);
    for (int d = 0; d < nb; d++) {
        int64_t da = d - (nb - nba) >= 0 ? a->shape[d - (nb - nba)] : 1;
        int64_t db = d - (nb - nbb) >= 0 ? b->shape[d - (nb - nbb)] : 1;
        oshape[d] = da > db ? da : db;
        nbatch *= oshape[d];
    }
    int64_t *offa = mec_malloc((size_t)(2 * nbatch + 1) * sizeof(int64_t));
    if (!offa) return MEC_ERR_NOMEM;
    int64_t *offb = offa + nbatch;
    mec_bc_iter it;
    mec_bc_init(&it, nb, oshape, &av, &bv);
    for (int64_t i = 0; i < nbatch; i++, mec_bc_next(&it)) {
        offa[i] = it.oa;
        offb[i] = it.ob;
    }
#pragma omp parallel for schedule(static) if (nbatch > 1)
    for (int64_t i = 0; i < nbatch; i++)
        mec_train_sgemm(false, false, M, N, K, 1.0f, A + offa[i] * M * K, K, B + offb[i] * K * N, N, 0.0f,
                        Y + i * M * N, N);
    mec_free(offa);
    return MEC_OK;
}

const mec_bw_op mec_bw_ops_gemm[] = {
    {"Gemm", 7u, gemm_backward, NULL},
    {"MatMul", 3u, matmul_backward, matmul_forward},
    {NULL, 0, NULL, NULL},
};
