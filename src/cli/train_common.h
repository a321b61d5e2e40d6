/* Shared by `mecbench train` and `mecbench eval`: opening a dataset shaped
 * for a model, feeding batches to a model's inputs, checking that a model's
 * output fits the task, evaluating (top-1/top-5/macro-F1, mIoU/pixel
 * accuracy) and writing the results as JSON. */
#ifndef MEC_CLI_TRAIN_COMMON_H
#define MEC_CLI_TRAIN_COMMON_H

#include "mec/data.h"
#include "mec/graph.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* How a model's inputs are filled from a dataset batch. */
typedef struct mec_cli_feed {
    int n;                   /* graph inputs fed */
    const char *names[4];
    const mec_tensor *tensors[4];
    mec_tensor *owned[4];    /* trimmed or zero copies the feed made */
} mec_cli_feed;

/* What the model needs from the dataset: image side and channels, or the
 * token length; read from the model's declared input shapes. */
typedef struct mec_cli_data_shape {
    int image_size; /* 0 = native */
    int channels;   /* 1 or 3 */
    int max_len;    /* text: tokens per item */
} mec_cli_data_shape;

/* Image side/channels from an image model's input (N, C, H, W); for text
 * models max_len stays as given (0 = 128). Fails with a clear message when
 * the model's inputs cannot take the dataset's items (e.g. token ids fed to
 * an image model). */
mec_status mec_cli_data_shape_of(const mec_graph *g, mec_dataset_kind kind, mec_cli_data_shape *out);

/* Opens a split of a dataset shaped for a model. tok: the tokenizer for the
 * text set (NULL: train one on the train split). */
mec_status mec_cli_dataset_open(mec_dataset_kind kind, mec_split split, uint64_t seed,
                                int64_t subset, const mec_cli_data_shape *shape,
                                const mec_tok *tok, mec_dataset **out);

/* Points the graph's inputs at a batch: the image input, or input_ids +
 * attention_mask (+ zero token_type_ids). Text batches are cut to their
 * longest sequence (padding adds nothing but time). */
mec_status mec_cli_feed_batch(const mec_graph *g, const mec_batch *b, mec_cli_feed *f);
void mec_cli_feed_release(mec_cli_feed *f);

/* Checks logits of one batch against the task: classification (N, classes),
 * segmentation (N, classes, H, W) with the label map's H×W. */
mec_status mec_cli_check_output(const mec_tensor *logits, const mec_dataset_info *info,
                                const mec_batch *b);

/* The metrics of one evaluation. */
typedef struct mec_cli_eval_result {
    mec_task task;
    int64_t count;
    int num_classes;
    double loss;      /* mean cross-entropy */
    double top1, top5, macro_f1, majority; /* classification; majority: the majority-class accuracy */
    double miou, pixel_acc, background_miou; /* segmentation; background_miou: all-background prediction */
    double class_iou[64];                    /* segmentation: IoU per class (NaN: class absent), first 64 */
    double seconds;
} mec_cli_eval_result;

/* The headline metric: top-1 (classification) or mIoU (segmentation). */
double mec_cli_eval_headline(const mec_cli_eval_result *r);
const char *mec_cli_eval_headline_name(mec_task task);

/* Forward of one batch, giving a new logits tensor the caller destroys. */
typedef mec_status (*mec_cli_forward_fn)(void *ctx, const mec_cli_feed *feed, mec_tensor **logits);

/* Runs the forward over the whole split in order (batches of batch_size)
 * and computes the task's metrics; progress on stderr when progress is true. */
mec_status mec_cli_evaluate(mec_dataset *ds, const mec_graph *g, int64_t batch_size,
                            mec_cli_forward_fn fwd, void *ctx, bool progress, const char *label,
                            mec_cli_eval_result *out);

/* "key": value pairs of a result into f (no braces). */
void mec_cli_eval_json(FILE *f, const mec_cli_eval_result *r, const char *indent);
/* One-line human summary. */
void mec_cli_eval_print(FILE *f, const mec_cli_eval_result *r);

/* Sets (or replaces) a metadata key of g. */
mec_status mec_cli_graph_meta_set(mec_graph *g, const char *key, const char *value);
/* A metadata value of g, or NULL. */
const char *mec_cli_graph_meta(const mec_graph *g, const char *key);

/* 128-bit content hash as 32 hex characters (two FNV-1a 64 streams). */
typedef struct mec_cli_hash {
    uint64_t a, b;
} mec_cli_hash;
void mec_cli_hash_init(mec_cli_hash *h);
void mec_cli_hash_bytes(mec_cli_hash *h, const void *p, size_t n);
void mec_cli_hash_str(mec_cli_hash *h, const char *key, const char *value);
void mec_cli_hash_hex(const mec_cli_hash *h, char out[33]);

/* "12m05s", "1h02m", "45s" */
void mec_cli_format_duration(double seconds, char *buf, size_t cap);

#endif
