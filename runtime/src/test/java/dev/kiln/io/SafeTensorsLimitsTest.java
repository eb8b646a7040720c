package dev.kiln.io;

import static com.google.common.truth.Truth.assertThat;
import static dev.kiln.io.SafeTensorsMalformedTest.allocatedBytesDuring;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.tensor.Tensor;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one read may allocate, and reads that state the tensors they expect. The hostile files are sparse:
 * a few kilobytes on disk that declare gigabytes of tensor data.
 */
class SafeTensorsLimitsTest {
  private static final long GIB = 1L << 30;

  @TempDir Path dir;

  /** A file whose header is {@code json} (padded to 8 bytes) followed by {@code dataBytes} of (sparse) zeros. */
  private Path sparse(String name, String json, long dataBytes) throws IOException {
    byte[] header = padded(json);
    Path file = dir.resolve(name);
    try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
      out.write(lengthField(header.length));
      out.write(header);
      out.setLength(8L + header.length + dataBytes);
    }
    return file;
  }

  @Test
  void sparseI8TensorOfTwoBillionElementsIsRefusedBeforeAllocating() throws IOException {
    long n = Integer.MAX_VALUE - 8;
    String json = "{\"a\":{\"dtype\":\"I8\",\"shape\":[" + n + "],\"data_offsets\":[0," + n + "]}}";
    Path file = sparse("i8.safetensors", json, n);
    long charge = padded(json).length * (long) ReadOptions.HEADER_BYTE_COST;
    IOException e = assertThrows(IOException.class, () -> SafeTensors.read(file));
    assertThat(e).hasMessageThat().isEqualTo(file + ": the tensors hold 2147483639 elements, 8589934556 bytes as "
        + "floats, which with the header's " + charge + " exceeds the read limit of 1073741824 bytes (a caller "
        + "can raise it: ReadOptions.withMaxBytes)");
    assertThat(allocatedBytesDuring(() -> SafeTensors.read(file))).isLessThan(1L << 20);
  }

  @Test
  void sparseF16TensorFailsOnTheMissingKeyBeforeAllocating() throws IOException {
    long n = 1_500_000_000L;
    Path file = sparse("f16.safetensors",
        "{\"w\":{\"dtype\":\"F16\",\"shape\":[" + n + "],\"data_offsets\":[0," + 2 * n + "]}}", 2 * n);
    ReadOptions expecting = ReadOptions.defaults().expecting(Map.of("fc.weight", new int[] {10, 64}));
    IOException e = assertThrows(IOException.class, () -> SafeTensors.read(file, expecting));
    assertThat(e).hasMessageThat().isEqualTo(file + ": missing tensor \"fc.weight\" (the file holds 1 tensor: \"w\")");
    assertThat(allocatedBytesDuring(() -> SafeTensors.read(file, expecting))).isLessThan(1L << 20);
    // without expectations the limit refuses it, even when raised to 4 GiB
    e = assertThrows(IOException.class, () -> SafeTensors.read(file, ReadOptions.defaults().withMaxBytes(4 * GIB)));
    assertThat(e).hasMessageThat().contains("the tensors hold 1500000000 elements, 6000000000 bytes as floats");
    assertThat(e).hasMessageThat().contains("exceeds the read limit of 4294967296 bytes");
  }

  /** 1.4 million empty tensors make an 83 MB header: refused from its length field, before it is read. */
  @Test
  void eightyThreeMegabyteHeaderOfEmptyTensorsIsRefusedFromItsLength() throws IOException {
    Path file = dir.resolve("many.safetensors");
    int tensors = 1_400_000;
    byte[] entry = "\"t0000000\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
        .getBytes(StandardCharsets.US_ASCII);
    long length = 2 + (long) tensors * entry.length - 1; // braces, no comma after the last entry
    long padded = (length + 7) / 8 * 8;
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
      out.write(lengthField(padded));
      out.write('{');
      for (int i = 0; i < tensors; i++) {
        for (int d = 7, v = i; d >= 1; d--, v /= 10) {
          entry[1 + d] = (byte) ('0' + v % 10);
        }
        out.write(entry, 0, i == tensors - 1 ? entry.length - 1 : entry.length);
      }
      out.write('}');
      for (long i = length; i < padded; i++) {
        out.write(' ');
      }
    }
    assertThat(Files.size(file)).isGreaterThan(83_000_000L);
    IOException e = assertThrows(IOException.class, () -> SafeTensors.read(file));
    assertThat(e).hasMessageThat().isEqualTo(file + ": a header of " + padded + " bytes may take up to "
        + padded * ReadOptions.HEADER_BYTE_COST + " bytes to read, more than the read limit of 1073741824 bytes"
        + " (a caller can raise it: ReadOptions.withMaxBytes)");
    assertThat(allocatedBytesDuring(() -> SafeTensors.read(file))).isLessThan(1L << 20);
  }

  /**
   * A header made of small objects takes more memory per byte than its charge: counted while it is parsed
   * and refused before it does.
   */
  @Test
  void aHeaderOfManySmallObjectsIsRefusedWhileParsed() throws IOException {
    String json = "{\"__metadata__\":[" + "{\"\":0},".repeat(30_000) + "{}]}";
    Path file = sparse("objects.safetensors", json, 0);
    IOException e = assertThrows(IOException.class, () -> SafeTensors.read(file));
    long budget = padded(json).length * (ReadOptions.HEADER_BYTE_COST - 3L);
    assertThat(e).hasMessageThat().startsWith(file + ": the parsed header would take more than the " + budget
        + " bytes its length allows (at character ");
  }

  @Test
  void theLimitCountsFourBytesPerElementAndTheHeaderAndCanBeRaised() throws IOException {
    Path file = dir.resolve("w.safetensors");
    SafeTensors.write(file, Map.of("w", Tensor.of(new float[1000], 10, 100)), Map.of("k", "v"));
    long header = headerLength(file);
    long exact = 4000 + header * ReadOptions.HEADER_BYTE_COST;
    assertThat(SafeTensors.read(file, ReadOptions.defaults().withMaxBytes(exact)).get("w").shape())
        .isEqualTo(new int[] {10, 100});
    IOException e = assertThrows(IOException.class,
        () -> SafeTensors.read(file, ReadOptions.defaults().withMaxBytes(exact - 1)));
    assertThat(e).hasMessageThat().contains("the tensors hold 1000 elements, 4000 bytes as floats, which with the "
        + "header's " + header * ReadOptions.HEADER_BYTE_COST + " exceeds the read limit of " + (exact - 1));
    long headerOnly = header * ReadOptions.HEADER_BYTE_COST;
    e = assertThrows(IOException.class,
        () -> SafeTensors.read(file, ReadOptions.defaults().withMaxBytes(headerOnly - 1)));
    assertThat(e).hasMessageThat().contains("a header of " + header + " bytes may take up to " + headerOnly);
    assertThrows(IllegalArgumentException.class, () -> ReadOptions.defaults().withMaxBytes(0));
    assertThat(ReadOptions.defaults().maxBytes()).isEqualTo(GIB);
  }

  @Test
  void aReadThatStatesItsTensorsGetsExactlyThoseOrAnErrorBeforeAllocating() throws IOException {
    Path file = dir.resolve("model.safetensors");
    Map<String, Tensor> state = new LinkedHashMap<>();
    state.put("fc.weight", Tensor.of(new float[1 << 20], 1024, 1024));
    state.put("fc.bias", Tensor.of(new float[] {1, 2}, 2));
    SafeTensors.write(file, state, Map.of());

    Map<String, Tensor> read = SafeTensors.read(file, ReadOptions.defaults().expectingShapesOf(state));
    assertThat(read.keySet()).containsExactly("fc.weight", "fc.bias").inOrder();
    assertThat(read.get("fc.bias").data()).usingExactEquality().containsExactly(1f, 2f).inOrder();

    Map<String, int[]> transposed = Map.of("fc.weight", new int[] {512, 2048}, "fc.bias", new int[] {2});
    ReadOptions wrongShape = ReadOptions.defaults().expecting(transposed);
    IOException e = assertThrows(IOException.class, () -> SafeTensors.read(file, wrongShape));
    assertThat(e).hasMessageThat().isEqualTo(file + ": tensor \"fc.weight\": shape [1024, 1024] but expected [512, 2048]");
    assertThat(allocatedBytesDuring(() -> SafeTensors.read(file, wrongShape))).isLessThan(1L << 20);

    ReadOptions fewer = ReadOptions.defaults().expecting(Map.of("fc.bias", new int[] {2}));
    e = assertThrows(IOException.class, () -> SafeTensors.read(file, fewer));
    assertThat(e).hasMessageThat().isEqualTo(file + ": unexpected tensor \"fc.weight\" (expected 1 tensor: \"fc.bias\")");

    Map<String, int[]> more = new LinkedHashMap<>(Map.of("fc.weight", new int[] {1024, 1024}, "fc.bias",
        new int[] {2}));
    more.put("bn.running_mean", new int[] {2});
    e = assertThrows(IOException.class, () -> SafeTensors.read(file, ReadOptions.defaults().expecting(more)));
    assertThat(e).hasMessageThat().isEqualTo(file + ": missing tensor \"bn.running_mean\" (the file holds 2 tensors: "
        + "\"fc.weight\", \"fc.bias\")");
  }

  @Test
  void readingTheMetadataChecksTheHeaderButReadsNoTensor() throws IOException {
    long n = 2_000_000_000L;
    Path file = sparse("meta.safetensors", "{\"__metadata__\":{\"dataset\":\"digits\"},"
        + "\"w\":{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[0," + 4 * n + "]}}", 4 * n);
    Map<String, String> metadata = SafeTensors.readMetadata(file, ReadOptions.defaults());
    assertThat(metadata).containsExactly("dataset", "digits");
    long allocated = allocatedBytesDuring(() -> {
      SafeTensors.readMetadata(file, ReadOptions.defaults());
      throw new IOException("read the metadata"); // the helper measures an action that fails
    });
    assertThat(allocated).isLessThan(1L << 20);
    IOException e = assertThrows(IOException.class, () -> SafeTensors.readMetadata(file,
        ReadOptions.defaults().expecting(Map.of("w", new int[] {2}))));
    assertThat(e).hasMessageThat().contains("tensor \"w\": shape [2000000000] but expected [2]");
  }

  private static byte[] padded(String json) {
    byte[] utf8 = json.getBytes(StandardCharsets.UTF_8);
    byte[] padded = java.util.Arrays.copyOf(utf8, (utf8.length + 7) / 8 * 8);
    java.util.Arrays.fill(padded, utf8.length, padded.length, (byte) ' ');
    return padded;
  }

  private static byte[] lengthField(long length) {
    return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(length).array();
  }

  private static long headerLength(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    return ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
  }
}
