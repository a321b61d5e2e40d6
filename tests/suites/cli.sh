#!/usr/bin/env bash
# The command line as a user meets it: every verb's --help, the census
# (FLOPs, unsupported ops named), infer/bench on a real model, and clear
# one-line errors (exit status 1 or 2, never a crash) on bad input.
set -u
BUILD=${BUILD:-build}
MEC="$BUILD/mecbench"
DATA=/usr/share/libonnx-testdata/data
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
no() { fail=$((fail + 1)); echo "FAIL $1"; }
expect() { # name, expected exit code, command...
    local name=$1 want=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [[ $rc -eq $want ]]; then ok "$name"; else no "$name (exit $rc, wanted $want): $(head -c 300 "$T/err")"; fi
}
has() { # name, file, pattern
    if grep -qE -- "$3" "$2"; then ok "$1"; else no "$1: no '$3' in: $(head -c 300 "$2")"; fi
}

for verb in ops infer bench import analyze recommend report zoo version; do
    expect "$verb --help" 0 "$MEC" "$verb" --help
    has "$verb --help says usage" "$T/out" "usage: mecbench $verb"
done
expect "no verb: usage, exit 2" 2 "$MEC"
expect "unknown verb: exit 2" 2 "$MEC" frobnicate

CONV=$DATA/pytorch-converted/test_Conv2d
if [[ -f $CONV/model.onnx ]]; then
    # Conv 3->4, kernel 3x2 (76 weights incl. bias), input 2x3x7x5, output 2x4x5x4:
    # 2 * 160 outputs-per-channel-set * 18 MACs = 2*2*4*5*4*3*3*2 = 5760 FLOPs
    expect "ops on a conv model" 0 "$MEC" ops "$CONV/model.onnx"
    has "ops counts FLOPs" "$T/out" "FLOPs +5.760 K"
    has "ops counts parameters" "$T/out" "parameters +76 "
    expect "ops --json" 0 "$MEC" ops "$CONV/model.onnx" --json
    has "ops --json has flops" "$T/out" '"flops": 5760'
    expect "infer a .pb input" 0 "$MEC" infer "$CONV/model.onnx" --input "$CONV/test_data_set_0/input_0.pb" --output-dir "$T/o"
    [[ -f $T/o/3.npy ]] && ok "infer writes <output>.npy" || no "infer writes <output>.npy"
    expect "bench --json" 0 "$MEC" bench "$CONV/model.onnx" --runs 3 --warmup 1 --json
    has "bench --json has p50" "$T/out" '"p50_ms": [0-9.]+'
    expect "bench --conv-algo direct" 0 "$MEC" bench "$CONV/model.onnx" --runs 2 --warmup 0 --conv-algo direct
    expect "infer --conv-algo winograd" 0 "$MEC" infer "$CONV/model.onnx" --input "$CONV/test_data_set_0/input_0.pb" --conv-algo winograd
    head -c 100 /dev/urandom >"$T/raw.bin"
    expect "raw input of the wrong size" 1 "$MEC" infer "$CONV/model.onnx" --input "0=$T/raw.bin" --shape 0=2x3x7x5
    has "wrong size is named" "$T/err" "bytes"
fi
STR=$DATA/node/test_strnormalizer_export_monday_casesensintive_lower
if [[ -f $STR/model.onnx ]]; then
    expect "ops on an unsupported model" 0 "$MEC" ops "$STR/model.onnx"
    has "ops names the unsupported op" "$T/out" "StringNormalizer\(ai.onnx opset 10\)"
    expect "ops --check fails on it" 1 "$MEC" ops "$STR/model.onnx" --check
fi
printf 'garbage, not a model' >"$T/bad.onnx"
expect "garbage model: exit 1" 1 "$MEC" infer "$T/bad.onnx"
has "garbage model: a readable error" "$T/err" "not a valid ONNX protobuf"
expect "missing file: exit 1" 1 "$MEC" ops "$T/nope.onnx"
has "missing file named" "$T/err" "nope.onnx: cannot open"
expect "bad --threads: exit 2" 2 "$MEC" bench "$T/bad.onnx" --threads zero
expect "bad --conv-algo: exit 2" 2 "$MEC" bench "$T/bad.onnx" --conv-algo fastest
has "bad --conv-algo: the choices named" "$T/err" "expected auto, direct or winograd"
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
