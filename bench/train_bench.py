#!/usr/bin/env python3
"""Training-step throughput of PyTorch on the same small models as mecbench's
zoo presets resnet-small (ResNet-10, basic blocks 16-128, 3x3 stem + max-pool,
1x28x28, 10 classes; SGD momentum 0.9 Nesterov, weight decay 5e-4) and
bert-small (2 layers, hidden 128, 4 heads, FFN 512, vocab 4000, 8 labels;
AdamW, weight decay 0.01, clip 1.0), with a fixed random batch so that only
the step is timed: zero grads, forward, cross-entropy, backward, (clip),
optimiser update. Prints one JSON object per model:
  {"engine": "pytorch", "model", "batch", "threads", "steps", "samples_per_s", "ms_per_step"}
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        o = F.relu(self.bn1(self.conv1(x)))
        o = self.bn2(self.conv2(o))
        return F.relu(o + (self.down(x) if self.down is not None else x))


class ResNetSmall(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        widths = [16, 32, 64, 128]
        blocks, cin = [], 16
        for i, w in enumerate(widths):
            blocks.append(Basic(cin, w, 1 if i == 0 else 2))
            cin = w
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(128, classes)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        h = self.layers(h)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


class Layer(nn.Module):
    def __init__(self, hidden, heads, inter):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v = (nn.Linear(hidden, hidden) for _ in range(3))
        self.o = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden, eps=1e-12)
        self.ff1 = nn.Linear(hidden, inter)
        self.ff2 = nn.Linear(inter, hidden)
        self.ln2 = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, h, madd):
        N, S, H = h.shape
        q, k, v = (m(h).view(N, S, self.heads, -1).transpose(1, 2) for m in (self.q, self.k, self.v))
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + madd, -1) @ v
        a = a.transpose(1, 2).reshape(N, S, H)
        h = self.ln1(self.o(a) + h)
        return self.ln2(self.ff2(F.gelu(self.ff1(h))) + h)


class BertSmall(nn.Module):
    def __init__(self, vocab=4000, hidden=128, layers=2, heads=4, inter=512, positions=128, labels=8):
        super().__init__()
        self.word = nn.Embedding(vocab, hidden)
        self.pos = nn.Embedding(positions, hidden)
        self.token_type = nn.Embedding(2, hidden)
        self.ln = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList(Layer(hidden, heads, inter) for _ in range(layers))
        self.pool = nn.Linear(hidden, hidden)
        self.cls = nn.Linear(hidden, labels)

    def forward(self, ids, mask):
        S = ids.shape[1]
        h = self.ln((self.word(ids) + self.pos.weight[:S] + self.token_type.weight[0]))
        madd = (1.0 - mask[:, None, None, :].float()) * -10000.0
        for layer in self.layers:
            h = layer(h, madd)
        return self.cls(torch.tanh(self.pool(h[:, 0])))


def bench(name, model, inputs, labels, opt, clip, steps, warmup):
    model.train()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(*inputs), labels)
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    dt = time.perf_counter() - t0
    n = labels.shape[0]
    return {"engine": "pytorch", "model": name, "batch": n, "threads": torch.get_num_threads(),
            "steps": steps, "samples_per_s": n * steps / dt, "ms_per_step": 1000 * dt / steps,
            "torch": torch.__version__}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="resnet,bert")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-resnet", type=int, default=128)
    ap.add_argument("--batch-bert", type=int, default=32)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    for m in a.models.split(","):
        if m == "resnet":
            net = ResNetSmall()
            x = torch.randn(a.batch_resnet, 1, 28, 28)
            y = torch.randint(0, 10, (a.batch_resnet,))
            opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
            r = bench("resnet-small", net, (x,), y, opt, 0.0, a.steps, a.warmup)
        elif m == "bert":
            net = BertSmall()
            ids = torch.randint(5, 4000, (a.batch_bert, a.seq))
            mask = torch.ones(a.batch_bert, a.seq, dtype=torch.int64)
            y = torch.randint(0, 8, (a.batch_bert,))
            opt = torch.optim.AdamW(net.parameters(), lr=5e-4, weight_decay=0.01)
            r = bench("bert-small", net, (ids, mask), y, opt, 1.0, a.steps, a.warmup)
        else:
            sys.exit("train_bench.py: unknown model '%s' (resnet, bert)" % m)
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
