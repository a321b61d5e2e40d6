#!/usr/bin/env bash
# The test command: every unit test program, the ONNX conformance runner and
# the interop tests. Prints one summary line "N passed, N failed" at the end
# and exits non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
passed=0
failed=0
failed_names=()

tally() { # name, log file, exit code
    local name=$1 log=$2 rc=$3
    local line p f
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    if [[ -n $line ]]; then
        p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
        f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
    else
        p=0
        f=1
    fi
    if [[ $rc -ne 0 && $f -eq 0 ]]; then f=1; fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [[ $f -ne 0 ]]; then failed_names+=("$name"); fi
    printf '%-28s %s\n' "$name" "${line:-no summary (exit $rc)}"
}

mkdir -p "$BUILD/test-logs"
for t in "$BUILD"/tests/test_*; do
    [[ -x $t ]] || continue
    name=$(basename "$t")
    log="$BUILD/test-logs/$name.log"
    timeout 900 "$t" >"$log" 2>&1
    rc=$?
    tally "$name" "$log" $rc
    [[ $rc -ne 0 ]] && { echo "---- $log"; tail -n 40 "$log"; }
done

for s in tests/suites/*.sh; do
    [[ -f $s ]] || continue
    name=$(basename "$s" .sh)
    log="$BUILD/test-logs/$name.log"
    BUILD=$BUILD timeout 1800 bash "$s" >"$log" 2>&1
    rc=$?
    tally "$name" "$log" $rc
    [[ $rc -ne 0 ]] && { echo "---- $log"; tail -n 60 "$log"; }
done

if [[ ${#failed_names[@]} -gt 0 ]]; then echo "failing: ${failed_names[*]}"; fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
