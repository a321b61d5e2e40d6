#!/usr/bin/python3
"""Exports the interop test models from PyTorch to ONNX, with test inputs and
PyTorch's outputs as .npy, so tests/suites/interop.sh can check that mecbench's
runtime agrees with PyTorch on what PyTorch itself exports.

Run with Debian's Python (it has torch 1.13, numpy and onnx):

    /usr/bin/python3 tests/interop/export_models.py --out DIR \
        [--size small|full] [--models resnet,resnext,fcn,duc,bert,roberta]

For each model it writes DIR/<model>.onnx, DIR/<model>.json (inputs, outputs,
test cases and their files), and per test case the inputs and PyTorch's
outputs: DIR/<model>.input_<name>.npy and DIR/<model>.output_<name>.npy for
the first case, DIR/<model>.case<k>.input_<name>.npy ... for case k >= 1.
DIR/<model>.tsv lists the case files as "case kind name file", one a line,
for the shell suite (DIR/manifest.tsv: the same for all models of one run,
with the model name first). Every model is checked with onnx.checker and the
op census (op type -> count) is printed and stored in the .json.

The modules are written here (torchvision and transformers are not
dependencies); they follow torchvision's ResNet/ResNeXt/FCN and Hugging Face's
BERT/RoBERTa layer by layer, so --size full has the published parameter
counts. Weights are random (fixed seeds), BatchNorm statistics and LayerNorm
affines are randomised too so that no layer is an identity.
"""

import argparse
import json
import math
import os
import sys
import time
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20240611
# torch 1.13's exporter warns about its own shape inference; not our business.
warnings.filterwarnings("ignore", category=UserWarning)

# ---------------------------------------------------------------------------
# CNNs: torchvision-equivalent ResNet / ResNeXt with bottleneck blocks.


def conv3x3(cin, cout, stride=1, groups=1, dilation=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=dilation, groups=groups,
                     bias=False, dilation=dilation)


def conv1x1(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 1, stride=stride, bias=False)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1,
                 base_width=64, dilation=1):
        super().__init__()
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision.models.ResNet with Bottleneck blocks; `width` is the stem
    width (64 in the published models), `include_top` False gives the
    backbone for FCN/DUC (output of layer4)."""

    def __init__(self, layers, num_classes=1000, width=64, groups=1, width_per_group=64,
                 replace_stride_with_dilation=(False, False, False), include_top=True):
        super().__init__()
        self.inplanes = width
        self.dilation = 1
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(width, layers[0])
        self.layer2 = self._make_layer(width * 2, layers[1], 2, replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(width * 4, layers[2], 2, replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(width * 8, layers[3], 2, replace_stride_with_dilation[2])
        self.out_channels = width * 8 * Bottleneck.expansion
        self.include_top = include_top
        if include_top:
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(self.out_channels, num_classes)

    def _make_layer(self, planes, blocks, stride=1, dilate=False):
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * Bottleneck.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * Bottleneck.expansion, stride),
                                       nn.BatchNorm2d(planes * Bottleneck.expansion))
        layers = [Bottleneck(self.inplanes, planes, stride, downsample, self.groups,
                             self.base_width, previous_dilation)]
        self.inplanes = planes * Bottleneck.expansion
        for _ in range(1, blocks):
            layers.append(Bottleneck(self.inplanes, planes, groups=self.groups,
                                     base_width=self.base_width, dilation=self.dilation))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        if not self.include_top:
            return x
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


class FCN(nn.Module):
    """torchvision's fcn_resnet50 without the aux head: dilated backbone
    (output stride 8), FCNHead, bilinear upsampling to the input's H x W."""

    def __init__(self, backbone, num_classes):
        super().__init__()
        self.backbone = backbone
        cin = backbone.out_channels
        inter = cin // 4
        self.classifier = nn.Sequential(
            nn.Conv2d(cin, inter, 3, padding=1, bias=False), nn.BatchNorm2d(inter), nn.ReLU(),
            nn.Dropout(0.1), nn.Conv2d(inter, num_classes, 1))

    def forward(self, x):
        size = x.shape[-2:]
        y = self.classifier(self.backbone(x))
        return F.interpolate(y, size=size, mode="bilinear", align_corners=False)


class DUC(nn.Module):
    """Dense upsampling convolution (Wang et al., ResNet-DUC): dilated
    backbone, a 3x3 conv to num_classes * r * r channels, BN, ReLU and
    PixelShuffle(r), which exports as DepthToSpace."""

    def __init__(self, backbone, num_classes, r=8):
        super().__init__()
        self.backbone = backbone
        self.conv = nn.Conv2d(backbone.out_channels, num_classes * r * r, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(num_classes * r * r)
        self.relu = nn.ReLU()
        self.shuffle = nn.PixelShuffle(r)

    def forward(self, x):
        return self.shuffle(self.relu(self.bn(self.conv(self.backbone(x)))))


def init_cnn(model):
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.normal_(m.bias, 0.0, 0.1)
        elif isinstance(m, nn.BatchNorm2d):
            # Random affine and running statistics: BN must not be an identity.
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.normal_(m.bias, 0.0, 0.1)
            m.running_mean.normal_(0.0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 1.0 / math.sqrt(m.in_features))
            nn.init.normal_(m.bias, 0.0, 0.1)


# ---------------------------------------------------------------------------
# Transformers: Hugging Face-style BERT / RoBERTa encoders (post-LN).


class Embeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.roberta = cfg["roberta"]
        self.pad = cfg["pad_id"]
        self.word = nn.Embedding(cfg["vocab"], cfg["hidden"], padding_idx=self.pad)
        self.position = nn.Embedding(cfg["max_pos"], cfg["hidden"],
                                     padding_idx=self.pad if self.roberta else None)
        self.token_type = nn.Embedding(cfg["type_vocab"], cfg["hidden"])
        self.norm = nn.LayerNorm(cfg["hidden"], eps=cfg["ln_eps"])
        self.dropout = nn.Dropout(0.1)
        self.register_buffer("position_ids", torch.arange(cfg["max_pos"]).unsqueeze(0))
        self.register_buffer("token_type_ids", torch.zeros(1, cfg["max_pos"], dtype=torch.long))

    def forward(self, input_ids, token_type_ids=None):
        batch, seq = input_ids.shape
        if self.roberta:
            # fairseq/HF: positions count the non-pad tokens, pads keep pad_id.
            mask = input_ids.ne(self.pad).int()
            position_ids = (torch.cumsum(mask, dim=1).type_as(mask) * mask).long() + self.pad
        else:
            position_ids = self.position_ids[:, :seq]
        if token_type_ids is None:
            token_type_ids = self.token_type_ids[:, :seq].expand(batch, seq)
        x = self.word(input_ids) + self.token_type(token_type_ids) + self.position(position_ids)
        return self.dropout(self.norm(x))


class SelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.heads = cfg["heads"]
        self.head_dim = cfg["hidden"] // cfg["heads"]
        self.query = nn.Linear(cfg["hidden"], cfg["hidden"])
        self.key = nn.Linear(cfg["hidden"], cfg["hidden"])
        self.value = nn.Linear(cfg["hidden"], cfg["hidden"])
        self.dropout = nn.Dropout(0.1)

    def split(self, x):  # (B, S, H*D) -> (B, H, S, D)
        return x.view(x.size(0), x.size(1), self.heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x, additive_mask):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        probs = self.dropout(torch.softmax(scores + additive_mask, dim=-1))
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.size(0), ctx.size(1), self.heads * self.head_dim)


class EncoderLayer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h, i, eps = cfg["hidden"], cfg["intermediate"], cfg["ln_eps"]
        self.attention = SelfAttention(cfg)
        self.attn_out = nn.Linear(h, h)
        self.attn_norm = nn.LayerNorm(h, eps=eps)
        self.intermediate = nn.Linear(h, i)
        self.output = nn.Linear(i, h)
        self.out_norm = nn.LayerNorm(h, eps=eps)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x, additive_mask):
        x = self.attn_norm(x + self.dropout(self.attn_out(self.attention(x, additive_mask))))
        y = self.output(F.gelu(self.intermediate(x)))  # exact GELU (erf)
        return self.out_norm(x + self.dropout(y))


class Encoder(nn.Module):
    """BERT (roberta=False) or RoBERTa (roberta=True) encoder with pooler and
    a classification head; outputs (last_hidden_state, logits)."""

    def __init__(self, cfg):
        super().__init__()
        self.roberta = cfg["roberta"]
        self.embeddings = Embeddings(cfg)
        self.layers = nn.ModuleList([EncoderLayer(cfg) for _ in range(cfg["layers"])])
        self.pooler = nn.Linear(cfg["hidden"], cfg["hidden"])
        self.classifier = nn.Linear(cfg["hidden"], cfg["labels"])

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        x = self.embeddings(input_ids, token_type_ids)
        additive_mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, additive_mask)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return x, self.classifier(pooled)


def init_encoder(model, cfg):
    for m in model.modules():
        if isinstance(m, nn.Linear):
            # ~unit-variance activations, so softmax and GELU see O(1) inputs.
            nn.init.normal_(m.weight, 0.0, 1.0 / math.sqrt(m.in_features))
            nn.init.normal_(m.bias, 0.0, 0.05)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 1.0)
            if m.padding_idx is not None:
                with torch.no_grad():
                    m.weight[m.padding_idx].zero_()
        elif isinstance(m, nn.LayerNorm):
            nn.init.uniform_(m.weight, 0.8, 1.2)
            nn.init.normal_(m.bias, 0.0, 0.05)


def token_inputs(gen, cfg, batch, seq, roberta):
    """Random ids with padding at the end of every row after the first."""
    pad = cfg["pad_id"]
    low = 3 if roberta else 1  # RoBERTa: 0..2 are <s>, <pad>, </s>
    ids = torch.randint(low, cfg["vocab"], (batch, seq), generator=gen)
    mask = torch.ones(batch, seq, dtype=torch.long)
    for b in range(1, batch):
        n_pad = max(1, (seq * b) // (2 * batch))
        ids[b, seq - n_pad:] = pad
        mask[b, seq - n_pad:] = 0
    if roberta:
        ids[:, 0] = 0
    return ids, mask


# ---------------------------------------------------------------------------
# The catalogue: model name -> builder, per size.

CNN_SMALL = dict(layers=[1, 1, 1, 1], width=8)
CNN_FULL = dict(layers=[3, 4, 6, 3], width=64)


def build_resnet(size, gen):
    cfg = CNN_SMALL if size == "small" else CNN_FULL
    model = ResNet(cfg["layers"], num_classes=10 if size == "small" else 1000, width=cfg["width"])
    hw = (64, 64) if size == "small" else (224, 224)
    cases = [{"image": torch.randn(1 if size == "full" else 2, 3, *hw, generator=gen)}]
    return model, init_cnn, cases, dict(inputs=["image"], outputs=["logits"], dynamic={})


def build_resnext(size, gen):
    if size == "small":  # cardinality 4, 16 channels per group in layer1
        model = ResNet([1, 1, 1, 1], num_classes=10, width=16, groups=4, width_per_group=16)
        hw = (64, 64)
    else:  # ResNeXt-50 32x4d
        model = ResNet([3, 4, 6, 3], num_classes=1000, width=64, groups=32, width_per_group=4)
        hw = (224, 224)
    cases = [{"image": torch.randn(1, 3, *hw, generator=gen)}]
    return model, init_cnn, cases, dict(inputs=["image"], outputs=["logits"], dynamic={})


def dilated_backbone(size):
    cfg = CNN_SMALL if size == "small" else CNN_FULL
    return ResNet(cfg["layers"], width=cfg["width"], include_top=False,
                  replace_stride_with_dilation=(False, True, True))


def build_fcn(size, gen):
    model = FCN(dilated_backbone(size), num_classes=5 if size == "small" else 21)
    # Two sizes through one graph with dynamic H and W (not multiples of 8 in
    # the second case, so the output stride rounds).
    sizes = [(48, 64), (45, 61)] if size == "small" else [(224, 224), (240, 320)]
    cases = [{"image": torch.randn(1, 3, *hw, generator=gen)} for hw in sizes]
    return model, init_cnn, cases, dict(inputs=["image"], outputs=["out"],
                                        dynamic={"image": {2: "height", 3: "width"},
                                                 "out": {2: "height", 3: "width"}})


def build_duc(size, gen):
    model = DUC(dilated_backbone(size), num_classes=5 if size == "small" else 19, r=8)
    hw = (64, 64) if size == "small" else (224, 224)
    cases = [{"image": torch.randn(1, 3, *hw, generator=gen)}]
    return model, init_cnn, cases, dict(inputs=["image"], outputs=["out"], dynamic={})


def encoder_cfg(size, roberta):
    if size == "small":
        cfg = dict(vocab=100, hidden=32, layers=2, heads=4, intermediate=64, max_pos=40,
                   type_vocab=2, labels=3)
    else:  # bert-base-uncased / roberta-base
        cfg = dict(vocab=30522, hidden=768, layers=12, heads=12, intermediate=3072,
                   max_pos=512, type_vocab=2, labels=2)
        if roberta:
            cfg.update(vocab=50265, max_pos=514, type_vocab=1)
    cfg.update(roberta=roberta, pad_id=1 if roberta else 0, ln_eps=1e-5 if roberta else 1e-12)
    return cfg


def build_encoder(size, gen, roberta):
    cfg = encoder_cfg(size, roberta)
    model = Encoder(cfg)
    # Two shapes through the dynamic (batch, sequence) axes.
    shapes = [(2, 16), (1, 11)] if size == "small" else [(2, 128), (1, 64)]
    cases = []
    for batch, seq in shapes:
        ids, mask = token_inputs(gen, cfg, batch, seq, roberta)
        case = {"input_ids": ids, "attention_mask": mask}
        if not roberta:
            tt = torch.zeros(batch, seq, dtype=torch.long)
            tt[:, seq // 2:] = 1
            case["token_type_ids"] = tt
        cases.append(case)
    names = list(cases[0].keys())
    seq_axes = {n: {0: "batch", 1: "sequence"} for n in names}
    seq_axes.update({"last_hidden_state": {0: "batch", 1: "sequence"}, "logits": {0: "batch"}})
    return (model, lambda m: init_encoder(m, cfg), cases,
            dict(inputs=names, outputs=["last_hidden_state", "logits"], dynamic=seq_axes))


# name -> (builder, opset, keep_bn). Opsets: 13 throughout, but ResNeXt at 11
# (an older CNN opset) and RoBERTa at 17, where torch 1.13 writes
# LayerNormalization as one op (BERT at 13 has it decomposed into
# ReduceMean/Sub/Pow/Sqrt/Div). torch folds eval-mode BatchNorm into the
# preceding Conv; DUC is exported with TrainingMode.PRESERVE so that one model
# keeps its BatchNormalization nodes (inference form, one output).
CATALOGUE = {
    "resnet": (build_resnet, 13, False),
    "resnext": (build_resnext, 11, False),
    "fcn": (build_fcn, 13, False),
    "duc": (build_duc, 13, True),
    "bert": (lambda size, gen: build_encoder(size, gen, roberta=False), 13, False),
    "roberta": (lambda size, gen: build_encoder(size, gen, roberta=True), 17, False),
}

PUBLISHED_PARAMS = {  # --size full, for the report (millions)
    "resnet": "25.6 (ResNet-50)",
    "resnext": "25.0 (ResNeXt-50 32x4d)",
    "fcn": "33.0 (FCN-ResNet50 without aux head; torchvision's 35.3 includes it)",
    "duc": "(ResNet-50 dilated + DUC head)",
    "bert": "109.5 (bert-base + 2-label head)",
    "roberta": "124.6 (roberta-base with pooler + 2-label head)",
}


def op_census(model_proto):
    census = {}
    for node in model_proto.graph.node:
        key = node.op_type if node.domain in ("", "ai.onnx") else node.domain + "." + node.op_type
        census[key] = census.get(key, 0) + 1
    return dict(sorted(census.items()))


def write_atomic(path, text):
    with open(path + ".tmp", "w") as fp:
        fp.write(text)
    os.replace(path + ".tmp", path)


def save_npy(path, tensor):
    np.save(path, np.ascontiguousarray(tensor.detach().cpu().numpy()))


def export_one(name, size, out_dir, manifest):
    builder, opset, keep_bn = CATALOGUE[name]
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED + 1)
    model, init, cases, io = builder(size, gen)
    init(model)
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())
    onnx_path = os.path.join(out_dir, name + ".onnx")
    args = tuple(cases[0][n] for n in io["inputs"])
    t0 = time.time()
    with torch.no_grad():
        torch.onnx.export(model, args, onnx_path, input_names=io["inputs"],
                          output_names=io["outputs"], dynamic_axes=io["dynamic"] or None,
                          opset_version=opset, do_constant_folding=True,
                          training=(torch.onnx.TrainingMode.PRESERVE if keep_bn
                                    else torch.onnx.TrainingMode.EVAL))
    t_export = time.time() - t0
    onnx.checker.check_model(onnx_path)
    proto = onnx.load(onnx_path, load_external_data=False)
    census = op_census(proto)

    desc = {"version": 1, "model": name, "size": size, "onnx": name + ".onnx", "opset": opset,
            "parameters": n_params, "batchnorm_folded": not keep_bn,
            "inputs": io["inputs"], "outputs": io["outputs"],
            "tolerance": "max|ours - torch| <= 1e-4 * max|torch|", "ops": census, "cases": []}
    for k, case in enumerate(cases):
        prefix = name if k == 0 else "%s.case%d" % (name, k)
        with torch.no_grad():
            outs = model(*(case[n] for n in io["inputs"]))
        if not isinstance(outs, (tuple, list)):
            outs = (outs,)
        entry = {"name": "case%d" % k, "inputs": {}, "outputs": {}}
        for n in io["inputs"]:
            f = "%s.input_%s.npy" % (prefix, n)
            save_npy(os.path.join(out_dir, f), case[n])
            entry["inputs"][n] = f
            manifest.append((name, entry["name"], "input", n, f))
        for n, t in zip(io["outputs"], outs):
            f = "%s.output_%s.npy" % (prefix, n)
            save_npy(os.path.join(out_dir, f), t)
            entry["outputs"][n] = f
            entry.setdefault("shapes", {})[n] = list(t.shape)
            manifest.append((name, entry["name"], "output", n, f))
        desc["cases"].append(entry)
    # <model>.tsv, "case kind name file" a line, for the shell suite; the
    # .json is written last, so its presence marks a complete export.
    write_atomic(os.path.join(out_dir, name + ".tsv"),
                 "".join("\t".join(row[1:]) + "\n" for row in manifest if row[0] == name))
    tmp = os.path.join(out_dir, name + ".json.tmp")
    with open(tmp, "w") as fp:
        json.dump(desc, fp, indent=1)
        fp.write("\n")
    os.replace(tmp, os.path.join(out_dir, name + ".json"))
    size_mb = os.path.getsize(onnx_path) / 1e6
    print("exported %-8s opset %d  %.2fM params  %.1f MB  %d case(s)  %.1fs" %
          (name, opset, n_params / 1e6, size_mb, len(cases), t_export))
    if size == "full":
        print("  published: %s" % PUBLISHED_PARAMS[name])
    print("  ops: " + ", ".join("%s x%d" % kv for kv in census.items()))
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--size", choices=["small", "full"], default="small")
    ap.add_argument("--models", default=",".join(CATALOGUE),
                    help="comma-separated subset of: " + ",".join(CATALOGUE))
    opts = ap.parse_args()
    names = [m for m in opts.models.split(",") if m]
    unknown = [m for m in names if m not in CATALOGUE]
    if unknown:
        ap.error("unknown model(s): %s (known: %s)" % (",".join(unknown), ",".join(CATALOGUE)))
    os.makedirs(opts.out, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    manifest = []
    for name in names:
        export_one(name, opts.size, opts.out, manifest)
    write_atomic(os.path.join(opts.out, "manifest.tsv"),
                 "".join("\t".join(row) + "\n" for row in manifest))


if __name__ == "__main__":
    main()
