#!/usr/bin/env python3
"""PyTorch's side of the whole-network benchmark (NetworkBench in samples/benchmark).

Times the deploy form of a network written by tools/bench/networks.py (RepVGG-A0 with one fused 3x3 conv
per block, MobileNet v1 in eval mode) in PyTorch 1.13 on the CPU, and prints one JSON line with the same
members as NetworkBench: first_result_ms (from before `import torch` to the first output: build, load the
training-form weights, deploy, first forward), steady_median_ms (median of the last third of the calls),
settled_after_s (first second from which every 1-second window's median is within 1.25x of the steady
median), the window medians, and the largest difference from the reference output the file holds.

Usage: /usr/bin/python3 tools/bench/pytorch_network_bench.py --net repvgg-a0 --batch 1 --threads 1
"""
import time

START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "golden"))
import networks  # noqa: E402
import st  # noqa: E402

def load(path):
    tensors, _ = st.load(path)
    return {name: torch.from_numpy(array.copy()) for name, array in tensors.items()}


NETS = {"repvgg-a0": networks.RepVggA0, "mobilenet-v1": networks.MobileNetV1, "mobilenet-v1-160": networks.MobileNetV1}


def cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def windows(calls):
    """Median latency of each full 1-second window of (start_s, latency_ms) calls."""
    result, current, end = [], [], 1.0
    for at, ms in calls:
        while at >= end:
            result.append(statistics.median(current) if current else float("nan"))
            current, end = [], end + 1.0
        current.append(ms)
    return result


def main():
    root = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--net", choices=sorted(NETS), default="repvgg-a0")
    parser.add_argument("--batch", type=int, choices=(1, 8), default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--dir", default=os.path.join(root, "bench-networks"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    net = NETS[args.net]()
    net.load_state_dict(load(os.path.join(args.dir, args.net + ".safetensors")))
    model = net.eval().deploy()
    reference = load(os.path.join(args.dir, "%s-n%d.safetensors" % (args.net, args.batch)))
    x, expected = reference["input"], reference["output"]
    with torch.no_grad():
        y = model(x)
        first = time.perf_counter()
        diff = (y - expected).abs().max().item()
        calls = []
        end = first + args.seconds
        t = first
        while t < end:
            s = time.perf_counter()
            model(x)
            t = time.perf_counter()
            calls.append((s - first, (t - s) * 1e3))
    latencies = [ms for _, ms in calls]
    steady = statistics.median(latencies[len(latencies) - max(1, len(latencies) // 3):])
    medians = windows(calls)
    settled = len(medians)
    while settled > 0 and medians[settled - 1] <= 1.25 * steady:
        settled -= 1
    print(json.dumps({
        "net": args.net, "engine": "PYTORCH", "batch": args.batch, "threads": args.threads,
        "first_result_ms": round((first - START) * 1e3, 1), "max_abs_diff": diff, "calls": len(calls),
        "steady_median_ms": round(steady, 3), "min_ms": round(min(latencies), 3), "settled_after_s": settled,
        "window_medians_ms": [round(m, 2) for m in medians], "torch": torch.__version__,
        "cpu": cpu()}))


if __name__ == "__main__":
    main()
