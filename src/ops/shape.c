/* Shape and data-movement ops: reference kernels. They move bytes, so most
 * work for every dtype by element size; Cast/CastLike convert values.
 * Views (Reshape, Flatten, Squeeze, Unsqueeze, Identity) are aliased by the
 * runtime; their exec (a memcpy) runs only when it cannot alias. */
#include "op_util.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

/* Enough dims for a view with two axes per tensor axis (Tile). */
#define SC_MAX_DIMS (2 * MEC_MAX_DIMS)
/* Parallel loops only pay off past this many bytes. */
#define PAR_BYTES ((int64_t)1 << 18)

static void contiguous_strides(int ndim, const int64_t *shape, int64_t *strides) {
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        strides[d] = s;
        s *= shape[d];
    }
}

static int64_t shape_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    return n;
}

static void copy_elems(char *dst, int64_t dst_stride, const char *src, int64_t src_stride,
                       int64_t n, size_t es) {
    switch (es) {
    case 1:
        for (int64_t i = 0; i < n; i++) ((uint8_t *)dst)[i * dst_stride] = ((const uint8_t *)src)[i * src_stride];
        break;
    case 2:
        for (int64_t i = 0; i < n; i++) ((uint16_t *)dst)[i * dst_stride] = ((const uint16_t *)src)[i * src_stride];
        break;
    case 4:
        for (int64_t i = 0; i < n; i++) ((uint32_t *)dst)[i * dst_stride] = ((const uint32_t *)src)[i * src_stride];
        break;
    case 8:
        for (int64_t i = 0; i < n; i++) ((uint64_t *)dst)[i * dst_stride] = ((const uint64_t *)src)[i * src_stride];
        break;
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + (size_t)(i * dst_stride) * es, src + (size_t)(i * src_stride) * es, es);
    }
}

/* A view whose reads are contiguous along dim k and whose writes are
 * contiguous along the last dim (a transpose in disguise: DepthToSpace,
 * reversed perms): copies tiles of (k, last) so both sides stay in cache. */
static void tiled_copy(void *dst, const int64_t *ds, const void *src, const int64_t *ss,
                       const int64_t *sh, int r, int k, size_t es) {
    enum { TILE = 32 };
    int64_t nk = sh[k], nl = sh[r - 1], tk = (nk + TILE - 1) / TILE, tl = (nl + TILE - 1) / TILE;
    int64_t outer = 1;
    for (int d = 0; d < r - 1; d++)
        if (d != k) outer *= sh[d];
    int64_t tasks = outer * tk * tl;
    bool par = tasks > 1 && outer * nk * nl * (int64_t)es >= PAR_BYTES;
    (void)par;
#pragma omp parallel for if (par) schedule(static)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t o = t / (tk * tl), i0 = (t / tl) % tk * TILE, j0 = t % tl * TILE;
        int64_t i1 = i0 + TILE < nk ? i0 + TILE : nk, j1 = j0 + TILE < nl ? j0 + TILE : nl;
        int64_t so = 0, dof = 0, rem = o;
        for (int d = r - 2; d >= 0; d--) {
            if (d == k) continue;
            int64_t i = rem % sh[d];
            rem /= sh[d];
            so += i * ss[d];
            dof += i * ds[d];
        }
        for (int64_t j = j0; j < j1; j++)
            copy_elems((char *)dst + (dof + i0 * ds[k] + j) * (int64_t)es, ds[k],
                       (const char *)src + (so + i0 + j * ss[r - 1]) * (int64_t)es, 1, i1 - i0, es);
    }
}

/* Copies the view (shape, src_strides) of src into dst laid out by
 * dst_strides; strides in elements, may be negative (Slice) or 0 (Expand).
 * Adjacent dims that are contiguous in both are merged, so the inner loop is
 * a memcpy of the longest run possible. */
static void strided_copy(void *dst, const int64_t *dst_strides, const void *src,
                         const int64_t *src_strides, const int64_t *shape, int ndim, size_t es) {
    int64_t sh[SC_MAX_DIMS], ss[SC_MAX_DIMS], ds[SC_MAX_DIMS];
    int r = 0;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] == 0) return;
        if (shape[d] == 1) continue;
        if (r > 0 && ss[r - 1] == src_strides[d] * shape[d] && ds[r - 1] == dst_strides[d] * shape[d]) {
            sh[r - 1] *= shape[d];
            ss[r - 1] = src_strides[d];
            ds[r - 1] = dst_strides[d];
            continue;
        }
        sh[r] = shape[d];
        ss[r] = src_strides[d];
        ds[r] = dst_strides[d];
        r++;
    }
    if (r == 0) {
        memcpy(dst, src, es);
        return;
    }
    if (!(ss[r - 1] == 1 && ds[r - 1] == 1)) {
        for (int k = r - 2; k >= 0; k--)
            /* only when the strided writes stay near each other: far apart,
             * (a power-of-2 multiple) they alias in cache and tiling loses */
            if (ss[k] == 1 && ds[r - 1] == 1 && ds[k] * (int64_t)es <= 256) {
                tiled_copy(dst, ds, src, ss, sh, r, k, es);
                return;
            }
    }
    /* Short rows: the loop body covers the two innermost dims, so the index
     * arithmetic per outer step is spread over more elements. */
    int64_t inner = sh[r - 1];
    bool two = r >= 2 && inner * (int64_t)es < 256;
    int nout = two ? r - 2 : r - 1;
    int64_t mid = two ? sh[r - 2] : 1, mid_ss = two ? ss[r - 2] : 0, mid_ds = two ? ds[r - 2] : 0;
    int64_t outer = 1;
    for (int d = 0; d < nout; d++) outer *= sh[d];
    bool rows = ss[r - 1] == 1 && ds[r - 1] == 1;
    bool par = outer > 1 && outer * mid * inner * (int64_t)es >= PAR_BYTES;
    (void)par;
#pragma omp parallel for if (par) schedule(static)
    for (int64_t o = 0; o < outer; o++) {
        int64_t so = 0, dof = 0, rem = o;
        for (int d = nout - 1; d >= 0; d--) {
            int64_t i = rem % sh[d];
            rem /= sh[d];
            so += i * ss[d];
            dof += i * ds[d];
        }
        for (int64_t m = 0; m < mid; m++) {
            char *dp = (char *)dst + (dof + m * mid_ds) * (int64_t)es;
            const char *sp = (const char *)src + (so + m * mid_ss) * (int64_t)es;
            if (rows) memcpy(dp, sp, (size_t)inner * es);
            else copy_elems(dp, ds[r - 1], sp, ss[r - 1], inner, es);
        }
    }
}

/* Copies the view into a contiguous dst. */
static void gather_view(void *dst, const void *src, const int64_t *src_strides,
                        const int64_t *shape, int ndim, size_t es) {
    int64_t ds[SC_MAX_DIMS];
    contiguous_strides(ndim, shape, ds);
    strided_copy(dst, ds, src, src_strides, shape, ndim, es);
}

static mec_status check_elem_size(const mec_op_ctx *ctx, int i) {
    if (mec_dtype_size(ctx->in[i]->dtype) == 0)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "input %d has dtype %s, which this op does not support",
                          i, mec_dtype_name(ctx->in[i]->dtype));
    return MEC_OK;
}

/* Exec of the view ops: out[0] holds in[0]'s bytes with a new shape. */
static mec_status exec_copy(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    if (y && y->data != x->data) memcpy(y->data, x->data, mec_tensor_bytes(x));
    return MEC_OK;
}

/* Integers from an INTS attribute (absent → *n = -1). */
static mec_status attr_ints(const mec_op_ctx *ctx, const char *name, int64_t *v, int max, int *n) {
    const int64_t *a;
    int64_t cnt = mec_node_ints(ctx->node, name, &a);
    if (cnt < 0) {
        *n = -1;
        return MEC_OK;
    }
    if (cnt > max)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "attribute '%s' has %" PRId64 " values, at most %d allowed",
                          name, cnt, max);
    for (int64_t i = 0; i < cnt; i++) v[i] = a[i];
    *n = (int)cnt;
    return MEC_OK;
}

/* Normalises a list of axes against rank; rejects duplicates. */
static mec_status norm_axes(const mec_op_ctx *ctx, const int64_t *axes, int n, int rank, int *out) {
    for (int i = 0; i < n; i++) {
        mec_status st = mec_op_axis(ctx, axes[i], rank, &out[i]);
        if (st) return st;
        for (int j = 0; j < i; j++)
            if (out[j] == out[i])
                return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "axis %" PRId64 " is repeated", axes[i]);
    }
    return MEC_OK;
}

static bool input_present(const mec_op_ctx *ctx, int i) { return i < ctx->n_in && ctx->in[i]; }

/* ------------------------------------------------------------- Reshape */

static mec_status reshape_common(mec_op_ctx *ctx, const int64_t *req, int n, bool allowzero) {
    const mec_tensor *x = ctx->in[0];
    int64_t shape[MEC_MAX_DIMS];
    int infer_at = -1;
    int64_t known = 1;
    for (int i = 0; i < n; i++) {
        int64_t v = req[i];
        if (v == -1) {
            if (infer_at >= 0)
                return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "shape has more than one -1 (at %d and %d)",
                                  infer_at, i);
            infer_at = i;
            shape[i] = 1;
            continue;
        }
        if (v < -1)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "shape[%d] = %" PRId64 " is invalid", i, v);
        if (v == 0 && !allowzero) {
            if (i >= x->ndim)
                return MEC_OP_ERR(ctx, MEC_ERR_SHAPE,
                                  "shape[%d] = 0 copies an input dim, but the input has rank %d", i,
                                  x->ndim);
            v = x->shape[i];
        }
        shape[i] = v;
        if (v && known > MEC_MAX_NUMEL / v)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "shape has more than 2^40 elements");
        known *= v;
    }
    int64_t numel = mec_tensor_numel(x);
    char a[160], b[160];
    if (infer_at >= 0) {
        if (known == 0 || numel % known)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "cannot reshape %s into %s",
                              mec_shape_str(x->ndim, x->shape, a, sizeof a),
                              mec_shape_str(n, req, b, sizeof b));
        shape[infer_at] = numel / known;
    } else if (known != numel) {
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "cannot reshape %s (%" PRId64 " elements) into %s",
                          mec_shape_str(x->ndim, x->shape, a, sizeof a), numel,
                          mec_shape_str(n, req, b, sizeof b));
    }
    return mec_op_set_output(ctx, 0, x->dtype, n, shape);
}

static mec_status reshape1_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    int64_t req[MEC_MAX_DIMS];
    int n;
    if ((st = attr_ints(ctx, "shape", req, MEC_MAX_DIMS, &n))) return st;
    if (n < 0) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute 'shape' is missing");
    return reshape_common(ctx, req, n, false);
}

static mec_status reshape5_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (st) return st;
    int64_t req[MEC_MAX_DIMS];
    int n;
    if ((st = mec_op_read_ints(ctx, 1, req, MEC_MAX_DIMS, &n))) return st;
    int64_t allowzero = mec_node_int(ctx->node, "allowzero", 0);
    if (allowzero != 0 && allowzero != 1)
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "allowzero = %" PRId64 ", expected 0 or 1", allowzero);
    return reshape_common(ctx, req, n, allowzero == 1);
}

/* ------------------------------------------------------------- Flatten */

static mec_status flatten_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    int64_t axis = mec_node_int(ctx->node, "axis", 1);
    if (axis < -x->ndim || axis > x->ndim)
        return MEC_OP_ERR(ctx, MEC_ERR_RANGE, "axis %" PRId64 " is out of range for rank %d", axis,
                          x->ndim);
    if (axis < 0) axis += x->ndim;
    int64_t shape[2] = {shape_numel((int)axis, x->shape),
                        shape_numel(x->ndim - (int)axis, x->shape + axis)};
    return mec_op_set_output(ctx, 0, x->dtype, 2, shape);
}

/* ------------------------------------------------------------- Squeeze / Unsqueeze */

static mec_status squeeze_common(mec_op_ctx *ctx, const int64_t *axes, int n) {
    const mec_tensor *x = ctx->in[0];
    bool drop[MEC_MAX_DIMS] = {false};
    if (n < 0) {
        for (int d = 0; d < x->ndim; d++) drop[d] = x->shape[d] == 1;
    } else {
        int ax[MEC_MAX_DIMS];
        mec_status st = norm_axes(ctx, axes, n, x->ndim, ax);
        if (st) return st;
        for (int i = 0; i < n; i++) {
            if (x->shape[ax[i]] != 1)
                return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "cannot squeeze axis %d of size %" PRId64,
                                  ax[i], x->shape[ax[i]]);
            drop[ax[i]] = true;
        }
    }
    int64_t shape[MEC_MAX_DIMS];
    int r = 0;
    for (int d = 0; d < x->ndim; d++)
        if (!drop[d]) shape[r++] = x->shape[d];
    return mec_op_set_output(ctx, 0, x->dtype, r, shape);
}

static mec_status squeeze1_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    int64_t axes[MEC_MAX_DIMS];
    int n;
    if ((st = attr_ints(ctx, "axes", axes, MEC_MAX_DIMS, &n))) return st;
    return squeeze_common(ctx, axes, n);
}

static mec_status squeeze13_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 2);
    if (st) return st;
    int64_t axes[MEC_MAX_DIMS];
    int n = -1;
    if (input_present(ctx, 1) && (st = mec_op_read_ints(ctx, 1, axes, MEC_MAX_DIMS, &n))) return st;
    return squeeze_common(ctx, axes, n);
}

static mec_status unsqueeze_common(mec_op_ctx *ctx, const int64_t *axes, int n) {
    const mec_tensor *x = ctx->in[0];
    int rank = x->ndim + n;
    if (rank > MEC_MAX_DIMS)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "output would have rank %d (max %d)", rank,
                          MEC_MAX_DIMS);
    int ax[MEC_MAX_DIMS];
    mec_status st = norm_axes(ctx, axes, n, rank, ax);
    if (st) return st;
    bool ins[MEC_MAX_DIMS] = {false};
    for (int i = 0; i < n; i++) ins[ax[i]] = true;
    int64_t shape[MEC_MAX_DIMS];
    for (int d = 0, j = 0; d < rank; d++) shape[d] = ins[d] ? 1 : x->shape[j++];
    return mec_op_set_output(ctx, 0, x->dtype, rank, shape);
}

static mec_status unsqueeze1_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    int64_t axes[MEC_MAX_DIMS];
    int n;
    if ((st = attr_ints(ctx, "axes", axes, MEC_MAX_DIMS, &n))) return st;
    if (n < 0) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute 'axes' is missing");
    return unsqueeze_common(ctx, axes, n);
}

static mec_status unsqueeze13_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (st) return st;
    int64_t axes[MEC_MAX_DIMS];
    int n;
    if ((st = mec_op_read_ints(ctx, 1, axes, MEC_MAX_DIMS, &n))) return st;
    return unsqueeze_common(ctx, axes, n);
}

/* ------------------------------------------------------------- Identity / Dropout */

static mec_status identity_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0))) return st;
    return mec_op_output_like(ctx, 0, 0);
}

/* Dropout in inference mode is the identity. Training mode (opset 12+
 * input 2) is refused unless the ratio is 0, which is also the identity. */
static mec_status dropout_check_mode(mec_op_ctx *ctx) {
    if (ctx->opset < 12 || !input_present(ctx, 2) || !ctx->in[2]->data) return MEC_OK;
    const mec_tensor *tm = ctx->in[2];
    if (mec_tensor_numel(tm) != 1)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "training_mode must be a scalar");
    if (!mec_tensor_get_i64(tm, 0)) return MEC_OK;
    double ratio = 0.5;
    if (input_present(ctx, 1)) {
        if (!ctx->in[1]->data) return MEC_OK; /* checked again at run time */
        if (mec_tensor_numel(ctx->in[1]) != 1)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "ratio must be a scalar");
        ratio = mec_tensor_get_f64(ctx->in[1], 0);
    }
    if (ratio != 0.0)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED,
                          "training_mode = true with ratio %g (random dropout) is not supported", ratio);
    return MEC_OK;
}

static mec_status dropout_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, ctx->opset >= 12 ? 3 : 1);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0))) return st;
    if ((st = dropout_check_mode(ctx))) return st;
    const mec_tensor *x = ctx->in[0];
    if ((st = mec_op_output_like(ctx, 0, 0))) return st;
    /* the mask is bool from opset 10, the input's type before */
    mec_dtype mt = ctx->opset >= 10 ? MEC_BOOL : x->dtype;
    return mec_op_set_output(ctx, 1, mt, x->ndim, x->shape);
}

static mec_status dropout_exec(mec_op_ctx *ctx) {
    mec_status st = dropout_check_mode(ctx);
    if (st) return st;
    exec_copy(ctx);
    if (ctx->n_out > 1 && ctx->out[1]) {
        mec_tensor *m = ctx->out[1];
        int64_t n = mec_tensor_numel(m);
        for (int64_t i = 0; i < n; i++) mec_tensor_set_f64(m, i, 1.0);
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- Transpose */

static mec_status transpose_perm(mec_op_ctx *ctx, int *perm) {
    const mec_tensor *x = ctx->in[0];
    int64_t p[MEC_MAX_DIMS];
    int n;
    mec_status st = attr_ints(ctx, "perm", p, MEC_MAX_DIMS, &n);
    if (st) return st;
    if (n < 0) {
        for (int d = 0; d < x->ndim; d++) perm[d] = x->ndim - 1 - d;
        return MEC_OK;
    }
    if (n != x->ndim)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "perm has %d values, input has rank %d", n, x->ndim);
    bool seen[MEC_MAX_DIMS] = {false};
    for (int d = 0; d < n; d++) {
        if (p[d] < 0 || p[d] >= n || seen[p[d]])
            return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "perm is not a permutation of 0..%d (perm[%d] = %" PRId64 ")",
                              n - 1, d, p[d]);
        seen[p[d]] = true;
        perm[d] = (int)p[d];
    }
    return MEC_OK;
}

static mec_status transpose_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0))) return st;
    int perm[MEC_MAX_DIMS];
    if ((st = transpose_perm(ctx, perm))) return st;
    const mec_tensor *x = ctx->in[0];
    int64_t shape[MEC_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) shape[d] = x->shape[perm[d]];
    return mec_op_set_output(ctx, 0, x->dtype, x->ndim, shape);
}

/* 2-D blocked transpose of `rows` x `cols` matrices (batch of them): the
 * common NCHW<->NHWC case, done in tiles so both sides stay in cache. */
static void transpose_2d(char *dst, const char *src, int64_t batch, int64_t rows, int64_t cols,
                         size_t es) {
    enum { TILE = 32 };
    int64_t tr = (rows + TILE - 1) / TILE, tc = (cols + TILE - 1) / TILE;
    int64_t tasks = batch * tr * tc;
    bool par = tasks > 1 && batch * rows * cols * (int64_t)es >= PAR_BYTES;
    (void)par;
#pragma omp parallel for if (par) schedule(static)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t b = t / (tr * tc), r0 = (t / tc) % tr * TILE, c0 = t % tc * TILE;
        int64_t r1 = r0 + TILE < rows ? r0 + TILE : rows, c1 = c0 + TILE < cols ? c0 + TILE : cols;
        const char *s = src + (size_t)(b * rows * cols) * es;
        char *d = dst + (size_t)(b * rows * cols) * es;
        for (int64_t c = c0; c < c1; c++)
            copy_elems(d + (size_t)(c * rows + r0) * es, 1, s + (size_t)(r0 * cols + c) * es, cols,
                       r1 - r0, es);
    }
}

static mec_status transpose_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    int perm[MEC_MAX_DIMS];
    mec_status st = transpose_perm(ctx, perm);
    if (st) return st;
    size_t es = mec_dtype_size(x->dtype);
    /* Collapse to (batch, A, B) -> (batch, B, A) when the perm has that form. */
    int keep = 0;
    while (keep < x->ndim && perm[keep] == keep) keep++;
    if (keep < x->ndim) {
        int split = perm[keep]; /* input dims keep..split-1 go after split..n-1 */
        bool two_blocks = true;
        for (int d = keep; d < x->ndim; d++) {
            int want = d - keep < x->ndim - split ? split + (d - keep) : keep + (d - keep) - (x->ndim - split);
            if (perm[d] != want) two_blocks = false;
        }
        if (two_blocks) {
            int64_t batch = shape_numel(keep, x->shape);
            int64_t a = shape_numel(split - keep, x->shape + keep);
            int64_t b = shape_numel(x->ndim - split, x->shape + split);
            transpose_2d(ctx->out[0]->data, x->data, batch, a, b, es);
            return MEC_OK;
        }
    }
    int64_t shape[MEC_MAX_DIMS], ss[MEC_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) {
        shape[d] = x->shape[perm[d]];
        ss[d] = x->strides[perm[d]];
    }
    gather_view(ctx->out[0]->data, x->data, ss, shape, x->ndim, es);
    return MEC_OK;
}

/* ------------------------------------------------------------- Concat / Split */

static mec_status concat_axis(mec_op_ctx *ctx, int *axis) {
    const mec_tensor *x = ctx->in[0];
    const mec_attr *a = mec_node_attr(ctx->node, "axis");
    if (!a && ctx->opset >= 4) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute 'axis' is missing");
    return mec_op_axis(ctx, a ? a->i : 1, x->ndim, axis);
}

static mec_status concat_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1 << 20);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    if ((st = check_elem_size(ctx, 0))) return st;
    int axis;
    if ((st = concat_axis(ctx, &axis))) return st;
    int64_t shape[MEC_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[axis] = 0;
    for (int i = 0; i < ctx->n_in; i++) {
        const mec_tensor *t = ctx->in[i];
        if (!t) return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "input %d is missing", i);
        if (t->dtype != x->dtype)
            return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "input %d has dtype %s, input 0 has %s", i,
                              mec_dtype_name(t->dtype), mec_dtype_name(x->dtype));
        if (t->ndim != x->ndim)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input %d has rank %d, input 0 has rank %d", i,
                              t->ndim, x->ndim);
        for (int d = 0; d < x->ndim; d++)
            if (d != axis && t->shape[d] != x->shape[d])
                return MEC_OP_ERR(ctx, MEC_ERR_SHAPE,
                                  "input %d has size %" PRId64 " in dim %d, input 0 has %" PRId64, i,
                                  t->shape[d], d, x->shape[d]);
        shape[axis] += t->shape[axis];
    }
    return mec_op_set_output(ctx, 0, x->dtype, x->ndim, shape);
}

static mec_status concat_exec(mec_op_ctx *ctx) {
    mec_tensor *y = ctx->out[0];
    int axis;
    mec_status st = concat_axis(ctx, &axis);
    if (st) return st;
    size_t es = mec_dtype_size(y->dtype);
    int64_t outer = shape_numel(axis, y->shape);
    int64_t inner = shape_numel(y->ndim - axis - 1, y->shape + axis + 1);
    int64_t row = y->shape[axis] * inner * (int64_t)es;
    bool par = outer > 1 && outer * row >= PAR_BYTES;
    (void)par;
#pragma omp parallel for if (par) schedule(static)
    for (int64_t o = 0; o < outer; o++) {
        char *dp = (char *)y->data + o * row;
        for (int i = 0; i < ctx->n_in; i++) {
            int64_t blk = ctx->in[i]->shape[axis] * inner * (int64_t)es;
            memcpy(dp, (const char *)ctx->in[i]->data + o * blk, (size_t)blk);
            dp += blk;
        }
    }
    return MEC_OK;
}

/* Split sizes into sizes[n_out]; *axis normalised. */
static mec_status split_sizes(mec_op_ctx *ctx, int *axis, int64_t *sizes) {
    const mec_tensor *x = ctx->in[0];
    mec_status st = mec_op_axis(ctx, mec_node_int(ctx->node, "axis", 0), x->ndim, axis);
    if (st) return st;
    int n_out = ctx->n_out;
    int64_t dim = x->shape[*axis];
    int n = -1;
    if (n_out > 64) return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "%d outputs (at most 64)", n_out);
    if (input_present(ctx, 1)) {
        if ((st = mec_op_read_ints(ctx, 1, sizes, 64, &n))) return st;
    } else if (ctx->opset < 13) {
        if ((st = attr_ints(ctx, "split", sizes, 64, &n))) return st;
    }
    if (n < 0) {
        if (n_out < 1 || dim % n_out)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "dim %d of size %" PRId64 " cannot be split into %d equal parts",
                              *axis, dim, n_out);
        for (int i = 0; i < n_out; i++) sizes[i] = dim / n_out;
        return MEC_OK;
    }
    if (n != n_out)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "split has %d values, node has %d outputs", n, n_out);
    int64_t sum = 0;
    for (int i = 0; i < n; i++) {
        if (sizes[i] < 0)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "split[%d] = %" PRId64 " is negative", i, sizes[i]);
        sum += sizes[i];
    }
    if (sum != dim)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "split sizes add up to %" PRId64 ", dim %d has size %" PRId64,
                          sum, *axis, dim);
    return MEC_OK;
}

static mec_status split_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 2);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0))) return st;
    if (ctx->opset >= 2 && ctx->opset < 13 && ctx->n_in > 1)
        return MEC_OP_ERR(ctx, MEC_ERR_GRAPH, "has 2 inputs; 'split' is an attribute in opset %" PRId64,
                          ctx->opset);
    int axis;
    int64_t sizes[64];
    if ((st = split_sizes(ctx, &axis, sizes))) return st;
    const mec_tensor *x = ctx->in[0];
    int64_t shape[MEC_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    for (int i = 0; i < ctx->n_out; i++) {
        shape[axis] = sizes[i];
        if ((st = mec_op_set_output(ctx, i, x->dtype, x->ndim, shape))) return st;
    }
    return MEC_OK;
}

static mec_status split_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    int axis;
    int64_t sizes[64];
    mec_status st = split_sizes(ctx, &axis, sizes);
    if (st) return st;
    size_t es = mec_dtype_size(x->dtype);
    int64_t outer = shape_numel(axis, x->shape);
    int64_t inner = shape_numel(x->ndim - axis - 1, x->shape + axis + 1);
    int64_t row = x->shape[axis] * inner * (int64_t)es;
    bool par = outer > 1 && outer * row >= PAR_BYTES;
    (void)par;
#pragma omp parallel for if (par) schedule(static)
    for (int64_t o = 0; o < outer; o++) {
        const char *sp = (const char *)x->data + o * row;
        for (int i = 0; i < ctx->n_out; i++) {
            int64_t blk = sizes[i] * inner * (int64_t)es;
            if (ctx->out[i]) memcpy((char *)ctx->out[i]->data + o * blk, sp, (size_t)blk);
            sp += blk;
        }
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- Slice */

typedef struct slice_plan {
    int64_t start[MEC_MAX_DIMS], step[MEC_MAX_DIMS], count[MEC_MAX_DIMS];
} slice_plan;

static mec_status slice_plan_make(mec_op_ctx *ctx, const int64_t *starts, const int64_t *ends,
                                  const int64_t *axes, const int64_t *steps, int n, slice_plan *p) {
    const mec_tensor *x = ctx->in[0];
    for (int d = 0; d < x->ndim; d++) {
        p->start[d] = 0;
        p->step[d] = 1;
        p->count[d] = x->shape[d];
    }
    bool seen[MEC_MAX_DIMS] = {false};
    for (int i = 0; i < n; i++) {
        int ax;
        mec_status st = mec_op_axis(ctx, axes ? axes[i] : i, x->ndim, &ax);
        if (st) return st;
        if (seen[ax]) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "axis %d is repeated", ax);
        seen[ax] = true;
        int64_t dim = x->shape[ax], step = steps ? steps[i] : 1;
        if (step == 0) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "steps[%d] is 0", i);
        int64_t s = starts[i], e = ends[i];
        if (s < 0) s += dim;
        if (e < 0) e += dim;
        int64_t cnt;
        if (step < -INT64_MAX) step = -INT64_MAX;
        if (step > 0) {
            s = s < 0 ? 0 : s > dim ? dim : s;
            e = e < 0 ? 0 : e > dim ? dim : e;
            cnt = e > s ? (e - s - 1) / step + 1 : 0;
        } else {
            s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
            cnt = s > e ? (s - e - 1) / -step + 1 : 0;
        }
        if (cnt <= 1) step = 1; /* the step of a single element is moot; avoids overflow below */
        p->start[ax] = cnt ? s : 0;
        p->step[ax] = step;
        p->count[ax] = cnt;
    }
    return MEC_OK;
}

static mec_status slice_read(mec_op_ctx *ctx, slice_plan *p) {
    const mec_tensor *x = ctx->in[0];
    int64_t starts[MEC_MAX_DIMS], ends[MEC_MAX_DIMS], axes[MEC_MAX_DIMS], steps[MEC_MAX_DIMS];
    int ns, ne, na = -1, nst = -1;
    mec_status st;
    if (ctx->opset < 10) {
        if ((st = attr_ints(ctx, "starts", starts, MEC_MAX_DIMS, &ns))) return st;
        if ((st = attr_ints(ctx, "ends", ends, MEC_MAX_DIMS, &ne))) return st;
        if ((st = attr_ints(ctx, "axes", axes, MEC_MAX_DIMS, &na))) return st;
        if (ns < 0 || ne < 0)
            return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attributes 'starts' and 'ends' are required");
    } else {
        if ((st = mec_op_read_ints(ctx, 1, starts, MEC_MAX_DIMS, &ns))) return st;
        if ((st = mec_op_read_ints(ctx, 2, ends, MEC_MAX_DIMS, &ne))) return st;
        if (input_present(ctx, 3) && (st = mec_op_read_ints(ctx, 3, axes, MEC_MAX_DIMS, &na))) return st;
        if (input_present(ctx, 4) && (st = mec_op_read_ints(ctx, 4, steps, MEC_MAX_DIMS, &nst))) return st;
    }
    if (ne != ns || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "starts, ends, axes and steps have different lengths (%d, %d, %d, %d)",
                          ns, ne, na, nst);
    if (na < 0 && ns > x->ndim)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "%d starts for an input of rank %d", ns, x->ndim);
    return slice_plan_make(ctx, starts, ends, na >= 0 ? axes : NULL, nst >= 0 ? steps : NULL, ns, p);
}

static mec_status slice_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, ctx->opset < 10 ? 1 : 3, ctx->opset < 10 ? 1 : 5);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0))) return st;
    slice_plan p;
    if ((st = slice_read(ctx, &p))) return st;
    return mec_op_set_output(ctx, 0, ctx->in[0]->dtype, ctx->in[0]->ndim, p.count);
}

static mec_status slice_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    slice_plan p;
    mec_status st = slice_read(ctx, &p);
    if (st) return st;
    if (mec_tensor_numel(ctx->out[0]) == 0) return MEC_OK;
    size_t es = mec_dtype_size(x->dtype);
    int64_t off = 0, ss[MEC_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) {
        off += p.start[d] * x->strides[d];
        ss[d] = p.step[d] * x->strides[d];
    }
    gather_view(ctx->out[0]->data, (const char *)x->data + off * (int64_t)es, ss, p.count, x->ndim, es);
    return MEC_OK;
}

/* ------------------------------------------------------------- Expand / Tile */

static mec_status expand_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0))) return st;
    int64_t req[MEC_MAX_DIMS], shape[MEC_MAX_DIMS];
    int n, nout;
    if ((st = mec_op_read_ints(ctx, 1, req, MEC_MAX_DIMS, &n))) return st;
    for (int i = 0; i < n; i++)
        if (req[i] < 0)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "shape[%d] = %" PRId64 " is negative", i, req[i]);
    const mec_tensor *x = ctx->in[0];
    if ((st = mec_op_broadcast(ctx, x->ndim, x->shape, n, req, &nout, shape))) return st;
    return mec_op_set_output(ctx, 0, x->dtype, nout, shape);
}

static mec_status expand_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    int64_t ss[MEC_MAX_DIMS];
    mec_op_broadcast_strides(x, y->ndim, y->shape, ss);
    gather_view(y->data, x->data, ss, y->shape, y->ndim, mec_dtype_size(x->dtype));
    return MEC_OK;
}

static mec_status tile_repeats(mec_op_ctx *ctx, int64_t *rep) {
    int n;
    mec_status st = mec_op_read_ints(ctx, 1, rep, MEC_MAX_DIMS, &n);
    if (st) return st;
    if (n != ctx->in[0]->ndim)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "repeats has %d values, input has rank %d", n,
                          ctx->in[0]->ndim);
    for (int i = 0; i < n; i++)
        if (rep[i] < 0)
            return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "repeats[%d] = %" PRId64 " is negative", i, rep[i]);
    return MEC_OK;
}

static mec_status tile_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 2, 2);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0))) return st;
    int64_t rep[MEC_MAX_DIMS], shape[MEC_MAX_DIMS];
    if ((st = tile_repeats(ctx, rep))) return st;
    const mec_tensor *x = ctx->in[0];
    for (int d = 0; d < x->ndim; d++) {
        if (rep[d] && x->shape[d] > MEC_MAX_NUMEL / rep[d])
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "output dim %d is too large", d);
        shape[d] = x->shape[d] * rep[d];
    }
    return mec_op_set_output(ctx, 0, x->dtype, x->ndim, shape);
}

static mec_status tile_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    int64_t rep[MEC_MAX_DIMS];
    mec_status st = tile_repeats(ctx, rep);
    if (st) return st;
    /* output viewed as (rep0, n0, rep1, n1, ...): the repeat axes read with stride 0 */
    int64_t shape[SC_MAX_DIMS], ss[SC_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) {
        shape[2 * d] = rep[d];
        shape[2 * d + 1] = x->shape[d];
        ss[2 * d] = 0;
        ss[2 * d + 1] = x->strides[d];
    }
    gather_view(ctx->out[0]->data, x->data, ss, shape, 2 * x->ndim, mec_dtype_size(x->dtype));
    return MEC_OK;
}

/* ------------------------------------------------------------- Shape / Size */

static mec_status shape_range(mec_op_ctx *ctx, int64_t *start, int64_t *end) {
    int64_t r = ctx->in[0]->ndim;
    int64_t s = ctx->opset >= 15 ? mec_node_int(ctx->node, "start", 0) : 0;
    int64_t e = ctx->opset >= 15 ? mec_node_int(ctx->node, "end", r) : r;
    if (s < 0) s += r;
    if (e < 0) e += r;
    *start = s < 0 ? 0 : s > r ? r : s;
    *end = e < 0 ? 0 : e > r ? r : e;
    if (*end < *start) *end = *start;
    return MEC_OK;
}

static mec_status shape_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    int64_t s, e;
    shape_range(ctx, &s, &e);
    int64_t n = e - s;
    return mec_op_set_output(ctx, 0, MEC_I64, 1, &n);
}

static mec_status shape_exec(mec_op_ctx *ctx) {
    int64_t s, e;
    shape_range(ctx, &s, &e);
    int64_t *y = ctx->out[0]->data;
    for (int64_t d = s; d < e; d++) y[d - s] = ctx->in[0]->shape[d];
    return MEC_OK;
}

static mec_status size_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    return mec_op_set_output(ctx, 0, MEC_I64, 0, NULL);
}

static mec_status size_exec(mec_op_ctx *ctx) {
    *(int64_t *)ctx->out[0]->data = mec_tensor_numel(ctx->in[0]);
    return MEC_OK;
}

/* ------------------------------------------------------------- Cast / CastLike */

static bool is_float_type(mec_dtype t) {
    return t == MEC_F32 || t == MEC_F64 || t == MEC_F16 || t == MEC_BF16;
}

static bool is_castable(mec_dtype t) {
    switch (t) {
    case MEC_F32: case MEC_F64: case MEC_F16: case MEC_BF16: case MEC_U8: case MEC_I8:
    case MEC_U16: case MEC_I16: case MEC_I32: case MEC_I64: case MEC_U32: case MEC_U64:
    case MEC_BOOL:
        return true;
    default:
        return false;
    }
}

/* Any element as double (the float dtypes through mec_op_load_f64). */
static double load_f64(const void *p, mec_dtype t, int64_t i) {
    switch (t) {
    case MEC_U8: return ((const uint8_t *)p)[i];
    case MEC_I8: return ((const int8_t *)p)[i];
    case MEC_BOOL: return ((const uint8_t *)p)[i] != 0;
    case MEC_U16: return ((const uint16_t *)p)[i];
    case MEC_I16: return ((const int16_t *)p)[i];
    case MEC_I32: return ((const int32_t *)p)[i];
    case MEC_U32: return ((const uint32_t *)p)[i];
    case MEC_I64: return (double)((const int64_t *)p)[i];
    case MEC_U64: return (double)((const uint64_t *)p)[i];
    default: return mec_op_load_f64(p, t, i);
    }
}

/* Integer value (u64 as its bit pattern) of an integer/bool element. */
static int64_t load_int(const void *p, mec_dtype t, int64_t i) {
    switch (t) {
    case MEC_U8: return ((const uint8_t *)p)[i];
    case MEC_I8: return ((const int8_t *)p)[i];
    case MEC_BOOL: return ((const uint8_t *)p)[i] != 0;
    case MEC_U16: return ((const uint16_t *)p)[i];
    case MEC_I16: return ((const int16_t *)p)[i];
    case MEC_I32: return ((const int32_t *)p)[i];
    case MEC_U32: return ((const uint32_t *)p)[i];
    case MEC_I64: return ((const int64_t *)p)[i];
    case MEC_U64: return (int64_t)((const uint64_t *)p)[i];
    default: return 0;
    }
}

/* Stores an integer, wrapping to narrower types (as C and numpy do). */
static void store_int(void *p, mec_dtype t, int64_t i, int64_t v) {
    switch (t) {
    case MEC_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case MEC_I8: ((int8_t *)p)[i] = (int8_t)v; break;
    case MEC_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    case MEC_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case MEC_I16: ((int16_t *)p)[i] = (int16_t)v; break;
    case MEC_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    case MEC_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case MEC_I64: ((int64_t *)p)[i] = v; break;
    case MEC_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
    default: break;
    }
}

/* float -> bfloat16 by truncation, as the ONNX backend tests for opsets up
 * to 17 expect (their expected outputs keep the high 16 bits); NaN stays NaN. */
static uint16_t f32_to_bf16_trunc(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 0x40);
    return (uint16_t)(x >> 16);
}

/* Stores a real value: floats round, integers truncate toward zero (NaN → 0,
 * out of range saturates to int64 then wraps, never UB), bool = nonzero. */
static void store_f64(void *p, mec_dtype t, int64_t i, double v) {
    switch (t) {
    case MEC_F32: ((float *)p)[i] = (float)v; return;
    case MEC_F64: ((double *)p)[i] = v; return;
    case MEC_F16: ((uint16_t *)p)[i] = mec_f32_to_f16((float)v); return;
    case MEC_BF16: ((uint16_t *)p)[i] = f32_to_bf16_trunc((float)v); return;
    case MEC_BOOL: ((uint8_t *)p)[i] = v != 0.0; return;
    default: break;
    }
    if (isnan(v)) v = 0.0;
    v = trunc(v);
    if (t == MEC_U64 && v >= 9223372036854775808.0) {
        ((uint64_t *)p)[i] = v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v;
        return;
    }
    int64_t iv = v >= 9223372036854775807.0 ? INT64_MAX : v <= -9223372036854775808.0 ? INT64_MIN : (int64_t)v;
    store_int(p, t, i, iv);
}

static void cast_convert(void *dst, mec_dtype dt, const void *src, mec_dtype st, int64_t n) {
    if (dt == st) {
        memcpy(dst, src, (size_t)n * mec_dtype_size(st));
        return;
    }
    if (st == MEC_F32 && dt == MEC_F16) {
        for (int64_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = mec_f32_to_f16(((const float *)src)[i]);
        return;
    }
    if (st == MEC_F16 && dt == MEC_F32) {
        for (int64_t i = 0; i < n; i++) ((float *)dst)[i] = mec_f16_to_f32(((const uint16_t *)src)[i]);
        return;
    }
    if (is_float_type(st) || is_float_type(dt)) {
        for (int64_t i = 0; i < n; i++) store_f64(dst, dt, i, load_f64(src, st, i));
    } else {
        for (int64_t i = 0; i < n; i++) store_int(dst, dt, i, load_int(src, st, i));
    }
}

static mec_status cast_target(mec_op_ctx *ctx, mec_dtype *to) {
    if (!strcmp(ctx->node->op_type, "CastLike")) {
        *to = ctx->in[1]->dtype;
    } else {
        const mec_attr *a = mec_node_attr(ctx->node, "to");
        if (!a) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute 'to' is missing");
        if (a->type == MEC_ATTR_STRING) { /* opset 1-5: a type name */
            *to = mec_dtype_parse(a->s);
            if (*to == MEC_UNDEFINED)
                return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "to = '%s' is not a type we cast to", a->s);
        } else {
            if (a->i <= 0 || a->i >= MEC_DTYPE_MAX)
                return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "to = %" PRId64 " is not a data type", a->i);
            *to = (mec_dtype)a->i;
        }
    }
    if (!is_castable(*to))
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "cast to %s is not supported", mec_dtype_name(*to));
    if (!is_castable(ctx->in[0]->dtype))
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "cast from %s is not supported",
                          mec_dtype_name(ctx->in[0]->dtype));
    return MEC_OK;
}

static mec_status cast_infer(mec_op_ctx *ctx) {
    bool like = !strcmp(ctx->node->op_type, "CastLike");
    mec_status st = mec_op_check_arity(ctx, like ? 2 : 1, like ? 2 : 1);
    if (st) return st;
    mec_dtype to = MEC_UNDEFINED;
    if ((st = cast_target(ctx, &to))) return st;
    return mec_op_set_output(ctx, 0, to, ctx->in[0]->ndim, ctx->in[0]->shape);
}

static mec_status cast_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    int64_t n = mec_tensor_numel(x);
    size_t ses = mec_dtype_size(x->dtype), des = mec_dtype_size(y->dtype);
    enum { CHUNK = 1 << 14 };
    int64_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for if (chunks > 4) schedule(static)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t b = c * CHUNK, m = n - b < CHUNK ? n - b : CHUNK;
        cast_convert((char *)y->data + b * (int64_t)des, y->dtype,
                     (const char *)x->data + b * (int64_t)ses, x->dtype, m);
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- Pad */

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE };

typedef struct pad_args {
    int mode;
    int64_t pads[2 * MEC_MAX_DIMS];
} pad_args;

static mec_status pad_read(mec_op_ctx *ctx, pad_args *a) {
    const mec_tensor *x = ctx->in[0];
    const char *mode = mec_node_string(ctx->node, "mode", "constant");
    if (!strcmp(mode, "constant")) a->mode = PAD_CONSTANT;
    else if (!strcmp(mode, "reflect")) a->mode = PAD_REFLECT;
    else if (!strcmp(mode, "edge")) a->mode = PAD_EDGE;
    else return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "mode '%s' is not supported", mode);
    int n;
    mec_status st;
    if (ctx->opset < 11) {
        if ((st = attr_ints(ctx, "pads", a->pads, 2 * MEC_MAX_DIMS, &n))) return st;
        if (n < 0 && (st = attr_ints(ctx, "paddings", a->pads, 2 * MEC_MAX_DIMS, &n))) return st;
        if (n < 0) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute 'pads' is missing");
    } else if ((st = mec_op_read_ints(ctx, 1, a->pads, 2 * MEC_MAX_DIMS, &n))) {
        return st;
    }
    if (n != 2 * x->ndim)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "pads has %d values, expected %d for rank %d", n,
                          2 * x->ndim, x->ndim);
    for (int d = 0; d < x->ndim; d++) {
        int64_t b = a->pads[d], e = a->pads[d + x->ndim], dim = x->shape[d];
        if (dim + b + e < 0)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "pads %" PRId64 ", %" PRId64 " remove more than dim %d (%" PRId64 ")",
                              b, e, d, dim);
        if (a->mode != PAD_CONSTANT && dim == 0 && b + e > 0)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "cannot %s-pad dim %d of size 0", mode, d);
    }
    return MEC_OK;
}

static mec_status pad_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, ctx->opset < 11 ? 1 : 2, ctx->opset < 11 ? 1 : 3);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0))) return st;
    pad_args a;
    if ((st = pad_read(ctx, &a))) return st;
    const mec_tensor *x = ctx->in[0];
    if (input_present(ctx, 2) && ctx->in[2]->dtype != x->dtype)
        return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "constant_value has dtype %s, data has %s",
                          mec_dtype_name(ctx->in[2]->dtype), mec_dtype_name(x->dtype));
    int64_t shape[MEC_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) shape[d] = x->shape[d] + a.pads[d] + a.pads[d + x->ndim];
    return mec_op_set_output(ctx, 0, x->dtype, x->ndim, shape);
}

/* Source index for output index o along a dim of size n padded by `before`;
 * -1 means the constant. */
static int64_t pad_src(int mode, int64_t o, int64_t before, int64_t n) {
    int64_t i = o - before;
    if (i >= 0 && i < n) return i;
    if (mode == PAD_CONSTANT) return -1;
    if (mode == PAD_EDGE || n == 1) return i < 0 ? 0 : n - 1;
    int64_t period = 2 * (n - 1); /* reflect without repeating the edge */
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - i;
}

static mec_status pad_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    pad_args a;
    mec_status st = pad_read(ctx, &a);
    if (st) return st;
    size_t es = mec_dtype_size(x->dtype);
    char value[16] = {0};
    if (ctx->opset < 11) {
        store_f64(value, x->dtype, 0, mec_node_float(ctx->node, "value", 0.0f));
    } else if (input_present(ctx, 2) && mec_tensor_numel(ctx->in[2]) > 0) {
        memcpy(value, ctx->in[2]->data, es);
    }
    int r = x->ndim;
    if (r == 0) {
        memcpy(y->data, x->data, es);
        return MEC_OK;
    }
    int64_t ny = mec_tensor_numel(y);
    if (ny == 0) return MEC_OK;
    int64_t cols = y->shape[r - 1], rows = ny / cols, ncol = x->shape[r - 1];
    int64_t before = a.pads[r - 1];
    /* columns [lo, hi) of each row copy a contiguous run of the input row */
    int64_t lo = before < 0 ? 0 : before, hi = before + ncol < cols ? before + ncol : cols;
    if (hi < lo) hi = lo;
    bool par = rows > 1 && ny * (int64_t)es >= PAR_BYTES;
    (void)par;
#pragma omp parallel for if (par) schedule(static)
    for (int64_t row = 0; row < rows; row++) {
        int64_t rem = row, src = 0;
        bool constant = false;
        for (int d = r - 2; d >= 0; d--) {
            int64_t o = rem % y->shape[d];
            rem /= y->shape[d];
            int64_t i = pad_src(a.mode, o, a.pads[d], x->shape[d]);
            if (i < 0) constant = true;
            else src += i * x->strides[d];
        }
        char *dp = (char *)y->data + (size_t)(row * cols) * es;
        const char *sp = (const char *)x->data + (size_t)src * es;
        if (constant) {
            for (int64_t c = 0; c < cols; c++) memcpy(dp + (size_t)c * es, value, es);
            continue;
        }
        for (int64_t c = 0; c < cols; c++) {
            if (c == lo && hi > lo) {
                memcpy(dp + (size_t)c * es, sp + (size_t)(c - before) * es, (size_t)(hi - lo) * es);
                c = hi - 1;
                continue;
            }
            int64_t i = pad_src(a.mode, c, before, ncol);
            memcpy(dp + (size_t)c * es, i < 0 ? value : sp + (size_t)i * es, es);
        }
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- ConstantOfShape / Constant */

static mec_status cos_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    int64_t shape[MEC_MAX_DIMS];
    int n;
    if ((st = mec_op_read_ints(ctx, 0, shape, MEC_MAX_DIMS, &n))) return st;
    mec_dtype dt = MEC_F32;
    const mec_attr *a = mec_node_attr(ctx->node, "value");
    if (a) {
        if (a->type != MEC_ATTR_TENSOR || !a->t || mec_tensor_numel(a->t) != 1)
            return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute 'value' must be a one-element tensor");
        dt = a->t->dtype;
        if (mec_dtype_size(dt) == 0)
            return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "value of dtype %s is not supported", mec_dtype_name(dt));
    }
    return mec_op_set_output(ctx, 0, dt, n, shape);
}

static mec_status cos_exec(mec_op_ctx *ctx) {
    mec_tensor *y = ctx->out[0];
    const mec_attr *a = mec_node_attr(ctx->node, "value");
    size_t es = mec_dtype_size(y->dtype);
    int64_t n = mec_tensor_numel(y);
    if (!a) {
        memset(y->data, 0, (size_t)n * es);
        return MEC_OK;
    }
    char v[16];
    memcpy(v, a->t->data, es);
    for (int64_t i = 0; i < n; i++) memcpy((char *)y->data + (size_t)i * es, v, es);
    return MEC_OK;
}

/* The attribute that carries a Constant's value. */
static mec_status constant_attr(mec_op_ctx *ctx, const mec_attr **out) {
    static const char *const names[] = {"value", "value_float", "value_floats", "value_int",
                                        "value_ints", "value_string", "value_strings", "sparse_value"};
    const mec_attr *found = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const mec_attr *a = mec_node_attr(ctx->node, names[i]);
        if (!a) continue;
        if (found) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "has both '%s' and '%s'", found->name, a->name);
        found = a;
    }
    if (!found) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "has no value attribute");
    const char *nm = found->name;
    if (!strcmp(nm, "value_string") || !strcmp(nm, "value_strings") || !strcmp(nm, "sparse_value"))
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "attribute '%s' is not supported", nm);
    bool ok = !strcmp(nm, "value") ? found->type == MEC_ATTR_TENSOR && found->t
              : !strcmp(nm, "value_float") ? found->type == MEC_ATTR_FLOAT
              : !strcmp(nm, "value_floats") ? found->type == MEC_ATTR_FLOATS
              : !strcmp(nm, "value_int") ? found->type == MEC_ATTR_INT
                                         : found->type == MEC_ATTR_INTS;
    if (!ok) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "attribute '%s' has the wrong type", nm);
    if (found->type == MEC_ATTR_TENSOR && mec_dtype_size(found->t->dtype) == 0)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "a %s constant is not supported",
                          mec_dtype_name(found->t->dtype));
    *out = found;
    return MEC_OK;
}

static mec_status constant_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 0, 0);
    if (st) return st;
    const mec_attr *a;
    if ((st = constant_attr(ctx, &a))) return st;
    switch (a->type) {
    case MEC_ATTR_TENSOR: return mec_op_set_output(ctx, 0, a->t->dtype, a->t->ndim, a->t->shape);
    case MEC_ATTR_FLOAT: return mec_op_set_output(ctx, 0, MEC_F32, 0, NULL);
    case MEC_ATTR_INT: return mec_op_set_output(ctx, 0, MEC_I64, 0, NULL);
    case MEC_ATTR_FLOATS: return mec_op_set_output(ctx, 0, MEC_F32, 1, &a->n);
    default: return mec_op_set_output(ctx, 0, MEC_I64, 1, &a->n);
    }
}

static mec_status constant_exec(mec_op_ctx *ctx) {
    const mec_attr *a;
    mec_status st = constant_attr(ctx, &a);
    if (st) return st;
    mec_tensor *y = ctx->out[0];
    switch (a->type) {
    case MEC_ATTR_TENSOR: return mec_tensor_copy(y, a->t);
    case MEC_ATTR_FLOAT: *(float *)y->data = a->f; break;
    case MEC_ATTR_INT: *(int64_t *)y->data = a->i; break;
    case MEC_ATTR_FLOATS: memcpy(y->data, a->floats, (size_t)a->n * sizeof(float)); break;
    default: memcpy(y->data, a->ints, (size_t)a->n * sizeof(int64_t)); break;
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- Range */

static mec_status range_count(mec_op_ctx *ctx, int64_t *count) {
    for (int i = 0; i < 3; i++) {
        const mec_tensor *t = ctx->in[i];
        if (t->dtype != ctx->in[0]->dtype)
            return MEC_OP_ERR(ctx, MEC_ERR_DTYPE, "input %d has dtype %s, input 0 has %s", i,
                              mec_dtype_name(t->dtype), mec_dtype_name(ctx->in[0]->dtype));
        if (mec_tensor_numel(t) != 1)
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input %d must be a scalar", i);
    }
    mec_dtype dt = ctx->in[0]->dtype;
    if (dt != MEC_F32 && dt != MEC_F64 && dt != MEC_I16 && dt != MEC_I32 && dt != MEC_I64)
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "dtype %s is not supported", mec_dtype_name(dt));
    for (int i = 0; i < 3; i++)
        if (!ctx->in[i]->data) return MEC_ERR_DEFER;
    double n;
    if (is_float_type(dt)) {
        double s = mec_tensor_get_f64(ctx->in[0], 0), l = mec_tensor_get_f64(ctx->in[1], 0);
        double d = mec_tensor_get_f64(ctx->in[2], 0);
        if (d == 0.0 || isnan(d) || isnan(s) || isnan(l))
            return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "range(%g, %g, %g) is not finite", s, l, d);
        n = ceil((l - s) / d);
    } else {
        int64_t s = mec_tensor_get_i64(ctx->in[0], 0), l = mec_tensor_get_i64(ctx->in[1], 0);
        int64_t d = mec_tensor_get_i64(ctx->in[2], 0);
        if (d == 0) return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "delta is 0");
        n = ceil(((double)l - (double)s) / (double)d);
    }
    if (!(n <= (double)MEC_MAX_NUMEL))
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "range has more than 2^40 elements");
    *count = n > 0 ? (int64_t)n : 0;
    return MEC_OK;
}

static mec_status range_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 3, 3);
    if (st) return st;
    int64_t n;
    if ((st = range_count(ctx, &n))) return st;
    return mec_op_set_output(ctx, 0, ctx->in[0]->dtype, 1, &n);
}

static mec_status range_exec(mec_op_ctx *ctx) {
    mec_tensor *y = ctx->out[0];
    int64_t n = mec_tensor_numel(y);
    if (is_float_type(y->dtype)) {
        double s = mec_tensor_get_f64(ctx->in[0], 0), d = mec_tensor_get_f64(ctx->in[2], 0);
        for (int64_t i = 0; i < n; i++) store_f64(y->data, y->dtype, i, s + (double)i * d);
    } else {
        int64_t s = mec_tensor_get_i64(ctx->in[0], 0), d = mec_tensor_get_i64(ctx->in[2], 0);
        for (int64_t i = 0; i < n; i++) store_int(y->data, y->dtype, i, s + i * d);
    }
    return MEC_OK;
}

/* ------------------------------------------------------------- DepthToSpace / SpaceToDepth */

static mec_status d2s_args(mec_op_ctx *ctx, int64_t *bs, bool *crd) {
    const mec_tensor *x = ctx->in[0];
    bool d2s = !strcmp(ctx->node->op_type, "DepthToSpace");
    if (x->ndim != 4) return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input has %d dims, expected 4", x->ndim);
    *bs = mec_node_int(ctx->node, "blocksize", 0);
    if (*bs < 1 || *bs > (1 << 20))
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "blocksize = %" PRId64 " is invalid", *bs);
    *crd = false;
    if (d2s) {
        const char *mode = mec_node_string(ctx->node, "mode", "DCR");
        if (!strcmp(mode, "CRD")) *crd = true;
        else if (strcmp(mode, "DCR"))
            return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "mode '%s' is not DCR or CRD", mode);
        if (x->shape[1] % (*bs * *bs))
            return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "channels (%" PRId64 ") are not a multiple of blocksize^2 (%" PRId64 ")",
                              x->shape[1], *bs * *bs);
    } else if (x->shape[2] % *bs || x->shape[3] % *bs) {
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "height %" PRId64 " and width %" PRId64 " must be multiples of blocksize %" PRId64,
                          x->shape[2], x->shape[3], *bs);
    }
    return MEC_OK;
}

static mec_status d2s_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0))) return st;
    int64_t bs;
    bool crd;
    if ((st = d2s_args(ctx, &bs, &crd))) return st;
    const int64_t *s = ctx->in[0]->shape;
    int64_t shape[4];
    if (!strcmp(ctx->node->op_type, "DepthToSpace")) {
        shape[0] = s[0]; shape[1] = s[1] / (bs * bs); shape[2] = s[2] * bs; shape[3] = s[3] * bs;
    } else {
        shape[0] = s[0]; shape[1] = s[1] * bs * bs; shape[2] = s[2] / bs; shape[3] = s[3] / bs;
    }
    return mec_op_set_output(ctx, 0, ctx->in[0]->dtype, 4, shape);
}

static mec_status d2s_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    int64_t bs;
    bool crd;
    mec_status st = d2s_args(ctx, &bs, &crd);
    if (st) return st;
    int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    int64_t shape[6], ss[6];
    if (!strcmp(ctx->node->op_type, "DepthToSpace")) {
        /* out (N, C', H, b1, W, b2) read from in (N, [b1, b2, C'] or [C', b1, b2], H, W) */
        int64_t Co = C / (bs * bs);
        int64_t sc = crd ? bs * bs * H * W : H * W;
        int64_t sb1 = crd ? bs * H * W : bs * Co * H * W;
        int64_t sb2 = crd ? H * W : Co * H * W;
        int64_t sh6[6] = {N, Co, H, bs, W, bs}, st6[6] = {C * H * W, sc, W, sb1, 1, sb2};
        memcpy(shape, sh6, sizeof shape);
        memcpy(ss, st6, sizeof ss);
    } else {
        /* out (N, b1, b2, C, H', W') read from in (N, C, H', b1, W', b2) */
        int64_t sh6[6] = {N, bs, bs, C, H / bs, W / bs};
        int64_t st6[6] = {C * H * W, W, 1, H * W, bs * W, bs};
        memcpy(shape, sh6, sizeof shape);
        memcpy(ss, st6, sizeof ss);
    }
    (void)N;
    gather_view(ctx->out[0]->data, x->data, ss, shape, 6, mec_dtype_size(x->dtype));
    return MEC_OK;
}

/* ------------------------------------------------------------- EyeLike / Trilu */

static mec_status eyelike_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 1);
    if (st) return st;
    const mec_tensor *x = ctx->in[0];
    if (x->ndim != 2) return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input has %d dims, expected 2", x->ndim);
    const mec_attr *a = mec_node_attr(ctx->node, "dtype");
    mec_dtype dt = a ? (mec_dtype)a->i : x->dtype;
    if (a && (a->i <= 0 || a->i >= MEC_DTYPE_MAX))
        return MEC_OP_ERR(ctx, MEC_ERR_INVALID_ARG, "dtype = %" PRId64 " is not a data type", a->i);
    if (!is_castable(dt))
        return MEC_OP_ERR(ctx, MEC_ERR_UNSUPPORTED, "dtype %s is not supported", mec_dtype_name(dt));
    return mec_op_set_output(ctx, 0, dt, 2, x->shape);
}

static mec_status eyelike_exec(mec_op_ctx *ctx) {
    mec_tensor *y = ctx->out[0];
    int64_t k = mec_node_int(ctx->node, "k", 0), rows = y->shape[0], cols = y->shape[1];
    memset(y->data, 0, mec_tensor_bytes(y));
    for (int64_t i = 0; i < rows; i++) {
        int64_t j = i + k;
        if (j >= 0 && j < cols) store_f64(y->data, y->dtype, i * cols + j, 1.0);
    }
    return MEC_OK;
}

static mec_status trilu_infer(mec_op_ctx *ctx) {
    mec_status st = mec_op_check_arity(ctx, 1, 2);
    if (st) return st;
    if ((st = check_elem_size(ctx, 0))) return st;
    const mec_tensor *x = ctx->in[0];
    if (x->ndim < 2) return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "input has %d dims, expected at least 2", x->ndim);
    if (input_present(ctx, 1) && mec_tensor_numel(ctx->in[1]) != 1)
        return MEC_OP_ERR(ctx, MEC_ERR_SHAPE, "k must be a scalar");
    return mec_op_output_like(ctx, 0, 0);
}

static mec_status trilu_exec(mec_op_ctx *ctx) {
    const mec_tensor *x = ctx->in[0];
    mec_tensor *y = ctx->out[0];
    int64_t k = input_present(ctx, 1) ? mec_tensor_get_i64(ctx->in[1], 0) : 0;
    bool upper = mec_node_int(ctx->node, "upper", 1) != 0;
    size_t es = mec_dtype_size(x->dtype);
    int64_t rows = x->shape[x->ndim - 2], cols = x->shape[x->ndim - 1];
    int64_t mats = shape_numel(x->ndim - 2, x->shape);
    memcpy(y->data, x->data, mec_tensor_bytes(x));
    for (int64_t m = 0; m < mats; m++)
        for (int64_t i = 0; i < rows; i++) {
            char *row = (char *)y->data + (size_t)((m * rows + i) * cols) * es;
            /* upper keeps j >= i + k, lower keeps j <= i + k */
            int64_t edge = i + k;
            int64_t z0 = upper ? 0 : edge + 1, z1 = upper ? edge : cols;
            z0 = z0 < 0 ? 0 : z0 > cols ? cols : z0;
            z1 = z1 < 0 ? 0 : z1 > cols ? cols : z1;
            if (z1 > z0) memset(row + (size_t)z0 * es, 0, (size_t)(z1 - z0) * es);
        }
    return MEC_OK;
}

/* ------------------------------------------------------------- table */

#define K(op, lo, hi, flags, vin, inf, ex) {op, "", lo, hi, "ref", flags, vin, inf, ex, NULL, NULL, NULL}

const mec_kernel mec_kernels_shape[] = {
    K("Reshape", 1, 4, MEC_KF_ALIAS, 0, reshape1_infer, exec_copy),
    K("Reshape", 5, 17, MEC_KF_ALIAS, 1u << 1, reshape5_infer, exec_copy),
    K("Flatten", 1, 17, MEC_KF_ALIAS, 0, flatten_infer, exec_copy),
    K("Squeeze", 1, 12, MEC_KF_ALIAS, 0, squeeze1_infer, exec_copy),
    K("Squeeze", 13, 17, MEC_KF_ALIAS, 1u << 1, squeeze13_infer, exec_copy),
    K("Unsqueeze", 1, 12, MEC_KF_ALIAS, 0, unsqueeze1_infer, exec_copy),
    K("Unsqueeze", 13, 17, MEC_KF_ALIAS, 1u << 1, unsqueeze13_infer, exec_copy),
    K("Identity", 1, 17, MEC_KF_ALIAS, 0, identity_infer, exec_copy),
    /* not MEC_KF_ALIAS: exec must run to fill the optional mask output */
    K("Dropout", 1, 17, 0, 0, dropout_infer, dropout_exec),
    K("Transpose", 1, 17, 0, 0, transpose_infer, transpose_exec),
    K("Concat", 1, 17, 0, 0, concat_infer, concat_exec),
    K("Split", 1, 12, 0, 1u << 1, split_infer, split_exec),
    K("Split", 13, 17, 0, 1u << 1, split_infer, split_exec),
    K("Slice", 1, 9, 0, 0, slice_infer, slice_exec),
    K("Slice", 10, 17, 0, (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4), slice_infer, slice_exec),
    K("Expand", 8, 17, 0, 1u << 1, expand_infer, expand_exec),
    K("Tile", 6, 17, 0, 1u << 1, tile_infer, tile_exec),
    K("Shape", 1, 17, 0, 0, shape_infer, shape_exec),
    K("Size", 1, 17, 0, 0, size_infer, size_exec),
    K("Cast", 1, 17, 0, 0, cast_infer, cast_exec),
    K("CastLike", 15, 17, 0, 0, cast_infer, cast_exec),
    K("Pad", 1, 10, 0, 0, pad_infer, pad_exec),
    K("Pad", 11, 17, 0, 1u << 1, pad_infer, pad_exec),
    K("ConstantOfShape", 9, 17, 0, 1u << 0, cos_infer, cos_exec),
    K("Constant", 1, 17, 0, 0, constant_infer, constant_exec),
    K("Range", 11, 17, 0, 7u, range_infer, range_exec),
    K("DepthToSpace", 1, 17, 0, 0, d2s_infer, d2s_exec),
    K("SpaceToDepth", 1, 17, 0, 0, d2s_infer, d2s_exec),
    K("EyeLike", 9, 17, 0, 0, eyelike_infer, eyelike_exec),
    K("Trilu", 14, 17, 0, 0, trilu_infer, trilu_exec),
    {0},
};
