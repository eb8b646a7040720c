package dev.kiln.processor.onnx;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.ThreadMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed and hostile ONNX files: every one is an {@link IOException} with a one-line message saying what is
 * wrong, never another exception, never an allocation the file's size does not justify.
 */
class OnnxReaderHostileTest {
  @TempDir
  Path dir;

  private Path write(String name, byte[] bytes) throws IOException {
    Path p = dir.resolve(name);
    Files.write(p, bytes);
    return p;
  }

  /** Reads and imports {@code bytes}; returns the IOException's message, asserted to be one line. */
  private String failure(byte[] bytes) throws IOException {
    Path p = write("model.onnx", bytes);
    IOException e = assertThrows(IOException.class, () -> OnnxImporter.importModel(OnnxReader.read(p)));
    assertOneLine(e);
    return e.getMessage();
  }

  private static void assertOneLine(IOException e) {
    assertWithMessage("message").that(e.getMessage()).isNotEmpty();
    assertWithMessage("one line: " + e.getMessage()).that(e.getMessage()).doesNotContain("\n");
  }

  @Test
  void notProtobufAtAll() throws IOException {
    assertThat(failure("hello, this is not ONNX\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)))
        .contains("model.onnx: ModelProto at byte");
  }

  @Test
  void emptyFileHasNoGraph() throws IOException {
    assertThat(failure(new byte[0])).contains("no graph");
  }

  @Test
  void hugeDeclaredLength() throws IOException {
    byte[] bytes = Proto.message().key(7, Wire.LENGTH).varint(1L << 40).raw(new byte[16]).bytes();
    assertThat(failure(bytes)).contains("declared length 1099511627776 exceeds the 16 bytes that remain");
  }

  @Test
  void wrongWireTypeForTheGraph() throws IOException {
    byte[] bytes = Proto.message().intField(7, 5).bytes();
    assertThat(failure(bytes)).contains("graph has wire type 0, expected 2");
  }

  @Test
  void unsupportedWireTypes() throws IOException {
    assertThat(failure(Proto.message().key(3, 3).bytes())).contains("unsupported wire type 3");
    assertThat(failure(Proto.message().key(0, 0).varint(1).bytes())).contains("invalid field number 0");
  }

  @Test
  void overlongVarint() throws IOException {
    byte[] bytes = new byte[12];
    Arrays.fill(bytes, (byte) 0xff);
    bytes[0] = 0x08; // ir_version
    assertThat(failure(bytes)).contains("varint longer than 10 bytes");
  }

  @Test
  void truncatedVarintAndFixed32() throws IOException {
    assertThat(failure(new byte[] {0x08, (byte) 0x80})).contains("truncated varint");
    Proto attribute = Proto.message().string(1, "alpha").key(2, Wire.FIXED32).raw((byte) 1, (byte) 2);
    Proto node = Proto.node("n", "Gemm", new String[] {"x"}, "y").message(5, attribute);
    assertThat(failure(Proto.model(Proto.message().message(1, node)).bytes())).contains("truncated: 4 bytes needed");
  }

  @Test
  void tensorDeclaringMoreElementsThanItHas() throws IOException {
    Proto t = Proto.tensor("w", new long[] {1L << 20, 1L << 20}, 1f);
    assertThat(failure(Proto.model(Proto.message().message(5, t)).bytes())).contains("tensor 'w' has more than");
    Proto small = Proto.tensor("w", new long[] {3, 4}, 1f, 2f);
    assertThat(failure(Proto.model(Proto.message().message(5, small)).bytes()))
        .contains("tensor 'w' [3, 4] needs 48 bytes of data but has 8");
    Proto negative = Proto.tensor("w", new long[] {-1}, 1f);
    assertThat(failure(Proto.model(Proto.message().message(5, negative)).bytes()))
        .contains("tensor 'w' has dimension -1");
  }

  @Test
  void typedFieldsOfTheWrongCount() throws IOException {
    Proto t = Proto.message().intField(1, 5).intField(2, 1).string(8, "b").floatField(4, 1f).floatField(4, 2f);
    assertThat(failure(Proto.model(Proto.message().message(5, t)).bytes()))
        .contains("tensor 'b' [5] has 5 elements but 2 values");
  }

  @Test
  void externalDataOutsideTheModelsDirectory() throws IOException {
    for (String location : new String[] {"../secret.bin", "/etc/passwd", "a/../../x"}) {
      Proto t = Proto.message().intField(1, 2).intField(2, 1).string(8, "w")
          .message(13, Proto.message().string(1, "location").string(2, location)).intField(14, 1);
      assertThat(failure(Proto.model(Proto.message().message(5, t)).bytes()))
          .contains("external data location '" + location + "' is outside the model's directory");
    }
  }

  @Test
  void externalDataBeyondTheEndOfItsFile() throws IOException {
    write("weights.bin", new byte[8]);
    Proto t = Proto.message().intField(1, 4).intField(2, 1).string(8, "w")
        .message(13, Proto.message().string(1, "location").string(2, "weights.bin"))
        .message(13, Proto.message().string(1, "offset").string(2, "4")).intField(14, 1);
    assertThat(failure(Proto.model(Proto.message().message(5, t)).bytes()))
        .contains("bytes [4, 20) of 'weights.bin' requested but the file has 8");
    Proto missing = Proto.message().intField(1, 1).intField(2, 1).string(8, "w")
        .message(13, Proto.message().string(1, "location").string(2, "nope.bin")).intField(14, 1);
    assertThat(failure(Proto.model(Proto.message().message(5, missing)).bytes()))
        .contains("external data file 'nope.bin' not found");
  }

  /**
   * The bytes the current thread allocates while {@link OnnxReader#parse} fails on {@code bytes} with a message
   * containing {@code expected}.
   */
  private long allocationOfFailure(byte[] bytes, String expected) {
    ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
    long before = threads.getCurrentThreadAllocatedBytes();
    IOException e = assertThrows(IOException.class, () -> OnnxReader.parse(bytes, dir.resolve("m.onnx")));
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    assertOneLine(e);
    assertThat(e).hasMessageThat().contains(expected);
    return allocated;
  }

  private static byte[] withInitializer(Proto tensor) {
    return Proto.model(Proto.message().message(5, tensor)).bytes();
  }

  @Test
  void tensorOfMoreDimensionsThanAnyOperatorUses() throws IOException {
    Proto unpacked = Proto.message().intField(2, 1).string(8, "w");
    for (int i = 0; i < 17; i++) {
      unpacked.intField(1, 1);
    }
    assertThat(failure(withInitializer(unpacked.bytesField(9, new byte[4])))).contains("dims: more than 16 values");
    // A fuzzer's case, as 16 million packed zero dims it ran out of memory: refused before one is decoded.
    Proto packed = Proto.message().intField(2, 1).string(8, "w").bytesField(1, new byte[1_000_000]);
    assertThat(allocationOfFailure(withInitializer(packed), "initializer at byte 16: dims: more than 16 values"))
        .isLessThan(100_000L);
    Proto input = Proto.value("x", 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    assertThat(failure(Proto.model(Proto.message().message(11, input)).bytes()))
        .contains("value 'x' has more than 16 dimensions");
  }

  /** 8 million one-byte INT64 values, or 2 million floats, for a one-element tensor: counted, not decoded. */
  @Test
  void typedValuesAreCountedBeforeTheyAreDecoded() {
    Proto ints = Proto.message().intField(1, 1).intField(2, 7).string(8, "ints").bytesField(7, new byte[8_000_000]);
    assertThat(allocationOfFailure(withInitializer(ints), "tensor 'ints' [1] has 1 elements but 8000000 values"))
        .isLessThan(100_000L);
    Proto floats = Proto.message().intField(1, 1).intField(2, 1).string(8, "f").bytesField(4, new byte[8_000_000]);
    assertThat(allocationOfFailure(withInitializer(floats), "tensor 'f' [1] has 1 elements but 2000000 values"))
        .isLessThan(100_000L);
  }

  /** Values are counted without being decoded, but checked all the same, in fields the data type does not use too. */
  @Test
  void malformedValuesInAnyTypedField() throws IOException {
    byte[] overlong = new byte[11];
    Arrays.fill(overlong, (byte) 0x80);
    overlong[10] = 1;
    Proto unused = Proto.tensor("w", new long[] {1}, 1f).bytesField(7, overlong);
    assertThat(failure(withInitializer(unused))).contains("int64_data: varint longer than 10 bytes");
    Proto truncated = Proto.message().intField(1, 2).intField(2, 7).string(8, "l").bytesField(7, new byte[] {1, -1});
    assertThat(failure(withInitializer(truncated))).contains("int64_data: truncated varint");
    Proto odd = Proto.message().intField(1, 1).intField(2, 1).string(8, "f").bytesField(4, new byte[6]);
    assertThat(failure(withInitializer(odd))).contains("float_data: packed values of 6 bytes (not a multiple of 4)");
  }

  /** Values in every typed field, packed and one per tag, mixed: decoded in order, as floats or longs. */
  @Test
  void typedValuesOfEveryKind() throws IOException {
    Proto f = Proto.message().intField(1, 3).intField(2, 1).string(8, "f")
        .bytesField(4, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).array())
        .floatField(4, 3f);
    Proto d = Proto.message().intField(1, 2).intField(2, 11).string(8, "d")
        .bytesField(10, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.25).putDouble(-8).array());
    Proto l = Proto.message().intField(1, 3).intField(2, 7).string(8, "l")
        .message(7, Proto.message().varint(-1L).varint(5)).intField(7, 300);
    Proto i = Proto.message().intField(2, 6).string(8, "i").intField(5, -7L);
    Proto b = Proto.message().intField(1, 3).intField(2, 9).string(8, "b").bytesField(9, new byte[] {1, 0, 1});
    Proto raw = Proto.longTensor("r", new long[] {2}, Long.MIN_VALUE, 42);
    Proto graph = Proto.message().message(5, f).message(5, d).message(5, l).message(5, i).message(5, b)
        .message(5, raw);
    var initializers = OnnxReader.parse(Proto.model(graph).bytes(), dir.resolve("m.onnx")).graph().initializers();
    assertThat(initializers.get("f").floats()).isEqualTo(new float[] {1.5f, -2f, 3f});
    assertThat(initializers.get("d").floats()).isEqualTo(new float[] {0.25f, -8f});
    assertThat(initializers.get("l").longs()).isEqualTo(new long[] {-1, 5, 300});
    assertThat(initializers.get("i").longs()).isEqualTo(new long[] {-7});
    assertThat(initializers.get("b").longs()).isEqualTo(new long[] {1, 0, 1});
    assertThat(initializers.get("r").longs()).isEqualTo(new long[] {Long.MIN_VALUE, 42});
    assertThat(initializers).hasSize(6);
  }

  @Test
  void moreNodesThanTheLimit() {
    Proto graph = Proto.message();
    for (int i = 0; i <= 100_000; i++) {
      graph.message(1, Proto.message().string(4, "R"));
    }
    assertThat(allocationOfFailure(Proto.model(graph).bytes(), "more than 100000 nodes")).isLessThan(40_000_000L);
  }

  /** Values of attribute lists and names of every kind count against the items a file may declare. */
  @Test
  void attributeValuesAndNamesCountAsItems() {
    Proto ints = Proto.message().string(1, "a").bytesField(8, new byte[1_000_001]).intField(20, 7);
    Proto node = Proto.node("n", "Relu", new String[] {"x"}, "y").message(5, ints);
    assertThat(allocationOfFailure(Proto.model(Proto.message().message(1, node)).bytes(),
        "attribute ints: more than 1000000 values")).isLessThan(100_000L);
    Proto many = Proto.node("n", "Relu", new String[] {"x"}, "y");
    for (int i = 0; i < 500_000; i++) {
      many.message(5, Proto.message().string(1, "a"));
    }
    allocationOfFailure(Proto.model(Proto.message().message(1, many)).bytes(),
        "more than 1000000 nodes, attributes, names, dimensions, values and tensors");
  }

  /** A name of a million characters is quoted in a message by its first 160, whatever the message. */
  @Test
  void longNamesAreCutInMessages() throws IOException {
    String name = "w".repeat(1_000_000);
    String message = failure(withInitializer(Proto.tensor(name, new long[] {3}, 1f)));
    assertThat(message).contains("tensor '" + "w".repeat(160) + "...' [3] needs 12 bytes of data but has 4");
    assertThat(message.length()).isLessThan(400);
  }

  /** producer_version repeated was appended each time: quadratic. The last one counts, as protobuf reads it. */
  @Test
  void repeatedProducerVersion() throws IOException {
    Proto model = Proto.model(Proto.message()).string(2, "exporter");
    for (int i = 0; i < 300_000; i++) {
      model.string(3, "v" + (i % 10));
    }
    byte[] bytes = model.bytes();
    Onnx.Model m = assertTimeoutPreemptively(Duration.ofSeconds(10),
        () -> OnnxReader.parse(bytes, dir.resolve("m.onnx")));
    assertThat(m.producer()).isEqualTo("exporter v9");
  }

  private static byte[] floatBytes(int n) {
    ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putFloat(i);
    }
    return b.array();
  }

  private static Proto externalTensor(String location, long elements, long offset) {
    return Proto.message().intField(1, elements).intField(2, 1).string(8, "w")
        .message(13, Proto.message().string(1, "location").string(2, location))
        .message(13, Proto.message().string(1, "offset").string(2, Long.toString(offset))).intField(14, 1);
  }

  /** External data in pieces of a megabyte: every value lands where it belongs. */
  @Test
  void externalDataLargerThanOnePiece() throws IOException {
    int n = 600_000; // 2.4 MB, three pieces
    byte[] data = floatBytes(n);
    byte[] file = new byte[data.length + 4];
    System.arraycopy(data, 0, file, 4, data.length);
    write("big.bin", file);
    Path model = write("model.onnx", withInitializer(externalTensor("big.bin", n, 4)));
    float[] read = OnnxReader.read(model).graph().initializers().get("w").floats();
    assertThat(read).hasLength(n);
    for (int i = 0; i < n; i++) {
      assertWithMessage("value %s", i).that(read[i]).isEqualTo((float) i);
    }
  }

  /** Symbolic links are resolved: into the model's directory they are followed, out of it refused. */
  @Test
  void externalDataThroughSymbolicLinks() throws IOException {
    Path outside = Files.createDirectories(dir.resolve("outside"));
    Path secret = Files.write(outside.resolve("secret.bin"), floatBytes(4));
    Path models = Files.createDirectories(dir.resolve("models"));
    Files.write(models.resolve("real.bin"), floatBytes(4));
    Files.createDirectories(models.resolve("folder"));
    try {
      Files.createSymbolicLink(models.resolve("weights.bin"), secret);
      Files.createSymbolicLink(models.resolve("sub"), outside);
      Files.createSymbolicLink(models.resolve("alias.bin"), Path.of("real.bin"));
    } catch (UnsupportedOperationException | IOException e) {
      assumeTrue(false, "no symbolic links here: " + e);
    }
    String[][] refused = {
        {"weights.bin", "external data location 'weights.bin' leads outside the model's directory (through a "
            + "symbolic link)"},
        {"sub/secret.bin", "external data location 'sub/secret.bin' leads outside the model's directory (through "
            + "a symbolic link)"},
        {"folder", "external data 'folder' is not a regular file"},
    };
    for (String[] c : refused) {
      Path model = Files.write(models.resolve("model.onnx"), withInitializer(externalTensor(c[0], 4, 0)));
      IOException e = assertThrows(IOException.class, () -> OnnxReader.read(model));
      assertOneLine(e);
      assertThat(e).hasMessageThat().contains(c[1]);
    }
    assertThat(refused).hasLength(3);
    Path model = Files.write(models.resolve("model.onnx"), withInitializer(externalTensor("alias.bin", 4, 0)));
    assertThat(OnnxReader.read(model).graph().initializers().get("w").floats()).isEqualTo(new float[] {0, 1, 2, 3});
  }

  @Test
  void cycleBetweenTwoNodes() throws IOException {
    Proto graph = Proto.message()
        .message(1, Proto.node("a", "Relu", new String[] {"b_out"}, "a_out"))
        .message(1, Proto.node("b", "Relu", new String[] {"a_out"}, "b_out"))
        .message(11, Proto.value("x", 1, 4))
        .message(12, Proto.value("b_out", 1, 4));
    assertThat(failure(Proto.model(graph).bytes())).isEqualTo("node 0 'a' (Relu): reads 'b_out' instead of the previous layer's output 'x' (the graph branches, or is "
            + "not in topological order or has a cycle); Kiln imports sequential graphs only");
  }

  @Test
  void functionThatCallsItself() throws IOException {
    Proto function = Proto.message().string(1, "Loop").string(10, "my").string(4, "x").string(5, "y")
        .message(7, Proto.node("inner", "Loop", new String[] {"x"}, "y").string(7, "my"));
    Proto graph = Proto.message()
        .message(1, Proto.node("call", "Loop", new String[] {"input"}, "output").string(7, "my"))
        .message(11, Proto.value("input", 1, 4)).message(12, Proto.value("output", 1, 4));
    Proto model = Proto.model(graph).message(8, Proto.message().string(1, "my").intField(2, 1)).message(25, function);
    assertThat(failure(model.bytes())).contains("local function my.Loop nested more than 16 deep (does it call itself?)");
  }

  /** Every prefix of a real file: an IOException (or, cut at a field boundary, a valid model), nothing else. */
  @Test
  void everyTruncationOfARealFile() throws IOException {
    byte[] whole = Files.readAllBytes(OnnxImportTest.resource("unsupported.onnx"));
    int failed = 0;
    for (int n = 0; n < whole.length; n++) {
      byte[] prefix = Arrays.copyOf(whole, n);
      try {
        OnnxImporter.importModel(OnnxReader.parse(prefix, dir.resolve("cut.onnx")));
      } catch (IOException e) {
        assertOneLine(e);
        failed++;
      }
    }
    assertThat(failed).isEqualTo(whole.length);
  }

  /** Seeded random byte changes of a real file: an IOException or a model, never another exception. */
  @Test
  void randomCorruptions() throws IOException {
    byte[] whole = Files.readAllBytes(OnnxImportTest.resource("mobile-relu6.onnx"));
    SplittableRandom r = new SplittableRandom(1);
    int failed = 0;
    int cases = 1500;
    for (int c = 0; c < cases; c++) {
      byte[] bytes = whole.clone();
      for (int k = 1 + r.nextInt(4); k > 0; k--) {
        bytes[r.nextInt(bytes.length)] = (byte) r.nextInt(256);
      }
      try {
        OnnxImporter.importModel(OnnxReader.parse(bytes, dir.resolve("corrupt.onnx")));
      } catch (IOException e) {
        assertOneLine(e);
        failed++;
      }
    }
    assertThat(failed).isGreaterThan(cases / 10);
  }
}
