#!/usr/bin/env python3
"""Times the Kiln benchmark suite's convolutions in PyTorch (eval forward, CPU, float32, NCHW).

The suite is Kiln's (samples/benchmark's ConvShape: same names, shapes, batch sizes), read from the built
benchmark jar. For each thread count (torch.set_num_threads) and shape it warms up, then times single
forward calls under torch.no_grad() and reports the median (and the minimum) in microseconds and GFLOP/s
(2 * multiply-adds / time), as a table on stdout and as JSON.

    mvn -q -o -pl samples/benchmark -am package -DskipTests
    /usr/bin/python3 tools/bench/pytorch_conv_bench.py --threads 1 2 --out pytorch-results.json
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_results  # noqa: E402

DEFAULT_JAR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples", "benchmark",
                           "target", "kiln-benchmarks.jar")


def load_suite(jar):
    """name: (batch, in, out, height, width, kernel, stride, padding, groups), as ConvShape.main prints it."""
    lines = subprocess.run(["java", "-cp", jar, "dev.kiln.samples.benchmark.ConvShape"], check=True,
                           capture_output=True, text=True).stdout.splitlines()
    suite = {}
    for line in lines:
        s = json.loads(line)
        suite[s["name"]] = (s["batch"], s["in"], s["out"], s["size"], s["size"], s["kernel"], s["stride"],
                            s["padding"], s["groups"])
    return suite


def macs(batch, cin, cout, h, w, k, s, p, g):
    oh = (h + 2 * p - k) // s + 1
    ow = (w + 2 * p - k) // s + 1
    return batch * cout * oh * ow * (cin // g) * k * k


def time_shape(spec, warmup, runs, min_seconds):
    batch, cin, cout, h, w, k, s, p, g = spec
    conv = torch.nn.Conv2d(cin, cout, k, stride=s, padding=p, groups=g, bias=True).eval()
    x = torch.rand(batch, cin, h, w) * 2 - 1
    samples = []
    with torch.no_grad():
        for _ in range(warmup):
            conv(x)
        start = time.perf_counter()
        while len(samples) < runs or time.perf_counter() - start < min_seconds:
            t0 = time.perf_counter_ns()
            conv(x)
            samples.append(time.perf_counter_ns() - t0)
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default 1 2)")
    parser.add_argument("--jar", default=DEFAULT_JAR, help="the benchmark jar whose suite to time")
    parser.add_argument("--shapes", nargs="+", metavar="SHAPE", help="subset of the suite (default: all)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls per shape (default 20)")
    parser.add_argument("--runs", type=int, default=200, help="minimum timed calls per shape (default 200)")
    parser.add_argument("--min-seconds", type=float, default=1.0,
                        help="keep timing until at least this long has passed (default 1.0)")
    parser.add_argument("--out", default="pytorch-results.json", help="JSON output file")
    args = parser.parse_args()
    suite = load_suite(args.jar)
    shapes = args.shapes or list(suite)
    unknown = [s for s in shapes if s not in suite]
    if unknown:
        parser.error(f"unknown shapes {unknown}; the suite: {list(suite)}")

    torch.manual_seed(0)
    rows = []
    print(f"{'shape':<18} {'threads':>7} {'median us':>12} {'min us':>12} {'GFLOP/s':>9} {'runs':>6}")
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name in shapes:
            spec = suite[name]
            samples = time_shape(spec, args.warmup, args.runs, args.min_seconds)
            median_ns = statistics.median(samples)
            row = {
                "shape": name,
                "threads": threads,
                "batch": spec[0],
                "macs": macs(*spec),
                "median_us": median_ns / 1e3,
                "min_us": min(samples) / 1e3,
                "gflops": 2.0 * macs(*spec) / median_ns,
                "runs": len(samples),
            }
            rows.append(row)
            print(f"{name:<18} {threads:>7} {row['median_us']:>12.2f} {row['min_us']:>12.2f} "
                  f"{row['gflops']:>9.2f} {row['runs']:>6}")
    pytorch_results.write(args.out, rows, args.warmup, versions=[("mkldnn", torch.backends.mkldnn.is_available())])


if __name__ == "__main__":
    main()
