#!/usr/bin/python3
"""Summarises the raw per-process results of bench/run.sh: for each case,
thread count and engine the median over rounds of p50, p90, load time and
peak RSS, and the ratio mecbench/ORT of the medians (no ratio without both).
Engine mecbench_direct is mecbench with --conv-algo direct (no Winograd), run
for the float conv cases only; it gets its own ratio to ORT.
Prints the table and writes OUT/latest.json and OUT/latest.md.
"""

import argparse
import datetime
import glob
import json
import os
import platform
import re
import statistics
import subprocess
import sys

ENGINES = ("mecbench", "mecbench_direct", "ort")
ENGINE_LABEL = {"mecbench": "mecbench", "mecbench_direct": "mecbench direct", "ort": "ORT"}
OPTIONAL = ("mecbench_direct",)  # engines a case may not have: no row then
METRICS = ("p50_ms", "p90_ms", "load_ms", "peak_rss_mb", "first_run_ms")
CASE_LABEL = {
    "resnet": "ResNet-50 224", "resnext": "ResNeXt-50 224", "fcn224": "FCN-ResNet50 224",
    "fcn512": "FCN-ResNet50 512", "duc": "DUC-ResNet50 512", "bert": "BERT-base s128",
    "roberta": "RoBERTa-base s128", "resnet_int8": "ResNet-50 224 int8 (QDQ)",
}


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        m = re.search(r"^Model name:\s*(.+)$", out, re.M)
        return m.group(1).strip() if m else platform.processor()
    except OSError:
        return platform.processor()


def row_ratio(row, engine):
    """The row's ratio to ORT for a mecbench engine (None for ORT itself)."""
    return {"mecbench": row["ratio_mecbench_over_ort"],
            "mecbench_direct": row["ratio_direct_over_ort"]}.get(engine)


def load_raw(raw):
    rows = {}  # (case, threads, engine) -> list of result dicts
    failed = {}
    name_re = re.compile(r"^(?P<case>.+)\.t(?P<t>\d+)\.(?P<engine>mecbench_direct|mecbench|ort)\.r(?P<r>\d+)\.(?P<kind>json|failed)$")
    for path in sorted(glob.glob(os.path.join(raw, "*"))):
        m = name_re.match(os.path.basename(path))
        if not m:
            continue
        key = (m["case"], int(m["t"]), m["engine"])
        if m["kind"] == "failed":
            failed[key] = failed.get(key, 0) + 1
            continue
        with open(path) as fp:
            res = json.load(fp)
        load_path = path[:-len(".json")] + ".load"
        if os.path.exists(load_path):
            with open(load_path) as fp:
                res["loadavg_1m"] = float(fp.read().split()[0])
        res["round"] = int(m["r"])
        rows.setdefault(key, []).append(res)
    return rows, failed


def fmt(x, nd=1):
    return "—" if x is None else ("%.*f" % (nd, x))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--start", default="")
    ap.add_argument("--mecbench", required=True)
    ap.add_argument("--peer-ok", type=int, default=0)
    ap.add_argument("--peer-why", default="")
    ap.add_argument("--torch", default="")
    ap.add_argument("--models-dir", default="")
    ap.add_argument("--rounds", type=int, default=0)
    ap.add_argument("--runs", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--cases", default="")
    ap.add_argument("--threads", default="")
    o = ap.parse_args()

    rows, failed = load_raw(o.raw)
    mec_version = subprocess.run([o.mecbench, "--version"], capture_output=True, text=True,
                                 check=False).stdout.strip()
    ort_version = None
    for (c, t, e), rs in rows.items():
        if e == "ort" and rs:
            ort_version = rs[0].get("version")
    cases = [c for c in o.cases.split(",") if c]
    threads = [int(t) for t in o.threads.split()]

    table = []
    loads = []
    for c in cases:
        for t in threads:
            med = {}
            for e in ENGINES:
                rs = rows.get((c, t, e), [])
                loads += [r["loadavg_1m"] for r in rs if "loadavg_1m" in r]
                if not rs:
                    med[e] = None
                    continue
                med[e] = {k: statistics.median(r[k] for r in rs) for k in METRICS}
                med[e]["p50_ms_min"] = min(r["p50_ms"] for r in rs)
                med[e]["p50_ms_max"] = max(r["p50_ms"] for r in rs)
                med[e]["rounds"] = len(rs)
                if e == "ort":
                    med[e]["base_rss_mb"] = statistics.median(r.get("base_rss_mb", 0) for r in rs)
            ratios = {}
            for e in ("mecbench", "mecbench_direct"):
                ratios[e] = None
                if med.get(e) and med.get("ort"):
                    ratios[e] = {k: med[e][k] / med["ort"][k] if med["ort"][k] else None
                                 for k in ("p50_ms", "p90_ms", "load_ms", "peak_rss_mb")}
            table.append({"case": c, "label": CASE_LABEL.get(c, c), "threads": t,
                          "mecbench": med.get("mecbench"), "mecbench_direct": med.get("mecbench_direct"),
                          "ort": med.get("ort"),
                          "failed": {e: failed.get((c, t, e), 0) for e in ENGINES},
                          "ratio_mecbench_over_ort": ratios["mecbench"],
                          "ratio_direct_over_ort": ratios["mecbench_direct"]})

    training = []
    for path in sorted(glob.glob(os.path.join(o.raw, "training.*.json"))):
        with open(path) as fp:
            training.append(json.load(fp))

    meta = {
        "date": o.start or datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": cpu_model(), "cores": os.cpu_count(),
        "loadavg_1m_median": statistics.median(loads) if loads else None,
        "mecbench": mec_version, "onnxruntime_node": ort_version, "torch": o.torch,
        "node": subprocess.run(["node", "--version"], capture_output=True, text=True,
                               check=False).stdout.strip() if o.peer_ok else None,
        "peer": "ok" if o.peer_ok else "MISSING: " + o.peer_why,
        "rounds": o.rounds, "runs": o.runs, "warmup": o.warmup, "threads": threads,
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "(unset)"),
        "models_dir": o.models_dir,
    }
    os.makedirs(o.out, exist_ok=True)
    with open(os.path.join(o.out, "latest.json.tmp"), "w") as fp:
        json.dump({"meta": meta, "inference": table,
                   "training": {"status": "planned (PyTorch peer)" if not training else "measured",
                                "rows": training}}, fp, indent=1)
        fp.write("\n")
    os.replace(os.path.join(o.out, "latest.json.tmp"), os.path.join(o.out, "latest.json"))

    head = ("| model | threads | engine | p50 ms (min–max) | p90 ms | load ms | peak RSS MiB "
            "| p50 ratio mecbench/ORT |")
    md = ["# mecbench vs ONNX Runtime — %s" % meta["date"], "",
          "%s, %s cores (median 1-min load average during the run: %s); %s; onnxruntime-node %s; "
          "torch %s (exporter). Medians over %d interleaved round(s) of %d timed runs (+%d warm-up) "
          "each; every round is a fresh process per engine. OMP_WAIT_POLICY=%s."
          % (meta["cpu"], meta["cores"], fmt(meta["loadavg_1m_median"], 2), mec_version,
             ort_version or "—", o.torch, o.rounds, o.runs, o.warmup, meta["OMP_WAIT_POLICY"]), ""]
    if not o.peer_ok:
        md += ["**Peer missing: %s — mecbench alone, no ratios.**" % o.peer_why, ""]
    md += [head, "|" + "---|" * 8]
    for row in table:
        for e in ENGINES:
            m = row[e]
            ratio = row_ratio(row, e)
            if m is None and e in OPTIONAL and not row["failed"][e]:
                continue
            if m is None:
                cells = ["not run" if not row["failed"][e] else "FAILED"] + ["—"] * 3
            else:
                cells = ["%s (%s–%s)" % (fmt(m["p50_ms"], 2), fmt(m["p50_ms_min"], 2), fmt(m["p50_ms_max"], 2)),
                         fmt(m["p90_ms"], 2), fmt(m["load_ms"], 0), fmt(m["peak_rss_mb"], 0)]
            r = ("%.2f" % ratio["p50_ms"]) if (ratio and ratio["p50_ms"]) else ""
            md.append("| %s | %d | %s | %s | %s |" % (row["label"], row["threads"], ENGINE_LABEL[e],
                                                      " | ".join(cells), r))
    md += ["", "ORT's peak RSS includes node itself (about %s MiB before the model is loaded)."
           % fmt(statistics.median([r["ort"]["base_rss_mb"] for r in table if r["ort"]] or [0]), 0), "",
           "## Training throughput", ""]
    if training:
        md += ["| " + " | ".join(sorted(training[0])) + " |", "|" + "---|" * len(training[0])]
        md += ["| " + " | ".join(str(r.get(k, "")) for k in sorted(training[0])) + " |" for r in training]
    else:
        md += ["Planned (PyTorch peer): not measured by this run."]
    with open(os.path.join(o.out, "latest.md"), "w") as fp:
        fp.write("\n".join(md) + "\n")

    # The terminal table.
    print()
    print("%-26s %3s %-15s %10s %10s %9s %8s %7s" % ("model", "thr", "engine", "p50 ms", "p90 ms", "load ms",
                                                    "RSS MiB", "ratio"))
    for row in table:
        for e in ENGINES:
            m = row[e]
            ratio = row_ratio(row, e)
            if m is None and e in OPTIONAL and not row["failed"][e]:
                continue
            if m is None:
                if e == "ort" and not o.peer_ok:
                    print("%-26s %3d %-15s %s" % (row["label"], row["threads"], "ORT", "peer missing"))
                else:
                    print("%-26s %3d %-15s %s" % (row["label"], row["threads"], ENGINE_LABEL[e],
                                                 "FAILED" if row["failed"][e] else "no result"))
                continue
            r = ("%.2fx" % ratio["p50_ms"]) if (ratio and ratio["p50_ms"]) else ""
            print("%-26s %3d %-15s %10.2f %10.2f %9.0f %8.0f %7s" % (
                row["label"], row["threads"], ENGINE_LABEL[e], m["p50_ms"], m["p90_ms"], m["load_ms"],
                m["peak_rss_mb"], r))
    if not o.peer_ok:
        print("\nPEER MISSING: %s — no ratios." % o.peer_why)
    print("\nratio = median p50 of mecbench / median p50 of ORT (> 1: mecbench slower)")
    print("wrote %s and %s" % (os.path.join(o.out, "latest.json"), os.path.join(o.out, "latest.md")))
    any_failed = any(v for row in table for v in row["failed"].values())
    return 1 if any_failed else 0


if __name__ == "__main__":
    sys.exit(main())
