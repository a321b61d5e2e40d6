/* Tensor files: ONNX TensorProto (.pb), NumPy (.npy) and raw bytes, as
 * `mecbench infer` and the conformance runner read and write them. */
#define _POSIX_C_SOURCE 200809L
#include "onnx_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Bigger tensor files than this are refused (bounds the read). */
#define MAX_TENSOR_FILE_BYTES (((size_t)1 << 40) + 4096)

/* Folder of path ("." when none), new string. */
static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return mec_strdup(".");
    return mec_strndup(path, (size_t)(slash - path) + (slash == path));
}

/* ------------------------------------------------------------------- pb */

static mec_status load_pb(const void *buf, size_t len, const char *base_dir, const char *label,
                          mec_tensor **out, char **name) {
    if (len > MEC_ONNX_MAX_PROTO_BYTES)
        return mec_error(MEC_ERR_PARSE, "%s: %zu bytes, more than protobuf's 2 GB limit", label,
                         len);
    mec_status st = mec_onnx_wire_check(&onnx__tensor_proto__descriptor, buf, len);
    if (st)
        return mec_error_prefix(st, "%s: not a valid ONNX TensorProto (truncated or corrupt): ",
                                label);
    mec_onnx_pb_alloc_reset();
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(mec_onnx_pb_allocator(), len, buf);
    if (!tp && mec_onnx_pb_alloc_failed())
        return mec_error(MEC_ERR_NOMEM, "%s: out of memory while parsing", label);
    if (!tp)
        return mec_error(MEC_ERR_PARSE, "%s: not a valid ONNX TensorProto (truncated or corrupt)",
                         label);
    char what[300];
    snprintf(what, sizeof what, "tensor '%s'", tp->name ? tp->name : "");
    st = mec_onnx_tensor_from_proto(tp, base_dir, what, out);
    if (!st && name) {
        *name = mec_strdup(tp->name ? tp->name : "");
        if (!*name) {
            mec_tensor_destroy(*out);
            *out = NULL;
            st = MEC_ERR_NOMEM;
        }
    }
    onnx__tensor_proto__free_unpacked(tp, mec_onnx_pb_allocator());
    return st ? mec_error_prefix(st, "%s: ", label) : MEC_OK;
}

mec_status mec_tensor_load_pb_buffer(const void *buf, size_t len, const char *label,
                                     mec_tensor **out, char **name) {
    if (!out) return mec_error(MEC_ERR_INVALID_ARG, "mec_tensor_load_pb_buffer: out is NULL");
    *out = NULL;
    if (name) *name = NULL;
    if (!buf && len) return mec_error(MEC_ERR_INVALID_ARG, "tensor buffer is NULL");
    return load_pb(buf, len, NULL, label ? label : "tensor", out, name);
}

mec_status mec_tensor_load_pb(const char *path, mec_tensor **out, char **name) {
    if (!out || !path) return mec_error(MEC_ERR_INVALID_ARG, "mec_tensor_load_pb: NULL argument");
    *out = NULL;
    if (name) *name = NULL;
    void *data;
    size_t len;
    mec_status st = mec_file_read(path, MEC_ONNX_MAX_PROTO_BYTES, &data, &len);
    if (st) return st;
    char *dir = dir_of(path);
    if (!dir) st = mec_error_prefix(MEC_ERR_NOMEM, "%s: ", path);
    else st = load_pb(data, len, dir, path, out, name);
    mec_free(dir);
    mec_free(data);
    return st;
}

mec_status mec_tensor_save_pb(const char *path, const mec_tensor *t, const char *name) {
    if (!path || !t) return mec_error(MEC_ERR_INVALID_ARG, "mec_tensor_save_pb: NULL argument");
    mec_onnx_arena arena = {NULL};
    Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
    mec_status st = mec_onnx_tensor_to_proto(&arena, t, name, &tp);
    uint8_t *buf = NULL;
    size_t size = 0;
    if (!st) {
        size = onnx__tensor_proto__get_packed_size(&tp);
        if (size > MEC_ONNX_MAX_PROTO_BYTES)
            st = mec_error(MEC_ERR_RANGE, "tensor of %zu bytes is over protobuf's 2 GB limit",
                           size);
        else if (!(buf = mec_malloc(size ? size : 1)))
            st = MEC_ERR_NOMEM;
        else if (onnx__tensor_proto__pack(&tp, buf) != size)
            st = mec_error(MEC_ERR_INTERNAL, "TensorProto packed to an unexpected size");
    }
    if (!st) st = mec_file_write_atomic(path, buf, size);
    else mec_error_prefix(st, "%s: ", path);
    mec_free(buf);
    mec_onnx_arena_free(&arena);
    return st;
}

/* ------------------------------------------------------------------ npy */

static const struct {
    const char *descr; /* without the byte-order character */
    mec_dtype dtype;
} npy_types[] = {
    {"f2", MEC_F16}, {"f4", MEC_F32}, {"f8", MEC_F64}, {"i1", MEC_I8},  {"i2", MEC_I16},
    {"i4", MEC_I32}, {"i8", MEC_I64}, {"u1", MEC_U8},  {"u2", MEC_U16}, {"u4", MEC_U32},
    {"u8", MEC_U64}, {"b1", MEC_BOOL},
};

static const char npy_magic[6] = {(char)0x93, 'N', 'U', 'M', 'P', 'Y'};

typedef struct npy_parser {
    const char *p, *end;
    const char *label;
} npy_parser;

static void npy_ws(npy_parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static mec_status npy_bad(npy_parser *ps, const char *what) {
    return mec_error(MEC_ERR_PARSE, "%s: bad .npy header: %s", ps->label, what);
}

/* A quoted Python string into buf. */
static mec_status npy_string(npy_parser *ps, char *buf, size_t n) {
    npy_ws(ps);
    if (ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"')) return npy_bad(ps, "expected a string");
    char q = *ps->p++;
    size_t k = 0;
    while (ps->p < ps->end && *ps->p != q) {
        if (k + 1 >= n) return npy_bad(ps, "string too long");
        buf[k++] = *ps->p++;
    }
    if (ps->p >= ps->end) return npy_bad(ps, "unterminated string");
    ps->p++;
    buf[k] = '\0';
    return MEC_OK;
}

static bool npy_accept(npy_parser *ps, char c) {
    npy_ws(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return true;
    }
    return false;
}

static mec_status npy_shape(npy_parser *ps, int *ndim, int64_t *shape) {
    if (!npy_accept(ps, '(')) return npy_bad(ps, "shape is not a tuple");
    *ndim = 0;
    for (;;) {
        if (npy_accept(ps, ')')) return MEC_OK;
        npy_ws(ps);
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
            return npy_bad(ps, "shape holds something other than a non-negative integer");
        int64_t v = 0;
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            v = v * 10 + (*ps->p++ - '0');
            if (v > MEC_MAX_NUMEL) return npy_bad(ps, "a dimension is absurdly large");
        }
        if (*ndim >= MEC_MAX_DIMS)
            return mec_error(MEC_ERR_UNSUPPORTED, "%s: .npy array has more than %d dimensions",
                             ps->label, MEC_MAX_DIMS);
        shape[(*ndim)++] = v;
        if (npy_accept(ps, ',')) continue;
        if (npy_accept(ps, ')')) {
            if (*ndim == 1) return npy_bad(ps, "one-dimensional shape without its trailing comma");
            return MEC_OK;
        }
        return npy_bad(ps, "shape tuple is not closed");
    }
}

mec_status mec_tensor_load_npy_buffer(const void *buf, size_t len, const char *label,
                                      mec_tensor **out) {
    if (!out) return mec_error(MEC_ERR_INVALID_ARG, "mec_tensor_load_npy_buffer: out is NULL");
    *out = NULL;
    if (!label) label = "tensor";
    const uint8_t *b = buf;
    if (!buf || len < 10 || memcmp(b, npy_magic, 6))
        return mec_error(MEC_ERR_PARSE, "%s: not a .npy file (no \\x93NUMPY magic)", label);
    int major = b[6], minor = b[7];
    size_t pre, hlen;
    if (major == 1) {
        pre = 10;
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
    } else if (major == 2 || major == 3) {
        if (len < 12) return mec_error(MEC_ERR_PARSE, "%s: truncated .npy header", label);
        pre = 12;
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
    } else {
        return mec_error(MEC_ERR_UNSUPPORTED, "%s: .npy format version %d.%d is not supported",
                         label, major, minor);
    }
    if (hlen > len - pre)
        return mec_error(MEC_ERR_PARSE, "%s: .npy header of %zu bytes runs past the %zu-byte file",
                         label, hlen, len);
    npy_parser ps = {(const char *)b + pre, (const char *)b + pre + hlen, label};
    char descr[32] = "";
    int fortran = -1, ndim = -1;
    int64_t shape[MEC_MAX_DIMS];
    mec_status st;
    if (!npy_accept(&ps, '{')) return npy_bad(&ps, "not a dict");
    while (!npy_accept(&ps, '}')) {
        char key[32];
        if ((st = npy_string(&ps, key, sizeof key))) return st;
        if (!npy_accept(&ps, ':')) return npy_bad(&ps, "expected ':'");
        if (!strcmp(key, "descr")) {
            if (descr[0]) return npy_bad(&ps, "'descr' given twice");
            if ((st = npy_string(&ps, descr, sizeof descr))) return st;
            if (!descr[0]) return npy_bad(&ps, "empty 'descr'");
        } else if (!strcmp(key, "fortran_order")) {
            if (fortran >= 0) return npy_bad(&ps, "'fortran_order' given twice");
            npy_ws(&ps);
            size_t left = (size_t)(ps.end - ps.p);
            if (left >= 4 && !memcmp(ps.p, "True", 4)) fortran = 1, ps.p += 4;
            else if (left >= 5 && !memcmp(ps.p, "False", 5)) fortran = 0, ps.p += 5;
            else return npy_bad(&ps, "'fortran_order' is not True or False");
        } else if (!strcmp(key, "shape")) {
            if (ndim >= 0) return npy_bad(&ps, "'shape' given twice");
            if ((st = npy_shape(&ps, &ndim, shape))) return st;
        } else {
            return mec_error(MEC_ERR_PARSE, "%s: bad .npy header: unknown key '%s'", label, key);
        }
        if (!npy_accept(&ps, ',')) {
            if (!npy_accept(&ps, '}')) return npy_bad(&ps, "expected ',' or '}'");
            break;
        }
    }
    npy_ws(&ps);
    if (ps.p != ps.end) return npy_bad(&ps, "trailing characters after the dict");
    if (!descr[0] || fortran < 0 || ndim < 0)
        return npy_bad(&ps, "it must give 'descr', 'fortran_order' and 'shape'");
    if (fortran)
        return mec_error(MEC_ERR_UNSUPPORTED,
                         "%s: .npy array is in Fortran order (fortran_order: True); save it in C "
                         "order (numpy.ascontiguousarray)",
                         label);
    mec_dtype dtype = MEC_UNDEFINED;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++) {
        const char *d = npy_types[i].descr;
        bool one_byte = d[1] == '1';
        if (!strcmp(descr + 1, d) &&
            (descr[0] == '<' || (one_byte && (descr[0] == '|' || descr[0] == '>'))))
            dtype = npy_types[i].dtype;
    }
    if (dtype == MEC_UNDEFINED) {
        if (descr[0] == '>')
            return mec_error(MEC_ERR_UNSUPPORTED,
                             "%s: .npy dtype '%s' is big-endian; only little-endian is supported",
                             label, descr);
        return mec_error(MEC_ERR_UNSUPPORTED, "%s: .npy dtype '%s' is not supported", label,
                         descr);
    }
    mec_tensor shape_only;
    if ((st = mec_tensor_init(&shape_only, dtype, ndim, shape)))
        return mec_error_prefix(st, "%s: .npy shape: ", label);
    size_t bytes = mec_tensor_bytes(&shape_only);
    size_t have = len - pre - hlen;
    if (have != bytes) {
        char sb[160];
        return mec_error(MEC_ERR_PARSE, "%s: .npy data is %zu bytes, expected %zu for %s %s", label,
                         have, bytes, mec_dtype_name(dtype), mec_shape_str(ndim, shape, sb, sizeof sb));
    }
    mec_tensor *t;
    if ((st = mec_tensor_create(&t, dtype, ndim, shape))) return mec_error_prefix(st, "%s: ", label);
    if (bytes) memcpy(t->data, b + pre + hlen, bytes);
    *out = t;
    return MEC_OK;
}

mec_status mec_tensor_load_npy(const char *path, mec_tensor **out) {
    if (!out || !path) return mec_error(MEC_ERR_INVALID_ARG, "mec_tensor_load_npy: NULL argument");
    *out = NULL;
    void *data;
    size_t len;
    mec_status st = mec_file_read(path, MAX_TENSOR_FILE_BYTES, &data, &len);
    if (st) return st;
    st = mec_tensor_load_npy_buffer(data, len, path, out);
    mec_free(data);
    return st;
}

mec_status mec_tensor_save_npy(const char *path, const mec_tensor *t) {
    if (!path || !t) return mec_error(MEC_ERR_INVALID_ARG, "mec_tensor_save_npy: NULL argument");
    const char *descr = NULL;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (npy_types[i].dtype == t->dtype) descr = npy_types[i].descr;
    if (!descr)
        return mec_error(MEC_ERR_UNSUPPORTED, "%s: dtype %s has no .npy equivalent", path,
                         mec_dtype_name(t->dtype));
    if (t->ndim < 0 || t->ndim > MEC_MAX_DIMS)
        return mec_error(MEC_ERR_SHAPE, "%s: tensor rank %d", path, t->ndim);
    char header[512];
    int n = snprintf(header, sizeof header, "{'descr': '%c%s', 'fortran_order': False, 'shape': (",
                     descr[1] == '1' ? '|' : '<', descr);
    for (int d = 0; d < t->ndim; d++)
        n += snprintf(header + n, sizeof header - (size_t)n, "%" PRId64 "%s", t->shape[d],
                      t->ndim == 1 || d + 1 < t->ndim ? "," : "");
    n += snprintf(header + n, sizeof header - (size_t)n, "), }");
    /* Pad with spaces and a final newline to a multiple of 64 bytes. */
    size_t total = (size_t)n + 10 + 1;
    size_t padded = (total + 63) / 64 * 64;
    size_t hlen = padded - 10;
    size_t bytes = mec_tensor_bytes(t), file_len;
    if (!mec_size_add(padded, bytes, &file_len)) return MEC_ERR_NOMEM;
    uint8_t *buf = mec_malloc(file_len);
    if (!buf) return mec_error_prefix(MEC_ERR_NOMEM, "%s: ", path);
    memcpy(buf, npy_magic, 6);
    buf[6] = 1;
    buf[7] = 0;
    buf[8] = (uint8_t)(hlen & 0xff);
    buf[9] = (uint8_t)(hlen >> 8);
    memcpy(buf + 10, header, (size_t)n);
    memset(buf + 10 + n, ' ', hlen - (size_t)n - 1);
    buf[padded - 1] = '\n';
    mec_status st = MEC_OK;
    if (bytes) {
        if (!t->data) st = mec_error(MEC_ERR_INVALID_ARG, "%s: tensor has no data", path);
        mec_tensor dst;
        if (!st) st = mec_tensor_wrap(&dst, t->dtype, t->ndim, t->shape, buf + padded);
        if (!st) st = mec_tensor_copy(&dst, t);
    }
    if (!st) st = mec_file_write_atomic(path, buf, file_len);
    mec_free(buf);
    return st;
}

/* ------------------------------------------------------------------ raw */

mec_status mec_tensor_load_raw(const char *path, mec_dtype dtype, int ndim, const int64_t *shape,
                               mec_tensor **out) {
    if (!out || !path) return mec_error(MEC_ERR_INVALID_ARG, "mec_tensor_load_raw: NULL argument");
    *out = NULL;
    size_t esize = mec_dtype_size(dtype);
    if (esize == 0)
        return mec_error(MEC_ERR_UNSUPPORTED, "%s: cannot read raw tensors of dtype %s", path,
                         mec_dtype_name(dtype));
    mec_tensor shape_only;
    mec_status st = mec_tensor_init(&shape_only, dtype, ndim, shape);
    if (st) return mec_error_prefix(st, "%s: ", path);
    size_t bytes = mec_tensor_bytes(&shape_only);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return mec_error(MEC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if ((uint64_t)sb.st_size != (uint64_t)bytes) {
        char buf[160];
        return mec_error(MEC_ERR_SHAPE,
                         "%s: file is %lld bytes, but %s %s needs %zu bytes (%" PRId64
                         " elements x %zu)",
                         path, (long long)sb.st_size, mec_dtype_name(dtype),
                         mec_shape_str(ndim, shape, buf, sizeof buf), bytes,
                         mec_tensor_numel(&shape_only), esize);
    }
    void *data;
    size_t len;
    if ((st = mec_file_read(path, bytes, &data, &len))) return st;
    if (len != bytes) {
        mec_free(data);
        return mec_error(MEC_ERR_IO, "%s: file changed while reading (%zu of %zu bytes)", path,
                         len, bytes);
    }
    mec_tensor *t;
    st = mec_tensor_create(&t, dtype, ndim, shape);
    if (!st && bytes) memcpy(t->data, data, bytes);
    mec_free(data);
    if (st) return mec_error_prefix(st, "%s: ", path);
    *out = t;
    return MEC_OK;
}
