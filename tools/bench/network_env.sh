# Sourced by network_bench.sh, network_contention.sh, cold_start.sh and cold_start_ab.sh: sets root (the repository), jar (the benchmark jar)
# and dir (the networks tools/bench/networks.py writes: KILN_BENCH_NETWORKS, else bench-networks), and exits
# with code 2 if the jar or the networks are missing.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
jar="$root/samples/benchmark/target/kiln-benchmarks.jar"
dir="${KILN_BENCH_NETWORKS:-$root/bench-networks}"
[ -f "$jar" ] || { echo "missing $jar: build it first (see tools/bench/README.md)" >&2; exit 2; }
[ -f "$dir/repvgg-a0.onnx" ] || { echo "missing $dir: run tools/bench/networks.py first" >&2; exit 2; }
