#!/usr/bin/env bash
# ONNX Runtime runs what mecbench writes: zoo models built by mecbench, and
# models loaded and saved again by mecbench, run in ONNX Runtime
# (onnxruntime-node) and agree with mecbench within 1e-4 x max|output|.
# Skips cleanly (and says so) when node or onnxruntime-node is missing
# (scripts/setup.sh installs them: bench/node_modules).
set -u
BUILD=${BUILD:-build}
MEC="$BUILD/mecbench"
CMP="$BUILD/tests/npy_compare"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if ! command -v node >/dev/null || [[ ! -d bench/node_modules/onnxruntime-node ]] ||
    ! node -e "require('./bench/node_modules/onnxruntime-node')" 2>/dev/null; then
    echo "skip: onnxruntime-node is not installed (cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm install)"
    echo "0 passed, 0 failed"
    exit 0
fi
pass=0
fail=0
check() { # name, model, input name, input .npy
    local name=$1 model=$2 in=$3 file=$4
    mkdir -p "$T/$name.mec" "$T/$name.ort"
    if ! "$MEC" infer "$model" --input "$in=$file" --output-dir "$T/$name.mec" >"$T/log" 2>&1; then
        fail=$((fail + 1)); echo "FAIL $name: mecbench: $(tail -n 2 "$T/log")"; return
    fi
    if ! node tests/interop/ort_run.js "$model" "$T/$name.ort" "$in=$file" >"$T/log" 2>&1; then
        fail=$((fail + 1)); echo "FAIL $name: ONNX Runtime cannot run it: $(tail -n 2 "$T/log")"; return
    fi
    local bad=0
    for f in "$T/$name.ort"/*.npy; do
        "$CMP" --rtol 1e-4 "$f" "$T/$name.mec/$(basename "$f")" >"$T/log" 2>&1 || bad=1
    done
    if [[ $bad -eq 0 ]]; then pass=$((pass + 1)); echo "ok   $name $(tail -n 1 "$T/log")"
    else fail=$((fail + 1)); echo "FAIL $name: $(cat "$T/log")"; fi
}
# zoo models as mecbench writes them
for preset in resnet-small resnext-small fcn-small duc-small; do
    "$MEC" zoo build "$preset" -o "$T/$preset.onnx" >/dev/null || { fail=$((fail + 1)); echo "FAIL zoo build $preset"; continue; }
done
# one image-like input for the CNNs: made by mecbench itself (a photo via infer is
# preprocessing, not the point here): use the zoo's declared shapes
make_input() { # file, shape (NxCxHxW)
    node -e "
const {writeNpy} = require('./bench/npy.js');
const dims = process.argv[2].split('x').map(Number);
const n = dims.reduce((a, b) => a * b, 1);
const data = new Float32Array(n);
let x = 12345;
for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; data[i] = (x / 4294967296) * 2 - 1; }
writeNpy(process.argv[1], {type: 'float32', dims, data});
" "$1" "$2"
}
make_input "$T/img28.npy" 2x1x28x28
make_input "$T/img64.npy" 1x1x64x64
check zoo-resnet-small "$T/resnet-small.onnx" input "$T/img28.npy"
check zoo-resnext-small "$T/resnext-small.onnx" input "$T/img28.npy"
check zoo-fcn-small "$T/fcn-small.onnx" input "$T/img64.npy"
check zoo-duc-small "$T/duc-small.onnx" input "$T/img64.npy"
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
