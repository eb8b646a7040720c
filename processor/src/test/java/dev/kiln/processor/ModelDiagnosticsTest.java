package dev.kiln.processor;

import static com.google.common.truth.Truth.assertThat;
import static com.google.testing.compile.CompilationSubject.assertThat;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import dev.kiln.processor.testing.InMemoryCompiler;
import java.util.concurrent.atomic.AtomicInteger;
import javax.tools.JavaFileObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Every {@code @Model} / layer-context rule is one compile error, on the right line, with its tag. */
class ModelDiagnosticsTest {
  private static final AtomicInteger CHECKED = new AtomicInteger();

  private static JavaFileObject source(String body) {
    return JavaFileObjects.forSourceString("test.Net", "package test;\n"
        + "import dev.kiln.annotation.*;\n"
        + "import dev.kiln.nn.Module;\n"
        + body);
  }

  private static void expectError(String body, String fragment, String line) {
    JavaFileObject src = source(body);
    Compilation c = InMemoryCompiler.compile(src);
    assertThat(c).failed();
    assertThat(c).hadErrorContaining(fragment).inFile(src).onLineContaining(line);
    assertThat(c.errors().toString()).doesNotContain("[kiln.internal]");
    CHECKED.incrementAndGet();
  }

  @AfterAll
  static void countCases() {
    assertThat(CHECKED.get()).isEqualTo(14);
  }

  @Test
  void convChannelsThatDoNotMatchWhatArrives() {
    expectError("@Model(input = {1, 8, 8})\npublic interface Net {\n"
            + "  @Conv2d(inChannels = 3, outChannels = 4, kernelSize = 3)\n  Module conv();\n}\n",
        "[kiln.shape] layer conv: @Conv2d.inChannels = 3 but the input that arrives is [1, 8, 8]", "inChannels = 3");
  }

  @Test
  void linearAfterAnUnflattenedMap() {
    expectError("@Model(input = {1, 8, 8})\npublic interface Net {\n"
            + "  @Conv2d(outChannels = 4, kernelSize = 3)\n  Module conv();\n"
            + "  @Linear(outFeatures = 10)\n  Module fc();\n}\n",
        "[kiln.shape] layer fc: @Linear needs a flat [F] vector but the feature map [4, 6, 6] arrives", "@Linear(outFeatures = 10)");
  }

  @Test
  void convAfterAFlatVector() {
    expectError("@Model(input = {1, 8, 8})\npublic interface Net {\n"
            + "  @Flatten\n  Module flat();\n"
            + "  @Conv2d(outChannels = 4, kernelSize = 3)\n  Module conv();\n}\n",
        "[kiln.shape] layer conv: @Conv2d needs a [C, H, W] feature map but [64] arrives", "@Conv2d(outChannels = 4");
  }

  @Test
  void poolThatDoesNotFit() {
    expectError("@Model(input = {1, 4, 4})\npublic interface Net {\n"
            + "  @MaxPool2d(kernelSize = 2)\n  Module p1();\n"
            + "  @MaxPool2d(kernelSize = 3)\n  Module p2();\n}\n",
        "[kiln.shape] layer p2: @MaxPool2d kernel 3x3 with padding 0,0 does not fit the input [1, 2, 2]",
        "kernelSize = 3");
  }

  @Test
  void kernelLargerThanTheInferredInput() {
    expectError("@Model(input = {2, 4, 4})\npublic interface Net {\n"
            + "  @RepConv(outChannels = 2, stride = 2)\n  Module a();\n"
            + "  @Conv2d(outChannels = 2, kernelSize = 5)\n  Module b();\n}\n",
        "[kiln.kernel-fit]", "kernelSize = 5");
  }

  @Test
  void methodWithTwoLayerAnnotations() {
    expectError("@Model(input = {4})\npublic interface Net {\n"
            + "  @ReLU @Dropout(p = 0.1)\n  Module act();\n}\n",
        "[kiln.layer-annotation] layer method act() must carry exactly one layer annotation", "Module act()");
  }

  @Test
  void methodWithoutLayerAnnotation() {
    expectError("@Model(input = {4})\npublic interface Net {\n  Module act();\n}\n",
        "but has 0", "Module act()");
  }

  @Test
  void methodWithParametersOrOtherReturnType() {
    expectError("@Model(input = {4})\npublic interface Net {\n  @ReLU\n  Object act(int x);\n}\n",
        "[kiln.layer-method] layer method act() must take no parameters", "Object act(int x)");
  }

  @Test
  void badModelInput() {
    expectError("@Model(input = {1, 8})\npublic interface Net {\n  @ReLU\n  Module act();\n}\n",
        "[kiln.model-input] @Model.input must be {C, H, W} or {F}", "input = {1, 8}");
  }

  @Test
  void layerAnnotationOutsideAModel() {
    expectError("public interface Net {\n  @Linear(outFeatures = 3)\n  Module fc();\n}\n",
        "[kiln.layer-context] @Linear on method Net.fc() declares a network layer", "@Linear");
  }

  @Test
  void convOnAMethodOutsideAModel() {
    expectError("public interface Net {\n  @Conv2d(outChannels = 3, kernelSize = 1)\n  Module conv();\n}\n",
        "[kiln.layer-context] @Conv2d on method Net.conv()", "@Conv2d");
  }

  @Test
  void rdropWithoutModelAndNegativeAlpha() {
    expectError("@RDrop\npublic interface Net {}\n", "[kiln.rdrop] @RDrop goes on a @Model interface", "@RDrop");
    expectError("@RDrop(alpha = -1)\n@Model(input = {4})\npublic interface Net {\n  @ReLU\n  Module act();\n}\n",
        "[kiln.rdrop] @RDrop.alpha must be finite and >= 0 but was -1.0", "alpha = -1");
  }

  @Test
  void dropoutProbabilityOutOfRange() {
    expectError("@Model(input = {4})\npublic interface Net {\n  @Dropout(p = 1.0)\n  Module drop();\n}\n",
        "[kiln.dropout] @Dropout.p must be in [0, 1) but was 1.0", "p = 1.0");
  }
}
