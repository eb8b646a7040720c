"""The JSON result file the PyTorch timing scripts (pytorch_conv_bench.py, pytorch_train_bench.py) write."""
import json
import platform

import torch


def write(path, rows, warmup, versions=(), setup=()):
    """Writes the rows to `path` (indented JSON) under the engine, PyTorch and Python versions, the machine,
    the warm-up count and the script's own fields, then says so on stdout.

    `versions` are (key, value) pairs listed right after the PyTorch version, `setup` pairs after the machine,
    so that each script's keys keep their place in the file.
    """
    result = {"engine": "pytorch", "torch_version": torch.__version__}
    result.update(versions)
    result["python"] = platform.python_version()
    result["machine"] = platform.machine()
    result.update(setup)
    result["warmup"] = warmup
    result["results"] = rows
    with open(path, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {path}")
