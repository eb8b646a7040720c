package dev.kiln.samples.benchmark;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A minimal protocol-buffers encoder: just the two wire types an ONNX model needs, varint (0) for
 * integers and enums, and length-delimited (2) for strings, bytes and nested messages. Repeated fields are
 * written by calling the same method once per element (unpacked, which every parser accepts).
 */
final class ProtoWriter {
  private static final int VARINT = 0;
  private static final int LENGTH_DELIMITED = 2;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  /** Writes an {@code int32}/{@code int64}/enum field; negative values take ten bytes, as in protobuf. */
  ProtoWriter varint(int field, long value) {
    tag(field, VARINT);
    rawVarint(value);
    return this;
  }

  /** Writes a UTF-8 {@code string} field. */
  ProtoWriter string(int field, String value) {
    return bytes(field, value.getBytes(StandardCharsets.UTF_8));
  }

  /** Writes a {@code bytes} field. */
  ProtoWriter bytes(int field, byte[] value) {
    tag(field, LENGTH_DELIMITED);
    rawVarint(value.length);
    out.write(value, 0, value.length);
    return this;
  }

  /** Writes an embedded message field. */
  ProtoWriter message(int field, ProtoWriter message) {
    return bytes(field, message.toByteArray());
  }

  /** The encoded message so far. */
  byte[] toByteArray() {
    return out.toByteArray();
  }

  private void tag(int field, int wireType) {
    if (field < 1) {
      throw new IllegalArgumentException("field numbers start at 1 but got " + field);
    }
    rawVarint(((long) field << 3) | wireType);
  }

  /** Base-128 little-endian groups of 7 bits, the high bit set on every byte but the last. */
  private void rawVarint(long value) {
    long v = value;
    while ((v & ~0x7FL) != 0) {
      out.write((int) ((v & 0x7F) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }
}
