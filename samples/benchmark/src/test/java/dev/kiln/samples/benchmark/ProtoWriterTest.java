package dev.kiln.samples.benchmark;

import static com.google.common.truth.Truth.assertThat;
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
    assertThat(new ProtoWriter().varint(1, 150).toByteArray()).isEqualTo(bytes(0x08, 0x96, 0x01));
    assertThat(new ProtoWriter().varint(1, 0).toByteArray()).isEqualTo(bytes(0x08, 0x00));
    assertThat(new ProtoWriter().varint(2, 127).toByteArray()).isEqualTo(bytes(0x10, 0x7f));
    assertThat(new ProtoWriter().varint(2, 128).toByteArray()).isEqualTo(bytes(0x10, 0x80, 0x01));
  }

  @Test
  void negativeVarintTakesTenBytes() {
    assertThat(new ProtoWriter().varint(1, -1).toByteArray())
        .isEqualTo(bytes(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
  }

  @Test
  void stringAndEmbeddedMessage() {
    // field 2 = "testing" -> 12 07 74 65 73 74 69 6e 67
    byte[] testing = bytes(0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67);
    assertThat(new ProtoWriter().string(2, "testing").toByteArray()).isEqualTo(testing);
    // field 3 = {field 1 = 150} -> 1a 03 08 96 01
    assertThat(new ProtoWriter().message(3, new ProtoWriter().varint(1, 150)).toByteArray())
        .isEqualTo(bytes(0x1a, 0x03, 0x08, 0x96, 0x01));
  }

  @Test
  void largeFieldNumberAndLength() {
    // field 20 varint 7 -> tag (20 << 3) = 160 = a0 01
    assertThat(new ProtoWriter().varint(20, 7).toByteArray()).isEqualTo(bytes(0xa0, 0x01, 0x07));
    byte[] payload = new byte[300];
    byte[] encoded = new ProtoWriter().bytes(9, payload).toByteArray();
    // tag 4a, length 300 = ac 02, then the payload
    assertThat(java.util.Arrays.copyOf(encoded, 3)).isEqualTo(bytes(0x4a, 0xac, 0x02));
    assertThat(java.util.Arrays.copyOfRange(encoded, 3, encoded.length)).isEqualTo(payload);
  }

  @Test
  void rejectsFieldZero() {
    assertThrows(IllegalArgumentException.class, () -> new ProtoWriter().varint(0, 1));
  }
}
