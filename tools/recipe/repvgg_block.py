"""The RepVGG block in the official structure and state-dict names (DingXiaoH/RepVGG, ``repvgg.py``), training
form, with its fusion into one convolution: the one definition the recipe (tools/recipe/repvgg_recipe.py), the
golden vectors (tools/golden/repvgg_golden.py) and the PyTorch benchmark share.

``rbr_identity`` is a BatchNorm2d (or absent), ``rbr_dense`` and ``rbr_1x1`` are ``conv_bn`` sequentials with
children ``conv`` (no bias) and ``bn``, and the nonlinearity follows the branch sum. Fusion follows the
official ``get_equivalent_kernel_bias`` / ``_fuse_bn_tensor``, with the identity kernel
``K[i, i % (C / groups), k // 2, k // 2] = 1``. The ``batch_norm=False`` variant (Kiln's
``@RepConv(batchNorm = false)``) uses plain convs with bias and ``x`` itself as the identity branch.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(in_channels, out_channels, kernel_size, stride, padding, groups=1):
    result = nn.Sequential()
    result.add_module("conv", nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                                        groups=groups, bias=False))
    result.add_module("bn", nn.BatchNorm2d(out_channels))
    return result


class RepVGGBlock(nn.Module):
    """The official training-form block (no SE, no deploy flag), plus the BN-free variant."""

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, groups=1, batch_norm=True, relu=True):
        super().__init__()
        assert kernel_size % 2 == 1
        self.in_channels = in_channels
        self.groups = groups
        self.kernel_size = kernel_size
        self.batch_norm = batch_norm
        self.nonlinearity = nn.ReLU() if relu else nn.Identity()
        has_identity = out_channels == in_channels and stride == 1
        self.has_identity = has_identity
        padding = kernel_size // 2
        if batch_norm:
            self.rbr_identity = nn.BatchNorm2d(in_channels) if has_identity else None
            self.rbr_dense = conv_bn(in_channels, out_channels, kernel_size, stride, padding, groups)
            self.rbr_1x1 = conv_bn(in_channels, out_channels, 1, stride, 0, groups)
        else:
            self.rbr_dense = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                                       groups=groups, bias=True)
            self.rbr_1x1 = nn.Conv2d(in_channels, out_channels, 1, stride=stride, padding=0, groups=groups,
                                     bias=True)

    def forward(self, inputs):
        if not self.has_identity:
            id_out = 0
        elif self.batch_norm:
            id_out = self.rbr_identity(inputs)
        else:
            id_out = inputs
        return self.nonlinearity(self.rbr_dense(inputs) + self.rbr_1x1(inputs) + id_out)

    def get_equivalent_kernel_bias(self):
        kernel_kxk, bias_kxk = self._fuse_bn_tensor(self.rbr_dense)
        kernel_1x1, bias_1x1 = self._fuse_bn_tensor(self.rbr_1x1)
        if not self.has_identity:
            kernel_id, bias_id = 0, 0
        elif self.batch_norm:
            kernel_id, bias_id = self._fuse_bn_tensor(self.rbr_identity)
        else:
            kernel_id, bias_id = self._id_tensor(), 0
        return kernel_kxk + self._pad_1x1_to_kxk(kernel_1x1) + kernel_id, bias_kxk + bias_1x1 + bias_id

    def _pad_1x1_to_kxk(self, kernel_1x1):
        p = self.kernel_size // 2
        return F.pad(kernel_1x1, [p, p, p, p])

    def _id_tensor(self):
        input_dim = self.in_channels // self.groups
        k = self.kernel_size
        value = torch.zeros((self.in_channels, input_dim, k, k), dtype=torch.float64)
        for i in range(self.in_channels):
            value[i, i % input_dim, k // 2, k // 2] = 1
        return value

    def _fuse_bn_tensor(self, branch):
        if isinstance(branch, nn.Conv2d):  # BN-free variant: the conv as it is
            return branch.weight, branch.bias
        if isinstance(branch, nn.Sequential):
            kernel = branch.conv.weight
            bn = branch.bn
        else:
            assert isinstance(branch, nn.BatchNorm2d)
            kernel = self._id_tensor()
            bn = branch
        std = (bn.running_var + bn.eps).sqrt()
        t = (bn.weight / std).reshape(-1, 1, 1, 1)
        return kernel * t, bn.bias - bn.running_mean * bn.weight / std
