#!/usr/bin/env python3
"""Times the Kiln benchmark suite's convolutions in PyTorch (eval forward, CPU, float32, NCHW).

The suite mirrors samples/benchmark/src/main/java/dev/kiln/samples/benchmark/ConvShape.java: same
names, shapes, batch sizes. For each thread count (torch.set_num_threads) and shape it warms up, then
times single forward calls under torch.no_grad() and reports the median (and the minimum) in
microseconds and GFLOP/s (2 * multiply-adds / time), as a table on stdout and as JSON.

    /usr/bin/python3 tools/bench/pytorch_conv_bench.py --threads 1 2 --out pytorch-results.json
"""
import argparse
import json
import platform
import statistics
import time

import torch

# name: (batch, in, out, height, width, kernel, stride, padding, groups) -- keep in sync with ConvShape
SUITE = {
    "TINY": (1, 2, 2, 9, 9, 3, 1, 1, 1),
    "GROUPED": (1, 2, 4, 9, 9, 3, 1, 1, 2),
    "C1_16_28": (1, 1, 16, 28, 28, 3, 1, 1, 1),
    "C16_32_14": (1, 16, 32, 14, 14, 3, 1, 1, 1),
    "C48_48_56": (1, 48, 48, 56, 56, 3, 1, 1, 1),
    "C96_96_28": (1, 96, 96, 28, 28, 3, 1, 1, 1),
    "C192_192_14": (1, 192, 192, 14, 14, 3, 1, 1, 1),
    "STEM_3_48_224_S2": (1, 3, 48, 224, 224, 3, 2, 1, 1),
    "DW_32_56": (1, 32, 32, 56, 56, 3, 1, 1, 32),
    "PW_64_56": (1, 64, 64, 56, 56, 1, 1, 0, 1),
    "C1_16_28_N32": (32, 1, 16, 28, 28, 3, 1, 1, 1),
    "C16_32_14_N32": (32, 16, 32, 14, 14, 3, 1, 1, 1),
    "C64_64_56": (1, 64, 64, 56, 56, 3, 1, 1, 1),
}


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
    parser.add_argument("--shapes", nargs="+", default=list(SUITE), choices=list(SUITE), metavar="SHAPE",
                        help="subset of the suite (default: all)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls per shape (default 20)")
    parser.add_argument("--runs", type=int, default=200, help="minimum timed calls per shape (default 200)")
    parser.add_argument("--min-seconds", type=float, default=1.0,
                        help="keep timing until at least this long has passed (default 1.0)")
    parser.add_argument("--out", default="pytorch-results.json", help="JSON output file")
    args = parser.parse_args()

    torch.manual_seed(0)
    rows = []
    print(f"{'shape':<18} {'threads':>7} {'median us':>12} {'min us':>12} {'GFLOP/s':>9} {'runs':>6}")
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name in args.shapes:
            spec = SUITE[name]
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
    result = {
        "engine": "pytorch",
        "torch_version": torch.__version__,
        "mkldnn": torch.backends.mkldnn.is_available(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "warmup": args.warmup,
        "results": rows,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
