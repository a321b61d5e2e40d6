#!/usr/bin/env bash
# `make bench`: mecbench against ONNX Runtime (onnxruntime-node) on the same
# ONNX files, same inputs, same thread counts, in interleaved A/B rounds; the
# table goes to stdout, bench/results/latest.{json,md}. See docs/performance.md.
#
# Knobs (environment):
#   MEC_BENCH_MODELS   comma-separated cases (default: all):
#                      resnet,resnext,fcn224,fcn512,duc,bert,roberta,resnet_int8
#                      (a model name such as fcn selects all its cases)
#   MEC_BENCH_ROUNDS   A/B rounds per case and thread count (default 5)
#   MEC_BENCH_RUNS     timed runs per process (default 10)
#   MEC_BENCH_WARMUP   untimed runs per process (default 2)
#   MEC_BENCH_THREADS  thread counts (default "1 2")
#   MEC_BENCH_CACHE    model cache root (default bench/models)
#   MEC_BENCH_TIMEOUT  seconds per process (default 1800)
#   MEC_BENCH_OUT      results directory (default bench/results)
#   BUILD              build directory with mecbench (default build)
#
# The float conv cases (resnet, fcn224, fcn512, duc) also run mecbench with
# --conv-algo direct (engine mecbench_direct): the default runs 3x3 convs as
# Winograd, this row shows direct summation, what ORT computes.
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
BUILD=${BUILD:-build}
MEC=$ROOT/$BUILD/mecbench
PY=${PYTHON:-/usr/bin/python3}
ALL_CASES=resnet,resnext,fcn224,fcn512,duc,bert,roberta,resnet_int8
DIRECT_CASES="resnet fcn224 fcn512 duc" # float models with 3x3 stride-1 convs
CASES=${MEC_BENCH_MODELS:-$ALL_CASES}
ROUNDS=${MEC_BENCH_ROUNDS:-5}
RUNS=${MEC_BENCH_RUNS:-10}
WARMUP=${MEC_BENCH_WARMUP:-2}
THREADS=${MEC_BENCH_THREADS:-1 2}
CACHE_ROOT=${MEC_BENCH_CACHE:-$ROOT/bench/models}
TIMEOUT=${MEC_BENCH_TIMEOUT:-1800}
OUT=${MEC_BENCH_OUT:-$ROOT/bench/results}
RAW=$OUT/raw

die() { echo "bench: $*" >&2; exit 1; }
for v in ROUNDS RUNS WARMUP TIMEOUT; do
    [[ ${!v} =~ ^[1-9][0-9]*$ || ($v == WARMUP && ${!v} == 0) ]] || die "MEC_BENCH_$v='${!v}': expected a positive integer"
done
for t in $THREADS; do [[ $t =~ ^[1-9][0-9]*$ ]] || die "MEC_BENCH_THREADS: '$t' is not a thread count"; done
[[ -x $MEC ]] || die "$MEC not found: run make (or make BUILD=$BUILD) first"

# Cases -> exporter models. A model name selects all of its cases.
declare -a SEL=()
IFS=, read -r -a req <<<"$CASES"
for c in "${req[@]}"; do
    case $c in
    fcn) SEL+=(fcn224 fcn512) ;;
    resnet | resnext | fcn224 | fcn512 | duc | bert | roberta | resnet_int8) SEL+=("$c") ;;
    "") ;;
    *) die "MEC_BENCH_MODELS: unknown case '$c' (known: $ALL_CASES)" ;;
    esac
done
[[ ${#SEL[@]} -gt 0 ]] || die "MEC_BENCH_MODELS selects nothing"
model_of() { case $1 in fcn224 | fcn512) echo fcn ;; resnet_int8) echo resnet ;; *) echo "$1" ;; esac; }
NEED=$(for c in "${SEL[@]}"; do model_of "$c"; done | sort -u | paste -sd, -)

# ---- Models: exported once into a cache keyed by the exporters and torch;
# the QDQ model's name carries a hash of make_qdq.py.
TORCH_VERSION=$($PY -c 'import torch; print(torch.__version__)' 2>/dev/null) || die "$PY cannot import torch"
KEY=$( (cat bench/export_bench_models.py tests/interop/export_models.py; echo "$TORCH_VERSION") |
    sha256sum | cut -c1-16)
MODELS=$CACHE_ROOT/$KEY
QDQ_FILE=resnet_qdq-$(sha256sum bench/make_qdq.py | cut -c1-8).onnx
mkdir -p "$MODELS" || die "cannot create $MODELS"
missing=()
IFS=, read -r -a need_list <<<"$NEED"
for m in "${need_list[@]}"; do
    [[ -s $MODELS/$m.onnx ]] && awk -F'\t' -v f="$m.onnx" '$2 == f { ok = 1 } END { exit !ok }' \
        "$MODELS/cases.tsv" 2>/dev/null || missing+=("$m")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "== exporting $(
        IFS=,
        echo "${missing[*]}"
    ) into $MODELS (torch $TORCH_VERSION)"
    $PY bench/export_bench_models.py --out "$MODELS" --models "$(
        IFS=,
        echo "${missing[*]}"
    )" || die "export failed"
fi
if [[ " ${SEL[*]} " == *" resnet_int8 "* && ! -s $MODELS/$QDQ_FILE ]]; then
    echo "== building the QDQ int8 ResNet-50 ($QDQ_FILE)"
    $PY bench/make_qdq.py "$MODELS/resnet.onnx" "$MODELS/$QDQ_FILE" || die "make_qdq.py failed"
fi

# ---- The peer: onnxruntime-node under bench/node_modules (never installed here).
PEER_OK=0
PEER_WHY=""
if ! command -v node >/dev/null; then
    PEER_WHY="node is not installed"
elif ! PEER_WHY=$(cd bench && node -e "require('onnxruntime-node')" 2>&1); then
    PEER_WHY="onnxruntime-node cannot be loaded (install: cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci): $(tail -n 1 <<<"$PEER_WHY")"
else
    PEER_OK=1
    PEER_WHY=""
fi
if [[ $PEER_OK -eq 0 ]]; then
    echo "!! PEER MISSING: $PEER_WHY" >&2
    echo "!! running mecbench alone; no ratios will be reported" >&2
fi

# ---- Rounds: each round is one fresh process per engine; the order rotates
# (A B C, B C A, ...) so no engine always runs first after another.
rm -rf "$RAW"
mkdir -p "$RAW"
case_args() { # case -> "model.onnx" and "--input NAME=FILE" arguments
    local row
    row=$(awk -F'\t' -v c="${1%_int8}" '$1 == c' "$MODELS/cases.tsv")
    [[ -n $row ]] || return 1
    local file inputs
    file=$(cut -f2 <<<"$row")
    [[ $1 == resnet_int8 ]] && file=$QDQ_FILE
    inputs=$(cut -f3 <<<"$row")
    echo "$MODELS/$file"
    IFS=, read -r -a ins <<<"$inputs"
    for i in "${ins[@]}"; do echo "--input"; echo "${i%%=*}=$MODELS/${i#*=}"; done
}
run_one() { # engine case threads round
    local engine=$1 c=$2 t=$3 r=$4 base rc
    base=$RAW/$c.t$t.$engine.r$r
    mapfile -t args < <(case_args "$c")
    [[ ${#args[@]} -gt 0 ]] || { echo "bench: no case '$c' in $MODELS/cases.tsv" >&2; return 1; }
    cut -d' ' -f1-3 /proc/loadavg >"$base.load"
    if [[ $engine == mecbench || $engine == mecbench_direct ]]; then
        local algo=auto
        [[ $engine == mecbench_direct ]] && algo=direct
        timeout "$TIMEOUT" "$MEC" bench "${args[@]}" --threads "$t" --runs "$RUNS" --warmup "$WARMUP" \
            --conv-algo "$algo" --json >"$base.json" 2>"$base.err"
    else
        timeout "$TIMEOUT" node bench/ort_bench.js "${args[@]}" --threads "$t" --runs "$RUNS" \
            --warmup "$WARMUP" --json >"$base.json" 2>"$base.err"
    fi
    rc=$?
    if [[ $rc -ne 0 ]]; then
        echo "   $engine $c threads=$t round $r FAILED (exit $rc): $(tail -n 1 "$base.err")" >&2
        mv "$base.json" "$base.failed" 2>/dev/null
        return 0
    fi
    printf '   %-15s %-12s t=%s r=%s p50 %s ms\n' "$engine" "$c" "$t" "$r" \
        "$($PY -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["p50_ms"], 2))' "$base.json")"
}

echo "== mecbench $("$MEC" --version | awk '{print $2}') vs onnxruntime-node" \
    "$([[ $PEER_OK -eq 1 ]] && (cd bench && node -p "require('onnxruntime-node').env.versions.node") || echo MISSING)"
echo "== cases: ${SEL[*]}; threads: $THREADS; $ROUNDS round(s) x $RUNS runs (+$WARMUP warm-up)"
START=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for c in "${SEL[@]}"; do
    for t in $THREADS; do
        echo "-- $c, $t thread(s)"
        engines=(mecbench)
        [[ " $DIRECT_CASES " == *" $c "* ]] && engines+=(mecbench_direct)
        [[ $PEER_OK -eq 1 ]] && engines+=(ort)
        for ((r = 0; r < ROUNDS; r++)); do
            # the order rotates, so that no engine always runs first
            for ((k = 0; k < ${#engines[@]}; k++)); do
                run_one "${engines[(k + r) % ${#engines[@]}]}" "$c" "$t" "$r"
            done
        done
    done
done

# ---- Training throughput (planned): the PyTorch-peer training row goes here.
# A script bench/train_bench.sh, when it exists, is run with the same knobs and
# must write $RAW/training.*.json rows ({"engine", "model", "threads",
# "samples_per_s", ...}); summarize.py lists them in their own table.
if [[ -x bench/train_bench.sh ]]; then
    echo "-- training throughput"
    RAW=$RAW MEC=$MEC bash bench/train_bench.sh || echo "bench: train_bench.sh failed" >&2
fi

# ---- Summary: medians over rounds, ratio mecbench/ORT, Markdown + JSON.
$PY bench/summarize.py --raw "$RAW" --out "$OUT" --start "$START" --mecbench "$MEC" \
    --peer-ok "$PEER_OK" --peer-why "$PEER_WHY" --torch "$TORCH_VERSION" --models-dir "$MODELS" \
    --rounds "$ROUNDS" --runs "$RUNS" --warmup "$WARMUP" --cases "$(
        IFS=,
        echo "${SEL[*]}"
    )" --threads "$THREADS"
