#!/usr/bin/env bash
# Training throughput: samples/s of training steps of mecbench's engine
# (bench/train_bench.c on build/libmec.a) vs PyTorch (bench/train_bench.py,
# Debian's /usr/bin/python3 torch) on the same small ResNet (resnet-small,
# batch 128, SGD) and BERT (bert-small, batch 32 x 64 tokens, AdamW + clip),
# same batch and threads, interleaved rounds (A B, B A, ...), one fresh
# process each; prints the medians and the ratio mecbench/PyTorch (> 1:
# mecbench is faster). bench/run.sh calls it with RAW set: each row is also
# written to $RAW/training.<engine>.<model>.t<threads>.r<round>.json.
#
# Knobs: MEC_BENCH_ROUNDS (default 3), MEC_BENCH_THREADS ("1 2"),
# MEC_TRAIN_BENCH_STEPS (10), MEC_TRAIN_BENCH_MODELS (resnet,bert),
# BUILD (build), PYTHON (/usr/bin/python3). OMP_WAIT_POLICY defaults to
# passive (a shared machine); set it to compare.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PY=${PYTHON:-/usr/bin/python3}
ROUNDS=${MEC_BENCH_ROUNDS:-3}
THREADS=${MEC_BENCH_THREADS:-1 2}
STEPS=${MEC_TRAIN_BENCH_STEPS:-10}
MODELS=${MEC_TRAIN_BENCH_MODELS:-resnet,bert}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
die() { echo "train_bench: $*" >&2; exit 1; }
[[ -f $BUILD/libmec.a ]] || die "$BUILD/libmec.a not found: run make (or make BUILD=$BUILD) first"
BIN=$BUILD/bench/train_bench
mkdir -p "$BUILD/bench"
if [[ ! -x $BIN || bench/train_bench.c -nt $BIN || $BUILD/libmec.a -nt $BIN ]]; then
    ${CC:-cc} -std=c11 -O2 -fopenmp -Iinclude -o "$BIN" bench/train_bench.c "$BUILD/libmec.a" \
        -fopenmp -lprotobuf-c -lsqlite3 -lyaml -ljpeg -lpng -lz -lm -ldnnl || die "cannot build $BIN"
fi
PEER=1
$PY -c 'import torch' 2>/dev/null || { PEER=0; echo "!! PEER MISSING: $PY cannot import torch; mecbench alone" >&2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() { # engine threads round
    local out=$tmp/$1.t$2.r$3.jsonl
    if [[ $1 == mecbench ]]; then
        "$BIN" --models "$MODELS" --threads "$2" --steps "$STEPS" >"$out" || echo "   mecbench t=$2 r=$3 FAILED" >&2
    else
        $PY bench/train_bench.py --models "$MODELS" --threads "$2" --steps "$STEPS" >"$out" || echo "   pytorch t=$2 r=$3 FAILED" >&2
    fi
    if [[ -n ${RAW:-} ]]; then
        while IFS= read -r line; do
            local m
            m=$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["model"])' "$line")
            echo "$line" >"$RAW/training.$1.$m.t$2.r$3.json"
        done <"$out"
    fi
}
for t in $THREADS; do
    for ((r = 0; r < ROUNDS; r++)); do
        if [[ $PEER -eq 0 ]]; then run mecbench "$t" "$r"
        elif ((r % 2 == 0)); then run mecbench "$t" "$r"; run pytorch "$t" "$r"
        else run pytorch "$t" "$r"; run mecbench "$t" "$r"; fi
    done
done
$PY - "$tmp" <<'PYEOF'
import glob, json, os, statistics, sys
rows = {}
for path in glob.glob(os.path.join(sys.argv[1], "*.jsonl")):
    for line in open(path):
        if line.strip():
            r = json.loads(line)
            rows.setdefault((r["model"], r["threads"], r["engine"]), []).append(r["samples_per_s"])
print("%-14s %7s %6s %14s %14s %8s" % ("model", "threads", "batch", "mecbench/s", "pytorch/s", "ratio"))
for (model, threads) in sorted({(m, t) for (m, t, _) in rows}):
    a = rows.get((model, threads, "mecbench"))
    b = rows.get((model, threads, "pytorch"))
    ma = statistics.median(a) if a else None
    mb = statistics.median(b) if b else None
    batch = 128 if model.startswith("resnet") else 32
    print("%-14s %7d %6d %14s %14s %8s" % (model, threads, batch, "%.1f" % ma if ma else "-",
          "%.1f" % mb if mb else "-", "%.2fx" % (ma / mb) if ma and mb else "-"))
print("samples/s: median over rounds; ratio = mecbench / PyTorch (> 1: mecbench faster)")
PYEOF
