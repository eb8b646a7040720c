#!/usr/bin/env python3
"""The reference recipe for Kiln's sample network, in PyTorch 1.13 (Debian's python3-torch).

It defines the network and the training recipe that `kiln-cli train` reproduces, so the two can be
compared on the same data: a 4-block RepVGG-style net (16-32-32-64 channels; strides 1, 2, 1, 2; GAP;
dropout 0.3; linear), SGD with Nesterov momentum 0.9 and weight decay 5e-4 (not on BN/bias), one-cycle LR
(max 0.05, cos, pct_start 0.3, no momentum cycling), batch 64 with the last partial batch kept, seeded
shuffling; optional R-Drop.

The options that shape the network and the loss have the names and meanings of `kiln-cli train`'s:
  --train-samples N      train on the first N training images (file order)
  --dropout-at WHERE     head: dropout before the classifier only (the sample network);
                         blocks: also after every RepVGG block (layers drop0..drop3)
  --dropout P            drop probability of every dropout layer (default 0.3)
  --rdrop-alpha A        R-Drop KL weight; 0 trains with plain cross-entropy
  --kl-reduction R       sum (KL summed over the batch) or batchmean (divided by the batch size)

Usage:
  python3 tools/recipe/repvgg_recipe.py --dataset fashion-mnist --epochs 3 --seeds 1 2 3 [--rdrop-alpha A]
  python3 tools/recipe/repvgg_recipe.py --dataset digits --epochs 30 --seeds 1
Prints one line per run and a JSON summary (options, per-run accuracies and times, mean) at the end; the
test set is evaluated once, after training.
"""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from repvgg_block import RepVGGBlock

FASHION = "/usr/share/datasets/fashion-mnist"
# the UCI digits as the Kiln runtime bundles them (scikit-learn's digits.csv.gz: 64 pixel counts and the label)
DIGITS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "runtime", "src", "main", "resources",
                      "dev", "kiln", "data", "digits.csv.gz")


DROPOUT_AT = ("head", "blocks")


class Net(nn.Module):
    """Layer names and order match the Kiln @Model methods: stage0..stage3 (with dropout_at="blocks" each
    followed by drop0..drop3), gap, flatten, dropout, fc. Dropout layers hold no parameters and draw no
    random numbers at construction, so both variants start from the same weights for a seed."""

    def __init__(self, cin=1, classes=10, strides=(1, 2, 1, 2), dropout=0.3, dropout_at="head"):
        super().__init__()
        if dropout_at not in DROPOUT_AT:
            raise ValueError(f"dropout_at must be one of {DROPOUT_AT} but was {dropout_at!r}")
        c = cin
        for i, (cout, stride) in enumerate(zip((16, 32, 32, 64), strides)):
            self.add_module(f"stage{i}", RepVGGBlock(c, cout, stride=stride))
            if dropout_at == "blocks":
                self.add_module(f"drop{i}", nn.Dropout(dropout))
            c = cout
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        for layer in self.children():
            x = layer(x)
        return x


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


KL_REDUCTIONS = ("sum", "batchmean")


def rdrop_loss(z1, z2, y, alpha, kl_reduction="sum"):
    """0.5 (CE1 + CE2) + alpha (KL(Q||P) + KL(P||Q)) / 2, each KL summed over the classes and then summed over
    the batch ("sum", the official implementation's) or divided by the batch size ("batchmean")."""
    if kl_reduction not in KL_REDUCTIONS:
        raise ValueError(f"kl_reduction must be one of {KL_REDUCTIONS} but was {kl_reduction!r}")
    ce = 0.5 * (F.cross_entropy(z1, y) + F.cross_entropy(z2, y))
    p_loss = F.kl_div(F.log_softmax(z1, -1), F.softmax(z2, -1), reduction=kl_reduction)
    q_loss = F.kl_div(F.log_softmax(z2, -1), F.softmax(z1, -1), reduction=kl_reduction)
    return ce + alpha * (p_loss + q_loss) / 2


def evaluate(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 500):
            correct += (model(x[i:i + 500]).argmax(1) == y[i:i + 500]).sum().item()
    model.train()
    return correct / len(x)


def first(split, n):
    """The first n samples of a (images, labels) split, as kiln-cli's --train-samples takes them."""
    if n is None:
        return split
    if not 1 <= n <= len(split[0]):
        raise ValueError(f"train_samples must be in [1, {len(split[0])}] but was {n}")
    return split[0][:n], split[1][:n]


def run(dataset, epochs, batch, lr, alpha, seed, strides, train_samples=None, dropout=0.3, dropout_at="head",
        kl_reduction="sum"):
    torch.manual_seed(seed)
    train, (xte, yte) = load(dataset)
    xtr, ytr = first(train, train_samples)
    model = Net(strides=strides, dropout=dropout, dropout_at=dropout_at)
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
                loss = rdrop_loss(z[:len(xb)], z[len(xb):], yb, alpha, kl_reduction)
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
    ap.add_argument("--rdrop-alpha", type=float, default=0.0, help="R-Drop KL weight; 0: plain cross-entropy")
    ap.add_argument("--kl-reduction", default="sum", choices=KL_REDUCTIONS,
                    help="R-Drop KL over the batch: sum (default) or batchmean (divided by the batch size)")
    ap.add_argument("--train-samples", type=int, default=None, metavar="N",
                    help="train on the first N training images only (default: all)")
    ap.add_argument("--dropout-at", default="head", choices=DROPOUT_AT,
                    help="head: dropout before the classifier only; blocks: also after every block")
    ap.add_argument("--dropout", type=float, default=0.3, metavar="P", help="drop probability (default 0.3)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--strides", type=int, nargs=4, default=None,
                    help="block strides; default 1 2 1 2 (fashion-mnist) or 1 1 1 2 (digits, 8x8 inputs)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    strides = a.strides or ([1, 1, 1, 2] if a.dataset == "digits" else [1, 2, 1, 2])
    if not 0.0 <= a.dropout < 1.0:
        ap.error(f"--dropout must be in [0, 1) but was {a.dropout}")
    if not a.rdrop_alpha >= 0.0:
        ap.error(f"--rdrop-alpha must be >= 0 but was {a.rdrop_alpha}")
    accs, seconds = [], []
    for s in a.seeds:
        acc, secs, ips = run(a.dataset, a.epochs, a.batch_size, a.lr, a.rdrop_alpha, s, strides, a.train_samples,
                             a.dropout, a.dropout_at, a.kl_reduction)
        accs.append(acc)
        seconds.append(secs)
        print(f"seed {s}: test_accuracy {acc:.4f}  train {secs:.1f}s  {ips:.0f} img/s", flush=True)
    print(json.dumps({"dataset": a.dataset, "epochs": a.epochs, "batch_size": a.batch_size, "lr": a.lr,
                      "rdrop_alpha": a.rdrop_alpha, "kl_reduction": a.kl_reduction,
                      "train_samples": a.train_samples, "dropout_at": a.dropout_at, "dropout": a.dropout,
                      "seeds": a.seeds, "test_accuracy": accs, "train_seconds": seconds,
                      "mean_test_accuracy": sum(accs) / len(accs),
                      "strides": strides, "torch": torch.__version__, "threads": a.threads}))


if __name__ == "__main__":
    main()
