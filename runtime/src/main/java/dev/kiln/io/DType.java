package dev.kiln.io;

import java.nio.ByteBuffer;
import java.util.Set;

/**
 * The safetensors dtypes Kiln reads, each with its element size and its conversion of one little-endian element
 * to {@code float} (round to nearest for F64, I64 and I32 values beyond 2^24; exact otherwise).
 */
enum DType {
  F64(8),
  F32(4),
  F16(2),
  BF16(2),
  I64(8),
  I32(4),
  I16(2),
  I8(1),
  U8(1),
  /** One byte per element; the reader rejects bytes other than 0 and 1. */
  BOOL(1);

  /** Dtypes the safetensors format defines but Kiln does not read (told apart from misspellings in errors). */
  static final Set<String> UNSUPPORTED =
      Set.of("U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64");

  /** Bytes per element. */
  final int size;

  DType(int size) {
    this.size = size;
  }

  /**
   * Reads one element at the buffer's position (little-endian order set by the caller) as a float. A switch
   * rather than a conversion function per constant: each lambda costs a generated class at start-up, about 1.5
   * ms apiece in a fresh JVM, and loading this class is on the way to a network's first result.
   */
  float decode(ByteBuffer b) {
    switch (this) {
      case F64:
        return (float) b.getDouble();
      case F32:
        return b.getFloat();
      case F16:
        return halfToFloat(b.getShort());
      case BF16:
        return Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
      case I64:
        return b.getLong();
      case I32:
        return b.getInt();
      case I16:
        return b.getShort();
      case I8:
        return b.get();
      default: // U8 and BOOL
        return b.get() & 0xff;
    }
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
