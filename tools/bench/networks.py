#!/usr/bin/env python3
"""Whole networks for Kiln's network benchmark: RepVGG-A0 and MobileNet v1 (1.0, 224x224), and MobileNet v1
at 160x160 as `mobilenet-v1-160` (feature maps whose widths are not multiples of 7).

Builds each network in PyTorch 1.13 with random weights and realistic BatchNorm statistics (running
statistics measured on random inputs, then perturbed), and writes into an ignored folder (default
`bench-networks/` at the repository root; the build never runs Python):

  <net>.safetensors         training-form state dict, keys as Kiln's @Model declares them
                            (RepVGG-A0: samples/benchmark ... RepVggA0.java; MobileNet: MobileNetV1.java)
  <net>.onnx                the deploy form for ONNX Runtime (RepVGG: one fused 3x3 conv per block;
                            MobileNet: conv + BatchNorm, which ONNX Runtime folds itself), opset 13
  <net>-n<N>.safetensors    reference input `input` [N, 3, S, S] and PyTorch's eval-mode `output`
                            [N, 1000], for N = 1 and 8 (or the sizes --batches lists)

Every run writes the same values (the weights drawn from fixed seeds).

Usage: /usr/bin/python3 tools/bench/networks.py [--out DIR] [--batches 1,8,16]
"""
import argparse
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "golden"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "recipe"))
import st  # noqa: E402
from repvgg_recipe import RepVGGBlock  # noqa: E402


def fused_block(block):
    """The deploy form of a RepVGG block: one kxk conv with bias (BN folded, 1x1 padded, identity one-hot)."""
    def fold(conv_weight, bn):
        std = (bn.running_var + bn.eps).sqrt()
        t = (bn.weight / std).reshape(-1, 1, 1, 1)
        return conv_weight * t, bn.bias - bn.running_mean * bn.weight / std

    dense = block.rbr_dense.conv
    k = dense.kernel_size[0]
    w, b = fold(dense.weight, block.rbr_dense.bn)
    w1, b1 = fold(block.rbr_1x1.conv.weight, block.rbr_1x1.bn)
    w = w + nn.functional.pad(w1, [k // 2] * 4)
    b = b + b1
    if block.rbr_identity is not None:
        cin = dense.in_channels // dense.groups
        ident = torch.zeros_like(dense.weight)
        for i in range(dense.out_channels):
            ident[i, i % cin, k // 2, k // 2] = 1.0
        wi, bi = fold(ident, block.rbr_identity)
        w = w + wi
        b = b + bi
    conv = nn.Conv2d(dense.in_channels, dense.out_channels, k, dense.stride, k // 2, groups=dense.groups,
                     bias=True)
    conv.weight.data.copy_(w)
    conv.bias.data.copy_(b)
    return nn.Sequential(conv, nn.ReLU())


class RepVggA0(nn.Module):
    """RepVGG-A0 (widths 48-48-96-192-1280, 1-2-4-14-1 blocks); names as the Kiln @Model methods."""
    STAGES = [(48, 1), (48, 2), (96, 4), (192, 14), (1280, 1)]

    def __init__(self, classes=1000):
        super().__init__()
        self.names = []
        cin = 3
        for s, (width, blocks) in enumerate(self.STAGES):
            for i in range(blocks):
                name = "stage0" if s == 0 else "stage%d_%d" % (s, i)
                self.add_module(name, RepVGGBlock(cin, width, stride=2 if i == 0 else 1))
                self.names.append(name)
                cin = width
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.linear = nn.Linear(cin, classes)

    def forward(self, x):
        for name in self.names:
            x = getattr(self, name)(x)
        return self.linear(self.flatten(self.gap(x)))

    def deploy(self):
        layers = [fused_block(getattr(self, n)) for n in self.names]
        return nn.Sequential(*layers, self.gap, self.flatten, self.linear).eval()


class MobileNetV1(nn.Module):
    """MobileNet v1 1.0: conv 3->32 s2, then 13 depthwise + pointwise pairs, each conv + BN + ReLU."""
    PAIRS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
             (512, 1), (512, 1), (1024, 2), (1024, 1)]

    def __init__(self, classes=1000):
        super().__init__()
        self.names = []

        def add(name, module):
            self.add_module(name, module)
            self.names.append(name)

        def conv_bn_relu(prefix, cin, cout, k, stride, groups):
            add(prefix, nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False))
            add(prefix + "_bn", nn.BatchNorm2d(cout))
            add(prefix + "_relu", nn.ReLU())

        conv_bn_relu("conv0", 3, 32, 3, 2, 1)
        cin = 32
        for i, (cout, stride) in enumerate(self.PAIRS, start=1):
            conv_bn_relu("dw%d" % i, cin, cin, 3, stride, cin)
            conv_bn_relu("pw%d" % i, cin, cout, 1, 1, 1)
            cin = cout
        add("gap", nn.AdaptiveAvgPool2d(1))
        add("flatten", nn.Flatten())
        add("fc", nn.Linear(cin, classes))

    def forward(self, x):
        for name in self.names:
            x = getattr(self, name)(x)
        return x

    def deploy(self):
        return self.eval()


def calibrate(net, generator, size):
    """Running statistics measured on random inputs (so activations keep a sane scale through many
    layers), then the affine parameters and statistics perturbed."""
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # cumulative average
            m.reset_running_stats()
    net.train()
    with torch.no_grad():
        for _ in range(2):
            net(torch.randn(4, 3, size, size, generator=generator))
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = 0.1
            c = m.num_features
            m.weight.data = torch.empty(c).uniform_(0.5, 1.5, generator=generator)
            m.bias.data = torch.empty(c).normal_(0.0, 0.1, generator=generator)
            m.running_mean.mul_(torch.empty(c).uniform_(0.9, 1.1, generator=generator))
            m.running_var.mul_(torch.empty(c).uniform_(0.9, 1.1, generator=generator))
            m.num_batches_tracked.fill_(10)
    net.eval()


def export(net, name, out, size=224, batches=(1, 8)):
    generator = torch.Generator().manual_seed(20261201)
    torch.manual_seed(20261201)
    calibrate(net, generator, size)
    st.save(os.path.join(out, name + ".safetensors"), net.state_dict(), {"network": name})
    deploy = net.deploy()
    for n in batches:
        x = torch.randn(n, 3, size, size, generator=generator)
        with torch.no_grad():
            y = net(x)
            yd = deploy(x)
        gap = (y - yd).abs().max().item()
        assert gap < 1e-3 * max(1.0, y.abs().max().item()), "deploy form differs by %g" % gap
        st.save(os.path.join(out, "%s-n%d.safetensors" % (name, n)), {"input": x, "output": y},
                {"network": name})
    torch.onnx.export(deploy, torch.randn(1, 3, size, size), os.path.join(out, name + ".onnx"),
                      input_names=["input"], output_names=["output"], opset_version=13,
                      dynamic_axes={"input": {0: "n"}, "output": {0: "n"}})
    print("wrote", name, "to", out)


def main():
    root = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(root, "bench-networks"))
    parser.add_argument("--batches", default="1,8",
                        help="batch sizes of the reference inputs and outputs (comma-separated; default 1,8)")
    args = parser.parse_args()
    batches = tuple(int(b) for b in args.batches.split(","))
    os.makedirs(args.out, exist_ok=True)
    # The same MobileNet at 160x160 too: feature maps of 80, 40, 20, 10 and 5 pixels, none a multiple of 7.
    for name, network, size in (("repvgg-a0", RepVggA0, 224), ("mobilenet-v1", MobileNetV1, 224),
                                ("mobilenet-v1-160", MobileNetV1, 160)):
        # Seeded before the layers draw their initial weights, so every run writes the same files.
        torch.manual_seed(20261201)
        export(network(), name, args.out, size=size, batches=batches)


if __name__ == "__main__":
    main()
