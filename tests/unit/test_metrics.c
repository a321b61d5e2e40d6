/* data/metrics: top-1/top-5, confusion, macro-F1 and mean IoU on cases
 * worked by hand (the same numbers scikit-learn's f1_score(average='macro')
 * and jaccard_score give for them). */
#include "mec/data.h"
#include "test.h"

static mec_tensor *make_f32(int ndim, const int64_t *shape, const float *v) {
    mec_tensor *t = NULL;
    if (mec_tensor_create(&t, MEC_F32, ndim, shape) != MEC_OK) return NULL;
    memcpy(t->data, v, mec_tensor_bytes(t));
    return t;
}

static mec_tensor *make_i64(int ndim, const int64_t *shape, const int64_t *v) {
    mec_tensor *t = NULL;
    if (mec_tensor_create(&t, MEC_I64, ndim, shape) != MEC_OK) return NULL;
    memcpy(t->data, v, mec_tensor_bytes(t));
    return t;
}

static void test_topk(void) {
    /* 7 classes, 3 rows. Row 0: true 2 is best. Row 1: true 0 ranks last
     * (6 higher scores). Row 2: true 6 ranks 5th: 3 higher scores, and a
     * tie with class 1, which being lower ranks ahead of it. */
    float s[3 * 7] = {0.1f, 0.2f, 0.9f, 0.0f, 0.0f, 0.0f, 0.0f,
                      0.1f, 0.5f, 0.4f, 0.3f, 0.2f, 0.6f, 0.7f,
                      0.9f, 0.3f, 0.8f, 0.7f, 0.2f, 0.1f, 0.3f};
    int64_t y[3] = {2, 0, 6};
    mec_tensor *scores = make_f32(2, (int64_t[]){3, 7}, s), *labels = make_i64(1, (int64_t[]){3}, y);
    mec_metric_cls m;
    CHECK_OK(mec_metric_cls_init(&m, 7));
    CHECK_OK(mec_metric_cls_update(&m, scores, labels));
    CHECK(m.count == 3 && m.top1 == 1 && m.top5 == 2);
    CHECK_NEAR(mec_metric_top1(&m), 1.0 / 3, 1e-12);
    CHECK_NEAR(mec_metric_top5(&m), 2.0 / 3, 1e-12);
    /* predictions: row 0 -> 2, row 1 -> 6, row 2 -> 0 */
    CHECK(m.confusion[2 * 7 + 2] == 1 && m.confusion[0 * 7 + 6] == 1 && m.confusion[6 * 7 + 0] == 1);
    /* a second update accumulates */
    CHECK_OK(mec_metric_cls_update(&m, scores, labels));
    CHECK(m.count == 6 && m.top1 == 2);
    /* bad input */
    int64_t bad_y[3] = {2, 7, 0};
    mec_tensor *bad = make_i64(1, (int64_t[]){3}, bad_y);
    CHECK(mec_metric_cls_update(&m, scores, bad) == MEC_ERR_RANGE);
    CHECK(strstr(mec_last_error(), "label 7") != NULL);
    mec_tensor *short_labels = make_i64(1, (int64_t[]){2}, y);
    CHECK(mec_metric_cls_update(&m, scores, short_labels) == MEC_ERR_SHAPE);
    CHECK(m.count == 6); /* failed updates add nothing */
    mec_metric_cls_release(&m);
    CHECK(mec_metric_cls_init(&m, 0) == MEC_ERR_RANGE);
    mec_tensor_destroy(scores);
    mec_tensor_destroy(labels);
    mec_tensor_destroy(bad);
    mec_tensor_destroy(short_labels);
}

static void test_top5_few_classes(void) {
    /* with 3 classes, top-5 means top-3: always right */
    float s[2 * 3] = {0.1f, 0.2f, 0.7f, 0.5f, 0.3f, 0.2f};
    int64_t y[2] = {0, 2};
    mec_tensor *scores = make_f32(2, (int64_t[]){2, 3}, s), *labels = make_i64(1, (int64_t[]){2}, y);
    mec_metric_cls m;
    CHECK_OK(mec_metric_cls_init(&m, 3));
    CHECK_OK(mec_metric_cls_update(&m, scores, labels));
    CHECK_NEAR(mec_metric_top1(&m), 0.0, 0);
    CHECK_NEAR(mec_metric_top5(&m), 1.0, 0);
    mec_metric_cls_release(&m);
    mec_tensor_destroy(scores);
    mec_tensor_destroy(labels);
}

static void test_macro_f1_and_iou(void) {
    /* rows = truth: class 0: 2 right, 1 as class 1; class 1: 1 right, 1 as 2;
     * class 2: 3 right, 1 as 0.
     * F1: c0 2*2/(3+3) = 2/3, c1 2*1/(2+2) = 1/2, c2 2*3/(4+4) = 3/4 -> 0.638888...
     * IoU: c0 2/(3+3-2) = 1/2, c1 1/3, c2 3/5 -> 0.477777... */
    int64_t conf[9] = {2, 1, 0, 0, 1, 1, 1, 0, 3};
    CHECK_NEAR(mec_metric_macro_f1(conf, 3), (2.0 / 3 + 0.5 + 0.75) / 3, 1e-12);
    CHECK_NEAR(mec_metric_mean_iou(conf, 3), (0.5 + 1.0 / 3 + 0.6) / 3, 1e-12);
    CHECK_NEAR(mec_metric_class_iou(conf, 3, 1), 1.0 / 3, 1e-12);
    CHECK_NEAR(mec_metric_pixel_accuracy(conf, 3), 6.0 / 9, 1e-12);
    /* a class never seen nor predicted is left out; one predicted but never
     * true counts 0 */
    int64_t conf4[16] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK_NEAR(mec_metric_macro_f1(conf4, 4), (2.0 * 5 / (6 + 5) + 0.0) / 2, 1e-12);
    CHECK_NEAR(mec_metric_mean_iou(conf4, 4), (5.0 / 6 + 0.0) / 2, 1e-12);
    CHECK(isnan(mec_metric_class_iou(conf4, 4, 2)));
}

static void test_seg(void) {
    /* 1 item, 2x3 pixels, 3 classes; logits put class argmax at
     *   pred  = 0 1 2 / 0 0 2     truth = 0 1 1 / 0 2 -1(ignored) */
    int64_t y[6] = {0, 1, 1, 0, 2, -1};
    int pred[6] = {0, 1, 2, 0, 0, 2};
    float logits[3 * 6] = {0};
    for (int p = 0; p < 6; p++) logits[pred[p] * 6 + p] = 1.0f;
    mec_tensor *lg = make_f32(4, (int64_t[]){1, 3, 2, 3}, logits);
    mec_tensor *labels = make_i64(3, (int64_t[]){1, 2, 3}, y);
    mec_metric_seg m;
    CHECK_OK(mec_metric_seg_init(&m, 3));
    CHECK_OK(mec_metric_seg_update(&m, lg, labels));
    /* confusion: (0,0)=2 (1,1)=1 (1,2)=1 (2,0)=1 */
    CHECK(m.confusion[0] == 2 && m.confusion[4] == 1 && m.confusion[5] == 1 && m.confusion[6] == 1);
    /* IoU: c0 2/3, c1 1/2, c2 0/2 -> 7/18 */
    CHECK_NEAR(mec_metric_mean_iou(m.confusion, 3), (2.0 / 3 + 0.5 + 0.0) / 3, 1e-12);
    /* integer predictions give the same */
    int64_t p64[6];
    for (int p = 0; p < 6; p++) p64[p] = pred[p];
    mec_tensor *pt = make_i64(3, (int64_t[]){1, 2, 3}, p64);
    mec_metric_seg m2;
    CHECK_OK(mec_metric_seg_init(&m2, 3));
    CHECK_OK(mec_metric_seg_update(&m2, pt, labels));
    CHECK(memcmp(m.confusion, m2.confusion, 9 * sizeof(int64_t)) == 0);
    /* errors */
    mec_tensor *wrong = make_f32(4, (int64_t[]){1, 2, 2, 3}, logits);
    CHECK(mec_metric_seg_update(&m, wrong, labels) == MEC_ERR_SHAPE);
    m2.ignore_label = 99;
    CHECK(mec_metric_seg_update(&m2, pt, labels) == MEC_ERR_RANGE); /* -1 is now a bad label */
    mec_metric_seg_release(&m);
    mec_metric_seg_release(&m2);
    mec_tensor_destroy(lg);
    mec_tensor_destroy(labels);
    mec_tensor_destroy(pt);
    mec_tensor_destroy(wrong);
}

int main(void) {
    RUN(test_topk);
    RUN(test_top5_few_classes);
    RUN(test_macro_f1_and_iou);
    RUN(test_seg);
    return TEST_SUMMARY();
}
