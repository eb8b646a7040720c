package dev.kiln.processor.onnx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A cursor over protobuf wire-format bytes {@code [position, limit)} of one message. Every length is checked
 * against the bytes that remain before anything is allocated, and a repeated field's values are counted before
 * they are decoded (and refused past the caller's limit), so what a field allocates is bounded by its bytes in
 * the file; a problem is an {@link IOException} naming the byte offset.
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
    if (length == 0) {
      return ""; // one object for every empty name, not one per occurrence
    }
    String s = new String(bytes, position, length, StandardCharsets.UTF_8);
    position += length;
    return s;
  }

  /** The bytes of a length-delimited field as a little-endian view of the file's bytes (not a copy). */
  ByteBuffer slice(String field) throws IOException {
    expect(LENGTH, field);
    int length = length();
    ByteBuffer view = ByteBuffer.wrap(bytes, position, length).slice().order(ByteOrder.LITTLE_ENDIAN);
    position += length;
    return view;
  }

  /** A second cursor over what remains of this message, at the same field; reading one does not move the other. */
  Wire copy() {
    Wire w = new Wire(bytes, position, limit, what);
    w.wireType = wireType;
    return w;
  }

  /**
   * How many values the current field of a repeated scalar holds, its value skipped: one for a value of wire
   * type {@code elementType} ({@link #VARINT}, {@link #FIXED32} or {@link #FIXED64}), the count of a packed run
   * otherwise, found and checked without decoding it (the varints of a run are counted by their last bytes).
   */
  int countValues(String field, int elementType) throws IOException {
    if (wireType == elementType) {
      skip();
      return 1;
    }
    Wire packed = message(field);
    int width = elementType == FIXED32 ? 4 : elementType == FIXED64 ? 8 : 0;
    if (width == 0) {
      int n = 0;
      int run = 0;
      for (int k = packed.position; k < packed.limit; k++) {
        if (bytes[k] >= 0) {
          n++;
          run = 0;
        } else if (++run == 10) {
          throw error(field + ": varint longer than 10 bytes");
        }
      }
      if (run > 0) {
        throw error(field + ": truncated varint");
      }
      return n;
    }
    if (packed.remaining() % width != 0) {
      throw error(field + ": packed values of " + packed.remaining() + " bytes (not a multiple of " + width + ")");
    }
    return packed.remaining() / width;
  }

  /**
   * Appends a repeated varint field's values, packed or one per tag, and returns how many; more than {@code max}
   * values in {@code out} is an error, found before a packed run is decoded.
   */
  int longs(String field, LongList out, int max) throws IOException {
    if (wireType == VARINT) {
      room(field, out.size(), 1, max);
      out.add(varint());
      return 1;
    }
    int n = copy().countValues(field, VARINT);
    room(field, out.size(), n, max);
    Wire packed = message(field);
    out.reserve(n);
    while (packed.hasNext()) {
      out.add(packed.varint());
    }
    return n;
  }

  /** Appends a repeated float field's values as {@link #longs} does, and returns how many. */
  int floats(String field, FloatList out, int max) throws IOException {
    if (wireType == FIXED32) {
      room(field, out.size(), 1, max);
      out.add(Float.intBitsToFloat(fixed32()));
      return 1;
    }
    int n = copy().countValues(field, FIXED32);
    room(field, out.size(), n, max);
    Wire packed = message(field);
    out.reserve(n);
    while (packed.hasNext()) {
      out.add(Float.intBitsToFloat(packed.fixed32()));
    }
    return n;
  }

  private void room(String field, int size, int more, int max) throws IOException {
    if (more > max - size) {
      throw error(field + ": more than " + max + " values");
    }
  }

  /**
   * Decodes the current field's values from index {@code at}: into {@code floats} when {@code elementType} is
   * {@link #FIXED32} (floats) or {@link #FIXED64} (doubles), into {@code longs} when it is {@link #VARINT};
   * returns the index after the last. The caller has counted them ({@link #countValues}) and sized the array.
   */
  int decode(String field, int elementType, float[] floats, long[] longs, int at) throws IOException {
    if (wireType == elementType) {
      return decodeOne(field, elementType, floats, longs, at);
    }
    Wire packed = message(field);
    int k = at;
    while (packed.hasNext()) {
      k = packed.decodeOne(field, elementType, floats, longs, k);
    }
    return k;
  }

  private int decodeOne(String field, int elementType, float[] floats, long[] longs, int k) throws IOException {
    if (k >= (floats != null ? floats.length : longs.length)) {
      throw error(field + ": more values than counted");
    }
    switch (elementType) {
      case FIXED32 -> floats[k] = Float.intBitsToFloat(fixed32());
      case FIXED64 -> floats[k] = (float) Double.longBitsToDouble(fixed64());
      default -> longs[k] = varint();
    }
    return k + 1;
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

  /** A growable list of longs (no boxing; nothing allocated while empty). */
  static final class LongList {
    private static final long[] EMPTY = new long[0];
    private long[] values = EMPTY;
    private int size;

    void add(long v) {
      if (size == values.length) {
        values = java.util.Arrays.copyOf(values, Math.max(8, size * 2));
      }
      values[size++] = v;
    }

    /** Makes room for {@code n} more values at once. */
    void reserve(int n) {
      if (n > values.length - size) {
        values = java.util.Arrays.copyOf(values, size + n);
      }
    }

    long[] toArray() {
      return size == 0 ? EMPTY : java.util.Arrays.copyOf(values, size);
    }

    int size() {
      return size;
    }
  }

  /** A growable list of floats (no boxing; nothing allocated while empty). */
  static final class FloatList {
    private static final float[] EMPTY = new float[0];
    private float[] values = EMPTY;
    private int size;

    void add(float v) {
      if (size == values.length) {
        values = java.util.Arrays.copyOf(values, Math.max(8, size * 2));
      }
      values[size++] = v;
    }

    /** Makes room for {@code n} more values at once. */
    void reserve(int n) {
      if (n > values.length - size) {
        values = java.util.Arrays.copyOf(values, size + n);
      }
    }

    float[] toArray() {
      return size == 0 ? EMPTY : java.util.Arrays.copyOf(values, size);
    }

    int size() {
      return size;
    }
  }
}
