#!/usr/bin/python3
"""Exports the benchmark models (random weights) from PyTorch to ONNX, plus
one fixed input set per benchmark case as .npy, so that mecbench and ONNX
Runtime time the same file on the same bytes.

    /usr/bin/python3 bench/export_bench_models.py --out DIR [--models a,b,...]

The networks come from tests/interop/export_models.py (its CATALOGUE: the
builders, opsets and BatchNorm handling), imported, not copied, so the
benchmark times what the interop suite checks. Only the shapes differ: the
interop suite uses small test shapes, the benchmark uses the deployment ones:

    resnet   ResNet-50, 1x3x224x224
    resnext  ResNeXt-50 32x4d, 1x3x224x224
    fcn      FCN-ResNet50, dynamic H x W; cases fcn224 and fcn512
    duc      dilated ResNet-50 + DUC head (DepthToSpace), static 1x3x512x512
    bert     BERT-base, batch 1, sequence 128 (input_ids, attention_mask,
             token_type_ids)
    roberta  RoBERTa-base, batch 1, sequence 128 (input_ids, attention_mask)

Writes DIR/<model>.onnx, DIR/<case>.input_<name>.npy and DIR/cases.tsv
("case<TAB>model file<TAB>name=file,name=file..."), one line per benchmark
case, for bench/run.sh. A model whose files exist is not exported again
(run.sh keys DIR by a hash of the exporters, so a stale file is never used).
"""

import argparse
import importlib.util
import os
import sys
import time
import warnings

import numpy as np
import onnx
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
INTEROP = os.path.join(HERE, "..", "tests", "interop", "export_models.py")
warnings.filterwarnings("ignore", category=UserWarning)


def load_interop():
    spec = importlib.util.spec_from_file_location("interop_export_models", INTEROP)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# model -> list of (case name, {input name: shape}); token inputs are made by
# the interop module's token_inputs (valid ids, no padding at batch 1).
CASES = {
    "resnet": [("resnet", {"image": (1, 3, 224, 224)})],
    "resnext": [("resnext", {"image": (1, 3, 224, 224)})],
    "fcn": [("fcn224", {"image": (1, 3, 224, 224)}), ("fcn512", {"image": (1, 3, 512, 512)})],
    "duc": [("duc", {"image": (1, 3, 512, 512)})],
    "bert": [("bert", {"tokens": (1, 128)})],
    "roberta": [("roberta", {"tokens": (1, 128)})],
}


def case_inputs(mi, model, shapes, gen):
    if "tokens" not in shapes:
        return {n: torch.randn(*s, generator=gen) for n, s in shapes.items()}
    roberta = model == "roberta"
    cfg = mi.encoder_cfg("full", roberta)
    batch, seq = shapes["tokens"]
    ids, mask = mi.token_inputs(gen, cfg, batch, seq, roberta)
    feeds = {"input_ids": ids, "attention_mask": mask}
    if not roberta:
        tt = torch.zeros(batch, seq, dtype=torch.long)
        tt[:, seq // 2:] = 1
        feeds["token_type_ids"] = tt
    return feeds


def export_model(mi, model, out_dir):
    builder, opset, keep_bn = mi.CATALOGUE[model]
    torch.manual_seed(mi.SEED)
    gen = torch.Generator().manual_seed(mi.SEED + 1)
    net, init, _, io = builder("full", gen)
    init(net)
    net.eval()
    cases = []
    for case, shapes in CASES[model]:
        feeds = case_inputs(mi, model, shapes, gen)
        files = []
        for name in io["inputs"]:
            f = "%s.input_%s.npy" % (case, name)
            np.save(os.path.join(out_dir, f), np.ascontiguousarray(feeds[name].numpy()))
            files.append("%s=%s" % (name, f))
        cases.append((case, feeds, files))
    onnx_path = os.path.join(out_dir, model + ".onnx")
    if not os.path.exists(onnx_path):
        # Export with the first case's shapes; DUC has no dynamic axes in the
        # catalogue, so it is exported (static) at the benchmark's 512x512.
        first = cases[0][1]
        t0 = time.time()
        tmp = onnx_path + ".tmp.onnx"
        with torch.no_grad():
            torch.onnx.export(net, tuple(first[n] for n in io["inputs"]), tmp,
                              input_names=io["inputs"], output_names=io["outputs"],
                              dynamic_axes=io["dynamic"] or None, opset_version=opset,
                              do_constant_folding=True,
                              training=(torch.onnx.TrainingMode.PRESERVE if keep_bn
                                        else torch.onnx.TrainingMode.EVAL))
        onnx.checker.check_model(tmp)
        os.replace(tmp, onnx_path)
        print("exported %-8s opset %d  %.1f MB  %.1fs" %
              (model, opset, os.path.getsize(onnx_path) / 1e6, time.time() - t0))
        sys.stdout.flush()
    return [(case, model + ".onnx", files) for case, _, files in cases]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--models", default=",".join(CASES),
                    help="comma-separated subset of: " + ",".join(CASES))
    opts = ap.parse_args()
    names = [m for m in opts.models.split(",") if m]
    unknown = [m for m in names if m not in CASES]
    if unknown:
        ap.error("unknown model(s): %s (known: %s)" % (",".join(unknown), ",".join(CASES)))
    mi = load_interop()
    missing = [m for m in names if m not in getattr(mi, "CATALOGUE", {})]
    if missing:
        sys.exit("export_bench_models.py: %s has no model(s) %s" % (INTEROP, ",".join(missing)))
    os.makedirs(opts.out, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    rows = []
    for m in names:
        rows += export_model(mi, m, opts.out)
    # Merge with cases already listed (a previous run with another subset).
    tsv = os.path.join(opts.out, "cases.tsv")
    known = {}
    if os.path.exists(tsv):
        with open(tsv) as fp:
            for line in fp:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 3:
                    known[parts[0]] = parts
    for case, f, files in rows:
        known[case] = [case, f, ",".join(files)]
    with open(tsv + ".tmp", "w") as fp:
        fp.write("".join("\t".join(v) + "\n" for v in known.values()))
    os.replace(tsv + ".tmp", tsv)


if __name__ == "__main__":
    main()
