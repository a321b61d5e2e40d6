/* mecbench train: trains a zoo preset or an ONNX model on one of the data
 * layer's datasets with the C training engine; writes the exported model,
 * a resumable checkpoint each epoch and metrics.json; reuses an earlier
 * result with the same content hash instead of training again. */
#include "cli.h"
#include "train_common.h"

#include "mec/onnx.h"
#include "mec/train.h"
#include "mec/zoo.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define METRICS_VERSION 1
#define MAX_EPOCHS 1000

static void usage(FILE *f) {
    fprintf(f,
            "usage: mecbench train PRESET|MODEL.onnx --dataset NAME [options]\n\n"
            "Trains a zoo preset (resnet-small, resnext-small, fcn-small, duc-small, bert-small,\n"
            "roberta-small, ...) or an ONNX model with mecbench's training engine, then evaluates\n"
            "it on the test split. Writes to DIR: model.onnx (the trained inference graph),\n"
            "checkpoint.mecckpt (each epoch; --resume continues from it), metrics.json (per\n"
            "epoch train loss and validation metric; final test metrics), and tokenizer.txt for\n"
            "text. A run whose model, data, split sizes, hyperparameters and seed hash the same\n"
            "as an earlier complete run is not repeated: its result is shown (--force retrains).\n\n"
            "datasets: fashion-mnist (classification, top-1/top-5), fashion-seg (segmentation,\n"
            "mIoU/pixel accuracy), fortunes (text classification, accuracy/macro-F1)\n\n"
            "options:\n"
            "  --dataset NAME         fashion-mnist | fashion-seg | fortunes (required)\n"
            "  --epochs N             epochs (default: per preset, see docs/training.md)\n"
            "  --batch N              batch size (default: per preset)\n"
            "  --lr X                 peak learning rate (default: per preset)\n"
            "  --optimizer NAME       sgd (momentum 0.9, Nesterov) | adamw (default: per preset)\n"
            "  --weight-decay X       L2 (sgd) or decoupled (adamw) decay (default: per preset)\n"
            "  --schedule NAME        cosine | step | constant (default cosine)\n"
            "  --warmup STEPS         linear warm-up steps (default: per preset)\n"
            "  --clip X               global gradient-norm clipping, 0 = off (default: per preset)\n"
            "  --seed N               seed of weights, data order and dropout (default 0)\n"
            "  --subset N             train on the first N items of the shuffled train split\n"
            "  --val-subset N         validate on N items (default: the whole split)\n"
            "  --test-subset N        test on N items (default: the whole split)\n"
            "  --max-len N            text: tokens per item incl. [CLS]/[SEP] (default 128)\n"
            "  --threads N            threads (default: cores available)\n"
            "  --out DIR              where results go (default: the cache folder)\n"
            "  --cache-dir DIR        cache root (default $MECBENCH_CACHE, else\n"
            "                         $XDG_CACHE_HOME/mecbench/train, else ~/.cache/mecbench/train)\n"
            "  --resume               continue from DIR/checkpoint.mecckpt\n"
            "  --stop-after N         stop after N epochs of this run, leaving a resumable checkpoint\n"
            "  --force                train even when a cached result exists\n"
            "  --json                 print metrics.json on stdout at the end\n"
            "  -h, --help             this help\n\n"
            "Progress goes to stderr: a live bar on a terminal, one line per epoch otherwise.\n"
            "Set OMP_WAIT_POLICY=passive on a shared machine (mecbench train sets it for itself\n"
            "when it is unset).\n");
}

/* ------------------------------------------------------------- defaults */

typedef struct train_hp {
    int epochs;
    int batch;
    float lr;
    mec_optim_kind optim;
    mec_lr_schedule schedule;
    int warmup;
    float clip;
    float weight_decay;
    float label_smoothing;
} train_hp;

typedef struct preset_default {
    const char *family;
    train_hp hp;
} preset_default;

/* Tuned so each small preset trains within about ten minutes on two cores
 * (docs/training.md, "Results"; the segmenters' 2 epochs are 100 000 fresh
 * canvases: fashion-seg's train split has 50 000). */
static const preset_default preset_defaults[] = {
    {"resnet", {6, 128, 0.1f, MEC_OPTIM_SGD, MEC_LR_COSINE, 100, 0.0f, 5e-4f, 0.0f}},
    {"resnext", {5, 128, 0.1f, MEC_OPTIM_SGD, MEC_LR_COSINE, 100, 0.0f, 5e-4f, 0.0f}},
    {"fcn", {2, 32, 0.2f, MEC_OPTIM_SGD, MEC_LR_COSINE, 100, 0.0f, 1e-4f, 0.0f}},
    {"duc", {2, 32, 0.2f, MEC_OPTIM_SGD, MEC_LR_COSINE, 100, 0.0f, 1e-4f, 0.0f}},
    {"bert", {6, 32, 5e-4f, MEC_OPTIM_ADAMW, MEC_LR_COSINE, 100, 1.0f, 0.01f, 0.0f}},
    {"roberta", {6, 32, 5e-4f, MEC_OPTIM_ADAMW, MEC_LR_COSINE, 100, 1.0f, 0.01f, 0.0f}},
};

static train_hp default_hp(const char *family, mec_task task, bool text) {
    for (size_t i = 0; family && i < sizeof preset_defaults / sizeof preset_defaults[0]; i++)
        if (!strcmp(preset_defaults[i].family, family)) return preset_defaults[i].hp;
    train_hp hp = {5, 64, 0.05f, MEC_OPTIM_SGD, MEC_LR_COSINE, 100, 0.0f, 1e-4f, 0.0f};
    if (text) hp = (train_hp){10, 32, 5e-4f, MEC_OPTIM_ADAMW, MEC_LR_COSINE, 100, 1.0f, 0.01f, 0.0f};
    else if (task == MEC_TASK_SEGMENT) hp.batch = 32;
    return hp;
}

/* ------------------------------------------------------------- options */

typedef struct train_opts {
    const char *model;
    const char *dataset;
    long epochs, batch, warmup, seed, subset, val_subset, test_subset, max_len, threads, stop_after;
    double lr, clip, weight_decay;
    const char *optimizer, *schedule;
    const char *out, *cache_dir;
    bool resume, force, json;
} train_opts;

static bool parse_float(const char *s, double lo, double hi, double *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !(v >= lo && v <= hi)) return false;
    *out = v;
    return true;
}

/* Returns 0 to go on, else the exit code + 1. */
static int parse_args(int argc, char **argv, train_opts *o) {
    memset(o, 0, sizeof *o);
    o->epochs = o->batch = o->warmup = o->max_len = o->threads = -1;
    o->lr = o->clip = o->weight_decay = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        const char *v = has_val ? argv[i + 1] : NULL;
        bool ok = true;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "--resume")) o->resume = true;
        else if (!strcmp(a, "--force")) o->force = true;
        else if (!strcmp(a, "--json")) o->json = true;
        else if (a[0] == '-' && a[1] == '-' && !has_val) {
            fprintf(stderr, "mecbench train: option '%s' needs a value (or is unknown; see --help)\n", a);
            return 3;
        } else if (!strcmp(a, "--dataset")) o->dataset = argv[++i];
        else if (!strcmp(a, "--epochs")) ok = mec_cli_parse_int(argv[++i], 1, MAX_EPOCHS, &o->epochs);
        else if (!strcmp(a, "--batch")) ok = mec_cli_parse_int(argv[++i], 1, 65536, &o->batch);
        else if (!strcmp(a, "--lr")) ok = parse_float(argv[++i], 1e-9, 100, &o->lr);
        else if (!strcmp(a, "--optimizer")) {
            o->optimizer = argv[++i];
            ok = !strcmp(v, "sgd") || !strcmp(v, "adamw");
        } else if (!strcmp(a, "--schedule")) {
            o->schedule = argv[++i];
            ok = !strcmp(v, "cosine") || !strcmp(v, "step") || !strcmp(v, "constant");
        } else if (!strcmp(a, "--warmup")) ok = mec_cli_parse_int(argv[++i], 0, 100000000, &o->warmup);
        else if (!strcmp(a, "--clip")) ok = parse_float(argv[++i], 0, 1e9, &o->clip);
        else if (!strcmp(a, "--weight-decay")) ok = parse_float(argv[++i], 0, 10, &o->weight_decay);
        else if (!strcmp(a, "--seed")) ok = mec_cli_parse_int(argv[++i], 0, 1L << 40, &o->seed);
        else if (!strcmp(a, "--subset")) ok = mec_cli_parse_int(argv[++i], 1, 1L << 40, &o->subset);
        else if (!strcmp(a, "--val-subset")) ok = mec_cli_parse_int(argv[++i], 1, 1L << 40, &o->val_subset);
        else if (!strcmp(a, "--test-subset")) ok = mec_cli_parse_int(argv[++i], 1, 1L << 40, &o->test_subset);
        else if (!strcmp(a, "--max-len")) ok = mec_cli_parse_int(argv[++i], 8, 4096, &o->max_len);
        else if (!strcmp(a, "--threads")) ok = mec_cli_parse_int(argv[++i], 1, 1024, &o->threads);
        else if (!strcmp(a, "--stop-after")) ok = mec_cli_parse_int(argv[++i], 1, MAX_EPOCHS, &o->stop_after);
        else if (!strcmp(a, "--out")) o->out = argv[++i];
        else if (!strcmp(a, "--cache-dir")) o->cache_dir = argv[++i];
        else if (a[0] == '-') {
            fprintf(stderr, "mecbench train: unknown option '%s' (see --help)\n", a);
            return 3;
        } else if (!o->model) o->model = a;
        else {
            fprintf(stderr, "mecbench train: unexpected argument '%s' (see --help)\n", a);
            return 3;
        }
        if (!ok) {
            fprintf(stderr, "mecbench train: bad value '%s' for %s (see --help)\n", v, a);
            return 3;
        }
    }
    if (!o->model || !o->dataset) {
        fprintf(stderr, "mecbench train: %s\n\n", !o->model ? "no model given" : "no --dataset given");
        usage(stderr);
        return 3;
    }
    return 0;
}

/* ----------------------------------------------------------- the files */

static mec_status mkdirs(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return mec_error(MEC_ERR_INVALID_ARG, "bad folder '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return mec_error(MEC_ERR_IO, "cannot create folder '%s': %s", buf, strerror(errno));
        buf[i] = c;
    }
    return MEC_OK;
}

static void cache_root(const char *given, char *buf, size_t cap) {
    const char *env;
    if (given) snprintf(buf, cap, "%s", given);
    else if ((env = getenv("MECBENCH_CACHE")) && *env) snprintf(buf, cap, "%s", env);
    else if ((env = getenv("XDG_CACHE_HOME")) && *env) snprintf(buf, cap, "%s/mecbench/train", env);
    else snprintf(buf, cap, "%s/.cache/mecbench/train", getenv("HOME") ? getenv("HOME") : ".");
}

/* metrics.json of DIR, NUL-terminated, or NULL. */
static char *read_text(const char *path) {
    void *data = NULL;
    size_t len = 0;
    if (access(path, R_OK) != 0 || mec_file_read(path, (size_t)64 << 20, &data, &len)) return NULL;
    char *s = mec_malloc(len + 1);
    if (s) {
        memcpy(s, data, len);
        s[len] = '\0';
    }
    mec_free(data);
    return s;
}

static bool json_has_hash(const char *json, const char *hash) {
    char key[64];
    snprintf(key, sizeof key, "\"hash\": \"%s\"", hash);
    return json && strstr(json, key);
}

/* The number after "key": in json (from the position given), NaN if absent. */
static double json_number(const char *json, const char *key) {
    char k[64];
    snprintf(k, sizeof k, "\"%s\": ", key);
    const char *p = json ? strstr(json, k) : NULL;
    return p ? strtod(p + strlen(k), NULL) : NAN;
}

static bool json_complete(const char *json) { return json && strstr(json, "\"complete\": true"); }

/* ------------------------------------------------------------- a run */

typedef struct epoch_row {
    int epoch;
    double train_loss, train_metric, val_metric, val_loss, seconds, samples_per_s;
} epoch_row;

typedef struct run {
    train_opts o;
    train_hp hp;
    mec_dataset_kind kind;
    mec_dataset_info info;
    mec_cli_data_shape shape;
    const char *family; /* preset family, or NULL */
    bool preset;
    int64_t params;
    char hash[33];
    char dir[4096];
    char path_metrics[4200], path_ckpt[4200], path_model[4200], path_tok[4200];
    epoch_row rows[MAX_EPOCHS];
    int n_rows;
    double train_seconds;
    bool complete;
    mec_cli_eval_result test;
    int64_t n_train, n_val, n_test;
    int eval_batch;
} run;

static const char *optim_name(mec_optim_kind k) { return k == MEC_OPTIM_ADAMW ? "adamw" : "sgd"; }
static const char *sched_name(mec_lr_schedule s) {
    return s == MEC_LR_COSINE ? "cosine" : s == MEC_LR_STEP ? "step" : s == MEC_LR_LINEAR ? "linear" : "constant";
}

static mec_status write_metrics(const run *r) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return mec_error(MEC_ERR_NOMEM, "metrics.json: no memory");
    const train_hp *hp = &r->hp;
    fprintf(f, "{\n  \"version\": %d,\n  \"hash\": \"%s\",\n  \"complete\": %s,\n", METRICS_VERSION,
            r->hash, r->complete ? "true" : "false");
    fprintf(f, "  \"model\": \"%s\",\n  \"preset\": %s,\n  \"dataset\": \"%s\",\n  \"task\": \"%s\",\n",
            r->o.model, r->preset ? "true" : "false", mec_dataset_kind_name(r->kind),
            r->info.task == MEC_TASK_SEGMENT ? "segment" : "classify");
    fprintf(f, "  \"params\": %" PRId64 ",\n", r->params);
    fprintf(f, "  \"sizes\": {\"train\": %" PRId64 ", \"val\": %" PRId64 ", \"test\": %" PRId64 "},\n",
            r->n_train, r->n_val, r->n_test);
    fprintf(f,
            "  \"hyperparameters\": {\"epochs\": %d, \"batch\": %d, \"lr\": %g, \"optimizer\": \"%s\", "
            "\"weight_decay\": %g, \"schedule\": \"%s\", \"warmup\": %d, \"clip\": %g, \"seed\": %ld, "
            "\"threads\": %d, \"max_len\": %d, \"image_size\": %d},\n",
            hp->epochs, hp->batch, (double)hp->lr, optim_name(hp->optim), (double)hp->weight_decay,
            sched_name(hp->schedule), hp->warmup, (double)hp->clip, r->o.seed, mec_threads_get(),
            r->shape.max_len, r->shape.image_size);
    fprintf(f, "  \"val_metric\": \"%s\",\n  \"epochs\": [\n", r->info.task == MEC_TASK_SEGMENT ? "miou" : "top1");
    for (int i = 0; i < r->n_rows; i++) {
        const epoch_row *e = &r->rows[i];
        fprintf(f,
                "    {\"epoch\": %d, \"train_loss\": %.6f, \"train_metric\": %.6f, \"val_metric\": %.6f, "
                "\"val_loss\": %.6f, \"seconds\": %.3f, \"samples_per_s\": %.2f}%s\n",
                e->epoch, e->train_loss, e->train_metric, e->val_metric, e->val_loss, e->seconds,
                e->samples_per_s, i + 1 < r->n_rows ? "," : "");
    }
    fprintf(f, "  ],\n  \"train_seconds\": %.3f", r->train_seconds);
    if (r->complete) {
        fprintf(f, ",\n  \"test\": {\n");
        mec_cli_eval_json(f, &r->test, "    ");
        fprintf(f, "\n  }");
    }
    fprintf(f, "\n}\n");
    fclose(f);
    mec_status st = mec_file_write_atomic(r->path_metrics, buf, len);
    free(buf);
    return st;
}

/* Epoch rows of an earlier, interrupted run of the same hash (for --resume). */
static void read_rows(run *r, const char *json) {
    r->n_rows = 0;
    const char *p = json;
    while (p && (p = strstr(p, "{\"epoch\": ")) && r->n_rows < MAX_EPOCHS) {
        epoch_row e;
        if (sscanf(p,
                   "{\"epoch\": %d, \"train_loss\": %lf, \"train_metric\": %lf, \"val_metric\": %lf, "
                   "\"val_loss\": %lf, \"seconds\": %lf, \"samples_per_s\": %lf}",
                   &e.epoch, &e.train_loss, &e.train_metric, &e.val_metric, &e.val_loss, &e.seconds,
                   &e.samples_per_s) == 7)
            r->rows[r->n_rows++] = e;
        p++;
    }
    const char *ts = json ? strstr(json, "\"train_seconds\": ") : NULL;
    if (ts) r->train_seconds = strtod(ts + 17, NULL);
}

/* ------------------------------------------------------------ helpers */

typedef struct sess_fwd {
    mec_sess *sess;
    const char *out_name;
} sess_fwd;

static mec_status sess_forward(void *ctx, const mec_cli_feed *feed, mec_tensor **logits) {
    sess_fwd *s = ctx;
    return mec_sess_run(s->sess, feed->n, feed->names, feed->tensors, 1, &s->out_name, logits);
}

/* Correct predictions in a batch's logits (items, or pixels); *n gets the count. */
static int64_t count_correct(const mec_tensor *logits, const mec_tensor *labels, int64_t *n) {
    if (!logits || logits->dtype != MEC_F32 || logits->ndim < 2) return 0;
    int64_t N = logits->shape[0], C = logits->shape[1], P = 1, ok = 0;
    for (int d = 2; d < logits->ndim; d++) P *= logits->shape[d];
    if (mec_tensor_numel(labels) != N * P) return 0;
    const float *x = logits->data;
    const int64_t *y = labels->data;
    for (int64_t i = 0; i < N; i++)
        for (int64_t p = 0; p < P; p++) {
            const float *b = x + i * C * P + p;
            int64_t best = 0;
            for (int64_t c = 1; c < C; c++)
                if (b[c * P] > b[best * P]) best = c;
            ok += best == y[i * P + p];
        }
    *n += N * P;
    return ok;
}

/* The trained model as an inference graph with what eval needs in its metadata. */
static mec_status export_model(const run *r, mec_trainer *tr, mec_graph **out) {
    mec_status st = mec_train_export(tr, out);
    if (st) return st;
    char num[32];
    st = mec_cli_graph_meta_set(*out, "mecbench.train.dataset", mec_dataset_kind_name(r->kind));
    snprintf(num, sizeof num, "%d", r->shape.max_len);
    if (!st && r->kind == MEC_DATASET_FORTUNES) st = mec_cli_graph_meta_set(*out, "mecbench.train.max_len", num);
    snprintf(num, sizeof num, "%d", r->eval_batch);
    if (!st) st = mec_cli_graph_meta_set(*out, "mecbench.train.eval_batch", num);
    if (!st) st = mec_cli_graph_meta_set(*out, "mecbench.train.hash", r->hash);
    if (st) {
        mec_graph_destroy(*out);
        *out = NULL;
    }
    return st;
}

static mec_status eval_graph(const run *r, const mec_graph *g, mec_dataset *ds, const char *label,
                             mec_cli_eval_result *res) {
    mec_sess_options so;
    mec_sess_options_default(&so);
    so.threads = r->o.threads > 0 ? (int)r->o.threads : 0;
    mec_sess *sess = NULL;
    mec_status st = mec_sess_create(g, &so, &sess);
    if (st) return st;
    sess_fwd sf = {sess, g->values[g->outputs[0]].name};
    st = mec_cli_evaluate(ds, g, r->eval_batch, sess_forward, &sf, !r->o.json && isatty(2), label, res);
    mec_sess_destroy(sess);
    return st;
}

static void print_result(const run *r, FILE *f) {
    fprintf(f, "test         ");
    mec_cli_eval_print(f, &r->test);
    char d[32];
    mec_cli_format_duration(r->train_seconds, d, sizeof d);
    fprintf(f, "trained      %d epochs in %s (%.1f s)\n", r->n_rows, d, r->train_seconds);
    fprintf(f, "model        %s\n", r->path_model);
    fprintf(f, "metrics      %s\n", r->path_metrics);
}

/* --------------------------------------------------------------- main */

int mec_cli_train(int argc, char **argv) {
    static run R;
    run *r = &R;
    memset(r, 0, sizeof *r);
    int prc = parse_args(argc, argv, &r->o);
    if (prc) return prc - 1;
    const train_opts *o = &r->o;
    if (mec_dataset_kind_parse(o->dataset, &r->kind)) {
        fprintf(stderr, "mecbench train: unknown dataset '%s' (fashion-mnist, fashion-seg, fortunes)\n", o->dataset);
        return 2;
    }
    bool text = r->kind == MEC_DATASET_FORTUNES;
    bool progress = !o->json && isatty(2);
    int rc = 1;
    mec_graph *g = NULL, *exported = NULL;
    mec_dataset *ds_train = NULL, *ds_val = NULL, *ds_test = NULL;
    mec_trainer *tr = NULL;
    mec_loader *ld = NULL;
    mec_cli_feed feed = {0};
    void *onnx_buf = NULL;
    size_t onnx_len = 0;
    char *old_json = NULL;
    mec_status st = MEC_OK;
    if (o->threads > 0) mec_threads_set((int)o->threads);

    /* 1. the model and the train split */
    const mec_zoo_preset *preset = mec_zoo_find(o->model);
    r->preset = preset != NULL;
    r->shape.max_len = o->max_len > 0 ? (int)o->max_len : text ? 128 : 0;
    if (preset) {
        r->family = preset->family;
        mec_zoo_overrides ov = {0};
        ov.seed = (uint64_t)o->seed;
        ov.num_classes = r->kind == MEC_DATASET_FASHION_SEG ? 11 : r->kind == MEC_DATASET_FORTUNES ? 8 : 10;
        bool preset_text = !strcmp(preset->family, "bert") || !strcmp(preset->family, "roberta");
        if (text && preset_text) {
            /* the text set first: its tokenizer sets the vocabulary */
            mec_cli_data_shape sh = {0, 1, r->shape.max_len};
            if ((st = mec_cli_dataset_open(r->kind, MEC_SPLIT_TRAIN, (uint64_t)o->seed, o->subset, &sh, NULL, &ds_train)))
                goto fail;
            ov.vocab_size = mec_tok_vocab_size(mec_dataset_tokenizer(ds_train));
            ov.height = r->shape.max_len;
        }
        if ((st = mec_zoo_build(o->model, &ov, &g))) goto fail;
    } else {
        if (access(o->model, R_OK) != 0) {
            fprintf(stderr, "mecbench train: '%s' is neither a zoo preset (see mecbench zoo list) nor a readable ONNX file\n",
                    o->model);
            return 2;
        }
        if ((st = mec_onnx_load(o->model, &g))) goto fail;
        const char *fam = mec_cli_graph_meta(g, "zoo.family");
        r->family = fam;
    }
    /* a zoo model says what it is for: fail before any data is read */
    const char *zoo_task = mec_cli_graph_meta(g, "zoo.task");
    if (zoo_task && !text && !strcmp(zoo_task, "classify") == (r->kind == MEC_DATASET_FASHION_SEG)) {
        bool seg = r->kind == MEC_DATASET_FASHION_SEG;
        fprintf(stderr,
                "mecbench train: %s is a %s model but %s is a %s task: the model's output (%s) does "
                "not match the task's labels (%s); use %s\n",
                o->model, zoo_task, o->dataset, seg ? "segmentation" : "classification",
                seg ? "logits (N, classes)" : "per-pixel logits (N, classes, H, W)",
                seg ? "a class per pixel" : "a class per image",
                seg ? "fcn-small or duc-small" : "resnet-small or resnext-small");
        rc = 2;
        goto done;
    }
    int keep_len = r->shape.max_len;
    if ((st = mec_cli_data_shape_of(g, r->kind, &r->shape))) goto fail;
    if (text && (!r->shape.max_len || o->max_len > 0)) r->shape.max_len = keep_len;
    if (!ds_train &&
        (st = mec_cli_dataset_open(r->kind, MEC_SPLIT_TRAIN, (uint64_t)o->seed, o->subset, &r->shape, NULL, &ds_train)))
        goto fail;
    mec_dataset_get_info(ds_train, &r->info);
    const mec_tok *tok = text ? mec_dataset_tokenizer(ds_train) : NULL;
    if ((st = mec_cli_dataset_open(r->kind, MEC_SPLIT_VAL, 0, o->val_subset, &r->shape, tok, &ds_val)) ||
        (st = mec_cli_dataset_open(r->kind, MEC_SPLIT_TEST, 0, o->test_subset, &r->shape, tok, &ds_test)))
        goto fail;
    r->n_train = mec_dataset_count(ds_train);
    r->n_val = mec_dataset_count(ds_val);
    r->n_test = mec_dataset_count(ds_test);

    /* 2. hyperparameters */
    train_hp hp = default_hp(r->family, r->info.task, text);
    if (o->epochs > 0) hp.epochs = (int)o->epochs;
    if (o->batch > 0) hp.batch = (int)o->batch;
    if (o->lr > 0) hp.lr = (float)o->lr;
    if (o->optimizer) hp.optim = !strcmp(o->optimizer, "adamw") ? MEC_OPTIM_ADAMW : MEC_OPTIM_SGD;
    if (o->optimizer && o->lr <= 0) hp.lr = hp.optim == MEC_OPTIM_ADAMW ? 1e-3f : 0.05f;
    if (o->optimizer && o->weight_decay < 0) hp.weight_decay = hp.optim == MEC_OPTIM_ADAMW ? 0.01f : 1e-4f;
    if (o->schedule)
        hp.schedule = !strcmp(o->schedule, "cosine") ? MEC_LR_COSINE : !strcmp(o->schedule, "step") ? MEC_LR_STEP : MEC_LR_CONSTANT;
    if (o->warmup >= 0) hp.warmup = (int)o->warmup;
    if (o->clip >= 0) hp.clip = (float)o->clip;
    if (o->weight_decay >= 0) hp.weight_decay = (float)o->weight_decay;
    if (hp.batch > r->n_train) hp.batch = (int)r->n_train;
    r->hp = hp;
    r->eval_batch = r->info.task == MEC_TASK_SEGMENT ? 50 : 200;

    /* 3. the content hash and the result folder */
    if ((st = mec_onnx_save_buffer(g, &onnx_buf, &onnx_len))) goto fail;
    {
        mec_cli_hash h;
        mec_cli_hash_init(&h);
        char line[512];
        snprintf(line, sizeof line, "mecbench-train %d %s", METRICS_VERSION, MEC_CLI_VERSION);
        mec_cli_hash_str(&h, "format", line);
        mec_cli_hash_bytes(&h, onnx_buf, onnx_len);
        snprintf(line, sizeof line,
                 "%s v%d train=%" PRId64 " val=%" PRId64 " test=%" PRId64 " size=%d ch=%d len=%d",
                 mec_dataset_kind_name(r->kind), MEC_DATASET_VERSION, r->n_train, r->n_val, r->n_test, r->shape.image_size,
                 r->shape.channels, r->shape.max_len);
        mec_cli_hash_str(&h, "data", line);
        snprintf(line, sizeof line,
                 "epochs=%d batch=%d lr=%.9g optim=%d wd=%.9g sched=%d warmup=%d clip=%.9g ls=%.9g seed=%ld",
                 hp.epochs, hp.batch, (double)hp.lr, hp.optim, (double)hp.weight_decay, hp.schedule,
                 hp.warmup, (double)hp.clip, (double)hp.label_smoothing, o->seed);
        mec_cli_hash_str(&h, "hp", line);
        mec_cli_hash_hex(&h, r->hash);
    }
    mec_free(onnx_buf);
    onnx_buf = NULL;
    if (o->out) snprintf(r->dir, sizeof r->dir, "%s", o->out);
    else {
        char root[3800];
        cache_root(o->cache_dir, root, sizeof root);
        snprintf(r->dir, sizeof r->dir, "%s/%s", root, r->hash);
    }
    snprintf(r->path_metrics, sizeof r->path_metrics, "%s/metrics.json", r->dir);
    snprintf(r->path_ckpt, sizeof r->path_ckpt, "%s/checkpoint.mecckpt", r->dir);
    snprintf(r->path_model, sizeof r->path_model, "%s/model.onnx", r->dir);
    snprintf(r->path_tok, sizeof r->path_tok, "%s/tokenizer.txt", r->dir);
    old_json = read_text(r->path_metrics);
    if (!o->force && json_has_hash(old_json, r->hash) && json_complete(old_json) &&
        access(r->path_model, R_OK) == 0) {
        fprintf(stderr,
                "mecbench train: cached: %s holds a complete run with the same model, data, split sizes,\n"
                "hyperparameters and seed (hash %s); not training again (--force retrains)\n",
                r->dir, r->hash);
        if (o->json) fputs(old_json, stdout);
        else {
            r->test.task = r->info.task;
            const char *t = strstr(old_json, "\"test\": {");
            r->test.count = (int64_t)json_number(t, "count");
            r->test.loss = json_number(t, "loss");
            r->test.top1 = json_number(t, "top1");
            r->test.top5 = json_number(t, "top5");
            r->test.macro_f1 = json_number(t, "macro_f1");
            r->test.majority = json_number(t, "majority_baseline");
            r->test.miou = json_number(t, "miou");
            r->test.pixel_acc = json_number(t, "pixel_accuracy");
            r->test.background_miou = json_number(t, "background_miou");
            read_rows(r, old_json);
            printf("cached       %s\n", r->dir);
            print_result(r, stdout);
        }
        rc = 0;
        goto done;
    }
    if ((st = mkdirs(r->dir))) goto fail;
    if (old_json && !json_has_hash(old_json, r->hash) && !o->json)
        fprintf(stderr, "mecbench train: note: %s held a run with other inputs; it is replaced\n", r->dir);

    /* 4. the trainer */
    int64_t steps_per_epoch = (r->n_train + hp.batch - 1) / hp.batch;
    mec_train_config cfg;
    mec_train_config_default(&cfg);
    cfg.optim = hp.optim;
    cfg.lr = hp.lr;
    cfg.nesterov = hp.optim == MEC_OPTIM_SGD;
    cfg.weight_decay = hp.weight_decay;
    cfg.decay_1d = false;
    cfg.schedule = hp.schedule;
    cfg.warmup_steps = hp.warmup;
    cfg.total_steps = steps_per_epoch * hp.epochs;
    cfg.step_size = steps_per_epoch * (hp.epochs > 3 ? hp.epochs / 3 : 1);
    cfg.clip_norm = hp.clip;
    cfg.label_smoothing = hp.label_smoothing;
    cfg.seed = (uint64_t)o->seed * 2654435761u + 1;
    cfg.threads = o->threads > 0 ? (int)o->threads : 0;
    if (r->info.task == MEC_TASK_SEGMENT) cfg.ignore_index = -1;
    if ((st = mec_train_create(g, &cfg, &tr))) goto fail;
    for (int i = 0; i < mec_train_param_count(tr); i++) {
        mec_tensor *v;
        if (!mec_train_param(tr, i, NULL, &v, NULL)) r->params += mec_tensor_numel(v);
    }
    int start_epoch = 0;
    if (o->resume && access(r->path_ckpt, R_OK) == 0) {
        if (old_json && !json_has_hash(old_json, r->hash)) {
            fprintf(stderr,
                    "mecbench train: --resume: %s is a run with other inputs (its metrics.json has another hash);\n"
                    "use the same model, dataset and options, or another --out\n",
                    r->dir);
            rc = 2;
            goto done;
        }
        if ((st = mec_train_load(tr, r->path_ckpt))) goto fail;
        start_epoch = (int)mec_train_epoch(tr);
        read_rows(r, old_json);
        if (r->n_rows > start_epoch) r->n_rows = start_epoch;
        fprintf(stderr, "mecbench train: resuming %s at epoch %d of %d (step %" PRId64 ")\n", r->dir,
                start_epoch + 1, hp.epochs, mec_train_steps_done(tr));
    } else if (o->resume) {
        fprintf(stderr, "mecbench train: --resume: no checkpoint in %s; starting from scratch\n", r->dir);
    }
    if (text && (st = mec_tok_save(tok, r->path_tok))) goto fail;
    if (!o->json)
        fprintf(stderr,
                "mecbench train: %s on %s (%" PRId64 " train / %" PRId64 " val / %" PRId64
                " test), %" PRId64 " parameters\n"
                "  %d epochs x %" PRId64 " steps, batch %d, %s lr %g (%s, warm-up %d), weight decay %g%s, "
                "%d threads -> %s\n",
                o->model, mec_dataset_kind_name(r->kind), r->n_train, r->n_val, r->n_test, r->params,
                hp.epochs, steps_per_epoch, hp.batch, optim_name(hp.optim), (double)hp.lr,
                sched_name(hp.schedule), hp.warmup, (double)hp.weight_decay,
                hp.clip > 0 ? ", clipping" : "", mec_threads_get(), r->dir);

    /* 5. epochs */
    mec_loader_options lo = {hp.batch, true, (uint64_t)o->seed, false};
    if ((st = mec_loader_create(ds_train, &lo, &ld))) goto fail;
    const char *out_name = g->values[g->outputs[0]].name;
    int stop_at = hp.epochs;
    if (o->stop_after > 0 && start_epoch + o->stop_after < stop_at) stop_at = start_epoch + (int)o->stop_after;
    double steps_time_ms = 0;
    int64_t steps_timed = 0;
    for (int ep = start_epoch; ep < stop_at; ep++) {
        mec_loader_reset(ld, (uint64_t)ep);
        double t0 = mec_now_ms(), last_draw = 0;
        double loss_sum = 0;
        int64_t seen = 0, correct = 0, counted = 0, step = 0;
        for (;;) {
            const mec_batch *b;
            if ((st = mec_loader_next(ld, &b))) goto fail;
            if (!b) break;
            if ((st = mec_cli_feed_batch(g, b, &feed))) goto fail;
            if (ep == start_epoch && step == 0) {
                /* the task check, before any weight changes */
                mec_tensor *logits = NULL;
                st = mec_train_eval(tr, feed.n, feed.names, feed.tensors, &logits);
                if (!st) st = mec_cli_check_output(logits, &r->info, b);
                mec_tensor_destroy(logits);
                if (st) goto fail;
            }
            mec_train_batch tb = {feed.n, feed.names, feed.tensors, b->labels, NULL};
            float loss;
            double s0 = mec_now_ms();
            if ((st = mec_train_step(tr, &tb, &loss))) {
                mec_error_prefix(st, "epoch %d, step %" PRId64 ": ", ep + 1, step + 1);
                goto fail;
            }
            steps_time_ms += mec_now_ms() - s0;
            steps_timed++;
            loss_sum += (double)loss * (double)b->n;
            seen += b->n;
            correct += count_correct(mec_train_value(tr, out_name), b->labels, &counted);
            step++;
            double now = mec_now_ms();
            if (progress && (now - last_draw > 250 || step == steps_per_epoch)) {
                last_draw = now;
                double el = (now - t0) / 1000.0;
                double per_step = steps_time_ms / (double)steps_timed / 1000.0;
                int64_t left = (stop_at - ep - 1) * steps_per_epoch + (steps_per_epoch - step);
                char eta[32];
                mec_cli_format_duration(per_step * (double)left, eta, sizeof eta);
                int width = 20, fill = (int)(width * step / steps_per_epoch);
                char bar[32];
                for (int k = 0; k < width; k++) bar[k] = k < fill ? '#' : '.';
                bar[width] = '\0';
                fprintf(stderr,
                        "\repoch %d/%d [%s] %" PRId64 "/%" PRId64 "  loss %.4f  %s %.3f  %.0f samples/s  ETA %s   ",
                        ep + 1, hp.epochs, bar, step, steps_per_epoch, loss_sum / (double)seen,
                        r->info.task == MEC_TASK_SEGMENT ? "pix-acc" : "acc",
                        counted ? (double)correct / (double)counted : 0.0, (double)seen / el, eta);
            }
        }
        double train_s = (mec_now_ms() - t0) / 1000.0;
        mec_train_set_epoch(tr, ep + 1);
        if ((st = export_model(r, tr, &exported))) goto fail;
        mec_cli_eval_result val;
        if ((st = eval_graph(r, exported, ds_val, "validating", &val))) goto fail;
        epoch_row *e = &r->rows[r->n_rows++];
        e->epoch = ep + 1;
        e->train_loss = seen ? loss_sum / (double)seen : NAN;
        e->train_metric = counted ? (double)correct / (double)counted : NAN;
        e->val_metric = mec_cli_eval_headline(&val);
        e->val_loss = val.loss;
        e->seconds = train_s;
        e->samples_per_s = train_s > 0 ? (double)seen / train_s : 0;
        r->train_seconds += (mec_now_ms() - t0) / 1000.0;
        if ((st = mec_train_save(tr, r->path_ckpt)) || (st = mec_onnx_save(exported, r->path_model)) ||
            (st = write_metrics(r)))
            goto fail;
        mec_graph_destroy(exported);
        exported = NULL;
        if (progress) fprintf(stderr, "\r%120s\r", "");
        if (!o->json)
            fprintf(stderr,
                    "epoch %d/%d: train loss %.4f, train %s %.4f, val %s %.4f (loss %.4f), %.1f s, %.0f samples/s\n",
                    ep + 1, hp.epochs, e->train_loss, r->info.task == MEC_TASK_SEGMENT ? "pixel acc" : "acc",
                    e->train_metric, mec_cli_eval_headline_name(r->info.task), e->val_metric, e->val_loss,
                    e->seconds, e->samples_per_s);
    }
    if (stop_at < hp.epochs) {
        fprintf(stderr, "mecbench train: stopped after epoch %d of %d as asked; continue with --resume\n", stop_at,
                hp.epochs);
        rc = 0;
        goto done;
    }

    /* 6. test */
    if ((st = export_model(r, tr, &exported))) goto fail;
    if ((st = eval_graph(r, exported, ds_test, "testing", &r->test))) goto fail;
    r->complete = true;
    if ((st = mec_onnx_save(exported, r->path_model)) || (st = write_metrics(r))) goto fail;
    if (o->json) {
        char *s = read_text(r->path_metrics);
        if (s) fputs(s, stdout);
        mec_free(s);
    } else {
        print_result(r, stdout);
    }
    rc = 0;
    goto done;
fail:
    mec_cli_fail("train");
    rc = 1;
done:
    mec_cli_feed_release(&feed);
    mec_loader_destroy(ld);
    mec_train_destroy(tr);
    mec_graph_destroy(exported);
    mec_graph_destroy(g);
    mec_dataset_close(ds_train);
    mec_dataset_close(ds_val);
    mec_dataset_close(ds_test);
    mec_free(onnx_buf);
    mec_free(old_json);
    return rc;
}
