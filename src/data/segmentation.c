/* fashion-seg: a segmentation task derived from Fashion-MNIST. Canvas g of a
 * split holds 1..max_items items of that split pasted at random places;
 * pixels an item covers (grey >= 32) are labelled with its class + 1, the
 * rest is background (class 0). Canvases are generated on demand from
 * (fixed key, split, g), so the set costs no memory beyond its item pool
 * (the split's pixels: 43 MB for train). */
#include "data_internal.h"

#include <string.h>

#define SEG_INK_THRESHOLD 32  /* grey level from which a pixel belongs to an item */
#define SEG_MAX_CANVASES 10000000

static const char *const seg_classes[11] = {
    "background", "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",     "Shirt",       "Sneaker", "Bag",      "Ankle boot"};

typedef struct seg {
    mec_dataset *pool;
    mec_dataset_perm order;
    uint8_t *canvas; /* scratch, canvas_size^2 */
} seg;

static void seg_close(mec_dataset *ds) {
    seg *s = ds->impl;
    if (!s) return;
    mec_dataset_close(s->pool);
    mec_free(s->canvas);
    mec_free(s);
}

static mec_status seg_fill(mec_dataset *ds, int64_t i, void *input, int64_t *mask, int64_t *label) {
    (void)mask;
    seg *s = ds->impl;
    const mec_dataset_options *o = &ds->opt;
    int size = o->canvas_size;
    uint64_t g = mec_dataset_perm_apply(&s->order, (uint64_t)i);
    mec_rng rng = mec_rng_make(MEC_DATA_FIXED_KEY ^ ((uint64_t)o->split << 56), g);
    memset(s->canvas, 0, (size_t)size * size);
    for (size_t p = 0; p < (size_t)size * size; p++) label[p] = 0;
    int items = 1 + (int)mec_rng_below(&rng, (uint64_t)o->max_items);
    int64_t pool_n = mec_dataset_count(s->pool);
    for (int k = 0; k < items; k++) {
        int cls;
        const uint8_t *px =
            mec_dataset_fashion_pixels(s->pool, (int64_t)mec_rng_below(&rng, (uint64_t)pool_n), &cls);
        int side = (int)s->pool->info.input_shape[1];
        int x0 = (int)mec_rng_below(&rng, (uint64_t)(size - side + 1));
        int y0 = (int)mec_rng_below(&rng, (uint64_t)(size - side + 1));
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++) {
                uint8_t v = px[y * side + x];
                size_t at = (size_t)(y0 + y) * size + (size_t)(x0 + x);
                if (v >= SEG_INK_THRESHOLD) { /* a later item covers earlier ones */
                    s->canvas[at] = v;
                    label[at] = cls + 1;
                } else if (v > s->canvas[at] && label[at] == 0) {
                    s->canvas[at] = v; /* faint fringe over background only */
                }
            }
    }
    return mec_dataset_grey_to_input(o, s->canvas, size, size, size, o->channels, input);
}

static const mec_dataset_vt seg_vt = {seg_fill, seg_close};

mec_status mec_dataset_open_seg(mec_dataset *ds) {
    const mec_dataset_options *o = &ds->opt;
    if (o->canvas_size < 32 || o->canvas_size > 1024)
        return mec_error(MEC_ERR_RANGE, "fashion-seg: canvas_size %d outside 32..1024", o->canvas_size);
    if (o->max_items < 1 || o->max_items > 16)
        return mec_error(MEC_ERR_RANGE, "fashion-seg: max_items %d outside 1..16", o->max_items);
    if (o->image_size != 0 && o->image_size != o->canvas_size)
        return mec_error(MEC_ERR_INVALID_ARG,
                         "fashion-seg: image_size %d differs from canvas_size %d (labels are not "
                         "resized; set canvas_size instead)", o->image_size, o->canvas_size);
    int64_t total = o->seg_count[o->split];
    if (total < 1 || total > SEG_MAX_CANVASES)
        return mec_error(MEC_ERR_RANGE, "fashion-seg: seg_count[%s] %lld outside 1..%d",
                         mec_split_name(o->split), (long long)total, SEG_MAX_CANVASES);
    seg *s = mec_calloc(1, sizeof *s);
    if (!s) return MEC_ERR_NOMEM;
    ds->impl = s;
    ds->vt = &seg_vt;
    mec_dataset_options po;
    mec_dataset_options_default(&po);
    po.split = o->split;
    po.root = o->root;
    po.seed = MEC_DATA_FIXED_KEY;
    po.subset = 0; /* canvases draw from every item of the split */
    mec_status st = mec_dataset_open(MEC_DATASET_FASHION_MNIST, &po, &s->pool);
    if (st != MEC_OK) return mec_error_prefix(st, "fashion-seg: ");
    int side = (int)s->pool->info.input_shape[1];
    if (side > o->canvas_size)
        return mec_error(MEC_ERR_RANGE, "fashion-seg: items are %d pixels, larger than the canvas %d",
                         side, o->canvas_size);
    size_t px = (size_t)o->canvas_size * (size_t)o->canvas_size;
    s->canvas = mec_malloc(px);
    if (!s->canvas) return MEC_ERR_NOMEM;
    int64_t count = total;
    if (o->subset > 0 && o->subset < count) count = o->subset;
    /* the seed orders the canvases; the subset is the first `count` of that order */
    mec_dataset_perm_init(&s->order, (uint64_t)total, o->seed ^ 0x736567ULL);
    ds->info.task = MEC_TASK_SEGMENT;
    ds->info.count = count;
    ds->info.num_classes = 11;
    ds->info.input_dtype = MEC_F32;
    ds->info.input_ndim = 3;
    ds->info.input_shape[0] = o->channels;
    ds->info.input_shape[1] = o->canvas_size;
    ds->info.input_shape[2] = o->canvas_size;
    ds->label_numel = (int64_t)px;
    ds->class_names = seg_classes;
    return MEC_OK;
}
