"""Golden vectors for @Conv2d: torch.nn.Conv2d (+ torch.relu) forward and backward.

Writes processor/src/test/resources/golden/conv/conv_golden.safetensors. Per case `cNNN` the tensors
`cNNN.input`, `.weight`, `.bias` (only with bias), `.output`, `.grad_output`, `.grad_input`,
`.grad_weight`, `.grad_bias` (only with bias), all float32; the header metadata holds `cases` (the number
of cases) and per case `cNNN`: a JSON object with the @Conv2d attributes as written in Java
(inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, paddingMode, activation,
height, width) plus `batch`.

The cases form a covering design over the attribute values (every pair of values of two different
attributes appears at least COVER times where the pair is valid), not a Cartesian product. Inputs are
rounded to float32 first; the oracle then computes in float64 and rounds its results once.

Run: /usr/bin/python3 tools/golden/conv_golden.py   (from the repository root)
"""
import itertools
import json
import os
import random
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

OUT = os.path.join("processor", "src", "test", "resources", "golden", "conv", "conv_golden.safetensors")
COVER = 4

FACTORS = {
    "kernel": [(1,), (2,), (3,), (5,), (3, 5)],
    "stride": [(1,), (2,), (2, 1)],
    "padding": ["0", "1", "1,2", "same", "valid"],
    "dilation": [(1,), (2,)],
    "groups": ["one", "two", "depthwise", "multiplier2"],
    "bias": [True, False],
    "mode": ["ZEROS", "REFLECT", "REPLICATE", "CIRCULAR"],
    "activation": ["NONE", "RELU"],
}
NAMES = list(FACTORS)


def pair2(v):
    return (v[0], v[0]) if len(v) == 1 else tuple(v)


def resolve_padding(text, k, d):
    """(top, bottom, left, right) as PyTorch resolves it."""
    if text == "valid":
        return (0, 0, 0, 0)
    if text == "same":
        out = []
        for kk, dd in zip(k, d):
            total = dd * (kk - 1)
            out += [total // 2, total - total // 2]
        return tuple(out)
    parts = [int(p) for p in text.split(",")]
    ph, pw = (parts[0], parts[0]) if len(parts) == 1 else parts
    return (ph, ph, pw, pw)


def channels(kind, rnd):
    if kind == "one":
        return rnd.choice([1, 2, 3]), rnd.choice([2, 3]), 1
    if kind == "two":
        return 4, rnd.choice([2, 4, 6]), 2
    if kind == "depthwise":
        return 3, 3, 3
    c = rnd.choice([2, 3])
    return c, 2 * c, c


def valid(row, h, w):
    k, s, d = pair2(row["kernel"]), pair2(row["stride"]), pair2(row["dilation"])
    if row["padding"] == "same" and s != (1, 1):
        return False
    top, bottom, left, right = resolve_padding(row["padding"], k, d)
    if row["mode"] == "REFLECT" and (max(top, bottom) >= h or max(left, right) >= w):
        return False
    if row["mode"] == "CIRCULAR" and (max(top, bottom) > h or max(left, right) > w):
        return False
    return d[0] * (k[0] - 1) + 1 <= h + top + bottom and d[1] * (k[1] - 1) + 1 <= w + left + right


def with_shape(row, rnd):
    """Adds a non-square input size that makes the row valid, or returns None."""
    for _ in range(50):
        h = rnd.randint(3, 9)
        w = rnd.randint(4, 10)
        if h != w and valid(row, h, w):
            return dict(row, height=h, width=w)
    return None


def pairs_of(row):
    for (i, a), (j, b) in itertools.combinations(enumerate(NAMES), 2):
        yield (a, FACTORS[a].index(row[a]), b, FACTORS[b].index(row[b]))


def covering_design(rnd):
    # Which pairs are possible at all (some, like same + stride 2, are not).
    possible = set()
    for _ in range(20000):
        row = {n: rnd.choice(v) for n, v in FACTORS.items()}
        if with_shape(row, rnd) is not None:
            possible.update(pairs_of(row))
    count = {p: 0 for p in possible}
    rows = []
    while any(c < COVER for c in count.values()):
        best, best_gain = None, 0
        for _ in range(400):
            row = {n: rnd.choice(v) for n, v in FACTORS.items()}
            shaped = with_shape(row, rnd)
            if shaped is None:
                continue
            gain = sum(1 for p in pairs_of(row) if count[p] < COVER)
            if gain > best_gain:
                best, best_gain = shaped, gain
        if best is None:
            continue
        for p in pairs_of(best):
            count[p] += 1
        rows.append(best)
    return rows


def attributes(row, rnd):
    cin, cout, groups = channels(row["groups"], rnd)
    return {
        "inChannels": cin,
        "outChannels": cout,
        "kernelSize": list(row["kernel"]),
        "stride": list(row["stride"]),
        "padding": row["padding"],
        "dilation": list(row["dilation"]),
        "groups": groups,
        "bias": row["bias"],
        "paddingMode": row["mode"],
        "activation": row["activation"],
        "height": row["height"],
        "width": row["width"],
        "batch": rnd.choice([1, 2, 2]),
    }


def torch_padding(text):
    if text in ("same", "valid"):
        return text
    parts = [int(p) for p in text.split(",")]
    return parts[0] if len(parts) == 1 else tuple(parts)


def run_case(a, gen):
    """Returns the tensors of one case, resampling until no pre-activation sits near the ReLU kink."""
    conv = torch.nn.Conv2d(a["inChannels"], a["outChannels"], tuple(pair2(a["kernelSize"])),
                           stride=tuple(pair2(a["stride"])), padding=torch_padding(a["padding"]),
                           dilation=tuple(pair2(a["dilation"])), groups=a["groups"], bias=a["bias"],
                           padding_mode=a["paddingMode"].lower(), dtype=torch.float64)
    for _ in range(1000):
        x32 = torch.randn(a["batch"], a["inChannels"], a["height"], a["width"], generator=gen,
                          dtype=torch.float32)
        w32 = (torch.rand(conv.weight.shape, generator=gen, dtype=torch.float32) * 2 - 1) * 0.5
        b32 = (torch.rand(a["outChannels"], generator=gen, dtype=torch.float32) * 2 - 1) * 0.5
        with torch.no_grad():
            conv.weight.copy_(w32.double())
            if a["bias"]:
                conv.bias.copy_(b32.double())
        x = x32.double().requires_grad_(True)
        pre = conv(x)
        nonzero = pre.detach().abs()[pre.detach() != 0]
        if a["activation"] == "RELU" and nonzero.numel() and nonzero.min().item() < 1e-3:
            continue
        y = torch.relu(pre) if a["activation"] == "RELU" else pre
        gy32 = torch.randn(y.shape, generator=gen, dtype=torch.float32)
        (y * gy32.double()).sum().backward()
        out = {"input": x32, "weight": w32}
        if a["bias"]:
            out["bias"] = b32
        out["output"] = y.detach().float()
        out["grad_output"] = gy32
        out["grad_input"] = x.grad.float()
        out["grad_weight"] = conv.weight.grad.float()
        if a["bias"]:
            out["grad_bias"] = conv.bias.grad.float()
        return out
    raise RuntimeError("no kink-free sample for %s" % a)


def main():
    rnd = random.Random(20240611)
    gen = torch.Generator().manual_seed(20240611)
    rows = covering_design(rnd)
    tensors = {}
    meta = {"cases": str(len(rows)), "generator": "tools/golden/conv_golden.py", "torch": torch.__version__}
    for i, row in enumerate(rows):
        name = "c%03d" % i
        a = attributes(row, rnd)
        meta[name] = json.dumps(a, separators=(",", ":"))
        for key, value in run_case(a, gen).items():
            tensors[name + "." + key] = value
    st.save(OUT, tensors, meta)
    # Coverage summary: how often each attribute value occurs.
    for n in NAMES:
        counts = {str(v): sum(1 for r in rows if r[n] == v) for v in FACTORS[n]}
        print(n, counts)
    print(len(rows), "cases,", os.path.getsize(OUT), "bytes ->", OUT)


if __name__ == "__main__":
    main()
