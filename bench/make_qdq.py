#!/usr/bin/python3
"""Builds a QDQ (QuantizeLinear/DequantizeLinear) int8 model from a float
ResNet-style ONNX model, for the int8 rows of `make bench`.

    /usr/bin/python3 bench/make_qdq.py IN.onnx OUT.onnx [--calib N] [--seed S]

What it writes is the "QDQ format" that ONNX Runtime's quantizer produces and
its QDQ fusions turn into QLinearConv etc.:

  * every Conv weight is stored as int8, symmetric, per output channel
    (zero point 0, range [-127, 127]) behind a DequantizeLinear (axis 0);
  * every Conv bias is stored as int32 with scale x_scale * w_scale[c];
  * every activation that feeds a Conv, and every Conv output (or, where the
    Conv's only consumer is a Relu, that Relu's output), goes through a
    QuantizeLinear -> DequantizeLinear pair: uint8, asymmetric, scale and
    zero point from the min/max seen over --calib random N(0,1) inputs.

So the residual Adds and the MaxPool sit between QDQ pairs too; the final
GlobalAveragePool and Gemm stay float. Calibration runs the float model in a
small numpy evaluator (onnxruntime's Python package is not available here);
it knows the ops of a torch-exported ResNet (Conv, Relu, MaxPool, Add,
GlobalAveragePool, Flatten, Gemm) and refuses anything else.
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper


def attrs(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def pads_of(a, nd=2):
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise ValueError("auto_pad is not supported")
    return list(a.get("pads", [0] * (2 * nd)))


def conv(x, w, b, a):
    # x: (N, C, H, W), w: (M, C/group, kh, kw)
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    pt, pl, pb, pr = pads_of(a)
    group = a.get("group", 1)
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    ho = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, m, ho * wo), np.float32)
    mg = m // group
    for g in range(group):
        xs = xp[:, g * cg:(g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dh:i * dh + sh * (ho - 1) + 1:sh, j * dw:j * dw + sw * (wo - 1) + 1:sw]
                out[:, g * mg:(g + 1) * mg] += np.matmul(w[g * mg:(g + 1) * mg, :, i, j],
                                                         patch.reshape(n, cg, ho * wo))
    out = out.reshape(n, m, ho, wo)
    if b is not None:
        out += b.reshape(1, m, 1, 1)
    return out


def maxpool(x, a):
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    pt, pl, pb, pr = pads_of(a)
    if a.get("ceil_mode", 0) or a.get("dilations", [1, 1]) != [1, 1]:
        raise ValueError("MaxPool with ceil_mode or dilations is not supported")
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=-np.inf)
    ho = (h + pt + pb - kh) // sh + 1
    wo = (w + pl + pr - kw) // sw + 1
    out = np.full((n, c, ho, wo), -np.inf, np.float32)
    for i in range(kh):
        for j in range(kw):
            np.maximum(out, xp[:, :, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw], out=out)
    return out


def gemm(x, w, b, a):
    if a.get("transA", 0):
        x = x.T
    if a.get("transB", 0):
        w = w.T
    y = a.get("alpha", 1.0) * (x @ w)
    if b is not None:
        y = y + a.get("beta", 1.0) * b
    return y.astype(np.float32)


def run_float(graph, inits, feeds, ranges):
    """Runs the graph; widens ranges[name] = [min, max] for every tensor."""
    env = dict(inits)
    env.update(feeds)
    for node in graph.node:
        a = attrs(node)
        ins = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Conv":
            y = conv(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "MaxPool":
            y = maxpool(ins[0], a)
        elif op == "Add":
            y = ins[0] + ins[1]
        elif op == "GlobalAveragePool":
            y = ins[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Flatten":
            axis = a.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:axis])), -1)
        elif op == "Gemm":
            y = gemm(ins[0], ins[1], ins[2] if len(ins) > 2 else None, a)
        else:
            raise ValueError("node '%s': op %s is not supported by the calibration evaluator"
                             % (node.name, op))
        env[node.output[0]] = y
        lo, hi = float(y.min()), float(y.max())
        r = ranges.setdefault(node.output[0], [lo, hi])
        r[0], r[1] = min(r[0], lo), max(r[1], hi)
    for name, x in feeds.items():
        r = ranges.setdefault(name, [float(x.min()), float(x.max())])
        r[0], r[1] = min(r[0], float(x.min())), max(r[1], float(x.max()))


def uint8_params(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    zp = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--calib", type=int, default=4, help="random calibration inputs (default 4)")
    ap.add_argument("--seed", type=int, default=7)
    opts = ap.parse_args()

    model = onnx.load(opts.input)
    g = model.graph
    opset = max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset < 13:
        sys.exit("make_qdq.py: %s: opset %d, per-channel DequantizeLinear needs >= 13" % (opts.input, opset))
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    graph_inputs = [i for i in g.input if i.name not in inits]
    rng = np.random.default_rng(opts.seed)
    ranges = {}
    for _ in range(opts.calib):
        feeds = {}
        for i in graph_inputs:
            dims = [d.dim_value if d.dim_value > 0 else 1 for d in i.type.tensor_type.shape.dim]
            feeds[i.name] = rng.standard_normal(dims).astype(np.float32)
        run_float(g, inits, feeds, ranges)

    consumers = {}
    for node in g.node:
        for k, name in enumerate(node.input):
            consumers.setdefault(name, []).append((node, k))
    # Activations to quantize: Conv data inputs, Conv outputs (after a sole Relu).
    act = []
    for node in g.node:
        if node.op_type != "Conv":
            continue
        act.append(node.input[0])
        out = node.output[0]
        users = consumers.get(out, [])
        if len(users) == 1 and users[0][0].op_type == "Relu":
            out = users[0][0].output[0]
        act.append(out)
    graph_outputs = {o.name for o in g.output}
    act = [t for t in dict.fromkeys(act) if t not in graph_outputs]

    new_inits, qparams = [], {}
    for t in act:
        scale, zp = uint8_params(*ranges[t])
        qparams[t] = scale
        new_inits += [numpy_helper.from_array(np.array(scale, np.float32), t + "_scale"),
                      numpy_helper.from_array(np.array(zp, np.uint8), t + "_zero_point")]

    def qdq_nodes(t):
        return [helper.make_node("QuantizeLinear", [t, t + "_scale", t + "_zero_point"], [t + "_q"],
                                 name=t + "_QuantizeLinear"),
                helper.make_node("DequantizeLinear", [t + "_q", t + "_scale", t + "_zero_point"],
                                 [t + "_dq"], name=t + "_DequantizeLinear")]

    nodes = []
    for t in act:  # graph inputs first
        if t in {i.name for i in graph_inputs}:
            nodes += qdq_nodes(t)
    dropped = set()
    for node in g.node:
        new_in = [i + "_dq" if i in qparams else i for i in node.input]
        if node.op_type == "Conv":
            w_name, w = node.input[1], inits[node.input[1]]
            w_scale = (np.abs(w).reshape(w.shape[0], -1).max(axis=1) / 127.0).astype(np.float32)
            w_scale[w_scale == 0] = 1.0
            w_q = np.clip(np.round(w / w_scale.reshape(-1, 1, 1, 1)), -127, 127).astype(np.int8)
            new_inits += [numpy_helper.from_array(w_q, w_name + "_quantized"),
                          numpy_helper.from_array(w_scale, w_name + "_scale"),
                          numpy_helper.from_array(np.zeros(w.shape[0], np.int8), w_name + "_zero_point")]
            nodes.append(helper.make_node("DequantizeLinear",
                                          [w_name + "_quantized", w_name + "_scale", w_name + "_zero_point"],
                                          [w_name + "_dq"], name=w_name + "_DequantizeLinear", axis=0))
            new_in[1] = w_name + "_dq"
            dropped.add(w_name)
            if len(node.input) > 2 and node.input[2]:
                b_name, b = node.input[2], inits[node.input[2]]
                b_scale = (qparams[node.input[0]] * w_scale).astype(np.float32)
                b_q = np.round(b / b_scale).astype(np.int32)
                new_inits += [numpy_helper.from_array(b_q, b_name + "_quantized"),
                              numpy_helper.from_array(b_scale, b_name + "_scale"),
                              numpy_helper.from_array(np.zeros(b.shape[0], np.int32), b_name + "_zero_point")]
                nodes.append(helper.make_node("DequantizeLinear",
                                              [b_name + "_quantized", b_name + "_scale", b_name + "_zero_point"],
                                              [b_name + "_dq"], name=b_name + "_DequantizeLinear", axis=0))
                new_in[2] = b_name + "_dq"
                dropped.add(b_name)
        del node.input[:]
        node.input.extend(new_in)
        nodes.append(node)
        for o in node.output:
            if o in qparams:
                nodes += qdq_nodes(o)

    kept = [t for t in g.initializer if t.name not in dropped]
    del g.initializer[:]
    g.initializer.extend(kept + new_inits)
    del g.node[:]
    g.node.extend(nodes)
    g.name = (g.name or "model") + "_qdq"
    onnx.checker.check_model(model)
    tmp = opts.output + ".tmp.onnx"
    onnx.save(model, tmp)
    os.replace(tmp, opts.output)
    n_conv = sum(1 for n in nodes if n.op_type == "Conv")
    print("wrote %s: %d Convs, %d activation QDQ pairs, %.1f MB (calibration: %d random inputs)"
          % (opts.output, n_conv, len(act), os.path.getsize(opts.output) / 1e6, opts.calib))


if __name__ == "__main__":
    main()
