/* ONNX loader: ModelProto (protobuf-c) -> mec_graph, validating every field
 * read from the file so that garbage gives a message, never a crash. */
#include "onnx_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct load_ctx {
    const char *base_dir; /* for external data; NULL refuses it */
    mec_onnx_streamed *streamed; /* the top graph's large initializers, read apart */
    int n_streamed;
} load_ctx;

static mec_status load_graph(const load_ctx *ctx, const Onnx__GraphProto *gp, mec_graph *g,
                             int depth, bool top);

/* ---------------------------------------------------------- value types */

/* Type and shape of a ValueInfoProto into dtype/ndim/dims/dim_names (names
 * point into the proto). Non-tensor types leave dtype undefined. */
static mec_status parse_type(const Onnx__ValueInfoProto *vi, const char *what, mec_dtype *dtype,
                             int *ndim, int64_t *dims, const char **dim_names) {
    *dtype = MEC_UNDEFINED;
    *ndim = -1;
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return MEC_OK;
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->has_elem_type) {
        if (tt->elem_type < 0 || tt->elem_type >= MEC_DTYPE_MAX)
            return mec_error(MEC_ERR_PARSE, "%s '%s': unknown elem_type %" PRId32, what,
                             vi->name, tt->elem_type);
        *dtype = (mec_dtype)tt->elem_type;
    }
    if (!tt->shape) return MEC_OK;
    if (tt->shape->n_dim > MEC_MAX_DIMS)
        return mec_error(MEC_ERR_UNSUPPORTED, "%s '%s': rank %zu is more than the %d supported",
                         what, vi->name, tt->shape->n_dim, MEC_MAX_DIMS);
    *ndim = (int)tt->shape->n_dim;
    for (int d = 0; d < *ndim; d++) {
        const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
        dims[d] = -1;
        dim_names[d] = NULL;
        if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (dim->dim_value > MEC_MAX_NUMEL)
                return mec_error(MEC_ERR_SHAPE, "%s '%s': dim %d is absurdly large (%" PRId64 ")",
                                 what, vi->name, d, dim->dim_value);
            dims[d] = dim->dim_value < 0 ? -1 : dim->dim_value;
        } else if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) {
            if (dim->dim_param && *dim->dim_param) dim_names[d] = dim->dim_param;
        }
    }
    return MEC_OK;
}

/* Records type info on an existing value (outputs, value_info). */
static mec_status set_value_info(mec_graph *g, int v, const Onnx__ValueInfoProto *vi,
                                 const char *what) {
    mec_dtype dtype;
    int ndim;
    int64_t dims[MEC_MAX_DIMS];
    const char *names[MEC_MAX_DIMS];
    mec_status st = parse_type(vi, what, &dtype, &ndim, dims, names);
    if (st) return st;
    mec_value *val = &g->values[v];
    val->has_info = true;
    if (dtype == MEC_UNDEFINED && ndim < 0) return MEC_OK;
    val->dtype = dtype;
    val->ndim = ndim;
    for (int d = 0; d < MEC_MAX_DIMS; d++) {
        mec_free(val->dim_names[d]);
        val->dim_names[d] = NULL;
    }
    for (int d = 0; d < ndim; d++) {
        val->dims[d] = dims[d];
        if (names[d]) {
            val->dim_names[d] = mec_strdup(names[d]);
            if (!val->dim_names[d]) return MEC_ERR_NOMEM;
        }
    }
    return MEC_OK;
}

/* ------------------------------------------------------------ attributes */

static mec_attr_type infer_attr_type(const Onnx__AttributeProto *ap) {
    /* IR version 1 files carry no type: take it from the field that is set. */
    if (ap->has_f) return MEC_ATTR_FLOAT;
    if (ap->has_i) return MEC_ATTR_INT;
    if (ap->has_s) return MEC_ATTR_STRING;
    if (ap->t) return MEC_ATTR_TENSOR;
    if (ap->g) return MEC_ATTR_GRAPH;
    if (ap->n_floats) return MEC_ATTR_FLOATS;
    if (ap->n_ints) return MEC_ATTR_INTS;
    if (ap->n_strings) return MEC_ATTR_STRINGS;
    if (ap->n_tensors) return MEC_ATTR_TENSORS;
    if (ap->n_graphs) return MEC_ATTR_GRAPHS;
    return MEC_ATTR_UNDEFINED;
}

static mec_status load_subgraph(const load_ctx *ctx, const Onnx__GraphProto *gp, int depth,
                                mec_graph **out) {
    *out = NULL;
    if (depth >= MEC_ONNX_MAX_DEPTH)
        return mec_error(MEC_ERR_PARSE, "subgraphs nest more than %d deep", MEC_ONNX_MAX_DEPTH);
    mec_graph *sg;
    mec_status st = mec_graph_create(gp->name && *gp->name ? gp->name : "subgraph", &sg);
    if (st) return st;
    st = load_graph(ctx, gp, sg, depth + 1, false);
    if (st) {
        mec_graph_destroy(sg);
        return mec_error_prefix(st, "subgraph '%s': ", gp->name ? gp->name : "");
    }
    *out = sg;
    return MEC_OK;
}

/* Fills a (zeroed) from ap; on failure the caller releases a. */
static mec_status load_attr(const load_ctx *ctx, const Onnx__AttributeProto *ap, mec_attr *a,
                            int depth) {
    a->name = mec_strdup(ap->name);
    if (!a->name) return MEC_ERR_NOMEM;
    mec_attr_type type = ap->has_type ? (mec_attr_type)ap->type : infer_attr_type(ap);
    a->type = type;
    char what[300];
    snprintf(what, sizeof what, "attribute '%s'", ap->name);
    mec_status st = MEC_OK;
    switch ((int)type) {
    case MEC_ATTR_FLOAT: a->f = ap->f; break;
    case MEC_ATTR_INT: a->i = ap->i; break;
    case MEC_ATTR_STRING:
        a->s = mec_malloc(ap->s.len + 1);
        if (!a->s) return MEC_ERR_NOMEM;
        if (ap->s.len) memcpy(a->s, ap->s.data, ap->s.len);
        a->s[ap->s.len] = '\0';
        a->s_len = ap->s.len;
        break;
    case MEC_ATTR_TENSOR:
        if (!ap->t) return mec_error(MEC_ERR_PARSE, "%s: type TENSOR but no tensor", what);
        return mec_onnx_tensor_from_proto(ap->t, ctx->base_dir, what, &a->t);
    case MEC_ATTR_GRAPH:
        if (!ap->g) return mec_error(MEC_ERR_PARSE, "%s: type GRAPH but no graph", what);
        st = load_subgraph(ctx, ap->g, depth, &a->g);
        return st ? mec_error_prefix(st, "%s: ", what) : MEC_OK;
    case MEC_ATTR_FLOATS:
        a->floats = mec_malloc(sizeof(float) * (ap->n_floats ? ap->n_floats : 1));
        if (!a->floats) return MEC_ERR_NOMEM;
        if (ap->n_floats) memcpy(a->floats, ap->floats, sizeof(float) * ap->n_floats);
        a->n = (int64_t)ap->n_floats;
        break;
    case MEC_ATTR_INTS:
        a->ints = mec_malloc(sizeof(int64_t) * (ap->n_ints ? ap->n_ints : 1));
        if (!a->ints) return MEC_ERR_NOMEM;
        if (ap->n_ints) memcpy(a->ints, ap->ints, sizeof(int64_t) * ap->n_ints);
        a->n = (int64_t)ap->n_ints;
        break;
    case MEC_ATTR_STRINGS:
        a->strings = mec_calloc(ap->n_strings ? ap->n_strings : 1, sizeof(char *));
        if (!a->strings) return MEC_ERR_NOMEM;
        a->n = (int64_t)ap->n_strings;
        for (size_t k = 0; k < ap->n_strings; k++) {
            a->strings[k] = mec_strndup((const char *)ap->strings[k].data, ap->strings[k].len);
            if (!a->strings[k]) return MEC_ERR_NOMEM;
        }
        break;
    case MEC_ATTR_TENSORS:
        a->tensors = mec_calloc(ap->n_tensors ? ap->n_tensors : 1, sizeof(mec_tensor *));
        if (!a->tensors) return MEC_ERR_NOMEM;
        a->n = (int64_t)ap->n_tensors;
        for (size_t k = 0; k < ap->n_tensors; k++) {
            char w[340];
            snprintf(w, sizeof w, "%s tensor %zu", what, k);
            st = mec_onnx_tensor_from_proto(ap->tensors[k], ctx->base_dir, w, &a->tensors[k]);
            if (st) return st;
        }
        break;
    case MEC_ATTR_GRAPHS:
        a->graphs = mec_calloc(ap->n_graphs ? ap->n_graphs : 1, sizeof(mec_graph *));
        if (!a->graphs) return MEC_ERR_NOMEM;
        a->n = (int64_t)ap->n_graphs;
        for (size_t k = 0; k < ap->n_graphs; k++) {
            st = load_subgraph(ctx, ap->graphs[k], depth, &a->graphs[k]);
            if (st) return mec_error_prefix(st, "%s graph %zu: ", what, k);
        }
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS:
        return mec_error(MEC_ERR_UNSUPPORTED, "%s: attribute type %d is not supported", what,
                         (int)type);
    default:
        return mec_error(MEC_ERR_PARSE, "%s: unknown attribute type %d", what, (int)type);
    }
    return MEC_OK;
}

/* ----------------------------------------------------------------- nodes */

static mec_status load_node(const load_ctx *ctx, mec_graph *g, const Onnx__NodeProto *np,
                            size_t index, int depth) {
    char label[320];
    const char *op = np->op_type ? np->op_type : "?";
    if (np->name && *np->name) snprintf(label, sizeof label, "node '%s' (%s)", np->name, op);
    else snprintf(label, sizeof label, "node #%zu (%s)", index, op);
    if (!np->op_type || !*np->op_type)
        return mec_error(MEC_ERR_PARSE, "%s: no op_type", label);
    if (np->n_input > 4096 || np->n_output > 4096)
        return mec_error(MEC_ERR_PARSE, "%s: %zu inputs and %zu outputs, more than 4096", label,
                         np->n_input, np->n_output);
    int id;
    mec_status st = mec_graph_add_node(g, np->op_type, np->domain, np->name, (int)np->n_input,
                                       (const char *const *)np->input, (int)np->n_output,
                                       (const char *const *)np->output, &id);
    if (st) return st;
    if (np->doc_string && *np->doc_string) {
        g->nodes[id].doc = mec_strdup(np->doc_string);
        if (!g->nodes[id].doc) return MEC_ERR_NOMEM;
    }
    for (size_t k = 0; k < np->n_attribute; k++) {
        const Onnx__AttributeProto *ap = np->attribute[k];
        if (!ap->name || !*ap->name)
            return mec_error(MEC_ERR_PARSE, "%s: attribute %zu has no name", label, k);
        if (mec_node_attr(&g->nodes[id], ap->name))
            return mec_error(MEC_ERR_PARSE, "%s: attribute '%s' is given twice", label, ap->name);
        mec_attr a;
        memset(&a, 0, sizeof a);
        st = load_attr(ctx, ap, &a, depth);
        if (st) {
            mec_attr_release(&a);
            return mec_error_prefix(st, "%s: ", label);
        }
        st = mec_node_add_attr(g, id, &a);
        if (st) return st;
    }
    return MEC_OK;
}

/* ----------------------------------------------------------------- graph */

static mec_status load_graph(const load_ctx *ctx, const Onnx__GraphProto *gp, mec_graph *g,
                             int depth, bool top) {
    mec_status st;
    if (gp->doc_string && *gp->doc_string && top && !g->doc) {
        g->doc = mec_strdup(gp->doc_string);
        if (!g->doc) return MEC_ERR_NOMEM;
    }
    if (gp->n_sparse_initializer)
        return mec_error(MEC_ERR_UNSUPPORTED,
                         "sparse_initializer '%s' is not supported (store it dense)",
                         gp->sparse_initializer[0]->values && gp->sparse_initializer[0]->values->name
                             ? gp->sparse_initializer[0]->values->name
                             : "");
    for (size_t i = 0; i < gp->n_initializer; i++) {
        Onnx__TensorProto *tp = gp->initializer[i];
        if (!tp->name || !*tp->name)
            return mec_error(MEC_ERR_PARSE, "initializer %zu has no name", i);
        char what[300];
        snprintf(what, sizeof what, "initializer '%s'", tp->name);
        mec_tensor *t;
        st = mec_onnx_tensor_take_proto(tp, ctx->base_dir, what, &t);
        if (st) return st;
        st = mec_graph_add_initializer(g, tp->name, t, NULL);
        if (st) return st;
    }
    for (int i = 0; top && i < ctx->n_streamed; i++) {
        mec_onnx_streamed *s = &ctx->streamed[i];
        st = mec_graph_add_initializer(g, s->name, s->tensor, NULL);
        s->tensor = NULL; /* the graph owns it now, also on failure */
        if (st) return st;
    }
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        if (!vi->name || !*vi->name) return mec_error(MEC_ERR_PARSE, "input %zu has no name", i);
        int v = mec_graph_find(g, vi->name);
        if (v >= 0 && g->values[v].init) continue; /* IR < 4 lists initializers as inputs */
        mec_dtype dtype;
        int ndim;
        int64_t dims[MEC_MAX_DIMS];
        const char *names[MEC_MAX_DIMS];
        st = parse_type(vi, "input", &dtype, &ndim, dims, names);
        if (st) return st;
        st = mec_graph_add_input(g, vi->name, dtype, ndim, dims, names, NULL);
        if (st) return st;
    }
    for (size_t i = 0; i < gp->n_node; i++) {
        st = load_node(ctx, g, gp->node[i], i, depth);
        if (st) return st;
    }
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        if (!vi->name || !*vi->name) return mec_error(MEC_ERR_PARSE, "output %zu has no name", i);
        int v = mec_graph_find(g, vi->name);
        if (v >= 0 && g->values[v].is_output)
            return mec_error(MEC_ERR_GRAPH, "output '%s' is listed twice", vi->name);
        st = mec_graph_add_output(g, vi->name, &v);
        if (!st) st = set_value_info(g, v, vi, "output");
        if (st) return st;
    }
    for (size_t i = 0; i < gp->n_value_info; i++) {
        const Onnx__ValueInfoProto *vi = gp->value_info[i];
        if (!vi->name || !*vi->name)
            return mec_error(MEC_ERR_PARSE, "value_info %zu has no name", i);
        int v;
        st = mec_graph_value(g, vi->name, &v);
        if (!st) st = set_value_info(g, v, vi, "value_info");
        if (st) return st;
    }
    if (top && gp->n_output == 0) return mec_error(MEC_ERR_GRAPH, "the graph has no outputs");
    return MEC_OK;
}

static mec_status load_model(const load_ctx *ctx, const Onnx__ModelProto *mp, mec_graph **out) {
    if (!mp->graph) return mec_error(MEC_ERR_PARSE, "the model has no graph (empty model)");
    if (mp->n_functions)
        return mec_error(MEC_ERR_UNSUPPORTED, "model-local functions ('%s', ...) are not supported",
                         mp->functions[0]->name ? mp->functions[0]->name : "");
    const Onnx__GraphProto *gp = mp->graph;
    mec_graph *g;
    mec_status st = mec_graph_create(gp->name && *gp->name ? gp->name : "graph", &g);
    if (st) return st;
    g->ir_version = mp->has_ir_version ? mp->ir_version : 0;
    g->model_version = mp->has_model_version ? mp->model_version : 0;
    struct {
        char **dst;
        const char *src;
    } strs[] = {{&g->producer_name, mp->producer_name},
                {&g->producer_version, mp->producer_version},
                {&g->model_domain, mp->domain},
                {&g->doc, mp->doc_string}};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (strs[i].src && *strs[i].src) {
            *strs[i].dst = mec_strdup(strs[i].src);
            if (!*strs[i].dst) {
                st = MEC_ERR_NOMEM;
                goto fail;
            }
        }
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *op = mp->opset_import[i];
        if (!op->has_version || op->version < 1) {
            st = mec_error(MEC_ERR_PARSE, "opset_import %zu (domain '%s') has no valid version", i,
                           op->domain ? op->domain : "");
            goto fail;
        }
        st = mec_graph_set_opset(g, op->domain ? op->domain : "", op->version);
        if (st) goto fail;
    }
    if (mp->n_metadata_props) {
        g->meta_keys = mec_calloc(mp->n_metadata_props, sizeof(char *));
        g->meta_values = mec_calloc(mp->n_metadata_props, sizeof(char *));
        if (!g->meta_keys || !g->meta_values) {
            st = MEC_ERR_NOMEM;
            goto fail;
        }
        for (size_t i = 0; i < mp->n_metadata_props; i++) {
            const Onnx__StringStringEntryProto *e = mp->metadata_props[i];
            g->meta_keys[i] = mec_strdup(e->key ? e->key : "");
            g->meta_values[i] = mec_strdup(e->value ? e->value : "");
            g->n_meta = (int)i + 1;
            if (!g->meta_keys[i] || !g->meta_values[i]) {
                st = MEC_ERR_NOMEM;
                goto fail;
            }
        }
    }
    st = load_graph(ctx, gp, g, 0, true);
    if (!st) st = mec_graph_toposort(g);
    if (st) goto fail;
    *out = g;
    return MEC_OK;
fail:
    mec_graph_destroy(g);
    return st;
}

/* Parses buf; `release` (if not NULL) is called on buf exactly once, as soon
 * as protobuf-c has its own copy, so a file mapping does not stay resident
 * while the graph is built. */
static mec_status load_buffer(const void *buf, size_t len, load_ctx *ctx, const char *label,
                              void (*release)(const void *, size_t), mec_graph **out);

mec_status mec_onnx_load_buffer(const void *buf, size_t len, const char *base_dir,
                                const char *label, mec_graph **out) {
    load_ctx ctx = {base_dir, NULL, 0};
    return load_buffer(buf, len, &ctx, label, NULL, out);
}

static mec_status load_buffer_inner(const void *buf, size_t len, load_ctx *ctx, const char *label,
                                    void (**release)(const void *, size_t), mec_graph **out);

static mec_status load_buffer(const void *buf, size_t len, load_ctx *ctx, const char *label,
                              void (*release)(const void *, size_t), mec_graph **out) {
    mec_status st = load_buffer_inner(buf, len, ctx, label, &release, out);
    if (release) release(buf, len); /* an early error: not released yet */
    return st;
}

static mec_status load_buffer_inner(const void *buf, size_t len, load_ctx *ctx, const char *label,
                                    void (**release)(const void *, size_t), mec_graph **out) {
    if (!out) return mec_error(MEC_ERR_INVALID_ARG, "mec_onnx_load_buffer: out is NULL");
    *out = NULL;
    if (!label) label = "model";
    if (!buf && len) return mec_error(MEC_ERR_INVALID_ARG, "%s: buffer is NULL", label);
    if (len > MEC_ONNX_MAX_PROTO_BYTES)
        return mec_error(MEC_ERR_PARSE, "%s: %zu bytes, more than protobuf's 2 GB limit", label,
                         len);
    if (len == 0) return mec_error(MEC_ERR_PARSE, "%s: empty file, not an ONNX model", label);
    mec_status st = mec_onnx_wire_check(&onnx__model_proto__descriptor, buf, len);
    if (st)
        return mec_error_prefix(st, "%s: not a valid ONNX protobuf (truncated or corrupt): ",
                                label);
    mec_onnx_pb_alloc_reset();
    Onnx__ModelProto *mp = onnx__model_proto__unpack(mec_onnx_pb_allocator(), len, buf);
    if (*release) {
        (*release)(buf, len);
        *release = NULL;
    }
    if (!mp && mec_onnx_pb_alloc_failed())
        return mec_error(MEC_ERR_NOMEM, "%s: out of memory while parsing", label);
    if (!mp)
        return mec_error(MEC_ERR_PARSE, "%s: not a valid ONNX protobuf (truncated or corrupt)",
                         label);
    st = load_model(ctx, mp, out);
    onnx__model_proto__free_unpacked(mp, mec_onnx_pb_allocator());
    if (st) {
        if (st == MEC_ERR_NOMEM && !strstr(mec_last_error(), "out of memory"))
            mec_error(st, "out of memory");
        return mec_error_prefix(st, "%s: ", label);
    }
    return MEC_OK;
}

static void unmap_buffer(const void *buf, size_t len) { munmap((void *)buf, len); }

mec_status mec_onnx_load(const char *path, mec_graph **out) {
    if (!out || !path) return mec_error(MEC_ERR_INVALID_ARG, "mec_onnx_load: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return mec_error(MEC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return mec_error(MEC_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > MEC_ONNX_MAX_PROTO_BYTES) {
        close(fd);
        return mec_error(MEC_ERR_PARSE, "%s: %lld bytes, more than protobuf's 2 GB limit", path,
                         (long long)sb.st_size);
    }
    size_t len = (size_t)sb.st_size;
    /* External data lives beside the model. */
    const char *slash = strrchr(path, '/');
    char *dir = slash ? mec_strndup(path, (size_t)(slash - path) + (slash == path))
                      : mec_strdup(".");
    if (!dir) {
        close(fd);
        return mec_error_prefix(MEC_ERR_NOMEM, "%s: ", path);
    }
    load_ctx ctx = {dir, NULL, 0};
    mec_status st;
    /* Large models: weights read straight into their tensors (held once). */
    if (len >= ((size_t)1 << 20)) {
        void *skeleton;
        size_t skeleton_len;
        bool handled;
        st = mec_onnx_stream_split(fd, len, path, &skeleton, &skeleton_len, &ctx.streamed,
                                   &ctx.n_streamed, &handled);
        if (st || handled) {
            close(fd);
            if (!st)
                mec_log(MEC_LOG_DEBUG, "%s: %d large initializers read straight into tensors",
                        path, ctx.n_streamed);
            if (!st) st = load_buffer(skeleton, skeleton_len, &ctx, path, NULL, out);
            mec_free(skeleton);
            mec_onnx_streamed_free(ctx.streamed, ctx.n_streamed);
            mec_free(dir);
            return st;
        }
    }
    /* Otherwise mapped, not read: the pages are dropped right after parsing. */
    void *data = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0) : NULL;
    close(fd);
    if (len && data == MAP_FAILED) {
        mec_free(dir);
        return mec_error(MEC_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
    }
    st = load_buffer(data, len, &ctx, path, data ? unmap_buffer : NULL, out);
    mec_free(dir);
    return st;
}
