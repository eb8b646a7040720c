#!/usr/bin/env bash
# Cold starts of two builds, alternating run by run (ColdStart, Kiln only, each run its own fresh JVM), so that
# the machine's slow phases fall on both alike: ROUNDS pairs of one network, thread count and batch size. Appends
# one JSON line per run to OUT (ColdStart's, with "tag":"a" or "b") and prints, per pair, the second build's first
# forward and first result over the first's, and their medians: on a virtual machine whose speed swings from
# minute to minute the pairs' ratios hold where the times do not.
#
# A and B are class paths (a benchmark jar each, as `mvn -q -pl samples/benchmark -am package -DskipTests` builds
# it; copy one aside before building the other). JAVA_OPTS_A and JAVA_OPTS_B add JVM options (system properties)
# to one side, e.g. an experiment switch, with the same jar on both sides.
#
# Usage: tools/bench/cold_start_ab.sh OUT ROUNDS NET THREADS BATCH A B
set -euo pipefail
if [ $# -ne 7 ]; then
  echo "usage: tools/bench/cold_start_ab.sh OUT ROUNDS NET THREADS BATCH A B" >&2
  exit 2
fi
out="$1"; rounds="$2"; net="$3"; threads="$4"; batch="$5"; a="$6"; b="$7"
. "$(dirname "$0")/network_env.sh"
for side in a b; do
  cp_="$a"; [ "$side" = b ] && cp_="$b"
  for f in ${cp_//:/ }; do
    [ -e "$f" ] || { echo "missing $f (side $side)" >&2; exit 2; }
  done
done
pairs=$(mktemp)
trap 'rm -f "$pairs"' EXIT
for round in $(seq 1 "$rounds"); do
  for side in a b; do
    if [ "$side" = a ]; then cp_="$a"; opts="${JAVA_OPTS_A:-}"; else cp_="$b"; opts="${JAVA_OPTS_B:-}"; fi
    # Only ColdStart's JSON line: some JVM options print to standard output too (compiler directives do).
    # shellcheck disable=SC2086
    line=$(java --add-modules jdk.incubator.vector $opts -cp "$cp_" dev.kiln.samples.benchmark.ColdStart \
      "$dir" "$net" KILN "$threads" "$batch" 2>/dev/null | grep '^{' | sed "s/^{/{\"tag\":\"$side\",/" || true)
    if [ -z "$line" ]; then
      echo "round $round side $side: ColdStart printed no result (run it by hand to see why)" >&2
      exit 1
    fi
    echo "$line" >> "$out"
    echo "$line" >> "$pairs"
  done
done
/usr/bin/env python3 - "$pairs" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
a = [r for r in rows if r["tag"] == "a"]
b = [r for r in rows if r["tag"] == "b"]
call = [y["first_call_ms"] / x["first_call_ms"] for x, y in zip(a, b)]
result = [y["first_result_ms"] / x["first_result_ms"] for x, y in zip(a, b)]
print("first forward b/a per pair: " + " ".join("%.2f" % r for r in call) + "; median %.3f" % statistics.median(call))
print("first result  b/a per pair: " + " ".join("%.2f" % r for r in result) + "; median %.3f" % statistics.median(result))
print("first forward ms, a: %s; b: %s" % (" ".join("%.0f" % x["first_call_ms"] for x in a),
                                          " ".join("%.0f" % x["first_call_ms"] for x in b)))
PY
