package dev.kiln.processor.onnx;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import dev.kiln.nn.SequentialModel;
import dev.kiln.processor.testing.InMemoryCompiler;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Graphs that read well but are malformed or hostile for the importer and the source writer: nodes without
 * outputs, constants without values, local functions that expand without end, names that would be code in the
 * generated source, sizes past what Kiln's tensors hold. Each is an {@link UnsupportedGraphException} with a
 * one-line message naming the node and what is wrong (never another exception, never a hang), or, for text, an
 * interface that declares exactly what the graph does.
 */
class OnnxImportHostileTest {
  private static ImportedNetwork importModel(Proto model) throws IOException {
    return OnnxImporter.importModel(OnnxReader.parse(model.bytes(), Path.of("hostile.onnx")));
  }

  /** The message of the UnsupportedGraphException importing {@code model} throws, asserted to be one line. */
  private static String refusal(Proto model) {
    UnsupportedGraphException e = assertThrows(UnsupportedGraphException.class, () -> importModel(model));
    assertWithMessage("one line: " + e.getMessage()).that(e.getMessage()).doesNotContain("\n");
    return e.getMessage();
  }

  /** Input {@code x} [1, 2, 4, 4], output {@code y}, and constants of every kind the nodes below read. */
  private static Proto graphWith(Proto... nodes) {
    Proto graph = Proto.message();
    for (Proto node : nodes) {
      graph.message(1, node);
    }
    return graph.message(5, Proto.tensor("w", new long[] {2, 2, 1, 1}, 1f, 0f, 0f, 1f))
        .message(5, Proto.tensor("c", new long[] {2}, 1f, 1f))
        .message(5, Proto.tensor("m", new long[] {2, 2}, 1f, 0f, 0f, 1f))
        .message(5, Proto.longTensor("s", new long[] {2}, 1, -1))
        .message(5, Proto.longTensor("p", new long[] {8}, 0, 0, 1, 1, 0, 0, 1, 1))
        .message(11, Proto.value("x", 1, 2, 4, 4)).message(12, Proto.value("y", 1, 2, 4, 4));
  }

  /** Every op type the importer reads, as a node without outputs: refused by name, not an index out of bounds. */
  @ParameterizedTest
  @CsvSource({
      "Relu, x", "Conv, x w", "BatchNormalization, x c c c c", "Clip, x", "MaxPool, x", "AveragePool, x",
      "GlobalAveragePool, x", "Flatten, x", "Reshape, x s", "Gemm, x m", "MatMul, x m", "Dropout, x",
      "Identity, x", "Pad, x p", "Constant, ''", "Identity, w", "Add, x c",
  })
  void nodeWithoutOutputs(String op, String inputs) {
    String[] in = inputs.isEmpty() ? new String[0] : inputs.split(" ");
    Proto node = Proto.node("n", op, in);
    if (op.equals("Constant")) {
      node.message(5, Proto.message().string(1, "value").message(5, Proto.tensor("", new long[] {1}, 1f))
          .intField(20, 4));
    }
    assertThat(refusal(Proto.model(graphWith(node)))).isEqualTo("node 0 'n' (" + op + "): has no output");
  }

  /** The bias Add the MatMul before it takes in (the fuzzer's case): its missing output is found first too. */
  @Test
  void biasAddWithoutOutput() {
    Proto flat = Proto.message()
        .message(1, Proto.node("mm", "MatMul", new String[] {"x", "m"}, "h"))
        .message(1, Proto.node("add", "Add", new String[] {"h", "c"}))
        .message(5, Proto.tensor("m", new long[] {2, 2}, 1f, 0f, 0f, 1f))
        .message(5, Proto.tensor("c", new long[] {2}, 1f, 1f))
        .message(11, Proto.value("x", 1, 2)).message(12, Proto.value("y", 1, 2));
    assertThat(refusal(Proto.model(flat))).isEqualTo("node 1 'add' (Add): has no output");
  }

  @Test
  void inputAndOutputCountsOutsideTheOperatorsSpecification() {
    int cases = 0;
    String[][] expected = {
        {"Relu", "x w", "y", "has 2 inputs, but Relu takes 1"},
        {"MatMul", "x", "y", "has 1 input, but MatMul takes 2"},
        {"Conv", "x w c c", "y", "has 4 inputs, but Conv takes 2 to 3"},
        {"BatchNormalization", "x c c c", "y", "has 4 inputs, but BatchNormalization takes 5"},
        {"Relu", "x", "y z", "has 2 outputs, but Relu has at most 1"},
        {"Relu", "x", "", "its first output has no name"},
    };
    for (String[] c : expected) {
      String[] outputs = c[2].isEmpty() ? new String[] {""} : c[2].split(" ");
      Proto node = Proto.node("n", c[0], c[1].split(" "), outputs);
      assertThat(refusal(Proto.model(graphWith(node)))).isEqualTo("node 0 'n' (" + c[0] + "): " + c[3]);
      cases++;
    }
    assertThat(cases).isEqualTo(6);
  }

  /** Scalar inputs read from constants: one value, whatever the tensor declares (dims [0] has none). */
  @Test
  void scalarConstantsOfTheWrongSize() {
    Proto none = Proto.tensor("r", new long[] {0});
    Proto two = Proto.tensor("r", new long[] {2}, 0f, 6f);
    Proto floatFlag = Proto.tensor("t", new long[] {}, 1f);
    Object[][] cases = {
        {Proto.node("n", "Dropout", new String[] {"x", "r"}, "y"), none,
            "node 0 'n' (Dropout): its ratio (input 1) tensor 'r' [0] is not one float but 0"},
        {Proto.node("n", "Clip", new String[] {"x", "r"}, "y"), none,
            "node 0 'n' (Clip): its min (input 1) tensor 'r' [0] is not one float but 0"},
        {Proto.node("n", "Clip", new String[] {"x", "", "r"}, "y"), two,
            "node 0 'n' (Clip): its max (input 2) tensor 'r' [2] is not one float but 2"},
        {Proto.node("n", "Pad", new String[] {"x", "p", "r"}, "y"), none,
            "node 0 'n' (Pad): its constant_value (input 2) tensor 'r' [0] is not one float but 0"},
        {Proto.node("n", "Dropout", new String[] {"x", "", "t"}, "y"), floatFlag,
            "node 0 'n' (Dropout): its training_mode (input 2) tensor 't' [] is not one boolean"},
    };
    for (Object[] c : cases) {
      Proto graph = graphWith((Proto) c[0]).message(5, (Proto) c[1]);
      assertThat(refusal(Proto.model(graph))).isEqualTo(c[2]);
    }
    assertThat(cases).hasLength(5);
  }

  /**
   * Local functions F0 ... F{levels - 1}, each body calling the next {@code fanout} times, the last empty: a
   * file of a few kilobytes describing {@code fanout^(levels - 1)} calls.
   */
  private static Proto functions(int levels, int fanout) {
    Proto graph = Proto.message().message(1, Proto.node("call", "F0", new String[] {"x"}, "y").string(7, "local"))
        .message(11, Proto.value("x", 1, 4)).message(12, Proto.value("y", 1, 4));
    Proto model = Proto.model(graph).message(8, Proto.message().string(1, "local").intField(2, 1));
    for (int k = 0; k < levels; k++) {
      Proto f = Proto.message().string(1, "F" + k).string(10, "local").string(4, "a").string(5, "b");
      for (int c = 0; k < levels - 1 && c < fanout; c++) {
        f.message(7, Proto.node("", "F" + (k + 1), new String[] {"a"}, "b").string(7, "local"));
      }
      model.message(25, f);
    }
    return model;
  }

  /** 4^15 and 100^15 calls of nothing: refused within the work budget, in well under a second. */
  @ParameterizedTest
  @CsvSource({"16, 4", "16, 100"})
  void functionsThatExpandExponentially(int levels, int fanout) {
    String message = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> refusal(functions(levels, fanout)));
    assertThat(message).isEqualTo("inlining local functions takes more than 1000000 units of work (nodes, names "
        + "and attributes bound; the functions' calls expand too far)");
  }

  /** Linear expansion still inlines: a chain of calls sixteen deep is 15 nested calls of one Relu. */
  @Test
  void functionsNestedDeepButNarrow() throws IOException {
    Proto model = functions(16, 1);
    Proto last = Proto.message().string(1, "F15").string(10, "local").string(4, "a").string(5, "b")
        .message(7, Proto.node("r", "Relu", new String[] {"a"}, "b"));
    ImportedNetwork n = importModel(model.message(25, last)); // the second F15 replaces the empty one
    assertThat(n.layers()).hasSize(1);
    assertThat(n.layers().get(0).nodes().get(0)).endsWith("/r' (Relu)");
  }

  /** One short body whose node has a long name, called many times: the names it makes are work too. */
  @Test
  void functionsThatMakeLongNames() {
    String name = "n".repeat(100_000);
    Proto graph = Proto.message();
    String in = "x";
    for (int i = 0; i < 1000; i++) {
      graph.message(1, Proto.node("c" + i, "F", new String[] {in}, "t" + i).string(7, "local"));
      in = "t" + i;
    }
    graph.message(11, Proto.value("x", 1, 4)).message(12, Proto.value(in, 1, 4));
    Proto f = Proto.message().string(1, "F").string(10, "local").string(4, "a").string(5, "b")
        .message(7, Proto.node(name, "Relu", new String[] {"a"}, "b"));
    Proto model = Proto.model(graph).message(8, Proto.message().string(1, "local").intField(2, 1)).message(25, f);
    assertThat(refusal(model)).startsWith("inlining local functions takes more than 1000000 units of work");
  }

  // ---- text from the file in the generated source ----

  private static int count(String s, String what) {
    int n = 0;
    for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }

  /**
   * Producer, node, function and tensor names that close the Javadoc directly, through unicode escapes (which
   * javac decodes before it sees comments, with any number of u's), or by breaking the line: the generated source
   * keeps every one inside its comment, and compiles to exactly the interface and the model class.
   */
  @Test
  void fileTextCannotEscapeTheGeneratedSource() throws Exception {
    String[] hostile = {
        "*/ class X {} /*", "a*/b", "\\u002a/ class U {} /\\u002a", "\\uuu002a\\uuuu002f class V {} /*",
        "line\nbreak */ class W {}", "cr\rreturn", "sep\u2028arator\u2029", "\n@Deprecated", "<b>&amp;</b>",
        "\u202etxt.exe", "snow\u2603man \ud83d\ude00",
    };
    StringBuilder all = new StringBuilder();
    for (String h : hostile) {
      all.append(h).append(' ');
    }
    Proto graph = Proto.message();
    String in = "x" + hostile[0];
    for (int i = 0; i < hostile.length; i++) {
      String out = "t" + i + hostile[i];
      Proto node = i % 3 == 2
          ? Proto.node(hostile[i], "F", new String[] {in}, out).string(7, "local") // an inlined call
          : Proto.node(hostile[i], "Relu", new String[] {in}, out);
      graph.message(1, node);
      in = out;
    }
    graph.message(11, Proto.value("x" + hostile[0], 1, 3)).message(12, Proto.value(in, 1, 3));
    Proto function = Proto.message().string(1, "F").string(10, "local").string(4, "a").string(5, "b")
        .message(7, Proto.node(hostile[1], "Relu", new String[] {"a"}, "b"));
    Proto model = Proto.model(graph).string(2, all.toString()).string(3, hostile[2] + hostile[4])
        .message(8, Proto.message().string(1, "local").intField(2, 1)).message(25, function);
    ImportedNetwork n = importModel(model);
    String source = ModelSourceWriter.write(n, "imported", "Hostile", "h" + hostile[2] + ".onnx",
        hostile[0] + ".safetensors");

    // (a) Every comment ends where the writer ends it, and nothing javac would decode or break on is left.
    assertThat(count(source, "*/")).isEqualTo(count(source, "/**"));
    assertThat(count(source, "/*")).isEqualTo(count(source, "/**"));
    assertThat(count(source, "/**")).isEqualTo(1 + n.layers().size());
    assertThat(source).doesNotContain("\\");
    assertThat(source).doesNotContain("\r");
    for (char c : source.toCharArray()) {
      assertWithMessage("character %s in the source", (int) c).that(c < 0x7f && (c >= 0x20 || c == '\n')).isTrue();
    }
    for (String line : source.split("\n")) {
      assertWithMessage(line).that(line.trim()).doesNotMatch("\\*\\s*@.*");
    }
    assertThat(source).contains("(&#42;/ class X {} /&#42; a&#42;/b &#92;u002a/ class U {} /&#92;u002a ");
    assertThat(source).contains("line&#10;break &#42;/ class W {}");
    assertThat(source).contains("&#8238;txt.exe");
    assertThat(source).contains("snow&#9731;man &#128512;");

    // (b) It compiles to exactly the interface and the model the processor generates from it.
    Compilation compilation = InMemoryCompiler.compile(JavaFileObjects.forSourceString("imported.Hostile", source));
    assertWithMessage("compilation: %s", compilation.diagnostics()).that(compilation.status())
        .isEqualTo(Compilation.Status.SUCCESS);
    Set<String> topLevel = new TreeSet<>();
    for (String c : InMemoryCompiler.classFiles(compilation).keySet()) {
      if (!c.contains("$")) {
        topLevel.add(c);
      }
    }
    assertThat(topLevel).containsExactly("imported.Hostile", "imported.HostileModel");
    ClassLoader loader = InMemoryCompiler.loader(compilation);
    SequentialModel m = InMemoryCompiler.newInstance(loader, "imported.HostileModel");
    assertThat(m.forward(Tensor.of(new float[] {-1, 0, 2}, 1, 3)).data()).isEqualTo(new float[] {0, 0, 2});
  }

  @Test
  void javadocTextEscapesWhatCouldEndTheComment() {
    String[][] cases = {
        {"/layer1/Conv_0", "/layer1/Conv_0"},
        {"*/", "&#42;/"},
        {"/*", "/&#42;"},
        {"\\u002a/", "&#92;u002a/"},
        {"\\uuuu002a/", "&#92;uuuu002a/"},
        {"a\nb\rc", "a&#10;b&#13;c"},
        {"\u2028\u2029\u0085", "&#8232;&#8233;&#133;"},
        {"@param x", "&#64;param x"},
        {"<a href=x>&lt;", "&#60;a href=x&#62;&#38;lt;"},
        {"\ud83d\ude00 \u00e9", "&#128512; &#233;"},
    };
    for (String[] c : cases) {
      assertWithMessage(c[0]).that(ModelSourceWriter.javadocText(c[0])).isEqualTo(c[1]);
    }
    assertThat(cases).hasLength(10);
    String cut = ModelSourceWriter.javadocText("*".repeat(10_000));
    assertThat(cut).endsWith("...");
    assertThat(cut.length()).isLessThan(ModelSourceWriter.MAX_TEXT + 10);
  }

  // ---- sizes ----

  /** Input [1, 2, 2^31 - 1, 5] (a fuzzer's case, imported before with an overflowing size), and its like. */
  @Test
  void inputOfMoreElementsThanATensorHolds() {
    Proto relu = Proto.node("n", "Relu", new String[] {"x"}, "y");
    Proto graph = Proto.message().message(1, relu)
        .message(11, Proto.value("x", 1, 2, Integer.MAX_VALUE, 5)).message(12, Proto.value("y", 1, 2, 4, 4));
    assertThat(refusal(Proto.model(graph))).isEqualTo("input 'x' has shape [1, 2, 2147483647, 5]: 21474836470 "
        + "elements a sample, more than Kiln's tensors hold (2^31 - 1)");
    Proto flatten = Proto.message().message(1, Proto.node("f", "Flatten", new String[] {"x"}, "y"))
        .message(11, Proto.value("x", 1, 65536, 65536, 1)).message(12, Proto.value("y", 1, 4));
    assertThat(refusal(Proto.model(flatten))).contains("4294967296 elements a sample, more than Kiln's tensors hold");
  }

  /** A 1x1 Conv padded by 65536 on every side of a 1x1 input makes 131073 x 131073 outputs. */
  @Test
  void convOutputOfMoreElementsThanATensorHolds() {
    Proto conv = Proto.node("c", "Conv", new String[] {"x", "w"}, "y")
        .message(5, Proto.intsAttribute("pads", 65536, 65536, 65536, 65536));
    Proto graph = Proto.message().message(1, conv).message(5, Proto.tensor("w", new long[] {1, 1, 1, 1}, 1f))
        .message(11, Proto.value("x", 1, 1, 1, 1)).message(12, Proto.value("y", 1, 1, 131073, 131073));
    assertThat(refusal(Proto.model(graph))).isEqualTo("node 0 'c' (Conv): gives an output [1, 131073, 131073] of "
        + "17180131329 elements a sample, more than Kiln's tensors hold (2^31 - 1)");
  }

  @Test
  void weightsWithEmptyOrOutOfRangeDimensions() {
    Proto zeroKernel = Proto.message().message(1, Proto.node("c", "Conv", new String[] {"x", "w0"}, "y"))
        .message(5, Proto.tensor("w0", new long[] {3, 2, 0, 3}))
        .message(11, Proto.value("x", 1, 2, 4, 4)).message(12, Proto.value("y", 1, 3, 4, 2));
    assertThat(refusal(Proto.model(zeroKernel))).isEqualTo("node 0 'c' (Conv): weight [3, 2, 0, 3] has a kernel "
        + "dimension of 0 (outside [1, 65536])");
    Proto zeroOut = Proto.message().message(1, Proto.node("c", "Conv", new String[] {"x", "w0"}, "y"))
        .message(5, Proto.tensor("w0", new long[] {0, 2, 1, 1}))
        .message(11, Proto.value("x", 1, 2, 4, 4)).message(12, Proto.value("y", 1, 3, 4, 2));
    assertThat(refusal(Proto.model(zeroOut))).isEqualTo("node 0 'c' (Conv): weight [0, 2, 1, 1] has a channel "
        + "dimension of 0 (outside [1, 2147483647])");
    Proto group = Proto.node("c", "Conv", new String[] {"x", "w"}, "y").message(5, Proto.intAttribute("group",
        (1L << 32) + 1));
    assertThat(refusal(Proto.model(graphWith(group)))).isEqualTo("node 0 'c' (Conv): group 4294967297 for 2 input "
        + "channels");
    Proto gemm = Proto.message().message(1, Proto.node("g", "Gemm", new String[] {"x", "b0"}, "y"))
        .message(5, Proto.tensor("b0", new long[] {4, 0}))
        .message(11, Proto.value("x", 1, 4)).message(12, Proto.value("y", 1, 0));
    assertThat(refusal(Proto.model(gemm))).isEqualTo("node 0 'g' (Gemm): weight [4, 0] has no outputs");
  }
}
