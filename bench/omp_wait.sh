#!/usr/bin/env bash
# mecbench alone under OMP_WAIT_POLICY=passive and =active, interleaved
# (passive, active, active, passive, ...), one fresh process per run; prints
# the median p50/p90 of each policy per thread count. For docs/performance.md.
#   bash bench/omp_wait.sh MODEL.onnx [mecbench bench options such as --input N=F]
# Knobs: MEC_BENCH_ROUNDS (default 3), MEC_BENCH_RUNS (5), MEC_BENCH_WARMUP (1),
# MEC_BENCH_THREADS ("1 2"), BUILD (build).
set -u -o pipefail
cd "$(dirname "$0")/.." || exit 1
[[ $# -ge 1 ]] || { echo "usage: bash bench/omp_wait.sh MODEL.onnx [bench options]" >&2; exit 2; }
MEC=${BUILD:-build}/mecbench
ROUNDS=${MEC_BENCH_ROUNDS:-3}
RUNS=${MEC_BENCH_RUNS:-5}
WARMUP=${MEC_BENCH_WARMUP:-1}
THREADS=${MEC_BENCH_THREADS:-1 2}
[[ -x $MEC ]] || { echo "omp_wait.sh: $MEC not found (make first)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in $THREADS; do
    for ((r = 0; r < ROUNDS; r++)); do
        if ((r % 2 == 0)); then order="passive active"; else order="active passive"; fi
        for p in $order; do
            OMP_WAIT_POLICY=$p "$MEC" bench "$@" --threads "$t" --runs "$RUNS" --warmup "$WARMUP" --json \
                >"$tmp/$p.t$t.r$r.json" || echo "omp_wait.sh: $p t=$t round $r failed" >&2
        done
    done
done
# shellcheck disable=SC2086 # THREADS is a list
/usr/bin/python3 - "$tmp" "$1" $THREADS <<'PY'
import glob, json, os, statistics, sys
d, model, threads = sys.argv[1], sys.argv[2], [int(t) for t in sys.argv[3:]]
print("%s: mecbench p50/p90 ms, median over rounds" % os.path.basename(model))
print("%7s %-8s %9s %9s %7s" % ("threads", "policy", "p50", "p90", "rounds"))
for t in threads:
    for p in ("passive", "active"):
        rs = [json.load(open(f)) for f in sorted(glob.glob("%s/%s.t%d.r*.json" % (d, p, t)))]
        if rs:
            print("%7d %-8s %9.1f %9.1f %7d" % (t, p, statistics.median(r["p50_ms"] for r in rs),
                                              statistics.median(r["p90_ms"] for r in rs), len(rs)))
PY
