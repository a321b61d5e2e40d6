/* mec/data.h — layer 6: data. Images (decode, resize, normalise into model
 * input tensors), datasets with seeded train/validation/test splits, a
 * streaming batch loader, a WordPiece tokenizer trained in C, real photos
 * re-encoded at many sizes, and accuracy metrics. See docs/data.md. */
#ifndef MEC_DATA_H
#define MEC_DATA_H

#include "mec/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The version of what the datasets generate: it changes whenever the same
 * options give different items (e.g. fashion-seg's item pool), so results
 * cached by content hash (mecbench train) are not reused across it.
 * 2: fashion-seg canvases draw from every item of their split (was 8 192),
 *    and its train split has 50 000 canvases (was 10 000). */
#define MEC_DATASET_VERSION 2

/* An 8-bit image, rows of width*channels bytes (channels 1, 3 or 4). */
typedef struct mec_image {
    int width, height, channels;
    uint8_t *pixels;
} mec_image;

/* Decodes a JPEG or PNG file (detected by its magic bytes, not its name)
 * into RGB (3 channels; grey and alpha are converted). Bounded: at most
 * 2^28 pixels. */
mec_status mec_image_load(const char *path, mec_image *out);
mec_status mec_image_decode(const void *buf, size_t len, const char *label, mec_image *out);
void mec_image_release(mec_image *img);
/* True if the file starts with a JPEG or PNG signature. */
bool mec_image_sniff(const char *path);

/* Width and height from a JPEG or PNG header, without decoding pixels. */
mec_status mec_image_probe(const void *buf, size_t len, const char *label, int *width, int *height);

/* Bilinear resize (half-pixel centres, like PIL/torchvision without antialias). */
mec_status mec_image_resize(const mec_image *src, int width, int height, mec_image *out);

/* How to turn an image into a model input. */
typedef struct mec_image_prep {
    int width, height;   /* resize target; 0 = keep */
    float mean[3], std[3];
    float scale;         /* pixel * scale before (x - mean) / std; 1/255 usually */
    bool nhwc;           /* layout; default NCHW */
    int channels;        /* 0: as the image (grey 1, else RGB 3); 1: grey (luma); 3: RGB */
} mec_image_prep;

/* ImageNet defaults: 224x224, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225). */
void mec_image_prep_imagenet(mec_image_prep *p);
/* (1, C, H, W) f32 tensor (or (1, H, W, C) when nhwc); C from p->channels.
 * Grey output uses mean[0]/std[0]. */
mec_status mec_image_to_tensor(const mec_image *img, const mec_image_prep *p, mec_tensor **out);

/* Encodes RGB pixels as JPEG (quality 1..100) or PNG into a new buffer. */
mec_status mec_image_encode_jpeg(const mec_image *img, int quality, void **buf, size_t *len);
mec_status mec_image_encode_png(const mec_image *img, void **buf, size_t *len);

/* ------------------------------------------------------------- datasets */

typedef enum mec_dataset_kind {
    MEC_DATASET_FASHION_MNIST, /* 28x28 grey clothes, 10 classes (Debian dataset-fashion-mnist) */
    MEC_DATASET_FASHION_SEG,   /* canvases of Fashion-MNIST items, per-pixel class + background */
    MEC_DATASET_FORTUNES,      /* fortune cookies, label = collection topic (Debian fortunes) */
    MEC_DATASET_KIND_COUNT
} mec_dataset_kind;

typedef enum mec_split { MEC_SPLIT_TRAIN, MEC_SPLIT_VAL, MEC_SPLIT_TEST, MEC_SPLIT_COUNT } mec_split;

typedef enum mec_task { MEC_TASK_CLASSIFY, MEC_TASK_SEGMENT } mec_task;

/* "fashion-mnist", "fashion-seg", "fortunes"; NULL for unknown values. */
const char *mec_dataset_kind_name(mec_dataset_kind k);
/* Parses those names; MEC_ERR_NOT_FOUND naming the bad value otherwise. */
mec_status mec_dataset_kind_parse(const char *s, mec_dataset_kind *out);
const char *mec_split_name(mec_split s); /* "train", "val", "test" */
mec_status mec_split_parse(const char *s, mec_split *out);

typedef struct mec_tok mec_tok;

typedef struct mec_dataset_options {
    mec_split split;
    uint64_t seed;      /* every random choice (split, canvases) derives from it */
    int64_t subset;     /* > 0: keep only the first `subset` items of the split
                           (a seeded, class-mixed choice); 0 = all */
    const char *root;   /* data folder; NULL = the Debian package's folder */
    /* images (fashion-mnist, fashion-seg) */
    int image_size;     /* square resize target; 0 = native (28, or canvas_size) */
    int channels;       /* 1, or 3 (grey replicated, for ImageNet-style models) */
    bool normalize;     /* (x/255 - mean) / std; false = x/255 */
    float mean, std;    /* default: Fashion-MNIST's 0.2860, 0.3530 */
    /* segmentation (fashion-seg) */
    int canvas_size;    /* square canvas side, 32..1024; default 64 */
    int max_items;      /* 1..16 items per canvas; default 4 */
    int64_t seg_count[MEC_SPLIT_COUNT]; /* canvases per split; default 50000/1000/2000 */
    /* text (fortunes) */
    const char *const *topics; /* NULL-terminated collection names; NULL = default 8 */
    const mec_tok *tokenizer;  /* borrowed; NULL = train one on the train split */
    int vocab_size;     /* for that training; default 4000 */
    int max_len;        /* tokens per item incl. [CLS]/[SEP], 8..4096; default 128 */
} mec_dataset_options;

/* Defaults: train split, seed 0, whole split, native size, 1 channel,
 * normalize with Fashion-MNIST statistics, canvas 64 with up to 4 items,
 * default topics, vocab 4000, max_len 128. */
void mec_dataset_options_default(mec_dataset_options *o);

typedef struct mec_dataset mec_dataset;

/* Opens a dataset split. Deterministic: the same kind, options and files give
 * the same items in the same order. Image sets keep only their split's raw
 * 8-bit pixels (subset-bounded); tensors are made per batch. */
mec_status mec_dataset_open(mec_dataset_kind kind, const mec_dataset_options *o,
                            mec_dataset **out);
void mec_dataset_close(mec_dataset *ds);

typedef struct mec_dataset_info {
    mec_dataset_kind kind;
    mec_task task;
    mec_split split;
    int64_t count;        /* items in this split (after subset) */
    int num_classes;      /* segmentation: item classes + 1 (class 0 = background) */
    mec_dtype input_dtype;/* MEC_F32 images, MEC_I64 token ids */
    int input_ndim;       /* per item, without the batch dim: (C, H, W) or (L) */
    int64_t input_shape[3];
    bool has_mask;        /* text: an attention mask comes with the ids */
} mec_dataset_info;

void mec_dataset_get_info(const mec_dataset *ds, mec_dataset_info *out);
int64_t mec_dataset_count(const mec_dataset *ds);
/* Class names ("T-shirt/top", ..., "background", "computers", ...); NULL if out of range. */
const char *mec_dataset_class_name(const mec_dataset *ds, int c);
/* The raw text of item i (fortunes only); NULL otherwise. Borrowed. */
const char *mec_dataset_text(const mec_dataset *ds, int64_t i);
/* Number of items of class c in this split (the class balance). */
int64_t mec_dataset_class_count(const mec_dataset *ds, int c);
/* The tokenizer a text set encodes with (its own or the borrowed one). */
const mec_tok *mec_dataset_tokenizer(const mec_dataset *ds);

/* A batch of n items. Tensors are owned by the batch.
 *   input:  f32 (n, C, H, W) images, or i64 (n, L) token ids
 *   mask:   i64 (n, L) attention mask (1 = token, 0 = padding); text only, else NULL
 *   labels: i64 (n) class ids, or i64 (n, H, W) per-pixel classes (segmentation)
 *   index:  the dataset index of each item */
typedef struct mec_batch {
    int64_t n;
    mec_tensor *input, *mask, *labels;
    int64_t *index;
    int64_t capacity;
} mec_batch;

/* Item i as a batch of one (so get gives (1, C, H, W) etc.). Reuses b's
 * tensors when it already holds a batch of the right shape. A dataset handle
 * is for one thread at a time (segmentation canvases use a scratch buffer);
 * open one per thread to read in parallel. */
mec_status mec_dataset_get(mec_dataset *ds, int64_t i, mec_batch *b);
/* Items idx[0..n) into b (reshaped/reallocated as needed). */
mec_status mec_dataset_get_many(mec_dataset *ds, const int64_t *idx, int64_t n, mec_batch *b);
void mec_batch_release(mec_batch *b);

/* ---------------------------------------------------------------- loader */

/* Batches over a dataset, with a seeded shuffle that is a keyed bijection on
 * [0, count) computed per position (no index array), so memory is one batch
 * whatever the set size. Each epoch has its own order, from (seed, epoch). */
typedef struct mec_loader mec_loader;

typedef struct mec_loader_options {
    int64_t batch_size; /* >= 1 */
    bool shuffle;
    uint64_t seed;
    bool drop_last;     /* drop a final partial batch */
} mec_loader_options;

mec_status mec_loader_create(mec_dataset *ds, const mec_loader_options *o, mec_loader **out);
void mec_loader_destroy(mec_loader *l);
/* Next batch of this epoch into *out (owned by the loader, valid until the
 * next call). *out = NULL at the end of the epoch. */
mec_status mec_loader_next(mec_loader *l, const mec_batch **out);
/* Starts epoch e (reshuffled). */
void mec_loader_reset(mec_loader *l, uint64_t epoch);
int64_t mec_loader_batches(const mec_loader *l); /* batches per epoch */
/* The dataset index at epoch position p (the permutation), -1 if out of range. */
int64_t mec_loader_index(const mec_loader *l, int64_t p);

/* ------------------------------------------------------------- tokenizer */

/* WordPiece: lowercased text split on whitespace and punctuation, words
 * split greedily into the longest vocabulary pieces ("##" marks a piece
 * inside a word). The vocabulary is learnt by merging the most frequent
 * adjacent pair (BPE-style), as the Hugging Face WordPiece trainer does. */
enum {
    MEC_TOK_PAD = 0, /* [PAD] */
    MEC_TOK_UNK = 1, /* [UNK] */
    MEC_TOK_CLS = 2, /* [CLS]  (RoBERTa's <s>) */
    MEC_TOK_SEP = 3, /* [SEP]  (RoBERTa's </s>) */
    MEC_TOK_MASK = 4,/* [MASK] */
    MEC_TOK_SPECIALS = 5
};

typedef struct mec_tok_train_options {
    int vocab_size;    /* total incl. specials and the alphabet; 64..1000000 */
    int min_frequency; /* pairs seen fewer times are never merged; default 2 */
    int max_alphabet;  /* most frequent characters kept (others become [UNK]); default 1000 */
} mec_tok_train_options;

void mec_tok_train_options_default(mec_tok_train_options *o); /* 4000, 2, 1000 */
mec_status mec_tok_train(const char *const *texts, int64_t n, const mec_tok_train_options *o,
                         mec_tok **out);
void mec_tok_destroy(mec_tok *t);
int mec_tok_vocab_size(const mec_tok *t);
const char *mec_tok_piece(const mec_tok *t, int id); /* NULL if out of range */
int mec_tok_lookup(const mec_tok *t, const char *piece); /* -1 if absent */

/* Tokens of text without specials; writes at most cap ids, returns in *n
 * how many the whole text has (so *n > cap means it was cut). */
mec_status mec_tok_tokenize(const mec_tok *t, const char *text, int64_t *ids, int64_t cap,
                            int64_t *n);
/* Model input: [CLS] tokens [SEP] then [PAD] up to max_len (tokens cut to
 * fit); mask 1 for real tokens, 0 for padding. ids, mask: max_len each. */
mec_status mec_tok_encode(const mec_tok *t, const char *text, int max_len, int64_t *ids,
                          int64_t *mask);
/* Text file "mecbench-wordpiece <version>", then one piece per line;
 * written atomically. */
mec_status mec_tok_save(const mec_tok *t, const char *path);
mec_status mec_tok_load(const char *path, mec_tok **out);

/* --------------------------------------------------------------- photos */

/* Real photographs (Debian's mate-backgrounds, nature folder) re-encoded as
 * JPEG at several sizes and qualities: the inputs of a wide range of byte
 * sizes that the experiment runner sends. */
typedef struct mec_photo_file {
    char path[512];
    char source[256];  /* the original's file name */
    int width, height, quality;
    int64_t bytes;
} mec_photo_file;

typedef struct mec_photo_spec {
    const char *src_dir;        /* NULL = /usr/share/backgrounds/mate/nature */
    const char *const *sources; /* NULL-terminated file names in src_dir; NULL = every .jpg/.png, sorted */
    int max_sources;            /* 0 = all */
    const int *long_sides;      /* long side in pixels per output, aspect kept */
    int n_long_sides;
    const int *qualities;       /* JPEG qualities 1..100 */
    int n_qualities;
    int64_t min_bytes, max_bytes; /* keep only encodings in this range; 0 = unbounded */
} mec_photo_spec;

/* The default grid: long sides 1280, 2048, 3200, 4096, 5120 and qualities
 * 90, 98, kept when 0.3-3.4 MB (the studies' range): 95 files from the 12
 * default photos, 0.31-3.20 MB, median 0.91 MB. */
void mec_photo_spec_default(mec_photo_spec *s);
/* Writes <out_dir>/<source-stem>_<long>_q<quality>.jpg for every source ×
 * size × quality (atomically; out_dir is created), sorted by path. Existing
 * files of the same name are rewritten. *files: mec_free it. */
mec_status mec_dataset_photos_build(const mec_photo_spec *s, const char *out_dir,
                                    mec_photo_file **files, int64_t *n);
/* Lists the .jpg files already in dir with their byte sizes (and pixel sizes
 * from their headers), sorted by path. */
mec_status mec_dataset_photos_list(const char *dir, mec_photo_file **files, int64_t *n);

/* --------------------------------------------------------------- metrics */

/* Classification: top-1/top-5 and a confusion matrix (rows = true class,
 * columns = predicted class). Accumulates over batches. */
typedef struct mec_metric_cls {
    int num_classes;
    int64_t count, top1, top5;
    int64_t *confusion; /* num_classes^2 */
} mec_metric_cls;

mec_status mec_metric_cls_init(mec_metric_cls *m, int num_classes);
void mec_metric_cls_release(mec_metric_cls *m);
/* scores: f32 (n, C) logits or probabilities; labels: integer (n). Ties go
 * to the lower class id. */
mec_status mec_metric_cls_update(mec_metric_cls *m, const mec_tensor *scores,
                                 const mec_tensor *labels);
double mec_metric_top1(const mec_metric_cls *m);
double mec_metric_top5(const mec_metric_cls *m); /* top-min(5, C) */
/* Mean over classes of F1 = 2PR/(P+R); a class never true nor predicted is
 * left out; one with no true positives counts 0. */
double mec_metric_macro_f1(const int64_t *confusion, int num_classes);

/* Segmentation: per-pixel confusion, mean IoU. */
typedef struct mec_metric_seg {
    int num_classes;
    int64_t ignore_label; /* pixels with this true label are skipped; default -1 */
    int64_t *confusion;
} mec_metric_seg;

mec_status mec_metric_seg_init(mec_metric_seg *m, int num_classes);
void mec_metric_seg_release(mec_metric_seg *m);
/* scores: f32 (n, C, H, W) logits (argmax over C), or integer (n, H, W)
 * predicted labels; labels: integer (n, H, W). */
mec_status mec_metric_seg_update(mec_metric_seg *m, const mec_tensor *scores,
                                 const mec_tensor *labels);
/* IoU = TP / (TP + FP + FN), averaged over classes whose union is non-empty. */
double mec_metric_mean_iou(const int64_t *confusion, int num_classes);
double mec_metric_pixel_accuracy(const int64_t *confusion, int num_classes);
/* IoU of class c (NaN if its union is empty). */
double mec_metric_class_iou(const int64_t *confusion, int num_classes, int c);

#ifdef __cplusplus
}
#endif
#endif
