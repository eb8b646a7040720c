"""Golden vectors for Kiln's @RepConv (RepVGG block), with PyTorch as the oracle.

The reference block is tools/recipe/repvgg_block.py (the official RepVGG structure, state-dict names and
fusion, plus the BN-free variant of Kiln's ``@RepConv(batchNorm = false)``).

For every case one safetensors file holds, besides the state dict under its exact PyTorch names:
  input, grad_output               the batch and the upstream gradient
  train_output, grad_input         training-mode forward and the input gradient
  grad.<param>                     every parameter gradient
  after.<buffer>                   running_mean / running_var / num_batches_tracked after that step
  eval_output                      eval-mode forward (updated running stats) of the same input
  fused.weight, fused.bias         the deploy kernel
  fused_output                     act(conv(input, fused.weight, fused.bias))
Metadata holds the case attributes and ``state_keys`` (the state-dict keys in PyTorch order).

Everything is computed in float64 from float32-representable values, then stored as float32
(num_batches_tracked as int64). Run: /usr/bin/python3 tools/golden/repvgg_golden.py [out_dir]
"""
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "recipe"))
import st  # noqa: E402
from repvgg_block import RepVGGBlock  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "processor", "src", "test", "resources", "golden",
                   "repconv")


# name, in, out, kernel, stride, groups, batch_norm, relu, height, width, batch
CASES = [
    ("g1_k3_bn_relu", 4, 4, 3, 1, 1, True, True, 6, 5, 2),
    ("g2_k3_bn_relu", 4, 4, 3, 1, 2, True, True, 5, 7, 2),
    ("dw_k3_bn_none", 4, 4, 3, 1, 4, True, False, 6, 6, 3),
    ("s2_k3_bn_relu", 4, 6, 3, 2, 1, True, True, 7, 6, 2),
    ("s2_dw_k3_bn_relu", 4, 4, 3, 2, 4, True, True, 8, 5, 2),
    ("k5_bn_relu", 3, 3, 5, 1, 1, True, True, 6, 8, 2),
    ("k5_g3_bn_none_6to6", 6, 6, 5, 1, 3, True, False, 5, 4, 2),
    ("in3_out6_g3_bn_relu", 3, 6, 3, 1, 3, True, True, 5, 5, 2),
    ("nobn_k3_relu", 4, 4, 3, 1, 1, False, True, 6, 5, 2),
    ("nobn_k5_g2_none", 4, 4, 5, 1, 2, False, False, 7, 6, 2),
    ("nobn_s2_k3_relu", 3, 4, 3, 2, 1, False, True, 7, 7, 2),
    ("nobn_dw_k3_none", 3, 3, 3, 1, 3, False, False, 4, 9, 2),
]


def f32(t):
    """Rounds to float32 and back to float64, so the stored float32 value is exactly what was computed with."""
    return t.float().double()


def randomize_bn(bn, g):
    c = bn.num_features
    with torch.no_grad():
        bn.weight.copy_(f32(torch.rand(c, generator=g, dtype=torch.float64) + 0.5))
        bn.bias.copy_(f32(torch.randn(c, generator=g, dtype=torch.float64) * 0.3))
        bn.running_mean.copy_(f32(torch.randn(c, generator=g, dtype=torch.float64) * 0.5))
        bn.running_var.copy_(f32(torch.rand(c, generator=g, dtype=torch.float64) * 1.5 + 0.5))
        bn.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=g)))


def make_case(spec, seed):
    name, cin, cout, k, stride, groups, bn, relu, h, w, n = spec
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    block = RepVGGBlock(cin, cout, k, stride, groups, bn, relu).double()
    with torch.no_grad():
        for p in block.parameters():
            p.copy_(f32(p))
    for m in block.modules():
        if isinstance(m, nn.BatchNorm2d):
            randomize_bn(m, g)
    state = OrderedDict((key, v.detach().clone()) for key, v in block.state_dict().items())

    x = f32(torch.randn(n, cin, h, w, generator=g, dtype=torch.float64)).requires_grad_(True)
    block.train()
    y = block(x)
    gy = f32(torch.randn(y.shape, generator=g, dtype=torch.float64))
    y.backward(gy)

    tensors = OrderedDict()
    for key, v in state.items():
        tensors[key] = v if v.dtype == torch.int64 else v.float()
    tensors["input"] = x.detach().float()
    tensors["grad_output"] = gy.float()
    tensors["train_output"] = y.detach().float()
    tensors["grad_input"] = x.grad.float()
    for key, p in block.named_parameters():
        tensors["grad." + key] = p.grad.float()
    for key, v in block.state_dict().items():
        if "running_" in key or "num_batches_tracked" in key:
            tensors["after." + key] = v.detach().clone() if v.dtype == torch.int64 else v.detach().float()

    block.eval()
    with torch.no_grad():
        tensors["eval_output"] = block(x.detach()).float()
        weight, bias = block.get_equivalent_kernel_bias()
        fused = F.conv2d(x.detach(), weight, bias, stride=stride, padding=k // 2, groups=groups)
        if relu:
            fused = F.relu(fused)
        tensors["fused.weight"] = weight.float()
        tensors["fused.bias"] = bias.float()
        tensors["fused_output"] = fused.float()
        # The oracle's own consistency: deploy form == eval-mode block.
        assert torch.allclose(fused, block(x.detach()), rtol=1e-9, atol=1e-9), name

    metadata = OrderedDict([
        ("name", name), ("in_channels", cin), ("out_channels", cout), ("kernel_size", k), ("stride", stride),
        ("groups", groups), ("batch_norm", str(bn).lower()), ("activation", "RELU" if relu else "NONE"),
        ("height", h), ("width", w), ("batch", n), ("identity", str(block.has_identity).lower()),
        ("seed", seed), ("state_keys", ",".join(state.keys())), ("torch", torch.__version__),
    ])
    return tensors, metadata


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else OUT
    os.makedirs(out, exist_ok=True)
    names = []
    for i, spec in enumerate(CASES):
        tensors, metadata = make_case(spec, 1000 + i)
        st.save(os.path.join(out, spec[0] + ".safetensors"), tensors, metadata)
        names.append(spec[0])
    with open(os.path.join(out, "cases.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    print("wrote %d cases to %s" % (len(names), os.path.normpath(out)))


if __name__ == "__main__":
    main()
