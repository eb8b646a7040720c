package dev.kiln.processor;

import static com.google.common.truth.Truth.assertThat;
import static com.google.testing.compile.CompilationSubject.assertThat;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import dev.kiln.processor.testing.InMemoryCompiler;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.tools.JavaFileObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Every {@code @Model} / layer-context rule is one compile error, on the right line, with its tag. */
class ModelDiagnosticsTest {
  private static final AtomicInteger CHECKED = new AtomicInteger();
  /** Names of members the generated network has (declared by Kiln or inherited), a few of each origin. */
  private static final List<String> MEMBER_NAMES = List.of("fuse", "objective", "eval", "stateDict", "zeroGrad",
      "layers", "inputShape", "outputShape", "children", "isTraining", "namedParameters", "hashCode");

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
    assertThat(CHECKED.get()).isEqualTo(14 + MEMBER_NAMES.size() + 5 + 4);
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

  @Test
  void layerNamedLikeAMemberOfTheGeneratedNetwork() {
    for (String name : MEMBER_NAMES) {
      expectError("@Model(input = {4})\npublic interface Net {\n  @ReLU\n  Module " + name + "();\n}\n",
          "[kiln.layer-name] layer method " + name + "() has the name of ", "Module " + name + "()");
    }
    expectError("@RDrop\n@Model(input = {4})\npublic interface Net {\n  @ReLU\n  Module objective();\n}\n",
        "[kiln.layer-name] layer method objective() has the name of test.NetModel.objective()", "Module objective()");
  }

  @Test
  void otherInterfaceMethodNamedLikeAGeneratedOne() {
    expectError("@Model(input = {4})\npublic interface Net {\n  @ReLU\n  Module act();\n"
            + "  default void fuse() {}\n}\n",
        "[kiln.target] method fuse() of @Model interface Net has the signature of test.NetModel.fuse()",
        "default void fuse()");
  }

  @Test
  void layerNamesThatDifferOnlyInTheirFirstLetter() {
    expectError("@Model(input = {1, 6, 6})\npublic interface Net {\n"
            + "  @Conv2d(outChannels = 2, kernelSize = 3) Module conv();\n"
            + "  @Conv2d(outChannels = 2, kernelSize = 3) Module Conv();\n}\n",
        "[kiln.layer-name] layer method Conv() must start with a lowercase letter", "Module Conv()");
  }

  @Test
  void layerMethodsInheritedFromASuperInterface() {
    expectError("interface Base {\n  Module head();\n}\n"
            + "@Model(input = {4})\npublic interface Net extends Base {\n  @ReLU\n  Module act();\n}\n",
        "[kiln.layer-inherited] @Model interface Net inherits the abstract method head() from test.Base",
        "Module head()");
    expectError("interface Layers {\n  @ReLU Module act();\n}\n"
            + "@Model(input = {4})\npublic interface Net extends Layers {\n  @ReLU\n  Module out();\n}\n",
        "[kiln.layer-inherited] @Model interface Net inherits the abstract method act() from test.Layers",
        "Module act()");
  }

  /**
   * Layer names that are legal but unusual: named like the generated code's locals and parameters, like
   * package roots, like another layer's nested kernel, or starting with {@code _} or {@code $}. Each
   * compiles (with nothing in the generated files, see {@link InMemoryCompiler#compile}) and runs.
   */
  @Test
  void unusualLayerNamesCompileAndRun() throws Exception {
    JavaFileObject src = source("""
        @Model(input = {2, 6, 6})
        public interface Net {
          @Conv2d(outChannels = 3, kernelSize = 3, padding = "1", bias = false) Module x();
          @BatchNorm2d Module seed();
          @Conv2d(outChannels = 3, kernelSize = 3, padding = "1") Module xFused();
          @RepConv(outChannels = 3) Module kernel();
          @ReLU Module dev();
          @Conv2d(outChannels = 3, kernelSize = 1) Module java();
          @Dropout(p = 0.1) Module w();
          @MaxPool2d(kernelSize = 2) Module b();
          @Flatten Module fused();
          @Linear(outFeatures = 2) Module _y();
          @ReLU Module $z();
        }
        """);
    Compilation c = InMemoryCompiler.compile(src);
    assertThat(c).succeededWithoutWarnings();
    ClassLoader loader = InMemoryCompiler.loader(c);
    dev.kiln.nn.SequentialModel net = InMemoryCompiler.newInstance(loader, "test.NetModel");
    net.eval();
    dev.kiln.tensor.Tensor input = dev.kiln.tensor.Tensor.zeros(1, 2, 6, 6).fill(0.5f);
    dev.kiln.nn.Module fused = (dev.kiln.nn.Module) net.getClass().getMethod("fuse").invoke(net);
    float[] expected = net.forward(input).data();
    float[] actual = fused.forward(input).data();
    assertThat(actual).usingTolerance(1e-5).containsExactly(expected).inOrder();
    assertThat(net.layers().keySet()).containsExactly("x", "seed", "xFused", "kernel", "dev", "java", "w", "b",
        "fused", "_y", "$z").inOrder();
  }

  /**
   * Parameters or activations too large for Java arrays are compile errors on the value, for every layer kind
   * that can grow a tensor: the model input, {@code @Linear}'s weight, a padded pool's output ({@code @Conv2d}
   * and {@code @RepConv}: {@code ConvDiagnosticsTest}); the other kinds keep or shrink the shape that arrives.
   */
  @Test
  void tensorsTooLargeForJavaArrays() {
    expectError("@Model(input = {4})\npublic interface Net {\n  @Linear(outFeatures = Integer.MAX_VALUE)\n"
            + "  Module fc();\n}\n",
        "[kiln.too-large] @Linear weight size (8589934588) is too large for Java arrays",
        "outFeatures = Integer.MAX_VALUE");
    expectError("@Model(input = {4096})\npublic interface Net {\n  @Linear(outFeatures = 1000000)\n  Module fc();\n}\n",
        "[kiln.too-large] @Linear weight size (4096000000)", "outFeatures = 1000000");
    expectError("@Model(input = {65536, 65536, 1})\npublic interface Net {\n  @ReLU\n  Module act();\n}\n",
        "[kiln.too-large] @Model input size (4294967296)", "input = {65536");
    expectError("@Model(input = {1, 46340, 46340})\npublic interface Net {\n"
            + "  @MaxPool2d(kernelSize = 2, stride = 1, padding = 1)\n  Module pool();\n}\n",
        "[kiln.too-large] @MaxPool2d output size (2147488281)", "padding = 1");
  }
}
