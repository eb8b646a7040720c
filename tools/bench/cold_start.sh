#!/usr/bin/env bash
# Cold start of whole networks, each run in its own fresh JVM that runs nothing else first (ColdStart, no
# picocli): Kiln (construct + load + fuse + first forward) and ONNX Runtime (session + first run) in turns, on
# RepVGG-A0 and MobileNet v1, N = 1 and 8, 1 and 2 threads, ROUNDS rounds. Appends one JSON line per run to OUT,
# with the processor time per thread at the first result.
#
# NETS, BATCHES and THREADS (space-separated) narrow the grid.
#
# Needs: the benchmark jar (mvn -q -pl samples/benchmark -am package -DskipTests) and the networks
# (/usr/bin/python3 tools/bench/networks.py). Usage: tools/bench/cold_start.sh OUT [ROUNDS]
set -euo pipefail
out="$1"; rounds="${2:-4}"
. "$(dirname "$0")/network_env.sh"
for net in ${NETS:-REPVGG_A0 MOBILENET_V1}; do
  for batch in ${BATCHES:-1 8}; do
    for threads in ${THREADS:-1 2}; do
      for round in $(seq 1 "$rounds"); do
        for engine in KILN ORT; do
          java --add-modules jdk.incubator.vector -cp "$jar" dev.kiln.samples.benchmark.ColdStart \
            "$dir" "$net" "$engine" "$threads" "$batch" >> "$out" 2>> "$out.log"
        done
      done
    done
  done
done
