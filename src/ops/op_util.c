/* Shared helpers for kernels: outputs, arity/dtype checks, axes, broadcasting,
 * and the window attributes of Conv and pooling. */
#include "op_util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

mec_status mec_op_error(const mec_op_ctx *ctx, mec_status s, const char *fmt, ...) {
    char msg[2048], label[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ctx && ctx->graph) mec_node_label(ctx->graph, ctx->node_id, label, sizeof label);
    else if (ctx && ctx->node) snprintf(label, sizeof label, "'%s' (%s)", ctx->node->name, ctx->node->op_type);
    else snprintf(label, sizeof label, "?");
    return mec_error(s, "node %s: %s", label, msg);
}

mec_status mec_op_set_output(mec_op_ctx *ctx, int i, mec_dtype dtype, int ndim,
                             const int64_t *shape) {
    if (i >= ctx->n_out || !ctx->out[i]) return MEC_OK; /* omitted optional output */
    mec_tensor *t = ctx->out[i];
    if (ndim < 0 || ndim > MEC_MAX_DIMS)
        return mec_op_error(ctx, MEC_ERR_UNSUPPORTED, "output %d would have rank %d (max %d)", i,
                            ndim, MEC_MAX_DIMS);
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0)
            return mec_op_error(ctx, MEC_ERR_SHAPE, "output %d: dimension %d is negative (%" PRId64 ")",
                                i, d, shape[d]);
        if (shape[d] && n > MEC_MAX_NUMEL / shape[d])
            return mec_op_error(ctx, MEC_ERR_SHAPE, "output %d has more than 2^40 elements", i);
        n *= shape[d];
    }
    t->dtype = dtype;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++) t->shape[d] = shape[d];
    mec_tensor_contiguous_strides(t);
    return MEC_OK;
}

mec_status mec_op_output_like(mec_op_ctx *ctx, int i, int src) {
    const mec_tensor *s = ctx->in[src];
    return mec_op_set_output(ctx, i, s->dtype, s->ndim, s->shape);
}

mec_status mec_op_check_arity(const mec_op_ctx *ctx, int min_in, int max_in) {
    if (ctx->n_in < min_in || ctx->n_in > max_in)
        return mec_op_error(ctx, MEC_ERR_GRAPH, "has %d inputs, expected %d..%d", ctx->n_in,
                            min_in, max_in);
    for (int i = 0; i < min_in; i++)
        if (!ctx->in[i])
            return mec_op_error(ctx, MEC_ERR_GRAPH, "required input %d is missing", i);
    return MEC_OK;
}

mec_status mec_op_check_dtype(const mec_op_ctx *ctx, int i, const mec_dtype *allowed) {
    mec_dtype t = ctx->in[i]->dtype;
    for (const mec_dtype *a = allowed; *a; a++)
        if (*a == t) return MEC_OK;
    return mec_op_error(ctx, MEC_ERR_UNSUPPORTED, "input %d has dtype %s, which this op does not support",
                        i, mec_dtype_name(t));
}

mec_status mec_op_axis(const mec_op_ctx *ctx, int64_t axis, int rank, int *out) {
    if (axis < -rank || axis >= rank)
        return mec_op_error(ctx, MEC_ERR_RANGE, "axis %" PRId64 " is out of range for rank %d",
                            axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return MEC_OK;
}

mec_status mec_op_broadcast(const mec_op_ctx *ctx, int na, const int64_t *a, int nb,
                            const int64_t *b, int *nout, int64_t *out) {
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int64_t da = i < n - na ? 1 : a[i - (n - na)];
        int64_t db = i < n - nb ? 1 : b[i - (n - nb)];
        if (da == db || db == 1) out[i] = da;
        else if (da == 1) out[i] = db;
        else {
            char sa[160], sb[160];
            return mec_op_error(ctx, MEC_ERR_SHAPE, "shapes %s and %s cannot be broadcast",
                                mec_shape_str(na, a, sa, sizeof sa),
                                mec_shape_str(nb, b, sb, sizeof sb));
        }
    }
    *nout = n;
    return MEC_OK;
}

void mec_op_broadcast_strides(const mec_tensor *t, int nd, const int64_t *out_shape,
                              int64_t *strides) {
    int off = nd - t->ndim;
    for (int i = 0; i < nd; i++) {
        if (i < off) strides[i] = 0;
        else strides[i] = (t->shape[i - off] == 1 && out_shape[i] != 1) ? 0 : t->strides[i - off];
    }
}

mec_status mec_op_read_ints(const mec_op_ctx *ctx, int i, int64_t *v, int max, int *n) {
    const mec_tensor *t = ctx->in[i];
    if (!t) return mec_op_error(ctx, MEC_ERR_GRAPH, "input %d is missing", i);
    if (t->dtype != MEC_I64 && t->dtype != MEC_I32)
        return mec_op_error(ctx, MEC_ERR_DTYPE, "input %d must be int64 or int32, not %s", i,
                            mec_dtype_name(t->dtype));
    if (t->ndim > 1)
        return mec_op_error(ctx, MEC_ERR_SHAPE, "input %d must be 1-D, has rank %d", i, t->ndim);
    int64_t cnt = mec_tensor_numel(t);
    if (cnt > max)
        return mec_op_error(ctx, MEC_ERR_SHAPE, "input %d has %" PRId64 " values, at most %d allowed",
                            i, cnt, max);
    if (!t->data) return MEC_ERR_DEFER;
    for (int64_t k = 0; k < cnt; k++) v[k] = mec_tensor_get_i64(t, k);
    *n = (int)cnt;
    return MEC_OK;
}

mec_status mec_op_dims_attr(const mec_op_ctx *ctx, const char *name, int n, int64_t min,
                            int64_t dflt, int64_t *v) {
    const int64_t *a = NULL;
    int64_t cnt = mec_node_ints(ctx->node, name, &a);
    if (cnt < 0) {
        for (int i = 0; i < n; i++) v[i] = dflt;
        return MEC_OK;
    }
    if (cnt != n)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "attribute %s has %" PRId64 " values, expected %d",
                          name, cnt, n);
    for (int i = 0; i < n; i++) {
        if (a[i] < min || a[i] > ((int64_t)1 << 31))
            return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "attribute %s[%d] is %" PRId64 ", expected >= %" PRId64,
                              name, i, a[i], min);
        v[i] = a[i];
    }
    return MEC_OK;
}

mec_status mec_op_auto_pad(const mec_op_ctx *ctx, mec_auto_pad *mode) {
    const char *s = mec_node_string(ctx->node, "auto_pad", "NOTSET");
    if (!strcmp(s, "NOTSET") || !*s) *mode = MEC_AUTO_PAD_NOTSET;
    else if (!strcmp(s, "SAME_UPPER")) *mode = MEC_AUTO_PAD_SAME_UPPER;
    else if (!strcmp(s, "SAME_LOWER")) *mode = MEC_AUTO_PAD_SAME_LOWER;
    else if (!strcmp(s, "VALID")) *mode = MEC_AUTO_PAD_VALID;
    else return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "attribute auto_pad is '%s', expected NOTSET, SAME_UPPER, SAME_LOWER or VALID", s);
    return MEC_OK;
}

int64_t mec_op_same_pads(int64_t in, int64_t stride, int64_t eff, bool upper, int64_t *pad_begin,
                         int64_t *pad_end) {
    int64_t out = (in + stride - 1) / stride;
    int64_t total = (out - 1) * stride + eff - in;
    if (total < 0) total = 0;
    *pad_begin = upper ? total / 2 : total - total / 2;
    *pad_end = total - *pad_begin;
    return out;
}
