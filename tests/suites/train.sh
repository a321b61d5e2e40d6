#!/usr/bin/env bash
# mecbench train / eval end to end on tiny subsets with a fixed seed (about a
# minute on two cores): a CNN learns Fashion-MNIST (loss falls, top-1 well
# above chance), a segmenter beats the all-background mIoU, a text model
# beats chance; a rerun is a cache hit; --resume after --stop-after gives the
# same result as an uninterrupted run; eval of the exported model reproduces
# the reported test metric; wrong model/dataset pairs fail clearly.
# Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MB=$PWD/$BUILD/mecbench
PY=${PYTHON:-python3}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export MECBENCH_CACHE=$TMP/cache
passed=0
failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
check() { # name, python expression over m (metrics.json) that must be true, file
    if $PY -c 'import json,sys; m=json.load(open(sys.argv[2])); sys.exit(0 if eval(sys.argv[1]) else 1)' "$2" "$3" 2>/dev/null; then
        ok "$1"
    else
        bad "$1 ($2)"
        [[ -f $3 ]] && head -c 1500 "$3"
    fi
}
if [[ ! -d /usr/share/datasets/fashion-mnist || ! -d /usr/share/games/fortunes ]]; then
    echo "skip: dataset-fashion-mnist or fortunes not installed (scripts/setup.sh installs them)"
    echo "1 passed, 0 failed"
    exit 0
fi
T=(--threads 2 --seed 1)

# 1. a CNN on 1024 Fashion-MNIST images
CNN=(resnet-small --dataset fashion-mnist --subset 1024 --epochs 3 --batch 64 --lr 0.05 --warmup 10
     --val-subset 200 --test-subset 500 "${T[@]}")
if $MB train "${CNN[@]}" --out "$TMP/cnn" >"$TMP/cnn.out" 2>"$TMP/cnn.err"; then
    ok "train resnet-small on a fashion-mnist subset"
    check "cnn: train loss falls epoch by epoch" \
        'all(a["train_loss"] > b["train_loss"] for a, b in zip(m["epochs"], m["epochs"][1:]))' "$TMP/cnn/metrics.json"
    check "cnn: test top-1 > 0.5 (chance 0.1)" 'm["complete"] and m["test"]["top1"] > 0.5' "$TMP/cnn/metrics.json"
    check "cnn: val metric rises" 'm["epochs"][-1]["val_metric"] > m["epochs"][0]["val_metric"]' "$TMP/cnn/metrics.json"
    for f in model.onnx checkpoint.mecckpt metrics.json; do
        [[ -s $TMP/cnn/$f ]] && ok "cnn: wrote $f" || bad "cnn: no $f"
    done
    grep -q '^epoch 3/3: train loss' "$TMP/cnn.err" && ok "cnn: a plain line per epoch on a non-tty stderr" ||
        bad "cnn: no per-epoch line"
else
    bad "train resnet-small: $(tail -n 3 "$TMP/cnn.err")"
fi

# 2. the same run again: a cache hit, fast, same result
t0=$(date +%s%N)
if $MB train "${CNN[@]}" --out "$TMP/cnn" --json >"$TMP/cnn2.json" 2>"$TMP/cnn2.err" && grep -q "cached" "$TMP/cnn2.err"; then
    ok "rerun is a cache hit ($((($(date +%s%N) - t0) / 1000000)) ms)"
    cmp -s "$TMP/cnn2.json" "$TMP/cnn/metrics.json" && ok "cache hit --json prints the stored metrics" ||
        bad "cache hit --json differs from metrics.json"
else
    bad "rerun did not hit the cache: $(tail -n 2 "$TMP/cnn2.err")"
fi
# ... also through the cache folder (no --out), and --force retrains
$MB train "${CNN[@]}" --epochs 1 >/dev/null 2>"$TMP/c1.err" &&
    $MB train "${CNN[@]}" --epochs 1 >/dev/null 2>"$TMP/c2.err" && grep -q cached "$TMP/c2.err" &&
    ! grep -q cached "$TMP/c1.err" && ok "cache folder: first run trains, second is a hit" || bad "cache folder"
$MB train "${CNN[@]}" --epochs 1 --force >/dev/null 2>"$TMP/c3.err" && ! grep -q cached "$TMP/c3.err" &&
    grep -q '^epoch 1/1' "$TMP/c3.err" && ok "--force retrains" || bad "--force"

# 3. --resume: stop after one epoch, continue, same numbers as the uninterrupted run
if $MB train "${CNN[@]}" --out "$TMP/res" --stop-after 1 >/dev/null 2>"$TMP/res1.err" &&
    grep -q "stopped after epoch 1" "$TMP/res1.err"; then
    ok "--stop-after 1 leaves a resumable run"
    check "interrupted run is marked incomplete" 'not m["complete"] and len(m["epochs"]) == 1' "$TMP/res/metrics.json"
    if $MB train "${CNN[@]}" --out "$TMP/res" --resume >/dev/null 2>"$TMP/res2.err" && grep -q "resuming" "$TMP/res2.err"; then
        ok "--resume continues at epoch 2"
        $PY - "$TMP/cnn/metrics.json" "$TMP/res/metrics.json" <<'PYEOF' && ok "resumed run equals the uninterrupted one (loss per epoch, test metrics)" || bad "resumed run differs"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
same = [x["train_loss"] for x in a["epochs"]] == [x["train_loss"] for x in b["epochs"]] and a["test"]["top1"] == b["test"]["top1"]
print(a["test"], b["test"])
sys.exit(0 if same and b["complete"] else 1)
PYEOF
    else
        bad "--resume: $(tail -n 2 "$TMP/res2.err")"
    fi
else
    bad "--stop-after: $(tail -n 2 "$TMP/res1.err")"
fi

# 4. eval of the exported model reproduces the reported test metric
if $MB eval "$TMP/cnn/model.onnx" --subset 500 --json >"$TMP/eval.json" 2>"$TMP/eval.err"; then
    $PY - "$TMP/cnn/metrics.json" "$TMP/eval.json" <<'PYEOF' && ok "eval reproduces the test top-1/top-5/F1" || bad "eval differs from train's test metrics"
import json, sys
t, e = json.load(open(sys.argv[1]))["test"], json.load(open(sys.argv[2]))
print("train:", t["top1"], t["top5"], t["macro_f1"], " eval:", e["top1"], e["top5"], e["macro_f1"])
sys.exit(0 if all(abs(t[k] - e[k]) < 1e-9 for k in ("top1", "top5", "macro_f1", "count")) else 1)
PYEOF
else
    bad "eval: $(tail -n 2 "$TMP/eval.err")"
fi

# 5. a segmenter on 512 canvases beats the all-background mIoU
if $MB train fcn-small --dataset fashion-seg --subset 512 --epochs 3 --batch 16 --lr 0.2 --warmup 10 \
    --val-subset 32 --test-subset 64 "${T[@]}" --out "$TMP/seg" >/dev/null 2>"$TMP/seg.err"; then
    ok "train fcn-small on a fashion-seg subset"
    check "seg: test mIoU above the all-background baseline" \
        'm["test"]["miou"] > m["test"]["background_miou"] + 0.02' "$TMP/seg/metrics.json"
    check "seg: train loss falls" 'm["epochs"][-1]["train_loss"] < m["epochs"][0]["train_loss"]' "$TMP/seg/metrics.json"
    $MB eval "$TMP/seg/model.onnx" --subset 64 --json >"$TMP/seg_eval.json" 2>/dev/null &&
        $PY -c 'import json,sys; t=json.load(open(sys.argv[1]))["test"]; e=json.load(open(sys.argv[2])); sys.exit(0 if abs(t["miou"]-e["miou"]) < 1e-9 else 1)' \
            "$TMP/seg/metrics.json" "$TMP/seg_eval.json" && ok "seg: eval reproduces the test mIoU" || bad "seg: eval mIoU differs"
else
    bad "train fcn-small: $(tail -n 3 "$TMP/seg.err")"
fi

# 6. a text model beats chance
if $MB train bert-small --dataset fortunes --subset 1024 --epochs 3 --batch 32 --lr 1e-3 --warmup 10 \
    --max-len 64 "${T[@]}" --val-subset 100 --test-subset 300 --out "$TMP/txt" >/dev/null 2>"$TMP/txt.err"; then
    ok "train bert-small on a fortunes subset"
    check "text: test accuracy above chance (1/8)" 'm["test"]["top1"] > 0.2' "$TMP/txt/metrics.json"
    check "text: reports macro-F1 and the majority baseline" \
        '0 < m["test"]["macro_f1"] <= 1 and 0 < m["test"]["majority_baseline"] < 0.5' "$TMP/txt/metrics.json"
    [[ -s $TMP/txt/tokenizer.txt ]] && ok "text: wrote tokenizer.txt" || bad "text: no tokenizer.txt"
    $MB eval "$TMP/txt/model.onnx" --subset 300 --json >"$TMP/txt_eval.json" 2>/dev/null &&
        $PY -c 'import json,sys; t=json.load(open(sys.argv[1]))["test"]; e=json.load(open(sys.argv[2])); sys.exit(0 if abs(t["top1"]-e["top1"]) < 1e-9 else 1)' \
            "$TMP/txt/metrics.json" "$TMP/txt_eval.json" && ok "text: eval reproduces the test accuracy" || bad "text: eval accuracy differs"
else
    bad "train bert-small: $(tail -n 3 "$TMP/txt.err")"
fi

# 7. wrong model/dataset pairs fail before training, saying why
expect_fail() { # name, pattern, args...
    local name=$1 pat=$2
    shift 2
    if $MB train "$@" --subset 16 --epochs 1 --out "$TMP/wrong" >/dev/null 2>"$TMP/wrong.err"; then
        bad "$name: accepted"
    elif grep -q -- "$pat" "$TMP/wrong.err"; then ok "$name: $(head -c 110 "$TMP/wrong.err" | tr '\n' ' ')"
    else bad "$name: unexpected message: $(cat "$TMP/wrong.err")"; fi
}
expect_fail "classifier on the segmentation set" "segmentation task" resnet-small --dataset fashion-seg
expect_fail "segmenter on the classification set" "classification task" fcn-small --dataset fashion-mnist
expect_fail "text model on images" "token ids" bert-small --dataset fashion-mnist
expect_fail "image model on text" "token ids" resnet-small --dataset fortunes
expect_fail "unknown dataset" "unknown dataset" resnet-small --dataset imagenet
expect_fail "unknown model" "neither a zoo preset" no-such-model --dataset fashion-mnist

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
