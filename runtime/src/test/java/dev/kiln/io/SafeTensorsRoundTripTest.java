package dev.kiln.io;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kiln writes, Kiln reads: names, order, shapes, exact float bits, metadata and I64 keys survive. */
class SafeTensorsRoundTripTest {
  @TempDir Path dir;

  @Test
  void tensorsMetadataAndOrderSurvive() throws IOException {
    Random random = new Random(11);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("z.last.but.written.first", randn(random, 2, 3, 4));
    tensors.put("a", Tensor.of(new float[] {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.NaN, Float.MIN_VALUE, -Float.MAX_VALUE, 1e-40f}, 8));
    tensors.put("scalar", Tensor.scalar(-2.5f));
    tensors.put("empty", Tensor.zeros(0));
    tensors.put("empty.3d", Tensor.zeros(2, 0, 3));
    // Empty whatever the other dimensions, as in PyTorch: their product alone would pass 2^31.
    tensors.put("empty.huge", Tensor.zeros(65536, 65536, 0));
    tensors.put("empty.max", Tensor.zeros(2, Integer.MAX_VALUE, 0));
    tensors.put("caf\u00e9 \u6743\u91cd \uD83D\uDD25", randn(random, 3));
    tensors.put("quote \" backslash \\ tab \t newline \n bell \u0007 slash /", randn(random, 1, 1));
    tensors.put("", randn(random, 2));
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("format", "pt");
    metadata.put("n\u00f8te \uD83D\uDE00", "line1\nline2 \"quoted\" \u0000 end");
    metadata.put("empty", "");

    Path file = dir.resolve("model.safetensors");
    SafeTensors.write(file, tensors, metadata);
    SafeTensors.Contents read = SafeTensors.readWithMetadata(file);

    assertThat(read.metadata()).containsExactlyEntriesIn(metadata).inOrder();
    assertSameTensors(read.tensors(), tensors);
    assertThat(SafeTensors.read(file).keySet()).containsExactlyElementsIn(tensors.keySet()).inOrder();
  }

  /** BatchNorm, pooling and a linear layer: a state with a BatchNorm step counter. */
  private static final class SmallNet extends dev.kiln.nn.SequentialModel {
    SmallNet(long seed) {
      super(new int[] {2, 4, 4}, new int[] {3});
      add("bn", new dev.kiln.nn.BatchNorm2d(2));
      add("gap", new dev.kiln.nn.GlobalAvgPool2d());
      add("flatten", new dev.kiln.nn.Flatten());
      add("fc", new dev.kiln.nn.Linear(2, 3, true, seed));
    }
  }

  @Test
  void saveWritesAModulesStateWithBatchNormCountersAsI64AndLoadReadsItBack() throws IOException {
    SmallNet source = new SmallNet(5L);
    source.stateDict().get("bn.num_batches_tracked").data()[0] = 41f;
    source.stateDict().get("bn.running_var").data()[1] = 2.5f;
    Path file = dir.resolve("net.safetensors");

    SafeTensors.save(file, source, Map.of("format", "pt"));

    String header = headerText(file);
    assertThat(header).contains("\"bn.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[]");
    assertThat(header).contains("\"bn.running_var\":{\"dtype\":\"F32\",\"shape\":[2]");
    assertThat(header).contains("\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[3,2]");
    assertThat(SafeTensors.readMetadata(file, ReadOptions.defaults())).containsExactly("format", "pt");
    assertThat(SafeTensors.read(file).keySet()).containsExactlyElementsIn(source.stateDict().keySet()).inOrder();
    SmallNet target = new SmallNet(6L);
    SafeTensors.load(file, target);
    assertSameTensors(target.stateDict(), source.stateDict());
    assertThat(target.stateDict().get("bn.num_batches_tracked").data()).usingExactEquality().containsExactly(41f);
  }

  @Test
  void pytorchInt64KeysAreTheBatchNormCountersWhateverTheirPrefix() {
    assertThat(SafeTensors.pytorchInt64Keys(List.of("num_batches_tracked", "a.weight", "model.bn.num_batches_tracked",
        "xnum_batches_tracked", "bn.num_batches_tracked.extra", "b.num_batches_tracked")))
        .containsExactly("num_batches_tracked", "model.bn.num_batches_tracked", "b.num_batches_tracked").inOrder();
  }

  @Test
  void int64KeysAreStoredAsI64AndRoundTrip() throws IOException {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("bn.running_mean", Tensor.of(new float[] {0.5f, -1.25f}, 2));
    tensors.put("bn.num_batches_tracked", Tensor.scalar(12345f));
    tensors.put("ids", Tensor.of(new float[] {-3f, 0x1p40f, -0x1p62f, 16777216f}, 2, 2));
    Path file = dir.resolve("bn.safetensors");
    SafeTensors.write(file, tensors, null, Set.of("bn.num_batches_tracked", "ids"));

    String header = headerText(file);
    assertThat(header).contains("\"bn.running_mean\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}");
    assertThat(header).contains("\"bn.num_batches_tracked\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]}");
    assertThat(header).contains("\"ids\":{\"dtype\":\"I64\",\"shape\":[2,2],\"data_offsets\":[16,48]}");
    ByteBuffer data = dataSection(file);
    assertThat(data.getLong(8)).isEqualTo(12345L);
    assertThat(data.getLong(16)).isEqualTo(-3L);
    assertThat(data.getLong(24)).isEqualTo(1L << 40);
    assertThat(data.getLong(32)).isEqualTo(-(1L << 62));
    assertSameTensors(SafeTensors.read(file), tensors);
  }

  @Test
  void int64KeysMustBeIntegralAndPresent() throws IOException {
    Path file = dir.resolve("x.safetensors");
    Map<String, Tensor> tensors = Map.of("n", Tensor.of(new float[] {1f, 2.5f}, 2));
    IllegalArgumentException fraction =
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(file, tensors, null, Set.of("n")));
    assertThat(fraction).hasMessageThat().contains("tensor \"n\" is written as I64 but element 1 is 2.5");
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, 0x1p63f, -0x1p64f}) {
      Map<String, Tensor> t = Map.of("n", Tensor.scalar(bad));
      assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(file, t, null, Set.of("n")),
          "value " + bad);
    }
    IllegalArgumentException missing =
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(file, tensors, null, Set.of("m")));
    assertThat(missing).hasMessageThat().contains("int64 key \"m\" is not among the tensors");
    assertThat(Files.exists(file)).isFalse();
    assertThat(listDir()).isEmpty();
  }

  @Test
  void headerIsPaddedWithSpacesToAMultipleOf8() throws IOException {
    for (int nameLength = 0; nameLength < 16; nameLength++) {
      Path file = dir.resolve("pad" + nameLength + ".safetensors");
      SafeTensors.write(file, Map.of("x".repeat(nameLength), Tensor.of(new float[] {1f, 2f, 3f}, 3)), Map.of());
      byte[] bytes = Files.readAllBytes(file);
      long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
      assertWithMessage("header length for name length %s", nameLength).that(n % 8).isEqualTo(0);
      assertThat(bytes.length).isEqualTo(8 + n + 12);
      String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
      String json = header.stripTrailing();
      assertThat(json).endsWith("}");
      assertThat(header.substring(json.length())).matches(" {0,7}");
      assertThat(json).doesNotContain("__metadata__");
    }
  }

  @Test
  void nullOrEmptyMetadataIsOmittedAndReadsBackEmpty() throws IOException {
    for (Map<String, String> metadata : java.util.Arrays.asList(null, Map.<String, String>of())) {
      Path file = dir.resolve("m.safetensors");
      SafeTensors.write(file, Map.of("w", Tensor.scalar(1f)), metadata);
      assertThat(headerText(file)).doesNotContain("__metadata__");
      assertThat(SafeTensors.readWithMetadata(file).metadata()).isEmpty();
    }
  }

  @Test
  void noTensorsGivesAnEmptyHeaderObject() throws IOException {
    Path file = dir.resolve("empty.safetensors");
    SafeTensors.write(file, Map.of(), Map.of("k", "v"));
    assertThat(headerText(file).stripTrailing()).isEqualTo("{\"__metadata__\":{\"k\":\"v\"}}");
    SafeTensors.Contents read = SafeTensors.readWithMetadata(file);
    assertThat(read.tensors()).isEmpty();
    assertThat(read.metadata()).containsExactly("k", "v");
  }

  @Test
  void largeTensorsCrossReadChunksForEveryWidth() throws IOException {
    // 100k elements: more than one 64 KiB chunk for every element width (1, 2, 4 and 8 bytes).
    int n = 100_000;
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (i % 255) - 127; // exact in every dtype below
    }
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("f32", Tensor.of(values.clone(), 100, 1000));
    tensors.put("i64", Tensor.of(values.clone(), n));
    Path file = dir.resolve("big.safetensors");
    SafeTensors.write(file, tensors, null, Set.of("i64"));
    assertSameTensors(SafeTensors.read(file), tensors);

    // The narrower dtypes, assembled here: F64, F16, BF16, I32, I16, I8 with the same values.
    record Width(String dtype, int size) {}
    List<Width> widths = List.of(new Width("F64", 8), new Width("F16", 2), new Width("BF16", 2),
        new Width("I32", 4), new Width("I16", 2), new Width("I8", 1));
    StringBuilder header = new StringBuilder("{");
    long offset = 0;
    for (Width w : widths) {
      header.append(offset == 0 ? "" : ",").append('"').append(w.dtype()).append("\":{\"dtype\":\"").append(w.dtype())
          .append("\",\"shape\":[").append(n).append("],\"data_offsets\":[").append(offset).append(',')
          .append(offset + (long) n * w.size()).append("]}");
      offset += (long) n * w.size();
    }
    header.append('}');
    ByteBuffer data = ByteBuffer.allocate((int) offset).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      data.putDouble(v);
    }
    for (float v : values) {
      data.putShort(halfBits((int) v));
    }
    for (float v : values) {
      data.putShort((short) (Float.floatToIntBits(v) >>> 16)); // exact: these floats have 7-bit mantissas
    }
    for (float v : values) {
      data.putInt((int) v);
    }
    for (float v : values) {
      data.putShort((short) v);
    }
    for (float v : values) {
      data.put((byte) v);
    }
    Path assembled = dir.resolve("widths.safetensors");
    Files.write(assembled, fileBytes(header.toString(), data.array()));
    Map<String, Tensor> read = SafeTensors.read(assembled);
    assertThat(read.keySet()).containsExactly("F64", "F16", "BF16", "I32", "I16", "I8").inOrder();
    for (Map.Entry<String, Tensor> e : read.entrySet()) {
      assertWithMessage(e.getKey()).that(e.getValue().shape()).isEqualTo(new int[] {n});
      assertWithMessage(e.getKey()).that(e.getValue().data()).usingExactEquality().containsExactly(values).inOrder();
    }
  }

  @Test
  void overwritesAnExistingFileAndLeavesNoTemporaryFiles() throws IOException {
    Path file = dir.resolve("ckpt.safetensors");
    SafeTensors.write(file, Map.of("w", Tensor.of(new float[] {1f, 2f}, 2)), null);
    SafeTensors.write(file, Map.of("v", Tensor.of(new float[] {3f, 4f, 5f}, 3)), Map.of("epoch", "2"));
    SafeTensors.Contents read = SafeTensors.readWithMetadata(file);
    assertThat(read.tensors().keySet()).containsExactly("v");
    assertThat(read.tensors().get("v").data()).usingExactEquality().containsExactly(3f, 4f, 5f).inOrder();
    assertThat(read.metadata()).containsExactly("epoch", "2");
    assertThat(listDir()).containsExactly("ckpt.safetensors");
  }

  @Test
  void relativePathsWork() throws IOException {
    Path file = Path.of("target", "kiln-relative-" + System.nanoTime() + ".safetensors");
    try {
      SafeTensors.write(file, Map.of("w", Tensor.scalar(7f)), null);
      assertThat(SafeTensors.read(file).get("w").data()).usingExactEquality().containsExactly(7f);
    } finally {
      Files.deleteIfExists(file);
    }
  }

  @Test
  void rejectedArgumentsLeaveTheExistingFileUntouched() throws IOException {
    Path file = dir.resolve("keep.safetensors");
    SafeTensors.write(file, Map.of("w", Tensor.scalar(1f)), null);
    byte[] before = Files.readAllBytes(file);

    IllegalArgumentException reserved = assertThrows(IllegalArgumentException.class,
        () -> SafeTensors.write(file, Map.of("__metadata__", Tensor.scalar(1f)), null));
    assertThat(reserved).hasMessageThat().contains("\"__metadata__\" is reserved");
    IllegalArgumentException surrogate = assertThrows(IllegalArgumentException.class,
        () -> SafeTensors.write(file, Map.of("bad \uD800 name", Tensor.scalar(1f)), null));
    assertThat(surrogate).hasMessageThat()
        .contains("tensor name \"bad \uD800 name\" holds an unpaired surrogate at index 4");
    IllegalArgumentException metadataSurrogate = assertThrows(IllegalArgumentException.class,
        () -> SafeTensors.write(file, Map.of("w", Tensor.scalar(1f)), Map.of("k", "x\uDC00")));
    assertThat(metadataSurrogate).hasMessageThat().contains("metadata value \"x\uDC00\" holds an unpaired surrogate");
    Map<String, Tensor> withNull = new LinkedHashMap<>();
    withNull.put("w", null);
    NullPointerException nullTensor =
        assertThrows(NullPointerException.class, () -> SafeTensors.write(file, withNull, null));
    assertThat(nullTensor).hasMessageThat().contains("tensor \"w\" is null");

    assertThat(Files.readAllBytes(file)).isEqualTo(before);
    assertThat(listDir()).containsExactly("keep.safetensors");
  }

  @Test
  void readResultsAreUnmodifiableAndDescribeThemselves() throws IOException {
    Path file = dir.resolve("r.safetensors");
    SafeTensors.write(file, Map.of("w", Tensor.zeros(2, 3)), Map.of("k", "v"));
    SafeTensors.Contents read = SafeTensors.readWithMetadata(file);
    assertThrows(UnsupportedOperationException.class, () -> read.tensors().put("x", Tensor.scalar(0f)));
    assertThrows(UnsupportedOperationException.class, () -> read.metadata().put("x", "y"));
    assertThat(read.toString()).isEqualTo("SafeTensors.Contents{tensors={w=[2, 3]}, metadata={k=v}}");
  }

  @Test
  void missingFileIsAnIOException() {
    assertThrows(IOException.class, () -> SafeTensors.read(dir.resolve("nope.safetensors")));
  }

  private static void assertSameTensors(Map<String, Tensor> got, Map<String, Tensor> want) {
    assertThat(new ArrayList<>(got.keySet())).containsExactlyElementsIn(want.keySet()).inOrder();
    for (Map.Entry<String, Tensor> e : want.entrySet()) {
      Tensor g = got.get(e.getKey());
      assertWithMessage("shape of %s", e.getKey()).that(g.shape()).isEqualTo(e.getValue().shape());
      float[] w = e.getValue().data();
      for (int i = 0; i < w.length; i++) {
        assertWithMessage("%s[%s]", e.getKey(), i)
            .that(Float.floatToRawIntBits(g.data()[i])).isEqualTo(Float.floatToRawIntBits(w[i]));
      }
    }
  }

  private static Tensor randn(Random random, int... shape) {
    Tensor t = Tensor.zeros(shape);
    for (int i = 0; i < t.size(); i++) {
      t.data()[i] = (float) random.nextGaussian();
    }
    return t;
  }

  /** binary16 bits of a small integer |v| < 2048 (exact), built from the format definition. */
  private static short halfBits(int v) {
    if (v == 0) {
      return 0;
    }
    int sign = v < 0 ? 0x8000 : 0;
    int m = Math.abs(v);
    int e = 31 - Integer.numberOfLeadingZeros(m); // m = 1.f * 2^e
    int fraction = (m - (1 << e)) << (10 - e);
    return (short) (sign | (e + 15) << 10 | fraction);
  }

  private static byte[] fileBytes(String header, byte[] data) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(h.length).put(h).put(data).array();
  }

  private static String headerText(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    return new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
  }

  private static ByteBuffer dataSection(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    return ByteBuffer.wrap(bytes, 8 + (int) n, bytes.length - 8 - (int) n).slice().order(ByteOrder.LITTLE_ENDIAN);
  }

  private List<String> listDir() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).toList();
    }
  }
}
