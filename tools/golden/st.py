"""Minimal safetensors writer/reader (numpy only) for Kiln's golden-vector generators.

Debian's python3-torch has no `safetensors` package, so the generators use this: the format is an
8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}},
then the raw little-endian tensor bytes in header order.
"""
import json
import struct

import numpy as np

_DTYPES = {
    np.dtype("float32"): "F32",
    np.dtype("float64"): "F64",
    np.dtype("float16"): "F16",
    np.dtype("int64"): "I64",
    np.dtype("int32"): "I32",
}
_NP = {v: k for k, v in _DTYPES.items()}


def _to_numpy(value):
    try:
        import torch
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().contiguous().numpy()
    except ImportError:
        pass
    return np.asarray(value)


def save(path, tensors, metadata=None):
    """Writes an ordered dict name -> array/tensor; float32 unless the array has another supported dtype."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, value in tensors.items():
        arr = _to_numpy(value)
        if arr.dtype not in _DTYPES:
            arr = arr.astype(np.float32)
        raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _DTYPES[arr.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def load(path):
    """Returns (dict name -> numpy array, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        arr = np.frombuffer(data[base + start:base + end], dtype=_NP[info["dtype"]].newbyteorder("<"))
        out[name] = arr.reshape(info["shape"])
    return out, meta
