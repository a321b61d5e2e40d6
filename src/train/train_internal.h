/* Internal interface of the training layer: the backward-kernel contract,
 * the table that maps op types to backward kernels, and the training-mode
 * forward kernels (BatchNormalization, Dropout). Not part of the public API. */
#ifndef MEC_TRAIN_INTERNAL_H
#define MEC_TRAIN_INTERNAL_H

#include "mec/ops.h"
#include "mec/train.h"

/* What a backward kernel sees: the node, its forward inputs and outputs (as
 * the training forward left them, contiguous), the gradients of its outputs
 * (dout[j] NULL when no gradient reached output j) and the gradients of its
 * inputs to accumulate into (din[i] NULL when input i needs none; otherwise
 * the same shape as in[i], contiguous). Kernels add (+=) into din. */
typedef struct mec_bw_ctx {
    const mec_graph *graph;
    int node_id;
    const mec_node *node;
    int64_t opset;
    int n_in;
    const mec_tensor *const *in;
    int n_out;
    const mec_tensor *const *out;
    const mec_tensor *const *dout;
    mec_tensor *const *din;
    void *saved;       /* what the training forward kept (BatchNorm statistics, Dropout mask) */
    bool training;     /* the forward ran in training mode */
} mec_bw_ctx;

typedef mec_status (*mec_bw_fn)(mec_bw_ctx *ctx);

/* Training-mode forward, for ops whose training forward differs from the
 * inference kernel. *saved (freed with mec_free) keeps what backward needs. */
typedef mec_status (*mec_train_fwd_fn)(mec_op_ctx *ctx, bool training, uint64_t *rng,
                                       void **saved);

typedef struct mec_bw_op {
    const char *op_type;
    uint32_t diff_inputs;       /* bit i: input i is differentiable */
    mec_bw_fn backward;
    mec_train_fwd_fn forward;   /* NULL: the registered reference kernel */
} mec_bw_op;

/* The backward of op_type (default domain), or NULL. */
const mec_bw_op *mec_bw_find(const char *op_type);
/* Ops whose outputs never carry a gradient (shape arithmetic, comparisons,
 * casts to integers ...). */
bool mec_bw_nondiff(const char *op_type);

/* Per-family tables, zero-terminated. */
extern const mec_bw_op mec_bw_ops_elementwise[];
extern const mec_bw_op mec_bw_ops_conv[];
extern const mec_bw_op mec_bw_ops_norm[];
extern const mec_bw_op mec_bw_ops_shape[];
extern const mec_bw_op mec_bw_ops_gemm[];
extern const mec_bw_op mec_bw_ops_pool[];

/* Error helper: "node 'x' (Op): backward: ..." */
mec_status mec_bw_error(const mec_bw_ctx *ctx, mec_status s, const char *fmt, ...) MEC_PRINTF(3, 4);

/* C = alpha * op(A) * op(B) + beta * C, row-major, as mec_sgemm (same
 * arguments), on oneDNN's sgemm: about 10x mec_sgemm's speed on the
 * training shapes (e.g. 196 vs 24 GFLOP/s for 32x6272x288 on two cores).
 * beta == 0 overwrites C. Falls back to mec_sgemm if oneDNN refuses. */
void mec_train_sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                     const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                     int64_t ldc);

/* dx += scale * (g summed over the dims that x was broadcast along): g has
 * shape out_shape (nd dims), dx has x's shape (numpy broadcasting). */
void mec_bw_reduce_broadcast(const float *g, int nd, const int64_t *out_shape, float scale,
                             float *dx, const mec_tensor *x);
/* Element offset of each input for a broadcast walk over out_shape. */
typedef struct mec_bc_iter {
    int nd;
    int64_t shape[MEC_MAX_DIMS], sa[MEC_MAX_DIMS], sb[MEC_MAX_DIMS], idx[MEC_MAX_DIMS];
    int64_t oa, ob;
} mec_bc_iter;
/* a, b may be NULL (offset stays 0). */
void mec_bc_init(mec_bc_iter *it, int nd, const int64_t *out_shape, const mec_tensor *a,
                 const mec_tensor *b);
static inline void mec_bc_next(mec_bc_iter *it) {
    for (int d = it->nd - 1; d >= 0; d--) {
        it->oa += it->sa[d];
        it->ob += it->sb[d];
        if (++it->idx[d] < it->shape[d]) return;
        it->oa -= it->sa[d] * it->shape[d];
        it->ob -= it->sb[d] * it->shape[d];
        it->idx[d] = 0;
    }
}

/* xorshift64* step; the RNG of Dropout masks. */
static inline uint64_t mec_rng_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}
/* Uniform float in [0, 1). */
static inline float mec_rng_uniform(uint64_t *s) {
    return (float)(mec_rng_next(s) >> 40) * (1.0f / 16777216.0f);
}

/* The trainer (trainer.c; checkpoint.c and optim.c read it too). */
struct mec_trainer {
    mec_graph *g;             /* our own copy; initializers hold the parameters */
    mec_train_config cfg;
    int loss_value;           /* value the loss reads */
    const mec_kernel **kern;  /* per node: reference forward kernel */
    const mec_bw_op **bw;     /* per node: backward, or NULL */
    int64_t *opset;           /* per node */
    void **saved;             /* per node: training-forward state */
    mec_tensor *val;          /* per value: activation (views for initializers) */
    mec_tensor *grad;         /* per value: gradient buffer */
    char *req;                /* per value: a gradient may flow into it */
    char *has_grad;           /* per value: grad holds this backward's gradient */
    char *is_param;           /* per value */
    bool forward_done, last_training;
    int n_params;
    int *param_val;           /* value index of each parameter */
    float **opt_m, **opt_v;   /* per parameter: SGD momentum / AdamW moments */
    int n_buffers;
    int *buffer_val;          /* BatchNorm running statistics */
    int64_t step, epoch;
    uint64_t rng;
    void *scratch;
    size_t scratch_cap;
    mec_tensor dlogits;
};

#endif
