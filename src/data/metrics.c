/* Accuracy metrics: top-1/top-5 and a confusion matrix for classification,
 * macro-F1, and per-pixel confusion with mean IoU for segmentation. */
#include "mec/data.h"

#include <math.h>
#include <string.h>

#define METRIC_MAX_CLASSES 100000

static mec_status check_classes(int c, const char *who) {
    if (c < 1 || c > METRIC_MAX_CLASSES)
        return mec_error(MEC_ERR_RANGE, "%s: num_classes %d outside 1..%d", who, c, METRIC_MAX_CLASSES);
    return MEC_OK;
}

static bool is_integer(mec_dtype t) {
    return t == MEC_I64 || t == MEC_I32 || t == MEC_I16 || t == MEC_I8 || t == MEC_U8 ||
           t == MEC_U16 || t == MEC_U32 || t == MEC_U64;
}

mec_status mec_metric_cls_init(mec_metric_cls *m, int num_classes) {
    memset(m, 0, sizeof *m);
    mec_status st = check_classes(num_classes, "metric_cls");
    if (st != MEC_OK) return st;
    m->confusion = mec_calloc((size_t)num_classes * (size_t)num_classes, sizeof(int64_t));
    if (!m->confusion) return MEC_ERR_NOMEM;
    m->num_classes = num_classes;
    return MEC_OK;
}

void mec_metric_cls_release(mec_metric_cls *m) {
    if (!m) return;
    mec_free(m->confusion);
    memset(m, 0, sizeof *m);
}

mec_status mec_metric_cls_update(mec_metric_cls *m, const mec_tensor *scores,
                                 const mec_tensor *labels) {
    if (!m || !m->confusion || !scores || !labels)
        return mec_error(MEC_ERR_INVALID_ARG, "metric_cls: null argument");
    int C = m->num_classes;
    if (scores->ndim != 2 || scores->shape[1] != C)
        return mec_error(MEC_ERR_SHAPE, "metric_cls: scores have %d dims (dim 1 = %lld), expected (n, %d)",
                         scores->ndim, scores->ndim > 1 ? (long long)scores->shape[1] : -1LL, C);
    if (scores->dtype != MEC_F32 && scores->dtype != MEC_F64 && scores->dtype != MEC_F16)
        return mec_error(MEC_ERR_DTYPE, "metric_cls: scores are %s, expected a float type",
                         mec_dtype_name(scores->dtype));
    int64_t n = scores->shape[0];
    if (mec_tensor_numel(labels) != n || !is_integer(labels->dtype))
        return mec_error(MEC_ERR_SHAPE, "metric_cls: %lld labels of type %s for %lld rows of scores",
                         (long long)mec_tensor_numel(labels), mec_dtype_name(labels->dtype), (long long)n);
    for (int64_t i = 0; i < n; i++) {
        int64_t y = mec_tensor_get_i64(labels, i);
        if (y < 0 || y >= C)
            return mec_error(MEC_ERR_RANGE, "metric_cls: label %lld of row %lld outside 0..%d",
                             (long long)y, (long long)i, C - 1);
    }
    int k5 = C < 5 ? C : 5;
    for (int64_t i = 0; i < n; i++) {
        int64_t y = mec_tensor_get_i64(labels, i);
        double sy = mec_tensor_get_f64(scores, i * C + y);
        int best = 0, above = 0;
        double bs = mec_tensor_get_f64(scores, i * C);
        for (int c = 0; c < C; c++) {
            double s = mec_tensor_get_f64(scores, i * C + c);
            if (s > bs || (isnan(bs) && !isnan(s))) {
                bs = s;
                best = c;
            }
            /* rank of the true class: ties go to the lower id */
            if (s > sy || (s == sy && c < y) || (isnan(sy) && !isnan(s))) above++;
        }
        m->top1 += best == y;
        m->top5 += above < k5;
        m->confusion[y * C + best]++;
        m->count++;
    }
    return MEC_OK;
}

double mec_metric_top1(const mec_metric_cls *m) { return m->count ? (double)m->top1 / (double)m->count : 0.0; }
double mec_metric_top5(const mec_metric_cls *m) { return m->count ? (double)m->top5 / (double)m->count : 0.0; }

double mec_metric_macro_f1(const int64_t *confusion, int num_classes) {
    double sum = 0;
    int used = 0;
    for (int c = 0; c < num_classes; c++) {
        int64_t tp = confusion[(size_t)c * num_classes + c], truth = 0, pred = 0;
        for (int k = 0; k < num_classes; k++) {
            truth += confusion[(size_t)c * num_classes + k];
            pred += confusion[(size_t)k * num_classes + c];
        }
        if (truth == 0 && pred == 0) continue;
        used++;
        if (tp > 0) sum += 2.0 * (double)tp / (double)(truth + pred);
    }
    return used ? sum / used : 0.0;
}

mec_status mec_metric_seg_init(mec_metric_seg *m, int num_classes) {
    memset(m, 0, sizeof *m);
    mec_status st = check_classes(num_classes, "metric_seg");
    if (st != MEC_OK) return st;
    m->confusion = mec_calloc((size_t)num_classes * (size_t)num_classes, sizeof(int64_t));
    if (!m->confusion) return MEC_ERR_NOMEM;
    m->num_classes = num_classes;
    m->ignore_label = -1;
    return MEC_OK;
}

void mec_metric_seg_release(mec_metric_seg *m) {
    if (!m) return;
    mec_free(m->confusion);
    memset(m, 0, sizeof *m);
}

mec_status mec_metric_seg_update(mec_metric_seg *m, const mec_tensor *scores,
                                 const mec_tensor *labels) {
    if (!m || !m->confusion || !scores || !labels)
        return mec_error(MEC_ERR_INVALID_ARG, "metric_seg: null argument");
    int C = m->num_classes;
    if (labels->ndim != 3 || !is_integer(labels->dtype))
        return mec_error(MEC_ERR_SHAPE, "metric_seg: labels must be integer (n, H, W), got %d dims of %s",
                         labels->ndim, mec_dtype_name(labels->dtype));
    int64_t n = labels->shape[0], hw = labels->shape[1] * labels->shape[2];
    bool logits = !is_integer(scores->dtype);
    if (logits) {
        if (scores->ndim != 4 || scores->shape[0] != n || scores->shape[1] != C ||
            scores->shape[2] != labels->shape[1] || scores->shape[3] != labels->shape[2])
            return mec_error(MEC_ERR_SHAPE, "metric_seg: logits must be (%lld, %d, %lld, %lld)",
                             (long long)n, C, (long long)labels->shape[1], (long long)labels->shape[2]);
    } else if (!mec_tensor_same_shape(scores, labels)) {
        return mec_error(MEC_ERR_SHAPE, "metric_seg: predicted labels and labels differ in shape");
    }
    for (int64_t b = 0; b < n; b++)
        for (int64_t p = 0; p < hw; p++) {
            int64_t y = mec_tensor_get_i64(labels, b * hw + p);
            if (y == m->ignore_label) continue;
            if (y < 0 || y >= C)
                return mec_error(MEC_ERR_RANGE, "metric_seg: label %lld at item %lld pixel %lld outside 0..%d",
                                 (long long)y, (long long)b, (long long)p, C - 1);
            int64_t pred = 0;
            if (logits) {
                double best = mec_tensor_get_f64(scores, (b * C) * hw + p);
                for (int c = 1; c < C; c++) {
                    double s = mec_tensor_get_f64(scores, (b * C + c) * hw + p);
                    if (s > best) {
                        best = s;
                        pred = c;
                    }
                }
            } else {
                pred = mec_tensor_get_i64(scores, b * hw + p);
                if (pred < 0 || pred >= C)
                    return mec_error(MEC_ERR_RANGE, "metric_seg: predicted label %lld outside 0..%d",
                                     (long long)pred, C - 1);
            }
            m->confusion[y * C + pred]++;
        }
    return MEC_OK;
}

double mec_metric_class_iou(const int64_t *confusion, int num_classes, int c) {
    int64_t tp = confusion[(size_t)c * num_classes + c], uni = -tp;
    for (int k = 0; k < num_classes; k++)
        uni += confusion[(size_t)c * num_classes + k] + confusion[(size_t)k * num_classes + c];
    return uni > 0 ? (double)tp / (double)uni : NAN;
}

double mec_metric_mean_iou(const int64_t *confusion, int num_classes) {
    double sum = 0;
    int used = 0;
    for (int c = 0; c < num_classes; c++) {
        double iou = mec_metric_class_iou(confusion, num_classes, c);
        if (isnan(iou)) continue;
        sum += iou;
        used++;
    }
    return used ? sum / used : 0.0;
}

double mec_metric_pixel_accuracy(const int64_t *confusion, int num_classes) {
    int64_t tp = 0, all = 0;
    for (int c = 0; c < num_classes; c++)
        for (int k = 0; k < num_classes; k++) {
            all += confusion[(size_t)c * num_classes + k];
            if (c == k) tp += confusion[(size_t)c * num_classes + k];
        }
    return all ? (double)tp / (double)all : 0.0;
}
