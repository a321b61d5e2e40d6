/* Checkpoints: parameters, BatchNorm buffers, optimiser state, step, epoch
 * and RNG state in one little-endian file, written atomically.
 *
 *   "MECCKPT\0" | u32 version | u32 optimiser | i64 step | i64 epoch | u64 rng
 *   | u32 count | count × entry | u64 FNV-1a of everything before it
 *   entry: u32 kind (0 param, 1 buffer, 2 moment m, 3 moment v) | u32 name length
 *          | name | u32 ndim | i64 dims[ndim] | float32 data
 */
#include "train_internal.h"

#include <inttypes.h>
#include <string.h>

#define CKPT_MAGIC "MECCKPT"
#define CKPT_VERSION 1u
#define CKPT_MAX_BYTES ((size_t)1 << 36)

enum { K_PARAM, K_BUFFER, K_M, K_V };

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    bool failed;
} wbuf;

static void put(wbuf *b, const void *src, size_t n) {
    if (b->failed) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *np = mec_realloc(b->p, b->cap, cap);
        if (!np) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}
static void put_u32(wbuf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(wbuf *b, uint64_t v) { put(b, &v, 8); }

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void put_entry(wbuf *b, uint32_t kind, const char *name, const mec_tensor *shape, const float *data) {
    size_t nl = strlen(name);
    put_u32(b, kind);
    put_u32(b, (uint32_t)nl);
    put(b, name, nl);
    put_u32(b, (uint32_t)shape->ndim);
    for (int d = 0; d < shape->ndim; d++) put_u64(b, (uint64_t)shape->shape[d]);
    put(b, data, (size_t)mec_tensor_numel(shape) * sizeof(float));
}

mec_status mec_train_save(const mec_trainer *t, const char *path) {
    wbuf b = {0};
    put(&b, CKPT_MAGIC, 8);
    put_u32(&b, CKPT_VERSION);
    put_u32(&b, (uint32_t)t->cfg.optim);
    put_u64(&b, (uint64_t)t->step);
    put_u64(&b, (uint64_t)t->epoch);
    put_u64(&b, t->rng);
    uint32_t count = (uint32_t)(t->n_params + t->n_buffers);
    for (int p = 0; p < t->n_params; p++) count += (t->opt_m[p] != NULL) + (t->opt_v[p] != NULL);
    put_u32(&b, count);
    const mec_graph *g = t->g;
    for (int p = 0; p < t->n_params; p++) {
        int v = t->param_val[p];
        const mec_tensor *w = g->values[v].init;
        put_entry(&b, K_PARAM, g->values[v].name, w, w->data);
        if (t->opt_m[p]) put_entry(&b, K_M, g->values[v].name, w, t->opt_m[p]);
        if (t->opt_v[p]) put_entry(&b, K_V, g->values[v].name, w, t->opt_v[p]);
    }
    for (int i = 0; i < t->n_buffers; i++) {
        int v = t->buffer_val[i];
        put_entry(&b, K_BUFFER, g->values[v].name, g->values[v].init, g->values[v].init->data);
    }
    if (!b.failed) put_u64(&b, fnv1a(b.p, b.len));
    if (b.failed) {
        mec_free(b.p);
        return mec_error(MEC_ERR_NOMEM, "%s: out of memory while writing the checkpoint", path);
    }
    mec_status st = mec_file_write_atomic(path, b.p, b.len);
    mec_free(b.p);
    return st ? mec_error_prefix(st, "%s: ", path) : MEC_OK;
}

typedef struct rbuf {
    const uint8_t *p;
    size_t len, at;
} rbuf;

static bool get(rbuf *r, void *dst, size_t n) {
    if (r->len - r->at < n) return false;
    memcpy(dst, r->p + r->at, n);
    r->at += n;
    return true;
}

/* Finds the value named name[0..nl) among parameters/buffers. */
static int find_slot(const mec_trainer *t, uint32_t kind, const char *name, uint32_t nl, int *param) {
    const mec_graph *g = t->g;
    *param = -1;
    if (kind == K_BUFFER) {
        for (int i = 0; i < t->n_buffers; i++) {
            const char *s = g->values[t->buffer_val[i]].name;
            if (strlen(s) == nl && !memcmp(s, name, nl)) return t->buffer_val[i];
        }
        return -1;
    }
    for (int p = 0; p < t->n_params; p++) {
        const char *s = g->values[t->param_val[p]].name;
        if (strlen(s) == nl && !memcmp(s, name, nl)) {
            *param = p;
            return t->param_val[p];
        }
    }
    return -1;
}

mec_status mec_train_load(mec_trainer *t, const char *path) {
    void *data = NULL;
    size_t len = 0;
    mec_status st = mec_file_read(path, CKPT_MAX_BYTES, &data, &len);
    if (st) return st;
    rbuf r = {data, len, 0};
    char magic[8];
    uint32_t version, optim, count;
    uint64_t step, epoch, rng, sum;
    if (len < 8 + 4 + 4 + 24 + 4 + 8 || !get(&r, magic, 8) || memcmp(magic, CKPT_MAGIC, 8)) {
        st = mec_error(MEC_ERR_PARSE, "%s: not a mecbench checkpoint (bad magic)", path);
        goto done;
    }
    memcpy(&sum, (const uint8_t *)data + len - 8, 8);
    if (sum != fnv1a(data, len - 8)) {
        st = mec_error(MEC_ERR_PARSE, "%s: checksum mismatch (truncated or corrupted)", path);
        goto done;
    }
    r.len = len - 8;
    get(&r, &version, 4);
    if (version != CKPT_VERSION) {
        st = mec_error(MEC_ERR_UNSUPPORTED, "%s: checkpoint version %u, this build reads %u", path, version, CKPT_VERSION);
        goto done;
    }
    get(&r, &optim, 4);
    get(&r, &step, 8);
    get(&r, &epoch, 8);
    get(&r, &rng, 8);
    if (!get(&r, &count, 4)) {
        st = mec_error(MEC_ERR_PARSE, "%s: truncated header", path);
        goto done;
    }
    if (optim != (uint32_t)t->cfg.optim) {
        st = mec_error(MEC_ERR_INVALID_ARG, "%s: written with optimiser %u, the trainer uses %d", path, optim, (int)t->cfg.optim);
        goto done;
    }
    /* validate every entry before changing anything */
    for (int pass = 0; pass < 2; pass++) {
        r.at = 8 + 4 + 4 + 24 + 4;
        int params_seen = 0;
        if (pass == 1) /* state the file does not hold starts from zero */
            for (int p = 0; p < t->n_params; p++) {
                mec_free(t->opt_m[p]);
                mec_free(t->opt_v[p]);
                t->opt_m[p] = t->opt_v[p] = NULL;
            }
        for (uint32_t e = 0; e < count; e++) {
            uint32_t kind, nl, ndim;
            if (!get(&r, &kind, 4) || !get(&r, &nl, 4) || kind > K_V || nl > r.len - r.at) {
                st = mec_error(MEC_ERR_PARSE, "%s: entry %u is malformed", path, e);
                goto done;
            }
            const char *name = (const char *)r.p + r.at;
            r.at += nl;
            int64_t dims[MEC_MAX_DIMS];
            if (!get(&r, &ndim, 4) || ndim > MEC_MAX_DIMS) {
                st = mec_error(MEC_ERR_PARSE, "%s: entry '%.*s' has a bad rank", path, (int)nl, name);
                goto done;
            }
            for (uint32_t d = 0; d < ndim; d++)
                if (!get(&r, &dims[d], 8)) {
                    st = mec_error(MEC_ERR_PARSE, "%s: entry '%.*s' is truncated", path, (int)nl, name);
                    goto done;
                }
            int p;
            int v = find_slot(t, kind, name, nl, &p);
            if (v < 0) {
                st = mec_error(MEC_ERR_NOT_FOUND, "%s: '%.*s' is not a %s of this model", path, (int)nl, name,
                               kind == K_BUFFER ? "buffer" : "parameter");
                goto done;
            }
            mec_tensor *w = t->g->values[v].init;
            bool same = (int)ndim == w->ndim;
            for (int d = 0; d < w->ndim && same; d++) same = dims[d] == w->shape[d];
            size_t bytes = (size_t)mec_tensor_numel(w) * sizeof(float);
            if (!same || r.len - r.at < bytes) {
                char a[160];
                st = mec_error(MEC_ERR_SHAPE, "%s: '%.*s' does not match the model's %s", path, (int)nl, name,
                               mec_shape_str(w->ndim, w->shape, a, sizeof a));
                goto done;
            }
            const uint8_t *src = r.p + r.at;
            r.at += bytes;
            if (kind == K_PARAM) params_seen++;
            if (pass == 0) continue;
            float **slot = kind == K_M ? &t->opt_m[p] : kind == K_V ? &t->opt_v[p] : NULL;
            float *dst = w->data;
            if (slot) {
                if (!*slot && !(*slot = mec_malloc(bytes))) {
                    st = MEC_ERR_NOMEM;
                    goto done;
                }
                dst = *slot;
            }
            memcpy(dst, src, bytes);
        }
        if (pass == 0 && params_seen != t->n_params) {
            st = mec_error(MEC_ERR_INVALID_ARG, "%s: holds %d parameters, the model has %d", path, params_seen, t->n_params);
            goto done;
        }
    }
    t->step = (int64_t)step;
    t->epoch = (int64_t)epoch;
    t->rng = rng;
done:
    mec_free(data);
    return st;
}
