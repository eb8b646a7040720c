#!/usr/bin/env python3
"""Times one training step of the sample network in PyTorch: the counterpart of Kiln's JMH benchmark
samples/benchmark/.../TrainingStepBenchmark.java.

The network and the R-Drop loss are imported from tools/recipe/repvgg_recipe.py (Net: four RepVGG blocks
16-32-32-64, strides 1 2 1 2, GAP, flatten, dropout 0.3, linear 10, on 1x28x28). One step is what the
recipe does per batch: forward (on [x; x] with R-Drop), loss, zero_grad, backward, SGD step (Nesterov
momentum 0.9, weight decay 5e-4 except on rank-1 tensors), at batch 64. For each thread count
(torch.set_num_threads) and R-Drop off/on it warms up, times single steps, and reports the median step
time as images per second (64 images per step, R-Drop or not), the fastest step, and the process CPU time
per step (all threads; a loaded machine inflates it much less than the wall time), as a table and as JSON.
samples/benchmark's TrainingStepTimer prints the same columns for Kiln.

    /usr/bin/python3 tools/bench/pytorch_train_bench.py --threads 1 2 --out pytorch-train.json
"""
import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "recipe"))
import pytorch_results  # noqa: E402
from repvgg_recipe import Net, rdrop_loss  # noqa: E402

BATCH = 64
BATCHES = 4


def make_setup(seed):
    torch.manual_seed(seed)
    model = Net()
    model.train()
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0.0}],
                          lr=0.05, momentum=0.9, nesterov=True)
    g = torch.Generator().manual_seed(seed)
    xs = [torch.rand(BATCH, 1, 28, 28, generator=g) for _ in range(BATCHES)]
    ys = [torch.randint(0, 10, (BATCH,), generator=g) for _ in range(BATCHES)]
    return model, opt, xs, ys


def step(model, opt, x, y, alpha):
    if alpha > 0:
        z = model(torch.cat([x, x]))
        loss = rdrop_loss(z[:len(x)], z[len(x):], y, alpha)
    else:
        loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def time_steps(alpha, warmup, runs, min_seconds, seed):
    model, opt, xs, ys = make_setup(seed)
    for i in range(warmup):
        step(model, opt, xs[i % BATCHES], ys[i % BATCHES], alpha)
    samples = []
    start = time.perf_counter()
    cpu0 = time.process_time()
    i = 0
    while len(samples) < runs or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter_ns()
        step(model, opt, xs[i % BATCHES], ys[i % BATCHES], alpha)
        samples.append(time.perf_counter_ns() - t0)
        i += 1
    return samples, (time.process_time() - cpu0) / len(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default 1 2)")
    parser.add_argument("--alpha", type=float, default=1.0, help="R-Drop alpha of the R-Drop rows (default 1)")
    parser.add_argument("--modes", nargs="+", default=["plain", "rdrop"], choices=["plain", "rdrop"],
                        help="which steps to time (default both)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed steps per configuration (default 20)")
    parser.add_argument("--runs", type=int, default=100, help="minimum timed steps per configuration (default 100)")
    parser.add_argument("--min-seconds", type=float, default=5.0,
                        help="keep timing until at least this long has passed (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="pytorch-train.json", help="JSON output file")
    args = parser.parse_args()

    rows = []
    print(f"{'mode':<6} {'threads':>7} {'median ms':>10} {'min ms':>8} {'images/s':>9} {'best i/s':>9} "
          f"{'cpu ms':>10} {'images/cpu-s':>11} {'steps':>6}")
    for threads in args.threads:
        torch.set_num_threads(threads)
        for mode in args.modes:
            alpha = args.alpha if mode == "rdrop" else 0.0
            samples, cpu_seconds = time_steps(alpha, args.warmup, args.runs, args.min_seconds, args.seed)
            median_ns = statistics.median(samples)
            row = {
                "mode": mode,
                "threads": threads,
                "batch": BATCH,
                "median_ms": median_ns / 1e6,
                "min_ms": min(samples) / 1e6,
                "images_per_second": BATCH * 1e9 / median_ns,
                "best_images_per_second": BATCH * 1e9 / min(samples),
                "cpu_ms_per_step": cpu_seconds * 1e3,
                "images_per_cpu_second": BATCH / cpu_seconds,
                "steps": len(samples),
            }
            rows.append(row)
            print(f"{mode:<6} {threads:>7} {row['median_ms']:>10.2f} {row['min_ms']:>8.2f} "
                  f"{row['images_per_second']:>9.0f} {row['best_images_per_second']:>9.0f} "
                  f"{row['cpu_ms_per_step']:>10.2f} {row['images_per_cpu_second']:>11.0f} {row['steps']:>6}",
                  flush=True)
    pytorch_results.write(args.out, rows, args.warmup,
                          setup=[("load_average", os.getloadavg()), ("rdrop_alpha", args.alpha)])


if __name__ == "__main__":
    main()
