package dev.kiln.samples.benchmark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Wire bytes against the worked examples of the protocol-buffers encoding guide. */
class ProtoWriterTest {
  private static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  @Test
  void varintField() {
    // field 1 = 150 -> 08 96 01
    assertArrayEquals(bytes(0x08, 0x96, 0x01), new ProtoWriter().varint(1, 150).toByteArray());
    assertArrayEquals(bytes(0x08, 0x00), new ProtoWriter().varint(1, 0).toByteArray());
    assertArrayEquals(bytes(0x10, 0x7f), new ProtoWriter().varint(2, 127).toByteArray());
    assertArrayEquals(bytes(0x10, 0x80, 0x01), new ProtoWriter().varint(2, 128).toByteArray());
  }

  @Test
  void negativeVarintTakesTenBytes() {
    assertArrayEquals(bytes(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
        new ProtoWriter().varint(1, -1).toByteArray());
  }

  @Test
  void stringAndEmbeddedMessage() {
    // field 2 = "testing" -> 12 07 74 65 73 74 69 6e 67
    byte[] testing = bytes(0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67);
    assertArrayEquals(testing, new ProtoWriter().string(2, "testing").toByteArray());
    // field 3 = {field 1 = 150} -> 1a 03 08 96 01
    assertArrayEquals(bytes(0x1a, 0x03, 0x08, 0x96, 0x01),
        new ProtoWriter().message(3, new ProtoWriter().varint(1, 150)).toByteArray());
  }

  @Test
  void largeFieldNumberAndLength() {
    // field 20 varint 7 -> tag (20 << 3) = 160 = a0 01
    assertArrayEquals(bytes(0xa0, 0x01, 0x07), new ProtoWriter().varint(20, 7).toByteArray());
    byte[] payload = new byte[300];
    byte[] encoded = new ProtoWriter().bytes(9, payload).toByteArray();
    // tag 4a, length 300 = ac 02, then the payload
    assertArrayEquals(bytes(0x4a, 0xac, 0x02), java.util.Arrays.copyOf(encoded, 3));
    assertArrayEquals(payload, java.util.Arrays.copyOfRange(encoded, 3, encoded.length));
  }

  @Test
  void rejectsFieldZero() {
    assertThrows(IllegalArgumentException.class, () -> new ProtoWriter().varint(0, 1));
  }
}
