/* Shared ONNX helpers: protobuf-c allocator, wire-format pre-check,
 * TensorProto -> mec_tensor (raw, typed and external data), arena. */
#define _POSIX_C_SOURCE 200809L
#include "onnx_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ONNX raw_data, .npy and raw tensors are read as little-endian: port the byte swaps first"
#endif

/* ------------------------------------------------------------ allocator */

/* protobuf-c reports any unpack failure as NULL: this tells running out of
 * memory apart from a corrupt message. */
static _Thread_local bool pb_alloc_failed;

static void *pb_alloc(void *user, size_t size) {
    (void)user;
    void *p = mec_malloc(size);
    if (!p) pb_alloc_failed = true;
    return p;
}

void mec_onnx_pb_alloc_reset(void) { pb_alloc_failed = false; }

bool mec_onnx_pb_alloc_failed(void) { return pb_alloc_failed; }

static void pb_free(void *user, void *ptr) {
    (void)user;
    mec_free(ptr);
}

static ProtobufCAllocator pb_allocator = {pb_alloc, pb_free, NULL};

ProtobufCAllocator *mec_onnx_pb_allocator(void) { return &pb_allocator; }

/* ----------------------------------------------------------- wire check */

static bool read_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*pos >= len) return false;
        uint8_t b = buf[(*pos)++];
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return true;
        }
    }
    return false;
}

static mec_status wire_walk(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
                            size_t len, int depth) {
    if (depth > MEC_ONNX_MAX_DEPTH)
        return mec_error(MEC_ERR_PARSE, "messages nest more than %d deep", MEC_ONNX_MAX_DEPTH);
    size_t pos = 0;
    while (pos < len) {
        size_t at = pos;
        uint64_t tag;
        if (!read_varint(buf, len, &pos, &tag))
            return mec_error(MEC_ERR_PARSE, "bad field tag at byte %zu", at);
        uint64_t number = tag >> 3;
        unsigned wire = (unsigned)(tag & 7);
        if (number == 0 || number > 536870911u)
            return mec_error(MEC_ERR_PARSE, "bad field number %" PRIu64 " at byte %zu", number,
                             at);
        uint64_t skip = 0;
        switch (wire) {
        case 0: {
            uint64_t v;
            if (!read_varint(buf, len, &pos, &v))
                return mec_error(MEC_ERR_PARSE, "truncated varint at byte %zu", at);
            break;
        }
        case 1: skip = 8; break;
        case 5: skip = 4; break;
        case 2: {
            if (!read_varint(buf, len, &pos, &skip) || skip > len - pos)
                return mec_error(MEC_ERR_PARSE,
                                 "field %" PRIu64 " at byte %zu runs past the end of its message",
                                 number, at);
            const ProtobufCFieldDescriptor *f =
                desc ? protobuf_c_message_descriptor_get_field(desc, (unsigned)number) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                mec_status st = wire_walk(f->descriptor, buf + pos, (size_t)skip, depth + 1);
                if (st) return st;
            }
            break;
        }
        default:
            return mec_error(MEC_ERR_PARSE, "unsupported wire type %u at byte %zu", wire, at);
        }
        if (skip > len - pos)
            return mec_error(MEC_ERR_PARSE, "field %" PRIu64 " at byte %zu is truncated", number,
                             at);
        pos += (size_t)skip;
    }
    return MEC_OK;
}

mec_status mec_onnx_wire_check(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
                               size_t len) {
    return wire_walk(desc, buf, len, 0);
}

/* ------------------------------------------------------ external data */

static bool parse_u64(const char *s, uint64_t *v) {
    if (!s || !*s) return false;
    uint64_t r = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        if (r > (UINT64_MAX - 9) / 10) return false;
        r = r * 10 + (uint64_t)(*p - '0');
    }
    *v = r;
    return true;
}

/* Reads `bytes` bytes of t's data from the external file named in tp. */
static mec_status read_external(const Onnx__TensorProto *tp, const char *base_dir,
                                const char *what, size_t bytes, mec_tensor *t) {
    const char *location = NULL;
    uint64_t offset = 0, length = bytes;
    bool has_length = false;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = tp->external_data[i];
        const char *key = e->key ? e->key : "";
        const char *val = e->value ? e->value : "";
        if (!strcmp(key, "location")) {
            location = val;
        } else if (!strcmp(key, "offset")) {
            if (!parse_u64(val, &offset))
                return mec_error(MEC_ERR_PARSE, "%s: external data offset '%s' is not a number",
                                 what, val);
        } else if (!strcmp(key, "length")) {
            if (!parse_u64(val, &length))
                return mec_error(MEC_ERR_PARSE, "%s: external data length '%s' is not a number",
                                 what, val);
            has_length = true;
        }
    }
    if (!location || !*location)
        return mec_error(MEC_ERR_PARSE, "%s: external data without a 'location'", what);
    if (location[0] == '/')
        return mec_error(MEC_ERR_PARSE, "%s: external data location '%s' is an absolute path",
                         what, location);
    if (!base_dir)
        return mec_error(MEC_ERR_INVALID_ARG,
                         "%s: external data '%s' but no model folder to read it from", what,
                         location);
    if (has_length && length != bytes)
        return mec_error(MEC_ERR_PARSE,
                         "%s: external data length is %" PRIu64 " bytes, expected %zu", what,
                         length, bytes);
    size_t plen = strlen(base_dir) + strlen(location) + 2;
    char *path = mec_malloc(plen);
    if (!path) return MEC_ERR_NOMEM;
    snprintf(path, plen, "%s/%s", *base_dir ? base_dir : ".", location);
    mec_status st = MEC_OK;
    FILE *f = fopen(path, "rb");
    if (!f) {
        st = mec_error(MEC_ERR_IO, "%s: cannot open external data file %s: %s", what, path,
                       strerror(errno));
        goto out;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = mec_error(MEC_ERR_IO, "%s: external data %s is not a regular file", what, path);
        goto out;
    }
    uint64_t fsize = (uint64_t)sb.st_size;
    if (offset > fsize || bytes > fsize - offset) {
        st = mec_error(MEC_ERR_IO,
                       "%s: external data %s is %" PRIu64 " bytes; %zu bytes at offset %" PRIu64
                       " do not fit",
                       what, path, fsize, bytes, offset);
        goto out;
    }
    if (fseeko(f, (off_t)offset, SEEK_SET) != 0 ||
        (bytes && fread(t->data, 1, bytes, f) != bytes)) {
        st = mec_error(MEC_ERR_IO, "%s: reading %zu bytes at offset %" PRIu64 " of %s failed",
                       what, bytes, offset, path);
        goto out;
    }
out:
    if (f) fclose(f);
    mec_free(path);
    return st;
}

/* ------------------------------------------------- TensorProto -> tensor */

/* Count of elements in the typed field ONNX uses for dtype, and which one. */
static size_t typed_count(const Onnx__TensorProto *tp, mec_dtype dt, const char **field) {
    switch (dt) {
    case MEC_F32: *field = "float_data"; return tp->n_float_data;
    case MEC_I64: *field = "int64_data"; return tp->n_int64_data;
    case MEC_F64: *field = "double_data"; return tp->n_double_data;
    case MEC_U32:
    case MEC_U64: *field = "uint64_data"; return tp->n_uint64_data;
    default: *field = "int32_data"; return tp->n_int32_data;
    }
}

static void copy_typed(const Onnx__TensorProto *tp, mec_tensor *t, size_t n) {
    void *d = t->data;
    for (size_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case MEC_F32: ((float *)d)[i] = tp->float_data[i]; break;
        case MEC_I64: ((int64_t *)d)[i] = tp->int64_data[i]; break;
        case MEC_F64: ((double *)d)[i] = tp->double_data[i]; break;
        case MEC_U32: ((uint32_t *)d)[i] = (uint32_t)tp->uint64_data[i]; break;
        case MEC_U64: ((uint64_t *)d)[i] = tp->uint64_data[i]; break;
        case MEC_I32: ((int32_t *)d)[i] = tp->int32_data[i]; break;
        case MEC_I16: ((int16_t *)d)[i] = (int16_t)tp->int32_data[i]; break;
        case MEC_U16:
        case MEC_F16:
        case MEC_BF16: ((uint16_t *)d)[i] = (uint16_t)tp->int32_data[i]; break;
        case MEC_I8: ((int8_t *)d)[i] = (int8_t)tp->int32_data[i]; break;
        case MEC_U8: ((uint8_t *)d)[i] = (uint8_t)tp->int32_data[i]; break;
        case MEC_BOOL: ((uint8_t *)d)[i] = tp->int32_data[i] != 0; break;
        default: break;
        }
    }
}

mec_status mec_onnx_tensor_from_proto(const Onnx__TensorProto *tp, const char *base_dir,
                                      const char *what, mec_tensor **out) {
    *out = NULL;
    int32_t dt = tp->has_data_type ? tp->data_type : 0;
    if (dt == MEC_STRING)
        return mec_error(MEC_ERR_UNSUPPORTED, "%s: string tensors are not supported", what);
    if (dt <= 0 || dt >= MEC_DTYPE_MAX)
        return mec_error(MEC_ERR_PARSE, "%s: unknown data_type %" PRId32, what, dt);
    mec_dtype dtype = (mec_dtype)dt;
    size_t esize = mec_dtype_size(dtype);
    if (esize == 0)
        return mec_error(MEC_ERR_UNSUPPORTED, "%s: data_type %s is not supported", what,
                         mec_dtype_name(dtype));
    if (tp->n_dims > MEC_MAX_DIMS)
        return mec_error(MEC_ERR_UNSUPPORTED, "%s: rank %zu is more than the %d supported", what,
                         tp->n_dims, MEC_MAX_DIMS);
    if (tp->segment)
        return mec_error(MEC_ERR_UNSUPPORTED, "%s: segmented tensors are not supported", what);
    int ndim = (int)tp->n_dims;
    mec_tensor shape;
    mec_status st = mec_tensor_init(&shape, dtype, ndim, tp->dims);
    if (st) return mec_error_prefix(st, "%s: dims: ", what);
    size_t numel = (size_t)mec_tensor_numel(&shape);
    size_t bytes = numel * esize; /* numel <= 2^40, esize <= 8: no overflow */
    bool external = tp->has_data_location &&
                    tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    char shape_buf[160];
    if (!external && tp->has_raw_data) {
        if (tp->raw_data.len != bytes)
            return mec_error(MEC_ERR_PARSE, "%s: raw_data has %zu bytes, expected %zu for %s %s",
                             what, tp->raw_data.len, bytes, mec_dtype_name(dtype),
                             mec_shape_str(ndim, tp->dims, shape_buf, sizeof shape_buf));
    } else if (!external) {
        const char *field;
        size_t count = typed_count(tp, dtype, &field);
        if (count != numel)
            return mec_error(MEC_ERR_PARSE, "%s: %s has %zu values, expected %zu for %s %s", what,
                             count ? field : "data", count, numel, mec_dtype_name(dtype),
                             mec_shape_str(ndim, tp->dims, shape_buf, sizeof shape_buf));
    }
    mec_tensor *t = NULL;
    st = mec_tensor_create(&t, dtype, ndim, tp->dims);
    if (st) return mec_error_prefix(st, "%s: ", what);
    if (external) st = read_external(tp, base_dir, what, bytes, t);
    else if (tp->has_raw_data) {
        if (bytes) memcpy(t->data, tp->raw_data.data, bytes);
    } else
        copy_typed(tp, t, numel);
    if (st) {
        mec_tensor_destroy(t);
        return st;
    }
    *out = t;
    return MEC_OK;
}

/* Like mec_onnx_tensor_from_proto, but a large raw_data buffer (allocated by
 * our protobuf allocator, so 64-byte aligned) becomes the tensor's own
 * storage instead of being copied: a model's weights exist once, not twice. */
mec_status mec_onnx_tensor_take_proto(Onnx__TensorProto *tp, const char *base_dir,
                                      const char *what, mec_tensor **out) {
    bool external = tp->has_data_location &&
                    tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (external || !tp->has_raw_data || tp->raw_data.len < 4096 ||
        ((uintptr_t)tp->raw_data.data % MEC_ALIGN) != 0 || tp->data_type == MEC_STRING ||
        tp->n_dims > MEC_MAX_DIMS || tp->segment)
        return mec_onnx_tensor_from_proto(tp, base_dir, what, out);
    *out = NULL;
    mec_dtype dtype = (mec_dtype)tp->data_type;
    size_t esize = tp->data_type > 0 && tp->data_type < MEC_DTYPE_MAX ? mec_dtype_size(dtype) : 0;
    if (!esize) return mec_onnx_tensor_from_proto(tp, base_dir, what, out);
    mec_tensor shape;
    mec_status st = mec_tensor_init(&shape, dtype, (int)tp->n_dims, tp->dims);
    if (st) return mec_error_prefix(st, "%s: dims: ", what);
    size_t bytes = (size_t)mec_tensor_numel(&shape) * esize;
    if (tp->raw_data.len != bytes) return mec_onnx_tensor_from_proto(tp, base_dir, what, out);
    mec_tensor *t = mec_calloc(1, sizeof *t);
    if (!t) return mec_error_prefix(MEC_ERR_NOMEM, "%s: ", what);
    *t = shape;
    t->data = t->owned = tp->raw_data.data;
    t->capacity = bytes;
    tp->raw_data.data = NULL; /* now the tensor's; free_unpacked skips NULL */
    tp->raw_data.len = 0;
    *out = t;
    return MEC_OK;
}

/* ---------------------------------------------------------------- arena */

/* Each block starts with a header linking it to the previous one; 16 bytes
 * keep the payload aligned for any protobuf-c struct. */
typedef struct arena_block {
    struct arena_block *next;
    uint64_t pad;
} arena_block;

void *mec_onnx_arena_alloc(mec_onnx_arena *a, size_t bytes) {
    size_t total;
    if (!mec_size_add(bytes, sizeof(arena_block), &total)) return NULL;
    arena_block *b = mec_malloc(total);
    if (!b) return NULL;
    memset(b, 0, total);
    b->next = a->head;
    a->head = b;
    return b + 1;
}

char *mec_onnx_arena_strdup(mec_onnx_arena *a, const char *s) {
    if (!s) s = "";
    size_t n = strlen(s);
    char *d = mec_onnx_arena_alloc(a, n + 1);
    if (d) memcpy(d, s, n);
    return d;
}

void mec_onnx_arena_free(mec_onnx_arena *a) {
    arena_block *b = a->head;
    while (b) {
        arena_block *next = b->next;
        mec_free(b);
        b = next;
    }
    a->head = NULL;
}

/* ------------------------------------------------- tensor -> TensorProto */

mec_status mec_onnx_tensor_to_proto(mec_onnx_arena *a, const mec_tensor *t, const char *name,
                                    Onnx__TensorProto *tp) {
    size_t esize = mec_dtype_size(t->dtype);
    if (esize == 0)
        return mec_error(MEC_ERR_UNSUPPORTED, "tensor '%s': cannot write dtype %s",
                         name ? name : "", mec_dtype_name(t->dtype));
    if (t->ndim < 0 || t->ndim > MEC_MAX_DIMS)
        return mec_error(MEC_ERR_SHAPE, "tensor '%s': rank %d", name ? name : "", t->ndim);
    if (name) {
        tp->name = mec_onnx_arena_strdup(a, name);
        if (!tp->name) return MEC_ERR_NOMEM;
    }
    tp->n_dims = (size_t)t->ndim;
    tp->dims = mec_onnx_arena_alloc(a, sizeof(int64_t) * (size_t)(t->ndim ? t->ndim : 1));
    if (!tp->dims) return MEC_ERR_NOMEM;
    for (int d = 0; d < t->ndim; d++) tp->dims[d] = t->shape[d];
    tp->has_data_type = 1;
    tp->data_type = (int32_t)t->dtype;
    size_t bytes = mec_tensor_bytes(t);
    tp->has_raw_data = 1;
    tp->raw_data.len = bytes;
    if (bytes == 0) {
        tp->raw_data.data = NULL;
    } else if (!t->data) {
        return mec_error(MEC_ERR_INVALID_ARG, "tensor '%s' has no data", name ? name : "");
    } else if (mec_tensor_is_contiguous(t)) {
        tp->raw_data.data = t->data; /* packing only reads it */
    } else {
        uint8_t *copy = mec_onnx_arena_alloc(a, bytes);
        if (!copy) return MEC_ERR_NOMEM;
        mec_tensor dst;
        mec_status st = mec_tensor_wrap(&dst, t->dtype, t->ndim, t->shape, copy);
        if (!st) st = mec_tensor_copy(&dst, t);
        if (st) return st;
        tp->raw_data.data = copy;
    }
    return MEC_OK;
}
