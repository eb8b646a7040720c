#!/usr/bin/env python3
"""The reference recipe for Kiln's sample network, in PyTorch 1.13 (Debian's python3-torch).

It defines the network and the training recipe that `kiln-cli train` reproduces, so the two can be
compared on the same data: a 4-block RepVGG-style net (16-32-32-64 channels; strides 1, 2, 1, 2; GAP;
dropout 0.3; linear), SGD with Nesterov momentum 0.9 and weight decay 5e-4 (not on BN/bias), one-cycle LR
(max 0.05, cos, pct_start 0.3, no momentum cycling), batch 64, seeded shuffling; optional R-Drop.

Usage:
  python3 tools/recipe/repvgg_recipe.py --dataset fashion-mnist --epochs 3 --seeds 1 2 3 [--rdrop-alpha A]
  python3 tools/recipe/repvgg_recipe.py --dataset digits --epochs 30 --seeds 1
Prints one line per run and a JSON summary (mean test accuracy) at the end.
"""
import argparse
import gzip
import json
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from repvgg_block import RepVGGBlock

FASHION = "/usr/share/datasets/fashion-mnist"
DIGITS = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"


class Net(nn.Module):
    """Layer names match the Kiln @Model methods: stage0..stage3, gap, flatten, dropout, fc."""

    def __init__(self, cin=1, classes=10, strides=(1, 2, 1, 2)):
        super().__init__()
        self.stage0 = RepVGGBlock(cin, 16, stride=strides[0])
        self.stage1 = RepVGGBlock(16, 32, stride=strides[1])
        self.stage2 = RepVGGBlock(32, 32, stride=strides[2])
        self.stage3 = RepVGGBlock(32, 64, stride=strides[3])
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.stage3(self.stage2(self.stage1(self.stage0(x))))
        return self.fc(self.dropout(self.flatten(self.gap(x))))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)


def load(dataset):
    if dataset == "fashion-mnist":
        xs = [read_idx(f"{FASHION}/{p}-images-idx3-ubyte.gz") for p in ("train", "t10k")]
        ys = [read_idx(f"{FASHION}/{p}-labels-idx1-ubyte.gz") for p in ("train", "t10k")]
        tr = (torch.tensor(xs[0], dtype=torch.float32).unsqueeze(1) / 255.0, torch.tensor(ys[0], dtype=torch.long))
        te = (torch.tensor(xs[1], dtype=torch.float32).unsqueeze(1) / 255.0, torch.tensor(ys[1], dtype=torch.long))
        return tr, te
    rows = np.loadtxt(gzip.open(DIGITS, "rt"), delimiter=",", dtype=np.float32)
    x = torch.tensor(rows[:, :64].reshape(-1, 1, 8, 8) / 16.0)
    y = torch.tensor(rows[:, 64], dtype=torch.long)
    return (x[:1500], y[:1500]), (x[1500:], y[1500:])


def rdrop_loss(z1, z2, y, alpha):
    ce = 0.5 * (F.cross_entropy(z1, y) + F.cross_entropy(z2, y))
    p_loss = F.kl_div(F.log_softmax(z1, -1), F.softmax(z2, -1), reduction="none").sum()
    q_loss = F.kl_div(F.log_softmax(z2, -1), F.softmax(z1, -1), reduction="none").sum()
    return ce + alpha * (p_loss + q_loss) / 2


def evaluate(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 500):
            correct += (model(x[i:i + 500]).argmax(1) == y[i:i + 500]).sum().item()
    model.train()
    return correct / len(x)


def run(dataset, epochs, batch, lr, alpha, seed, strides):
    torch.manual_seed(seed)
    (xtr, ytr), (xte, yte) = load(dataset)
    model = Net(strides=strides)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0.0}],
                          lr=lr, momentum=0.9, nesterov=True)
    steps = epochs * ((len(xtr) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, cycle_momentum=False)
    g = torch.Generator().manual_seed(seed)
    start = time.time()
    for _ in range(epochs):
        perm = torch.randperm(len(xtr), generator=g)
        for i in range(0, len(xtr), batch):
            idx = perm[i:i + batch]
            xb, yb = xtr[idx], ytr[idx]
            if alpha > 0:
                z = model(torch.cat([xb, xb]))
                loss = rdrop_loss(z[:len(xb)], z[len(xb):], yb, alpha)
            else:
                loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    seconds = time.time() - start
    return evaluate(model, xte, yte), seconds, steps * batch / seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="fashion-mnist", choices=["fashion-mnist", "digits"])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--rdrop-alpha", type=float, default=0.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--strides", type=int, nargs=4, default=None,
                    help="block strides; default 1 2 1 2 (fashion-mnist) or 1 1 1 2 (digits, 8x8 inputs)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    strides = a.strides or ([1, 1, 1, 2] if a.dataset == "digits" else [1, 2, 1, 2])
    accs = []
    for s in a.seeds:
        acc, secs, ips = run(a.dataset, a.epochs, a.batch_size, a.lr, a.rdrop_alpha, s, strides)
        accs.append(acc)
        print(f"seed {s}: test_accuracy {acc:.4f}  train {secs:.1f}s  {ips:.0f} img/s", flush=True)
    print(json.dumps({"dataset": a.dataset, "epochs": a.epochs, "rdrop_alpha": a.rdrop_alpha, "seeds": a.seeds,
                      "test_accuracy": accs, "mean_test_accuracy": sum(accs) / len(accs),
                      "strides": strides, "torch": torch.__version__, "threads": a.threads}))


if __name__ == "__main__":
    main()
