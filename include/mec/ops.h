/* mec/ops.h — layer 3: the op kernel interface and the registry.
 *
 * Every op has a plain-C reference kernel (impl "ref", the oracle) and may
 * have fast kernels (impl "dnnl", ...). A kernel is three steps:
 *   infer   — check input dtypes/shapes/attributes and set each output's
 *             dtype and shape (never its data). Runs at load with the shapes
 *             known then (input data may be NULL: return MEC_ERR_DEFER when an
 *             output shape depends on a value not yet known), and at run time
 *             with every input's data present.
 *   prepare — optional, once per session and input-shape signature: pack
 *             weights, plan scratch. Inputs that are initializers have data.
 *   exec    — compute the outputs into buffers the runtime allocated
 *             (contiguous, outputs' shapes as infer set them). No allocation
 *             here except through ctx->scratch.
 */
#ifndef MEC_OPS_H
#define MEC_OPS_H

#include "mec/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mec_op_ctx {
    const mec_graph *graph;
    int node_id;
    const mec_node *node;
    int64_t opset;                     /* version of the node's domain imported by the model */
    int n_in;
    const mec_tensor *const *in;       /* in[i] NULL for an omitted optional input */
    int n_out;
    mec_tensor *const *out;            /* out[i] NULL for an omitted optional output */
    void *state;                       /* what prepare returned */
    void *scratch;                     /* scratch_bytes of scratch memory for exec */
    size_t scratch_bytes;
    uint32_t const_inputs;             /* bit i: in[i] is a constant (same data every run) */
    /* Set by prepare (cleared before the call): bit i means the kernel keeps
     * its own copy of constant in[i] (packed weights) and exec never reads
     * in[i]->data. Once every node reading a constant said so, the runtime
     * may free the constant's data; a later prepare of the node (new input
     * shapes) may then see in[i]->data NULL, and gets the previous state in
     * ctx->state to take its copy from (released by the runtime after). */
    uint32_t const_kept;
    int conv_algo; /* mec_conv_algo: what fast convolutions may use */
} mec_op_ctx;

/* How fast float convolutions may compute (session option conv_algo).
 * Winograd F(4x4,3x3) / F(2x2,3x3) transforms turn a 3x3 stride-1
 * convolution into fewer multiplications (1.5-2.2x faster here) with a
 * different rounding: outputs differ from direct summation by about 1e-6 of
 * their range (docs/fast-kernels.md). */
typedef enum mec_conv_algo {
    MEC_CONV_ALGO_AUTO = 0, /* Winograd where oneDNN has it and its weights stay small */
    MEC_CONV_ALGO_DIRECT,   /* direct summation only (what ONNX Runtime computes) */
    MEC_CONV_ALGO_WINOGRAD, /* Winograd wherever oneDNN has it, whatever the memory */
} mec_conv_algo;

/* Kernel flags. */
enum {
    /* exec may be handed out[0] sharing in[0]'s buffer (in-place elementwise). */
    MEC_KF_INPLACE = 1u << 0,
    /* out[0] is a view of in[0] with a new shape (Reshape, Squeeze, Flatten,
     * Identity): the runtime aliases the buffer and does not call exec. */
    MEC_KF_ALIAS = 1u << 1,
    /* Inputs may have any dense strides (a layout permutation such as NHWC
     * for an NCHW shape), and infer may give outputs such strides. Kernels
     * without this flag always see contiguous inputs. */
    MEC_KF_STRIDED = 1u << 2,
    /* out[0] may take over the buffer of the last input (a residual the
     * kernel sums into its output) when that value dies at this node: the
     * session hands it over when it is a pooled activation of out[0]'s
     * dtype, shape and strides that no other input or view uses, and exec
     * then sees out[0]->data == in[n_in - 1]->data. */
    MEC_KF_SUM_INPLACE = 1u << 3,
};

typedef struct mec_kernel {
    const char *op_type;
    const char *domain;   /* "" = ai.onnx, "com.microsoft", ... */
    int since_version;    /* opset range this kernel implements, inclusive */
    int until_version;
    const char *impl;     /* "ref" for the reference kernel */
    unsigned flags;
    /* Bit i set: infer needs the *data* of input i (Reshape's shape, ...). */
    uint32_t value_inputs;
    mec_status (*infer)(mec_op_ctx *ctx);
    mec_status (*exec)(mec_op_ctx *ctx);
    /* Optional. *state is handed back in ctx->state; *scratch_bytes (may be
     * left 0) is how much scratch exec needs. */
    mec_status (*prepare)(mec_op_ctx *ctx, void **state, size_t *scratch_bytes);
    void (*release)(void *state);
    /* Optional: floating-point (or integer MAC) operations of one exec. */
    int64_t (*flops)(const mec_op_ctx *ctx);
} mec_kernel;

/* Finds the kernel for (domain, op_type) at opset `opset`; impl NULL or
 * "auto" picks the fastest registered, "ref" the reference. NULL if none. */
const mec_kernel *mec_op_find(const char *domain, const char *op_type, int64_t opset,
                              const char *impl);
/* True when some kernel exists for the op in any opset (to tell "unknown op"
 * from "unsupported opset"). */
bool mec_op_known(const char *domain, const char *op_type);
/* All registered kernels (for `mecbench ops --list` and docs). */
const mec_kernel *const *mec_op_all(int *count);

/* The library behind the fast kernels, e.g. "oneDNN 2.6.3 (OpenMP)". */
const char *mec_op_fast_library(void);

/* Formats "node 'Conv_12' (Conv): " into the current error message prefix
 * and returns s. Every kernel error goes through this (or MEC_OP_ERR). */
mec_status mec_op_error(const mec_op_ctx *ctx, mec_status s, const char *fmt, ...) MEC_PRINTF(3, 4);
#define MEC_OP_ERR(ctx, st, ...) mec_op_error((ctx), (st), __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif
