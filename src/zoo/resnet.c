/* ResNet, Wide-ResNet and ResNeXt trunks (torchvision's layout and names)
 * with a classification, FCN or DUC head. */
#include "zoo_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void mec_zoo_resnet_config_default(mec_zoo_resnet_config *c) {
    memset(c, 0, sizeof *c);
    c->block = MEC_ZOO_BOTTLENECK;
    c->layers[0] = 3;
    c->layers[1] = 4;
    c->layers[2] = 6;
    c->layers[3] = 3;
    c->base_width = 64;
    c->groups = 1;
    c->width_per_group = 64;
    c->stem_kernel = 7;
    c->stem_stride = 2;
    c->stem_pool = true;
    c->in_channels = 3;
    c->num_classes = 1000;
    c->height = c->width = 224;
    c->head = MEC_ZOO_HEAD_CLASSIFY;
    c->bn_eps = 1e-5f;
}

/* A feature map: the value that holds it and its static size. */
typedef struct feat {
    const char *v;
    int64_t c, h, w;
} feat;

static int64_t conv_out(int64_t n, int k, int stride, int pad, int dil) {
    return (n + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

/* Conv (weight "<name>.weight", bias "<name>.bias" when with_bias). Trunk
 * convs get Kaiming normal (fan_out, ReLU); classifier convs (with_bias)
 * torch's default U(±1/√fan_in) and zero bias. */
static feat conv(zb *b, feat x, const char *name, int64_t cout, int k, int stride, int pad, int dil,
                 int groups, bool with_bias) {
    feat y = {NULL, cout, conv_out(x.h, k, stride, pad, dil), conv_out(x.w, k, stride, pad, dil)};
    if (b->st) return y;
    if (y.h < 1 || y.w < 1) {
        b->st = mec_error(MEC_ERR_SHAPE, "zoo: '%s': input %lldx%lld is too small for this model",
                          name, (long long)x.h, (long long)x.w);
        return y;
    }
    int64_t wshape[4] = {cout, x.c / groups, k, k};
    const char *wname = zb_name(b, "%s.weight", name);
    if (with_bias) {
        float bound = 1.0f / sqrtf((float)(wshape[1] * k * k));
        zb_param(b, wname, 4, wshape, ZB_UNIFORM, bound, true);
    } else {
        float std = sqrtf(2.0f / (float)(cout * k * k));
        zb_param(b, wname, 4, wshape, ZB_NORMAL, std, true);
    }
    const char *bname = "";
    if (with_bias) {
        bname = zb_name(b, "%s.bias", name);
        zb_param(b, bname, 1, &cout, ZB_ZEROS, 0, true);
    }
    const char *in[3] = {x.v, wname, bname};
    y.v = zb_node(b, "Conv", NULL, name, with_bias ? 3 : 2, in);
    int64_t ks[2] = {k, k}, st[2] = {stride, stride}, pads[4] = {pad, pad, pad, pad},
            dils[2] = {dil, dil};
    zb_ints(b, "kernel_shape", 2, ks);
    zb_ints(b, "strides", 2, st);
    zb_ints(b, "pads", 4, pads);
    zb_ints(b, "dilations", 2, dils);
    zb_int(b, "group", groups);
    b->macs += cout * y.h * y.w * wshape[1] * k * k;
    return y;
}

/* BatchNormalization "<name>" with weight/bias (trainable) and running
 * mean/var (buffers). */
static feat bn(zb *b, feat x, const char *name, float gamma, float eps) {
    const char *w = zb_name(b, "%s.weight", name), *bias = zb_name(b, "%s.bias", name),
               *mean = zb_name(b, "%s.running_mean", name), *var = zb_name(b, "%s.running_var", name);
    zb_param(b, w, 1, &x.c, ZB_CONST, gamma, true);
    zb_param(b, bias, 1, &x.c, ZB_ZEROS, 0, true);
    zb_param(b, mean, 1, &x.c, ZB_ZEROS, 0, false);
    zb_param(b, var, 1, &x.c, ZB_ONES, 0, false);
    const char *in[5] = {x.v, w, bias, mean, var};
    feat y = x;
    y.v = zb_node(b, "BatchNormalization", NULL, name, 5, in);
    zb_float(b, "epsilon", eps);
    return y;
}

static feat relu(zb *b, feat x, const char *node, const char *value) {
    const char *in[1] = {x.v};
    x.v = zb_node(b, "Relu", node, value, 1, in);
    return x;
}

/* One residual block "layer<s>.<i>"; returns its output value. */
static feat block(zb *b, const mec_zoo_resnet_config *c, feat x, int stage, int idx, int64_t planes,
                  int stride, int dil, float last_gamma) {
    const char *p = zb_name(b, "layer%d.%d", stage + 1, idx);
    char pre[64];
    snprintf(pre, sizeof pre, "%s", p);
    float eps = c->bn_eps;
    feat out;
    int64_t width = planes * c->width_per_group / 64;
    int64_t out_c = c->block == MEC_ZOO_BOTTLENECK ? planes * 4 : width;
    if (c->block == MEC_ZOO_BOTTLENECK) {
        width *= c->groups;
        out = conv(b, x, zb_name(b, "%s.conv1", pre), width, 1, 1, 0, 1, 1, false);
        out = bn(b, out, zb_name(b, "%s.bn1", pre), 1.0f, eps);
        out = relu(b, out, NULL, zb_name(b, "%s.relu1", pre));
        out = conv(b, out, zb_name(b, "%s.conv2", pre), width, 3, stride, dil, dil, c->groups, false);
        out = bn(b, out, zb_name(b, "%s.bn2", pre), 1.0f, eps);
        out = relu(b, out, NULL, zb_name(b, "%s.relu2", pre));
        out = conv(b, out, zb_name(b, "%s.conv3", pre), out_c, 1, 1, 0, 1, 1, false);
        out = bn(b, out, zb_name(b, "%s.bn3", pre), last_gamma, eps);
    } else {
        out = conv(b, x, zb_name(b, "%s.conv1", pre), width, 3, stride, dil, dil, 1, false);
        out = bn(b, out, zb_name(b, "%s.bn1", pre), 1.0f, eps);
        out = relu(b, out, NULL, zb_name(b, "%s.relu1", pre));
        out = conv(b, out, zb_name(b, "%s.conv2", pre), width, 3, 1, dil, dil, 1, false);
        out = bn(b, out, zb_name(b, "%s.bn2", pre), last_gamma, eps);
    }
    feat identity = x;
    if (stride != 1 || x.c != out_c) {
        identity = conv(b, x, zb_name(b, "%s.downsample.0", pre), out_c, 1, stride, 0, 1, 1, false);
        identity = bn(b, identity, zb_name(b, "%s.downsample.1", pre), 1.0f, eps);
    }
    const char *in[2] = {out.v, identity.v};
    out.v = zb_node(b, "Add", NULL, zb_name(b, "%s.add", pre), 2, in);
    out = relu(b, out, zb_name(b, "%s.relu", pre), pre);
    zb_mark_block(b, out.v);
    return out;
}

static mec_status check_config(const mec_zoo_resnet_config *c) {
#define BAD(...) return mec_error(MEC_ERR_INVALID_ARG, "zoo resnet config: " __VA_ARGS__)
    if (c->block != MEC_ZOO_BASIC && c->block != MEC_ZOO_BOTTLENECK) BAD("block %d unknown", (int)c->block);
    if (c->layers[0] < 1) BAD("layers[0] = %d, expected >= 1", c->layers[0]);
    for (int i = 0; i < 4; i++) {
        if (c->layers[i] < 0 || c->layers[i] > 1000) BAD("layers[%d] = %d, expected 0..1000", i, c->layers[i]);
        if (i && c->layers[i] && !c->layers[i - 1]) BAD("layers[%d] = %d follows an empty stage", i, c->layers[i]);
    }
    if (c->base_width < 1 || c->base_width > 4096) BAD("base_width = %d, expected 1..4096", c->base_width);
    if (c->groups < 1 || c->groups > 4096) BAD("groups = %d, expected 1..4096", c->groups);
    if (c->block == MEC_ZOO_BASIC && c->groups != 1) BAD("basic blocks take groups = 1, not %d", c->groups);
    if (c->width_per_group < 1 || c->width_per_group > 4096)
        BAD("width_per_group = %d, expected 1..4096", c->width_per_group);
    if ((int64_t)c->base_width * c->width_per_group < 64)
        BAD("base_width %d x width_per_group %d gives blocks of width 0", c->base_width, c->width_per_group);
    if (c->stem_kernel < 1 || c->stem_kernel > 15 || c->stem_kernel % 2 == 0)
        BAD("stem_kernel = %d, expected odd 1..15", c->stem_kernel);
    if (c->stem_stride < 1 || c->stem_stride > 4) BAD("stem_stride = %d, expected 1..4", c->stem_stride);
    if (c->in_channels < 1 || c->in_channels > 1024) BAD("in_channels = %d, expected 1..1024", c->in_channels);
    if (c->num_classes < 1 || c->num_classes > 1000000) BAD("num_classes = %d, expected 1..1000000", c->num_classes);
    if (c->height < 1 || c->height > 16384 || c->width < 1 || c->width > 16384)
        BAD("input %dx%d, expected 1..16384 each", c->height, c->width);
    if (c->head != MEC_ZOO_HEAD_CLASSIFY && c->head != MEC_ZOO_HEAD_FCN && c->head != MEC_ZOO_HEAD_DUC)
        BAD("head %d unknown", (int)c->head);
    if (c->head_channels < 0 || c->head_channels > 65536) BAD("head_channels = %d, expected 0..65536", c->head_channels);
    if (c->duc_upscale < 0 || c->duc_upscale > 64) BAD("duc_upscale = %d, expected 0..64", c->duc_upscale);
    for (int s = 0; s < 32; s++)
        if (c->head_skips >> s & 1u && (s > 3 || !c->layers[s]))
            BAD("head_skips has bit %d set, but the trunk has no stage %d", s, s);
    if (c->head_skips && c->head != MEC_ZOO_HEAD_FCN) BAD("head_skips are for the FCN head only");
    if (!(c->bn_eps > 0 && c->bn_eps < 1)) BAD("bn_eps = %g, expected (0, 1)", (double)c->bn_eps);
#undef BAD
    return MEC_OK;
}

static const char *family_of(const mec_zoo_resnet_config *c) {
    if (c->head == MEC_ZOO_HEAD_FCN) return "fcn";
    if (c->head == MEC_ZOO_HEAD_DUC) return "duc";
    return c->groups > 1 ? "resnext" : "resnet";
}

/* Resize (linear, half_pixel) of x to the H×W of `like`, read at run time:
 * the output value is `out`, its nodes "<name>.*"; the const.* index
 * tensors must exist. */
static const char *resize_like(zb *b, const char *x, const char *like, const char *name, const char *out) {
    const char *in[4] = {like};
    const char *like_shape = zb_node(b, "Shape", NULL, zb_name(b, "%s.%s_shape", name, like), 1, in);
    const char *sl1[4] = {like_shape, "const.i64.2", "const.i64.4", "const.axes.0"};
    const char *hw = zb_node(b, "Slice", NULL, zb_name(b, "%s.%s_hw", name, like), 4, sl1);
    in[0] = x;
    const char *x_shape = zb_node(b, "Shape", NULL, zb_name(b, "%s.head_shape", name), 1, in);
    const char *sl2[4] = {x_shape, "const.i64.0", "const.i64.2", "const.axes.0"};
    const char *nc = zb_node(b, "Slice", NULL, zb_name(b, "%s.head_nc", name), 4, sl2);
    const char *cat[2] = {nc, hw};
    const char *sizes = zb_node(b, "Concat", NULL, zb_name(b, "%s.sizes", name), 2, cat);
    zb_int(b, "axis", 0);
    const char *rs[4] = {x, "", "", sizes};
    const char *y = zb_node(b, "Resize", name, out, 4, rs);
    zb_string(b, "mode", "linear");
    zb_string(b, "coordinate_transformation_mode", "half_pixel");
    return y;
}

static void build_resnet(zb *b, const mec_zoo_resnet_config *c) {
    bool segment = c->head != MEC_ZOO_HEAD_CLASSIFY;
    zb_meta(b, "zoo.family", family_of(c));
    zb_meta(b, "zoo.task", segment ? "segment" : "classify");
    int64_t dims[4] = {-1, c->in_channels, segment ? -1 : c->height, segment ? -1 : c->width};
    const char *dim_names[4] = {"batch", NULL, segment ? "height" : NULL, segment ? "width" : NULL};
    if (b->g && !b->st) b->st = mec_graph_add_input(b->g, "input", MEC_F32, 4, dims, dim_names, NULL);
    feat x = {"input", c->in_channels, c->height, c->width};
    int k = c->stem_kernel;
    x = conv(b, x, "conv1", c->base_width, k, c->stem_stride, k / 2, 1, 1, false);
    x = bn(b, x, "bn1", 1.0f, c->bn_eps);
    x = relu(b, x, NULL, "relu");
    int out_stride = c->stem_stride;
    if (c->stem_pool) {
        const char *in[1] = {x.v};
        x.v = zb_node(b, "MaxPool", NULL, "maxpool", 1, in);
        int64_t ks[2] = {3, 3}, st[2] = {2, 2}, pads[4] = {1, 1, 1, 1};
        zb_ints(b, "kernel_shape", 2, ks);
        zb_ints(b, "strides", 2, st);
        zb_ints(b, "pads", 4, pads);
        x.h = conv_out(x.h, 3, 2, 1, 1);
        x.w = conv_out(x.w, 3, 2, 1, 1);
        out_stride *= 2;
    }
    zb_mark_stage(b, x.v);
    int blocks = 0;
    for (int s = 0; s < 4; s++) blocks += c->layers[s];
    float last_gamma = 1.0f / sqrtf((float)blocks);
    int dilation = 1;
    feat skip[4] = {{0}};
    for (int s = 0; s < 4 && c->layers[s]; s++) {
        int64_t planes = (int64_t)c->base_width << s;
        int stride = s ? 2 : 1, prev_dilation = dilation;
        if (s && c->dilate[s - 1]) {
            dilation *= stride;
            stride = 1;
        }
        out_stride *= stride;
        for (int i = 0; i < c->layers[s]; i++)
            x = block(b, c, x, s, i, planes, i ? 1 : stride, i ? dilation : prev_dilation, last_gamma);
        zb_mark_stage(b, x.v);
        if (c->head_skips >> s & 1u) skip[s] = x;
    }
    if (c->head == MEC_ZOO_HEAD_CLASSIFY) {
        const char *in[3] = {x.v, NULL, NULL};
        in[0] = zb_node(b, "GlobalAveragePool", NULL, "avgpool", 1, in);
        in[0] = zb_node(b, "Flatten", NULL, "flatten", 1, in);
        zb_int(b, "axis", 1);
        int64_t wshape[2] = {c->num_classes, x.c}, bshape[1] = {c->num_classes};
        float bound = 1.0f / sqrtf((float)x.c);
        zb_param(b, "fc.weight", 2, wshape, ZB_UNIFORM, bound, true);
        zb_param(b, "fc.bias", 1, bshape, ZB_UNIFORM, bound, true);
        in[1] = "fc.weight";
        in[2] = "fc.bias";
        zb_node(b, "Gemm", "fc", "logits", 3, in);
        zb_int(b, "transB", 1);
        b->macs += x.c * c->num_classes;
    } else if (c->head == MEC_ZOO_HEAD_FCN) {
        int64_t inner = c->head_channels ? c->head_channels : x.c / 4;
        if (inner < 1) inner = 1;
        feat h = conv(b, x, "classifier.0", inner, 3, 1, 1, 1, 1, false);
        h = bn(b, h, "classifier.1", 1.0f, c->bn_eps);
        h = relu(b, h, NULL, "classifier.2");
        h = conv(b, h, "classifier.4", c->num_classes, 1, 1, 0, 1, 1, true);
        int64_t s2[1] = {2}, s4[1] = {4}, z[1] = {0}, axes0[1] = {0};
        zb_const_i64(b, "const.i64.0", 1, z);
        zb_const_i64(b, "const.i64.2", 1, s2);
        zb_const_i64(b, "const.i64.4", 1, s4);
        zb_const_i64(b, "const.axes.0", 1, axes0);
        for (int s = 3; s >= 0; s--) {
            if (!skip[s].v) continue;
            /* FCN-8s-style: the scores so far, upsampled to stage s's grid,
             * plus a 1×1 score of its features */
            feat sc = conv(b, skip[s], zb_name(b, "skip%d.score", s), c->num_classes, 1, 1, 0, 1, 1, true);
            if (b->st) return;
            char rname[32], uname[32];
            snprintf(rname, sizeof rname, "skip%d.resize", s);
            snprintf(uname, sizeof uname, "skip%d.upsampled", s);
            const char *up = resize_like(b, h.v, sc.v, rname, uname);
            const char *add[2] = {up, sc.v};
            h.v = zb_node(b, "Add", NULL, zb_name(b, "skip%d.sum", s), 2, add);
        }
        /* bilinear back to the input's H×W */
        resize_like(b, h.v, "input", "resize", "logits");
    } else {
        int r = c->duc_upscale ? c->duc_upscale : out_stride;
        feat h = conv(b, x, "duc.conv", (int64_t)c->num_classes * r * r, 3, 1, 1, 1, 1, true);
        const char *in[1] = {h.v};
        zb_node(b, "DepthToSpace", "duc.depth_to_space", "logits", 1, in);
        zb_int(b, "blocksize", r);
        zb_string(b, "mode", "DCR");
    }
    int64_t out_dims[4] = {-1, c->num_classes, -1, -1};
    const char *out_names[4] = {"batch", NULL, "height", "width"};
    zb_output(b, "logits", segment ? 4 : 2, out_dims, out_names);
}

mec_status mec_zoo_resnet_build(const mec_zoo_resnet_config *c, uint64_t seed, mec_graph **out) {
    if (!c || !out) return mec_error(MEC_ERR_INVALID_ARG, "zoo: NULL config or output");
    *out = NULL;
    mec_status st = check_config(c);
    if (st) return st;
    zb b;
    if ((st = zb_begin(&b, family_of(c), seed))) return zb_end(&b, NULL);
    build_resnet(&b, c);
    return zb_end(&b, out);
}

mec_status mec_zoo_resnet_stats(const mec_zoo_resnet_config *c, mec_zoo_stats *out) {
    if (!c || !out) return mec_error(MEC_ERR_INVALID_ARG, "zoo: NULL config or output");
    memset(out, 0, sizeof *out);
    mec_status st = check_config(c);
    if (st) return st;
    zb b;
    zb_begin(&b, NULL, 0);
    build_resnet(&b, c);
    out->params = b.params;
    out->macs = b.macs;
    return zb_end(&b, NULL);
}
