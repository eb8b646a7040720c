package dev.kiln.processor.onnx;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.testing.compile.JavaFileObjects;
import dev.kiln.nn.SequentialModel;
import dev.kiln.processor.testing.InMemoryCompiler;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.Golden;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Imports the ONNX files of {@code tools/import/onnx_files.py}, compiles the generated {@code @Model} interface
 * with the Kiln processor in memory, loads the imported weights and compares the network's eval-mode outputs with
 * PyTorch's (the committed goldens): max |difference| at most 1e-4 + 1e-4 * |expected|, float32 sums in another
 * order over at most a few hundred terms per output.
 */
class OnnxImportTest {
  static Path resource(String name) {
    try {
      return Path.of(OnnxImportTest.class.getResource("/onnx/" + name).toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new AssertionError("missing test resource /onnx/" + name, e);
    }
  }

  static ImportedNetwork importFile(String name) throws IOException {
    return OnnxImporter.importModel(OnnxReader.read(resource(name)));
  }

  @ParameterizedTest
  @CsvSource({
      "digits-deploy, 'Conv2d,Conv2d,Conv2d,Conv2d,GlobalAvgPool2d,Flatten,Linear'",
      "repvgg-deploy, ''",
      "external, 'Conv2d,Conv2d,Flatten,Dropout,Linear'",
      "mobile-relu6, 'Conv2d,Conv2d,BatchNorm2d,Conv2d,MaxPool2d,AvgPool2d,Conv2d,GlobalAvgPool2d,Flatten,Dropout,"
          + "Linear,ReLU,Linear'",
      "functions, 'Conv2d,Conv2d,GlobalAvgPool2d,Flatten,Linear'",
  })
  void importedNetworkMatchesPyTorch(String name, String kinds) throws Exception {
    ImportedNetwork network = importFile(name + ".onnx");
    if (!kinds.isEmpty()) {
      assertThat(network.layers().stream().map(l -> l.kind().annotation()).toList())
          .containsExactlyElementsIn(List.of(kinds.split(","))).inOrder();
    }
    String source = ModelSourceWriter.write(network, "imported", "Net", name + ".onnx", "net.safetensors");
    ClassLoader loader = InMemoryCompiler.compileAndLoad(JavaFileObjects.forSourceString("imported.Net", source));
    SequentialModel model = InMemoryCompiler.newInstance(loader, "imported.NetModel");
    model.loadStateDict(network.weights());
    model.eval();
    Golden golden = Golden.load("/onnx/" + name + ".golden.safetensors");
    Tensor out = model.forward(golden.tensor("input"));
    assertClose(name, golden.tensor("output"), out);
    SequentialModel fused = fuse(model);
    assertClose(name + " fused", golden.tensor("output"), fused.forward(golden.tensor("input")));
  }

  static SequentialModel fuse(SequentialModel model) throws ReflectiveOperationException {
    return (SequentialModel) model.getClass().getMethod("fuse").invoke(model);
  }

  static void assertClose(String what, Tensor expected, Tensor actual) {
    assertWithMessage(what + " shape").that(actual.shape()).isEqualTo(expected.shape());
    float[] e = expected.data();
    float[] a = actual.data();
    int checked = 0;
    for (int i = 0; i < e.length; i++) {
      assertWithMessage(what + " element " + i).that((double) Math.abs(a[i] - e[i]))
          .isAtMost(1e-4 + 1e-4 * Math.abs(e[i]));
      checked++;
    }
    assertThat(checked).isGreaterThan(5);
  }

  @Test
  void unsupportedOpNamesTheNodeAndWhy() {
    UnsupportedGraphException e = assertThrows(UnsupportedGraphException.class, () -> importFile("unsupported.onnx"));
    assertThat(e).hasMessageThat().isEqualTo("node 1 '/Sigmoid' (Sigmoid): op type not supported; Kiln imports "
        + OnnxImporter.COVERED);
  }

  @Test
  void branchingIsRefusedAtTheFirstBranch() {
    UnsupportedGraphException e = assertThrows(UnsupportedGraphException.class, () -> importFile("branching.onnx"));
    assertThat(e).hasMessageThat().isEqualTo("node 0 '/0/rbr_identity/BatchNormalization' (BatchNormalization): "
        + "its input 'input' also feeds node 1 '/0/rbr_dense/conv/Conv' (Conv), node 2 '/0/rbr_1x1/conv/Conv' "
        + "(Conv): the graph branches; Kiln imports sequential graphs only");
  }

  @Test
  void functionsAreInlinedWithTheirAttributeReferences() throws IOException {
    ImportedNetwork n = importFile("functions.onnx");
    assertThat(n.layers().get(0).nodes()).containsExactly("node 0 'ConvRelu_0/Conv_0' (Conv)",
        "node 1 'ConvRelu_0/Relu_1' (Relu)").inOrder();
    assertThat((int[]) n.layers().get(1).attributes().get("stride")).isEqualTo(new int[] {2});
    assertThat(n.layers().get(1).attributes().get("activation").toString()).isEqualTo("Activation.RELU6");
    assertThat(n.weights().keySet()).containsExactly("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
        "fc1.weight", "fc1.bias").inOrder();
    assertThat(n.weights().get("fc1.weight").shape()).isEqualTo(new int[] {4, 6}); // Gemm transB = 0, transposed
  }

  @Test
  void batchNormEpsilonIsFoldedIntoTheVariance() throws IOException {
    Proto bn = Proto.node("bn", "BatchNormalization", new String[] {"x", "g", "b", "m", "v"}, "y")
        .message(5, Proto.message().string(1, "epsilon").floatField(2, 1e-3f).intField(20, 1));
    Proto graph = Proto.message().message(1, bn)
        .message(5, Proto.tensor("g", new long[] {2}, 1f, 2f)).message(5, Proto.tensor("b", new long[] {2}, 0f, 1f))
        .message(5, Proto.tensor("m", new long[] {2}, 0.5f, 0f)).message(5, Proto.tensor("v", new long[] {2}, 1f, 3f))
        .message(11, Proto.value("x", 1, 2, 1, 1)).message(12, Proto.value("y", 1, 2, 1, 1));
    ImportedNetwork n = OnnxImporter.importModel(OnnxReader.parse(Proto.model(graph).bytes(), Path.of("bn.onnx")));
    float[] var = n.weights().get("bn1.running_var").data();
    assertThat((double) var[0]).isWithin(1e-7).of(1 + 1e-3 - 1e-5);
    assertThat((double) var[1]).isWithin(1e-7).of(3 + 1e-3 - 1e-5);
    assertThat(n.weights().keySet()).containsExactly("bn1.weight", "bn1.bias", "bn1.running_mean",
        "bn1.running_var", "bn1.num_batches_tracked").inOrder();
    assertThat(n.weights().get("bn1.num_batches_tracked").shape()).isEqualTo(new int[0]);
  }

  @Test
  void nodeNamesCannotEscapeTheGeneratedJavadoc() throws Exception {
    String hostile = "x*/ class Evil {} /*\\u002a/ @Deprecated\n";
    Proto graph = Proto.message()
        .message(1, Proto.node(hostile, "Relu", new String[] {"x"}, "y"))
        .message(11, Proto.value("x", 1, 3)).message(12, Proto.value("y", 1, 3));
    ImportedNetwork n = OnnxImporter.importModel(OnnxReader.parse(Proto.model(graph).bytes(), Path.of("h.onnx")));
    String source = ModelSourceWriter.write(n, "imported", "Hostile", "h.onnx", "h.safetensors");
    assertThat(source).contains("From node 0 'x&#42;/ class Evil {} /&#42;&#92;u002a/ &#64;Deprecated&#10;' (Relu).");
    assertThat(source).doesNotContain("\\u002a");
    ClassLoader loader = InMemoryCompiler.compileAndLoad(JavaFileObjects.forSourceString("imported.Hostile", source));
    SequentialModel model = InMemoryCompiler.newInstance(loader, "imported.HostileModel");
    assertThat(model.forward(Tensor.of(new float[] {-1, 0, 2}, 1, 3)).data()).isEqualTo(new float[] {0, 0, 2});
    assertThrows(ClassNotFoundException.class, () -> loader.loadClass("imported.Evil"));
  }
}
