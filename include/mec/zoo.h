/* mec/zoo.h — layer 6: the model zoo. Builders on the graph builder API for
 * the study's model families — ResNet (basic and bottleneck blocks, any
 * depth and width, Wide variants), ResNeXt, FCN and DUC (segmentation on a
 * dilated ResNet), BERT and RoBERTa (post-LN encoders with a classification
 * head) — with deterministic random weights, written as opset-17 ONNX that
 * our runtime and ONNX Runtime both run.
 *
 * Named presets come in two sizes: "*-paper" (the study's models, random
 * weights, for latency) and "*-small" (sized to train here in minutes, for
 * accuracy). Every graph records in its metadata the family, the preset and
 * the names of the values that end each stage and each block, which is
 * where early-exit and partition operators cut:
 *   "zoo.family", "zoo.preset", "zoo.task" (classify|segment), "zoo.seed",
 *   "zoo.params", "zoo.macs", "stage_outputs", "block_outputs"
 * (the last two comma-separated, in graph order).
 *
 * Naming follows the PyTorch state dicts (torchvision, Hugging Face):
 * nodes "layer3.5.conv2", "encoder.layer.4.attention.self.query.matmul";
 * weights "layer3.5.conv2.weight", "layer3.5.bn2.running_var"; the value
 * that ends block "layer3.5" is called "layer3.5", the one that ends
 * encoder layer 4 "encoder.layer.4". Transformer linear weights are stored
 * (in, out) — the transpose of torch.nn.Linear.weight — so MatMul+Add(+GELU)
 * fuses. */
#ifndef MEC_ZOO_H
#define MEC_ZOO_H

#include "mec/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- ResNet */

typedef enum mec_zoo_block { MEC_ZOO_BASIC, MEC_ZOO_BOTTLENECK } mec_zoo_block;

/* What follows the ResNet trunk. */
typedef enum mec_zoo_head {
    MEC_ZOO_HEAD_CLASSIFY, /* GlobalAveragePool → Flatten → Gemm "fc": logits (N, classes) */
    MEC_ZOO_HEAD_FCN,      /* 3×3 conv+BN+ReLU → 1×1 conv → bilinear Resize to the input's H×W */
    MEC_ZOO_HEAD_DUC       /* 3×3 conv to classes·r² → DepthToSpace(r): (N, classes, H, W) */
} mec_zoo_head;

/* A ResNet/ResNeXt/Wide-ResNet trunk and a head, with torchvision's
 * semantics: stage i (0..3) has planes = base_width·2^i; a bottleneck's
 * inner width is floor(planes·width_per_group/64)·groups and its output
 * planes·4; a basic block's width is floor(planes·width_per_group/64).
 * Wide-ResNet with factor k is width_per_group = 64·k (wide_resnet101_2:
 * 128); ResNeXt 64×4d is groups 64, width_per_group 4. */
typedef struct mec_zoo_resnet_config {
    mec_zoo_block block;
    int layers[4];        /* blocks per stage; trailing stages may be 0 (left out) */
    int base_width;       /* stem channels and planes of stage 0 (torchvision: 64) */
    int groups;           /* cardinality (1; ResNeXt 32 or 64) */
    int width_per_group;  /* 64; Wide-ResNet-k: 64·k; ResNeXt: 4, 8 ... */
    bool dilate[3];       /* replace_stride_with_dilation for stages 1..3 */
    int stem_kernel;      /* 7 (ImageNet) or 3 (small images) */
    int stem_stride;      /* 2 or 1 */
    bool stem_pool;       /* 3×3/2 MaxPool after the stem */
    int in_channels;      /* 3 (RGB) or 1 (Fashion-MNIST) */
    int num_classes;
    int height, width;    /* the input size (static for CLASSIFY, default for FCN/DUC) */
    mec_zoo_head head;
    int head_channels;    /* FCN: inner channels of the head; 0 = trunk channels / 4 */
    int duc_upscale;      /* DUC: r; 0 = the trunk's output stride */
    unsigned head_skips;  /* FCN: bit s set = the output of stage s (0..3) adds a 1×1-conv score
                           * before the final upsampling, deepest first (FCN-8s-style skips);
                           * 0 = none (torchvision's FCN) */
    float bn_eps;         /* 1e-5 */
} mec_zoo_resnet_config;

/* torchvision's resnet50 (block, layers, widths, ImageNet stem, 1000 classes, 224×224). */
void mec_zoo_resnet_config_default(mec_zoo_resnet_config *c);

/* ---------------------------------------------------------- BERT, RoBERTa */

/* A post-LN Transformer encoder (Hugging Face's BertModel / RobertaModel)
 * with a sequence-classification head on the first token:
 *   BERT:    pooler.dense → tanh → classifier          (BertForSequenceClassification)
 *   RoBERTa: classifier.dense → tanh → classifier.out_proj (RobertaForSequenceClassification)
 * Inputs input_ids and attention_mask, int64 (batch, sequence), both dims
 * dynamic; with token_type_input also token_type_ids, else every token has
 * type 0. BERT positions are 0..S-1; RoBERTa's are cumsum(mask)·mask +
 * padding_idx (1), so max_positions must be ≥ S + 2. */
typedef struct mec_zoo_bert_config {
    int vocab_size;      /* 30522 (bert-base-uncased), 50265 (roberta-base) */
    int hidden;          /* 768 */
    int layers;          /* 12 */
    int heads;           /* 12; must divide hidden */
    int intermediate;    /* 3072 */
    int max_positions;   /* 512 (BERT), 514 (RoBERTa) */
    int type_vocab_size; /* 2 (BERT), 1 (RoBERTa) */
    int num_labels;      /* 2 */
    bool roberta;
    bool token_type_input;
    float layer_norm_eps; /* 1e-12 (BERT), 1e-5 (RoBERTa) */
    int seq_len;          /* the sequence length MAC counts assume (dynamic in the graph) */
} mec_zoo_bert_config;

/* bert-base-uncased with a 2-label head; roberta = true gives roberta-base. */
void mec_zoo_bert_config_default(mec_zoo_bert_config *c, bool roberta);

/* ------------------------------------------------------------- builders */

/* Size of a model without building its weights: trainable parameters as
 * PyTorch counts them (sum of numel over parameters(): BatchNorm running
 * statistics and graph constants not included) and multiply-accumulates of
 * one input of the configured size (conv, Gemm/MatMul, attention). */
typedef struct mec_zoo_stats {
    int64_t params;
    int64_t macs;
} mec_zoo_stats;

/* Builds the graph with random weights, deterministic from seed: each
 * tensor has its own stream derived from (seed, its name), so a tensor's
 * values do not depend on the rest of the model. Conv: Kaiming normal
 * (fan_out, ReLU gain); BatchNorm gamma 1 (the last BN of each residual
 * branch 1/√blocks, which keeps the random trunk's activations O(1)),
 * beta 0, running mean 0, var 1; Gemm/classifier conv: uniform ±1/√fan_in
 * (as torch.nn's default); transformer weights N(0, 0.02), biases 0,
 * LayerNorm 1/0. */
mec_status mec_zoo_resnet_build(const mec_zoo_resnet_config *c, uint64_t seed, mec_graph **out);
mec_status mec_zoo_bert_build(const mec_zoo_bert_config *c, uint64_t seed, mec_graph **out);
mec_status mec_zoo_resnet_stats(const mec_zoo_resnet_config *c, mec_zoo_stats *out);
mec_status mec_zoo_bert_stats(const mec_zoo_bert_config *c, mec_zoo_stats *out);

/* --------------------------------------------------------------- presets */

typedef enum mec_zoo_kind { MEC_ZOO_RESNET, MEC_ZOO_BERT } mec_zoo_kind;

/* A preset's configuration (tagged by kind), for callers that tweak it. */
typedef struct mec_zoo_config {
    mec_zoo_kind kind;
    mec_zoo_resnet_config resnet; /* kind RESNET */
    mec_zoo_bert_config bert;     /* kind BERT */
} mec_zoo_config;

typedef struct mec_zoo_preset {
    const char *name;        /* "resnet-paper" */
    const char *family;      /* resnet, resnext, fcn, duc, bert, roberta */
    const char *size;        /* "paper" or "small" */
    const char *description; /* "Wide-ResNet-101-2 (torchvision wide_resnet101_2)" */
    const char *data;        /* what it takes: "ImageNet 3x224x224", "Fashion-MNIST 1x28x28" */
    int64_t published_params;/* the reference implementation's count; 0 if none */
} mec_zoo_preset;

/* Changes to a preset; zero fields keep the preset's value (so a zeroed
 * struct, or NULL, builds the preset as listed). */
typedef struct mec_zoo_overrides {
    uint64_t seed;    /* weights' seed (default 0) */
    int num_classes;  /* classes / labels */
    int height, width;/* CNN input size; for BERT/RoBERTa height is the sequence length */
    int in_channels;  /* CNN input channels */
    int vocab_size;   /* BERT/RoBERTa vocabulary (a tokenizer's size) */
} mec_zoo_overrides;

/* The preset table (static; *count entries). */
void mec_zoo_list(const mec_zoo_preset **presets, int *count);
/* A preset by name; NULL if unknown. */
const mec_zoo_preset *mec_zoo_find(const char *name);
/* The configuration of a preset with overrides applied; MEC_ERR_NOT_FOUND
 * (listing the names) for an unknown preset, MEC_ERR_INVALID_ARG for a bad
 * override. */
mec_status mec_zoo_preset_config(const char *preset, const mec_zoo_overrides *ov,
                                 mec_zoo_config *out);
/* Builds a preset (with overrides; ov may be NULL). */
mec_status mec_zoo_build(const char *preset, const mec_zoo_overrides *ov, mec_graph **out);
/* Parameters and MACs of a preset without building weights. */
mec_status mec_zoo_stats_of(const char *preset, const mec_zoo_overrides *ov, mec_zoo_stats *out);
/* Builds from a configuration; family and preset name go into the metadata
 * (preset may be NULL). */
mec_status mec_zoo_build_config(const mec_zoo_config *c, const char *preset, uint64_t seed,
                                mec_graph **out);

#ifdef __cplusplus
}
#endif
#endif
