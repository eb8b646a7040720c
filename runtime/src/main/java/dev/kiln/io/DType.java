package dev.kiln.io;

import java.nio.ByteBuffer;
import java.util.Set;

/**
 * The safetensors dtypes Kiln reads, each with its element size and its conversion of one little-endian element
 * to {@code float} (round to nearest for F64, I64 and I32 values beyond 2^24; exact otherwise).
 */
enum DType {
  F64(8, b -> (float) b.getDouble()),
  F32(4, b -> b.getFloat()),
  F16(2, b -> halfToFloat(b.getShort())),
  BF16(2, b -> Float.intBitsToFloat((b.getShort() & 0xffff) << 16)),
  I64(8, b -> b.getLong()),
  I32(4, b -> b.getInt()),
  I16(2, b -> b.getShort()),
  I8(1, b -> b.get()),
  U8(1, b -> b.get() & 0xff),
  /** One byte per element; the reader rejects bytes other than 0 and 1. */
  BOOL(1, b -> b.get() & 0xff);

  /** Dtypes the safetensors format defines but Kiln does not read (told apart from misspellings in errors). */
  static final Set<String> UNSUPPORTED =
      Set.of("U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64");

  /** Bytes per element. */
  final int size;
  private final Decoder decoder;

  DType(int size, Decoder decoder) {
    this.size = size;
    this.decoder = decoder;
  }

  /** One element's conversion to float. */
  private interface Decoder {
    float decode(ByteBuffer b);
  }

  /** Reads one element at the buffer's position (little-endian order set by the caller) as a float. */
  float decode(ByteBuffer b) {
    return decoder.decode(b);
  }

  /** The dtype named {@code name} exactly (e.g. {@code "BF16"}), or {@code null}. */
  static DType byName(String name) {
    for (DType d : values()) {
      if (d.name().equals(name)) {
        return d;
      }
    }
    return null;
  }

  /** IEEE 754 binary16 bits to float (exact: every half value is a float; NaN payloads kept). */
  static float halfToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exponent = (h >>> 10) & 0x1f;
    int mantissa = h & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      float magnitude = mantissa * 0x1p-24f; // subnormal (or zero): mantissa * 2^-24, exact
      return sign != 0 ? -magnitude : magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
  }
}
