/* Internal helpers shared by the op kernels: output setting, axis handling,
 * broadcasting, attribute access with checks. Not part of the public API. */
#ifndef MEC_OP_UTIL_H
#define MEC_OP_UTIL_H

#include "mec/ops.h"

/* Sets dtype and shape (contiguous strides) of output i; keeps its buffer
 * fields untouched (the runtime owns them). Validates the dims. */
mec_status mec_op_set_output(mec_op_ctx *ctx, int i, mec_dtype dtype, int ndim,
                             const int64_t *shape);
/* Same shape and dtype as in[src]. */
mec_status mec_op_output_like(mec_op_ctx *ctx, int i, int src);

/* Input count within [min, max] and inputs 0..min-1 present; else an error naming the node. */
mec_status mec_op_check_arity(const mec_op_ctx *ctx, int min_in, int max_in);
/* in[i] has one of the dtypes in the zero-terminated list `allowed`. */
mec_status mec_op_check_dtype(const mec_op_ctx *ctx, int i, const mec_dtype *allowed);

/* Normalises axis in [-rank, rank) (or [-rank-1, rank] when allow_end) into *out. */
mec_status mec_op_axis(const mec_op_ctx *ctx, int64_t axis, int rank, int *out);

/* Multidirectional (numpy) broadcast of shapes a and b into out. */
mec_status mec_op_broadcast(const mec_op_ctx *ctx, int na, const int64_t *a, int nb,
                            const int64_t *b, int *nout, int64_t *out);
/* Element strides of t broadcast to out_shape (0 where broadcast). */
void mec_op_broadcast_strides(const mec_tensor *t, int nd, const int64_t *out_shape,
                              int64_t *strides);

/* Reads a 1-D integer tensor (int32/int64) into v (at most max values);
 * returns count via *n. Error names the node and input index. */
mec_status mec_op_read_ints(const mec_op_ctx *ctx, int i, int64_t *v, int max, int *n);

#endif
