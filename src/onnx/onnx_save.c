/* ONNX writer: mec_graph -> ModelProto (all messages in one arena), packed
 * and written atomically; big tensors optionally go to an external data file
 * beside the model. */
#define _POSIX_C_SOURCE 200809L
#include "onnx_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Offsets of tensors in the external data file are multiples of this. */
#define EXT_ALIGN 64

typedef struct save_ctx {
    mec_onnx_arena arena;
    size_t threshold;      /* external data above this many bytes; 0 = never */
    const char *ext_name;  /* file name recorded as "location" */
    const char *ext_final; /* path the data file is renamed to */
    char *ext_tmp;         /* temporary path while writing */
    int ext_fd;            /* -1 until the first external tensor */
    uint64_t ext_off;
} save_ctx;

/* A new message in the arena, copied from its protobuf-c INIT value. */
static void *new_msg(save_ctx *ctx, size_t size, const void *init) {
    void *p = mec_onnx_arena_alloc(&ctx->arena, size);
    if (p) memcpy(p, init, size);
    return p;
}
#define NEW(ctx, type, init_macro) ((type *)new_msg((ctx), sizeof(type), &(type)init_macro))

/* Zeroed array of n pointers/elements (at least one slot). */
static void *new_array(save_ctx *ctx, size_t n, size_t size) {
    size_t bytes;
    if (!mec_size_mul(n ? n : 1, size, &bytes)) return NULL;
    return mec_onnx_arena_alloc(&ctx->arena, bytes);
}

static char *sdup(save_ctx *ctx, const char *s) { return mec_onnx_arena_strdup(&ctx->arena, s); }

/* --------------------------------------------------------- external data */

static mec_status write_all(int fd, const void *data, size_t len) {
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return MEC_ERR_IO;
        p += w;
        len -= (size_t)w;
    }
    return MEC_OK;
}

static mec_status ext_write(save_ctx *ctx, Onnx__TensorProto *tp, const char *name) {
    if (ctx->ext_fd < 0) {
        size_t n = strlen(ctx->ext_final) + 16;
        ctx->ext_tmp = mec_malloc(n);
        if (!ctx->ext_tmp) return MEC_ERR_NOMEM;
        snprintf(ctx->ext_tmp, n, "%s.tmp.XXXXXX", ctx->ext_final);
        ctx->ext_fd = mkstemp(ctx->ext_tmp);
        if (ctx->ext_fd < 0) {
            mec_status st = mec_error(MEC_ERR_IO, "%s: cannot create: %s", ctx->ext_final,
                                      strerror(errno));
            mec_free(ctx->ext_tmp);
            ctx->ext_tmp = NULL;
            return st;
        }
    }
    static const uint8_t zeros[EXT_ALIGN];
    size_t pad = (size_t)((EXT_ALIGN - ctx->ext_off % EXT_ALIGN) % EXT_ALIGN);
    if (write_all(ctx->ext_fd, zeros, pad) || write_all(ctx->ext_fd, tp->raw_data.data,
                                                        tp->raw_data.len))
        return mec_error(MEC_ERR_IO, "%s: write failed for tensor '%s': %s", ctx->ext_final, name,
                         strerror(errno));
    ctx->ext_off += pad;
    char off[32], len[32];
    snprintf(off, sizeof off, "%" PRIu64, ctx->ext_off);
    snprintf(len, sizeof len, "%zu", tp->raw_data.len);
    ctx->ext_off += tp->raw_data.len;
    const char *keys[3] = {"location", "offset", "length"};
    const char *vals[3] = {ctx->ext_name, off, len};
    tp->external_data = new_array(ctx, 3, sizeof(Onnx__StringStringEntryProto *));
    if (!tp->external_data) return MEC_ERR_NOMEM;
    for (int i = 0; i < 3; i++) {
        Onnx__StringStringEntryProto *e =
            NEW(ctx, Onnx__StringStringEntryProto, ONNX__STRING_STRING_ENTRY_PROTO__INIT);
        if (!e || !(e->key = sdup(ctx, keys[i])) || !(e->value = sdup(ctx, vals[i])))
            return MEC_ERR_NOMEM;
        tp->external_data[i] = e;
    }
    tp->n_external_data = 3;
    tp->has_data_location = 1;
    tp->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    tp->has_raw_data = 0;
    tp->raw_data.len = 0;
    tp->raw_data.data = NULL;
    return MEC_OK;
}

static mec_status ext_finish(save_ctx *ctx) {
    if (ctx->ext_fd < 0) return MEC_OK;
    int ok = fsync(ctx->ext_fd) == 0;
    ok = close(ctx->ext_fd) == 0 && ok;
    ctx->ext_fd = -1;
    if (ok) chmod(ctx->ext_tmp, 0644);
    if (!ok || rename(ctx->ext_tmp, ctx->ext_final) != 0) {
        mec_status st = mec_error(MEC_ERR_IO, "%s: write failed: %s", ctx->ext_final,
                                  strerror(errno));
        unlink(ctx->ext_tmp);
        return st;
    }
    mec_free(ctx->ext_tmp);
    ctx->ext_tmp = NULL;
    return MEC_OK;
}

static void ext_abort(save_ctx *ctx) {
    if (ctx->ext_fd >= 0) close(ctx->ext_fd);
    if (ctx->ext_tmp) unlink(ctx->ext_tmp);
    mec_free(ctx->ext_tmp);
    ctx->ext_fd = -1;
    ctx->ext_tmp = NULL;
}

/* ------------------------------------------------------------ messages */

static mec_status build_graph(save_ctx *ctx, const mec_graph *g, Onnx__GraphProto *gp,
                              bool top);

static Onnx__TensorProto *tensor_msg(save_ctx *ctx, const mec_tensor *t, const char *name,
                                     mec_status *st) {
    Onnx__TensorProto *tp = NEW(ctx, Onnx__TensorProto, ONNX__TENSOR_PROTO__INIT);
    if (!tp) {
        *st = MEC_ERR_NOMEM;
        return NULL;
    }
    *st = mec_onnx_tensor_to_proto(&ctx->arena, t, name, tp);
    return *st ? NULL : tp;
}

/* A ValueInfoProto with the type and shape we know (none when unknown). */
static Onnx__ValueInfoProto *value_info_msg(save_ctx *ctx, const char *name, mec_dtype dtype,
                                            int ndim, const int64_t *dims,
                                            char *const *dim_names) {
    Onnx__ValueInfoProto *vi = NEW(ctx, Onnx__ValueInfoProto, ONNX__VALUE_INFO_PROTO__INIT);
    if (!vi || !(vi->name = sdup(ctx, name))) return NULL;
    if (dtype == MEC_UNDEFINED && ndim < 0) return vi;
    Onnx__TypeProto *type = NEW(ctx, Onnx__TypeProto, ONNX__TYPE_PROTO__INIT);
    Onnx__TypeProto__Tensor *tt =
        NEW(ctx, Onnx__TypeProto__Tensor, ONNX__TYPE_PROTO__TENSOR__INIT);
    if (!type || !tt) return NULL;
    type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type->tensor_type = tt;
    vi->type = type;
    if (dtype != MEC_UNDEFINED) {
        tt->has_elem_type = 1;
        tt->elem_type = (int32_t)dtype;
    }
    if (ndim < 0) return vi;
    Onnx__TensorShapeProto *shape = NEW(ctx, Onnx__TensorShapeProto, ONNX__TENSOR_SHAPE_PROTO__INIT);
    if (!shape) return NULL;
    shape->dim = new_array(ctx, (size_t)ndim, sizeof(Onnx__TensorShapeProto__Dimension *));
    if (!shape->dim) return NULL;
    for (int d = 0; d < ndim; d++) {
        Onnx__TensorShapeProto__Dimension *dim = NEW(ctx, Onnx__TensorShapeProto__Dimension,
                                                     ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT);
        if (!dim) return NULL;
        if (dims[d] >= 0) {
            dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dim->dim_value = dims[d];
        } else if (dim_names && dim_names[d]) {
            dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            if (!(dim->dim_param = sdup(ctx, dim_names[d]))) return NULL;
        }
        shape->dim[d] = dim;
    }
    shape->n_dim = (size_t)ndim;
    tt->shape = shape;
    return vi;
}

static Onnx__ValueInfoProto *value_msg(save_ctx *ctx, const mec_value *v) {
    return value_info_msg(ctx, v->name, v->dtype, v->ndim, v->dims, v->dim_names);
}

static mec_status attr_msg(save_ctx *ctx, const mec_attr *a, Onnx__AttributeProto *ap) {
    mec_status st = MEC_OK;
    if (!(ap->name = sdup(ctx, a->name))) return MEC_ERR_NOMEM;
    ap->has_type = 1;
    ap->type = (Onnx__AttributeProto__AttributeType)a->type;
    size_t n = a->n > 0 ? (size_t)a->n : 0;
    switch (a->type) {
    case MEC_ATTR_FLOAT: ap->has_f = 1; ap->f = a->f; break;
    case MEC_ATTR_INT: ap->has_i = 1; ap->i = a->i; break;
    case MEC_ATTR_STRING:
        ap->has_s = 1;
        ap->s.len = a->s ? a->s_len : 0;
        ap->s.data = (uint8_t *)a->s;
        break;
    case MEC_ATTR_TENSOR:
        if (!a->t) return mec_error(MEC_ERR_INVALID_ARG, "attribute '%s' has no tensor", a->name);
        ap->t = tensor_msg(ctx, a->t, NULL, &st);
        break;
    case MEC_ATTR_GRAPH:
        if (!a->g) return mec_error(MEC_ERR_INVALID_ARG, "attribute '%s' has no graph", a->name);
        if (!(ap->g = NEW(ctx, Onnx__GraphProto, ONNX__GRAPH_PROTO__INIT))) return MEC_ERR_NOMEM;
        st = build_graph(ctx, a->g, ap->g, false);
        break;
    case MEC_ATTR_FLOATS:
        ap->n_floats = n;
        ap->floats = a->floats;
        break;
    case MEC_ATTR_INTS:
        ap->n_ints = n;
        ap->ints = a->ints;
        break;
    case MEC_ATTR_STRINGS:
        if (!(ap->strings = new_array(ctx, n, sizeof(ProtobufCBinaryData)))) return MEC_ERR_NOMEM;
        for (size_t k = 0; k < n; k++) {
            ap->strings[k].data = (uint8_t *)a->strings[k];
            ap->strings[k].len = a->strings[k] ? strlen(a->strings[k]) : 0;
        }
        ap->n_strings = n;
        break;
    case MEC_ATTR_TENSORS:
        if (!(ap->tensors = new_array(ctx, n, sizeof(Onnx__TensorProto *)))) return MEC_ERR_NOMEM;
        for (size_t k = 0; k < n && !st; k++) ap->tensors[k] = tensor_msg(ctx, a->tensors[k], NULL, &st);
        ap->n_tensors = n;
        break;
    case MEC_ATTR_GRAPHS:
        if (!(ap->graphs = new_array(ctx, n, sizeof(Onnx__GraphProto *)))) return MEC_ERR_NOMEM;
        for (size_t k = 0; k < n && !st; k++) {
            if (!(ap->graphs[k] = NEW(ctx, Onnx__GraphProto, ONNX__GRAPH_PROTO__INIT)))
                return MEC_ERR_NOMEM;
            st = build_graph(ctx, a->graphs[k], ap->graphs[k], false);
        }
        ap->n_graphs = n;
        break;
    default:
        return mec_error(MEC_ERR_INVALID_ARG, "attribute '%s' has unknown type %d", a->name,
                         (int)a->type);
    }
    if (st) return mec_error_prefix(st, "attribute '%s': ", a->name);
    return MEC_OK;
}

static mec_status node_msg(save_ctx *ctx, const mec_graph *g, int id, Onnx__NodeProto *np) {
    const mec_node *n = &g->nodes[id];
    if (!(np->op_type = sdup(ctx, n->op_type))) return MEC_ERR_NOMEM;
    if (n->name && *n->name && !(np->name = sdup(ctx, n->name))) return MEC_ERR_NOMEM;
    if (n->domain && *n->domain && !(np->domain = sdup(ctx, n->domain))) return MEC_ERR_NOMEM;
    if (n->doc && *n->doc && !(np->doc_string = sdup(ctx, n->doc))) return MEC_ERR_NOMEM;
    np->input = new_array(ctx, (size_t)n->n_in, sizeof(char *));
    np->output = new_array(ctx, (size_t)n->n_out, sizeof(char *));
    np->attribute = new_array(ctx, (size_t)n->n_attr, sizeof(Onnx__AttributeProto *));
    if (!np->input || !np->output || !np->attribute) return MEC_ERR_NOMEM;
    for (int k = 0; k < n->n_in; k++)
        if (!(np->input[k] = sdup(ctx, n->in[k] >= 0 ? g->values[n->in[k]].name : "")))
            return MEC_ERR_NOMEM;
    for (int k = 0; k < n->n_out; k++)
        if (!(np->output[k] = sdup(ctx, n->out[k] >= 0 ? g->values[n->out[k]].name : "")))
            return MEC_ERR_NOMEM;
    np->n_input = (size_t)n->n_in;
    np->n_output = (size_t)n->n_out;
    for (int k = 0; k < n->n_attr; k++) {
        Onnx__AttributeProto *ap = NEW(ctx, Onnx__AttributeProto, ONNX__ATTRIBUTE_PROTO__INIT);
        if (!ap) return MEC_ERR_NOMEM;
        mec_status st = attr_msg(ctx, &n->attrs[k], ap);
        if (st) {
            char label[300];
            return mec_error_prefix(st, "node %s: ", mec_node_label(g, id, label, sizeof label));
        }
        np->attribute[k] = ap;
        np->n_attribute = (size_t)k + 1;
    }
    return MEC_OK;
}

static mec_status build_graph(save_ctx *ctx, const mec_graph *g, Onnx__GraphProto *gp,
                              bool top) {
    mec_status st = MEC_OK;
    if (!(gp->name = sdup(ctx, g->name ? g->name : "graph"))) return MEC_ERR_NOMEM;
    /* nodes */
    gp->node = new_array(ctx, (size_t)g->n_nodes, sizeof(Onnx__NodeProto *));
    if (!gp->node) return MEC_ERR_NOMEM;
    for (int i = 0; i < g->n_nodes; i++) {
        Onnx__NodeProto *np = NEW(ctx, Onnx__NodeProto, ONNX__NODE_PROTO__INIT);
        if (!np) return MEC_ERR_NOMEM;
        if ((st = node_msg(ctx, g, i, np))) return st;
        gp->node[i] = np;
    }
    gp->n_node = (size_t)g->n_nodes;
    /* initializers (and, for IR < 4, their listing as inputs) */
    size_t n_init = 0;
    for (int v = 0; v < g->n_values; v++) n_init += g->values[v].init != NULL;
    bool init_as_inputs = g->ir_version > 0 && g->ir_version < 4;
    gp->initializer = new_array(ctx, n_init, sizeof(Onnx__TensorProto *));
    gp->input = new_array(ctx, (size_t)g->n_inputs + (init_as_inputs ? n_init : 0),
                          sizeof(Onnx__ValueInfoProto *));
    if (!gp->initializer || !gp->input) return MEC_ERR_NOMEM;
    for (int i = 0; i < g->n_inputs; i++)
        if (!(gp->input[gp->n_input++] = value_msg(ctx, &g->values[g->inputs[i]])))
            return MEC_ERR_NOMEM;
    for (int v = 0; v < g->n_values; v++) {
        const mec_value *val = &g->values[v];
        if (!val->init) continue;
        Onnx__TensorProto *tp = tensor_msg(ctx, val->init, val->name, &st);
        if (!tp) return mec_error_prefix(st, "initializer '%s': ", val->name);
        if (ctx->threshold && tp->raw_data.len > ctx->threshold &&
            (st = ext_write(ctx, tp, val->name)))
            return st;
        gp->initializer[gp->n_initializer++] = tp;
        if (init_as_inputs && !val->is_input) {
            const mec_tensor *t = val->init;
            if (!(gp->input[gp->n_input++] =
                      value_info_msg(ctx, val->name, t->dtype, t->ndim, t->shape, NULL)))
                return MEC_ERR_NOMEM;
        }
    }
    /* outputs */
    gp->output = new_array(ctx, (size_t)g->n_outputs, sizeof(Onnx__ValueInfoProto *));
    if (!gp->output) return MEC_ERR_NOMEM;
    for (int i = 0; i < g->n_outputs; i++)
        if (!(gp->output[gp->n_output++] = value_msg(ctx, &g->values[g->outputs[i]])))
            return MEC_ERR_NOMEM;
    /* value_info for the other values whose type was declared */
    size_t n_vi = 0;
    for (int v = 0; v < g->n_values; v++) {
        const mec_value *val = &g->values[v];
        n_vi += val->has_info && !val->is_input && !val->is_output;
    }
    gp->value_info = new_array(ctx, n_vi, sizeof(Onnx__ValueInfoProto *));
    if (!gp->value_info) return MEC_ERR_NOMEM;
    for (int v = 0; v < g->n_values; v++) {
        const mec_value *val = &g->values[v];
        if (!val->has_info || val->is_input || val->is_output) continue;
        if (!(gp->value_info[gp->n_value_info++] = value_msg(ctx, val))) return MEC_ERR_NOMEM;
    }
    if (top && g->doc && *g->doc && !(gp->doc_string = sdup(ctx, g->doc))) return MEC_ERR_NOMEM;
    return MEC_OK;
}

static mec_status build_model(save_ctx *ctx, const mec_graph *g, Onnx__ModelProto *mp) {
    mp->has_ir_version = 1;
    mp->ir_version = g->ir_version > 0 ? g->ir_version : 8;
    if (g->model_version) {
        mp->has_model_version = 1;
        mp->model_version = g->model_version;
    }
    if ((g->producer_name && !(mp->producer_name = sdup(ctx, g->producer_name))) ||
        (g->producer_version && !(mp->producer_version = sdup(ctx, g->producer_version))) ||
        (g->model_domain && !(mp->domain = sdup(ctx, g->model_domain))))
        return MEC_ERR_NOMEM;
    mp->opset_import = new_array(ctx, (size_t)g->n_opsets, sizeof(Onnx__OperatorSetIdProto *));
    mp->metadata_props = new_array(ctx, (size_t)g->n_meta, sizeof(Onnx__StringStringEntryProto *));
    if (!mp->opset_import || !mp->metadata_props) return MEC_ERR_NOMEM;
    for (int i = 0; i < g->n_opsets; i++) {
        Onnx__OperatorSetIdProto *op =
            NEW(ctx, Onnx__OperatorSetIdProto, ONNX__OPERATOR_SET_ID_PROTO__INIT);
        if (!op || !(op->domain = sdup(ctx, g->opsets[i].domain))) return MEC_ERR_NOMEM;
        op->has_version = 1;
        op->version = g->opsets[i].version;
        mp->opset_import[mp->n_opset_import++] = op;
    }
    for (int i = 0; i < g->n_meta; i++) {
        Onnx__StringStringEntryProto *e =
            NEW(ctx, Onnx__StringStringEntryProto, ONNX__STRING_STRING_ENTRY_PROTO__INIT);
        if (!e || !(e->key = sdup(ctx, g->meta_keys[i])) || !(e->value = sdup(ctx, g->meta_values[i])))
            return MEC_ERR_NOMEM;
        mp->metadata_props[mp->n_metadata_props++] = e;
    }
    if (!(mp->graph = NEW(ctx, Onnx__GraphProto, ONNX__GRAPH_PROTO__INIT))) return MEC_ERR_NOMEM;
    return build_graph(ctx, g, mp->graph, true);
}

/* Builds and packs the model; external data (when ctx has a file) is written
 * on the way. */
static mec_status pack_model(save_ctx *ctx, const mec_graph *g, void **buf, size_t *len) {
    *buf = NULL;
    *len = 0;
    Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
    mec_status st = build_model(ctx, g, &mp);
    if (st) {
        if (st == MEC_ERR_NOMEM && !strstr(mec_last_error(), "out of memory"))
            mec_error(st, "out of memory");
        return st;
    }
    size_t size = onnx__model_proto__get_packed_size(&mp);
    if (size > MEC_ONNX_MAX_PROTO_BYTES)
        return mec_error(MEC_ERR_RANGE,
                         "the model is %zu bytes, over protobuf's 2 GB limit: save it with "
                         "external data (external_threshold_bytes)",
                         size);
    uint8_t *out = mec_malloc(size ? size : 1);
    if (!out) return MEC_ERR_NOMEM;
    size_t packed = onnx__model_proto__pack(&mp, out);
    if (packed != size) {
        mec_free(out);
        return mec_error(MEC_ERR_INTERNAL, "protobuf packed %zu bytes, expected %zu", packed, size);
    }
    *buf = out;
    *len = size;
    return MEC_OK;
}

mec_status mec_onnx_save_buffer(const mec_graph *g, void **buf, size_t *len) {
    if (!g || !buf || !len) return mec_error(MEC_ERR_INVALID_ARG, "mec_onnx_save_buffer: NULL argument");
    save_ctx ctx = {.ext_fd = -1};
    mec_status st = pack_model(&ctx, g, buf, len);
    mec_onnx_arena_free(&ctx.arena);
    return st;
}

mec_status mec_onnx_save_ex(const mec_graph *g, const char *path,
                            const mec_onnx_save_options *opt) {
    if (!g || !path) return mec_error(MEC_ERR_INVALID_ARG, "mec_onnx_save: NULL argument");
    save_ctx ctx = {.ext_fd = -1};
    char *ext_final = NULL;
    if (opt && opt->external_threshold_bytes) {
        ctx.threshold = opt->external_threshold_bytes;
        size_t n = strlen(path) + 6;
        ext_final = mec_malloc(n);
        if (!ext_final) return mec_error_prefix(MEC_ERR_NOMEM, "%s: ", path);
        snprintf(ext_final, n, "%s.data", path);
        const char *slash = strrchr(ext_final, '/');
        ctx.ext_name = slash ? slash + 1 : ext_final;
        ctx.ext_final = ext_final;
    }
    void *buf = NULL;
    size_t len = 0;
    mec_status st = pack_model(&ctx, g, &buf, &len);
    if (!st) st = ext_finish(&ctx);
    if (!st) st = mec_file_write_atomic(path, buf, len);
    else mec_error_prefix(st, "%s: ", path);
    ext_abort(&ctx);
    mec_free(buf);
    mec_free(ext_final);
    mec_onnx_arena_free(&ctx.arena);
    return st;
}

mec_status mec_onnx_save(const mec_graph *g, const char *path) {
    return mec_onnx_save_ex(g, path, NULL);
}
