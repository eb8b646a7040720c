#!/usr/bin/python3
"""Golden vectors for the runtime layers in dev.kiln.nn, computed with PyTorch (the oracle).

Writes runtime/src/test/resources/golden/layers/layers.safetensors. Every case `cNN` stores
`cNN.input`, its parameters/buffers under their PyTorch state-dict names (`cNN.weight`, ...), `cNN.output`,
a random `cNN.grad_output`, `cNN.grad_input`, the parameter gradients `cNN.grad.<name>` and, for
BatchNorm2d, the state after the forward pass under `cNN.after.<name>`. The metadata key `cases` is a
JSON list with one object per case: `id`, `layer`, the constructor arguments and `training`.

Run from the repository root:  /usr/bin/python3 tools/golden/layers_golden.py
"""
import json
import os
import sys
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st  # noqa: E402

OUT = os.path.join("runtime", "src", "test", "resources", "golden", "layers", "layers.safetensors")

torch.manual_seed(20240611)
tensors = OrderedDict()
cases = []


def add_case(config, module, x, training=True):
    """Runs forward and backward of `module` on `x` and records everything under a new case id."""
    cid = "c%02d" % len(cases)
    module.train(training)
    x = x.clone().requires_grad_(True)
    before = OrderedDict((k, v.clone()) for k, v in module.state_dict().items())
    y = module(x)
    gy = torch.randn_like(y)
    y.backward(gy)
    tensors[cid + ".input"] = x.detach()
    for k, v in before.items():
        tensors[cid + "." + k] = v
    tensors[cid + ".output"] = y.detach()
    tensors[cid + ".grad_output"] = gy
    tensors[cid + ".grad_input"] = x.grad
    for k, p in module.named_parameters():
        tensors[cid + ".grad." + k] = p.grad
    if isinstance(module, torch.nn.BatchNorm2d):
        for k, v in module.state_dict().items():
            if k.startswith("running") or k == "num_batches_tracked":
                tensors[cid + ".after." + k] = v.clone()
    config = dict(config)
    config["id"] = cid
    config["training"] = training
    config["input_shape"] = list(x.shape)
    cases.append(config)


def randint_input(*shape, low=-3, high=4):
    """Small integer values, so pooling windows contain exact ties."""
    return torch.randint(low, high, shape).float()


# Linear: weight [out, in], optional bias.
for n, fin, fout, bias in [(4, 5, 3, True), (2, 7, 4, False), (3, 16, 10, True), (1, 1, 1, True), (5, 33, 2, False)]:
    m = torch.nn.Linear(fin, fout, bias=bias)
    add_case({"layer": "Linear", "in": fin, "out": fout, "bias": bias}, m, torch.randn(n, fin))

# ReLU: includes exact zeros (gradient 0 there, as PyTorch's threshold_backward) and negative zeros.
x = torch.randn(2, 3, 4, 5)
x[0, 0, 0, :3] = torch.tensor([0.0, -0.0, 0.0])
add_case({"layer": "ReLU"}, torch.nn.ReLU(), x)
add_case({"layer": "ReLU"}, torch.nn.ReLU(), torch.randn(3, 7))

# Flatten (start_dim=1).
add_case({"layer": "Flatten"}, torch.nn.Flatten(), torch.randn(2, 3, 4, 5))
add_case({"layer": "Flatten"}, torch.nn.Flatten(), torch.randn(3, 2, 1, 1))
add_case({"layer": "Flatten"}, torch.nn.Flatten(), torch.randn(2, 6))

# GlobalAvgPool2d == AdaptiveAvgPool2d(1).
for shape in [(2, 3, 4, 5), (1, 2, 1, 1), (3, 4, 7, 3)]:
    add_case({"layer": "GlobalAvgPool2d"}, torch.nn.AdaptiveAvgPool2d(1), torch.randn(*shape))

# Pools: (kernel, stride, padding) as (h, w) pairs, the input shape, and whether the input has ties.
POOLS = [
    ((2, 2), (2, 2), (0, 0), (2, 3, 8, 8), False),
    ((3, 3), (2, 2), (1, 1), (2, 2, 7, 9), False),   # overlapping, padded, non-square input
    ((3, 3), (1, 1), (1, 1), (1, 2, 5, 6), False),   # heavily overlapping
    ((2, 3), (1, 2), (1, 1), (2, 2, 6, 7), False),   # non-square kernel and stride
    ((3, 2), (2, 1), (0, 1), (1, 3, 7, 5), False),
    ((3, 1), (2, 1), (1, 0), (2, 1, 6, 3), False),
    ((1, 1), (1, 1), (0, 0), (1, 2, 3, 4), False),
    ((4, 4), (3, 3), (2, 2), (1, 2, 9, 10), False),
    ((3, 3), (1, 1), (1, 1), (2, 2, 6, 6), True),    # ties with integer inputs
    ((2, 2), (2, 2), (0, 0), (2, 2, 6, 8), True),
    ((3, 3), (2, 2), (1, 1), (2, 2, 7, 7), True),
    ((2, 3), (1, 1), (1, 1), (1, 3, 5, 5), True),
]
for (k, s, p, shape, ties) in POOLS:
    cfg = {"kernel": list(k), "stride": list(s), "padding": list(p)}
    x = randint_input(*shape) if ties else torch.randn(*shape)
    add_case(dict(cfg, layer="MaxPool2d", ties=ties), torch.nn.MaxPool2d(k, s, p), x)
# All-negative input: padding (-inf) never wins.
add_case({"layer": "MaxPool2d", "kernel": [3, 3], "stride": [2, 2], "padding": [1, 1], "ties": False},
         torch.nn.MaxPool2d(3, 2, 1), -torch.rand(1, 2, 5, 5) - 1.0)
for (k, s, p, shape, ties) in POOLS:
    if ties:
        continue
    cfg = {"kernel": list(k), "stride": list(s), "padding": list(p)}
    add_case(dict(cfg, layer="AvgPool2d"), torch.nn.AvgPool2d(k, s, p, ceil_mode=False, count_include_pad=True),
             torch.randn(*shape))


# BatchNorm2d with non-trivial affine parameters and running statistics.
def batch_norm(c, nbt):
    m = torch.nn.BatchNorm2d(c)
    with torch.no_grad():
        m.weight.copy_(torch.rand(c) * 1.5 + 0.25)
        m.bias.copy_(torch.randn(c) * 0.5)
        m.running_mean.copy_(torch.randn(c) * 0.3)
        m.running_var.copy_(torch.rand(c) + 0.5)
        m.num_batches_tracked.fill_(nbt)
    return m


for shape, training, nbt in [((4, 3, 5, 6), True, 5), ((2, 4, 3, 1), True, 0), ((1, 2, 3, 3), True, 12),
                             ((3, 2, 4, 4), True, 1), ((3, 3, 4, 4), False, 7), ((2, 5, 2, 3), False, 2)]:
    x = torch.randn(*shape) * 2.0 + 0.7
    add_case({"layer": "BatchNorm2d", "features": shape[1]}, batch_norm(shape[1], nbt), x, training)

os.makedirs(os.path.dirname(OUT), exist_ok=True)
st.save(OUT, tensors, {"cases": json.dumps(cases), "generator": "tools/golden/layers_golden.py",
                       "torch": torch.__version__})
print("wrote %d cases, %d tensors to %s (%d bytes)" % (len(cases), len(tensors), OUT, os.path.getsize(OUT)))
