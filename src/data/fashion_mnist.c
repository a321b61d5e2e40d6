/* Fashion-MNIST from Debian's dataset-fashion-mnist: gzip IDX files read with
 * zlib, streamed so that only the chosen split/subset's pixels are kept.
 * train (55000) and val (5000, 500 per class) come from the 60000 training
 * images by a fixed stratified draw; test is the 10000 t10k images. */
#include "data_internal.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define FMNIST_DEFAULT_ROOT "/usr/share/datasets/fashion-mnist"
#define FMNIST_MAX_ITEMS 1000000
#define FMNIST_MAX_SIDE 256
#define FMNIST_CLASSES 10
#define FMNIST_VAL_DIVISOR 12 /* 1 in 12 of each class goes to val */

static const char *const fmnist_classes[FMNIST_CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

typedef struct fmnist {
    int rows, cols;
    uint8_t *pixels; /* count * rows * cols */
    uint8_t *labels; /* count */
} fmnist;

static mec_status gz_read_exact(gzFile f, void *buf, size_t n, const char *path, const char *what) {
    size_t done = 0;
    while (done < n) {
        unsigned chunk = n - done > (1u << 30) ? (1u << 30) : (unsigned)(n - done);
        int r = gzread(f, (char *)buf + done, chunk);
        if (r <= 0) {
            int zerr = 0;
            const char *msg = gzerror(f, &zerr);
            return mec_error(MEC_ERR_PARSE, "%s: truncated or corrupt while reading %s (%zu of %zu bytes): %s",
                             path, what, done, n, zerr ? msg : "unexpected end of file");
        }
        done += (size_t)r;
    }
    return MEC_OK;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Opens an IDX file and reads its header: magic 0x00000801 (labels, 1 dim)
 * or 0x00000803 (images, 3 dims). */
static mec_status idx_open(const char *path, uint32_t magic, uint32_t *dims, gzFile *out) {
    *out = NULL;
    gzFile f = gzopen(path, "rb");
    if (!f) return mec_error(MEC_ERR_IO, "%s: cannot open (is dataset-fashion-mnist installed?)", path);
    int ndim = (int)(magic & 0xff);
    uint8_t head[16];
    mec_status st = gz_read_exact(f, head, 4 + 4 * (size_t)ndim, path, "the IDX header");
    if (st == MEC_OK && be32(head) != magic)
        st = mec_error(MEC_ERR_PARSE, "%s: IDX magic 0x%08x, expected 0x%08x", path, be32(head), magic);
    for (int d = 0; st == MEC_OK && d < ndim; d++) dims[d] = be32(head + 4 + 4 * d);
    if (st == MEC_OK && (dims[0] == 0 || dims[0] > FMNIST_MAX_ITEMS))
        st = mec_error(MEC_ERR_RANGE, "%s: item count %u outside 1..%d", path, dims[0], FMNIST_MAX_ITEMS);
    for (int d = 1; st == MEC_OK && d < ndim; d++)
        if (dims[d] == 0 || dims[d] > FMNIST_MAX_SIDE)
            st = mec_error(MEC_ERR_RANGE, "%s: dimension %d is %u, outside 1..%d", path, d, dims[d],
                           FMNIST_MAX_SIDE);
    if (st != MEC_OK) {
        gzclose(f);
        return st;
    }
    *out = f;
    return MEC_OK;
}

static void fmnist_close(mec_dataset *ds) {
    fmnist *fm = ds->impl;
    if (!fm) return;
    mec_free(fm->pixels);
    mec_free(fm->labels);
    mec_free(fm);
}

static mec_status fmnist_fill(mec_dataset *ds, int64_t i, void *input, int64_t *mask,
                              int64_t *label) {
    (void)mask;
    fmnist *fm = ds->impl;
    size_t item = (size_t)fm->rows * (size_t)fm->cols;
    *label = fm->labels[i];
    return mec_dataset_grey_to_input(&ds->opt, fm->pixels + (size_t)i * item, fm->cols, fm->rows,
                                     (int)ds->info.input_shape[1], (int)ds->info.input_shape[0],
                                     input);
}

const uint8_t *mec_dataset_fashion_pixels(const mec_dataset *ds, int64_t i, int *label) {
    const fmnist *fm = ds->impl;
    *label = fm->labels[i];
    return fm->pixels + (size_t)i * (size_t)fm->rows * (size_t)fm->cols;
}

static const mec_dataset_vt fmnist_vt = {fmnist_fill, fmnist_close};

mec_status mec_dataset_open_fashion(mec_dataset *ds) {
    const mec_dataset_options *o = &ds->opt;
    const char *root = o->root ? o->root : FMNIST_DEFAULT_ROOT;
    const char *prefix = o->split == MEC_SPLIT_TEST ? "t10k" : "train";
    char lpath[1024], ipath[1024];
    snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", root, prefix);
    snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", root, prefix);

    fmnist *fm = mec_calloc(1, sizeof *fm);
    if (!fm) return MEC_ERR_NOMEM;
    ds->impl = fm;
    ds->vt = &fmnist_vt;

    mec_status st;
    gzFile lf = NULL, imf = NULL;
    uint8_t *all_labels = NULL, *item_buf = NULL;
    int64_t *members = NULL, *slot = NULL;
    uint32_t ldims[1], idims[3];

    st = idx_open(lpath, 0x00000801, ldims, &lf);
    if (st != MEC_OK) goto done;
    size_t n = ldims[0];
    all_labels = mec_malloc(n);
    if (!all_labels) {
        st = MEC_ERR_NOMEM;
        goto done;
    }
    st = gz_read_exact(lf, all_labels, n, lpath, "labels");
    if (st != MEC_OK) goto done;
    for (size_t i = 0; i < n; i++)
        if (all_labels[i] >= FMNIST_CLASSES) {
            st = mec_error(MEC_ERR_RANGE, "%s: label of item %zu is %u, outside 0..9", lpath, i,
                           all_labels[i]);
            goto done;
        }

    /* split membership: a fixed stratified draw, independent of the seed */
    members = mec_malloc(n * sizeof *members);
    slot = mec_malloc(n * sizeof *slot);
    if (!members || !slot) {
        st = MEC_ERR_NOMEM;
        goto done;
    }
    int64_t count = 0;
    if (o->split == MEC_SPLIT_TEST) {
        for (size_t i = 0; i < n; i++) members[count++] = (int64_t)i;
    } else {
        int64_t per_class[FMNIST_CLASSES] = {0}, val_taken[FMNIST_CLASSES] = {0};
        for (size_t i = 0; i < n; i++) per_class[all_labels[i]]++;
        mec_dataset_perm perm;
        mec_dataset_perm_init(&perm, n, MEC_DATA_FIXED_KEY);
        for (size_t p = 0; p < n; p++) {
            size_t i = (size_t)mec_dataset_perm_apply(&perm, p);
            int c = all_labels[i];
            bool to_val = val_taken[c] < per_class[c] / FMNIST_VAL_DIVISOR;
            if (to_val) val_taken[c]++;
            slot[i] = to_val;
        }
        for (size_t i = 0; i < n; i++)
            if ((slot[i] != 0) == (o->split == MEC_SPLIT_VAL)) members[count++] = (int64_t)i;
    }
    /* order (and subset) from the seed */
    mec_rng rng = mec_rng_make(o->seed, 0x666d6e697374ULL + (uint64_t)o->split);
    mec_dataset_shuffle(members, count, &rng);
    if (o->subset > 0 && o->subset < count) count = o->subset;
    for (size_t i = 0; i < n; i++) slot[i] = -1;
    for (int64_t k = 0; k < count; k++) slot[members[k]] = k;

    st = idx_open(ipath, 0x00000803, idims, &imf);
    if (st != MEC_OK) goto done;
    if (idims[0] != n) {
        st = mec_error(MEC_ERR_PARSE, "%s: %u images but %s has %zu labels", ipath, idims[0], lpath, n);
        goto done;
    }
    fm->rows = (int)idims[1];
    fm->cols = (int)idims[2];
    size_t item = (size_t)fm->rows * (size_t)fm->cols;
    fm->pixels = mec_malloc((size_t)count * item);
    fm->labels = mec_malloc((size_t)count);
    item_buf = mec_malloc(item);
    if (!fm->pixels || !fm->labels || !item_buf) {
        st = MEC_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        st = gz_read_exact(imf, item_buf, item, ipath, "pixels");
        if (st != MEC_OK) goto done;
        if (slot[i] >= 0) {
            memcpy(fm->pixels + (size_t)slot[i] * item, item_buf, item);
            fm->labels[slot[i]] = all_labels[i];
        }
    }

    ds->class_counts = mec_calloc(FMNIST_CLASSES, sizeof(int64_t));
    if (!ds->class_counts) {
        st = MEC_ERR_NOMEM;
        goto done;
    }
    for (int64_t k = 0; k < count; k++) ds->class_counts[fm->labels[k]]++;
    int size = o->image_size ? o->image_size : fm->cols;
    if (!o->image_size && fm->rows != fm->cols) {
        st = mec_error(MEC_ERR_SHAPE, "%s: images are %dx%d; set image_size to square them", ipath,
                       fm->rows, fm->cols);
        goto done;
    }
    ds->info.task = MEC_TASK_CLASSIFY;
    ds->info.count = count;
    ds->info.num_classes = FMNIST_CLASSES;
    ds->info.input_dtype = MEC_F32;
    ds->info.input_ndim = 3;
    ds->info.input_shape[0] = o->channels;
    ds->info.input_shape[1] = size;
    ds->info.input_shape[2] = size;
    ds->label_numel = 1;
    ds->class_names = fmnist_classes;
done:
    if (lf) gzclose(lf);
    if (imf) gzclose(imf);
    mec_free(all_labels);
    mec_free(item_buf);
    mec_free(members);
    mec_free(slot);
    return st;
}
