#!/usr/bin/env bash
# Kiln and ONNX Runtime on RepVGG-A0 (N=1, 2 threads) with 0, 1 and 2 other CPU-bound processes running
# (busy shell loops), alternating the engines, ROUNDS rounds per load. Appends NetworkBench's JSON lines,
# tagged "load K round R", to OUT. Needs what network_bench.sh needs.
# JVM_OPTS (for example -Dkiln.spin.micros=0) is passed to every run; its text goes into the tags.
# Usage: tools/bench/network_contention.sh OUT [ROUNDS] [SECONDS]
set -euo pipefail
out="$1"; rounds="${2:-2}"; seconds="${3:-8}"
. "$(dirname "$0")/network_env.sh"
busy=()
stop() { [ ${#busy[@]} -gt 0 ] && kill "${busy[@]}" 2>/dev/null; busy=(); }
trap stop EXIT
for load in 0 1 2; do
  for i in $(seq 1 "$load"); do (while :; do :; done) & busy+=($!); done
  for round in $(seq 1 "$rounds"); do
    for engine in ORT KILN; do
      java --add-modules jdk.incubator.vector ${JVM_OPTS:-} -cp "$jar" dev.kiln.samples.benchmark.NetworkBench --dir "$dir" \
        --append "$out" --net REPVGG_A0 --engine "$engine" --batch 1 --threads 2 --seconds "$seconds" \
        --tag "load $load round $round${JVM_OPTS:+ $JVM_OPTS}" > /dev/null 2>> "$out.log"
    done
  done
  stop
done
