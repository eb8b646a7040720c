"""Checkpoints of the official RepVGG structure in both forms, and PyTorch's outputs for them.

The official checkpoints cannot be downloaded here, so this builds the structure (``repvgg.RepVGG``) with
random weights and randomized BatchNorm statistics, saves it as a ``.pth`` checkpoint the way training scripts
do (a dict with ``state_dict``, ``DataParallel``'s ``module.`` prefixes), and converts that with
``pth_to_safetensors.py``, once as stored (train form) and once with ``--deploy``.

Written for the tests (small, committed), into samples/import/src/test/resources/repvgg/:
  tiny-train.safetensors    the train-form state dict: RepVGG-A0's blocks per stage (2, 4, 14, 1) with width
                            multipliers 0.0625 (4, 4, 8, 16, 32 channels), 10 classes, input 3x32x32
  tiny-deploy.safetensors   the same network in deploy form (``<block>.rbr_reparam.weight/bias``)
  tiny-golden.safetensors   input [2, 3, 32, 32]; train_output (eval mode) and deploy_output from PyTorch
With ``--full`` also the real-size RepVGG-A0 (1000 classes, 3x224x224) into samples/import/checkpoints/
(ignored by git; the sample's default files): a0-train.safetensors, a0-deploy.safetensors, a0-golden.safetensors.

Run: /usr/bin/python3 tools/import/repvgg_checkpoints.py [--full]
"""
import argparse
import os
import sys
import tempfile
from collections import OrderedDict

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "golden"))
import pth_to_safetensors  # noqa: E402
import repvgg  # noqa: E402
import st  # noqa: E402

ROOT = os.path.join(HERE, "..", "..", "samples", "import")
TINY_WIDTHS = (0.0625, 0.0625, 0.0625, 0.0625)


def write(out_dir, prefix, widths, classes, size, seed, batch):
    os.makedirs(out_dir, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = repvgg.randomize(repvgg.RepVGG(repvgg.A0_BLOCKS, widths, classes), g, (3, size, size))
    with tempfile.TemporaryDirectory() as tmp:
        pth = os.path.join(tmp, prefix + "-train.pth")
        state = OrderedDict(("module." + k, v) for k, v in model.state_dict().items())
        torch.save({"epoch": 120, "state_dict": state, "best_acc1": 0.0}, pth)
        train = pth_to_safetensors.convert(pth, os.path.join(out_dir, prefix + "-train.safetensors"))
        deploy = pth_to_safetensors.convert(pth, os.path.join(out_dir, prefix + "-deploy.safetensors"),
                                            deploy=True, widths=widths, classes=classes)
    deployed = repvgg.RepVGG(repvgg.A0_BLOCKS, widths, classes, deploy=True)
    deployed.load_state_dict(deploy)
    deployed.eval()
    x = torch.randn(batch, 3, size, size, generator=g)
    with torch.no_grad():
        y_train = model(x)
        y_deploy = deployed(x)
    st.save(os.path.join(out_dir, prefix + "-golden.safetensors"),
            OrderedDict([("input", x), ("train_output", y_train), ("deploy_output", y_deploy)]),
            {"blocks": ",".join(map(str, repvgg.A0_BLOCKS)), "widths": ",".join(map(str, widths)),
             "classes": str(classes), "train_keys": str(len(train)), "deploy_keys": str(len(deploy))})
    print(f"{prefix}: {len(train)} train keys, {len(deploy)} deploy keys, "
          f"max |train - deploy| = {(y_train - y_deploy).abs().max().item():.2e}, "
          f"max |output| = {y_train.abs().max().item():.3f}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="also write the real-size RepVGG-A0 files")
    a = p.parse_args()
    torch.set_num_threads(1)
    write(os.path.join(ROOT, "src", "test", "resources", "repvgg"), "tiny", TINY_WIDTHS, 10, 32, 15, 2)
    if a.full:
        write(os.path.join(ROOT, "checkpoints"), "a0", repvgg.A0_WIDTHS, 1000, 224, 16, 1)


if __name__ == "__main__":
    main()
