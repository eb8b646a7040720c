package dev.kiln.processor.onnx;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
