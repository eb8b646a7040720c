"""Converts a PyTorch checkpoint (``.pth``) into a safetensors file Kiln loads (``SafeTensors.read``).

Accepts a plain state dict or a checkpoint dict holding one under ``state_dict`` or ``model`` (what training
scripts, including the official RepVGG ones, save); strips the ``module.`` prefix ``DataParallel`` adds. With
``--deploy`` a train-form RepVGG checkpoint is converted to the deploy form first (``repvgg.deploy_state_dict``:
``<block>.rbr_reparam.weight/bias``); ``--blocks``/``--widths``/``--classes`` give the architecture (RepVGG-A0 by
default). Tensors are written as stored (float32; ``num_batches_tracked`` as int64).

  /usr/bin/python3 tools/import/pth_to_safetensors.py RepVGG-A0-train.pth a0-train.safetensors
  /usr/bin/python3 tools/import/pth_to_safetensors.py RepVGG-A0-train.pth a0-deploy.safetensors --deploy
"""
import argparse
import os
import sys
from collections import OrderedDict

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "golden"))
import repvgg  # noqa: E402
import st  # noqa: E402


def state_dict_of(checkpoint):
    """The state dict inside a loaded checkpoint, ``module.`` prefixes removed."""
    if isinstance(checkpoint, dict):
        for key in ("state_dict", "model"):
            if key in checkpoint and isinstance(checkpoint[key], dict):
                checkpoint = checkpoint[key]
                break
    if not isinstance(checkpoint, dict) or not all(torch.is_tensor(v) for v in checkpoint.values()):
        raise SystemExit("not a state dict: expected a dict of tensors (or one under 'state_dict' or 'model')")
    out = OrderedDict()
    for k, v in checkpoint.items():
        out[k[len("module."):] if k.startswith("module.") else k] = v
    return out


def convert(source, target, deploy=False, blocks=repvgg.A0_BLOCKS, widths=repvgg.A0_WIDTHS, classes=None):
    state = state_dict_of(torch.load(source, map_location="cpu"))
    if deploy:
        if classes is None:
            classes = state["linear.weight"].shape[0]
        state = repvgg.deploy_state_dict(state, blocks, widths, classes)
    tensors = OrderedDict((k, v.detach().contiguous()) for k, v in state.items())
    st.save(target, tensors, {"source": os.path.basename(source), "form": "deploy" if deploy else "as stored"})
    return tensors


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source")
    p.add_argument("target")
    p.add_argument("--deploy", action="store_true", help="convert a train-form RepVGG checkpoint to deploy form")
    p.add_argument("--blocks", default="2,4,14,1", help="blocks per stage (default RepVGG-A0: 2,4,14,1)")
    p.add_argument("--widths", default="0.75,0.75,0.75,2.5", help="width multipliers (default RepVGG-A0)")
    p.add_argument("--classes", type=int, default=None, help="classes (default: from linear.weight)")
    a = p.parse_args()
    tensors = convert(a.source, a.target, a.deploy, tuple(int(v) for v in a.blocks.split(",")),
                      tuple(float(v) for v in a.widths.split(",")), a.classes)
    print(f"{a.target}: {len(tensors)} tensors")


if __name__ == "__main__":
    main()
