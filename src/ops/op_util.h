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

/* Reads the INTS attribute `name` of exactly n values, each in [min, 2^31],
 * into v; every v[i] = dflt when the attribute is absent. */
mec_status mec_op_dims_attr(const mec_op_ctx *ctx, const char *name, int n, int64_t min,
                            int64_t dflt, int64_t *v);

/* The auto_pad attribute of Conv, ConvTranspose and the pooling ops. */
typedef enum mec_auto_pad {
    MEC_AUTO_PAD_NOTSET,
    MEC_AUTO_PAD_SAME_UPPER,
    MEC_AUTO_PAD_SAME_LOWER,
    MEC_AUTO_PAD_VALID,
} mec_auto_pad;
/* Reads auto_pad ("" counts as NOTSET); an error names any other value. */
mec_status mec_op_auto_pad(const mec_op_ctx *ctx, mec_auto_pad *mode);
/* SAME_UPPER / SAME_LOWER padding of one spatial dim of size `in` for a
 * window of extent `eff` (dilated kernel) moving by `stride`: returns the
 * output size ceil(in / stride) and sets the pads that give it, the odd one
 * at the end for SAME_UPPER (upper true), at the beginning for SAME_LOWER. */
int64_t mec_op_same_pads(int64_t in, int64_t stride, int64_t eff, bool upper, int64_t *pad_begin,
                         int64_t *pad_end);

/* Element i of a contiguous buffer p of float dtype t (f32/f64/f16/bf16) as
 * double; 0 for any other dtype. Inline: kernels call it per element. */
static inline double mec_op_load_f64(const void *p, mec_dtype t, int64_t i) {
    switch (t) {
    case MEC_F32: return ((const float *)p)[i];
    case MEC_F64: return ((const double *)p)[i];
    case MEC_F16: return mec_f16_to_f32(((const uint16_t *)p)[i]);
    case MEC_BF16: return mec_bf16_to_f32(((const uint16_t *)p)[i]);
    default: return 0.0;
    }
}

/* Stores v (rounded to the dtype) as element i of a float buffer; other
 * dtypes are left untouched. */
static inline void mec_op_store_f64(void *p, mec_dtype t, int64_t i, double v) {
    switch (t) {
    case MEC_F32: ((float *)p)[i] = (float)v; break;
    case MEC_F64: ((double *)p)[i] = v; break;
    case MEC_F16: ((uint16_t *)p)[i] = mec_f32_to_f16((float)v); break;
    case MEC_BF16: ((uint16_t *)p)[i] = mec_f32_to_bf16((float)v); break;
    default: break;
    }
}

#endif
