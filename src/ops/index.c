/* Indexing ops: reference kernels for gathers, scatters, OneHot, CumSum,
 * TopK, NonZero and Compress. Indices read from tensors are checked before
 * any memory is touched: a bad one is MEC_ERR_RANGE naming it and the range. */
#include "op_util.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#define PAR_BYTES ((int64_t)1 << 18)

static int64_t shape_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    return n;
}

static mec_status check_elem_size(const mec_op_ctx *ctx, int i) {
    if (mec_dtype_size(ctx->in[i]->dtype) == 0)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "input %d has dtype %s, which this op does not support",
                          i, mec_dtype_name(ctx->in[i]->dtype));
    return MEC_OK;
}

static mec_status check_index_dtype(const mec_op_ctx *ctx, int i) {
    static const mec_dtype ok[] = {MEC_I32, MEC_I64, MEC_UNDEFINED};
    mec_status st = mec_op_check_dtype(ctx, i, ok);
    return st ? MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "input %d (indices) must be int32 or int64, not %s", i,
                           mec_dtype_name(ctx->in[i]->dtype))
              : MEC_OK;
}

/* Element i of an int32/int64 index tensor (contiguous). */
static inline int64_t index_at(const mec_tensor *t, int64_t i) {
    return t->dtype == MEC_I64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
}

/* Normalises index v (negative counts from the end) against dim, or fails
 * naming the element of input `input` that holds it. */
static mec_status check_index(const mec_op_ctx *ctx, int input, int64_t at, int64_t v, int64_t dim,
                              int64_t *out) {
    if (v < -dim || v >= dim)
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE,
                          "input %d (indices) element %" PRId64 " = %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
                          input, at, v, -dim, dim - 1);
    *out = v < 0 ? v + dim : v;
    return MEC_OK;
}

/* ------------------------------------------------------------- Gather */

static mec_status gather_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0)) || (st = check_index_dtype(ctx, 1))) return st;
    const mec_tensor *x = ctx->in[0], *idx = ctx->in[1];
    int axis;
    if ((st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", 0), x->ndim, &axis))) return st;
    int rank = x->ndim - 1 + idx->ndim;
    if (rank > MEC_MAX_DIMS)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "output would have rank %d (max %d)", rank, MEC_MAX_DIMS);
    int64_t shape[MEC_MAX_DIMS];
    int r = 0;
    for (int d = 0; d < axis; d++) shape[r++] = x->shape[d];
    for (int d = 0; d < idx->ndim; d++) shape[r++] = idx->shape[d];
    for (int d = axis + 1; d < x->ndim; d++) shape[r++] = x->shape[d];
    return mec_op_set_output(ctx, 0, x->dtype, rank, shape);
}

static mec_status gather_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0], *idx = ctx->in[1];
    int axis;
    mec_status st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", 0), x->ndim, &axis);
    if (st) return st;
    int64_t dim = x->shape[axis], n = mec_tensor_numel(idx), tmp;
    for (int64_t j = 0; j < n; j++)
        if ((st = check_index(ctx, 1, j, index_at(idx, j), dim, &tmp))) return st;
    size_t es = mec_dtype_size(x->dtype);
    int64_t outer = shape_numel(axis, x->shape);
    int64_t blk = shape_numel(x->ndim - axis - 1, x->shape + axis + 1) * (int64_t)es;
    int64_t total = outer * n;
    bool par = total > 1 && total * blk >= PAR_BYTES;
    (void)par;
#pragma omp parallel for if (par) schedule(static)
    for (int64_t t = 0; t < total; t++) {
        int64_t o = t / (n ? n : 1), j = t % (n ? n : 1);
        int64_t i = index_at(idx, j);
        if (i < 0) i += dim;
        memcpy((char *)ctx->out[0]->data + t * blk, (const char *)x->data + (o * dim + i) * blk, (size_t)blk);
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- GatherElements */

static mec_status gather_elements_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0)) || (st = check_index_dtype(ctx, 1))) return st;
    const mec_tensor *x = ctx->in[0], *idx = ctx->in[1];
    int axis;
    if ((st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", 0), x->ndim, &axis))) return st;
    if (idx->ndim != x->ndim)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "indices have rank %d, data has rank %d", idx->ndim, x->ndim);
    for (int d = 0; d < x->ndim; d++)
        if (d != axis && idx->shape[d] > x->shape[d])
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "indices dim %d (%" PRId64 ") exceeds data dim (%" PRId64 ")",
                              d, idx->shape[d], x->shape[d]);
    return mec_op_set_output(ctx, 0, x->dtype, idx->ndim, idx->shape);
}

static mec_status gather_elements_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0], *idx = ctx->in[1];
    int axis;
    mec_status st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", 0), x->ndim, &axis);
    if (st) return st;
    size_t es = mec_dtype_size(x->dtype);
    int64_t n = mec_tensor_numel(idx), dim = x->shape[axis];
    int64_t pos[MEC_MAX_DIMS] = {0};
    for (int64_t j = 0; j < n; j++) {
        int64_t i = 0, off = 0;
        if ((st = check_index(ctx, 1, j, index_at(idx, j), dim, &i))) return st;
        for (int d = 0; d < x->ndim; d++) off += (d == axis ? i : pos[d]) * x->strides[d];
        memcpy((char *)ctx->out[0]->data + (size_t)j * es, (const char *)x->data + (size_t)off * es, es);
        for (int d = idx->ndim - 1; d >= 0; d--) {
            if (++pos[d] < idx->shape[d]) break;
            pos[d] = 0;
        }
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- GatherND */

static mec_status gather_nd_check(mec_op_ctx *ctx, int *batch_dims, int64_t *last) {
    const mec_tensor *x = ctx->in[0], *idx = ctx->in[1];
    int64_t b = ctx->opset >= 12 ? mec_node_int(ctx->node, "batch_dims", 0) : 0;
    if (idx->ndim < 1) return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "indices must have rank >= 1");
    if (b < 0 || b >= idx->ndim || b >= x->ndim)
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "batch_dims = %" PRId64 " is out of range for ranks %d and %d",
                          b, x->ndim, idx->ndim);
    *last = idx->shape[idx->ndim - 1];
    if (*last < 1 || b + *last > x->ndim)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "indices' last dim (%" PRId64 ") must be in [1, %" PRId64 "]",
                          *last, x->ndim - b);
    for (int d = 0; d < b; d++)
        if (idx->shape[d] != x->shape[d])
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "batch dim %d: indices have %" PRId64 ", data has %" PRId64,
                              d, idx->shape[d], x->shape[d]);
    *batch_dims = (int)b;
    return MEC_OK;
}

static mec_status gather_nd_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0)) || (st = check_index_dtype(ctx, 1))) return st;
    int b;
    int64_t last;
    if ((st = gather_nd_check(ctx, &b, &last))) return st;
    const mec_tensor *x = ctx->in[0], *idx = ctx->in[1];
    int64_t shape[2 * MEC_MAX_DIMS];
    int r = 0;
    for (int d = 0; d < idx->ndim - 1; d++) shape[r++] = idx->shape[d];
    for (int d = b + (int)last; d < x->ndim; d++) shape[r++] = x->shape[d];
    return mec_op_set_output(ctx, 0, x->dtype, r, shape);
}

static mec_status gather_nd_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0], *idx = ctx->in[1];
    int b;
    int64_t last;
    mec_status st = gather_nd_check(ctx, &b, &last);
    if (st) return st;
    size_t es = mec_dtype_size(x->dtype);
    int64_t batches = shape_numel(b, x->shape);
    int64_t tuples = shape_numel(idx->ndim - 1 - b, idx->shape + b); /* per batch */
    int64_t slice = shape_numel(x->ndim - b - (int)last, x->shape + b + last);
    int64_t batch_stride = shape_numel(x->ndim - b, x->shape + b);
    char *y = ctx->out[0]->data;
    for (int64_t bi = 0; bi < batches; bi++)
        for (int64_t t = 0; t < tuples; t++) {
            int64_t k0 = (bi * tuples + t) * last, off = bi * batch_stride;
            for (int64_t k = 0; k < last; k++) {
                int64_t i = 0;
                if ((st = check_index(ctx, 1, k0 + k, index_at(idx, k0 + k), x->shape[b + k], &i)))
                    return st;
                off += i * x->strides[b + k];
            }
            memcpy(y + (size_t)((bi * tuples + t) * slice) * es, (const char *)x->data + (size_t)off * es,
                   (size_t)slice * es);
        }
    return MEC_OK;
}

/* ------------------------------------------------------------- scatter reductions */

enum { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN };

static mec_status reduction_mode(mec_op_ctx *ctx, int *red) {
    const char *r = mec_node_string(ctx->node, "reduction", "none");
    if (!strcmp(r, "none")) *red = RED_NONE;
    else if (!strcmp(r, "add")) *red = RED_ADD;
    else if (!strcmp(r, "mul")) *red = RED_MUL;
    else if (!strcmp(r, "max")) *red = RED_MAX;
    else if (!strcmp(r, "min")) *red = RED_MIN;
    else return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "reduction '%s' is not none, add, mul, max or min", r);
    return MEC_OK;
}

#define COMBINE(T, a, b, red)                                                                    \
    do {                                                                                         \
        T a_ = *(T *)(a), b_ = *(const T *)(b);                                                  \
        *(T *)(a) = red == RED_ADD   ? (T)(a_ + b_)                                              \
                    : red == RED_MUL ? (T)(a_ * b_)                                              \
                    : red == RED_MAX ? (a_ > b_ ? a_ : b_)                                       \
                                     : (a_ < b_ ? a_ : b_);                                      \
    } while (0)

/* dst[0..n) = dst (red) src, elementwise, or a plain copy for RED_NONE. */
static void combine(void *dst, const void *src, int64_t n, mec_dtype t, int red) {
    size_t es = mec_dtype_size(t);
    if (red == RED_NONE) {
        memcpy(dst, src, (size_t)n * es);
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        char *a = (char *)dst + (size_t)i * es;
        const char *b = (const char *)src + (size_t)i * es;
        switch (t) {
        case MEC_F32: COMBINE(float, a, b, red); break;
        case MEC_F64: COMBINE(double, a, b, red); break;
        case MEC_I8: COMBINE(int8_t, a, b, red); break;
        case MEC_U8: COMBINE(uint8_t, a, b, red); break;
        case MEC_I16: COMBINE(int16_t, a, b, red); break;
        case MEC_U16: COMBINE(uint16_t, a, b, red); break;
        case MEC_I32: COMBINE(int32_t, a, b, red); break;
        case MEC_U32: COMBINE(uint32_t, a, b, red); break;
        case MEC_I64: COMBINE(int64_t, a, b, red); break;
        case MEC_U64: COMBINE(uint64_t, a, b, red); break;
        case MEC_BOOL: {
            uint8_t x = *(uint8_t *)a != 0, y = *(const uint8_t *)b != 0;
            *(uint8_t *)a = red == RED_ADD || red == RED_MAX ? (x | y) : (x & y);
            break;
        }
        case MEC_F16:
        case MEC_BF16: {
            bool h = t == MEC_F16;
            float x = h ? mec_f16_to_f32(*(uint16_t *)a) : mec_bf16_to_f32(*(uint16_t *)a);
            float y = h ? mec_f16_to_f32(*(const uint16_t *)b) : mec_bf16_to_f32(*(const uint16_t *)b);
            float r = red == RED_ADD ? x + y : red == RED_MUL ? x * y : red == RED_MAX ? (x > y ? x : y) : (x < y ? x : y);
            *(uint16_t *)a = h ? mec_f32_to_f16(r) : mec_f32_to_bf16(r);
            break;
        }
        default: break;
        }
    }
}

/* ------------------------------------------------------------- ScatterND */

static mec_status scatter_nd_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 3, 3);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0)) || (st = check_index_dtype(ctx, 1))) return st;
    const mec_tensor *x = ctx->in[0], *idx = ctx->in[1], *upd = ctx->in[2];
    int red;
    if ((st = reduction_mode(ctx, &red))) return st;
    if (upd->dtype != x->dtype)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "updates have dtype %s, data has %s",
                          mec_dtype_name(upd->dtype), mec_dtype_name(x->dtype));
    if (idx->ndim < 1) return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "indices must have rank >= 1");
    int64_t k = idx->shape[idx->ndim - 1];
    if (k < 1 || k > x->ndim)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "indices' last dim (%" PRId64 ") must be in [1, %d]", k, x->ndim);
    /* updates: indices.shape[:-1] + data.shape[k:] */
    int want = idx->ndim - 1 + x->ndim - (int)k;
    bool ok = upd->ndim == want;
    for (int d = 0; ok && d < want; d++) {
        int64_t e = d < idx->ndim - 1 ? idx->shape[d] : x->shape[k + d - (idx->ndim - 1)];
        ok = upd->shape[d] == e;
    }
    if (!ok) {
        char a[160];
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "updates have shape %s, which does not match indices and data",
                          mec_shape_str(upd->ndim, upd->shape, a, sizeof a));
    }
    return mec_op_output_like(ctx, 0, 0);
}

static mec_status scatter_nd_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0], *idx = ctx->in[1], *upd = ctx->in[2];
    int red;
    mec_status st = reduction_mode(ctx, &red);
    if (st) return st;
    size_t es = mec_dtype_size(x->dtype);
    int64_t k = idx->shape[idx->ndim - 1];
    int64_t tuples = shape_numel(idx->ndim - 1, idx->shape);
    int64_t slice = shape_numel(x->ndim - (int)k, x->shape + k);
    /* check every index first so a bad one leaves the output untouched */
    for (int64_t j = 0; j < tuples * k; j++) {
        int64_t i;
        if ((st = check_index(ctx, 1, j, index_at(idx, j), x->shape[j % k], &i))) return st;
    }
    char *y = ctx->out[0]->data;
    if (y != x->data) memcpy(y, x->data, mec_tensor_bytes(x));
    for (int64_t t = 0; t < tuples; t++) {
        int64_t off = 0;
        for (int64_t d = 0; d < k; d++) {
            int64_t i = index_at(idx, t * k + d);
            off += (i < 0 ? i + x->shape[d] : i) * x->strides[d];
        }
        combine(y + (size_t)off * es, (const char *)upd->data + (size_t)(t * slice) * es, slice, x->dtype, red);
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- ScatterElements / Scatter */

static mec_status scatter_elements_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 3, 3);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0)) || (st = check_index_dtype(ctx, 1))) return st;
    const mec_tensor *x = ctx->in[0], *idx = ctx->in[1], *upd = ctx->in[2];
    int red, axis;
    if ((st = reduction_mode(ctx, &red))) return st;
    if ((st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", 0), x->ndim, &axis))) return st;
    if (upd->dtype != x->dtype)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "updates have dtype %s, data has %s",
                          mec_dtype_name(upd->dtype), mec_dtype_name(x->dtype));
    if (idx->ndim != x->ndim || !mec_tensor_same_shape(idx, upd))
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "indices and updates must have the same shape and data's rank");
    for (int d = 0; d < x->ndim; d++)
        if (d != axis && idx->shape[d] > x->shape[d])
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "indices dim %d (%" PRId64 ") exceeds data dim (%" PRId64 ")",
                              d, idx->shape[d], x->shape[d]);
    return mec_op_output_like(ctx, 0, 0);
}

static mec_status scatter_elements_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0], *idx = ctx->in[1], *upd = ctx->in[2];
    int red, axis;
    mec_status st = reduction_mode(ctx, &red);
    if (st) return st;
    if ((st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", 0), x->ndim, &axis))) return st;
    size_t es = mec_dtype_size(x->dtype);
    int64_t n = mec_tensor_numel(idx), dim = x->shape[axis];
    for (int64_t j = 0; j < n; j++) {
        int64_t i;
        if ((st = check_index(ctx, 1, j, index_at(idx, j), dim, &i))) return st;
    }
    char *y = ctx->out[0]->data;
    if (y != x->data) memcpy(y, x->data, mec_tensor_bytes(x));
    int64_t pos[MEC_MAX_DIMS] = {0};
    for (int64_t j = 0; j < n; j++) {
        int64_t i = index_at(idx, j), off = 0;
        if (i < 0) i += dim;
        for (int d = 0; d < x->ndim; d++) off += (d == axis ? i : pos[d]) * x->strides[d];
        combine(y + (size_t)off * es, (const char *)upd->data + (size_t)j * es, 1, x->dtype, red);
        for (int d = idx->ndim - 1; d >= 0; d--) {
            if (++pos[d] < idx->shape[d]) break;
            pos[d] = 0;
        }
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- OneHot */

static mec_status onehot_depth(mec_op_ctx *ctx, int64_t *depth) {
    const mec_tensor *d = ctx->in[1];
    if (mec_tensor_numel(d) != 1)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "depth must have one element, has %" PRId64, mec_tensor_numel(d));
    if (!d->data) return MEC_ERR_DEFER;
    double v = mec_tensor_get_f64(d, 0);
    if (!(v >= 1 && v <= (double)MEC_MAX_NUMEL))
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "depth = %g is invalid", v);
    *depth = (int64_t)v;
    return MEC_OK;
}

static mec_status onehot_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 3, 3);
    if (st) return st;
    const mec_tensor *idx = ctx->in[0], *vals = ctx->in[2];
    if (mec_dtype_size(idx->dtype) == 0 || mec_dtype_size(vals->dtype) == 0)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "indices %s / values %s are not supported",
                          mec_dtype_name(idx->dtype), mec_dtype_name(vals->dtype));
    if (mec_tensor_numel(vals) != 2)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "values must have 2 elements, has %" PRId64, mec_tensor_numel(vals));
    int rank = idx->ndim + 1, axis;
    if (rank > MEC_MAX_DIMS)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "output would have rank %d (max %d)", rank, MEC_MAX_DIMS);
    if ((st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", -1), rank, &axis))) return st;
    int64_t depth;
    if ((st = onehot_depth(ctx, &depth))) return st;
    int64_t shape[MEC_MAX_DIMS];
    for (int d = 0, j = 0; d < rank; d++) shape[d] = d == axis ? depth : idx->shape[j++];
    return mec_op_set_output(ctx, 0, vals->dtype, rank, shape);
}

/* Indices outside [-depth, depth) give an all-off row, as the ONNX spec says. */
static mec_status onehot_exec(mec_op_ctx *ctx) {
    const mec_tensor *idx = ctx->in[0], *vals = ctx->in[2];
    mec_tensor *y = ctx->out[0];
    int64_t depth;
    int axis;
    mec_status st = onehot_depth(ctx, &depth);
    if (st) return st;
    if ((st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", -1), idx->ndim + 1, &axis))) return st;
    size_t es = mec_dtype_size(vals->dtype);
    const char *off = vals->data, *on = (const char *)vals->data + es;
    int64_t n = mec_tensor_numel(y);
    for (int64_t i = 0; i < n; i++) memcpy((char *)y->data + (size_t)i * es, off, es);
    int64_t outer = shape_numel(axis, idx->shape);
    int64_t inner = shape_numel(idx->ndim - axis, idx->shape + axis);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double v = mec_tensor_get_f64(idx, o * inner + i);
            if (!(v >= (double)-depth && v < (double)depth)) continue;
            int64_t k = (int64_t)v;
            if (k < 0) k += depth;
            memcpy((char *)y->data + (size_t)((o * depth + k) * inner + i) * es, on, es);
        }
    return MEC_OK;
}

/* ------------------------------------------------------------- CumSum */

static mec_status cumsum_axis(mec_op_ctx *ctx, int *axis) {
    const mec_tensor *a = ctx->in[1];
    if (a->dtype != MEC_I32 && a->dtype != MEC_I64)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "axis must be int32 or int64, not %s", mec_dtype_name(a->dtype));
    if (mec_tensor_numel(a) != 1)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "axis must be a scalar, has %" PRId64 " elements", mec_tensor_numel(a));
    if (!a->data) return MEC_ERR_DEFER;
    return mec_op_axis(ctx, mec_tensor_get_i64(a, 0), ctx->in[0]->ndim, axis);
}

static mec_status cumsum_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (st) return st;
    static const mec_dtype ok[] = {MEC_F32, MEC_F64, MEC_F16, MEC_BF16, MEC_I32, MEC_I64,
                                   MEC_U32, MEC_U64, MEC_UNDEFINED};
    if ((st = mec_op_check_dtype(ctx, 0, ok))) return st;
    int axis;
    st = cumsum_axis(ctx, &axis);
    if (st && st != MEC_ERR_DEFER) return st; /* the output shape does not need the axis */
    return mec_op_output_like(ctx, 0, 0);
}

static mec_status cumsum_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    int axis;
    mec_status st = cumsum_axis(ctx, &axis);
    if (st) return st;
    bool exclusive = mec_node_int(ctx->node, "exclusive", 0) != 0;
    bool reverse = mec_node_int(ctx->node, "reverse", 0) != 0;
    bool fp = x->dtype == MEC_F32 || x->dtype == MEC_F64 || x->dtype == MEC_F16 || x->dtype == MEC_BF16;
    int64_t outer = shape_numel(axis, x->shape), len = x->shape[axis];
    int64_t inner = shape_numel(x->ndim - axis - 1, x->shape + axis + 1);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double sf = 0;
            int64_t si = 0;
            for (int64_t s = 0; s < len; s++) {
                int64_t k = reverse ? len - 1 - s : s;
                int64_t at = (o * len + k) * inner + i;
                if (fp) {
                    double v = mec_tensor_get_f64(x, at);
                    if (!exclusive) sf += v;
                    mec_tensor_set_f64(y, at, sf);
                    if (exclusive) sf += v;
                } else {
                    int64_t v = mec_tensor_get_i64(x, at);
                    if (!exclusive) si = (int64_t)((uint64_t)si + (uint64_t)v);
                    switch (y->dtype) {
                    case MEC_I32: ((int32_t *)y->data)[at] = (int32_t)si; break;
                    case MEC_U32: ((uint32_t *)y->data)[at] = (uint32_t)si; break;
                    case MEC_U64: ((uint64_t *)y->data)[at] = (uint64_t)si; break;
                    default: ((int64_t *)y->data)[at] = si; break;
                    }
                    if (exclusive) si = (int64_t)((uint64_t)si + (uint64_t)v);
                }
            }
        }
    return MEC_OK;
}

/* ------------------------------------------------------------- TopK */

static mec_status topk_args(mec_op_ctx *ctx, int *axis, int64_t *k) {
    const mec_tensor *x = ctx->in[0];
    mec_status st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", -1), x->ndim, axis);
    if (st) return st;
    if (ctx->opset < 10) {
        const mec_attr *a = mec_node_attr(ctx->node, "k");
        if (!a) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute 'k' is missing");
        *k = a->i;
    } else {
        const mec_tensor *kt = ctx->in[1];
        if (kt->dtype != MEC_I64 && kt->dtype != MEC_I32)
            return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "K must be int64, not %s", mec_dtype_name(kt->dtype));
        if (mec_tensor_numel(kt) != 1)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "K must have one element, has %" PRId64, mec_tensor_numel(kt));
        if (!kt->data) return MEC_ERR_DEFER;
        *k = mec_tensor_get_i64(kt, 0);
    }
    if (*k < 0 || *k > x->shape[*axis])
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "K = %" PRId64 " is out of range [0, %" PRId64 "] for axis %d",
                          *k, x->shape[*axis], *axis);
    return MEC_OK;
}

static mec_status topk_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, ctx->opset < 10 ? 1 : 2, ctx->opset < 10 ? 1 : 2);
    if (st) return st;
    static const mec_dtype ok[] = {MEC_F32, MEC_F64, MEC_F16, MEC_BF16, MEC_I8, MEC_U8, MEC_I16, MEC_U16,
                                   MEC_I32, MEC_U32, MEC_I64, MEC_U64, MEC_UNDEFINED};
    if ((st = mec_op_check_dtype(ctx, 0, ok))) return st;
    int axis;
    int64_t k;
    if ((st = topk_args(ctx, &axis, &k))) return st;
    const mec_tensor *x = ctx->in[0];
    int64_t shape[MEC_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[axis] = k;
    if ((st = mec_op_set_output(ctx, 0, x->dtype, x->ndim, shape))) return st;
    return mec_op_set_output(ctx, 1, MEC_I64, x->ndim, shape);
}

/* Scratch: keys[len] (double or int64 bits), order[len], tmp[len]. */
static mec_status topk_prepare(mec_op_ctx *ctx, void **state, size_t *scratch_bytes) {
    (void)state;
    int axis;
    mec_status st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", -1), ctx->in[0]->ndim, &axis);
    if (st) return st;
    *scratch_bytes = (size_t)ctx->in[0]->shape[axis] * 3 * sizeof(int64_t);
    return MEC_OK;
}

typedef struct topk_keys {
    const double *f; /* float keys, or NULL */
    const int64_t *i;
    bool largest, is_unsigned;
} topk_keys;

/* True when element a goes strictly before b (NaN counts as the largest). */
static inline bool topk_before(const topk_keys *k, int64_t a, int64_t b) {
    if (k->f) {
        double x = k->f[a], y = k->f[b];
        bool xn = isnan(x), yn = isnan(y);
        if (xn || yn) return k->largest ? (xn && !yn) : (!xn && yn);
        return k->largest ? x > y : x < y;
    }
    if (k->is_unsigned) {
        uint64_t x = (uint64_t)k->i[a], y = (uint64_t)k->i[b];
        return k->largest ? x > y : x < y;
    }
    return k->largest ? k->i[a] > k->i[b] : k->i[a] < k->i[b];
}

/* Stable merge sort of order[0..n) (bottom-up), so ties keep the lower index first. */
static void topk_sort(const topk_keys *k, int64_t *order, int64_t *tmp, int64_t n) {
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi) tmp[o++] = topk_before(k, order[b], order[a]) ? order[b++] : order[a++];
            while (a < mid) tmp[o++] = order[a++];
            while (b < hi) tmp[o++] = order[b++];
        }
        memcpy(order, tmp, (size_t)n * sizeof *order);
    }
}

static mec_status topk_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    mec_tensor *vals = ctx->out[0], *inds = ctx->n_out > 1 ? ctx->out[1] : NULL;
    int axis;
    int64_t k;
    mec_status st = topk_args(ctx, &axis, &k);
    if (st) return st;
    int64_t len = x->shape[axis];
    if (ctx->scratch_bytes < (size_t)len * 3 * sizeof(int64_t))
        return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "scratch of %zu bytes is too small", ctx->scratch_bytes);
    int64_t *keys = ctx->scratch, *order = keys + len, *tmp = order + len;
    bool fp = x->dtype == MEC_F32 || x->dtype == MEC_F64 || x->dtype == MEC_F16 || x->dtype == MEC_BF16;
    topk_keys kk = {fp ? (const double *)(void *)keys : NULL, keys,
                    mec_node_int(ctx->node, "largest", 1) != 0, x->dtype == MEC_U64};
    size_t es = mec_dtype_size(x->dtype);
    int64_t outer = shape_numel(axis, x->shape);
    int64_t inner = shape_numel(x->ndim - axis - 1, x->shape + axis + 1);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            for (int64_t s = 0; s < len; s++) {
                int64_t at = (o * len + s) * inner + i;
                if (fp) ((double *)(void *)keys)[s] = mec_tensor_get_f64(x, at);
                else keys[s] = mec_tensor_get_i64(x, at);
                order[s] = s;
            }
            topk_sort(&kk, order, tmp, len);
            for (int64_t s = 0; s < k; s++) {
                int64_t dst = (o * k + s) * inner + i, src = (o * len + order[s]) * inner + i;
                memcpy((char *)vals->data + (size_t)dst * es, (const char *)x->data + (size_t)src * es, es);
                if (inds) ((int64_t *)inds->data)[dst] = order[s];
            }
        }
    return MEC_OK;
}

/* ------------------------------------------------------------- NonZero */

static bool elem_nonzero(const mec_tensor *t, int64_t i) {
    const void *p = t->data;
    switch (t->dtype) {
    case MEC_F32: return ((const float *)p)[i] != 0.0f;
    case MEC_F64: return ((const double *)p)[i] != 0.0;
    case MEC_F16:
    case MEC_BF16: return (((const uint16_t *)p)[i] & 0x7fff) != 0;
    case MEC_U8: case MEC_I8: case MEC_BOOL: return ((const uint8_t *)p)[i] != 0;
    case MEC_U16: case MEC_I16: return ((const uint16_t *)p)[i] != 0;
    case MEC_U32: case MEC_I32: return ((const uint32_t *)p)[i] != 0;
    case MEC_U64: case MEC_I64: return ((const uint64_t *)p)[i] != 0;
    default: return false;
    }
}

static mec_status nonzero_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0))) return st;
    const mec_tensor *x = ctx->in[0];
    if (!x->data) return MEC_ERR_DEFER;
    int64_t n = mec_tensor_numel(x), count = 0;
    for (int64_t i = 0; i < n; i++) count += elem_nonzero(x, i);
    /* a scalar is treated as a 1-element vector, as ONNX Runtime does */
    int64_t shape[2] = {x->ndim ? x->ndim : 1, count};
    return mec_op_set_output(ctx, 0, MEC_I64, 2, shape);
}

static mec_status nonzero_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    int64_t n = mec_tensor_numel(x), count = y->shape[1], c = 0;
    int r = x->ndim ? x->ndim : 1;
    int64_t pos[MEC_MAX_DIMS] = {0};
    int64_t *out = y->data;
    for (int64_t i = 0; i < n; i++) {
        if (elem_nonzero(x, i)) {
            if (c >= count) return MEC_OP_ERR(ctx, MEC_ERR_INTERNAL, "input changed after shape inference");
            for (int d = 0; d < r; d++) out[d * count + c] = pos[d];
            c++;
        }
        for (int d = x->ndim - 1; d >= 0; d--) {
            if (++pos[d] < x->shape[d]) break;
            pos[d] = 0;
        }
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- Compress */

/* Selected count; *axis is -1 when the input is flattened. */
static mec_status compress_count(mec_op_ctx *ctx, int *axis, int64_t *count) {
    const mec_tensor *x = ctx->in[0], *c = ctx->in[1];
    mec_status st;
    const mec_attr *a = mec_node_attr(ctx->node, "axis");
    *axis = -1;
    if (a && (st = mec_op_axis(ctx, a->i, x->ndim, axis))) return st;
    if (c->ndim != 1) return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "condition must be 1-D, has rank %d", c->ndim);
    if (c->dtype != MEC_BOOL)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "condition must be bool, not %s", mec_dtype_name(c->dtype));
    if (!c->data) return MEC_ERR_DEFER;
    int64_t dim = *axis >= 0 ? x->shape[*axis] : mec_tensor_numel(x);
    int64_t n = c->shape[0];
    const uint8_t *cv = c->data;
    *count = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!cv[i]) continue;
        if (i >= dim)
            return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "condition[%" PRId64 "] is true, beyond the %" PRId64 " selectable slices",
                              i, dim);
        (*count)++;
    }
    return MEC_OK;
}

static mec_status compress_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0))) return st;
    int axis;
    int64_t count;
    if ((st = compress_count(ctx, &axis, &count))) return st;
    const mec_tensor *x = ctx->in[0];
    if (axis < 0) return mec_op_set_output(ctx, 0, x->dtype, 1, &count);
    int64_t shape[MEC_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[axis] = count;
    return mec_op_set_output(ctx, 0, x->dtype, x->ndim, shape);
}

static mec_status compress_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0], *c = ctx->in[1];
    int axis;
    int64_t count;
    mec_status st = compress_count(ctx, &axis, &count);
    if (st) return st;
    size_t es = mec_dtype_size(x->dtype);
    int64_t outer = 1, dim = mec_tensor_numel(x), inner = 1;
    if (axis >= 0) {
        outer = shape_numel(axis, x->shape);
        dim = x->shape[axis];
        inner = shape_numel(x->ndim - axis - 1, x->shape + axis + 1);
    }
    int64_t n = c->shape[0] < dim ? c->shape[0] : dim;
    const uint8_t *cv = c->data;
    size_t blk = (size_t)inner * es;
    char *y = ctx->out[0]->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < n; i++)
            if (cv[i]) {
                memcpy(y, (const char *)x->data + (size_t)(o * dim + i) * blk, blk);
                y += blk;
            }
    return MEC_OK;
}

/* ------------------------------------------------------------- table */

#define K(op, lo, hi, vin, inf, ex) {op, "", lo, hi, "ref", 0, vin, inf, ex, NULL, NULL, NULL}

const mec_kernel mec_kernels_index[] = {
    K("Gather", 1, 17, 0, gather_infer, gather_exec),
    K("GatherElements", 11, 17, 0, gather_elements_infer, gather_elements_exec),
    K("GatherND", 11, 17, 0, gather_nd_infer, gather_nd_exec),
    K("ScatterND", 11, 17, 0, scatter_nd_infer, scatter_nd_exec),
    K("ScatterElements", 11, 17, 0, scatter_elements_infer, scatter_elements_exec),
    K("Scatter", 9, 10, 0, scatter_elements_infer, scatter_elements_exec),
    K("OneHot", 9, 17, 1u << 1, onehot_infer, onehot_exec),
    K("CumSum", 11, 17, 0, cumsum_infer, cumsum_exec),
    {"TopK", "", 1, 9, "ref", 0, 0, topk_infer, topk_exec, topk_prepare, NULL, NULL},
    {"TopK", "", 10, 17, "ref", 0, 1u << 1, topk_infer, topk_exec, topk_prepare, NULL, NULL},
    K("NonZero", 9, 17, 1u << 0, nonzero_infer, nonzero_exec),
    K("Compress", 9, 17, 1u << 1, compress_infer, compress_exec),
    {0},
};
