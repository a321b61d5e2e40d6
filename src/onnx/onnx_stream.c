/* Streaming read of large ONNX files: the weights are read from the file
 * straight into their tensors, once, and never sit in memory twice.
 *
 * protobuf-c unpacks a whole message at a time and copies every bytes field,
 * so a model parsed in one piece costs the file plus a copy of its weights.
 * Instead we walk the wire format ourselves: the ModelProto is copied into a
 * small "skeleton" without its large initializers (the graph's field 5), each
 * of those is unpacked on its own without its raw_data (field 9), and the
 * raw_data is pread() into the tensor's aligned storage. The skeleton then
 * goes through the ordinary loader, which adds the streamed tensors. Any
 * layout this reader does not expect makes it step aside (handled = false)
 * and the whole-file path parses the file and reports what is wrong. */
#define _POSIX_C_SOURCE 200809L
#include "onnx_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define STREAM_MIN_BYTES (64u << 10) /* initializers larger than this are streamed */
#define WIN_BYTES (64u << 10)

enum { MODEL_GRAPH = 7, GRAPH_INITIALIZER = 5, TENSOR_RAW_DATA = 9 };

typedef struct reader {
    int fd;
    uint64_t size;
    uint8_t *win; /* a read window, for tags and small fields */
    uint64_t win_off;
    size_t win_len;
} reader;

typedef struct bytes {
    uint8_t *data;
    size_t len, cap;
} bytes;

static bool rd_at(reader *r, uint64_t off, size_t n, void *out) {
    if (off > r->size || n > r->size - off) return false;
    if (off >= r->win_off && off + n <= r->win_off + r->win_len) {
        memcpy(out, r->win + (off - r->win_off), n);
        return true;
    }
    if (n > WIN_BYTES / 2) {
        size_t done = 0;
        while (done < n) {
            ssize_t k = pread(r->fd, (uint8_t *)out + done, n - done, (off_t)(off + done));
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) return false;
            done += (size_t)k;
        }
        return true;
    }
    size_t want = off + WIN_BYTES <= r->size ? WIN_BYTES : (size_t)(r->size - off);
    size_t got = 0;
    while (got < want) {
        ssize_t k = pread(r->fd, r->win + got, want - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return false;
        got += (size_t)k;
    }
    r->win_off = off;
    r->win_len = got;
    memcpy(out, r->win, n);
    return true;
}

static bool rd_varint(reader *r, uint64_t *off, uint64_t end, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b;
        if (*off >= end || !rd_at(r, *off, 1, &b)) return false;
        (*off)++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

static bool put(bytes *b, const void *p, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *nd = mec_realloc(b->data, b->len, cap);
        if (!nd) return false;
        b->data = nd;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return true;
}

static bool put_varint(bytes *b, uint64_t v) {
    uint8_t tmp[10];
    int n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) tmp[n] |= 0x80;
        n++;
    } while (v);
    return put(b, tmp, (size_t)n);
}

/* Copies file bytes [off, off+n) to b. */
static bool copy_range(reader *r, bytes *b, uint64_t off, uint64_t n) {
    uint8_t chunk[4096];
    while (n) {
        size_t k = n < sizeof chunk ? (size_t)n : sizeof chunk;
        if (!rd_at(r, off, k, chunk) || !put(b, chunk, k)) return false;
        off += k;
        n -= k;
    }
    return true;
}

typedef struct field {
    uint64_t start, tag, field, wire, body, len; /* body: offset of the payload */
} field;

/* Reads the field at *off (within end); *off moves past it. */
static bool next_field(reader *r, uint64_t *off, uint64_t end, field *f) {
    f->start = *off;
    if (!rd_varint(r, off, end, &f->tag)) return false;
    f->field = f->tag >> 3;
    f->wire = f->tag & 7;
    switch (f->wire) {
    case 0: {
        uint64_t v;
        f->body = *off;
        if (!rd_varint(r, off, end, &v)) return false;
        f->len = *off - f->body;
        return true;
    }
    case 1: f->len = 8; break;
    case 5: f->len = 4; break;
    case 2:
        if (!rd_varint(r, off, end, &f->len)) return false;
        break;
    default: return false; /* groups: leave it to protobuf-c */
    }
    f->body = *off;
    if (f->len > end - *off) return false;
    *off += f->len;
    return true;
}

/* One big initializer: its TensorProto without raw_data, unpacked, and the
 * raw_data pread into an aligned tensor. */
static mec_status stream_tensor(reader *r, uint64_t off, uint64_t len, const char *label,
                                mec_onnx_streamed *out, bool *handled) {
    bytes mini = {0};
    uint64_t end = off + len, raw_off = 0, raw_len = 0;
    bool has_raw = false;
    mec_status st = MEC_OK;
    while (off < end) {
        field f;
        if (!next_field(r, &off, end, &f)) {
            *handled = false;
            goto out;
        }
        if (f.field == TENSOR_RAW_DATA && f.wire == 2) {
            raw_off = f.body;
            raw_len = f.len;
            has_raw = true;
        } else if (!copy_range(r, &mini, f.start, off - f.start)) {
            st = MEC_ERR_NOMEM;
            goto out;
        }
    }
    if (!has_raw) { /* typed data: small enough to go the ordinary way */
        *handled = false;
        goto out;
    }
    mec_onnx_pb_alloc_reset();
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(mec_onnx_pb_allocator(), mini.len, mini.data);
    if (!tp) {
        if (mec_onnx_pb_alloc_failed()) st = mec_error(MEC_ERR_NOMEM, "%s: out of memory", label);
        else *handled = false;
        goto out;
    }
    char what[300];
    snprintf(what, sizeof what, "initializer '%s'", tp->name ? tp->name : "");
    mec_dtype dtype = tp->data_type > 0 && tp->data_type < MEC_DTYPE_MAX ? (mec_dtype)tp->data_type
                                                                          : MEC_UNDEFINED;
    size_t esize = mec_dtype_size(dtype);
    mec_tensor *t = NULL;
    if (!tp->name || !*tp->name || !esize || tp->n_dims > MEC_MAX_DIMS || tp->segment ||
        (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)) {
        *handled = false; /* unusual: the whole-file path will say what is wrong */
    } else if (!(t = mec_calloc(1, sizeof *t))) {
        st = MEC_ERR_NOMEM;
    } else if ((st = mec_tensor_init(t, dtype, (int)tp->n_dims, tp->dims))) {
        mec_error_prefix(st, "%s: %s: dims: ", label, what);
    } else if (mec_tensor_bytes(t) != raw_len) {
        char shape[160];
        st = mec_error(MEC_ERR_PARSE, "%s: %s: raw_data has %llu bytes, expected %zu for %s %s",
                       label, what, (unsigned long long)raw_len, mec_tensor_bytes(t),
                       mec_dtype_name(dtype), mec_shape_str(t->ndim, t->shape, shape, sizeof shape));
    } else if (!(t->owned = mec_malloc(raw_len))) {
        st = mec_error_prefix(MEC_ERR_NOMEM, "%s: %s: ", label, what);
    } else {
        t->data = t->owned;
        t->capacity = raw_len;
        if (!rd_at(r, raw_off, raw_len, t->data))
            st = mec_error(MEC_ERR_IO, "%s: %s: read failed: %s", label, what, strerror(errno));
    }
    if (!st && *handled) {
        out->name = mec_strdup(tp->name);
        if (!out->name) st = MEC_ERR_NOMEM;
    }
    if (st || !*handled) mec_tensor_destroy(t);
    else out->tensor = t;
    onnx__tensor_proto__free_unpacked(tp, mec_onnx_pb_allocator());
out:
    mec_free(mini.data);
    return st;
}

void mec_onnx_streamed_free(mec_onnx_streamed *s, int n) {
    for (int i = 0; i < n && s; i++) {
        mec_free(s[i].name);
        mec_tensor_destroy(s[i].tensor);
    }
    mec_free(s);
}

mec_status mec_onnx_stream_split(int fd, uint64_t size, const char *label, void **skeleton,
                                 size_t *skeleton_len, mec_onnx_streamed **streamed, int *n_streamed,
                                 bool *handled) {
    *skeleton = NULL;
    *skeleton_len = 0;
    *streamed = NULL;
    *n_streamed = 0;
    *handled = true;
    reader r = {fd, size, mec_malloc(WIN_BYTES), (uint64_t)-1, 0};
    bytes model = {0}, graph = {0};
    mec_onnx_streamed *list = NULL;
    int n = 0, cap = 0;
    bool seen_graph = false;
    mec_status st = MEC_OK;
    if (!r.win) return MEC_ERR_NOMEM;
    uint64_t off = 0;
    while (!st && *handled && off < size) {
        field f;
        if (!next_field(&r, &off, size, &f)) {
            *handled = false;
            break;
        }
        if (f.field != MODEL_GRAPH || f.wire != 2) {
            if (!copy_range(&r, &model, f.start, off - f.start)) st = MEC_ERR_NOMEM;
            continue;
        }
        if (seen_graph) { /* repeated message fields merge: not for us */
            *handled = false;
            break;
        }
        seen_graph = true;
        uint64_t goff = f.body, gend = f.body + f.len;
        while (!st && *handled && goff < gend) {
            field gf;
            if (!next_field(&r, &goff, gend, &gf)) {
                *handled = false;
                break;
            }
            if (gf.field == GRAPH_INITIALIZER && gf.wire == 2 && gf.len >= STREAM_MIN_BYTES) {
                if (n == cap) {
                    int nc = cap ? cap * 2 : 64;
                    mec_onnx_streamed *nl = mec_realloc(list, sizeof *list * (size_t)cap,
                                                        sizeof *list * (size_t)nc);
                    if (!nl) {
                        st = MEC_ERR_NOMEM;
                        break;
                    }
                    list = nl;
                    cap = nc;
                }
                memset(&list[n], 0, sizeof list[n]);
                st = stream_tensor(&r, gf.body, gf.len, label, &list[n], handled);
                if (!st && *handled) n++;
            } else if (!copy_range(&r, &graph, gf.start, goff - gf.start)) {
                st = MEC_ERR_NOMEM;
            }
        }
        if (!st && *handled) {
            uint64_t tag = (MODEL_GRAPH << 3) | 2;
            if (!put_varint(&model, tag) || !put_varint(&model, graph.len) ||
                (graph.len && !put(&model, graph.data, graph.len)))
                st = MEC_ERR_NOMEM;
        }
    }
    mec_free(r.win);
    mec_free(graph.data);
    if (st || !*handled || !n) {
        /* nothing worth streaming, or not a layout for us */
        if (!st && !n) *handled = false;
        mec_free(model.data);
        mec_onnx_streamed_free(list, n);
        if (st == MEC_ERR_NOMEM && !strstr(mec_last_error(), "memory"))
            mec_error(st, "%s: out of memory", label);
        return st;
    }
    *skeleton = model.data;
    *skeleton_len = model.len;
    *streamed = list;
    *n_streamed = n;
    return MEC_OK;
}
