#!/usr/bin/env bash
# Whole-network comparison, each run in its own fresh process: Kiln (fused, SIMD path), ONNX Runtime and
# PyTorch on RepVGG-A0 and MobileNet v1, N = 1 and 8, 1 and 2 threads, ROUNDS rounds alternating the
# engines; then one 32-second Kiln run per network (N=1, 1 thread: the 1-second windows after 2 s) and
# Kiln's scalar path (no --add-modules) once per network at N=1, 1 thread. Appends one JSON
# line per run to OUT (NetworkBench's and pytorch_network_bench.py's members).
#
# Each Kiln run then alternates with ONNX Runtime in its own process for ALTERNATE rounds of 1-second slices
# (default 6; 0 skips): the per-round ratios there are not moved by the machine's phases between processes.
#
# NETS, BATCHES and THREADS (space-separated) narrow the grid; EXTRA=no skips the settling and scalar runs.
#
# Needs: the benchmark jar (mvn -q -pl samples/benchmark -am package -DskipTests) and the networks
# (/usr/bin/python3 tools/bench/networks.py). Usage: tools/bench/network_bench.sh OUT [ROUNDS] [SECONDS]
set -euo pipefail
out="$1"; rounds="${2:-2}"; seconds="${3:-12}"
. "$(dirname "$0")/network_env.sh"
bench() { java --add-modules jdk.incubator.vector -cp "$jar" dev.kiln.samples.benchmark.NetworkBench \
  --dir "$dir" --append "$out" "$@" > /dev/null 2>> "$out.log"; }
for net in ${NETS:-REPVGG_A0 MOBILENET_V1}; do
  py=$(echo "$net" | tr 'A-Z_' 'a-z-')
  for batch in ${BATCHES:-1 8}; do
    for threads in ${THREADS:-1 2}; do
      for round in $(seq 1 "$rounds"); do
        bench --net "$net" --engine ORT --batch "$batch" --threads "$threads" --seconds "$seconds" --tag "round $round"
        bench --net "$net" --engine KILN --batch "$batch" --threads "$threads" --seconds "$seconds" --tag "round $round" \
          --alternate "${ALTERNATE:-6}"
        /usr/bin/python3 "$root/tools/bench/pytorch_network_bench.py" --net "$py" --batch "$batch" \
          --threads "$threads" --seconds "$seconds" --dir "$dir" >> "$out" 2>> "$out.log"
      done
    done
  done
  [ "${EXTRA:-yes}" = no ] && continue
  bench --net "$net" --engine KILN --batch 1 --threads 1 --seconds 32 --tag "settling"
  java -cp "$jar" dev.kiln.samples.benchmark.NetworkBench --dir "$dir" --append "$out" --net "$net" \
    --engine KILN --batch 1 --threads 1 --seconds "$seconds" --tag "scalar path" > /dev/null 2>> "$out.log"
done
