#!/usr/bin/env bash
# The report in a real browser: renders report.html in headless Chromium,
# takes a screenshot and checks every plot is present and not blank
# (tests/tools/png_plots.c). Skips cleanly, counted as passed, without
# chromium. Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MB=$BUILD/mecbench
DATA=${MEC_PAPER_DATA:-../shared/paper-data}
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $CHROMIUM ]]; then
    echo "skip: chromium not installed (scripts/setup.sh installs it); the report was not rendered"
    echo "1 passed, 0 failed"
    exit 0
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0

render() { # name, html: dump the layout, screenshot at the page's height, check every plot
    local name=$1 html=$2 expected=$3
    local flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
                 --disable-component-update --disable-sync --user-data-dir="$TMP/profile-$name")
    timeout 180 "$CHROMIUM" "${flags[@]}" --window-size=1400,4000 --dump-dom "file://$html" 2>/dev/null >"$TMP/$name.dom"
    local height
    height=$(sed -n 's/^height \([0-9]*\)$/\1/p' "$TMP/$name.dom" | head -n 1)
    if [[ -z $height ]]; then
        echo "FAIL $name: no layout from chromium"
        failed=$((failed + 1))
        return
    fi
    timeout 300 "$CHROMIUM" "${flags[@]}" --window-size=1400,"$height" --screenshot="$TMP/$name.png" "file://$html" >/dev/null 2>&1
    if "$BUILD/tests/png_plots" "$TMP/$name.png" "$TMP/$name.dom" "$expected" >"$TMP/$name.check"; then
        echo "ok   $name: $(grep -c '^ok ' "$TMP/$name.check") checks, every plot drawn (page ${height}px)"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        grep FAIL "$TMP/$name.check" | head -n 20
        failed=$((failed + 1))
    fi
}

# a small experiment of ours with breakdown columns: the stacked breakdown plot
{
    echo "experiment,model,operators,placement,latency_s,compute_mobile_s,compute_edge_s,transfer_s,serialize_s"
    for i in $(seq 0 29); do
        echo "ours,tiny,identity,mobile,0.$((40 + i % 7)),0.$((35 + i % 7)),,,0.01"
        echo "ours,tiny,partition,mobile-edge,0.$((30 + i % 5)),0.1$((i % 5)),0.08,0.05,0.02"
        echo "ours,tiny,identity,edge,0.$((20 + i % 3)),,0.15,0.03,0.01"
    done
} >"$TMP/ours.csv"
if out=$($MB report -o "$TMP/ours" "$TMP/ours.csv"); then
    n=$(sed -n 's/.*(\([0-9]*\) plots).*/\1/p' <<<"$out")
    if grep -q "id='breakdown-" "$TMP/ours/report.html"; then echo "ok   breakdown plot present"; passed=$((passed + 1));
    else echo "FAIL no breakdown plot"; failed=$((failed + 1)); fi
    render ours "$TMP/ours/report.html" "$n"
else
    echo "FAIL report of ours.csv"; failed=$((failed + 1))
fi

if [[ -f $DATA/latency.csv ]]; then
    if out=$($MB report -o "$TMP/paper" "$DATA"); then
        n=$(sed -n 's/.*(\([0-9]*\) plots).*/\1/p' <<<"$out")
        for kind in box pareto speedup heat; do
            if grep -q "id='$kind-" "$TMP/paper/report.html"; then echo "ok   $kind plots present"; passed=$((passed + 1));
            else echo "FAIL no $kind plot"; failed=$((failed + 1)); fi
        done
        render paper "$TMP/paper/report.html" "$n"
    else
        echo "FAIL report of the studies' data"; failed=$((failed + 1))
    fi
else
    echo "skip: $DATA not found: only our own small report was rendered"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
