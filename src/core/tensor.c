/* Tensors: shape/stride bookkeeping, owned buffers, copies, element access. */
#include "mec/core.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void mec_tensor_contiguous_strides(mec_tensor *t) {
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        t->strides[i] = s;
        s *= t->shape[i] > 0 ? t->shape[i] : 1;
    }
}

static mec_status check_shape(int ndim, const int64_t *shape) {
    if (ndim < 0 || ndim > MEC_MAX_DIMS)
        return mec_error(MEC_ERR_SHAPE, "tensor rank %d is outside 0..%d", ndim, MEC_MAX_DIMS);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return mec_error(MEC_ERR_SHAPE, "dimension %d is negative (%" PRId64 ")", i, shape[i]);
        if (shape[i] > MEC_MAX_NUMEL)
            return mec_error(MEC_ERR_SHAPE, "dimension %d is absurdly large (%" PRId64 ")", i,
                             shape[i]);
        if (shape[i] != 0 && n > MEC_MAX_NUMEL / shape[i]) {
            char buf[160];
            return mec_error(MEC_ERR_SHAPE, "tensor of shape %s has more than 2^40 elements",
                             mec_shape_str(ndim, shape, buf, sizeof buf));
        }
        n *= shape[i];
    }
    return MEC_OK;
}

mec_status mec_tensor_init(mec_tensor *t, mec_dtype dtype, int ndim, const int64_t *shape) {
    mec_status st = check_shape(ndim, shape);
    if (st) return st;
    memset(t, 0, sizeof *t);
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    mec_tensor_contiguous_strides(t);
    return MEC_OK;
}

mec_status mec_tensor_wrap(mec_tensor *t, mec_dtype dtype, int ndim, const int64_t *shape,
                           void *data) {
    mec_status st = mec_tensor_init(t, dtype, ndim, shape);
    if (st) return st;
    t->data = data;
    return MEC_OK;
}

int64_t mec_tensor_numel(const mec_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

size_t mec_tensor_bytes(const mec_tensor *t) {
    return (size_t)mec_tensor_numel(t) * mec_dtype_size(t->dtype);
}

bool mec_tensor_is_contiguous(const mec_tensor *t) {
    int64_t s = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->strides[i] != s) return false;
        s *= t->shape[i];
    }
    return true;
}

bool mec_tensor_same_shape(const mec_tensor *a, const mec_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

mec_status mec_tensor_alloc(mec_tensor *t) {
    size_t esize = mec_dtype_size(t->dtype);
    if (esize == 0)
        return mec_error(MEC_ERR_UNSUPPORTED, "cannot allocate a tensor of dtype %s",
                         mec_dtype_name(t->dtype));
    size_t bytes = (size_t)mec_tensor_numel(t) * esize;
    if (t->owned && t->capacity >= bytes) {
        t->data = t->owned;
    } else {
        void *p = mec_malloc(bytes);
        if (!p) return MEC_ERR_NOMEM;
        mec_free(t->owned);
        t->owned = p;
        t->capacity = bytes;
        t->data = p;
    }
    memset(t->data, 0, bytes);
    mec_tensor_contiguous_strides(t);
    return MEC_OK;
}

mec_status mec_tensor_reshape(mec_tensor *t, int ndim, const int64_t *shape) {
    mec_status st = check_shape(ndim, shape);
    if (st) return st;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    mec_tensor_contiguous_strides(t);
    size_t bytes = mec_tensor_bytes(t);
    if (t->owned && t->capacity < bytes) return mec_tensor_alloc(t);
    return MEC_OK;
}

void mec_tensor_release(mec_tensor *t) {
    if (!t) return;
    mec_free(t->owned);
    memset(t, 0, sizeof *t);
}

mec_status mec_tensor_create(mec_tensor **out, mec_dtype dtype, int ndim, const int64_t *shape) {
    *out = NULL;
    mec_tensor *t = mec_calloc(1, sizeof *t);
    if (!t) return MEC_ERR_NOMEM;
    mec_status st = mec_tensor_init(t, dtype, ndim, shape);
    if (!st) st = mec_tensor_alloc(t);
    if (st) {
        mec_tensor_destroy(t);
        return st;
    }
    *out = t;
    return MEC_OK;
}

void mec_tensor_destroy(mec_tensor *t) {
    if (!t) return;
    mec_tensor_release(t);
    mec_free(t);
}

/* dst[i * ds + j] = src[i * ss_i + j * ss_j] over a bi × bj tile, for the
 * element sizes that have a type (others go through memcpy). */
#define COPY_TILE(T)                                                                             \
    do {                                                                                         \
        T *d_ = (T *)(void *)dst;                                                                \
        const T *s_ = (const T *)(const void *)src;                                              \
        for (int64_t i = 0; i < bi; i++)                                                         \
            for (int64_t j = 0; j < bj; j++) d_[i * ds + j] = s_[i * ss_i + j * ss_j];            \
    } while (0)

static void copy_tile(char *dst, const char *src, size_t esize, int64_t bi, int64_t bj, int64_t ds,
                      int64_t ss_i, int64_t ss_j) {
    switch (esize) {
    case 1: COPY_TILE(uint8_t); break;
    case 2: COPY_TILE(uint16_t); break;
    case 4: COPY_TILE(uint32_t); break;
    case 8: COPY_TILE(uint64_t); break;
    default:
        for (int64_t i = 0; i < bi; i++)
            for (int64_t j = 0; j < bj; j++)
                memcpy(dst + (size_t)(i * ds + j) * esize, src + (size_t)(i * ss_i + j * ss_j) * esize, esize);
    }
}

/* Copies a strided tensor into contiguous dst. Size-1 dims are dropped and
 * dims the source walks in order are merged; the innermost remaining dim of
 * dst is then copied in tiles against the source's unit-stride dim when it
 * has one (a layout permutation such as NHWC → NCHW becomes a blocked
 * transpose), else row by row. */
static void copy_strided(char *dst, const mec_tensor *src, size_t esize) {
    int64_t shape[MEC_MAX_DIMS], ss[MEC_MAX_DIMS], ds[MEC_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < src->ndim; d++) {
        if (src->shape[d] == 1) continue;
        if (src->shape[d] == 0) return;
        if (nd && ss[nd - 1] == src->shape[d] * src->strides[d]) {
            shape[nd - 1] *= src->shape[d]; /* the source walks these two dims in order */
            ss[nd - 1] = src->strides[d];
            continue;
        }
        shape[nd] = src->shape[d];
        ss[nd++] = src->strides[d];
    }
    if (nd == 0) {
        memcpy(dst, src->data, esize);
        return;
    }
    int64_t acc = 1;
    for (int d = nd - 1; d >= 0; d--) {
        ds[d] = acc;
        acc *= shape[d];
    }
    /* the tile: rows along dim `ti` (the source's unit-stride dim when it is
     * not the innermost one), columns along the innermost dim */
    int last = nd - 1, ti = -1;
    for (int d = 0; d < last; d++)
        if (ss[d] == 1) ti = d;
    const int64_t tile = 32;
    int64_t idx[MEC_MAX_DIMS] = {0};
    const char *base = src->data;
    for (;;) {
        int64_t so = 0, doff = 0;
        for (int d = 0; d < last; d++) {
            so += idx[d] * ss[d];
            doff += idx[d] * ds[d];
        }
        if (ti < 0) {
            copy_tile(dst + doff * (int64_t)esize, base + so * (int64_t)esize, esize, 1, shape[last], 0, 0,
                      ss[last]);
        } else {
            for (int64_t i0 = 0; i0 < shape[ti]; i0 += tile)
                for (int64_t j0 = 0; j0 < shape[last]; j0 += tile) {
                    int64_t bi = shape[ti] - i0 < tile ? shape[ti] - i0 : tile;
                    int64_t bj = shape[last] - j0 < tile ? shape[last] - j0 : tile;
                    copy_tile(dst + (doff + i0 * ds[ti] + j0) * (int64_t)esize,
                              base + (so + i0 + j0 * ss[last]) * (int64_t)esize, esize, bi, bj, ds[ti], 1,
                              ss[last]);
                }
        }
        /* next index over the outer dims (the tile's dims are done whole) */
        int d = last - 1;
        for (; d >= 0; d--) {
            if (d == ti) continue;
            if (++idx[d] < shape[d]) break;
            idx[d] = 0;
        }
        if (d < 0) break;
    }
}

mec_status mec_tensor_copy(mec_tensor *dst, const mec_tensor *src) {
    if (dst->dtype != src->dtype)
        return mec_error(MEC_ERR_DTYPE, "tensor copy from %s to %s", mec_dtype_name(src->dtype),
                         mec_dtype_name(dst->dtype));
    if (mec_tensor_numel(dst) != mec_tensor_numel(src))
        return mec_error(MEC_ERR_SHAPE, "tensor copy of %" PRId64 " elements into %" PRId64,
                         mec_tensor_numel(src), mec_tensor_numel(dst));
    size_t esize = mec_dtype_size(src->dtype);
    if (mec_tensor_is_contiguous(src)) {
        if (mec_tensor_numel(src) > 0) memmove(dst->data, src->data, mec_tensor_bytes(src));
    } else {
        copy_strided(dst->data, src, esize);
    }
    return MEC_OK;
}

mec_status mec_tensor_clone(const mec_tensor *src, mec_tensor **out) {
    mec_status st = mec_tensor_create(out, src->dtype, src->ndim, src->shape);
    if (st) return st;
    if (src->data) st = mec_tensor_copy(*out, src);
    if (st) {
        mec_tensor_destroy(*out);
        *out = NULL;
    }
    return st;
}

static int64_t elem_offset(const mec_tensor *t, int64_t i) {
    int64_t off = 0;
    for (int d = t->ndim - 1; d >= 0; d--) {
        int64_t n = t->shape[d];
        if (n == 0) return 0;
        off += (i % n) * t->strides[d];
        i /= n;
    }
    return off;
}

double mec_tensor_get_f64(const mec_tensor *t, int64_t i) {
    int64_t o = elem_offset(t, i);
    const void *p = t->data;
    switch (t->dtype) {
    case MEC_F32: return ((const float *)p)[o];
    case MEC_F64: return ((const double *)p)[o];
    case MEC_F16: return mec_f16_to_f32(((const uint16_t *)p)[o]);
    case MEC_BF16: return mec_bf16_to_f32(((const uint16_t *)p)[o]);
    case MEC_U8: return ((const uint8_t *)p)[o];
    case MEC_I8: return ((const int8_t *)p)[o];
    case MEC_BOOL: return ((const uint8_t *)p)[o] != 0;
    case MEC_U16: return ((const uint16_t *)p)[o];
    case MEC_I16: return ((const int16_t *)p)[o];
    case MEC_I32: return ((const int32_t *)p)[o];
    case MEC_U32: return ((const uint32_t *)p)[o];
    case MEC_I64: return (double)((const int64_t *)p)[o];
    case MEC_U64: return (double)((const uint64_t *)p)[o];
    default: return 0.0;
    }
}

int64_t mec_tensor_get_i64(const mec_tensor *t, int64_t i) {
    int64_t o = elem_offset(t, i);
    const void *p = t->data;
    switch (t->dtype) {
    case MEC_I64: return ((const int64_t *)p)[o];
    case MEC_U64: return (int64_t)((const uint64_t *)p)[o];
    case MEC_I32: return ((const int32_t *)p)[o];
    case MEC_U32: return ((const uint32_t *)p)[o];
    case MEC_I16: return ((const int16_t *)p)[o];
    case MEC_U16: return ((const uint16_t *)p)[o];
    case MEC_I8: return ((const int8_t *)p)[o];
    case MEC_U8: return ((const uint8_t *)p)[o];
    case MEC_BOOL: return ((const uint8_t *)p)[o] != 0;
    default: return (int64_t)mec_tensor_get_f64(t, i);
    }
}

void mec_tensor_set_f64(mec_tensor *t, int64_t i, double v) {
    void *p = t->data;
    switch (t->dtype) {
    case MEC_F32: ((float *)p)[i] = (float)v; break;
    case MEC_F64: ((double *)p)[i] = v; break;
    case MEC_F16: ((uint16_t *)p)[i] = mec_f32_to_f16((float)v); break;
    case MEC_BF16: ((uint16_t *)p)[i] = mec_f32_to_bf16((float)v); break;
    case MEC_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
    case MEC_I8: ((int8_t *)p)[i] = (int8_t)v; break;
    case MEC_BOOL: ((uint8_t *)p)[i] = v != 0.0; break;
    case MEC_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
    case MEC_I16: ((int16_t *)p)[i] = (int16_t)v; break;
    case MEC_I32: ((int32_t *)p)[i] = (int32_t)v; break;
    case MEC_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
    case MEC_I64: ((int64_t *)p)[i] = (int64_t)v; break;
    case MEC_U64: ((uint64_t *)p)[i] = (uint64_t)v; break;
    default: break;
    }
}

char *mec_shape_str(int ndim, const int64_t *shape, char *buf, size_t n) {
    size_t used = 0;
    if (n == 0) return buf;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, i ? ", %" PRId64 : "%" PRId64, shape[i]);
    if (ndim == 1 && used < n) used += (size_t)snprintf(buf + used, n - used, ",");
    if (used < n) snprintf(buf + used, n - used, ")");
    return buf;
}
