"""Rewrites a float BERT/RoBERTa (bench/export_bench_models.py) into QDQ
form: every MatMul with a constant (K, N) weight becomes

    DQ(Q(x)) @ DQ(W int8, symmetric, per column) → Add(bias) → Q → DQ

(uint8 asymmetric activations; the attention products, LayerNorms, GELU and
the pooler/classifier Gemms stay float). Activation ranges are the min/max
of one run of the float model on the bench inputs, taken with mecbench
itself (`infer --output`; there is no onnxruntime Python package here).
mecbench's QDQ pass turns each linear layer into mec.QMatMul with the bias
folded in (docs/int8.md).

usage: make_qdq_bert.py MECBENCH FLOAT.onnx OUT.onnx NAME=INPUT.npy ..."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto as TP
from onnx import helper, numpy_helper

MAX_OUTPUTS = 60  # mecbench infer writes at most 64 outputs per run


def linears(g):
    """(MatMul, its Add or None) for every MatMul with a constant 2-D weight."""
    dims = {i.name: list(i.dims) for i in g.initializer}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    out = []
    for n in g.node:
        if n.op_type == "MatMul" and len(dims.get(n.input[1], [])) == 2:
            c = consumers.get(n.output[0], [])
            out.append((n, c[0] if len(c) == 1 and c[0].op_type == "Add" else None))
    return out


def calibrate(mecbench, src, values, inputs, tmp):
    """min/max of each value over one run of the float model."""
    ranges = {}
    for start in range(0, len(values), MAX_OUTPUTS):
        m = onnx.load(src)
        del m.graph.output[:]
        part = values[start:start + MAX_OUTPUTS]
        for i, v in enumerate(part):
            m.graph.node.append(helper.make_node("Identity", [v], [f"cal_{i}"]))
            m.graph.output.append(helper.make_tensor_value_info(f"cal_{i}", TP.FLOAT, None))
        path = os.path.join(tmp, "calib.onnx")
        onnx.save(m, path)
        cmd = [mecbench, "infer", path, "--no-optimize", "--output-dir", tmp]
        for a in inputs:
            cmd += ["--input", a]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        for i, v in enumerate(part):
            a = np.load(os.path.join(tmp, f"cal_{i}.npy"))
            ranges[v] = (float(a.min()), float(a.max()))
    return ranges


def u8_params(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    s = (hi - lo) / 255.0 or 1.0
    return np.float32(s), np.uint8(int(round(-lo / s)))


def toposort(g):
    known = {i.name for i in g.input} | {i.name for i in g.initializer} | {""}
    order, pending = [], list(g.node)
    while pending:
        rest = []
        for n in pending:
            if all(i in known for i in n.input):
                order.append(n)
                known.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            raise SystemExit("make_qdq_bert.py: the graph has a cycle")
        pending = rest
    del g.node[:]
    g.node.extend(order)


def main():
    if len(sys.argv) < 5:
        raise SystemExit(__doc__)
    mecbench, src, dst, inputs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    m = onnx.load(src)
    lin = linears(m.graph)
    values = list(dict.fromkeys(v for n, add in lin for v in (n.input[0], (add or n).output[0])))
    with tempfile.TemporaryDirectory() as tmp:
        ranges = calibrate(mecbench, src, values, inputs, tmp)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    nodes, new_inits, dq_of = [], [], {}

    def qdq(src_name, dst_name, lo_hi, base):
        s, z = u8_params(*lo_hi)
        new_inits.extend([numpy_helper.from_array(np.array(s, np.float32), base + "_s"),
                          numpy_helper.from_array(np.array(z, np.uint8), base + "_z")])
        nodes.append(helper.make_node("QuantizeLinear", [src_name, base + "_s", base + "_z"], [base + "_q"]))
        nodes.append(helper.make_node("DequantizeLinear", [base + "_q", base + "_s", base + "_z"], [dst_name]))

    for n, add in lin:
        x = n.input[0]
        if x not in dq_of:
            dq_of[x] = x + "_dq"
            qdq(x, dq_of[x], ranges[x], x.replace("/", "_").strip("_") + "_in")
        w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
        ws = (np.maximum(np.abs(w).max(axis=0), 1e-8) / 127.0).astype(np.float32)
        wq = np.clip(np.round(w / ws), -127, 127).astype(np.int8)
        wn = n.input[1] + "_int8"
        new_inits.extend([numpy_helper.from_array(wq, wn), numpy_helper.from_array(ws, wn + "_s"),
                          numpy_helper.from_array(np.zeros(ws.shape, np.int8), wn + "_z")])
        nodes.append(helper.make_node("DequantizeLinear", [wn, wn + "_s", wn + "_z"], [wn + "_dq"], axis=1))
        n.input[0] = dq_of[x]
        n.input[1] = wn + "_dq"
        # the layer's output goes through Q → DQ under its old name
        last = add or n
        y = last.output[0]
        last.output[0] = y + "_float"
        qdq(y + "_float", y, ranges[y], y.replace("/", "_").strip("_") + "_out")
    g.node.extend(nodes)
    g.initializer.extend(new_inits)
    used = {i for n in g.node for i in n.input}
    kept = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(kept)
    toposort(g)
    onnx.save(m, dst)
    print(f"{dst}: {len(lin)} linear layers in QDQ form")


if __name__ == "__main__":
    main()
