/* onnx: load/save round trips on the ONNX test models, external data, every
 * kind of bad input (truncated, corrupt, bad tensors, cycles), clone and
 * prune, allocation failure injection. */
#define _POSIX_C_SOURCE 200809L
#include "mec/graph.h"
#include "mec/onnx.h"
#include "onnx.pb-c.h"
#include "test.h"

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#define TESTDATA "/usr/share/libonnx-testdata/data"

static char tmpdir[256];

static const char *tmp_path(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static bool file_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* ------------------------------------------------------------ comparing */

static bool graphs_equal(const mec_graph *a, const mec_graph *b, char *why, size_t n);

static bool tensors_equal(const mec_tensor *a, const mec_tensor *b) {
    if (!a || !b) return a == b;
    if (a->dtype != b->dtype || !mec_tensor_same_shape(a, b)) return false;
    size_t bytes = mec_tensor_bytes(a);
    return bytes == 0 || memcmp(a->data, b->data, bytes) == 0;
}

static bool attrs_equal(const mec_attr *x, const mec_attr *y, char *why, size_t n) {
    if (strcmp(x->name, y->name) || x->type != y->type) {
        snprintf(why, n, "attribute '%s' name/type differ", x->name);
        return false;
    }
    bool ok = true;
    switch (x->type) {
    case MEC_ATTR_FLOAT: ok = memcmp(&x->f, &y->f, sizeof x->f) == 0; break;
    case MEC_ATTR_INT: ok = x->i == y->i; break;
    case MEC_ATTR_STRING: ok = x->s_len == y->s_len && !memcmp(x->s, y->s, x->s_len); break;
    case MEC_ATTR_TENSOR: ok = tensors_equal(x->t, y->t); break;
    case MEC_ATTR_GRAPH: return graphs_equal(x->g, y->g, why, n);
    case MEC_ATTR_FLOATS:
        ok = x->n == y->n && (!x->n || !memcmp(x->floats, y->floats, sizeof(float) * (size_t)x->n));
        break;
    case MEC_ATTR_INTS:
        ok = x->n == y->n && (!x->n || !memcmp(x->ints, y->ints, sizeof(int64_t) * (size_t)x->n));
        break;
    case MEC_ATTR_STRINGS:
        ok = x->n == y->n;
        for (int64_t k = 0; ok && k < x->n; k++) ok = !strcmp(x->strings[k], y->strings[k]);
        break;
    case MEC_ATTR_TENSORS:
        ok = x->n == y->n;
        for (int64_t k = 0; ok && k < x->n; k++) ok = tensors_equal(x->tensors[k], y->tensors[k]);
        break;
    case MEC_ATTR_GRAPHS:
        ok = x->n == y->n;
        for (int64_t k = 0; ok && k < x->n; k++)
            if (!graphs_equal(x->graphs[k], y->graphs[k], why, n)) return false;
        break;
    default: ok = false;
    }
    if (!ok) snprintf(why, n, "attribute '%s' values differ", x->name);
    return ok;
}

static const char *vname(const mec_graph *g, int v) { return v >= 0 ? g->values[v].name : ""; }

static bool values_equal(const mec_graph *a, int va, const mec_graph *b, int vb) {
    const mec_value *x = &a->values[va], *y = &b->values[vb];
    if (strcmp(x->name, y->name) || x->dtype != y->dtype || x->ndim != y->ndim) return false;
    for (int d = 0; d < x->ndim; d++) {
        if (x->dims[d] != y->dims[d]) return false;
        if (!x->dim_names[d] != !y->dim_names[d]) return false;
        if (x->dim_names[d] && strcmp(x->dim_names[d], y->dim_names[d])) return false;
    }
    return true;
}

static bool graphs_equal(const mec_graph *a, const mec_graph *b, char *why, size_t n) {
    if (strcmp(a->name, b->name)) return snprintf(why, n, "graph names differ"), false;
    if (a->n_nodes != b->n_nodes) return snprintf(why, n, "node counts differ"), false;
    if (a->n_inputs != b->n_inputs || a->n_outputs != b->n_outputs)
        return snprintf(why, n, "input/output counts differ"), false;
    for (int i = 0; i < a->n_inputs; i++)
        if (!values_equal(a, a->inputs[i], b, b->inputs[i]))
            return snprintf(why, n, "input %d differs", i), false;
    for (int i = 0; i < a->n_outputs; i++)
        if (!values_equal(a, a->outputs[i], b, b->outputs[i]))
            return snprintf(why, n, "output %d differs", i), false;
    for (int i = 0; i < a->n_nodes; i++) {
        const mec_node *x = &a->nodes[i], *y = &b->nodes[i];
        if (strcmp(x->op_type, y->op_type) || strcmp(x->name, y->name) ||
            strcmp(x->domain, y->domain) || x->n_in != y->n_in || x->n_out != y->n_out ||
            x->n_attr != y->n_attr)
            return snprintf(why, n, "node %d (%s) differs", i, x->op_type), false;
        for (int k = 0; k < x->n_in; k++)
            if (strcmp(vname(a, x->in[k]), vname(b, y->in[k])))
                return snprintf(why, n, "node %d input %d differs", i, k), false;
        for (int k = 0; k < x->n_out; k++)
            if (strcmp(vname(a, x->out[k]), vname(b, y->out[k])))
                return snprintf(why, n, "node %d output %d differs", i, k), false;
        for (int k = 0; k < x->n_attr; k++)
            if (!attrs_equal(&x->attrs[k], &y->attrs[k], why, n)) return false;
    }
    int inits = 0;
    for (int v = 0; v < a->n_values; v++) {
        const mec_value *x = &a->values[v];
        int w = mec_graph_find(b, x->name);
        if (x->init) {
            inits++;
            if (w < 0 || !tensors_equal(x->init, b->values[w].init))
                return snprintf(why, n, "initializer '%s' differs", x->name), false;
        }
        if (x->has_info && (w < 0 || !b->values[w].has_info || !values_equal(a, v, b, w)))
            return snprintf(why, n, "value info of '%s' differs", x->name), false;
    }
    for (int v = 0; v < b->n_values; v++) inits -= b->values[v].init != NULL;
    if (inits) return snprintf(why, n, "initializer counts differ"), false;
    if (a->n_opsets != b->n_opsets) return snprintf(why, n, "opset counts differ"), false;
    for (int i = 0; i < a->n_opsets; i++)
        if (mec_graph_opset(b, a->opsets[i].domain) != a->opsets[i].version)
            return snprintf(why, n, "opset '%s' differs", a->opsets[i].domain), false;
    if (a->ir_version != b->ir_version) return snprintf(why, n, "ir_version differs"), false;
    return true;
}

/* ---------------------------------------------------- building test models */

/* y = Relu(x + W), W an initializer of n floats; opset 13. */
static mec_graph *small_graph(int64_t n) {
    mec_graph *g;
    if (mec_graph_create("small", &g)) return NULL;
    int64_t dims[1] = {n};
    const char *dn[1] = {NULL};
    mec_tensor *w;
    int node;
    if (mec_graph_add_input(g, "x", MEC_F32, 1, dims, dn, NULL) ||
        mec_tensor_create(&w, MEC_F32, 1, dims)) {
        mec_graph_destroy(g);
        return NULL;
    }
    for (int64_t i = 0; i < n; i++) ((float *)w->data)[i] = (float)i * 0.5f;
    const char *add_in[2] = {"x", "W"}, *add_out[1] = {"s"}, *relu_out[1] = {"y"};
    if (mec_graph_add_initializer(g, "W", w, NULL) ||
        mec_graph_add_node(g, "Add", "", "add0", 2, add_in, 1, add_out, NULL) ||
        mec_graph_add_node(g, "Relu", "", "relu0", 1, add_out, 1, relu_out, &node) ||
        mec_graph_add_output(g, "y", NULL) || mec_graph_set_opset(g, "", 13) ||
        mec_node_set_string(g, node, "note", "kept")) {
        mec_graph_destroy(g);
        return NULL;
    }
    return g;
}

/* Packs a ModelProto into a new buffer. */
static void *pack_model(const Onnx__ModelProto *mp, size_t *len) {
    *len = onnx__model_proto__get_packed_size(mp);
    void *buf = malloc(*len ? *len : 1);
    onnx__model_proto__pack(mp, buf);
    return buf;
}

/* Loads buf and checks that it fails with status `want` and a message that
 * starts with the label and contains `needle`. */
static void expect_load_error(const void *buf, size_t len, mec_status want, const char *needle) {
    mec_graph *g = (mec_graph *)1;
    mec_status st = mec_onnx_load_buffer(buf, len, NULL, "bad.onnx", &g);
    if (st != want || g != NULL || strncmp(mec_last_error(), "bad.onnx: ", 10) ||
        !strstr(mec_last_error(), needle)) {
        fprintf(stderr, "  expected status %d with '%s', got %d: %s\n", (int)want, needle, (int)st,
                mec_last_error());
        test_failed_checks++;
    }
    if (st == MEC_OK) mec_graph_destroy(g);
}

/* ----------------------------------------------------------------- tests */

static void test_load_add(void) {
    mec_graph *g = NULL;
    CHECK_OK(mec_onnx_load(TESTDATA "/node/test_add/model.onnx", &g));
    if (!g) return;
    CHECK(g->n_nodes == 1);
    CHECK_STR(g->nodes[0].op_type, "Add");
    CHECK(g->n_inputs == 2 && g->n_outputs == 1);
    const mec_value *x = &g->values[g->inputs[0]];
    CHECK_STR(x->name, "x");
    CHECK(x->dtype == MEC_F32 && x->ndim == 3 && x->dims[0] == 3 && x->dims[1] == 4 &&
          x->dims[2] == 5);
    CHECK(mec_graph_opset(g, "") >= 7);
    CHECK(g->ir_version >= 3);
    mec_graph_destroy(g);
}

static void test_load_attrs_and_subgraph(void) {
    mec_graph *g = NULL;
    CHECK_OK(mec_onnx_load(TESTDATA "/node/test_if/model.onnx", &g));
    if (g) {
        CHECK(g->n_nodes == 1);
        const mec_attr *then = mec_node_attr(&g->nodes[0], "then_branch");
        CHECK(then && then->type == MEC_ATTR_GRAPH && then->g && then->g->n_nodes == 1);
        if (then && then->g) CHECK_STR(then->g->nodes[0].op_type, "Constant");
        mec_graph_destroy(g);
    }
    CHECK_OK(mec_onnx_load(TESTDATA "/pytorch-converted/test_Conv2d/model.onnx", &g));
    if (g) {
        int conv = -1;
        for (int i = 0; i < g->n_nodes; i++)
            if (!strcmp(g->nodes[i].op_type, "Conv")) conv = i;
        CHECK(conv >= 0);
        if (conv >= 0) {
            const int64_t *ks;
            CHECK(mec_node_ints(&g->nodes[conv], "kernel_shape", &ks) == 2);
            const mec_value *w = &g->values[g->nodes[conv].in[1]];
            CHECK(w->init && w->init->ndim == 4);
        }
        /* IR 3 lists initializers as inputs: they are not graph inputs here. */
        CHECK(g->n_inputs == 1);
        mec_graph_destroy(g);
    }
}

/* Load -> save -> load on every test model that loads; all must be equal. */
static void roundtrip_dir(const char *dir, int *loaded, int *total, int *refused) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[1024], why[256];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s/model.onnx", dir, e->d_name);
        if (!file_exists(path)) continue;
        (*total)++;
        mec_graph *g = NULL, *h = NULL, *c = NULL;
        mec_status st = mec_onnx_load(path, &g);
        if (st) {
            (*refused)++;
            /* Refusals must be for things we do not support, with a message. */
            if (st != MEC_ERR_UNSUPPORTED || !strstr(mec_last_error(), path)) {
                fprintf(stderr, "  %s: status %d: %s\n", path, (int)st, mec_last_error());
                test_failed_checks++;
            }
            continue;
        }
        (*loaded)++;
        void *buf = NULL;
        size_t len = 0;
        CHECK_OK(mec_onnx_save_buffer(g, &buf, &len));
        if (buf) CHECK_OK(mec_onnx_load_buffer(buf, len, NULL, path, &h));
        if (h && !graphs_equal(g, h, why, sizeof why)) {
            fprintf(stderr, "  %s: round trip: %s\n", path, why);
            test_failed_checks++;
        }
        CHECK_OK(mec_graph_clone(g, &c));
        if (c && !graphs_equal(g, c, why, sizeof why)) {
            fprintf(stderr, "  %s: clone: %s\n", path, why);
            test_failed_checks++;
        }
        mec_free(buf);
        mec_graph_destroy(g);
        mec_graph_destroy(h);
        mec_graph_destroy(c);
    }
    closedir(d);
}

static void test_roundtrip_testdata(void) {
    const char *dirs[] = {TESTDATA "/node", TESTDATA "/simple", TESTDATA "/pytorch-converted",
                          TESTDATA "/pytorch-operator"};
    int loaded = 0, total = 0, refused = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        roundtrip_dir(dirs[i], &loaded, &total, &refused);
    printf("     %d of %d models loaded and round-tripped, %d refused as unsupported\n", loaded,
           total, refused);
    CHECK(total > 900);
    CHECK(loaded >= total * 95 / 100);
}

static void test_save_file_and_checker(void) {
    mec_graph *g = NULL, *h = NULL;
    CHECK_OK(mec_onnx_load(TESTDATA "/pytorch-converted/test_Conv2d/model.onnx", &g));
    if (!g) return;
    const char *out = tmp_path("conv.onnx");
    CHECK_OK(mec_onnx_save(g, out));
    CHECK_OK(mec_onnx_load(out, &h));
    char why[256] = "";
    CHECK(h && graphs_equal(g, h, why, sizeof why));
    /* The official checker accepts what we write (skipped without python-onnx). */
    if (access("/usr/bin/python3", X_OK) == 0 &&
        system("/usr/bin/python3 -c 'import onnx' >/dev/null 2>&1") == 0) {
        char cmd[1200];
        const char *models[] = {out, tmp_path("if.onnx")};
        mec_graph *ifg = NULL;
        CHECK_OK(mec_onnx_load(TESTDATA "/node/test_if/model.onnx", &ifg));
        if (ifg) CHECK_OK(mec_onnx_save(ifg, models[1]));
        mec_graph_destroy(ifg);
        for (int i = 0; i < 2; i++) {
            snprintf(cmd, sizeof cmd,
                     "/usr/bin/python3 -c \"import onnx; onnx.checker.check_model(onnx.load('%s'), "
                     "full_check=True)\"",
                     models[i]);
            CHECK(system(cmd) == 0);
        }
    } else {
        printf("     (python3 onnx not found: checker step skipped)\n");
    }
    mec_graph_destroy(g);
    mec_graph_destroy(h);
}

static void test_external_data(void) {
    mec_graph *g = small_graph(1000), *h = NULL;
    CHECK(g != NULL);
    if (!g) return;
    const char *path = tmp_path("ext.onnx");
    mec_onnx_save_options opt = {.external_threshold_bytes = 100};
    CHECK_OK(mec_onnx_save_ex(g, path, &opt));
    struct stat sb;
    CHECK(stat(tmp_path("ext.onnx.data"), &sb) == 0 && sb.st_size == 4000);
    CHECK(stat(path, &sb) == 0 && sb.st_size < 1000); /* the weights are not inline */
    CHECK_OK(mec_onnx_load(path, &h));
    char why[256] = "";
    CHECK(h && graphs_equal(g, h, why, sizeof why));
    if (h) {
        const mec_value *w = &h->values[mec_graph_find(h, "W")];
        CHECK(w->init && ((float *)w->init->data)[999] == 499.5f);
    }
    mec_graph_destroy(h);
    h = NULL;
    /* From a buffer without a folder: refused with a message. */
    void *buf;
    size_t len;
    CHECK_OK(mec_file_read(path, 1 << 20, &buf, &len));
    CHECK(mec_onnx_load_buffer(buf, len, NULL, "ext.onnx", &h) == MEC_ERR_INVALID_ARG);
    CHECK(strstr(mec_last_error(), "external data") != NULL);
    mec_free(buf);
    /* A truncated data file is an error naming the sizes. */
    CHECK(truncate(tmp_path("ext.onnx.data"), 3000) == 0);
    CHECK(mec_onnx_load(path, &h) == MEC_ERR_IO);
    CHECK(strstr(mec_last_error(), "initializer 'W'") && strstr(mec_last_error(), "3000 bytes"));
    CHECK(h == NULL);
    /* A threshold above every tensor writes no data file. */
    opt.external_threshold_bytes = 1 << 20;
    CHECK_OK(mec_onnx_save_ex(g, tmp_path("inline.onnx"), &opt));
    CHECK(!file_exists(tmp_path("inline.onnx.data")));
    mec_graph_destroy(g);
}

static void test_truncated_and_corrupt(void) {
    void *model;
    size_t len;
    CHECK_OK(mec_file_read(TESTDATA "/pytorch-converted/test_Conv2d/model.onnx", 1 << 24, &model,
                           &len));
    if (!model) return;
    int errors = 0;
    /* Every truncation must fail cleanly (or, rarely, still be a valid model). */
    for (size_t cut = 0; cut < len; cut += (cut < 64 ? 1 : 37)) {
        mec_graph *g = NULL;
        mec_status st = mec_onnx_load_buffer(model, cut, NULL, "cut.onnx", &g);
        if (st) {
            errors++;
            CHECK(g == NULL);
            CHECK(strncmp(mec_last_error(), "cut.onnx: ", 10) == 0);
        }
        mec_graph_destroy(g);
    }
    CHECK(errors > 50);
    expect_load_error(model, len / 2, MEC_ERR_PARSE, "not a valid ONNX protobuf");
    expect_load_error(model, 0, MEC_ERR_PARSE, "empty");
    /* Byte flips: no crash, and an error always carries the label. */
    unsigned char *copy = malloc(len);
    uint32_t seed = 12345;
    for (int trial = 0; trial < 400; trial++) {
        memcpy(copy, model, len);
        for (int k = 0; k < 4; k++) {
            seed = seed * 1664525u + 1013904223u;
            copy[(seed >> 8) % len] ^= (unsigned char)(1u << (seed % 8));
        }
        mec_graph *g = NULL;
        if (mec_onnx_load_buffer(copy, len, NULL, "flip.onnx", &g))
            CHECK(strncmp(mec_last_error(), "flip.onnx: ", 11) == 0);
        mec_graph_destroy(g);
    }
    const char garbage[] = "this is not a protobuf at all \xff\xff\xff\xff\xff";
    expect_load_error(garbage, sizeof garbage, MEC_ERR_PARSE, "not a valid ONNX protobuf");
    free(copy);
    mec_free(model);
}

static size_t varint_len(size_t v) {
    size_t n = 1;
    while (v >= 0x80) v >>= 7, n++;
    return n;
}

/* ModelProto.graph -> GraphProto.node -> NodeProto.attribute -> AttributeProto.g
 * -> GraphProto.node ... `wraps` messages deep, written outside-in. */
static unsigned char *nested_model(size_t wraps, size_t *len) {
    size_t *size = malloc(sizeof(size_t) * (wraps + 1));
    size[0] = 0; /* innermost message is empty */
    for (size_t k = 1; k <= wraps; k++) size[k] = 1 + varint_len(size[k - 1]) + size[k - 1];
    *len = size[wraps];
    unsigned char *buf = malloc(*len), *p = buf;
    static const unsigned fields[3] = {1, 5, 6};
    for (size_t k = wraps; k >= 1; k--) {
        unsigned field = k == wraps ? 7 : fields[(wraps - 1 - k) % 3];
        *p++ = (unsigned char)((field << 3) | 2);
        for (size_t v = size[k - 1];; v >>= 7) {
            *p++ = (unsigned char)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
            if (v < 0x80) break;
        }
    }
    free(size);
    return buf;
}

static void test_deep_nesting(void) {
    /* 300000 nested messages would overflow protobuf-c's recursive unpack:
     * the pre-check refuses them first. */
    size_t len;
    unsigned char *buf = nested_model(300000, &len);
    expect_load_error(buf, len, MEC_ERR_PARSE, "nest more than 64 deep");
    free(buf);
    /* 40 levels is fine for the wire but the nodes have no op_type. */
    buf = nested_model(40, &len);
    expect_load_error(buf, len, MEC_ERR_PARSE, "no op_type");
    free(buf);
}

/* Edits of an unpacked message are undone before it is freed, so that
 * protobuf-c frees only what it allocated. */
static struct {
    void *addr;
    size_t size;
    unsigned char old[16];
} undo[8];
static int n_undo;

#define SET(field, value)                                                                        \
    do {                                                                                         \
        undo[n_undo].addr = &(field);                                                            \
        undo[n_undo].size = sizeof(field);                                                       \
        memcpy(undo[n_undo++].old, &(field), sizeof(field));                                     \
        (field) = (value);                                                                       \
    } while (0)

static void undo_all(void) {
    while (n_undo > 0) {
        n_undo--;
        memcpy(undo[n_undo].addr, undo[n_undo].old, undo[n_undo].size);
    }
}

/* Saves small_graph, lets `edit` change the ModelProto, and loads it back. */
typedef void (*model_edit)(Onnx__ModelProto *mp);

static void check_edited(model_edit edit, mec_status want, const char *needle) {
    mec_graph *g = small_graph(6);
    void *buf = NULL;
    size_t len = 0;
    CHECK_OK(mec_onnx_save_buffer(g, &buf, &len));
    mec_graph_destroy(g);
    if (!buf) return;
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    CHECK(mp != NULL);
    if (mp) {
        edit(mp);
        size_t blen;
        void *bad = pack_model(mp, &blen);
        undo_all();
        expect_load_error(bad, blen, want, needle);
        free(bad);
        onnx__model_proto__free_unpacked(mp, NULL);
    }
    mec_free(buf);
}

static Onnx__TensorProto *init0(Onnx__ModelProto *mp) { return mp->graph->initializer[0]; }

static int64_t neg_dims[1] = {-6}, huge_dims[3] = {1 << 20, 1 << 20, 1 << 20};
static int64_t many_dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 6};
static float five_floats[5] = {1, 2, 3, 4, 5};

static void edit_neg_dims(Onnx__ModelProto *mp) { SET(init0(mp)->dims, neg_dims); }
static void edit_huge_dims(Onnx__ModelProto *mp) {
    SET(init0(mp)->dims, huge_dims);
    SET(init0(mp)->n_dims, 3);
}
static void edit_many_dims(Onnx__ModelProto *mp) {
    SET(init0(mp)->dims, many_dims);
    SET(init0(mp)->n_dims, 9);
}
static void edit_raw_len(Onnx__ModelProto *mp) { SET(init0(mp)->raw_data.len, 20); }
static void edit_typed_count(Onnx__ModelProto *mp) {
    SET(init0(mp)->has_raw_data, 0);
    SET(init0(mp)->float_data, five_floats);
    SET(init0(mp)->n_float_data, 5);
}
static void edit_dtype(Onnx__ModelProto *mp) { SET(init0(mp)->data_type, 99); }
static void edit_string(Onnx__ModelProto *mp) { SET(init0(mp)->data_type, 8); }
static void edit_no_graph(Onnx__ModelProto *mp) { SET(mp->graph, NULL); }
static void edit_no_outputs(Onnx__ModelProto *mp) { SET(mp->graph->n_output, 0); }
static char missing_name[] = "nowhere";
static void edit_missing_input(Onnx__ModelProto *mp) {
    SET(mp->graph->node[1]->input[0], missing_name);
}
static char y_name[] = "y";
static void edit_cycle(Onnx__ModelProto *mp) {
    /* add0 reads relu0's output: s = x + y, y = relu(s) */
    SET(mp->graph->node[0]->input[1], y_name);
}
static Onnx__TensorProto *two_inits[2];
static void edit_dup_init(Onnx__ModelProto *mp) {
    two_inits[0] = two_inits[1] = mp->graph->initializer[0];
    SET(mp->graph->initializer, two_inits);
    SET(mp->graph->n_initializer, 2);
}
static void edit_dup_output(Onnx__ModelProto *mp) {
    SET(mp->graph->node[1]->output[0], mp->graph->node[0]->output[0]);
}

static void test_bad_models(void) {
    check_edited(edit_neg_dims, MEC_ERR_SHAPE, "initializer 'W': dims: dimension 0 is negative");
    check_edited(edit_huge_dims, MEC_ERR_SHAPE, "more than 2^40 elements");
    check_edited(edit_many_dims, MEC_ERR_UNSUPPORTED, "rank 9");
    check_edited(edit_raw_len, MEC_ERR_PARSE, "raw_data has 20 bytes, expected 24");
    check_edited(edit_typed_count, MEC_ERR_PARSE, "float_data has 5 values, expected 6");
    check_edited(edit_dtype, MEC_ERR_PARSE, "unknown data_type 99");
    check_edited(edit_string, MEC_ERR_UNSUPPORTED, "string tensors");
    check_edited(edit_no_graph, MEC_ERR_PARSE, "no graph");
    check_edited(edit_no_outputs, MEC_ERR_GRAPH, "no outputs");
    check_edited(edit_missing_input, MEC_ERR_GRAPH, "'nowhere'");
    check_edited(edit_cycle, MEC_ERR_GRAPH, "cycle");
    check_edited(edit_dup_init, MEC_ERR_GRAPH, "'W' is defined twice");
    check_edited(edit_dup_output, MEC_ERR_GRAPH, "already defined");
}

static void test_typed_fields(void) {
    /* int32_data carries f16 bits, bools and int8s; int64_data int64s. */
    Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
    Onnx__GraphProto gp = ONNX__GRAPH_PROTO__INIT;
    Onnx__TensorProto t16 = ONNX__TENSOR_PROTO__INIT, tb = ONNX__TENSOR_PROTO__INIT,
                      t64 = ONNX__TENSOR_PROTO__INIT;
    Onnx__ValueInfoProto out = ONNX__VALUE_INFO_PROTO__INIT;
    int64_t d2[1] = {2};
    int32_t h[2] = {0x3c00, 0xc000}, bools[2] = {0, 5};
    int64_t longs[2] = {-7, INT64_MAX};
    char n16[] = "h", nb[] = "b", n64[] = "l";
    t16.name = n16, t16.dims = d2, t16.n_dims = 1, t16.has_data_type = 1, t16.data_type = 10;
    t16.int32_data = h, t16.n_int32_data = 2;
    tb = t16, tb.name = nb, tb.data_type = 9, tb.int32_data = bools;
    t64 = t16, t64.name = n64, t64.data_type = 7, t64.n_int32_data = 0, t64.int64_data = longs,
    t64.n_int64_data = 2;
    Onnx__TensorProto *inits[3] = {&t16, &tb, &t64};
    gp.initializer = inits;
    gp.n_initializer = 3;
    out.name = n64;
    Onnx__ValueInfoProto *outs[1] = {&out};
    gp.output = outs;
    gp.n_output = 1;
    mp.graph = &gp;
    size_t len;
    void *buf = pack_model(&mp, &len);
    mec_graph *g = NULL;
    CHECK_OK(mec_onnx_load_buffer(buf, len, NULL, "typed.onnx", &g));
    if (g) {
        const mec_tensor *a = g->values[mec_graph_find(g, "h")].init;
        const mec_tensor *b = g->values[mec_graph_find(g, "b")].init;
        const mec_tensor *c = g->values[mec_graph_find(g, "l")].init;
        CHECK(a && a->dtype == MEC_F16 && mec_tensor_get_f64(a, 0) == 1.0 &&
              mec_tensor_get_f64(a, 1) == -2.0);
        CHECK(b && b->dtype == MEC_BOOL && mec_tensor_get_i64(b, 0) == 0 &&
              mec_tensor_get_i64(b, 1) == 1);
        CHECK(c && c->dtype == MEC_I64 && mec_tensor_get_i64(c, 0) == -7 &&
              mec_tensor_get_i64(c, 1) == INT64_MAX);
        mec_graph_destroy(g);
    }
    free(buf);
}

static void test_clone_and_prune(void) {
    /* x -> Add(W) -> s -> Relu -> y (output); s -> Neg(V) -> dead; unused U */
    mec_graph *g = small_graph(4);
    if (!g) return;
    mec_tensor *v, *u;
    int64_t d[1] = {4};
    CHECK_OK(mec_tensor_create(&v, MEC_F32, 1, d));
    CHECK_OK(mec_tensor_create(&u, MEC_F32, 1, d));
    CHECK_OK(mec_graph_add_initializer(g, "V", v, NULL));
    CHECK_OK(mec_graph_add_initializer(g, "U", u, NULL));
    const char *mul_in[2] = {"s", "V"}, *mul_out[1] = {"dead"}, *neg_out[1] = {"dead2"};
    CHECK_OK(mec_graph_add_node(g, "Mul", "", "mul0", 2, mul_in, 1, mul_out, NULL));
    CHECK_OK(mec_graph_add_node(g, "Neg", "", "neg0", 1, mul_out, 1, neg_out, NULL));
    mec_graph *c = NULL;
    CHECK_OK(mec_graph_clone(g, &c));
    char why[256] = "";
    CHECK(c && graphs_equal(g, c, why, sizeof why));
    CHECK_OK(mec_graph_prune(g));
    CHECK(g->n_nodes == 2);
    CHECK_STR(g->nodes[0].name, "add0");
    CHECK_STR(g->nodes[1].name, "relu0");
    CHECK(mec_graph_find(g, "V") < 0 && mec_graph_find(g, "U") < 0);
    CHECK(mec_graph_find(g, "dead") < 0);
    int w = mec_graph_find(g, "W");
    CHECK(w >= 0 && g->values[w].init != NULL);
    CHECK(g->nodes[0].in[1] == w);
    CHECK(g->n_inputs == 1 && !strcmp(g->values[g->inputs[0]].name, "x"));
    CHECK(g->n_outputs == 1 && g->values[g->outputs[0]].producer == 1);
    CHECK_OK(mec_graph_toposort(g));
    /* the clone is independent of the pruned original */
    CHECK(c && c->n_nodes == 4 && mec_graph_find(c, "V") >= 0);
    /* a pruned graph still saves and loads */
    void *buf = NULL;
    size_t len;
    mec_graph *h = NULL;
    CHECK_OK(mec_onnx_save_buffer(g, &buf, &len));
    if (buf) CHECK_OK(mec_onnx_load_buffer(buf, len, NULL, "pruned", &h));
    CHECK(h && h->n_nodes == 2);
    mec_free(buf);
    mec_graph_destroy(h);
    mec_graph_destroy(c);
    mec_graph_destroy(g);
}

static void test_prune_keeps_captured(void) {
    /* test_if: the branches read nothing from outside; build one that does:
     * Loop/If bodies capture outer values by name. */
    mec_graph *g = NULL, *body = NULL;
    CHECK_OK(mec_graph_create("outer", &g));
    CHECK_OK(mec_graph_create("then", &body));
    int64_t d[1] = {1};
    CHECK_OK(mec_graph_add_input(g, "cond", MEC_BOOL, 0, d, NULL, NULL));
    CHECK_OK(mec_graph_add_input(g, "x", MEC_F32, 1, d, NULL, NULL));
    const char *in_x[1] = {"x"}, *out_cap[1] = {"captured"}, *out_r[1] = {"r"};
    CHECK_OK(mec_graph_add_node(g, "Neg", "", "producer_of_captured", 1, in_x, 1, out_cap, NULL));
    const char *b_in[1] = {"captured"}, *b_out[1] = {"b"};
    CHECK_OK(mec_graph_add_node(body, "Identity", "", "id", 1, b_in, 1, b_out, NULL));
    CHECK_OK(mec_graph_add_output(body, "b", NULL));
    const char *if_in[1] = {"cond"};
    int node;
    CHECK_OK(mec_graph_add_node(g, "If", "", "if0", 1, if_in, 1, out_r, &node));
    mec_attr a;
    memset(&a, 0, sizeof a);
    a.name = mec_strdup("then_branch");
    a.type = MEC_ATTR_GRAPH;
    a.g = body;
    CHECK_OK(mec_node_add_attr(g, node, &a));
    CHECK_OK(mec_graph_add_output(g, "r", NULL));
    CHECK_OK(mec_graph_prune(g));
    CHECK(g->n_nodes == 2); /* Neg is needed by the If body */
    mec_graph_destroy(g);
}

static void test_alloc_failures(void) {
    void *model;
    size_t len;
    CHECK_OK(mec_file_read(TESTDATA "/node/test_if/model.onnx", 1 << 20, &model, &len));
    if (!model) return;
    mec_graph *ref = NULL;
    CHECK_OK(mec_onnx_load_buffer(model, len, NULL, "if.onnx", &ref));
    int failures = 0, ok_runs = 0;
    for (long n = 0; n < 400; n++) {
        mec_graph *g = NULL, *c = NULL;
        void *buf = NULL;
        size_t blen;
        mec_alloc_fail_after(n);
        mec_status st = mec_onnx_load_buffer(model, len, NULL, "if.onnx", &g);
        if (st == MEC_OK) {
            mec_alloc_fail_after(n / 2);
            st = mec_onnx_save_buffer(g, &buf, &blen);
            if (st == MEC_OK) {
                mec_alloc_fail_after(n / 4);
                st = mec_graph_clone(g, &c);
            }
        }
        mec_alloc_fail_after(-1);
        if (st) {
            failures++;
            if (st != MEC_ERR_NOMEM) fprintf(stderr, "  n=%ld st=%d %s\n", n, (int)st, mec_last_error());
            CHECK(st == MEC_ERR_NOMEM);
            CHECK(strstr(mec_last_error(), "out of memory") != NULL);
        } else {
            ok_runs++;
        }
        mec_free(buf);
        mec_graph_destroy(c);
        mec_graph_destroy(g);
    }
    CHECK(failures > 100 && ok_runs > 0);
    mec_graph_destroy(ref);
    mec_free(model);
}

static void cleanup_tmp(void) {
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') unlink(tmp_path(e->d_name));
    closedir(d);
    rmdir(tmpdir);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mec_test_onnx_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_load_add);
    RUN(test_load_attrs_and_subgraph);
    RUN(test_roundtrip_testdata);
    RUN(test_save_file_and_checker);
    RUN(test_external_data);
    RUN(test_truncated_and_corrupt);
    RUN(test_deep_nesting);
    RUN(test_bad_models);
    RUN(test_typed_fields);
    RUN(test_clone_and_prune);
    RUN(test_prune_keeps_captured);
    RUN(test_alloc_failures);
    cleanup_tmp();
    return TEST_SUMMARY();
}
