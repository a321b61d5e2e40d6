/* Datasets: the common handle (open, info, get items into batch tensors),
 * seeded shuffles and keyed permutations shared by every kind. */
#include "data_internal.h"

#include <string.h>

static const char *const kind_names[MEC_DATASET_KIND_COUNT] = {"fashion-mnist", "fashion-seg",
                                                               "fortunes"};
static const char *const split_names[MEC_SPLIT_COUNT] = {"train", "val", "test"};

const char *mec_dataset_kind_name(mec_dataset_kind k) {
    return (unsigned)k < MEC_DATASET_KIND_COUNT ? kind_names[k] : NULL;
}

mec_status mec_dataset_kind_parse(const char *s, mec_dataset_kind *out) {
    for (int k = 0; k < MEC_DATASET_KIND_COUNT; k++)
        if (s && strcmp(s, kind_names[k]) == 0) {
            *out = (mec_dataset_kind)k;
            return MEC_OK;
        }
    return mec_error(MEC_ERR_NOT_FOUND,
                     "dataset '%s' is unknown (expected fashion-mnist, fashion-seg or fortunes)",
                     s ? s : "(null)");
}

const char *mec_split_name(mec_split s) { return (unsigned)s < MEC_SPLIT_COUNT ? split_names[s] : NULL; }

mec_status mec_split_parse(const char *s, mec_split *out) {
    for (int k = 0; k < MEC_SPLIT_COUNT; k++)
        if (s && strcmp(s, split_names[k]) == 0) {
            *out = (mec_split)k;
            return MEC_OK;
        }
    if (s && strcmp(s, "validation") == 0) {
        *out = MEC_SPLIT_VAL;
        return MEC_OK;
    }
    return mec_error(MEC_ERR_NOT_FOUND, "split '%s' is unknown (expected train, val or test)",
                     s ? s : "(null)");
}

void mec_dataset_options_default(mec_dataset_options *o) {
    memset(o, 0, sizeof *o);
    o->split = MEC_SPLIT_TRAIN;
    o->channels = 1;
    o->normalize = true;
    o->mean = 0.2860f;
    o->std = 0.3530f;
    o->canvas_size = 64;
    o->max_items = 4;
    o->seg_count[MEC_SPLIT_TRAIN] = 50000;
    o->seg_count[MEC_SPLIT_VAL] = 1000;
    o->seg_count[MEC_SPLIT_TEST] = 2000;
    o->vocab_size = 4000;
    o->max_len = 128;
}

void mec_dataset_shuffle(int64_t *v, int64_t n, mec_rng *r) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)mec_rng_below(r, (uint64_t)i + 1);
        int64_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

void mec_dataset_perm_init(mec_dataset_perm *p, uint64_t n, uint64_t seed) {
    memset(p, 0, sizeof *p);
    p->n = n;
    uint64_t bits = 1;
    while (bits < 32 && ((uint64_t)1 << (2 * bits)) < n) bits++;
    p->half_bits = bits;
    p->half_mask = ((uint64_t)1 << bits) - 1;
    mec_rng r = mec_rng_make(seed, 0x7065726dULL);
    for (int k = 0; k < 4; k++) p->keys[k] = mec_rng_next(&r);
}

static uint64_t feistel_round(uint64_t x, uint64_t key) {
    mec_rng r = {x ^ key};
    return mec_rng_next(&r);
}

uint64_t mec_dataset_perm_apply(const mec_dataset_perm *p, uint64_t i) {
    if (p->n <= 1) return i;
    uint64_t v = i;
    do {
        uint64_t left = v >> p->half_bits, right = v & p->half_mask;
        for (int k = 0; k < 4; k++) {
            uint64_t next = left ^ (feistel_round(right, p->keys[k]) & p->half_mask);
            left = right;
            right = next;
        }
        v = (left << p->half_bits) | right;
    } while (v >= p->n); /* cycle walking keeps it a bijection on [0, n) */
    return v;
}

mec_status mec_dataset_grey_to_input(const mec_dataset_options *o, const uint8_t *px, int w,
                                     int h, int size, int channels, float *dst) {
    mec_image sized = {0};
    const uint8_t *src = px;
    if (size != w || size != h) {
        mec_image in = {w, h, 1, (uint8_t *)px};
        mec_status st = mec_image_resize(&in, size, size, &sized);
        if (st != MEC_OK) return st;
        src = sized.pixels;
    }
    size_t plane = (size_t)size * (size_t)size;
    float mean = o->normalize ? o->mean : 0.0f, inv_std = o->normalize ? 1.0f / o->std : 1.0f;
    for (size_t i = 0; i < plane; i++) dst[i] = ((float)src[i] / 255.0f - mean) * inv_std;
    for (int c = 1; c < channels; c++) memcpy(dst + (size_t)c * plane, dst, plane * sizeof(float));
    mec_image_release(&sized);
    return MEC_OK;
}

static mec_status check_options(mec_dataset_kind kind, const mec_dataset_options *o) {
    const char *name = mec_dataset_kind_name(kind);
    if (!name) return mec_error(MEC_ERR_INVALID_ARG, "dataset kind %d is unknown", (int)kind);
    if ((unsigned)o->split >= MEC_SPLIT_COUNT)
        return mec_error(MEC_ERR_INVALID_ARG, "%s: split %d is unknown", name, (int)o->split);
    if (o->subset < 0)
        return mec_error(MEC_ERR_RANGE, "%s: subset %lld is negative", name, (long long)o->subset);
    if (o->channels != 1 && o->channels != 3)
        return mec_error(MEC_ERR_RANGE, "%s: channels %d, expected 1 or 3", name, o->channels);
    if (o->image_size < 0 || o->image_size > 1024)
        return mec_error(MEC_ERR_RANGE, "%s: image_size %d outside 0..1024", name, o->image_size);
    if (o->normalize && !(o->std > 0.0f))
        return mec_error(MEC_ERR_RANGE, "%s: std %g must be positive", name, (double)o->std);
    return MEC_OK;
}

mec_status mec_dataset_open(mec_dataset_kind kind, const mec_dataset_options *o,
                            mec_dataset **out) {
    if (!out) return mec_error(MEC_ERR_INVALID_ARG, "dataset_open: no output");
    *out = NULL;
    mec_dataset_options defaults;
    if (!o) {
        mec_dataset_options_default(&defaults);
        o = &defaults;
    }
    mec_status st = check_options(kind, o);
    if (st != MEC_OK) return st;
    mec_dataset *ds = mec_calloc(1, sizeof *ds);
    if (!ds) return MEC_ERR_NOMEM;
    ds->opt = *o;
    ds->info.kind = kind;
    ds->info.split = o->split;
    switch (kind) {
    case MEC_DATASET_FASHION_MNIST: st = mec_dataset_open_fashion(ds); break;
    case MEC_DATASET_FASHION_SEG: st = mec_dataset_open_seg(ds); break;
    case MEC_DATASET_FORTUNES: st = mec_dataset_open_fortunes(ds); break;
    default: st = mec_error(MEC_ERR_INTERNAL, "dataset kind %d", (int)kind); break;
    }
    /* pointer options are only read during open */
    ds->opt.root = NULL;
    ds->opt.topics = NULL;
    if (st != MEC_OK) {
        mec_dataset_close(ds);
        return st;
    }
    *out = ds;
    return MEC_OK;
}

void mec_dataset_close(mec_dataset *ds) {
    if (!ds) return;
    if (ds->vt && ds->vt->close) ds->vt->close(ds);
    mec_free(ds->class_counts);
    mec_free(ds);
}

void mec_dataset_get_info(const mec_dataset *ds, mec_dataset_info *out) { *out = ds->info; }
int64_t mec_dataset_count(const mec_dataset *ds) { return ds ? ds->info.count : 0; }

const char *mec_dataset_class_name(const mec_dataset *ds, int c) {
    if (!ds || c < 0 || c >= ds->info.num_classes || !ds->class_names) return NULL;
    return ds->class_names[c];
}

int64_t mec_dataset_class_count(const mec_dataset *ds, int c) {
    if (!ds || c < 0 || c >= ds->info.num_classes || !ds->class_counts) return 0;
    return ds->class_counts[c];
}

void mec_batch_release(mec_batch *b) {
    if (!b) return;
    mec_tensor_destroy(b->input);
    mec_tensor_destroy(b->mask);
    mec_tensor_destroy(b->labels);
    mec_free(b->index);
    memset(b, 0, sizeof *b);
}

/* Makes *t a contiguous owned tensor of the given shape, reusing its buffer. */
static mec_status shape_tensor(mec_tensor **t, mec_dtype dt, int ndim, const int64_t *shape) {
    if (*t && (*t)->dtype == dt && (*t)->owned) return mec_tensor_reshape(*t, ndim, shape);
    mec_tensor_destroy(*t);
    *t = NULL;
    return mec_tensor_create(t, dt, ndim, shape);
}

mec_status mec_dataset_get_many(mec_dataset *ds, const int64_t *idx, int64_t n, mec_batch *b) {
    if (!ds || !b || (n > 0 && !idx))
        return mec_error(MEC_ERR_INVALID_ARG, "dataset_get: null argument");
    const char *name = mec_dataset_kind_name(ds->info.kind);
    if (n < 1) return mec_error(MEC_ERR_RANGE, "%s: batch of %lld items", name, (long long)n);
    for (int64_t k = 0; k < n; k++)
        if (idx[k] < 0 || idx[k] >= ds->info.count)
            return mec_error(MEC_ERR_RANGE, "%s (%s): item %lld outside 0..%lld", name,
                             mec_split_name(ds->info.split), (long long)idx[k],
                             (long long)ds->info.count - 1);
    int64_t shape[4] = {n};
    for (int d = 0; d < ds->info.input_ndim; d++) shape[1 + d] = ds->info.input_shape[d];
    mec_status st = shape_tensor(&b->input, ds->info.input_dtype, 1 + ds->info.input_ndim, shape);
    if (st == MEC_OK && ds->info.has_mask)
        st = shape_tensor(&b->mask, MEC_I64, 2, shape);
    if (st == MEC_OK) {
        if (ds->info.task == MEC_TASK_SEGMENT) {
            int64_t ls[3] = {n, ds->info.input_shape[1], ds->info.input_shape[2]};
            st = shape_tensor(&b->labels, MEC_I64, 3, ls);
        } else {
            st = shape_tensor(&b->labels, MEC_I64, 1, shape);
        }
    }
    if (st == MEC_OK && b->capacity < n) {
        int64_t *p = mec_malloc((size_t)n * sizeof *p);
        if (!p) {
            st = MEC_ERR_NOMEM;
        } else {
            mec_free(b->index);
            b->index = p;
            b->capacity = n;
        }
    }
    if (st != MEC_OK) return st;
    size_t item_in = (size_t)(mec_tensor_numel(b->input) / n) * mec_dtype_size(ds->info.input_dtype);
    size_t item_mask = ds->info.has_mask ? (size_t)(mec_tensor_numel(b->mask) / n) : 0;
    for (int64_t k = 0; k < n; k++) {
        char *in = (char *)b->input->data + (size_t)k * item_in;
        int64_t *mask = ds->info.has_mask ? (int64_t *)b->mask->data + (size_t)k * item_mask : NULL;
        int64_t *lab = (int64_t *)b->labels->data + k * ds->label_numel;
        st = ds->vt->fill(ds, idx[k], in, mask, lab);
        if (st != MEC_OK) return st;
        b->index[k] = idx[k];
    }
    b->n = n;
    return MEC_OK;
}

mec_status mec_dataset_get(mec_dataset *ds, int64_t i, mec_batch *b) {
    return mec_dataset_get_many(ds, &i, 1, b);
}
