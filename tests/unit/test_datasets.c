/* data/datasets: Fashion-MNIST splits against sums computed with numpy from
 * the Debian files, the derived segmentation set, the fortunes text set, the
 * loader (shuffle is a permutation, batches match items), the photo set,
 * and malformed IDX files. */
#define _POSIX_C_SOURCE 200809L
#include "mec/data.h"
#include "test.h"

#include <stdint.h>
#include <unistd.h>
#include <zlib.h>

static char tmpdir[64];

static mec_dataset *open_ds(mec_dataset_kind kind, const mec_dataset_options *o) {
    mec_dataset *ds = NULL;
    mec_status st = mec_dataset_open(kind, o, &ds);
    if (st != MEC_OK) {
        fprintf(stderr, "  open %s: %s\n", mec_dataset_kind_name(kind), mec_last_error());
        test_failed_checks++;
    }
    return ds;
}

/* Sum of the raw 8-bit pixels of a split, read back through the f32 input. */
static long long raw_pixel_sum(mec_dataset *ds) {
    mec_batch b = {0};
    long long sum = 0;
    for (int64_t i = 0; i < mec_dataset_count(ds); i++) {
        if (mec_dataset_get(ds, i, &b) != MEC_OK) return -1;
        const float *f = b.input->data;
        for (int k = 0; k < 784; k++) sum += (long long)(f[k] * 255.0f + 0.5f);
    }
    mec_batch_release(&b);
    return sum;
}

static void test_fashion_test_split(void) {
    /* numpy: t10k pixel sum 573469082, 1000 items per class */
    mec_dataset_options o;
    mec_dataset_options_default(&o);
    o.split = MEC_SPLIT_TEST;
    o.normalize = false;
    mec_dataset *ds = open_ds(MEC_DATASET_FASHION_MNIST, &o);
    if (!ds) return;
    mec_dataset_info info;
    mec_dataset_get_info(ds, &info);
    CHECK(info.count == 10000 && info.num_classes == 10 && info.task == MEC_TASK_CLASSIFY);
    CHECK(info.input_ndim == 3 && info.input_shape[0] == 1 && info.input_shape[1] == 28);
    for (int c = 0; c < 10; c++) CHECK(mec_dataset_class_count(ds, c) == 1000);
    CHECK_STR(mec_dataset_class_name(ds, 9), "Ankle boot");
    CHECK(mec_dataset_class_name(ds, 10) == NULL);
    CHECK(raw_pixel_sum(ds) == 573469082LL);
    mec_batch b = {0};
    CHECK(mec_dataset_get(ds, 10000, &b) == MEC_ERR_RANGE);
    CHECK(mec_dataset_get(ds, -1, &b) == MEC_ERR_RANGE);
    mec_dataset_close(ds);
}

static void test_fashion_train_val_partition(void) {
    /* train + val are a partition of the 60000 training images: numpy sum
     * 3431114169; val is 500 per class whatever the seed */
    mec_dataset_options o;
    mec_dataset_options_default(&o);
    o.normalize = false;
    o.seed = 7;
    mec_dataset *tr = open_ds(MEC_DATASET_FASHION_MNIST, &o);
    o.split = MEC_SPLIT_VAL;
    mec_dataset *va = open_ds(MEC_DATASET_FASHION_MNIST, &o);
    o.seed = 8;
    mec_dataset *va2 = open_ds(MEC_DATASET_FASHION_MNIST, &o);
    if (!tr || !va || !va2) goto out;
    CHECK(mec_dataset_count(tr) == 55000 && mec_dataset_count(va) == 5000);
    for (int c = 0; c < 10; c++) CHECK(mec_dataset_class_count(va, c) == 500);
    long long sv = raw_pixel_sum(va);
    CHECK(raw_pixel_sum(tr) + sv == 3431114169LL);
    CHECK(raw_pixel_sum(va2) == sv); /* same members... */
    mec_batch a = {0}, b = {0};
    int same_label = 0;
    for (int64_t i = 0; i < 50; i++) {
        CHECK_OK(mec_dataset_get(va, i, &a));
        CHECK_OK(mec_dataset_get(va2, i, &b));
        same_label += ((int64_t *)a.labels->data)[0] == ((int64_t *)b.labels->data)[0];
    }
    CHECK(same_label < 30); /* ...in another order */
    mec_batch_release(&a);
    mec_batch_release(&b);
out:
    mec_dataset_close(tr);
    mec_dataset_close(va);
    mec_dataset_close(va2);
}

static void test_fashion_preprocessing(void) {
    mec_dataset_options o;
    mec_dataset_options_default(&o);
    o.split = MEC_SPLIT_TEST;
    o.subset = 64;
    mec_dataset *ds = open_ds(MEC_DATASET_FASHION_MNIST, &o);
    o.image_size = 32;
    o.channels = 3;
    mec_dataset *big = open_ds(MEC_DATASET_FASHION_MNIST, &o);
    if (!ds || !big) goto out;
    CHECK(mec_dataset_count(ds) == 64);
    /* normalised with Fashion-MNIST's statistics: about zero mean, unit std */
    mec_batch b = {0};
    int64_t idx[64];
    for (int i = 0; i < 64; i++) idx[i] = i;
    CHECK_OK(mec_dataset_get_many(ds, idx, 64, &b));
    CHECK(b.n == 64 && b.input->ndim == 4 && b.input->shape[0] == 64 && b.labels->shape[0] == 64);
    double sum = 0, sq = 0;
    const float *f = b.input->data;
    for (int i = 0; i < 64 * 784; i++) {
        sum += f[i];
        sq += (double)f[i] * f[i];
    }
    double mean = sum / (64 * 784);
    CHECK_NEAR(mean, 0.0, 0.15);
    CHECK_NEAR(sqrt(sq / (64 * 784) - mean * mean), 1.0, 0.15);
    /* resized 3-channel: (3, 32, 32), channels equal, same labels */
    mec_batch c = {0};
    CHECK_OK(mec_dataset_get(big, 5, &c));
    CHECK(c.input->shape[1] == 3 && c.input->shape[2] == 32 && c.input->shape[3] == 32);
    const float *g = c.input->data;
    CHECK(memcmp(g, g + 1024, 1024 * sizeof(float)) == 0 && memcmp(g, g + 2048, 1024 * sizeof(float)) == 0);
    CHECK(((int64_t *)c.labels->data)[0] == ((int64_t *)b.labels->data)[5]);
    mec_batch_release(&b);
    mec_batch_release(&c);
out:
    mec_dataset_close(ds);
    mec_dataset_close(big);
}

/* Writes a gzip IDX file: header words then `extra` payload bytes. */
static void write_idx(const char *name, const uint32_t *words, int n_words, const uint8_t *payload,
                      size_t len) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    gzFile f = gzopen(path, "wb");
    for (int i = 0; i < n_words; i++) {
        uint8_t be[4] = {(uint8_t)(words[i] >> 24), (uint8_t)(words[i] >> 16), (uint8_t)(words[i] >> 8),
                         (uint8_t)words[i]};
        gzwrite(f, be, 4);
    }
    if (len) gzwrite(f, payload, (unsigned)len);
    gzclose(f);
}

static void test_fashion_bad_files(void) {
    mec_dataset_options o;
    mec_dataset_options_default(&o);
    o.split = MEC_SPLIT_TEST;
    o.root = tmpdir;
    mec_dataset *ds = NULL;
    uint8_t labels[4] = {1, 2, 3, 4}, pixels[4 * 4 * 4] = {0};
    /* missing files */
    CHECK(mec_dataset_open(MEC_DATASET_FASHION_MNIST, &o, &ds) == MEC_ERR_IO);
    /* a tiny valid set: 4 items of 4x4 */
    write_idx("t10k-labels-idx1-ubyte.gz", (uint32_t[]){0x801, 4}, 2, labels, 4);
    write_idx("t10k-images-idx3-ubyte.gz", (uint32_t[]){0x803, 4, 4, 4}, 4, pixels, sizeof pixels);
    CHECK_OK(mec_dataset_open(MEC_DATASET_FASHION_MNIST, &o, &ds));
    CHECK(mec_dataset_count(ds) == 4);
    mec_dataset_close(ds);
    ds = NULL;
    /* truncated pixels */
    write_idx("t10k-images-idx3-ubyte.gz", (uint32_t[]){0x803, 4, 4, 4}, 4, pixels, 40);
    CHECK(mec_dataset_open(MEC_DATASET_FASHION_MNIST, &o, &ds) == MEC_ERR_PARSE);
    CHECK(strstr(mec_last_error(), "t10k-images") && strstr(mec_last_error(), "truncated"));
    /* count mismatch */
    write_idx("t10k-images-idx3-ubyte.gz", (uint32_t[]){0x803, 3, 4, 4}, 4, pixels, 48);
    CHECK(mec_dataset_open(MEC_DATASET_FASHION_MNIST, &o, &ds) == MEC_ERR_PARSE);
    /* absurd sizes are refused before any allocation */
    write_idx("t10k-images-idx3-ubyte.gz", (uint32_t[]){0x803, 4, 100000, 4}, 4, pixels, 48);
    CHECK(mec_dataset_open(MEC_DATASET_FASHION_MNIST, &o, &ds) == MEC_ERR_RANGE);
    CHECK(strstr(mec_last_error(), "100000") != NULL);
    write_idx("t10k-labels-idx1-ubyte.gz", (uint32_t[]){0x801, 0xFFFFFFFFu}, 2, labels, 4);
    CHECK(mec_dataset_open(MEC_DATASET_FASHION_MNIST, &o, &ds) == MEC_ERR_RANGE);
    /* bad magic, bad label value */
    write_idx("t10k-labels-idx1-ubyte.gz", (uint32_t[]){0x803, 4}, 2, labels, 4);
    CHECK(mec_dataset_open(MEC_DATASET_FASHION_MNIST, &o, &ds) == MEC_ERR_PARSE);
    CHECK(strstr(mec_last_error(), "magic") != NULL);
    labels[2] = 12;
    write_idx("t10k-labels-idx1-ubyte.gz", (uint32_t[]){0x801, 4}, 2, labels, 4);
    CHECK(mec_dataset_open(MEC_DATASET_FASHION_MNIST, &o, &ds) == MEC_ERR_RANGE);
    CHECK(strstr(mec_last_error(), "12") != NULL);
    /* not gzip at all: zlib reads it as plain bytes, so the magic is wrong */
    char path[256];
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte.gz", tmpdir);
    CHECK_OK(mec_file_write_atomic(path, "garbage!", 8));
    CHECK(mec_dataset_open(MEC_DATASET_FASHION_MNIST, &o, &ds) == MEC_ERR_PARSE);
    CHECK(ds == NULL);
    /* bad options */
    mec_dataset_options_default(&o);
    o.channels = 2;
    CHECK(mec_dataset_open(MEC_DATASET_FASHION_MNIST, &o, &ds) == MEC_ERR_RANGE);
    o.channels = 1;
    o.subset = -5;
    CHECK(mec_dataset_open(MEC_DATASET_FASHION_MNIST, &o, &ds) == MEC_ERR_RANGE);
    mec_dataset_kind k;
    CHECK_OK(mec_dataset_kind_parse("fashion-seg", &k));
    CHECK(k == MEC_DATASET_FASHION_SEG);
    CHECK(mec_dataset_kind_parse("imagenet", &k) == MEC_ERR_NOT_FOUND);
    mec_split s;
    CHECK_OK(mec_split_parse("validation", &s));
    CHECK(s == MEC_SPLIT_VAL);
}

static void test_segmentation(void) {
    mec_dataset_options o;
    mec_dataset_options_default(&o);
    o.split = MEC_SPLIT_TEST;
    o.seg_count[MEC_SPLIT_TEST] = 40;
    o.normalize = false;
    mec_dataset *a = open_ds(MEC_DATASET_FASHION_SEG, &o);
    o.seed = 99;
    mec_dataset *b = open_ds(MEC_DATASET_FASHION_SEG, &o);
    if (!a || !b) goto out;
    mec_dataset_info info;
    mec_dataset_get_info(a, &info);
    CHECK(info.task == MEC_TASK_SEGMENT && info.num_classes == 11 && info.count == 40);
    CHECK(info.input_shape[1] == 64 && info.input_shape[2] == 64);
    CHECK_STR(mec_dataset_class_name(a, 0), "background");
    CHECK_STR(mec_dataset_class_name(a, 1), "T-shirt/top");
    mec_batch ba = {0}, bb = {0};
    int64_t idx[40];
    for (int i = 0; i < 40; i++) idx[i] = i;
    CHECK_OK(mec_dataset_get_many(a, idx, 40, &ba));
    CHECK_OK(mec_dataset_get_many(b, idx, 40, &bb));
    CHECK(ba.labels->ndim == 3 && ba.labels->shape[0] == 40 && ba.labels->shape[1] == 64);
    const float *x = ba.input->data;
    const int64_t *y = ba.labels->data;
    long background = 0, inconsistent = 0, out_of_range = 0;
    double label_sum_a = 0, label_sum_b = 0;
    for (long p = 0; p < 40L * 64 * 64; p++) {
        int raw = (int)(x[p] * 255.0f + 0.5f);
        if (y[p] < 0 || y[p] > 10) out_of_range++;
        if (y[p] == 0) background++;
        /* labels follow the ink: item pixels are >= 32, background below */
        if ((y[p] > 0) != (raw >= 32)) inconsistent++;
        label_sum_a += y[p];
        label_sum_b += ((const int64_t *)bb.labels->data)[p];
    }
    CHECK(out_of_range == 0 && inconsistent == 0);
    double bg = background / (40.0 * 64 * 64);
    CHECK(bg > 0.6 && bg < 0.95);
    /* the seed reorders the same canvases */
    CHECK(label_sum_a == label_sum_b);
    CHECK(memcmp(ba.labels->data, bb.labels->data, 64 * 64 * sizeof(int64_t)) != 0 ||
          memcmp((int64_t *)ba.labels->data + 4096, (int64_t *)bb.labels->data + 4096,
                 4096 * sizeof(int64_t)) != 0);
    /* deterministic: the same item twice is the same canvas */
    mec_batch again = {0};
    CHECK_OK(mec_dataset_get(a, 3, &again));
    CHECK(memcmp(again.labels->data, (int64_t *)ba.labels->data + 3 * 4096, 4096 * sizeof(int64_t)) == 0);
    mec_batch_release(&again);
    mec_batch_release(&ba);
    mec_batch_release(&bb);
    mec_dataset *bad = NULL;
    o.canvas_size = 16;
    CHECK(mec_dataset_open(MEC_DATASET_FASHION_SEG, &o, &bad) == MEC_ERR_RANGE);
    o.canvas_size = 64;
    o.image_size = 32;
    CHECK(mec_dataset_open(MEC_DATASET_FASHION_SEG, &o, &bad) == MEC_ERR_INVALID_ARG);
out:
    mec_dataset_close(a);
    mec_dataset_close(b);
}

static const char *const four_topics[] = {"computers", "people", "science", "work", NULL};

static void test_fortunes(void) {
    mec_dataset_options o;
    mec_dataset_options_default(&o);
    o.topics = four_topics;
    o.vocab_size = 600;
    o.max_len = 32;
    mec_dataset *tr = open_ds(MEC_DATASET_FORTUNES, &o);
    if (!tr) return;
    const mec_tok *tok = mec_dataset_tokenizer(tr);
    CHECK(mec_tok_vocab_size(tok) == 600);
    o.tokenizer = tok;
    o.split = MEC_SPLIT_TEST;
    mec_dataset *te = open_ds(MEC_DATASET_FORTUNES, &o);
    o.split = MEC_SPLIT_VAL;
    mec_dataset *va = open_ds(MEC_DATASET_FORTUNES, &o);
    if (!te || !va) goto out;
    mec_dataset_info info;
    mec_dataset_get_info(tr, &info);
    CHECK(info.num_classes == 4 && info.input_dtype == MEC_I64 && info.has_mask);
    CHECK(info.input_ndim == 1 && info.input_shape[0] == 32);
    CHECK_STR(mec_dataset_class_name(tr, 2), "science");
    int64_t total = 0;
    for (int c = 0; c < 4; c++) {
        int64_t n = mec_dataset_class_count(tr, c) + mec_dataset_class_count(va, c) +
                    mec_dataset_class_count(te, c);
        total += n;
        CHECK(mec_dataset_class_count(te, c) == n / 10);
        CHECK(mec_dataset_class_count(va, c) == n / 10);
        CHECK(mec_dataset_class_count(tr, c) >= 400); /* every topic has hundreds */
    }
    CHECK(total == mec_dataset_count(tr) + mec_dataset_count(va) + mec_dataset_count(te));
    /* splits are disjoint */
    int shared = 0;
    for (int64_t i = 0; i < mec_dataset_count(te); i++)
        for (int64_t j = 0; j < mec_dataset_count(tr); j++)
            shared += strcmp(mec_dataset_text(te, i), mec_dataset_text(tr, j)) == 0;
    CHECK(shared == 0);
    /* an encoded item: [CLS] ... [SEP] [PAD]..., mask over the real tokens */
    mec_batch b = {0};
    int64_t idx[3] = {0, 1, 2};
    CHECK_OK(mec_dataset_get_many(te, idx, 3, &b));
    CHECK(b.input->dtype == MEC_I64 && b.input->shape[0] == 3 && b.input->shape[1] == 32);
    CHECK(b.mask && b.mask->shape[1] == 32);
    for (int k = 0; k < 3 && b.mask; k++) {
        const int64_t *ids = (const int64_t *)b.input->data + k * 32, *m = (const int64_t *)b.mask->data + k * 32;
        int len = 0;
        while (len < 32 && m[len]) len++;
        CHECK(ids[0] == MEC_TOK_CLS && ids[len - 1] == MEC_TOK_SEP);
        for (int t = len; t < 32; t++) CHECK(ids[t] == MEC_TOK_PAD && m[t] == 0);
        int64_t expect[32], mask[32];
        CHECK_OK(mec_tok_encode(tok, mec_dataset_text(te, k), 32, expect, mask));
        CHECK(memcmp(expect, ids, sizeof expect) == 0);
        int64_t lab = ((const int64_t *)b.labels->data)[k];
        CHECK(lab >= 0 && lab < 4);
    }
    mec_batch_release(&b);
    /* too few topics, unknown topic */
    mec_dataset *bad = NULL;
    const char *const one[] = {"computers", NULL};
    o.topics = one;
    CHECK(mec_dataset_open(MEC_DATASET_FORTUNES, &o, &bad) == MEC_ERR_INVALID_ARG);
    const char *const missing[] = {"computers", "no-such-topic", NULL};
    o.topics = missing;
    CHECK(mec_dataset_open(MEC_DATASET_FORTUNES, &o, &bad) == MEC_ERR_IO);
    CHECK(strstr(mec_last_error(), "no-such-topic") != NULL);
out:
    mec_dataset_close(te);
    mec_dataset_close(va);
    mec_dataset_close(tr);
}

static void test_loader(void) {
    mec_dataset_options o;
    mec_dataset_options_default(&o);
    o.split = MEC_SPLIT_TEST;
    o.subset = 103;
    mec_dataset *ds = open_ds(MEC_DATASET_FASHION_MNIST, &o);
    if (!ds) return;
    mec_loader_options lo = {10, true, 5, false};
    mec_loader *l = NULL;
    CHECK_OK(mec_loader_create(ds, &lo, &l));
    if (!l) goto out;
    CHECK(mec_loader_batches(l) == 11);
    int seen[103] = {0};
    int batches = 0, in_order = 0;
    const mec_batch *b;
    mec_batch item = {0};
    for (;;) {
        CHECK_OK(mec_loader_next(l, &b));
        if (!b) break;
        CHECK(b->n == (batches == 10 ? 3 : 10));
        CHECK(b->input->shape[0] == b->n);
        for (int64_t k = 0; k < b->n; k++) {
            int64_t i = b->index[k];
            if (i >= 0 && i < 103) seen[i]++;
            in_order += i == batches * 10 + k;
            /* the batch row is the item */
            CHECK_OK(mec_dataset_get(ds, i, &item));
            CHECK(memcmp(item.input->data, (float *)b->input->data + k * 784, 784 * sizeof(float)) == 0);
            CHECK(((int64_t *)item.labels->data)[0] == ((int64_t *)b->labels->data)[k]);
        }
        batches++;
    }
    mec_batch_release(&item);
    CHECK(batches == 11);
    for (int i = 0; i < 103; i++) CHECK(seen[i] == 1);
    CHECK(in_order < 30); /* shuffled */
    /* same seed and epoch, same order; another epoch, another order */
    int64_t first[103], second[103];
    for (int p = 0; p < 103; p++) first[p] = mec_loader_index(l, p);
    mec_loader_reset(l, 0);
    int same = 0;
    for (int p = 0; p < 103; p++) same += mec_loader_index(l, p) == first[p];
    CHECK(same == 103);
    mec_loader_reset(l, 1);
    same = 0;
    for (int p = 0; p < 103; p++) {
        second[p] = mec_loader_index(l, p);
        same += second[p] == first[p];
    }
    CHECK(same < 20);
    CHECK(mec_loader_index(l, 103) == -1);
    mec_loader_destroy(l);
    /* no shuffle, drop_last */
    lo.shuffle = false;
    lo.drop_last = true;
    CHECK_OK(mec_loader_create(ds, &lo, &l));
    CHECK(mec_loader_batches(l) == 10);
    batches = 0;
    for (;;) {
        CHECK_OK(mec_loader_next(l, &b));
        if (!b) break;
        CHECK(b->n == 10 && b->index[0] == batches * 10);
        batches++;
    }
    CHECK(batches == 10);
    mec_loader_destroy(l);
    lo.batch_size = 0;
    CHECK(mec_loader_create(ds, &lo, &l) == MEC_ERR_RANGE);
out:
    mec_dataset_close(ds);
}

static void test_photos(void) {
    static const int sides[] = {64, 200};
    static const int qualities[] = {50, 95};
    static const char *const sources[] = {"photo_40x30.jpg", "rgb_16x12.png", NULL};
    mec_photo_spec s;
    mec_photo_spec_default(&s);
    s.src_dir = "tests/data/images";
    s.sources = sources;
    s.long_sides = sides;
    s.n_long_sides = 2;
    s.qualities = qualities;
    s.n_qualities = 2;
    s.min_bytes = s.max_bytes = 0;
    char out[128];
    snprintf(out, sizeof out, "%s/photos/sub", tmpdir);
    mec_photo_file *f = NULL, *g = NULL;
    int64_t n = 0, m = 0;
    CHECK_OK(mec_dataset_photos_build(&s, out, &f, &n));
    CHECK(n == 8);
    for (int64_t i = 0; f && i < n; i++) {
        CHECK(f[i].bytes > 100);
        CHECK(f[i].width == 64 || f[i].width == 200);
        if (strstr(f[i].source, "photo")) CHECK(f[i].height == (f[i].width == 64 ? 48 : 150));
    }
    /* bigger and better means more bytes */
    if (n == 8) {
        CHECK(strstr(f[0].path, "photo_40x30_200_q50.jpg") != NULL);
        CHECK(f[1].quality == 95 && f[1].bytes > f[0].bytes);
        CHECK(f[0].bytes > f[2].bytes); /* 200 px q50 > 64 px q50 */
    }
    CHECK_OK(mec_dataset_photos_list(out, &g, &m));
    CHECK(m == n);
    for (int64_t i = 0; f && g && i < m && i < n; i++) {
        CHECK_STR(g[i].path, f[i].path);
        CHECK(g[i].bytes == f[i].bytes && g[i].width == f[i].width && g[i].height == f[i].height);
    }
    mec_free(g);
    /* a size window keeps only what falls in it */
    if (n == 8) {
        s.min_bytes = f[1].bytes;
        mec_free(f);
        CHECK_OK(mec_dataset_photos_build(&s, out, &f, &n));
        for (int64_t i = 0; i < n; i++) CHECK(f[i].bytes >= s.min_bytes);
        CHECK(n >= 1 && n < 8);
    }
    mec_free(f);
    s.sources = (const char *const[]){"missing.jpg", NULL};
    CHECK(mec_dataset_photos_build(&s, out, &f, &n) == MEC_ERR_IO);
    s.sources = sources;
    s.qualities = (const int[]){0};
    s.n_qualities = 1;
    CHECK(mec_dataset_photos_build(&s, out, &f, &n) == MEC_ERR_RANGE);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/mec_test_datasets_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_fashion_test_split);
    RUN(test_fashion_train_val_partition);
    RUN(test_fashion_preprocessing);
    RUN(test_fashion_bad_files);
    RUN(test_segmentation);
    RUN(test_fortunes);
    RUN(test_loader);
    RUN(test_photos);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return TEST_SUMMARY();
}
