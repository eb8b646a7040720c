package dev.kiln.processor.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** A minimal protobuf wire-format writer for building malformed and hand-made ONNX bytes in tests. */
final class Proto {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  static Proto message() {
    return new Proto();
  }

  Proto varint(long v) {
    writeVarint(out, v);
    return this;
  }

  /** {@code v} as a protobuf varint: seven bits a byte, least significant first, the high bit marking more. */
  static void writeVarint(ByteArrayOutputStream out, long v) {
    while ((v & ~0x7fL) != 0) {
      out.write((int) ((v & 0x7f) | 0x80));
      v >>>= 7;
    }
    out.write((int) v);
  }

  Proto key(int field, int wireType) {
    return varint((long) field << 3 | wireType);
  }

  Proto intField(int field, long v) {
    return key(field, 0).varint(v);
  }

  Proto bytesField(int field, byte[] b) {
    key(field, 2).varint(b.length);
    out.write(b, 0, b.length);
    return this;
  }

  Proto string(int field, String s) {
    return bytesField(field, s.getBytes(StandardCharsets.UTF_8));
  }

  Proto message(int field, Proto inner) {
    return bytesField(field, inner.bytes());
  }

  Proto floatField(int field, float f) {
    key(field, 5);
    int bits = Float.floatToRawIntBits(f);
    for (int i = 0; i < 4; i++) {
      out.write(bits >>> (8 * i));
    }
    return this;
  }

  Proto raw(byte... b) {
    out.write(b, 0, b.length);
    return this;
  }

  byte[] bytes() {
    return out.toByteArray();
  }

  /** A float tensor with raw little-endian data. */
  static Proto tensor(String name, long[] dims, float... values) {
    return tensorHeader(name, dims, 1).bytesField(9, floatBytes(values));
  }

  /** The floats' little-endian bytes, as a FLOAT tensor's raw data holds them. */
  static byte[] floatBytes(float... values) {
    long[] bits = new long[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToRawIntBits(values[i]);
    }
    return littleEndian(bits, 4);
  }

  /** A graph input or output of element type float with the given dims. */
  static Proto value(String name, long... dims) {
    Proto shape = message();
    for (long d : dims) {
      shape.message(1, message().intField(1, d));
    }
    return message().string(1, name).message(2, message().message(1, message().intField(1, 1).message(2, shape)));
  }

  static Proto node(String name, String op, String[] inputs, String... outputs) {
    Proto n = message();
    for (String i : inputs) {
      n.string(1, i);
    }
    for (String o : outputs) {
      n.string(2, o);
    }
    return n.string(3, name).string(4, op);
  }

  /** An INT64 tensor with raw little-endian data. */
  static Proto longTensor(String name, long[] dims, long... values) {
    return tensorHeader(name, dims, 7).bytesField(9, littleEndian(values, 8));
  }

  /** A tensor's dims, ONNX element type {@code dataType} and name, without data. */
  static Proto tensorHeader(String name, long[] dims, int dataType) {
    Proto t = message();
    for (long d : dims) {
      t.intField(1, d);
    }
    return t.intField(2, dataType).string(8, name);
  }

  /** Each value's low {@code size} bytes, little-endian. */
  private static byte[] littleEndian(long[] values, int size) {
    byte[] raw = new byte[values.length * size];
    for (int i = 0; i < values.length; i++) {
      for (int k = 0; k < size; k++) {
        raw[size * i + k] = (byte) (values[i] >>> (8 * k));
      }
    }
    return raw;
  }

  /** An INT attribute. */
  static Proto intAttribute(String name, long value) {
    return message().string(1, name).intField(3, value).intField(20, 2);
  }

  /** A FLOAT attribute. */
  static Proto floatAttribute(String name, float value) {
    return message().string(1, name).floatField(2, value).intField(20, 1);
  }

  /** A STRING attribute. */
  static Proto stringAttribute(String name, String value) {
    return message().string(1, name).string(4, value).intField(20, 3);
  }

  /** An INTS attribute. */
  static Proto intsAttribute(String name, long... values) {
    Proto a = message().string(1, name);
    for (long v : values) {
      a.intField(8, v);
    }
    return a.intField(20, 7);
  }

  /** A model (IR 8, opset 17) around {@code graph}. */
  static Proto model(Proto graph) {
    return model(graph, 17);
  }

  /** A model (IR 8) of ONNX operator set {@code opset} around {@code graph}. */
  static Proto model(Proto graph, long opset) {
    return message().intField(1, 8).message(7, graph).message(8, message().string(1, "").intField(2, opset));
  }
}
