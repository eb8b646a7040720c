"""The official RepVGG structure (the public architecture of "RepVGG: Making VGG-style ConvNets Great Again",
Ding et al., 2021), written for Kiln's tests: same module names, so the same state-dict keys as the official
checkpoints, and a deploy conversion that follows the paper's formula.

Train form, per block: ``rbr_dense`` (3x3 conv ``conv`` without bias + ``bn``), ``rbr_1x1`` (1x1 conv + ``bn``)
and, iff in == out channels and stride 1, ``rbr_identity`` (a BatchNorm2d); output ``relu(sum of branches)``.
The network: ``stage0`` (one block, stride 2), ``stage1`` ... ``stage4`` (``nn.Sequential``s of blocks, the
first of each with stride 2, so keys are ``stage1.0.rbr_dense.conv.weight``), global average pooling, then
``linear``. Deploy form: each block is one 3x3 conv with bias named ``rbr_reparam``.

Deploy conversion (``to_deploy``): each branch's BatchNorm is folded into its kernel (``W * gamma / std``,
bias ``beta - mean * gamma / std`` with ``std = sqrt(running_var + eps)``), the 1x1 kernel is zero-padded to
3x3 at the centre, and the identity branch is the one-hot kernel ``K[i, i % (C / groups), 1, 1] = 1`` with the
identity BatchNorm folded in; the three kernels and biases are summed.
"""
import os
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "recipe"))
from repvgg_block import RepVGGBlock  # noqa: E402

# RepVGG-A0: blocks per stage and width multipliers (stage 4 widest).
A0_BLOCKS = (2, 4, 14, 1)
A0_WIDTHS = (0.75, 0.75, 0.75, 2.5)


class Block(RepVGGBlock):
    """A RepVGG block, train form (``deploy=False``: tools/recipe/repvgg_block.py's 3x3 block with BatchNorm and
    ReLU) or deploy form (``deploy=True``, one conv)."""

    def __init__(self, in_channels, out_channels, stride=1, groups=1, deploy=False):
        if deploy:
            nn.Module.__init__(self)
            self.in_channels = in_channels
            self.groups = groups
            self.rbr_reparam = nn.Conv2d(in_channels, out_channels, 3, stride, 1, groups=groups, bias=True)
        else:
            super().__init__(in_channels, out_channels, 3, stride, groups)
        self.deploy = deploy

    def forward(self, x):
        # F.relu rather than the parent's ReLU module: the ONNX files exported from this block name their Relu
        # nodes after it, and stay as they are committed.
        if self.deploy:
            return F.relu(self.rbr_reparam(x))
        identity = 0 if self.rbr_identity is None else self.rbr_identity(x)
        return F.relu(self.rbr_dense(x) + self.rbr_1x1(x) + identity)


class RepVGG(nn.Module):
    def __init__(self, num_blocks=A0_BLOCKS, widths=A0_WIDTHS, num_classes=1000, deploy=False):
        super().__init__()
        self.deploy = deploy
        self.in_planes = min(64, int(64 * widths[0]))
        self.stage0 = Block(3, self.in_planes, stride=2, deploy=deploy)
        self.stage1 = self._stage(int(64 * widths[0]), num_blocks[0])
        self.stage2 = self._stage(int(128 * widths[1]), num_blocks[1])
        self.stage3 = self._stage(int(256 * widths[2]), num_blocks[2])
        self.stage4 = self._stage(int(512 * widths[3]), num_blocks[3])
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.linear = nn.Linear(int(512 * widths[3]), num_classes)

    def _stage(self, planes, blocks):
        layers = []
        for stride in [2] + [1] * (blocks - 1):
            layers.append(Block(self.in_planes, planes, stride=stride, deploy=self.deploy))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x):
        out = self.stage0(x)
        out = self.stage4(self.stage3(self.stage2(self.stage1(out))))
        out = self.gap(out)
        out = out.view(out.size(0), -1)
        return self.linear(out)


def _fold(kernel, bn):
    """(kernel * gamma / std, beta - mean * gamma / std) in float64."""
    std = (bn.running_var.double() + bn.eps).sqrt()
    t = bn.weight.double() / std
    return kernel.double() * t.reshape(-1, 1, 1, 1), bn.bias.double() - bn.running_mean.double() * t


def block_deploy(block):
    """The deploy kernel and bias of a train-form block (float32), computed in float64."""
    k3, b3 = _fold(block.rbr_dense.conv.weight, block.rbr_dense.bn)
    k1, b1 = _fold(block.rbr_1x1.conv.weight, block.rbr_1x1.bn)
    kernel = k3 + F.pad(k1, [1, 1, 1, 1])
    bias = b3 + b1
    if block.rbr_identity is not None:
        per_group = block.in_channels // block.groups
        one_hot = torch.zeros(block.in_channels, per_group, 3, 3, dtype=torch.float64)
        for i in range(block.in_channels):
            one_hot[i, i % per_group, 1, 1] = 1.0
        ki, bi = _fold(one_hot, block.rbr_identity)
        kernel = kernel + ki
        bias = bias + bi
    return kernel.float(), bias.float()


def deploy_state_dict(train_state, num_blocks=A0_BLOCKS, widths=A0_WIDTHS, num_classes=1000):
    """Converts a train-form state dict into the deploy form's (``<block>.rbr_reparam.weight/bias``)."""
    model = RepVGG(num_blocks, widths, num_classes)
    model.load_state_dict(train_state)
    model.eval()
    out = OrderedDict()
    for name, module in model.named_modules():
        if isinstance(module, Block):
            kernel, bias = block_deploy(module)
            out[name + ".rbr_reparam.weight"] = kernel
            out[name + ".rbr_reparam.bias"] = bias
    out["linear.weight"] = model.linear.weight.detach().clone()
    out["linear.bias"] = model.linear.bias.detach().clone()
    return out


def randomize(model, generator, input_shape, batches=4):
    """Random weights and realistic, randomized BatchNorm statistics: running statistics gathered over a few
    batches of random input in training mode (cumulative average), then gamma, beta and the statistics
    perturbed so that no BatchNorm is the identity."""
    with torch.no_grad():
        for m in batch_norms(model):
            m.reset_running_stats()
            m.momentum = None
        model.train()
        for _ in range(batches):
            model(torch.randn(8, *input_shape, generator=generator))
    perturb_batch_norms(model, generator, [("weight", "copy_", 0.6, 1.4), ("bias", "copy_", -0.3, 0.3),
                                           ("running_mean", "add_", -0.1, 0.1), ("running_var", "mul_", 0.8, 1.25)])
    for m in batch_norms(model):
        m.momentum = 0.1
    model.eval()
    return model


def batch_norms(model):
    """The BatchNorm2d modules of `model`, in module order."""
    return [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]


def perturb_batch_norms(model, generator, changes):
    """Changes every BatchNorm2d of `model` in place, one after the other: for each (tensor, method, low, high)
    of `changes`, in that order, calls `bn.<tensor>.<method>(u)` (copy_, add_, mul_, ...) with one value per
    channel drawn from U(low, high) by `generator`."""
    with torch.no_grad():
        for m in batch_norms(model):
            for tensor, method, low, high in changes:
                u = torch.empty(m.num_features).uniform_(low, high, generator=generator)
                getattr(getattr(m, tensor), method)(u)
