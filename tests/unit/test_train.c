/* The training engine end to end: two optimiser steps (SGD and AdamW) on a
 * tiny CNN and a tiny transformer layer cross-checked against PyTorch
 * (tests/data/train/, from scripts/gen_train_reference.py), loss decreasing
 * over 20 steps, bit-identical resume from a checkpoint, mixed batch sizes,
 * export to an inference graph that a session runs, LR schedules, errors. */
#include "mec/runtime.h"
#include "mec/train.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef MEC_TEST_DATA
#define MEC_TEST_DATA "tests/data"
#endif

/* ------------------------------------------------------ reference files */

#define REF_MAX 128
typedef struct ref_file {
    int n;
    char name[REF_MAX][64];
    mec_tensor *t[REF_MAX];
} ref_file;

static bool ref_load(const char *path, ref_file *r) {
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "  cannot open %s\n", path);
        return false;
    }
    char name[64];
    int ndim;
    while (r->n < REF_MAX && fscanf(f, "%63s %d", name, &ndim) == 2) {
        int64_t dims[8];
        for (int d = 0; d < ndim; d++) {
            long long v;
            if (fscanf(f, "%lld", &v) != 1) break;
            dims[d] = v;
        }
        bool is_int = !strcmp(name, "labels") || strstr(name, "ids");
        mec_tensor *t = NULL;
        if (mec_tensor_create(&t, is_int ? MEC_I64 : MEC_F32, ndim, dims)) break;
        for (int64_t i = 0; i < mec_tensor_numel(t); i++) {
            double v;
            if (fscanf(f, "%lf", &v) != 1) break;
            if (is_int) ((int64_t *)t->data)[i] = (int64_t)v;
            else ((float *)t->data)[i] = (float)v;
        }
        snprintf(r->name[r->n], sizeof r->name[0], "%s", name);
        r->t[r->n++] = t;
    }
    fclose(f);
    return r->n > 0;
}

static const mec_tensor *ref_get(const ref_file *r, const char *name) {
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->name[i], name)) return r->t[i];
    fprintf(stderr, "  reference has no '%s'\n", name);
    return NULL;
}

static void ref_free(ref_file *r) {
    for (int i = 0; i < r->n; i++) mec_tensor_destroy(r->t[i]);
}

/* ------------------------------------------------------------ builders */

#define S(...) ((const int64_t[]){__VA_ARGS__})
#define IN(...) ((const char *const[]){__VA_ARGS__})

static int node(mec_graph *g, const char *op, int n_in, const char *const *in, const char *out) {
    int id = -1;
    CHECK_OK(mec_graph_add_node(g, op, "", out, n_in, in, 1, &out, &id));
    return id;
}

/* Initializers "init.<name>" of the reference become <name>. */
static void init_from_ref(mec_graph *g, const ref_file *r) {
    for (int i = 0; i < r->n; i++) {
        if (strncmp(r->name[i], "init.", 5)) continue;
        mec_tensor *t = NULL;
        CHECK_OK(mec_tensor_clone(r->t[i], &t));
        CHECK_OK(mec_graph_add_initializer(g, r->name[i] + 5, t, NULL));
    }
}

static void const_f32(mec_graph *g, const char *name, float v) {
    mec_tensor *t = NULL;
    CHECK_OK(mec_tensor_create(&t, MEC_F32, 0, NULL));
    ((float *)t->data)[0] = v;
    CHECK_OK(mec_graph_add_initializer(g, name, t, NULL));
}

static void const_i64(mec_graph *g, const char *name, int ndim, const int64_t *shape, const int64_t *v) {
    mec_tensor *t = NULL;
    CHECK_OK(mec_tensor_create(&t, MEC_I64, ndim, shape));
    memcpy(t->data, v, mec_tensor_bytes(t));
    CHECK_OK(mec_graph_add_initializer(g, name, t, NULL));
}

static mec_graph *build_cnn(const ref_file *r) {
    mec_graph *g = NULL;
    CHECK_OK(mec_graph_create("tiny_cnn", &g));
    mec_graph_set_opset(g, "", 17);
    const char *dn[4] = {"N", NULL, NULL, NULL};
    CHECK_OK(mec_graph_add_input(g, "x", MEC_F32, 4, S(-1, 3, 8, 8), dn, NULL));
    init_from_ref(g, r);
    int id = node(g, "Conv", 2, IN("x", "conv1.w"), "c1");
    mec_node_set_ints(g, id, "pads", 4, S(1, 1, 1, 1));
    node(g, "BatchNormalization", 5, IN("c1", "bn1.scale", "bn1.bias", "bn1.mean", "bn1.var"), "b1");
    node(g, "Relu", 1, IN("b1"), "r1");
    id = node(g, "Conv", 2, IN("r1", "conv2.w"), "c2");
    mec_node_set_ints(g, id, "pads", 4, S(1, 1, 1, 1));
    mec_node_set_ints(g, id, "strides", 2, S(2, 2));
    mec_node_set_int(g, id, "group", 2);
    node(g, "BatchNormalization", 5, IN("c2", "bn2.scale", "bn2.bias", "bn2.mean", "bn2.var"), "b2");
    node(g, "Relu", 1, IN("b2"), "r2");
    node(g, "GlobalAveragePool", 1, IN("r2"), "gap");
    node(g, "Flatten", 1, IN("gap"), "flat");
    id = node(g, "Gemm", 3, IN("flat", "fc.w", "fc.b"), "logits");
    mec_node_set_int(g, id, "transB", 1);
    CHECK_OK(mec_graph_add_output(g, "logits", NULL));
    return g;
}

/* y = x @ w + b */
static void linear(mec_graph *g, const char *x, const char *w, const char *b, const char *mm, const char *y) {
    node(g, "MatMul", 2, (const char *const[]){x, w}, mm);
    node(g, "Add", 2, (const char *const[]){mm, b}, y);
}

static mec_graph *build_transformer(const ref_file *r) {
    mec_graph *g = NULL;
    CHECK_OK(mec_graph_create("tiny_transformer", &g));
    mec_graph_set_opset(g, "", 17);
    const char *dn[2] = {"batch", NULL};
    CHECK_OK(mec_graph_add_input(g, "ids", MEC_I64, 2, S(-1, 5), dn, NULL));
    init_from_ref(g, r);
    const_f32(g, "inv_sqrt_dh", 0.5f); /* 1 / sqrt(4) */
    const_f32(g, "sqrt2", 1.41421356237f);
    const_f32(g, "one", 1.0f);
    const_f32(g, "half", 0.5f);
    const_i64(g, "heads_shape", 1, S(4), S(0, 0, 2, 4));
    const_i64(g, "merge_shape", 1, S(3), S(0, 0, 8));
    const_i64(g, "first", 0, NULL, S(0));
    node(g, "Gather", 2, IN("tok", "ids"), "emb");
    node(g, "Add", 2, IN("emb", "pos"), "x0");
    node(g, "LayerNormalization", 3, IN("x0", "ln0.s", "ln0.b"), "x1");
    linear(g, "x1", "q.w", "q.b", "qm", "q");
    node(g, "MatMul", 2, IN("x1", "k.w"), "k");
    linear(g, "x1", "v.w", "v.b", "vm", "v");
    node(g, "Reshape", 2, IN("q", "heads_shape"), "qr");
    node(g, "Reshape", 2, IN("k", "heads_shape"), "kr");
    node(g, "Reshape", 2, IN("v", "heads_shape"), "vr");
    int id = node(g, "Transpose", 1, IN("qr"), "qh");
    mec_node_set_ints(g, id, "perm", 4, S(0, 2, 1, 3));
    id = node(g, "Transpose", 1, IN("kr"), "kt");
    mec_node_set_ints(g, id, "perm", 4, S(0, 2, 3, 1));
    id = node(g, "Transpose", 1, IN("vr"), "vh");
    mec_node_set_ints(g, id, "perm", 4, S(0, 2, 1, 3));
    node(g, "MatMul", 2, IN("qh", "kt"), "scores");
    node(g, "Mul", 2, IN("scores", "inv_sqrt_dh"), "scaled");
    id = node(g, "Softmax", 1, IN("scaled"), "attn");
    mec_node_set_int(g, id, "axis", -1);
    node(g, "MatMul", 2, IN("attn", "vh"), "ctx");
    id = node(g, "Transpose", 1, IN("ctx"), "ctx_t");
    mec_node_set_ints(g, id, "perm", 4, S(0, 2, 1, 3));
    node(g, "Reshape", 2, IN("ctx_t", "merge_shape"), "ctx_m");
    linear(g, "ctx_m", "o.w", "o.b", "om", "o");
    node(g, "Add", 2, IN("x1", "o"), "res1");
    node(g, "LayerNormalization", 3, IN("res1", "ln1.s", "ln1.b"), "x2");
    linear(g, "x2", "ff1.w", "ff1.b", "h0m", "h0");
    node(g, "Div", 2, IN("h0", "sqrt2"), "g1");
    node(g, "Erf", 1, IN("g1"), "g2");
    node(g, "Add", 2, IN("g2", "one"), "g3");
    node(g, "Mul", 2, IN("h0", "g3"), "g4");
    node(g, "Mul", 2, IN("g4", "half"), "gelu");
    linear(g, "gelu", "ff2.w", "ff2.b", "f2m", "f2");
    node(g, "Add", 2, IN("x2", "f2"), "res2");
    node(g, "LayerNormalization", 3, IN("res2", "ln2.s", "ln2.b"), "x3");
    id = node(g, "Gather", 2, IN("x3", "first"), "cls_in");
    mec_node_set_int(g, id, "axis", 1);
    id = node(g, "Gemm", 3, IN("cls_in", "cls.w", "cls.b"), "logits");
    mec_node_set_int(g, id, "transB", 1);
    CHECK_OK(mec_graph_add_output(g, "logits", NULL));
    return g;
}

static void config_for(mec_train_config *cfg, const char *opt) {
    mec_train_config_default(cfg);
    cfg->label_smoothing = 0.1f;
    cfg->threads = 1;
    if (!strcmp(opt, "sgd")) {
        cfg->optim = MEC_OPTIM_SGD;
        cfg->lr = 0.1f;
        cfg->momentum = 0.9f;
        cfg->weight_decay = 1e-4f;
    } else {
        cfg->optim = MEC_OPTIM_ADAMW;
        cfg->lr = 0.01f;
        cfg->weight_decay = 0.01f;
    }
}

/* max |a - b| / (max |b| over the tensor) */
static double rel_err(const mec_tensor *a, const mec_tensor *b) {
    double num = 0.0, den = 1e-12;
    for (int64_t i = 0; i < mec_tensor_numel(b); i++) {
        double x = mec_tensor_get_f64(a, i), y = mec_tensor_get_f64(b, i);
        num = fabs(x - y) > num ? fabs(x - y) : num;
        den = fabs(y) > den ? fabs(y) : den;
    }
    return num / den;
}

/* Two steps with optimiser opt; compares losses and every parameter/buffer. */
static void cross_check(const char *file, mec_graph *(*build)(const ref_file *), const char *input,
                        const char *opt) {
    char path[512];
    snprintf(path, sizeof path, "%s/train/%s", MEC_TEST_DATA, file);
    ref_file r;
    CHECK(ref_load(path, &r));
    if (!r.n) return;
    mec_graph *g = build(&r);
    mec_train_config cfg;
    config_for(&cfg, opt);
    mec_trainer *tr = NULL;
    CHECK_OK(mec_train_create(g, &cfg, &tr));
    mec_graph_destroy(g);
    if (!tr) {
        ref_free(&r);
        return;
    }
    char key[128], in_name[64];
    snprintf(in_name, sizeof in_name, "input.%s", input);
    const mec_tensor *x = ref_get(&r, in_name);
    const char *names[1] = {input};
    mec_train_batch b = {1, names, &x, ref_get(&r, "labels"), NULL};
    double worst = 0.0;
    for (int step = 0; step < 2; step++) {
        float loss = 0;
        CHECK_OK(mec_train_step(tr, &b, &loss));
        snprintf(key, sizeof key, "%s.loss%d", opt, step);
        const mec_tensor *want = ref_get(&r, key);
        if (want) {
            CHECK_REL(loss, ((float *)want->data)[0], 1e-5);
            printf("  %s %s step %d: loss %.7f, PyTorch %.7f\n", file, opt, step, loss, ((float *)want->data)[0]);
        }
    }
    mec_graph *out = NULL;
    CHECK_OK(mec_train_export(tr, &out));
    int compared = 0;
    for (int i = 0; i < r.n && out; i++) {
        size_t ol = strlen(opt);
        if (strncmp(r.name[i], opt, ol) || r.name[i][ol] != '.' || strstr(r.name[i], ".loss")) continue;
        const char *pname = r.name[i] + ol + 1;
        int v = mec_graph_find(out, pname);
        CHECK(v >= 0 && out->values[v].init);
        if (v < 0 || !out->values[v].init) continue;
        double e = rel_err(out->values[v].init, r.t[i]);
        worst = e > worst ? e : worst;
        if (e > 1e-4) fprintf(stderr, "  %s %s: '%s' differs from PyTorch (rel %.3g)\n", file, opt, pname, e);
        CHECK(e <= 1e-4);
        compared++;
    }
    printf("  %s %s: %d tensors after 2 steps, worst relative difference %.3g\n", file, opt, compared, worst);
    CHECK(compared >= 10);
    mec_graph_destroy(out);
    mec_train_destroy(tr);
    ref_free(&r);
}

static void test_train_cnn_sgd_vs_pytorch(void) { cross_check("cnn.txt", build_cnn, "x", "sgd"); }
static void test_train_cnn_adamw_vs_pytorch(void) { cross_check("cnn.txt", build_cnn, "x", "adamw"); }
static void test_train_transformer_sgd_vs_pytorch(void) {
    cross_check("transformer.txt", build_transformer, "ids", "sgd");
}
static void test_train_transformer_adamw_vs_pytorch(void) {
    cross_check("transformer.txt", build_transformer, "ids", "adamw");
}

/* ---------------------------------------------------------- behaviours */

static mec_trainer *cnn_trainer(ref_file *r, mec_optim_kind optim) {
    char path[512];
    snprintf(path, sizeof path, "%s/train/cnn.txt", MEC_TEST_DATA);
    if (!ref_load(path, r)) return NULL;
    mec_graph *g = build_cnn(r);
    mec_train_config cfg;
    config_for(&cfg, optim == MEC_OPTIM_SGD ? "sgd" : "adamw");
    cfg.clip_norm = 5.0f;
    cfg.schedule = MEC_LR_COSINE;
    cfg.warmup_steps = 3;
    cfg.total_steps = 40;
    mec_trainer *tr = NULL;
    CHECK_OK(mec_train_create(g, &cfg, &tr));
    mec_graph_destroy(g);
    return tr;
}

static void test_train_loss_decreases(void) {
    ref_file r;
    mec_trainer *tr = cnn_trainer(&r, MEC_OPTIM_SGD);
    CHECK(tr != NULL);
    if (!tr) return;
    const char *names[1] = {"x"};
    const mec_tensor *x = ref_get(&r, "input.x");
    mec_train_batch b = {1, names, &x, ref_get(&r, "labels"), NULL};
    float first = 0, last = 0;
    for (int s = 0; s < 20; s++) {
        float loss;
        CHECK_OK(mec_train_step(tr, &b, &loss));
        if (s == 0) first = loss;
        last = loss;
    }
    printf("  20 SGD steps on a fixed batch: loss %.4f -> %.4f\n", first, last);
    CHECK(last < 0.5f * first);
    CHECK(mec_train_steps_done(tr) == 20);
    mec_train_destroy(tr);
    ref_free(&r);
}

static void test_train_checkpoint_resume(void) {
    for (int o = 0; o < 2; o++) {
        mec_optim_kind kind = o ? MEC_OPTIM_ADAMW : MEC_OPTIM_SGD;
        ref_file r1, r2;
        mec_trainer *a = cnn_trainer(&r1, kind), *b = cnn_trainer(&r2, kind);
        CHECK(a && b);
        if (!a || !b) return;
        const char *names[1] = {"x"};
        const mec_tensor *x = ref_get(&r1, "input.x");
        mec_train_batch batch = {1, names, &x, ref_get(&r1, "labels"), NULL};
        float la[6], lb[6];
        char path[] = "/tmp/mec_train_ckpt_XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        close(fd);
        for (int s = 0; s < 3; s++) CHECK_OK(mec_train_step(a, &batch, &la[s]));
        mec_train_set_epoch(a, 7);
        CHECK_OK(mec_train_save(a, path));
        for (int s = 3; s < 6; s++) CHECK_OK(mec_train_step(a, &batch, &la[s]));
        /* b starts fresh, resumes from the file and must continue bit-identically */
        CHECK_OK(mec_train_load(b, path));
        CHECK(mec_train_steps_done(b) == 3);
        CHECK(mec_train_epoch(b) == 7);
        for (int s = 3; s < 6; s++) {
            CHECK_OK(mec_train_step(b, &batch, &lb[s]));
            CHECK(memcmp(&la[s], &lb[s], sizeof(float)) == 0);
        }
        for (int p = 0; p < mec_train_param_count(a); p++) {
            mec_tensor *wa, *wb;
            CHECK_OK(mec_train_param(a, p, NULL, &wa, NULL));
            CHECK_OK(mec_train_param(b, p, NULL, &wb, NULL));
            CHECK(memcmp(wa->data, wb->data, mec_tensor_bytes(wa)) == 0);
        }
        /* a damaged file is refused with a message, and changes nothing */
        FILE *f = fopen(path, "r+b");
        CHECK(f != NULL);
        if (f) {
            fseek(f, 60, SEEK_SET);
            fputc(0x5a, f);
            fclose(f);
        }
        CHECK(mec_train_load(b, path) == MEC_ERR_PARSE);
        CHECK(strstr(mec_last_error(), "checksum") != NULL);
        remove(path);
        mec_train_destroy(a);
        mec_train_destroy(b);
        ref_free(&r1);
        ref_free(&r2);
    }
}

static void test_train_mixed_batch_and_export(void) {
    ref_file r;
    mec_trainer *tr = cnn_trainer(&r, MEC_OPTIM_ADAMW);
    CHECK(tr != NULL);
    if (!tr) return;
    const mec_tensor *x4 = ref_get(&r, "input.x"), *y4 = ref_get(&r, "labels");
    /* batch of 3 then 4 then 1 (BN needs > 1 value per channel: 1x4x4 spatial suffices) */
    for (int nb = 3; nb >= 1; nb -= 1) {
        mec_tensor *x = NULL, *y = NULL;
        CHECK_OK(mec_tensor_create(&x, MEC_F32, 4, S(nb, 3, 8, 8)));
        CHECK_OK(mec_tensor_create(&y, MEC_I64, 1, S(nb)));
        memcpy(x->data, x4->data, mec_tensor_bytes(x));
        memcpy(y->data, y4->data, mec_tensor_bytes(y));
        const char *names[1] = {"x"};
        const mec_tensor *xs = x;
        mec_train_batch b = {1, names, &xs, y, NULL};
        float loss;
        CHECK_OK(mec_train_step(tr, &b, &loss));
        CHECK(isfinite(loss));
        mec_tensor_destroy(x);
        mec_tensor_destroy(y);
    }
    /* eval mode (running statistics) agrees with a session over the exported graph */
    const char *names[1] = {"x"};
    mec_tensor *logits = NULL, *sess_out[1] = {NULL};
    CHECK_OK(mec_train_eval(tr, 1, names, &x4, &logits));
    mec_graph *g = NULL;
    CHECK_OK(mec_train_export(tr, &g));
    mec_sess *s = NULL;
    mec_sess_options so;
    mec_sess_options_default(&so);
    so.threads = 1;
    CHECK_OK(mec_sess_create(g, &so, &s));
    if (s && logits) {
        CHECK_OK(mec_sess_run(s, 1, names, &x4, 1, NULL, sess_out));
        if (sess_out[0]) CHECK(rel_err(logits, sess_out[0]) < 1e-5);
    }
    mec_tensor_destroy(sess_out[0]);
    mec_sess_destroy(s);
    mec_graph_destroy(g);
    mec_tensor_destroy(logits);
    mec_train_destroy(tr);
    ref_free(&r);
}

static void test_train_lr_schedules(void) {
    mec_train_config c;
    mec_train_config_default(&c);
    c.lr = 1.0f;
    CHECK_NEAR(mec_train_lr(&c, 100), 1.0, 0);
    c.warmup_steps = 4;
    c.total_steps = 14;
    c.schedule = MEC_LR_COSINE;
    CHECK_NEAR(mec_train_lr(&c, 0), 0.25, 1e-7);
    CHECK_NEAR(mec_train_lr(&c, 3), 1.0, 1e-7);
    CHECK_NEAR(mec_train_lr(&c, 4), 1.0, 1e-7);
    CHECK_NEAR(mec_train_lr(&c, 9), 0.5, 1e-6);
    CHECK_NEAR(mec_train_lr(&c, 14), 0.0, 1e-7);
    CHECK_NEAR(mec_train_lr(&c, 99), 0.0, 1e-7);
    c.schedule = MEC_LR_LINEAR;
    c.min_lr = 0.1f;
    CHECK_NEAR(mec_train_lr(&c, 9), 0.55, 1e-6);
    c.schedule = MEC_LR_STEP;
    c.step_size = 3;
    c.gamma = 0.5f;
    CHECK_NEAR(mec_train_lr(&c, 4), 1.0, 1e-7);
    CHECK_NEAR(mec_train_lr(&c, 7), 0.5, 1e-7);
    CHECK_NEAR(mec_train_lr(&c, 10), 0.25, 1e-7);
}

static void test_train_rejects_untrainable(void) {
    /* an op with no backward on a parameter's path is reported at create */
    mec_graph *g = NULL;
    CHECK_OK(mec_graph_create("bad", &g));
    mec_graph_set_opset(g, "", 17);
    CHECK_OK(mec_graph_add_input(g, "x", MEC_F32, 2, S(2, 3), NULL, NULL));
    mec_tensor *w = NULL;
    CHECK_OK(mec_tensor_create(&w, MEC_F32, 2, S(3, 3)));
    CHECK_OK(mec_graph_add_initializer(g, "w", w, NULL));
    node(g, "MatMul", 2, IN("x", "w"), "h");
    node(g, "Softsign", 1, IN("h"), "y");
    CHECK_OK(mec_graph_add_output(g, "y", NULL));
    mec_trainer *tr = NULL;
    CHECK(mec_train_create(g, NULL, &tr) == MEC_ERR_UNSUPPORTED);
    CHECK(strstr(mec_last_error(), "Softsign") != NULL);
    CHECK(tr == NULL);
    mec_graph_destroy(g);
}

int main(void) {
    RUN(test_train_cnn_sgd_vs_pytorch);
    RUN(test_train_cnn_adamw_vs_pytorch);
    RUN(test_train_transformer_sgd_vs_pytorch);
    RUN(test_train_transformer_adamw_vs_pytorch);
    RUN(test_train_loss_decreases);
    RUN(test_train_checkpoint_resume);
    RUN(test_train_mixed_batch_and_export);
    RUN(test_train_lr_schedules);
    RUN(test_train_rejects_untrainable);
    return TEST_SUMMARY();
}
