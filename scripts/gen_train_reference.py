#!/usr/bin/python3
"""Generates the PyTorch reference values for tests/unit/test_train.c, once.

Two tiny models, written out op by op so that the C test can build the very
same ONNX graph with the builder API:
  cnn          Conv(3->8, pad 1) - BN - Relu - Conv(8->8, group 2, stride 2,
               pad 1) - BN - Relu - GlobalAveragePool - Flatten - Gemm(10)
  transformer  token + position embeddings - LayerNorm - 2-head self-attention
               - residual - LayerNorm - MatMul/GELU(erf)/MatMul - residual -
               LayerNorm - first token - Gemm(3)
No bias feeds a BatchNorm or the attention keys: those biases have an exactly
zero gradient, which AdamW's normalisation turns into sign-of-rounding-noise
updates that no two implementations share.
For each, two optimiser steps on the same batch with SGD (momentum 0.9,
weight decay 1e-4) and with AdamW (weight decay 0.01), cross-entropy with
label smoothing 0.1. Written: the batch, the initial parameters, the loss of
each step, the parameters (and BN running statistics) after two steps.

Format (text, one tensor per record):  name ndim d0 .. dk NEWLINE values NEWLINE
Run with Debian's python3 (torch 1.13):  /usr/bin/python3 scripts/gen_train_reference.py
"""
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_default_dtype(torch.float32)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "train")
SMOOTH = 0.1


def write(f, name, t):
    t = t.detach().contiguous()
    dims = " ".join(str(d) for d in t.shape)
    f.write(f"{name} {t.dim()} {dims}".rstrip() + "\n")
    vals = t.reshape(-1).tolist()
    f.write(" ".join(repr(float(v)) if t.is_floating_point() else str(int(v)) for v in vals) + "\n")


# ---------------------------------------------------------------------- cnn

def cnn_params():
    g = torch.Generator().manual_seed(1)
    r = lambda *s, scale=0.3: (torch.rand(*s, generator=g) * 2 - 1) * scale
    return {
        "conv1.w": r(8, 3, 3, 3, scale=0.4),
        "bn1.scale": 1 + r(8, scale=0.2), "bn1.bias": r(8, scale=0.1),
        "bn1.mean": r(8, scale=0.1), "bn1.var": 1 + r(8, scale=0.2),
        "conv2.w": r(8, 4, 3, 3, scale=0.3),
        "bn2.scale": 1 + r(8, scale=0.2), "bn2.bias": r(8, scale=0.1),
        "bn2.mean": r(8, scale=0.1), "bn2.var": 1 + r(8, scale=0.2),
        "fc.w": r(10, 8, scale=0.5), "fc.b": r(10, scale=0.1),
    }


BUFFERS = {"bn1.mean", "bn1.var", "bn2.mean", "bn2.var"}


def cnn_forward(p, x):
    y = F.conv2d(x, p["conv1.w"], None, padding=1)
    y = F.batch_norm(y, p["bn1.mean"], p["bn1.var"], p["bn1.scale"], p["bn1.bias"], True, 0.1, 1e-5)
    y = F.relu(y)
    y = F.conv2d(y, p["conv2.w"], None, stride=2, padding=1, groups=2)
    y = F.batch_norm(y, p["bn2.mean"], p["bn2.var"], p["bn2.scale"], p["bn2.bias"], True, 0.1, 1e-5)
    y = F.relu(y)
    y = y.mean(dim=(2, 3))
    return y @ p["fc.w"].t() + p["fc.b"]


# -------------------------------------------------------------- transformer

V, S, D, H, FF, C = 16, 5, 8, 2, 16, 3


def tf_params():
    g = torch.Generator().manual_seed(2)
    r = lambda *s, scale=0.3: (torch.rand(*s, generator=g) * 2 - 1) * scale
    p = {"tok": r(V, D, scale=1.0), "pos": r(S, D, scale=0.5),
         "ln0.s": 1 + r(D, scale=0.1), "ln0.b": r(D, scale=0.1)}
    for n in ("q", "k", "v", "o"):
        p[n + ".w"] = r(D, D, scale=0.5)
        if n != "k":
            p[n + ".b"] = r(D, scale=0.1)
    p.update({"ln1.s": 1 + r(D, scale=0.1), "ln1.b": r(D, scale=0.1),
              "ff1.w": r(D, FF, scale=0.5), "ff1.b": r(FF, scale=0.1),
              "ff2.w": r(FF, D, scale=0.5), "ff2.b": r(D, scale=0.1),
              "ln2.s": 1 + r(D, scale=0.1), "ln2.b": r(D, scale=0.1),
              "cls.w": r(C, D, scale=0.5), "cls.b": r(C, scale=0.1)})
    return p


def tf_forward(p, ids):
    B = ids.shape[0]
    x = p["tok"][ids] + p["pos"]
    x = F.layer_norm(x, (D,), p["ln0.s"], p["ln0.b"], 1e-5)
    heads = lambda t: t.reshape(B, S, H, D // H).permute(0, 2, 1, 3)
    q = heads(x @ p["q.w"] + p["q.b"])
    k = heads(x @ p["k.w"])
    v = heads(x @ p["v.w"] + p["v.b"])
    a = torch.softmax((q @ k.permute(0, 1, 3, 2)) * (1.0 / math.sqrt(D // H)), dim=-1)
    ctx = (a @ v).permute(0, 2, 1, 3).reshape(B, S, D)
    x = x + (ctx @ p["o.w"] + p["o.b"])
    x = F.layer_norm(x, (D,), p["ln1.s"], p["ln1.b"], 1e-5)
    h = x @ p["ff1.w"] + p["ff1.b"]
    h = 0.5 * h * (1.0 + torch.erf(h / math.sqrt(2.0)))
    x = x + (h @ p["ff2.w"] + p["ff2.b"])
    x = F.layer_norm(x, (D,), p["ln2.s"], p["ln2.b"], 1e-5)
    return x[:, 0, :] @ p["cls.w"].t() + p["cls.b"]


def run(name, params, forward, inputs, labels):
    with open(os.path.join(OUT, name + ".txt"), "w") as f:
        for k, t in inputs.items():
            write(f, "input." + k, t)
        write(f, "labels", labels)
        for k, t in params.items():
            write(f, "init." + k, t)
        for opt_name in ("sgd", "adamw"):
            p = {k: t.clone().requires_grad_(k not in BUFFERS) for k, t in params.items()}
            trainable = [t for k, t in p.items() if k not in BUFFERS]
            if opt_name == "sgd":
                opt = torch.optim.SGD(trainable, lr=0.1, momentum=0.9, weight_decay=1e-4)
            else:
                opt = torch.optim.AdamW(trainable, lr=0.01, weight_decay=0.01)
            for step in range(2):
                opt.zero_grad()
                logits = forward(p, *inputs.values())
                loss = F.cross_entropy(logits, labels, label_smoothing=SMOOTH)
                loss.backward()
                opt.step()
                write(f, f"{opt_name}.loss{step}", loss.detach().reshape(1))
            for k, t in p.items():
                write(f, f"{opt_name}.{k}", t)


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(4, 3, 8, 8, generator=g)
    y = torch.tensor([1, 7, 3, 1])
    run("cnn", cnn_params(), cnn_forward, {"x": x}, y)
    ids = torch.randint(0, V, (2, S), generator=g)
    run("transformer", tf_params(), tf_forward, {"ids": ids}, torch.tensor([2, 0]))


if __name__ == "__main__":
    main()
