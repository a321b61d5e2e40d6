/* mec/train.h — layer 5: training. A trainer runs a model graph forward in
 * training mode (BatchNorm on batch statistics, Dropout masks from a seeded
 * RNG), keeps every activation, runs the backward kernels in reverse order,
 * applies a loss (cross-entropy, per-pixel cross-entropy, distillation) and
 * an optimiser (SGD with momentum, AdamW) under a learning-rate schedule,
 * and writes versioned, resumable checkpoints.
 *
 * A training loop:
 *   mec_train_config cfg; mec_train_config_default(&cfg); cfg.lr = 0.1f; ...
 *   mec_trainer *tr; mec_train_create(graph, &cfg, &tr);
 *   for each batch:  mec_train_step(tr, &batch, &loss);
 *   every so often:  mec_train_eval(tr, ...); mec_train_save(tr, "run.ckpt");
 *   at the end:      mec_train_export(tr, &trained_graph);   // for inference
 *
 * Parameters are the float initializers of more than one element that feed
 * a differentiable input of some node (weights, biases, scales, embeddings);
 * one-element initializers (1/sqrt(d), GELU's 0.5) stay constants.
 * BatchNorm running mean/var are buffers, updated by training forwards. */
#ifndef MEC_TRAIN_H
#define MEC_TRAIN_H

#include "mec/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mec_loss_kind {
    /* logits (N, C) or (N, C, d1..dk) against int64/int32 labels (N) or
     * (N, d1..dk); mean over the labels that are not ignore_index, with
     * optional label smoothing. Per-pixel cross-entropy is the (N, C, H, W)
     * case. */
    MEC_LOSS_CROSS_ENTROPY = 0,
    /* Hinton distillation: alpha * T^2 * KL(softmax(teacher/T) || softmax(student/T))
     * (mean over the batch) + (1 - alpha) * cross-entropy(student, labels);
     * labels may be NULL when alpha is 1. */
    MEC_LOSS_DISTILL = 1,
    /* No loss: the caller gives output gradients to mec_train_backward. */
    MEC_LOSS_NONE = 2,
} mec_loss_kind;

typedef enum mec_optim_kind { MEC_OPTIM_SGD = 0, MEC_OPTIM_ADAMW = 1 } mec_optim_kind;

typedef enum mec_lr_schedule {
    MEC_LR_CONSTANT = 0,
    MEC_LR_STEP = 1,   /* lr * gamma^floor((step - warmup) / step_size) */
    MEC_LR_COSINE = 2, /* cosine from lr to min_lr over total_steps - warmup */
    MEC_LR_LINEAR = 3, /* linear from lr to min_lr over total_steps - warmup */
} mec_lr_schedule;

typedef struct mec_train_config {
    const char *output;       /* graph output the loss reads (NULL = the first output) */
    mec_loss_kind loss;
    float label_smoothing;    /* 0 = off */
    int64_t ignore_index;     /* labels equal to this add nothing (default -100) */
    float kd_temperature;     /* distillation T (default 4) */
    float kd_alpha;           /* weight of the KL term (default 0.9) */

    mec_optim_kind optim;
    float lr;                 /* peak learning rate */
    float momentum;           /* SGD (default 0.9) */
    bool nesterov;
    float weight_decay;       /* SGD: L2 added to the gradient; AdamW: decoupled */
    bool decay_1d;            /* decay 1-D parameters (biases, norm scales) too (default true) */
    float beta1, beta2, eps;  /* AdamW (0.9, 0.999, 1e-8) */

    mec_lr_schedule schedule;
    int64_t warmup_steps;     /* linear warm-up from lr/warmup to lr */
    int64_t total_steps;      /* for cosine/linear decay */
    int64_t step_size;        /* for MEC_LR_STEP */
    float gamma;              /* for MEC_LR_STEP (default 0.1) */
    float min_lr;

    float clip_norm;          /* global gradient-norm clipping; 0 = off */
    uint64_t seed;            /* Dropout masks */
    int threads;              /* 0 = the cores available */
} mec_train_config;

void mec_train_config_default(mec_train_config *c);

typedef struct mec_trainer mec_trainer;

/* Creates a trainer over a deep copy of g (opset 17 ONNX ops; see
 * docs/training.md for the ops with a backward). Fails listing every op that
 * a parameter's gradient would have to pass through but that has no
 * backward kernel. */
mec_status mec_train_create(const mec_graph *g, const mec_train_config *cfg, mec_trainer **out);
void mec_train_destroy(mec_trainer *t);

/* One batch: graph inputs by name, labels (int64 or int32; may be NULL for
 * pure distillation or MEC_LOSS_NONE), teacher logits (distillation). Batch
 * size may change from one batch to the next. */
typedef struct mec_train_batch {
    int n_inputs;
    const char *const *names;
    const mec_tensor *const *inputs;
    const mec_tensor *labels;
    const mec_tensor *teacher;
} mec_train_batch;

/* zero grads → forward (training mode) → loss → backward → clip → optimiser
 * update; *loss receives the batch loss before the update. */
mec_status mec_train_step(mec_trainer *t, const mec_train_batch *b, float *loss);

/* Forward in inference mode (BatchNorm on running statistics, no Dropout);
 * *logits is a new tensor (the loss output) the caller destroys. */
mec_status mec_train_eval(mec_trainer *t, int n_in, const char *const *names,
                          const mec_tensor *const *inputs, mec_tensor **logits);

/* ------------------------------------------------ the step, piece by piece */

/* Runs the graph; training selects BatchNorm/Dropout behaviour. Activations
 * stay readable through mec_train_value until the next forward. */
mec_status mec_train_forward(mec_trainer *t, int n_in, const char *const *names,
                             const mec_tensor *const *inputs, bool training);
/* A value of the last forward (any node output, input or parameter), or NULL. */
const mec_tensor *mec_train_value(const mec_trainer *t, const char *name);
void mec_train_zero_grad(mec_trainer *t);
/* Backpropagates the given gradients of output values (shapes as the
 * values) through the last training forward; parameter gradients
 * accumulate (+=). */
mec_status mec_train_backward(mec_trainer *t, int n, const char *const *names,
                              const mec_tensor *const *grads);
/* Loss of the configured kind on logits; *dlogits (may be NULL) is set to
 * d loss / d logits (same shape as logits, contiguous, caller's tensor: it is
 * reshaped and allocated as needed). */
mec_status mec_train_loss(const mec_train_config *cfg, const mec_tensor *logits,
                          const mec_tensor *labels, const mec_tensor *teacher, float *loss,
                          mec_tensor *dlogits);
/* Global-norm clipping (cfg.clip_norm), then one optimiser update at the
 * scheduled learning rate; advances the step counter. *grad_norm (may be
 * NULL) receives the norm before clipping. */
mec_status mec_train_update(mec_trainer *t, float *grad_norm);
/* Learning rate of optimiser step `step` (0-based) under cfg's schedule. */
float mec_train_lr(const mec_train_config *cfg, int64_t step);

/* ----------------------------------------------------------- inspection */

int mec_train_param_count(const mec_trainer *t);
/* Parameter i: its name, value and gradient (owned by the trainer; the
 * value may be changed in place, e.g. by a gradient check). */
mec_status mec_train_param(mec_trainer *t, int i, const char **name, mec_tensor **value,
                           mec_tensor **grad);
/* Gradient of any value after mec_train_backward (NULL when none flowed). */
const mec_tensor *mec_train_grad(const mec_trainer *t, const char *name);
int64_t mec_train_steps_done(const mec_trainer *t);
int64_t mec_train_epoch(const mec_trainer *t);
void mec_train_set_epoch(mec_trainer *t, int64_t epoch);
/* Reseeds the Dropout RNG. */
void mec_train_set_seed(mec_trainer *t, uint64_t seed);

/* ---------------------------------------------------- checkpoint, export */

/* Writes parameters, BatchNorm buffers, optimiser state, step, epoch and RNG
 * state to path (magic "MECCKPT", versioned, written atomically). */
mec_status mec_train_save(const mec_trainer *t, const char *path);
/* Restores a checkpoint written by mec_train_save for the same model and
 * optimiser: training then continues bit-identically. */
mec_status mec_train_load(mec_trainer *t, const char *path);
/* A new inference graph with the trained weights and running statistics
 * (BatchNorm in inference mode). */
mec_status mec_train_export(const mec_trainer *t, mec_graph **out);

#ifdef __cplusplus
}
#endif
#endif
