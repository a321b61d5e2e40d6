#!/usr/bin/env bash
# The main job, end to end on this machine (no root, no network):
#  1. the two published studies' raw measurements → results database →
#     statistics, headline speed-ups, recommendation, HTML report;
#  2. a model from the zoo through the engine: census, inference, benchmark.
# Outputs go to out/demo/ (override with MEC_DEMO_OUT).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
MEC="$BUILD/mecbench"
OUT=${MEC_DEMO_OUT:-out/demo}
DATA=${MEC_PAPER_DATA:-../shared/paper-data}

if [[ -t 1 ]]; then
    step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
    step() { printf '\n== %s\n' "$*"; }
fi

if [[ ! -x $MEC ]]; then
    echo "demo: $MEC is missing: run 'make' first" >&2
    exit 1
fi
if [[ ! -f $DATA/latency.csv ]]; then
    echo "demo: the studies' data is not at $DATA (set MEC_PAPER_DATA=DIR)" >&2
    exit 1
fi
mkdir -p "$OUT"
DB="$OUT/results.db"
rm -f "$DB"

step "1/7 import the studies' raw measurements ($DATA)"
"$MEC" import -d "$DB" "$DATA"

step "2/7 analyze: Kruskal-Wallis, Conover (Holm), Cliff's delta, speed-ups, headlines"
"$MEC" analyze -d "$DB" --brief | tee "$OUT/analysis.txt" | tail -n 16

step "3/7 recommend: at most 1 point of accuracy loss, on mobile or edge, by p95 latency"
"$MEC" recommend -d "$DB" --max-loss 1% --placements mobile,edge --percentile 95 >"$OUT/recommendation.txt"
grep -E "^  - " "$OUT/recommendation.txt" || true

step "4/7 report"
"$MEC" report -d "$DB" -o "$OUT/report"

step "5/7 build a model from the zoo (ResNet, small)"
"$MEC" zoo build resnet-small -o "$OUT/resnet-small.onnx"

step "6/7 census, and inference on a real photo (resized to the model's 28x28 grey input; the weights are untrained)"
"$MEC" ops "$OUT/resnet-small.onnx" | head -n 14
IMG=$(ls tests/data/images/*.jpg 2>/dev/null | head -n 1 || true)
if [[ -n $IMG ]]; then
    "$MEC" infer "$OUT/resnet-small.onnx" --input "$IMG" --output-dir "$OUT/outputs"
fi

step "7/7 benchmark (warm session: 5 warm-up, 30 timed runs)"
"$MEC" bench "$OUT/resnet-small.onnx" --warmup 5 --runs 30

step "done"
echo "results database   $DB   (sqlite3 $DB '.tables')"
echo "analysis           $OUT/analysis.txt"
echo "recommendation     $OUT/recommendation.txt"
echo "report             $OUT/report/report.html"
