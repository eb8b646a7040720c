package dev.kiln.io;

import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes safetensors files: F32 (I64 for chosen keys), the header padded with spaces to a multiple of 8
 * bytes, through {@link AtomicFile}.
 */
final class SafeTensorsWriter {
  private static final int CHUNK_BYTES = 1 << 16;

  private SafeTensorsWriter() {}

  static void write(Path path, Map<String, Tensor> tensors, Map<String, String> metadata, Set<String> int64Keys)
      throws IOException {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(tensors, "tensors");
    Objects.requireNonNull(int64Keys, "int64Keys");
    for (String key : int64Keys) {
      if (!tensors.containsKey(key)) {
        throw new IllegalArgumentException("int64 key " + Json.quote(key) + " is not among the tensors "
            + tensors.keySet());
      }
      checkIntegral(key, tensors.get(key));
    }
    byte[] header = header(tensors, metadata == null ? Map.of() : metadata, int64Keys);
    AtomicFile.write(path, out -> writeContent(out, header, tensors, int64Keys));
  }

  private static void checkIntegral(String key, Tensor tensor) {
    Objects.requireNonNull(tensor, () -> "tensor " + Json.quote(key) + " is null");
    float[] data = tensor.data();
    for (int i = 0; i < data.length; i++) {
      float v = data[i];
      if (!(v >= -0x1p63f && v < 0x1p63f) || v != Math.rint(v)) {
        throw new IllegalArgumentException("tensor " + Json.quote(key) + " is written as I64 but element "
            + i + " is " + v + ", not an integer in the 64-bit range");
      }
    }
  }

  private static byte[] header(Map<String, Tensor> tensors, Map<String, String> metadata, Set<String> int64Keys) {
    Map<String, Object> json = new LinkedHashMap<>();
    if (!metadata.isEmpty()) {
      Map<String, String> strings = new LinkedHashMap<>();
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        String key = encodable("metadata key", Objects.requireNonNull(e.getKey(), "metadata key"));
        strings.put(key, encodable("metadata value",
            Objects.requireNonNull(e.getValue(), () -> "metadata value of " + Json.quote(key))));
      }
      json.put(SafeTensors.METADATA_KEY, strings);
    }
    long offset = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      String name = encodable("tensor name", Objects.requireNonNull(e.getKey(), "tensor name"));
      Tensor tensor = Objects.requireNonNull(e.getValue(), () -> "tensor " + Json.quote(name) + " is null");
      if (name.equals(SafeTensors.METADATA_KEY)) {
        throw new IllegalArgumentException("\"" + SafeTensors.METADATA_KEY + "\" is reserved and cannot name a tensor");
      }
      boolean int64 = int64Keys.contains(name);
      long bytes = (long) tensor.size() * (int64 ? 8 : 4);
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("dtype", int64 ? "I64" : "F32");
      entry.put("shape", tensor.shape());
      entry.put("data_offsets", new long[] {offset, offset + bytes});
      json.put(name, entry);
      offset += bytes;
    }
    byte[] utf8 = Json.write(json).getBytes(StandardCharsets.UTF_8);
    int padded = (utf8.length + 7) / 8 * 8;
    if (padded > SafeTensors.MAX_HEADER_BYTES) {
      throw new IllegalArgumentException("the header would take " + padded + " bytes, more than the "
          + SafeTensors.MAX_HEADER_BYTES + " a reader accepts");
    }
    byte[] result = Arrays.copyOf(utf8, padded);
    Arrays.fill(result, utf8.length, padded, (byte) ' ');
    return result;
  }

  /** Rejects strings with an unpaired surrogate, which have no UTF-8 encoding. */
  private static String encodable(String what, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new IllegalArgumentException(what + " " + Json.quote(s) + " holds an unpaired surrogate at index "
            + i + " (not encodable as UTF-8)");
      }
    }
    return s;
  }

  private static void writeContent(WritableByteChannel out, byte[] header, Map<String, Tensor> tensors,
      Set<String> int64Keys) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    buf.putLong(header.length);
    flush(out, buf);
    AtomicFile.writeFully(out, ByteBuffer.wrap(header));
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      boolean int64 = int64Keys.contains(e.getKey());
      for (float v : e.getValue().data()) {
        if (buf.remaining() < 8) {
          flush(out, buf);
        }
        if (int64) {
          buf.putLong((long) v);
        } else {
          buf.putFloat(v);
        }
      }
    }
    flush(out, buf);
  }

  private static void flush(WritableByteChannel out, ByteBuffer buf) throws IOException {
    buf.flip();
    AtomicFile.writeFully(out, buf);
    buf.clear();
  }
}
