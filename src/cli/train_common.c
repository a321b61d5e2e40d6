/* Helpers shared by `mecbench train` and `mecbench eval`: datasets shaped
 * for a model, batches fed to its inputs, the task check, evaluation with
 * the task's metrics, JSON, metadata and content hashes. */
#include "train_common.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mec/core.h"

/* ------------------------------------------------------------ model inputs */

static bool is_text_input(const mec_value *v) {
    return v->dtype == MEC_I64 || v->dtype == MEC_I32;
}

mec_status mec_cli_data_shape_of(const mec_graph *g, mec_dataset_kind kind, mec_cli_data_shape *out) {
    memset(out, 0, sizeof *out);
    out->channels = 1;
    bool text = kind == MEC_DATASET_FORTUNES;
    const char *dname = mec_dataset_kind_name(kind);
    int n_fed = 0;
    for (int i = 0; i < g->n_inputs; i++) {
        const mec_value *v = &g->values[g->inputs[i]];
        if (v->init) continue;
        n_fed++;
        if (text) {
            if (!is_text_input(v))
                return mec_error(MEC_ERR_INVALID_ARG,
                                 "the model does not fit %s: its input '%s' is %s %s, but %s gives "
                                 "token ids (int64 (N, L)); use a text model (bert-small, "
                                 "roberta-small)",
                                 dname, v->name, mec_dtype_name(v->dtype),
                                 v->ndim == 4 ? "images" : "values", dname);
            if (v->ndim == 2 && v->dims[1] > 0) out->max_len = (int)v->dims[1];
            continue;
        }
        if (is_text_input(v))
            return mec_error(MEC_ERR_INVALID_ARG,
                             "the model does not fit %s: its input '%s' takes token ids (%s), but %s "
                             "gives images (float32 (N, C, H, W)); use an image model",
                             dname, v->name, mec_dtype_name(v->dtype), dname);
        if (v->ndim != 4)
            return mec_error(MEC_ERR_INVALID_ARG,
                             "the model does not fit %s: its input '%s' has %d dims, images are "
                             "(N, C, H, W)",
                             dname, v->name, v->ndim);
        int64_t c = v->dims[1], h = v->dims[2], w = v->dims[3];
        if (c > 0 && c != 1 && c != 3)
            return mec_error(MEC_ERR_INVALID_ARG,
                             "the model does not fit %s: its input '%s' has %" PRId64
                             " channels (grey images give 1, or 3 replicated)",
                             dname, v->name, c);
        if (c == 3) out->channels = 3;
        if (h > 0 && w > 0 && h != w)
            return mec_error(MEC_ERR_INVALID_ARG,
                             "the model does not fit %s: its input '%s' is %" PRId64 "x%" PRId64
                             ", the dataset's images are square",
                             dname, v->name, h, w);
        if (h > 0) out->image_size = (int)h;
    }
    if (n_fed == 0) return mec_error(MEC_ERR_INVALID_ARG, "the model has no inputs to feed");
    if (!text && n_fed != 1)
        return mec_error(MEC_ERR_INVALID_ARG,
                         "the model has %d inputs; an image model for %s takes one", n_fed, dname);
    if (kind == MEC_DATASET_FASHION_SEG && out->image_size && (out->image_size < 32 || out->image_size > 1024))
        return mec_error(MEC_ERR_INVALID_ARG,
                         "the model takes %dx%d images, but fashion-seg is a segmentation task on "
                         "canvases of 32..1024 pixels: it needs a model with per-pixel output "
                         "(N, 11, H, W) such as fcn-small or duc-small",
                         out->image_size, out->image_size);
    return MEC_OK;
}

mec_status mec_cli_dataset_open(mec_dataset_kind kind, mec_split split, uint64_t seed,
                                int64_t subset, const mec_cli_data_shape *shape,
                                const mec_tok *tok, mec_dataset **out) {
    mec_dataset_options o;
    mec_dataset_options_default(&o);
    o.split = split;
    o.seed = seed;
    o.subset = subset;
    o.channels = shape->channels;
    if (kind == MEC_DATASET_FASHION_SEG) {
        if (shape->image_size) o.canvas_size = shape->image_size;
        o.image_size = o.canvas_size;
    } else if (kind == MEC_DATASET_FASHION_MNIST) {
        o.image_size = shape->image_size;
    } else {
        o.tokenizer = tok;
        if (shape->max_len) o.max_len = shape->max_len;
    }
    return mec_dataset_open(kind, &o, out);
}

/* ------------------------------------------------------------------ feed */

void mec_cli_feed_release(mec_cli_feed *f) {
    for (int i = 0; i < 4; i++) mec_tensor_destroy(f->owned[i]);
    memset(f, 0, sizeof *f);
}

/* rows of src (n, L) cut to (n, len) in a new tensor; zero = all zeros */
static mec_status cut_columns(const mec_tensor *src, int64_t len, bool zero, mec_tensor **out) {
    int64_t n = src->shape[0], L = src->shape[1];
    int64_t dims[2] = {n, len};
    mec_status st = mec_tensor_create(out, MEC_I64, 2, dims);
    if (st) return st;
    int64_t *dst = (*out)->data;
    const int64_t *s = src->data;
    for (int64_t r = 0; r < n; r++)
        for (int64_t c = 0; c < len; c++) dst[r * len + c] = zero ? 0 : s[r * L + c];
    return MEC_OK;
}

mec_status mec_cli_feed_batch(const mec_graph *g, const mec_batch *b, mec_cli_feed *f) {
    mec_cli_feed_release(f);
    if (!b->mask) {
        for (int i = 0; i < g->n_inputs && f->n < 1; i++) {
            const mec_value *v = &g->values[g->inputs[i]];
            if (v->init) continue;
            f->names[f->n] = v->name;
            f->tensors[f->n++] = b->input;
        }
        return MEC_OK;
    }
    /* text: cut the batch to its longest sequence */
    int64_t n = b->input->shape[0], L = b->input->shape[1], len = 1;
    const int64_t *mask = b->mask->data;
    for (int64_t r = 0; r < n; r++)
        for (int64_t c = L - 1; c >= len; c--)
            if (mask[r * L + c]) {
                len = c + 1;
                break;
            }
    mec_status st;
    for (int i = 0; i < g->n_inputs; i++) {
        const mec_value *v = &g->values[g->inputs[i]];
        if (v->init) continue;
        if (f->n == 4) return mec_error(MEC_ERR_UNSUPPORTED, "the model has more than 4 text inputs");
        const mec_tensor *src = b->input;
        bool zero = false;
        if (strstr(v->name, "mask")) src = b->mask;
        else if (strstr(v->name, "token_type")) zero = true;
        if ((st = cut_columns(src, len, zero, &f->owned[f->n]))) return st;
        f->names[f->n] = v->name;
        f->tensors[f->n] = f->owned[f->n];
        f->n++;
    }
    return MEC_OK;
}

/* ------------------------------------------------------------ task check */

mec_status mec_cli_check_output(const mec_tensor *logits, const mec_dataset_info *info,
                                const mec_batch *b) {
    char have[160];
    mec_shape_str(logits->ndim, logits->shape, have, sizeof have);
    const char *dname = mec_dataset_kind_name(info->kind);
    if (logits->dtype != MEC_F32)
        return mec_error(MEC_ERR_DTYPE, "the model's output is %s; logits must be float32",
                         mec_dtype_name(logits->dtype));
    if (info->task == MEC_TASK_SEGMENT) {
        int64_t H = b->labels->shape[1], W = b->labels->shape[2];
        if (logits->ndim != 4)
            return mec_error(MEC_ERR_SHAPE,
                             "the model's output has shape %s, but %s is a segmentation task: it "
                             "needs per-pixel logits (N, %d, %" PRId64 ", %" PRId64
                             ") (a classifier cannot be trained on it; use fcn-small or duc-small)",
                             have, dname, info->num_classes, H, W);
        if (logits->shape[1] != info->num_classes || logits->shape[2] != H || logits->shape[3] != W)
            return mec_error(MEC_ERR_SHAPE,
                             "the model's output has shape %s, %s needs (N, %d, %" PRId64 ", %" PRId64
                             ") (%d classes incl. background, the canvas size)",
                             have, dname, info->num_classes, H, W, info->num_classes);
        return MEC_OK;
    }
    if (logits->ndim != 2)
        return mec_error(MEC_ERR_SHAPE,
                         "the model's output has shape %s, but %s is a classification task: it "
                         "needs logits (N, %d)%s",
                         have, dname, info->num_classes,
                         logits->ndim == 4 ? " (a segmentation model cannot be trained on it)" : "");
    if (logits->shape[1] != info->num_classes)
        return mec_error(MEC_ERR_SHAPE,
                         "the model gives %" PRId64 " logits per item but %s has %d classes "
                         "(build it with --classes %d)",
                         logits->shape[1], dname, info->num_classes, info->num_classes);
    return MEC_OK;
}

/* ------------------------------------------------------------ evaluation */

double mec_cli_eval_headline(const mec_cli_eval_result *r) {
    return r->task == MEC_TASK_SEGMENT ? r->miou : r->top1;
}

const char *mec_cli_eval_headline_name(mec_task task) {
    return task == MEC_TASK_SEGMENT ? "mIoU" : "top-1";
}

/* Sum over items (or pixels) of cross-entropy; *count gets how many. */
static double ce_sum(const mec_tensor *logits, const mec_tensor *labels, int64_t *count) {
    int64_t N = logits->shape[0], C = logits->shape[1], P = 1;
    for (int d = 2; d < logits->ndim; d++) P *= logits->shape[d];
    const float *x = logits->data;
    const int64_t *y = labels->data;
    double sum = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t p = 0; p < P; p++) {
            const float *base = x + n * C * P + p;
            float mx = base[0];
            for (int64_t c = 1; c < C; c++) mx = base[c * P] > mx ? base[c * P] : mx;
            double s = 0;
            for (int64_t c = 0; c < C; c++) s += exp((double)(base[c * P] - mx));
            int64_t t = y[n * P + p];
            if (t < 0 || t >= C) continue;
            sum += log(s) + mx - base[t * P];
            (*count)++;
        }
    return sum;
}

mec_status mec_cli_evaluate(mec_dataset *ds, const mec_graph *g, int64_t batch_size,
                            mec_cli_forward_fn fwd, void *ctx, bool progress, const char *label,
                            mec_cli_eval_result *out) {
    memset(out, 0, sizeof *out);
    mec_dataset_info info;
    mec_dataset_get_info(ds, &info);
    out->task = info.task;
    out->num_classes = info.num_classes;
    double t0 = mec_now_ms();
    mec_loader_options lo = {batch_size, false, 0, false};
    mec_loader *ld = NULL;
    mec_metric_cls mc = {0};
    mec_metric_seg ms = {0};
    mec_cli_feed feed = {0};
    mec_status st = mec_loader_create(ds, &lo, &ld);
    if (!st) st = info.task == MEC_TASK_SEGMENT ? mec_metric_seg_init(&ms, info.num_classes)
                                                : mec_metric_cls_init(&mc, info.num_classes);
    int64_t nb = ld ? mec_loader_batches(ld) : 0, bi = 0, loss_n = 0;
    double loss_sum = 0;
    while (!st) {
        const mec_batch *b;
        if ((st = mec_loader_next(ld, &b)) || !b) break;
        mec_tensor *logits = NULL;
        if ((st = mec_cli_feed_batch(g, b, &feed))) break;
        if ((st = fwd(ctx, &feed, &logits))) break;
        if (bi == 0) st = mec_cli_check_output(logits, &info, b);
        if (!st) st = info.task == MEC_TASK_SEGMENT ? mec_metric_seg_update(&ms, logits, b->labels)
                                                    : mec_metric_cls_update(&mc, logits, b->labels);
        if (!st) loss_sum += ce_sum(logits, b->labels, &loss_n);
        mec_tensor_destroy(logits);
        out->count += b->n;
        bi++;
        if (progress && (bi % 4 == 0 || bi == nb))
            fprintf(stderr, "\r  %s: batch %" PRId64 "/%" PRId64 "   ", label, bi, nb);
    }
    if (progress) fprintf(stderr, "\r%60s\r", "");
    mec_cli_feed_release(&feed);
    mec_loader_destroy(ld);
    if (!st) {
        out->loss = loss_n ? loss_sum / (double)loss_n : NAN;
        if (info.task == MEC_TASK_SEGMENT) {
            int C = info.num_classes;
            out->miou = mec_metric_mean_iou(ms.confusion, C);
            out->pixel_acc = mec_metric_pixel_accuracy(ms.confusion, C);
            /* predicting background everywhere: IoU of class 0 = its share of
             * pixels, 0 for every other class present */
            int64_t total = 0, bg = 0;
            int present = 0;
            for (int t = 0; t < C; t++) {
                int64_t row = 0;
                for (int p = 0; p < C; p++) row += ms.confusion[(int64_t)t * C + p];
                total += row;
                if (t == 0) bg = row;
                present += row > 0 || t == 0;
            }
            out->background_miou = total && present ? (double)bg / (double)total / present : 0;
            for (int c = 0; c < C && c < 64; c++) out->class_iou[c] = mec_metric_class_iou(ms.confusion, C, c);
        } else {
            int C = info.num_classes;
            out->top1 = mec_metric_top1(&mc);
            out->top5 = mec_metric_top5(&mc);
            out->macro_f1 = mec_metric_macro_f1(mc.confusion, C);
            int64_t best = 0, total = 0;
            for (int t = 0; t < C; t++) {
                int64_t row = 0;
                for (int p = 0; p < C; p++) row += mc.confusion[(int64_t)t * C + p];
                total += row;
                if (row > best) best = row;
            }
            out->majority = total ? (double)best / (double)total : 0;
        }
    }
    mec_metric_cls_release(&mc);
    mec_metric_seg_release(&ms);
    out->seconds = (mec_now_ms() - t0) / 1000.0;
    return st;
}

void mec_cli_eval_json(FILE *f, const mec_cli_eval_result *r, const char *indent) {
    fprintf(f, "%s\"count\": %" PRId64 ",\n%s\"loss\": %.6f,\n", indent, r->count, indent, r->loss);
    if (r->task == MEC_TASK_SEGMENT)
    {
        fprintf(f, "%s\"miou\": %.6f,\n%s\"pixel_accuracy\": %.6f,\n%s\"background_miou\": %.6f,\n%s\"class_iou\": [",
                indent, r->miou, indent, r->pixel_acc, indent, r->background_miou, indent);
        for (int c = 0; c < r->num_classes && c < 64; c++) {
            if (isnan(r->class_iou[c])) fprintf(f, "%snull", c ? ", " : "");
            else fprintf(f, "%s%.4f", c ? ", " : "", r->class_iou[c]);
        }
        fprintf(f, "],\n");
    }
    else
        fprintf(f,
                "%s\"top1\": %.6f,\n%s\"top5\": %.6f,\n%s\"macro_f1\": %.6f,\n"
                "%s\"majority_baseline\": %.6f,\n",
                indent, r->top1, indent, r->top5, indent, r->macro_f1, indent, r->majority);
    fprintf(f, "%s\"seconds\": %.3f", indent, r->seconds);
}

void mec_cli_eval_print(FILE *f, const mec_cli_eval_result *r) {
    if (r->task == MEC_TASK_SEGMENT)
        fprintf(f, "mIoU %.4f  pixel accuracy %.4f  (all-background mIoU %.4f)  loss %.4f  on %" PRId64 " canvases\n",
                r->miou, r->pixel_acc, r->background_miou, r->loss, r->count);
    else
        fprintf(f, "top-1 %.4f  top-5 %.4f  macro-F1 %.4f  (majority class %.4f)  loss %.4f  on %" PRId64 " items\n",
                r->top1, r->top5, r->macro_f1, r->majority, r->loss, r->count);
}

/* -------------------------------------------------------------- metadata */

const char *mec_cli_graph_meta(const mec_graph *g, const char *key) {
    for (int i = 0; i < g->n_meta; i++)
        if (!strcmp(g->meta_keys[i], key)) return g->meta_values[i];
    return NULL;
}

mec_status mec_cli_graph_meta_set(mec_graph *g, const char *key, const char *value) {
    char *v = mec_strdup(value);
    if (!v) return MEC_ERR_NOMEM;
    for (int i = 0; i < g->n_meta; i++)
        if (!strcmp(g->meta_keys[i], key)) {
            mec_free(g->meta_values[i]);
            g->meta_values[i] = v;
            return MEC_OK;
        }
    size_t old = sizeof(char *) * (size_t)g->n_meta, grown = old + sizeof(char *);
    char *k = mec_strdup(key);
    char **keys = k ? mec_realloc(g->meta_keys, old, grown) : NULL;
    if (keys) g->meta_keys = keys;
    char **values = keys ? mec_realloc(g->meta_values, old, grown) : NULL;
    if (values) g->meta_values = values;
    if (!values) {
        mec_free(k);
        mec_free(v);
        return MEC_ERR_NOMEM;
    }
    keys[g->n_meta] = k;
    values[g->n_meta] = v;
    g->n_meta++;
    return MEC_OK;
}

/* ----------------------------------------------------------------- hash */

void mec_cli_hash_init(mec_cli_hash *h) {
    h->a = 0xcbf29ce484222325ull;
    h->b = 0x84222325cbf29ce4ull;
}

void mec_cli_hash_bytes(mec_cli_hash *h, const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t a = h->a, b = h->b;
    for (size_t i = 0; i < n; i++) {
        a = (a ^ s[i]) * 0x100000001b3ull;
        b = (b ^ s[i]) * 0x100000001b3ull;
        b ^= b >> 29;
    }
    h->a = a;
    h->b = b;
}

void mec_cli_hash_str(mec_cli_hash *h, const char *key, const char *value) {
    mec_cli_hash_bytes(h, key, strlen(key) + 1);
    mec_cli_hash_bytes(h, value, strlen(value) + 1);
}

void mec_cli_hash_hex(const mec_cli_hash *h, char out[33]) {
    snprintf(out, 33, "%016" PRIx64 "%016" PRIx64, h->a, h->b);
}

void mec_cli_format_duration(double s, char *buf, size_t cap) {
    if (!(s >= 0) || s > 1e7) {
        snprintf(buf, cap, "--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, cap, "%lds", t);
}
