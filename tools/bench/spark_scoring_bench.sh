#!/usr/bin/env bash
# Times kiln-spark's scoring job on all 70,000 Fashion-MNIST images (train + test) at local[1] and local[2],
# from IDX files and from Parquet, against single-JVM `kiln-cli eval` at 2 threads on the same images.
#
# Each Spark configuration runs in its own JVM: `kiln-spark bench` runs the whole job (read the images, score,
# write the predictions as Parquet) --runs times in one Spark session and prints each run's time from
# submission to the last prediction written. `kiln-cli eval` times one pass after a warm-up pass; it scores the
# t10k files of its --data directory, so it gets a directory whose t10k files hold all 70,000 images. The
# configurations alternate, round after round, with `uptime` before each.
#
# Usage (from the repository root, after `mvn -q -DskipTests package`):
#   tools/bench/spark_scoring_bench.sh --model fashion.safetensors [--data DIR] [--rounds 3] [--runs 5]
#       [--out bench-results/spark-scoring-DATE.txt]
set -euo pipefail

model=""
data=/usr/share/datasets/fashion-mnist
rounds=3
runs=5
out="bench-results/spark-scoring-$(date +%F).txt"
java=${JAVA:-java}
spark_jar=samples/spark/target/kiln-spark.jar
cli_jar=samples/cli/target/kiln-cli.jar

while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ -z "$model" ] || [ ! -f "$model" ]; then
  echo "--model FILE (FashionNet weights from 'kiln-cli train --dataset fashion-mnist') is required" >&2
  exit 2
fi
for jar in "$spark_jar" "$cli_jar"; do
  [ -f "$jar" ] || { echo "$jar is missing: run mvn -q -DskipTests package first" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SPARK_LOCAL_IP=127.0.0.1
jvm=("$java" --add-modules jdk.incubator.vector)

# Big-endian 32-bit integer as 4 raw bytes.
be32() { printf '%08x' "$1" | xxd -r -p; }

# IDX files holding the training images followed by the test images, under the test files' names (eval loads
# the training files too, so they are linked in as they are).
all="$work/all-as-t10k"
mkdir -p "$all"
for f in "$data"/train-*-ubyte*; do ln -s "$(realpath "$f")" "$all/"; done
# The count field of a labels file (zcat may die of SIGPIPE once head has its 8 bytes: not an error here).
count_of() { { zcat -f "$1" || true; } | head -c 8 | tail -c 4 | xxd -p; }
train_n=$(count_of "$(ls "$data"/train-labels-idx1-ubyte* | head -n 1)")
test_n=$(count_of "$(ls "$data"/t10k-labels-idx1-ubyte* | head -n 1)")
total=$(( 16#$train_n + 16#$test_n ))
{ printf '\x00\x00\x08\x03'; be32 "$total"; be32 28; be32 28
  zcat -f "$data"/train-images-idx3-ubyte* | tail -c +17
  zcat -f "$data"/t10k-images-idx3-ubyte* | tail -c +17; } > "$all/t10k-images-idx3-ubyte"
{ printf '\x00\x00\x08\x01'; be32 "$total"
  zcat -f "$data"/train-labels-idx1-ubyte* | tail -c +9
  zcat -f "$data"/t10k-labels-idx1-ubyte* | tail -c +9; } > "$all/t10k-labels-idx1-ubyte"

mkdir -p "$(dirname "$out")"
{
  echo "# kiln-spark scoring benchmark, $(date -u +%FT%TZ)"
  echo "# $(lscpu | grep 'Model name' | sed 's/  */ /g'), $(nproc) cores; $("$java" -version 2>&1 | head -1)"
  echo "# model $model ($(sha256sum "$model" | cut -c1-12)), data $data: $total images; $rounds rounds, $runs runs per JVM"
  echo "# git $(git rev-parse --short HEAD || echo '?')"
  "${jvm[@]}" -jar "$spark_jar" convert --input idx --data "$data" --split all --partitions 4 --master 'local[2]' \
    --output "$work/images.parquet"
  for r in $(seq 1 "$rounds"); do
    for master in 'local[1]' 'local[2]'; do
      echo "== round $r: spark $master, input idx; load: $(uptime | sed 's/.*load average: //')"
      "${jvm[@]}" -jar "$spark_jar" bench --model "$model" --input idx --data "$data" --split all --runs "$runs" \
        --master "$master"
    done
    echo "== round $r: spark local[2], input parquet; load: $(uptime | sed 's/.*load average: //')"
    "${jvm[@]}" -jar "$spark_jar" bench --model "$model" --input parquet --data "$work/images.parquet" \
      --runs "$runs" --master 'local[2]'
    echo "== round $r: kiln-cli eval --threads 2 (warm-up pass, then the timed pass); load: $(uptime | sed 's/.*load average: //')"
    /usr/bin/time -f "(that JVM: %e s wall, %U s user + %S s system CPU, both passes and start-up)" \
      "${jvm[@]}" -jar "$cli_jar" eval --model "$model" --data "$all" --threads 2 2>&1 | grep -v '^WARNING: Using incubator'
  done
  echo "# done $(date -u +%FT%TZ); load: $(uptime | sed 's/.*load average: //')"
} | tee "$out"
