#!/usr/bin/env python3
"""Writes the tiny IDX fixture used by IdxDatasetTest (gzip written by Python, not by Java).

Three 4x5 images with pixel (i, r, c) = (i*50 + r*5 + c*11) % 256 and labels 7, 0, 9:
  runtime/src/test/resources/dev/kiln/data/tiny-images-idx3-ubyte.gz  (gzip)
  runtime/src/test/resources/dev/kiln/data/tiny-labels-idx1-ubyte     (plain)
"""
import gzip
import os
import struct

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "runtime", "src", "test", "resources", "dev", "kiln", "data")
N, H, W = 3, 4, 5
LABELS = [7, 0, 9]

pixels = bytes((i * 50 + r * 5 + c * 11) % 256 for i in range(N) for r in range(H) for c in range(W))
images = struct.pack(">BBBBiii", 0, 0, 0x08, 3, N, H, W) + pixels
labels = struct.pack(">BBBBi", 0, 0, 0x08, 1, N) + bytes(LABELS)

with gzip.GzipFile(os.path.join(OUT, "tiny-images-idx3-ubyte.gz"), "wb", mtime=0) as f:
    f.write(images)
with open(os.path.join(OUT, "tiny-labels-idx1-ubyte"), "wb") as f:
    f.write(labels)
