"""Generates the safetensors reference files for dev.kiln.io.SafeTensorsGoldenTest.

Run from the repository root:  /usr/bin/python3 tools/golden/safetensors_fixtures.py

Writes runtime/src/test/resources/safetensors/*.safetensors and expected.txt. The files come from numpy and
PyTorch (through tools/golden/st.py) or are assembled here byte by byte for what st.py cannot write (BF16 from
torch.bfloat16 via .view(torch.int16), I16/I8/U8/BOOL, raw UTF-8 names, a pretty-printed header, a header
whose order differs from the data order).

expected.txt is UTF-8 text, tab-separated, one line per record; strings are hex of their UTF-8 bytes so that
any name survives:
  file    <file>  <number of tensors>  <number of metadata entries>
  tensor  <file>  <hex name>  <dtype>  <shape, comma-separated, empty for a scalar>  <float32 bits, hex, space-separated>
  meta    <file>  <hex key>  <hex value>
Tensor and meta lines appear in header order. The float32 bits are the values as PyTorch/numpy convert them
to float32 (numpy astype(float32), torch .float() for bfloat16).
"""
import json
import os
import struct
from collections import OrderedDict

import numpy as np
import torch

import st

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "runtime", "src", "test", "resources", "safetensors")
DTYPE_NAMES = {
    np.dtype("float64"): "F64", np.dtype("float32"): "F32", np.dtype("float16"): "F16",
    np.dtype("int64"): "I64", np.dtype("int32"): "I32", np.dtype("int16"): "I16", np.dtype("int8"): "I8",
    np.dtype("uint8"): "U8", np.dtype("bool"): "BOOL",
}

records = []


def hexs(s):
    return s.encode("utf-8").hex()


def f32_bits(values):
    """float32 bit patterns (hex) of an array already converted to float32."""
    arr = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
    return " ".join("%08x" % b for b in arr.view(np.uint32))


def record(file, entries, metadata):
    """entries: list of (name, dtype name, shape, float32 array) in header order."""
    records.append("file\t%s\t%d\t%d" % (file, len(entries), len(metadata)))
    for name, dtype, shape, expected in entries:
        records.append("tensor\t%s\t%s\t%s\t%s\t%s" % (
            file, hexs(name), dtype, ",".join(str(d) for d in shape), f32_bits(expected)))
    for key, value in metadata.items():
        records.append("meta\t%s\t%s\t%s" % (file, hexs(key), hexs(value)))


def assemble(path, tensors, metadata=None, header_order=None, indent=None, metadata_last=False):
    """A safetensors file written by hand. tensors: list of (name, dtype name, shape, raw bytes) in data order.

    header_order lists the names in the order the JSON header gives them (default: data order); the header
    keeps raw UTF-8 (ensure_ascii=False) and is padded with spaces to a multiple of 8 bytes.
    """
    entries = OrderedDict()
    offset = 0
    for name, dtype, shape, raw in tensors:
        entries[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    header = OrderedDict()
    if metadata and not metadata_last:
        header["__metadata__"] = metadata
    for name in header_order or list(entries):
        header[name] = entries[name]
    if metadata and metadata_last:
        header["__metadata__"] = metadata
    text = json.dumps(header, ensure_ascii=False, indent=indent,
                      separators=None if indent else (",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, _, raw in tensors:
            f.write(raw)


def numpy_file():
    """Every dtype st.py writes, from numpy, with rounding and special values."""
    rng = np.random.default_rng(7)
    f32 = rng.standard_normal((2, 3)).astype(np.float32)
    f32[0, 0], f32[0, 1], f32[1, 2] = -0.0, np.inf, 1e-42  # negative zero, infinity, a subnormal
    f64 = np.array([1 / 3, -2.5e-40, 1e300, -1e300, 3.0000001192092896, 0.1], dtype=np.float64)
    f16 = np.array([[1.0, -2.0, 6.1e-5, 5.96e-8], [65504.0, -np.inf, 0.333, -0.0]], dtype=np.float16)
    i64 = np.array([-5, 16777217, 2 ** 53 + 1, -(2 ** 63), 2 ** 63 - 1], dtype=np.int64)
    i32 = np.array([[2147483647, -2147483648], [16777217, -7]], dtype=np.int32)
    tensors = OrderedDict([
        ("f32", f32), ("f64", f64), ("f16", f16), ("i64", i64), ("i32", i32),
        # a torch scalar: st.py's np.ascontiguousarray would turn a 0-d numpy array into shape [1]
        ("bn.num_batches_tracked", torch.tensor(12345, dtype=torch.int64)),
        ("empty", np.zeros((0, 3), dtype=np.float32)),
    ])
    metadata = OrderedDict([("format", "pt"), ("source", "numpy via tools/golden/st.py")])
    st.save(os.path.join(OUT, "numpy_dtypes.safetensors"), tensors, metadata)
    with np.errstate(over="ignore"):
        record("numpy_dtypes.safetensors",
               [(n, st._DTYPES[np.asarray(a).dtype], tuple(a.shape), np.asarray(a).astype(np.float32))
                for n, a in tensors.items()], metadata)


def torch_batchnorm_file():
    """A real PyTorch state dict: BatchNorm2d after three training steps (num_batches_tracked is int64 [])."""
    torch.manual_seed(3)
    bn = torch.nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    for _ in range(3):
        bn(torch.randn(4, 3, 5, 5) * 2 + 1)
    state = bn.state_dict()
    metadata = {"format": "pt"}
    st.save(os.path.join(OUT, "torch_batchnorm.safetensors"), state, metadata)
    record("torch_batchnorm.safetensors",
           [(k, "I64" if v.dtype == torch.int64 else "F32", tuple(v.shape), v.float().numpy())
            for k, v in state.items()], metadata)


def bf16_file():
    """torch.bfloat16 bytes (via .view(torch.int16)) next to an F32 tensor; st.py has no BF16."""
    torch.manual_seed(5)
    values = torch.randn(3, 4) * 100
    values[0, 0], values[0, 1], values[0, 2], values[0, 3] = -0.0, float("inf"), 1e-39, 3.0e38
    bf16 = values.to(torch.bfloat16)
    ref = torch.linspace(-1, 1, 5)
    tensors = [
        ("weight", "BF16", (3, 4), bf16.view(torch.int16).numpy().astype("<i2").tobytes()),
        ("ref", "F32", (5,), ref.numpy().astype("<f4").tobytes()),
        ("scale", "BF16", (), torch.tensor(0.1, dtype=torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()),
    ]
    metadata = {"format": "pt", "dtype": "bfloat16"}
    assemble(os.path.join(OUT, "bf16.safetensors"), tensors, metadata)
    record("bf16.safetensors", [
        ("weight", "BF16", (3, 4), bf16.float().numpy()),
        ("ref", "F32", (5,), ref.numpy()),
        ("scale", "BF16", (), torch.tensor(0.1, dtype=torch.bfloat16).float().numpy()),
    ], metadata)


def small_ints_file():
    """I16, I8, U8 and BOOL (numpy), assembled by hand."""
    arrays = [
        ("i16", np.array([-32768, -1, 0, 32767], dtype=np.int16)),
        ("i8", np.array([[-128, 127], [0, -1]], dtype=np.int8)),
        ("u8", np.array([0, 1, 128, 255], dtype=np.uint8)),
        ("mask", np.array([[True, False, True]], dtype=np.bool_)),
    ]
    tensors = [(n, DTYPE_NAMES[a.dtype], a.shape, a.astype(a.dtype.newbyteorder("<")).tobytes()) for n, a in arrays]
    assemble(os.path.join(OUT, "small_ints.safetensors"), tensors)
    record("small_ints.safetensors", [(n, DTYPE_NAMES[a.dtype], a.shape, a.astype(np.float32)) for n, a in arrays], {})


NAMES = ["conv.weight", "caf\u00e9", "\u6743\u91cd", "emoji \U0001F525", 'quote " and \\ backslash', "tab\tnewline\n",
         "slash/\u0001"]


def unicode_escaped_file():
    """st.py (json.dumps, ensure_ascii): every non-ASCII name as \\uXXXX escapes, emoji as a surrogate pair."""
    tensors = OrderedDict((n, np.full((i + 1,), i + 0.5, dtype=np.float32)) for i, n in enumerate(NAMES))
    metadata = OrderedDict([("n\u00f8te", "\u00fcnicode \U0001F600 value"), ("empty", "")])
    st.save(os.path.join(OUT, "unicode_escaped.safetensors"), tensors, metadata)
    record("unicode_escaped.safetensors", [(n, "F32", a.shape, a) for n, a in tensors.items()], metadata)


def unicode_raw_reordered_file():
    """Raw UTF-8 names, a pretty-printed header (newlines, indentation), the header listing the tensors in
    another order than their data, and __metadata__ last."""
    arrays = OrderedDict((n, np.arange(i + 2, dtype=np.float32) - i) for i, n in enumerate(NAMES))
    tensors = [(n, "F32", a.shape, a.astype("<f4").tobytes()) for n, a in arrays.items()]
    header_order = list(reversed(NAMES))
    metadata = OrderedDict([("\u540d\u524d", "\u5024"), ("format", "pt")])
    assemble(os.path.join(OUT, "unicode_raw_reordered.safetensors"), tensors, metadata,
             header_order=header_order, indent=2, metadata_last=True)
    record("unicode_raw_reordered.safetensors", [(n, "F32", arrays[n].shape, arrays[n]) for n in header_order],
           metadata)


def f16_sweep_file():
    """Selected binary16 bit patterns: every subnormal, zeros, infinities, NaNs and five mantissas per exponent."""
    bits = set(range(0x0000, 0x0400))  # +0 and every positive subnormal
    bits |= {0x8000, 0x8001, 0x83ff, 0x7c00, 0xfc00, 0x7c01, 0x7e00, 0xfe00, 0x7fff}
    for exponent in range(1, 31):
        for mantissa in (0, 1, 0x155, 0x200, 0x3ff):
            for sign in (0, 0x8000):
                bits.add(sign | exponent << 10 | mantissa)
    halves = np.array(sorted(bits), dtype=np.uint16).view(np.float16)
    st.save(os.path.join(OUT, "f16_sweep.safetensors"), OrderedDict([("half", halves)]))
    record("f16_sweep.safetensors", [("half", "F16", halves.shape, halves.astype(np.float32))], {})


def main():
    os.makedirs(OUT, exist_ok=True)
    numpy_file()
    torch_batchnorm_file()
    bf16_file()
    small_ints_file()
    unicode_escaped_file()
    unicode_raw_reordered_file()
    f16_sweep_file()
    with open(os.path.join(OUT, "expected.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("# generated by tools/golden/safetensors_fixtures.py; see its docstring for the format\n")
        f.write("\n".join(records) + "\n")


if __name__ == "__main__":
    main()
