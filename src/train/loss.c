/* Losses on logits: cross-entropy (any number of trailing spatial dims, so
 * per-pixel cross-entropy is the (N, C, H, W) case) with label smoothing and
 * an ignore index, and Hinton distillation (KL with temperature, T^2
 * scaling) mixed with cross-entropy. Each returns the loss and d loss /
 * d logits. */
#include "train_internal.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

static mec_status dlogits_like(mec_tensor *d, const mec_tensor *logits) {
    if (!d) return MEC_OK;
    d->dtype = MEC_F32;
    d->ndim = logits->ndim;
    for (int i = 0; i < logits->ndim; i++) d->shape[i] = logits->shape[i];
    size_t bytes = mec_tensor_bytes(logits);
    if (!d->owned || d->capacity < bytes) {
        void *p = mec_malloc(bytes);
        if (!p) return MEC_ERR_NOMEM;
        mec_free(d->owned);
        d->owned = p;
        d->capacity = bytes;
    }
    d->data = d->owned;
    mec_tensor_contiguous_strides(d);
    memset(d->data, 0, bytes);
    return MEC_OK;
}

static int64_t label_at(const mec_tensor *labels, int64_t i) {
    return labels->dtype == MEC_I32 ? ((const int32_t *)labels->data)[i]
                                    : ((const int64_t *)labels->data)[i];
}

/* logits (N, C, S) viewed with S = product of the trailing dims; labels
 * (N, S). Adds weight * CE (mean over counted labels) to *loss and its
 * gradient to d (when not NULL). */
static mec_status cross_entropy(const mec_train_config *cfg, const mec_tensor *logits,
                                const mec_tensor *labels, double weight, double *loss, float *d) {
    if (!labels) return mec_error(MEC_ERR_INVALID_ARG, "cross-entropy needs labels");
    if (labels->dtype != MEC_I64 && labels->dtype != MEC_I32)
        return mec_error(MEC_ERR_DTYPE, "labels have dtype %s, expected int64 or int32",
                         mec_dtype_name(labels->dtype));
    int64_t N = logits->shape[0], C = logits->shape[1], S = 1;
    for (int i = 2; i < logits->ndim; i++) S *= logits->shape[i];
    bool shape_ok = labels->ndim == logits->ndim - 1 && labels->shape[0] == N;
    for (int i = 2; i < logits->ndim && shape_ok; i++) shape_ok = labels->shape[i - 1] == logits->shape[i];
    if (!shape_ok) {
        char a[160], b[160];
        return mec_error(MEC_ERR_SHAPE, "labels of shape %s do not match logits of shape %s (expected (N, d1..dk) for (N, C, d1..dk))",
                         mec_shape_str(labels->ndim, labels->shape, a, sizeof a),
                         mec_shape_str(logits->ndim, logits->shape, b, sizeof b));
    }
    const float *x = logits->data;
    double eps = cfg->label_smoothing;
    int64_t counted = 0;
    for (int64_t i = 0; i < N * S; i++) {
        int64_t y = label_at(labels, i);
        if (y == cfg->ignore_index) continue;
        if (y < 0 || y >= C)
            return mec_error(MEC_ERR_RANGE, "label %" PRId64 " at position %" PRId64 " is outside [0, %" PRId64 ")",
                             y, i, C);
        counted++;
    }
    if (!counted) return MEC_OK; /* every label ignored: loss 0, no gradient (PyTorch gives NaN) */
    double total = 0.0, scale = weight / (double)counted;
    for (int64_t n = 0; n < N; n++)
        for (int64_t s = 0; s < S; s++) {
            int64_t y = label_at(labels, n * S + s);
            if (y == cfg->ignore_index) continue;
            const float *xr = x + n * C * S + s;
            double mx = -INFINITY, sum = 0.0, sum_x = 0.0;
            for (int64_t c = 0; c < C; c++) mx = xr[c * S] > mx ? xr[c * S] : mx;
            for (int64_t c = 0; c < C; c++) {
                sum += exp(xr[c * S] - mx);
                sum_x += xr[c * S];
            }
            double lse = mx + log(sum);
            /* -log p_y with smoothing: (1-eps)(lse - x_y) + eps (lse - mean_c x_c) */
            total += (1.0 - eps) * (lse - xr[y * S]) + eps * (lse - sum_x / (double)C);
            if (!d) continue;
            float *dr = d + n * C * S + s;
            for (int64_t c = 0; c < C; c++) {
                double p = exp(xr[c * S] - lse);
                double target = eps / (double)C + (c == y ? 1.0 - eps : 0.0);
                dr[c * S] += (float)(scale * (p - target));
            }
        }
    *loss += total * scale;
    return MEC_OK;
}

/* KL(softmax(teacher/T) || softmax(student/T)) * T^2, mean over the N rows
 * of (N, C, S) logits (every (n, s) position is a distribution over C). */
static mec_status distill(const mec_train_config *cfg, const mec_tensor *logits,
                          const mec_tensor *teacher, double weight, double *loss, float *d) {
    if (!teacher) return mec_error(MEC_ERR_INVALID_ARG, "distillation needs teacher logits");
    if (teacher->dtype != MEC_F32 || !mec_tensor_same_shape(teacher, logits)) {
        char a[160], b[160];
        return mec_error(MEC_ERR_SHAPE, "teacher logits %s %s do not match student logits float32 %s",
                         mec_dtype_name(teacher->dtype), mec_shape_str(teacher->ndim, teacher->shape, a, sizeof a),
                         mec_shape_str(logits->ndim, logits->shape, b, sizeof b));
    }
    double T = cfg->kd_temperature;
    if (!(T > 0)) return mec_error(MEC_ERR_RANGE, "kd_temperature is %g, expected > 0", T);
    int64_t N = logits->shape[0], C = logits->shape[1], S = 1;
    for (int i = 2; i < logits->ndim; i++) S *= logits->shape[i];
    const float *xs = logits->data, *xt = teacher->data;
    double total = 0.0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t s = 0; s < S; s++) {
            const float *a = xs + n * C * S + s, *b = xt + n * C * S + s;
            double ma = -INFINITY, mb = -INFINITY, sa = 0.0, sb = 0.0;
            for (int64_t c = 0; c < C; c++) {
                ma = a[c * S] / T > ma ? a[c * S] / T : ma;
                mb = b[c * S] / T > mb ? b[c * S] / T : mb;
            }
            for (int64_t c = 0; c < C; c++) {
                sa += exp(a[c * S] / T - ma);
                sb += exp(b[c * S] / T - mb);
            }
            double lsa = ma + log(sa), lsb = mb + log(sb);
            for (int64_t c = 0; c < C; c++) {
                double lps = a[c * S] / T - lsa, lpt = b[c * S] / T - lsb, pt = exp(lpt);
                total += pt * (lpt - lps);
                /* d/ds_c of T^2 KL = T (p_s - p_t) */
                if (d) d[n * C * S + s + c * S] += (float)(weight * T * (exp(lps) - pt) / (double)N);
            }
        }
    *loss += weight * T * T * total / (double)N;
    return MEC_OK;
}

mec_status mec_train_loss(const mec_train_config *cfg, const mec_tensor *logits,
                          const mec_tensor *labels, const mec_tensor *teacher, float *loss,
                          mec_tensor *dlogits) {
    if (!logits || logits->dtype != MEC_F32 || logits->ndim < 2 || !mec_tensor_is_contiguous(logits))
        return mec_error(MEC_ERR_SHAPE, "the loss needs contiguous float32 logits of shape (N, C, ...)");
    if (labels && !mec_tensor_is_contiguous(labels))
        return mec_error(MEC_ERR_INVALID_ARG, "labels must be contiguous");
    mec_status st = dlogits_like(dlogits, logits);
    if (st) return st;
    float *d = dlogits ? dlogits->data : NULL;
    double total = 0.0;
    switch (cfg->loss) {
    case MEC_LOSS_CROSS_ENTROPY: st = cross_entropy(cfg, logits, labels, 1.0, &total, d); break;
    case MEC_LOSS_DISTILL: {
        double alpha = cfg->kd_alpha;
        if (alpha < 0 || alpha > 1) return mec_error(MEC_ERR_RANGE, "kd_alpha is %g, expected [0, 1]", alpha);
        st = distill(cfg, logits, teacher, alpha, &total, d);
        if (!st && alpha < 1.0) st = cross_entropy(cfg, logits, labels, 1.0 - alpha, &total, d);
        break;
    }
    case MEC_LOSS_NONE: return mec_error(MEC_ERR_INVALID_ARG, "the configured loss is 'none'");
    default: return mec_error(MEC_ERR_INVALID_ARG, "unknown loss kind %d", (int)cfg->loss);
    }
    if (st) return st;
    *loss = (float)total;
    return MEC_OK;
}
