/* The zoo's named presets: the study's models ("*-paper", random weights,
 * for latency) and small ones that train here in minutes ("*-small", for
 * accuracy), with overrides of seed, classes and input size. */
#include "zoo_internal.h"

#include <stdio.h>
#include <string.h>

static const mec_zoo_preset presets[] = {
    {"resnet-paper", "resnet", "paper", "Wide-ResNet-101-2 (torchvision wide_resnet101_2)",
     "3x224x224, 1000 classes", 126886696},
    {"resnext-paper", "resnext", "paper", "ResNeXt-101 64x4d (torchvision resnext101_64x4d)",
     "3x224x224, 1000 classes", 83455272},
    {"fcn-paper", "fcn", "paper", "FCN-ResNet101, no aux head (torchvision fcn_resnet101)",
     "3x520x520 (any HxW), 21 classes", 51949141},
    {"duc-paper", "duc", "paper", "ResNet-101 dilated (output stride 8) + DUC head, DepthToSpace 8",
     "3x800x800 (HxW multiple of 8), 19 classes", 0},
    {"bert-paper", "bert", "paper", "BERT-base uncased, vocab 30522 (BertForSequenceClassification)",
     "ids+mask, seq 128 (any), 2 labels", 109483778},
    {"roberta-paper", "roberta", "paper", "RoBERTa-base, vocab 50265 (RobertaForSequenceClassification)",
     "ids+mask, seq 128 (any up to 512), 2 labels", 124647170},
    {"resnet-small", "resnet", "small", "ResNet-10 basic blocks, widths 16-128, 3x3 stem",
     "1x28x28 (Fashion-MNIST), 10 classes", 0},
    {"resnext-small", "resnext", "small", "ResNeXt-14 8x4d bottlenecks, planes 16-128, 3x3 stem",
     "1x28x28 (Fashion-MNIST), 10 classes", 0},
    {"fcn-small", "fcn", "small", "FCN, ResNet-8 trunk (widths 16-64, stage 3 dilated, stride 4), stride-2 skip",
     "1x64x64 (fashion-seg, any HxW), 11 classes", 0},
    {"duc-small", "duc", "small", "DUC on a ResNet-8 (widths 16-64, stage 3 dilated, stride 4), DepthToSpace 4",
     "1x64x64 (fashion-seg, HxW mult. of 4), 11 classes", 0},
    {"bert-small", "bert", "small", "BERT, 2 layers, hidden 128, 4 heads, FFN 512, vocab 4000",
     "ids+mask, seq 64 (up to 128), 8 labels", 0},
    {"roberta-small", "roberta", "small", "RoBERTa, 2 layers, hidden 128, 4 heads, FFN 512, vocab 4000",
     "ids+mask, seq 64 (up to 128), 8 labels", 0},
};

#define N_PRESETS ((int)(sizeof presets / sizeof presets[0]))

void mec_zoo_list(const mec_zoo_preset **out, int *count) {
    if (out) *out = presets;
    if (count) *count = N_PRESETS;
}

const mec_zoo_preset *mec_zoo_find(const char *name) {
    for (int i = 0; name && i < N_PRESETS; i++)
        if (!strcmp(presets[i].name, name)) return &presets[i];
    return NULL;
}

/* ResNet-101 trunk (torchvision's layers and ImageNet stem). */
static void resnet101(mec_zoo_resnet_config *r) {
    mec_zoo_resnet_config_default(r);
    r->layers[2] = 23;
}

/* The small CNNs: a 3×3 stem for small images. */
static void small_trunk(mec_zoo_resnet_config *r, mec_zoo_block block) {
    mec_zoo_resnet_config_default(r);
    r->block = block;
    for (int i = 0; i < 4; i++) r->layers[i] = 1;
    r->base_width = 16;
    r->stem_kernel = 3;
    r->stem_stride = 1;
    r->stem_pool = true; /* 28 → 14: stages at 14, 7, 4, 2 */
    r->in_channels = 1;
    r->num_classes = 10;
    r->height = r->width = 28;
}

/* The small segmenters: three stages of widths 16-64, the last dilated,
 * output stride 4; the FCN adds a skip from the first stage (stride 2). */
static void small_segmenter(mec_zoo_resnet_config *r, mec_zoo_head head) {
    small_trunk(r, MEC_ZOO_BASIC);
    r->layers[3] = 0;
    r->base_width = 16;
    if (head == MEC_ZOO_HEAD_FCN) r->head_skips = 1u << 0;
    r->stem_stride = 2;
    r->stem_pool = false;
    r->dilate[1] = true;
    r->head = head;
    r->num_classes = 11;
    r->height = r->width = 64;
}

static void small_bert(mec_zoo_bert_config *b, bool roberta) {
    mec_zoo_bert_config_default(b, roberta);
    b->vocab_size = 4000;
    b->hidden = 128;
    b->layers = 2;
    b->heads = 4;
    b->intermediate = 512;
    b->max_positions = roberta ? 130 : 128;
    b->num_labels = 8;
    b->seq_len = 64;
}

mec_status mec_zoo_preset_config(const char *preset, const mec_zoo_overrides *ov,
                                 mec_zoo_config *out) {
    if (!out) return mec_error(MEC_ERR_INVALID_ARG, "zoo: NULL output");
    memset(out, 0, sizeof *out);
    const mec_zoo_preset *p = mec_zoo_find(preset);
    if (!p) {
        char names[512] = "";
        for (int i = 0; i < N_PRESETS; i++) {
            size_t len = strlen(names);
            snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", presets[i].name);
        }
        return mec_error(MEC_ERR_NOT_FOUND, "zoo: no preset named '%s' (presets: %s)",
                         preset ? preset : "(null)", names);
    }
    mec_zoo_resnet_config *r = &out->resnet;
    mec_zoo_bert_config *b = &out->bert;
    out->kind = MEC_ZOO_RESNET;
    if (!strcmp(p->name, "resnet-paper")) {
        resnet101(r);
        r->width_per_group = 128;
    } else if (!strcmp(p->name, "resnext-paper")) {
        resnet101(r);
        r->groups = 64;
        r->width_per_group = 4;
    } else if (!strcmp(p->name, "fcn-paper") || !strcmp(p->name, "duc-paper")) {
        resnet101(r);
        r->dilate[1] = r->dilate[2] = true;
        bool fcn = !strcmp(p->name, "fcn-paper");
        r->head = fcn ? MEC_ZOO_HEAD_FCN : MEC_ZOO_HEAD_DUC;
        r->num_classes = fcn ? 21 : 19;
        r->height = r->width = fcn ? 520 : 800;
    } else if (!strcmp(p->name, "bert-paper") || !strcmp(p->name, "roberta-paper")) {
        out->kind = MEC_ZOO_BERT;
        mec_zoo_bert_config_default(b, !strcmp(p->name, "roberta-paper"));
    } else if (!strcmp(p->name, "resnet-small")) {
        small_trunk(r, MEC_ZOO_BASIC);
    } else if (!strcmp(p->name, "resnext-small")) {
        small_trunk(r, MEC_ZOO_BOTTLENECK);
        r->groups = 8;
        r->width_per_group = 4 * 64 / 16; /* 4 channels per group at stage 0 (planes 16) */
    } else if (!strcmp(p->name, "fcn-small")) {
        small_segmenter(r, MEC_ZOO_HEAD_FCN);
    } else if (!strcmp(p->name, "duc-small")) {
        small_segmenter(r, MEC_ZOO_HEAD_DUC);
    } else if (!strcmp(p->name, "bert-small") || !strcmp(p->name, "roberta-small")) {
        out->kind = MEC_ZOO_BERT;
        small_bert(b, !strcmp(p->name, "roberta-small"));
    } else {
        return mec_error(MEC_ERR_INTERNAL, "zoo: preset '%s' has no configuration", p->name);
    }
    if (!ov) return MEC_OK;
    if (ov->num_classes < 0 || ov->height < 0 || ov->width < 0 || ov->in_channels < 0 ||
        ov->vocab_size < 0)
        return mec_error(MEC_ERR_INVALID_ARG, "zoo: '%s': negative override", p->name);
    if (out->kind == MEC_ZOO_RESNET) {
        if (ov->num_classes) r->num_classes = ov->num_classes;
        if (ov->height) r->height = ov->height;
        if (ov->width) r->width = ov->width;
        if (ov->in_channels) r->in_channels = ov->in_channels;
        if (ov->vocab_size)
            return mec_error(MEC_ERR_INVALID_ARG, "zoo: '%s' is a CNN: it has no vocabulary", p->name);
    } else {
        if (ov->num_classes) b->num_labels = ov->num_classes;
        if (ov->vocab_size) b->vocab_size = ov->vocab_size;
        if (ov->width || ov->in_channels)
            return mec_error(MEC_ERR_INVALID_ARG,
                             "zoo: '%s' takes token ids: give the sequence length as height only",
                             p->name);
        if (ov->height) {
            b->seq_len = ov->height;
            int need = ov->height + (b->roberta ? 2 : 0);
            if (need > b->max_positions) b->max_positions = need; /* small presets grow */
        }
    }
    return MEC_OK;
}

mec_status mec_zoo_build_config(const mec_zoo_config *c, const char *preset, uint64_t seed,
                                mec_graph **out) {
    if (!c || !out) return mec_error(MEC_ERR_INVALID_ARG, "zoo: NULL config or output");
    mec_status st = c->kind == MEC_ZOO_BERT ? mec_zoo_bert_build(&c->bert, seed, out)
                                            : mec_zoo_resnet_build(&c->resnet, seed, out);
    if (st || !preset) return st;
    zb b;
    memset(&b, 0, sizeof b);
    b.g = *out;
    zb_meta(&b, "zoo.preset", preset);
    char *name = mec_strdup(preset);
    if (!name && !b.st) b.st = MEC_ERR_NOMEM;
    if (name) {
        mec_free(b.g->name);
        b.g->name = name;
    }
    if (b.st) {
        mec_graph_destroy(*out);
        *out = NULL;
    }
    return b.st;
}

mec_status mec_zoo_build(const char *preset, const mec_zoo_overrides *ov, mec_graph **out) {
    if (!out) return mec_error(MEC_ERR_INVALID_ARG, "zoo: NULL output");
    *out = NULL;
    mec_zoo_config c;
    mec_status st = mec_zoo_preset_config(preset, ov, &c);
    if (st) return st;
    st = mec_zoo_build_config(&c, preset, ov ? ov->seed : 0, out);
    if (st) mec_error_prefix(st, "zoo '%s': ", preset);
    return st;
}

mec_status mec_zoo_stats_of(const char *preset, const mec_zoo_overrides *ov, mec_zoo_stats *out) {
    if (!out) return mec_error(MEC_ERR_INVALID_ARG, "zoo: NULL output");
    memset(out, 0, sizeof *out);
    mec_zoo_config c;
    mec_status st = mec_zoo_preset_config(preset, ov, &c);
    if (st) return st;
    return c.kind == MEC_ZOO_BERT ? mec_zoo_bert_stats(&c.bert, out)
                                  : mec_zoo_resnet_stats(&c.resnet, out);
}
