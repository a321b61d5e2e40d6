/* The zoo's graph-building context: sticky status, name ring, fast
 * deterministic weights (splitmix64-seeded xorshift64* streams per tensor
 * and chunk, Box-Muller normals), parameter accounting and metadata. */
#include "zoo_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

mec_status zb_begin(zb *b, const char *graph_name, uint64_t seed) {
    memset(b, 0, sizeof *b);
    b->seed = seed;
    b->last_node = -1;
    if (!graph_name) return MEC_OK;
    mec_status st = mec_graph_create(graph_name, &b->g);
    if (!st) st = mec_graph_set_opset(b->g, "", 17);
    if (!st) {
        b->g->ir_version = 8;
        b->g->producer_name = mec_strdup("mecbench-zoo");
        if (!b->g->producer_name) st = MEC_ERR_NOMEM;
    }
    b->st = st;
    return st;
}

static void append_list(zb *b, char **list, size_t *len, const char *value) {
    if (b->st || !b->g) return; /* count-only builds keep no lists */
    size_t add = strlen(value) + 1;
    char *grown = mec_realloc(*list, *len ? *len + 1 : 0, *len + add + 1);
    if (!grown) {
        b->st = MEC_ERR_NOMEM;
        return;
    }
    *list = grown;
    if (*len) grown[(*len)++] = ',';
    memcpy(grown + *len, value, add);
    *len += add - 1;
}

void zb_mark_stage(zb *b, const char *value) { append_list(b, &b->stages, &b->stages_len, value); }
void zb_mark_block(zb *b, const char *value) { append_list(b, &b->blocks, &b->blocks_len, value); }

mec_status zb_end(zb *b, mec_graph **out) {
    if (out) *out = NULL;
    if (b->g && !b->st) {
        zb_meta(b, "stage_outputs", b->stages ? b->stages : "");
        zb_meta(b, "block_outputs", b->blocks ? b->blocks : "");
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)b->params);
        zb_meta(b, "zoo.params", num);
        snprintf(num, sizeof num, "%lld", (long long)b->macs);
        zb_meta(b, "zoo.macs", num);
        snprintf(num, sizeof num, "%llu", (unsigned long long)b->seed);
        zb_meta(b, "zoo.seed", num);
    }
    if (b->g && !b->st) b->st = mec_graph_toposort(b->g);
    mec_status st = b->st;
    if (!st && b->g && out) {
        *out = b->g;
        b->g = NULL;
    }
    mec_graph_destroy(b->g);
    mec_free(b->stages);
    mec_free(b->blocks);
    b->g = NULL;
    b->stages = b->blocks = NULL;
    return st;
}

const char *zb_name(zb *b, const char *fmt, ...) {
    char *s = b->ring[b->ring_pos];
    b->ring_pos = (b->ring_pos + 1) % ZB_NAME_RING;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(s, ZB_NAME_MAX, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= ZB_NAME_MAX) {
        if (!b->st) b->st = mec_error(MEC_ERR_INTERNAL, "zoo: name too long: '%.64s...'", s);
    }
    return s;
}

/* ------------------------------------------------------------ randomness */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t fnv1a(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static uint64_t xorshift64s(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* 24 random bits as a float in [0, 1). */
static float unit01(uint64_t *s) { return (float)(xorshift64s(s) >> 40) * (1.0f / 16777216.0f); }

#define ZB_CHUNK ((int64_t)1 << 16)

static void fill_chunk(float *dst, int64_t n, uint64_t key, zb_init init, float a) {
    uint64_t sm = key, s = splitmix64(&sm);
    if (!s) s = 0x1234567ull;
    if (init == ZB_UNIFORM) {
        for (int64_t i = 0; i < n; i++) dst[i] = a * (2.0f * unit01(&s) - 1.0f);
        return;
    }
    /* Box-Muller in Marsaglia's polar form (no trigonometry): two normals
     * per accepted point of the unit disc */
    for (int64_t i = 0; i < n; i += 2) {
        float u, v, q;
        do {
            u = 2.0f * unit01(&s) - 1.0f;
            v = 2.0f * unit01(&s) - 1.0f;
            q = u * u + v * v;
        } while (q >= 1.0f || q == 0.0f);
        float r = a * sqrtf(-2.0f * logf(q) / q);
        dst[i] = r * u;
        if (i + 1 < n) dst[i + 1] = r * v;
    }
}

void zb_fill(float *dst, int64_t n, uint64_t seed, const char *name, zb_init init, float a) {
    switch (init) {
    case ZB_ZEROS: memset(dst, 0, (size_t)n * sizeof *dst); return;
    case ZB_ONES: a = 1.0f; /* fall through */
    case ZB_CONST:
        for (int64_t i = 0; i < n; i++) dst[i] = a;
        return;
    case ZB_NORMAL:
    case ZB_UNIFORM: break;
    }
    uint64_t base = seed ^ fnv1a(name);
    int64_t chunks = (n + ZB_CHUNK - 1) / ZB_CHUNK;
    /* chunks have their own streams, so the values do not depend on threads */
#pragma omp parallel for schedule(static) if (chunks > 4)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t off = c * ZB_CHUNK, len = n - off < ZB_CHUNK ? n - off : ZB_CHUNK;
        uint64_t key = base + 0x632be59bd9b4e019ull * (uint64_t)(c + 1);
        fill_chunk(dst + off, len, key, init, a);
    }
}

/* -------------------------------------------------------- initializers */

void zb_param(zb *b, const char *name, int ndim, const int64_t *shape, zb_init init, float a,
              bool trainable) {
    if (b->st) return;
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    if (trainable) b->params += n;
    if (!b->g) return;
    mec_tensor *t = NULL;
    if ((b->st = mec_tensor_create(&t, MEC_F32, ndim, shape))) return;
    zb_fill(t->data, n, b->seed, name, init, a);
    b->st = mec_graph_add_initializer(b->g, name, t, NULL);
}

/* A constant already added under this name is reused. */
static bool have_const(const zb *b, const char *name) {
    int v = mec_graph_find(b->g, name);
    return v >= 0 && b->g->values[v].init;
}

void zb_const_f32(zb *b, const char *name, float v) {
    if (b->st || !b->g || have_const(b, name)) return;
    mec_tensor *t = NULL;
    if ((b->st = mec_tensor_create(&t, MEC_F32, 0, NULL))) return;
    ((float *)t->data)[0] = v;
    b->st = mec_graph_add_initializer(b->g, name, t, NULL);
}

void zb_const_i64(zb *b, const char *name, int n, const int64_t *v) {
    if (b->st || !b->g || have_const(b, name)) return;
    mec_tensor *t = NULL;
    int64_t shape[1] = {n};
    if ((b->st = mec_tensor_create(&t, MEC_I64, n < 0 ? 0 : 1, shape))) return;
    memcpy(t->data, v, sizeof(int64_t) * (size_t)(n < 0 ? 1 : n));
    b->st = mec_graph_add_initializer(b->g, name, t, NULL);
}

/* ----------------------------------------------------------------- nodes */

const char *zb_node(zb *b, const char *op, const char *node_name, const char *out, int n_in,
                    const char *const *in) {
    if (b->st || !b->g) return zb_name(b, "%s", out); /* valid memory, not a graph name */
    const char *outs[1] = {out};
    b->st = mec_graph_add_node(b->g, op, "", node_name ? node_name : out, n_in, in, 1, outs,
                               &b->last_node);
    if (b->st) {
        mec_error_prefix(b->st, "zoo: node '%s' (%s): ", node_name ? node_name : out, op);
        return zb_name(b, "%s", out);
    }
    /* the graph's copy of the name outlives the ring buffers */
    return b->g->values[b->g->nodes[b->last_node].out[0]].name;
}

void zb_int(zb *b, const char *name, int64_t v) {
    if (!b->st && b->g) b->st = mec_node_set_int(b->g, b->last_node, name, v);
}

void zb_ints(zb *b, const char *name, int n, const int64_t *v) {
    if (!b->st && b->g) b->st = mec_node_set_ints(b->g, b->last_node, name, n, v);
}

void zb_float(zb *b, const char *name, float v) {
    if (!b->st && b->g) b->st = mec_node_set_float(b->g, b->last_node, name, v);
}

void zb_string(zb *b, const char *name, const char *v) {
    if (!b->st && b->g) b->st = mec_node_set_string(b->g, b->last_node, name, v);
}

void zb_meta(zb *b, const char *key, const char *value) {
    if (b->st || !b->g) return;
    mec_graph *g = b->g;
    for (int i = 0; i < g->n_meta; i++)
        if (!strcmp(g->meta_keys[i], key)) {
            char *v = mec_strdup(value);
            if (!v) {
                b->st = MEC_ERR_NOMEM;
                return;
            }
            mec_free(g->meta_values[i]);
            g->meta_values[i] = v;
            return;
        }
    size_t old = sizeof(char *) * (size_t)g->n_meta, grown = old + sizeof(char *);
    char **keys = mec_realloc(g->meta_keys, old, grown);
    if (!keys) {
        b->st = MEC_ERR_NOMEM;
        return;
    }
    g->meta_keys = keys;
    char **values = mec_realloc(g->meta_values, old, grown);
    if (!values) {
        b->st = MEC_ERR_NOMEM;
        return;
    }
    g->meta_values = values;
    char *k = mec_strdup(key), *v = mec_strdup(value);
    if (!k || !v) {
        mec_free(k);
        mec_free(v);
        b->st = MEC_ERR_NOMEM;
        return;
    }
    keys[g->n_meta] = k;
    values[g->n_meta] = v;
    g->n_meta++;
}

void zb_output(zb *b, const char *name, int ndim, const int64_t *dims, const char *const *dim_names) {
    if (b->st || !b->g) return;
    int id;
    if ((b->st = mec_graph_add_output(b->g, name, &id))) return;
    /* a typed output, as ONNX's checker and ONNX Runtime expect */
    mec_value *v = &b->g->values[id];
    v->dtype = MEC_F32;
    v->ndim = ndim;
    v->has_info = true;
    for (int d = 0; d < ndim; d++) {
        v->dims[d] = dims[d];
        if (dim_names[d] && !(v->dim_names[d] = mec_strdup(dim_names[d]))) b->st = MEC_ERR_NOMEM;
    }
}
