package dev.kiln.processor.onnx;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * A cursor over protobuf wire-format bytes {@code [position, limit)} of one message. Every length is checked
 * against the bytes that remain before anything is allocated, so a hostile file costs at most its own size; a
 * problem is an {@link IOException} naming the byte offset.
 */
final class Wire {
  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LENGTH = 2;
  static final int FIXED32 = 5;

  private final byte[] bytes;
  private final String what;
  private int position;
  private final int limit;
  private int wireType = -1;

  private Wire(byte[] bytes, int position, int limit, String what) {
    this.bytes = bytes;
    this.position = position;
    this.limit = limit;
    this.what = what;
  }

  /** A cursor over a whole buffer holding message {@code what}. */
  static Wire of(byte[] bytes, String what) {
    return new Wire(bytes, 0, bytes.length, what);
  }

  boolean hasNext() {
    return position < limit;
  }

  /**
   * Moves to the next occurrence of field {@code number}, skipping the fields before it; false when the message
   * has no more.
   */
  boolean nextOf(int number) throws IOException {
    while (hasNext()) {
      if (next() == number) {
        return true;
      }
      skip();
    }
    return false;
  }

  /** The next field's number; its wire type is {@link #wireType()}. */
  int next() throws IOException {
    long key = varint();
    int field = (int) (key >>> 3);
    wireType = (int) (key & 7);
    if (key >>> 3 > Integer.MAX_VALUE || field == 0) {
      throw error("invalid field number " + (key >>> 3));
    }
    if (wireType != VARINT && wireType != FIXED64 && wireType != LENGTH && wireType != FIXED32) {
      throw error("unsupported wire type " + wireType + " (field " + field + ")");
    }
    return field;
  }

  int wireType() {
    return wireType;
  }

  long varint() throws IOException {
    long value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (position >= limit) {
        throw error("truncated varint");
      }
      byte b = bytes[position++];
      value |= (long) (b & 0x7f) << shift;
      if (b >= 0) {
        return value;
      }
    }
    throw error("varint longer than 10 bytes");
  }

  /** A varint field as an int, rejected outside {@code [min, max]}. */
  int intValue(String field, long min, long max) throws IOException {
    expect(VARINT, field);
    long v = varint();
    if (v < min || v > max) {
      throw error(field + " " + v + " out of range [" + min + ", " + max + "]");
    }
    return (int) v;
  }

  long longValue(String field) throws IOException {
    expect(VARINT, field);
    return varint();
  }

  float floatValue(String field) throws IOException {
    expect(FIXED32, field);
    return Float.intBitsToFloat(fixed32());
  }

  int fixed32() throws IOException {
    require(4);
    int v = (bytes[position] & 0xff) | (bytes[position + 1] & 0xff) << 8 | (bytes[position + 2] & 0xff) << 16
        | (bytes[position + 3] & 0xff) << 24;
    position += 4;
    return v;
  }

  long fixed64() throws IOException {
    long lo = fixed32() & 0xffffffffL;
    long hi = fixed32() & 0xffffffffL;
    return lo | hi << 32;
  }

  /** The embedded message of a length-delimited field, as a cursor over its bytes. */
  Wire message(String field) throws IOException {
    expect(LENGTH, field);
    int length = length();
    Wire inner = new Wire(bytes, position, position + length, field);
    position += length;
    return inner;
  }

  String string(String field) throws IOException {
    expect(LENGTH, field);
    int length = length();
    String s = new String(bytes, position, length, StandardCharsets.UTF_8);
    position += length;
    return s;
  }

  /** The bytes of a length-delimited field (a copy). */
  byte[] bytes(String field) throws IOException {
    expect(LENGTH, field);
    int length = length();
    byte[] out = new byte[length];
    System.arraycopy(bytes, position, out, 0, length);
    position += length;
    return out;
  }

  /** Appends a repeated varint field's values, packed or one per tag. */
  void longs(String field, LongList out) throws IOException {
    if (wireType == VARINT) {
      out.add(varint());
      return;
    }
    Wire packed = message(field);
    while (packed.hasNext()) {
      out.add(packed.varint());
    }
  }

  /** Appends a repeated float field's values, packed or one per tag. */
  void floats(String field, FloatList out) throws IOException {
    if (wireType == FIXED32) {
      out.add(Float.intBitsToFloat(fixed32()));
      return;
    }
    Wire packed = message(field);
    if (packed.remaining() % 4 != 0) {
      throw error(field + ": packed floats of " + packed.remaining() + " bytes (not a multiple of 4)");
    }
    while (packed.hasNext()) {
      out.add(Float.intBitsToFloat(packed.fixed32()));
    }
  }

  /** Appends a repeated double field's values, packed or one per tag. */
  void doubles(String field, FloatList out) throws IOException {
    if (wireType == FIXED64) {
      out.add((float) Double.longBitsToDouble(fixed64()));
      return;
    }
    Wire packed = message(field);
    if (packed.remaining() % 8 != 0) {
      throw error(field + ": packed doubles of " + packed.remaining() + " bytes (not a multiple of 8)");
    }
    while (packed.hasNext()) {
      out.add((float) Double.longBitsToDouble(packed.fixed64()));
    }
  }

  /** Skips the current field's value. */
  void skip() throws IOException {
    switch (wireType) {
      case VARINT -> varint();
      case FIXED64 -> {
        require(8);
        position += 8;
      }
      case LENGTH -> {
        int length = length(); // before reading position: `position += length()` would read it first
        position += length;
      }
      case FIXED32 -> {
        require(4);
        position += 4;
      }
      default -> throw error("unsupported wire type " + wireType);
    }
  }

  int remaining() {
    return limit - position;
  }

  private int length() throws IOException {
    long length = varint();
    if (length < 0 || length > remaining()) {
      throw error("declared length " + length + " exceeds the " + remaining() + " bytes that remain");
    }
    return (int) length;
  }

  private void require(int n) throws IOException {
    if (remaining() < n) {
      throw error("truncated: " + n + " bytes needed, " + remaining() + " remain");
    }
  }

  private void expect(int type, String field) throws IOException {
    if (wireType != type) {
      throw error(field + " has wire type " + wireType + ", expected " + type);
    }
  }

  IOException error(String message) {
    return new IOException(UnsupportedGraphException.oneLine(what + " at byte " + position + ": " + message));
  }

  /** A growable list of longs (no boxing). */
  static final class LongList {
    private long[] values = new long[8];
    private int size;

    void add(long v) {
      if (size == values.length) {
        values = java.util.Arrays.copyOf(values, size * 2);
      }
      values[size++] = v;
    }

    long[] toArray() {
      return java.util.Arrays.copyOf(values, size);
    }

    int size() {
      return size;
    }
  }

  /** A growable list of floats (no boxing). */
  static final class FloatList {
    private float[] values = new float[16];
    private int size;

    void add(float v) {
      if (size == values.length) {
        values = java.util.Arrays.copyOf(values, size * 2);
      }
      values[size++] = v;
    }

    float[] toArray() {
      return java.util.Arrays.copyOf(values, size);
    }

    int size() {
      return size;
    }
  }
}
