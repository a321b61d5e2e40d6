/* Shared plumbing of the oneDNN kernels (impl "dnnl"): the CPU engine and
 * stream, status mapping, memory descriptors from our tensors' shape and
 * strides, prepacked weights, and the fallback to the reference kernel for
 * what oneDNN does not run. Every oneDNN call in mecbench lives in this
 * folder: its 2.x C API is gone in 3.x, so the rest of the code never sees it.
 * Internal. */
#ifndef MEC_OPS_DNNL_COMMON_H
#define MEC_OPS_DNNL_COMMON_H

#include "../op_util.h"

#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>

#define MEC_DNNL_MAX_IN 16
#define MEC_DNNL_MAX_ARGS 12

/* The process-wide CPU engine and stream, created once (thread-safe). On
 * CPU a stream executes synchronously in the calling thread. */
mec_status mec_dnnl_env(const mec_op_ctx *ctx, dnnl_engine_t *engine, dnnl_stream_t *stream);

/* A oneDNN failure as a mec_status with a message naming the node, what was
 * being done and the oneDNN status. */
mec_status mec_dnnl_error(const mec_op_ctx *ctx, dnnl_status_t s, const char *what);

/* dims/strides of a tensor as a oneDNN f32 memory descriptor, padded to nd
 * dims with leading 1s (nd >= t->ndim). A 4-D tensor whose memory is
 * channels-last (NHWC) gets the canonical NHWC strides even on its size-1
 * dims, so that oneDNN recognises the layout. */
dnnl_status_t mec_dnnl_md(dnnl_memory_desc_t *md, const mec_tensor *t, int nd);
/* Same from explicit dims and strides. */
dnnl_status_t mec_dnnl_md_raw(dnnl_memory_desc_t *md, int nd, const int64_t *dims,
                              const int64_t *strides);

/* Channels-last strides (N, C, H, W) -> (H*W*C, 1, W*C, C) for a 4-D shape. */
void mec_dnnl_nhwc_strides(const int64_t *shape, int64_t *strides);
/* True when t is 4-D and its memory is channels-last (size-1 dims aside). */
bool mec_dnnl_is_nhwc(const mec_tensor *t);

/* Copies src into dst (same dtype and shape), any strides on either side. */
void mec_dnnl_copy(mec_tensor *dst, const mec_tensor *src);
/* Copies 4-D x channels-last into buf (mec_tensor_bytes(x) bytes); returns buf. */
void *mec_dnnl_to_nhwc(const mec_tensor *x, void *buf);

/* A primitive and its arguments: memory objects are made in prepare without
 * data and get their data pointers at exec (no allocation in exec). */
typedef struct mec_dnnl_call {
    dnnl_primitive_t prim;
    int n_args;
    dnnl_exec_arg_t args[MEC_DNNL_MAX_ARGS];
    size_t scratchpad_bytes; /* the primitive's user scratchpad */
    char impl[64];           /* oneDNN's implementation name (for logs/docs) */
} mec_dnnl_call;

/* Creates the primitive of pd (takes ownership of pd, also on failure) and
 * its scratchpad argument. */
dnnl_status_t mec_dnnl_call_init(mec_dnnl_call *c, dnnl_primitive_desc_t pd);
/* Adds argument `arg` with memory descriptor md (no data yet). */
dnnl_status_t mec_dnnl_call_arg(mec_dnnl_call *c, int arg, const dnnl_memory_desc_t *md);
/* Runs with the data pointers given per argument (in the order added,
 * excluding the scratchpad) and scratchpad memory `scratch`. */
dnnl_status_t mec_dnnl_call_run(mec_dnnl_call *c, void *const *data, void *scratch);
void mec_dnnl_call_release(mec_dnnl_call *c);

/* A reorder from layout `from` to layout `to` (arguments: from, to). */
dnnl_status_t mec_dnnl_reorder_init(mec_dnnl_call *c, dnnl_engine_t engine,
                                    const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to);

/* The primitive descriptor of op desc `desc` with attr (and the post-ops
 * po set in it; either may be NULL), which it frees in every case. When s
 * is not success it only frees and returns s. dnnl_unimplemented when
 * oneDNN picked its naive reference implementation ("ref:..."), slower than
 * our reference kernels: the caller then uses ours. */
dnnl_status_t mec_dnnl_pd_create(dnnl_status_t s, const_dnnl_op_desc_t desc, dnnl_primitive_attr_t attr,
                                 dnnl_post_ops_t po, dnnl_engine_t engine, dnnl_primitive_desc_t *pd);

/* A primitive attribute in user-scratchpad mode; post-ops appended by the
 * caller. */
dnnl_status_t mec_dnnl_attr(dnnl_primitive_attr_t *attr);

/* Weights reordered into the layout a primitive chose (format "any"). When
 * the weights are constant they are packed once in prepare; otherwise each
 * exec packs them into scratch. */
typedef struct mec_dnnl_weights {
    bool reorder;      /* the chosen layout differs from ours */
    bool constant;
    mec_dnnl_call call;
    void *packed;      /* owned: the constant packed weights (or our own plain copy) */
    size_t bytes;      /* packed size */
    dnnl_memory_desc_t user_md;   /* the original's layout */
    dnnl_memory_desc_t packed_md; /* the layout of `packed` */
} mec_dnnl_weights;

/* Plans weights of user layout `user` for a primitive wanting `want`; data
 * is read now when `constant`. *scratch_packed receives the bytes exec needs
 * for per-run packing, *scratchpad the reorder's scratchpad. */
mec_status mec_dnnl_weights_prepare(const mec_op_ctx *ctx, mec_dnnl_weights *w,
                                    const dnnl_memory_desc_t *user, const dnnl_memory_desc_t *want,
                                    const void *data, bool constant, size_t *scratch_packed,
                                    size_t *scratchpad);
/* The weights to hand the primitive: packed, or `data` itself, or packed now
 * into `packed_scratch` (using `scratchpad`). NULL on a oneDNN error (*st). */
const void *mec_dnnl_weights_get(const mec_op_ctx *ctx, mec_dnnl_weights *w, const void *data,
                                 void *packed_scratch, void *scratchpad, mec_status *st);
/* Takes constant weights over from `from`, a previous prepare's packed
 * copy, for when the model's original may have been freed (the kernel told
 * the runtime it keeps its own copy: ctx->const_kept): moved as they are when
 * already in the layout `want`, else unpacked to the user layout and packed
 * again. w then owns a copy even when `want` is the user layout `user`
 * (`user` must describe the same bytes as from->user_md). `from` keeps its
 * copy unless it was moved. */
mec_status mec_dnnl_weights_adopt(const mec_op_ctx *ctx, mec_dnnl_weights *w,
                                  mec_dnnl_weights *from, const dnnl_memory_desc_t *user,
                                  const dnnl_memory_desc_t *want);
void mec_dnnl_weights_release(mec_dnnl_weights *w);
/* ctx with in[1] replaced by w's own plain copy of the weights (taken over
 * with `want` = the user layout), when it has one: the model's may be gone.
 * Else ctx itself. c, in (MEC_DNNL_MAX_IN) and t are the caller's storage. */
mec_op_ctx *mec_dnnl_with_own_weights(mec_op_ctx *ctx, const mec_dnnl_weights *w, mec_op_ctx *c,
                                      const mec_tensor **in, mec_tensor *t);

/* Running the reference kernel instead, for what oneDNN does not run:
 * strided inputs are copied contiguous into scratch first, and a strided
 * out[0] is written through a contiguous copy. */
typedef struct mec_dnnl_fallback {
    const mec_kernel *ref;
    void *state;
    size_t ref_scratch;
    size_t in_off[MEC_DNNL_MAX_IN]; /* SIZE_MAX: input used as it is */
    size_t out_off;                 /* SIZE_MAX: out[0] written directly */
    size_t ref_off;                 /* where the reference kernel's scratch starts */
} mec_dnnl_fallback;

/* The reference kernel of the node's op, or NULL. */
const mec_kernel *mec_dnnl_ref(const mec_op_ctx *ctx);
/* infer and flops through the reference kernel (which checks everything). */
mec_status mec_dnnl_ref_infer(mec_op_ctx *ctx);
int64_t mec_dnnl_ref_flops(const mec_op_ctx *ctx);
mec_status mec_dnnl_fallback_prepare(mec_op_ctx *ctx, mec_dnnl_fallback *fb, size_t *scratch_bytes);
mec_status mec_dnnl_fallback_exec(mec_op_ctx *ctx, const mec_dnnl_fallback *fb);
void mec_dnnl_fallback_release(mec_dnnl_fallback *fb);
/* The fallback of a kernel that keeps its own copy of constant weights
 * (in[1]): keep, a previous prepare's copy (or NULL), is taken over into w
 * unpacked, the reference kernel is prepared to read w's copy (exec it
 * through mec_dnnl_with_own_weights), and ctx->const_kept says so when w has
 * one. On failure keep may have lost its copy to w: give it back. */
mec_status mec_dnnl_fallback_prepare_own(mec_op_ctx *ctx, mec_dnnl_weights *w, mec_dnnl_weights *keep,
                                         mec_dnnl_fallback *fb, size_t *scratch_bytes);

/* auto_pad SAME_UPPER (upper) or SAME_LOWER along one dim: input size in,
 * effective window eff ((k - 1) * dilation + 1), stride s; as the reference
 * conv.c and pool.c compute them. */
void mec_dnnl_same_pads(bool upper, int64_t in, int64_t eff, int64_t s, int64_t *pb, int64_t *pe);

/* A 2-D convolution's window: x (N, C, H, W), w (M, C/group, KH, KW); pads
 * exactly as the reference conv.c computes them (auto_pad included), from
 * attributes the reference infer has checked. Float and int8 convs share it. */
typedef struct mec_dnnl_conv_geo {
    int64_t group, k[2], s[2], dl[2], pb[2], pe[2];
} mec_dnnl_conv_geo;
void mec_dnnl_conv_geometry(const mec_node *n, const mec_tensor *x, const mec_tensor *w, mec_dnnl_conv_geo *g);

/* A (..., M, K) x B (..., K, N) (a 1-D operand promoted as MatMul does) as
 * oneDNN dims, float and int8 matmuls alike: one (batch * M, K) x (K, N)
 * product when B has no batch, else the broadcast batch dims. false when a
 * dim is empty or the product needs more than max_nd dims. */
bool mec_dnnl_mm_dims(const mec_tensor *a, const mec_tensor *b, int max_nd, int *nd, int64_t *a_dims,
                      int64_t *b_dims, int64_t *y_dims);

/* Rounds up to the 64-byte scratch alignment. */
static inline size_t mec_dnnl_align(size_t n) { return (n + 63) & ~(size_t)63; }

/* Kernel entry points (defined in dnnl_conv.c, dnnl_pool.c, dnnl_matmul.c)
 * gathered into mec_kernels_dnnl[] by dnnl_kernels.c. */
mec_status mec_dnnl_conv_infer(mec_op_ctx *ctx);
mec_status mec_dnnl_conv_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes);
mec_status mec_dnnl_conv_exec(mec_op_ctx *ctx);
void mec_dnnl_conv_release(void *state);

mec_status mec_dnnl_pool_infer(mec_op_ctx *ctx);
mec_status mec_dnnl_pool_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes);
mec_status mec_dnnl_pool_exec(mec_op_ctx *ctx);
void mec_dnnl_pool_release(void *state);

mec_status mec_dnnl_mm_infer(mec_op_ctx *ctx);
mec_status mec_dnnl_mm_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes);
mec_status mec_dnnl_mm_exec(mec_op_ctx *ctx);
void mec_dnnl_mm_release(void *state);

#endif
