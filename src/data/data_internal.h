/* Internal to src/data: the dataset object behind the opaque handle, a
 * seeded random generator and a keyed permutation. */
#ifndef MEC_DATA_INTERNAL_H
#define MEC_DATA_INTERNAL_H

#include "mec/data.h"

/* Split membership and generated content never depend on the user's seed,
 * so that splits stay disjoint and test sets stay the same across runs; the
 * seed only orders items and picks subsets. */
#define MEC_DATA_FIXED_KEY 0x6d656362656e6368ULL /* "mecbench" */

typedef struct mec_dataset_vt {
    /* Writes item i: input (f32 C*H*W or i64 L), mask (i64 L, text only),
     * label (i64: 1 for classes, H*W for segmentation). */
    mec_status (*fill)(mec_dataset *ds, int64_t i, void *input, int64_t *mask, int64_t *label);
    void (*close)(mec_dataset *ds);
} mec_dataset_vt;

struct mec_dataset {
    const mec_dataset_vt *vt;
    mec_dataset_info info;
    mec_dataset_options opt; /* copied; pointer fields are not kept past open */
    int64_t label_numel;     /* i64 labels per item */
    const char *const *class_names;
    int64_t *class_counts;   /* info.num_classes */
    void *impl;
};

/* splitmix64: small, fast, good enough for shuffles and layouts. */
typedef struct mec_rng {
    uint64_t state;
} mec_rng;

static inline uint64_t mec_rng_next(mec_rng *r) {
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static inline mec_rng mec_rng_make(uint64_t a, uint64_t b) {
    mec_rng r = {a ^ (b * 0xD1B54A32D192ED03ULL)};
    mec_rng_next(&r);
    r.state ^= b;
    return r;
}
/* Uniform in [0, n), n >= 1, without modulo bias. */
static inline uint64_t mec_rng_below(mec_rng *r, uint64_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do v = mec_rng_next(r);
    while (v >= limit);
    return v % n;
}
/* Fisher-Yates over n int64 values. */
void mec_dataset_shuffle(int64_t *v, int64_t n, mec_rng *r);

/* A keyed bijection on [0, n): a 4-round Feistel network over the smallest
 * power-of-4 domain >= n, with cycle walking. O(1) memory. */
typedef struct mec_dataset_perm {
    uint64_t n, half_bits, half_mask;
    uint64_t keys[4];
} mec_dataset_perm;
void mec_dataset_perm_init(mec_dataset_perm *p, uint64_t n, uint64_t seed);
uint64_t mec_dataset_perm_apply(const mec_dataset_perm *p, uint64_t i);

/* Per-kind openers (ds is calloc'd with opt filled and vt/impl to set). */
mec_status mec_dataset_open_fashion(mec_dataset *ds);
mec_status mec_dataset_open_seg(mec_dataset *ds);
mec_status mec_dataset_open_fortunes(mec_dataset *ds);

/* Fashion-MNIST raw access for the segmentation set: an opened fashion
 * dataset's 8-bit 28x28 pixels and class of item i. */
const uint8_t *mec_dataset_fashion_pixels(const mec_dataset *ds, int64_t i, int *label);

/* Fills a (C, S, S) f32 item from an 8-bit grey w*h picture: resize to S
 * (when S != w), replicate to C channels, scale/normalise per the options. */
mec_status mec_dataset_grey_to_input(const mec_dataset_options *o, const uint8_t *px, int w,
                                     int h, int size, int channels, float *dst);

#endif
