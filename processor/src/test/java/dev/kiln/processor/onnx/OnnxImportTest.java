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
      assertThat(network.layers().stream().map(ImportedNetwork.Layer::annotation).toList())
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
}
