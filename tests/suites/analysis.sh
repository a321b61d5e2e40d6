#!/usr/bin/env bash
# The analysis verbs end to end: import the studies' data, analyze (the
# headlines), recommend, report, all within a minute; bad input gives one
# readable line and a non-zero exit. Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
MB=$BUILD/mecbench
DATA=${MEC_PAPER_DATA:-../shared/paper-data}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; failed=$((failed + 1)); }
check() { # name, command...
    local name=$1
    shift
    if "$@" >"$TMP/out" 2>&1; then ok "$name"; else bad "$name"; sed 's/^/    /' "$TMP/out" | tail -n 20; fi
}
expect_fail() { # name, expected text, command...
    local name=$1 text=$2
    shift 2
    if "$@" >"$TMP/out" 2>&1; then
        bad "$name (succeeded)"
    elif grep -qF -- "$text" "$TMP/out" && [[ $(wc -l <"$TMP/out") -le 2 ]]; then
        ok "$name"
    else
        bad "$name"; sed 's/^/    /' "$TMP/out"
    fi
}

for v in import analyze recommend report; do
    check "$v --help" bash -c "$MB $v --help | grep -q usage"
done

if [[ -f $DATA/latency.csv ]]; then
    start=$(date +%s)
    check "import the studies' data" bash -c "$MB import -d $TMP/p.db $DATA | grep -q 'imported 92346 requests and 180 accuracy values'"
    check "sqlite3 shell reads it" bash -c "[[ \$(sqlite3 $TMP/p.db \"SELECT COUNT(*) FROM requests r JOIN configurations c ON c.id = r.configuration_id WHERE c.input_set = 'main' AND r.warmup = 0\") == 76000 ]]"
    $MB analyze -d $TMP/p.db >"$TMP/analyze.txt" 2>&1
    check "analyze prints 10 reproduced headlines" bash -c "[[ \$(grep -c 'reproduced\$' $TMP/analyze.txt) == 10 ]] && ! grep -q DIFFERS $TMP/analyze.txt"
    check "analyze: sptq+early-exit vs sptq on the edge 1.17x" grep -qE 'black +edge +sptq\+early-exit vs sptq +1\.17x +1\.17x' "$TMP/analyze.txt"
    check "analyze: distill+sptq vs prune on the edge 5.17x" grep -qE 'white +edge +distill\+sptq vs prune +5\.17x +5\.17x' "$TMP/analyze.txt"
    check "analyze --json is valid and complete" bash -c "$MB analyze -d $TMP/p.db --json --bootstrap 0 > $TMP/a.json && grep -q '\"computed\": 3.36' $TMP/a.json && grep -c '\"reproduced\": true' $TMP/a.json | grep -qx 10"
    check "analyze straight from the CSV directory" bash -c "$MB analyze --brief $DATA | grep -c reproduced | grep -qx 10"
    check "analyze --adjust none (as the studies)" bash -c "$MB analyze -d $TMP/p.db --adjust none --brief >/dev/null"
    check "recommend with constraints" bash -c "$MB recommend -d $TMP/p.db --max-loss 1% --placements mobile,edge --percentile 95 > $TMP/rec.txt && grep -q 'black study, on the edge: sptq+early-exit is fastest' $TMP/rec.txt && grep -q 'sptq loses least' $TMP/rec.txt && grep -q '<- best' $TMP/rec.txt"
    check "recommend --json" bash -c "$MB recommend -d $TMP/p.db --json | grep -q '\"pareto\": true'"
    check "report writes HTML, Markdown, CSV, LaTeX" bash -c "$MB report -d $TMP/p.db -o $TMP/rep >/dev/null && test -s $TMP/rep/report.html && test -s $TMP/rep/tables.md && test -s $TMP/rep/tables.csv && grep -q 'begin{tabular}' $TMP/rep/tables.tex"
    elapsed=$(($(date +%s) - start))
    if [[ $elapsed -lt 60 ]]; then ok "import + analyze + recommend + report in ${elapsed}s (< 60 s)"; else bad "took ${elapsed}s"; fi
    expect_fail "re-import is refused, nothing written" "already in the database" $MB import -d $TMP/p.db $DATA/accuracy.csv
else
    echo "skip: $DATA/latency.csv not found (set MEC_PAPER_DATA); the studies' checks did not run"
fi

printf 'study,model,operator,placement,latency_s\ns,m,identity,moon,1\n' >"$TMP/pl.csv"
expect_fail "unknown placement" "placement 'moon' is not one of" $MB import -d $TMP/x.db "$TMP/pl.csv"
printf 'study,model,operator,placement,latency_s\ns,m,identity,edge,-1\ns,m,identity,edge,NaN\n' >"$TMP/neg.csv"
expect_fail "negative and NaN latency" "neg.csv:2: latency_s -1 is negative" $MB import -d $TMP/x.db "$TMP/neg.csv"
printf 'study,model,placement\ns,m,edge\n' >"$TMP/miss.csv"
expect_fail "missing columns" "missing column(s): operator, latency_s" $MB import -d $TMP/x.db "$TMP/miss.csv"
expect_fail "no database" "no such results database" $MB analyze -d $TMP/none.db
printf 'study,model,operator,placement,latency_s\ns,m,identity,edge,1\n' >"$TMP/one.csv"
$MB import -d $TMP/v.db "$TMP/one.csv" >/dev/null 2>&1
sqlite3 $TMP/v.db 'PRAGMA user_version = 7' 2>/dev/null
expect_fail "future schema version" "schema version 7 is newer" $MB analyze -d $TMP/v.db
check "a group of one is analysed" bash -c "$MB analyze --brief $TMP/one.csv >/dev/null"
expect_fail "bad --adjust" "not one of none, bonferroni, holm" $MB analyze --adjust fdr $TMP/one.csv
expect_fail "bad --placements" "placement 'moon'" $MB recommend --placements edge,moon $TMP/one.csv

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
