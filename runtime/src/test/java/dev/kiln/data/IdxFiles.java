package dev.kiln.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.zip.GZIPOutputStream;

/** Builds IDX file contents for tests. */
final class IdxFiles {
  private IdxFiles() {}

  /** An IDX file: magic {@code 00 00 dtype dims.length}, big-endian dims, then {@code data}. */
  static byte[] idx(int dtype, int[] dims, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
    b.put((byte) 0).put((byte) 0).put((byte) dtype).put((byte) dims.length);
    for (int d : dims) {
      b.putInt(d);
    }
    b.put(data);
    return b.array();
  }

  /** An unsigned-byte images file of {@code n} images {@code h x w} with pixel (i, r, c) = pixel(i, r, c). */
  static byte[] images(int n, int h, int w) {
    byte[] data = new byte[n * h * w];
    for (int i = 0; i < n; i++) {
      for (int r = 0; r < h; r++) {
        for (int c = 0; c < w; c++) {
          data[(i * h + r) * w + c] = (byte) pixel(i, r, c);
        }
      }
    }
    return idx(0x08, new int[] {n, h, w}, data);
  }

  /** The test pattern: 0..255. */
  static int pixel(int i, int r, int c) {
    return (i * 37 + r * 13 + c * 7) % 256;
  }

  /** An unsigned-byte labels file. */
  static byte[] labels(int... labels) {
    byte[] data = new byte[labels.length];
    for (int i = 0; i < labels.length; i++) {
      data[i] = (byte) labels[i];
    }
    return idx(0x08, new int[] {labels.length}, data);
  }

  /** {@code raw} as one gzip member. */
  static byte[] gzip(byte[] raw) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(bytes, 1 << 16)) {
      out.write(raw);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }
}
