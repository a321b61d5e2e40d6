#!/usr/bin/env bash
# Interop: models that PyTorch exports must load in mecbench and agree with
# PyTorch. Exports the models of tests/interop/export_models.py (small configs;
# MEC_INTEROP_FULL=1 for the full-size ResNet-50, ResNeXt-50, FCN-ResNet50,
# BERT-base, RoBERTa-base), runs `mecbench infer` on every test input and
# compares every output with PyTorch's: max|ours - torch| <= 1e-4 * max|torch|.
# Also checks the comparison tool itself. Prints one line per check and ends
# with "N passed, N failed"; exits non-zero on any failure.
#
#   BUILD=build bash tests/suites/interop.sh
#   MEC_INTEROP_FULL=1 bash tests/suites/interop.sh
#   MEC_INTEROP_MODELS=resnet,bert bash tests/suites/interop.sh
#   MEC_INTEROP_PYTHON=/path/to/python3 (default /usr/bin/python3)
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
PY=${MEC_INTEROP_PYTHON:-/usr/bin/python3} # Debian's, which has torch
RTOL=1e-4
SIZE=small
INFER_TIMEOUT_S=300
if [[ ${MEC_INTEROP_FULL:-0} == 1 ]]; then
    SIZE=full
    INFER_TIMEOUT_S=3600
fi
MODELS=${MEC_INTEROP_MODELS:-resnet,resnext,fcn,duc,bert,roberta}
passed=0
failed=0

pass() { echo "ok $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
finish() {
    echo "$passed passed, $failed failed"
    [[ $failed -eq 0 ]]
    exit
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mec-interop.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT

# --- the comparison tool ----------------------------------------------------
# Built by the Makefile as $BUILD/tests/npy_compare; when that is missing or
# stale (say libmec does not build right now), build it alone: it needs only
# libc and libm.
COMPARE=$BUILD/tests/npy_compare
if [[ ! -x $COMPARE || tests/tools/npy_compare.c -nt $COMPARE ]]; then
    mkdir -p "$BUILD/interop"
    COMPARE=$BUILD/interop/npy_compare
    if ! ${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -D_DEFAULT_SOURCE \
        -o "$COMPARE" tests/tools/npy_compare.c -lm; then
        fail "npy_compare does not build"
        finish
    fi
fi

# write_npy FILE DESCR SHAPE HEXBYTES: a .npy version 1.0 file, no Python.
write_npy() {
    local file=$1 descr=$2 shape=$3 hex=$4 header len i
    header="{'descr': '$descr', 'fortran_order': False, 'shape': $shape, }"
    while (((10 + ${#header} + 1) % 64)); do header+=" "; done
    len=$((${#header} + 1))
    {
        printf '\x93NUMPY\x01\x00'
        printf '%b' "\\x$(printf %02x $((len & 255)))\\x$(printf %02x $((len >> 8)))"
        printf '%s\n' "$header"
        for ((i = 0; i < ${#hex}; i += 2)); do printf '%b' "\\x${hex:i:2}"; done
    } >"$file"
}

# compare_expect NAME EXPECTED_RC REF OUT: the tool's verdict on a known pair.
compare_expect() {
    local name=$1 want=$2 rc msg
    msg=$("$COMPARE" --rtol "$RTOL" "$3" "$4" 2>&1)
    rc=$?
    if [[ $rc -eq $want ]]; then
        pass "npy_compare $name (exit $rc)"
    else
        fail "npy_compare $name: exit $rc, expected $want: $msg"
    fi
}

T=$WORK/tool
mkdir -p "$T"
F1=0000803f F2=00000040 # float32 1.0, 2.0 (little-endian)
write_npy "$T/ref.npy" '<f4' '(2,)' "$F1$F2"
write_npy "$T/same.npy" '<f4' '(2,)' "$F1$F2"
write_npy "$T/close.npy" '<f4' '(2,)' "${F1}a3010040"  # 2.0001: err 1e-4 <= 2e-4
write_npy "$T/far.npy" '<f4' '(2,)' "${F1}62100040"    # 2.001:  err 1e-3 >  2e-4
write_npy "$T/nan.npy" '<f4' '(2,)' "${F1}0000c07f"    # NaN where ref is 2
write_npy "$T/shape.npy" '<f4' '(1, 2)' "$F1$F2"
write_npy "$T/dtype.npy" '<f8' '(2,)' "000000000000f03f0000000000000040"
write_npy "$T/i64.npy" '<i8' '(2,)' "01000000000000000200000000000000"
head -c 100 "$T/ref.npy" >"$T/truncated.npy"
compare_expect identical 0 "$T/ref.npy" "$T/same.npy"
compare_expect within-tolerance 0 "$T/ref.npy" "$T/close.npy"
compare_expect beyond-tolerance 1 "$T/ref.npy" "$T/far.npy"
compare_expect nan 1 "$T/ref.npy" "$T/nan.npy"
compare_expect shape-mismatch 2 "$T/ref.npy" "$T/shape.npy"
compare_expect dtype-mismatch 2 "$T/ref.npy" "$T/dtype.npy"
compare_expect int64-vs-float 2 "$T/ref.npy" "$T/i64.npy"
compare_expect truncated 2 "$T/ref.npy" "$T/truncated.npy"
compare_expect missing 2 "$T/ref.npy" "$T/does-not-exist.npy"

# --- export (cached) ----------------------------------------------------------
if ! "$PY" -c 'import torch, onnx, numpy' 2>/dev/null; then
    echo "skip: $PY cannot import torch, onnx and numpy (scripts/setup.sh installs" \
        "python3-torch python3-onnx python3-numpy); no models exported or compared"
    finish
fi
KEY=$( (cat tests/interop/export_models.py; "$PY" -c 'import torch, onnx; print(torch.__version__, onnx.__version__)') |
    sha256sum | cut -c1-16)
CACHE=$BUILD/interop/$SIZE-$KEY
mkdir -p "$BUILD/interop"
for old in "$BUILD/interop/$SIZE"-*; do # exports of older scripts
    [[ -d $old && $old != "$CACHE" ]] && rm -rf "$old"
done
missing=()
for m in ${MODELS//,/ }; do
    [[ -f $CACHE/$m.json ]] || missing+=("$m")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    missing_csv=$(IFS=,; echo "${missing[*]}")
    echo "exporting $SIZE models ($missing_csv) into $CACHE"
    if ! "$PY" tests/interop/export_models.py --out "$CACHE" --size "$SIZE" \
        --models "$missing_csv" >"$WORK/export.log" 2>&1; then
        cat "$WORK/export.log"
        fail "export_models.py --size $SIZE --models $missing_csv"
        finish
    fi
    grep -v '^  ops:' "$WORK/export.log"
else
    echo "using cached $SIZE exports in $CACHE"
fi

# --- run and compare ----------------------------------------------------------
if ! "$BUILD/mecbench" infer --help >/dev/null 2>&1; then
    echo "note: '$BUILD/mecbench infer --help' fails; every model below will fail"
fi
for m in ${MODELS//,/ }; do
    model_ok=1 worst_err=0 worst_rel=0 n_cases=0 n_outputs=0 why=""
    for c in $(cut -f1 "$CACHE/$m.tsv" | uniq); do
        out_dir=$WORK/$m/$c
        mkdir -p "$out_dir"
        args=()
        while IFS=$'\t' read -r case kind name file; do
            [[ $case == "$c" && $kind == input ]] && args+=(--input "$name=$CACHE/$file")
        done <"$CACHE/$m.tsv"
        n_cases=$((n_cases + 1))
        if ! timeout "$INFER_TIMEOUT_S" "$BUILD/mecbench" infer "$CACHE/$m.onnx" "${args[@]}" \
            --output-dir "$out_dir" >"$WORK/$m.$c.log" 2>&1; then
            model_ok=0
            why+=" $c: mecbench infer failed: $(tail -n 3 "$WORK/$m.$c.log" | tr '\n' ' ')"
            continue
        fi
        while IFS=$'\t' read -r case kind name file; do
            [[ $case == "$c" && $kind == output ]] || continue
            n_outputs=$((n_outputs + 1))
            line=$("$COMPARE" --rtol "$RTOL" "$CACHE/$file" "$out_dir/$name.npy" 2>&1)
            rc=$?
            if [[ $rc -ne 0 ]]; then
                model_ok=0
                why+=" $c/$name: $line"
                continue
            fi
            err=$(sed -E 's/^max_abs_err=([^ ]+) .*/\1/' <<<"$line")
            rel=$(sed -E 's/.* rel=([^ ]+) .*/\1/' <<<"$line")
            worst_err=$(awk -v a="$worst_err" -v b="$err" 'BEGIN { print (b + 0 > a + 0) ? b : a }')
            worst_rel=$(awk -v a="$worst_rel" -v b="$rel" 'BEGIN { print (b + 0 > a + 0) ? b : a }')
        done <"$CACHE/$m.tsv"
    done
    if [[ $model_ok -eq 1 && $n_outputs -gt 0 ]]; then
        pass "$m max_abs_err=$worst_err rel=$worst_rel ($n_cases case(s), $n_outputs output(s), $SIZE)"
    else
        fail "$m ($SIZE):${why:- no outputs compared}"
    fi
done
finish
