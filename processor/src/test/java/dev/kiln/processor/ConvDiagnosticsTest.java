package dev.kiln.processor;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static com.google.testing.compile.CompilationSubject.assertThat;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import dev.kiln.processor.testing.InMemoryCompiler;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.JavaFileObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One compile-testing test per {@code @Conv2d} validation rule: the error names the rule (a bracketed
 * tag) and what is allowed, and sits on the line of the offending attribute value. No diagnostic ever
 * comes from a processor exception ({@code [kiln.internal]}), and nothing is generated for a bad layer.
 */
class ConvDiagnosticsTest {
  /**
   * A standalone layer with one attribute per line: {@code attributes} replace the defaults below
   * (given as {@code "name = value"} lines).
   */
  private static JavaFileObject layer(String name, String... attributes) {
    StringBuilder sb = new StringBuilder();
    sb.append("package test;\n\n");
    sb.append("import dev.kiln.annotation.Activation;\n");
    sb.append("import dev.kiln.annotation.Conv2d;\n");
    sb.append("import dev.kiln.annotation.PaddingMode;\n\n");
    sb.append("@Conv2d(\n");
    List<String> lines = new java.util.ArrayList<>(List.of(attributes));
    for (String def : List.of("inChannels = 4", "outChannels = 6", "kernelSize = 3", "height = 8", "width = 8")) {
      String key = def.substring(0, def.indexOf(' '));
      if (lines.stream().noneMatch(l -> l.startsWith(key + " ") || l.equals("-" + key))) {
        lines.add(0, def);
      }
    }
    lines.removeIf(l -> l.startsWith("-"));
    sb.append("    ").append(String.join(",\n    ", lines)).append(")\n");
    sb.append("public interface ").append(name).append(" {}\n");
    return JavaFileObjects.forSourceString("test." + name, sb.toString());
  }

  private static Compilation compile(JavaFileObject... sources) {
    Compilation c = InMemoryCompiler.compile(sources);
    assertNoInternalError(c);
    return c;
  }

  private static void assertNoInternalError(Compilation c) {
    for (Diagnostic<? extends JavaFileObject> d : c.diagnostics()) {
      assertThat(d.getMessage(Locale.ROOT)).doesNotContain("[kiln.internal]");
    }
  }

  /**
   * Exactly one error (so no generated code failed to compile either), containing every fragment, on the
   * line containing {@code line}.
   */
  private static void assertError(JavaFileObject source, String line, String... fragments) {
    Compilation c = compile(source);
    assertThat(c).failed();
    assertThat(c).hadErrorCount(1);
    for (String f : fragments) {
      assertThat(c).hadErrorContaining(f).inFile(source).onLineContaining(line);
    }
  }

  @Test
  void validLayerCompilesCleanly() {
    JavaFileObject ok = layer("Ok", "groups = 2", "padding = \"1, 2\"", "paddingMode = PaddingMode.REFLECT");
    Compilation c = compile(ok);
    assertThat(c).succeededWithoutWarnings();
    assertThat(c).generatedSourceFile("test.OkKernel");
  }

  /**
   * A layer {@code name} with {@code attributes} that one rule rejects: exactly one error, on the line containing
   * {@code line}, with every one of {@code fragments}.
   */
  private record Rejection(String name, List<String> attributes, String line, List<String> fragments) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Rejection> rejections() {
    return Stream.of(
        // groups not positive, or not dividing a channel count
        new Rejection("G0", List.of("groups = 0"), "groups = 0",
            List.of("[kiln.positive]", "@Conv2d.groups must be > 0 but was 0")),
        new Rejection("Gm", List.of("groups = -2"), "groups = -2", List.of("[kiln.positive]", "was -2")),
        new Rejection("Gin", List.of("inChannels = 3", "outChannels = 4", "groups = 2"), "groups = 2",
            List.of("[kiln.groups]", "groups = 2 must divide inChannels (3)")),
        new Rejection("Gout", List.of("inChannels = 4", "outChannels = 6", "groups = 4"), "groups = 4",
            List.of("[kiln.groups]", "groups = 4 must divide outChannels (6)")),
        // "same" padding with a stride
        new Rejection("SameStride", List.of("padding = \"same\"", "stride = 2"), "padding = ",
            List.of("[kiln.same-stride]", "\"same\" is not supported with stride > 1", "stride is 2x2")),
        new Rejection("SameStrideW", List.of("padding = \"same\"", "stride = {1, 2}"), "padding = ",
            List.of("[kiln.same-stride]", "stride is 1x2")),
        // reflect padding at least the input, circular padding larger than the input
        new Rejection("Reflect", List.of("padding = \"3\"", "height = 3", "paddingMode = PaddingMode.REFLECT"),
            "paddingMode = ", List.of("[kiln.reflect]", "REFLECT needs padding smaller than the input",
                "the padding is 3 rows and 3 columns for an input of 3x8")),
        new Rejection("Circular", List.of("padding = \"1,4\"", "width = 3", "paddingMode = PaddingMode.CIRCULAR"),
            "paddingMode = ", List.of("[kiln.circular]", "CIRCULAR needs padding no larger than the input",
                "the padding is 1 rows and 4 columns for an input of 8x3")),
        // a kernel larger than the padded input, a window beyond the unroll limit
        new Rejection("Big", List.of("kernelSize = {3, 11}", "padding = \"1\""), "kernelSize = ",
            List.of("[kiln.kernel-fit]", "kernel 3x11", "does not fit the padded input 10x10")),
        new Rejection("Dilated", List.of("kernelSize = 3", "dilation = 5"), "kernelSize = ",
            List.of("[kiln.kernel-fit]", "span 11x11")),
        new Rejection("HugeWindow", List.of("kernelSize = {65, 64}", "height = 100", "width = 100"), "kernelSize = ",
            List.of("[kiln.too-large]", "kernel window 65x64 (limit 4096 taps)")),
        // huge values, reported without overflow
        new Rejection("HugeDilation", List.of("kernelSize = 50000", "dilation = 50000"), "kernelSize = ",
            List.of("[kiln.kernel-fit]", "(span 2499950001x2499950001) does not fit the padded input 8x8")),
        new Rejection("HugeSame", List.of("kernelSize = 50000", "dilation = 50000", "padding = \"same\""),
            "padding = ", List.of("[kiln.too-large]", "\"same\" padding of the dilated kernel (2499950000)")),
        new Rejection("HugePadding", List.of("inChannels = 1", "outChannels = 1", "padding = \"999999999,0\"",
            "height = 1000000000", "width = 2"), "padding = ",
            List.of("[kiln.too-large]", "padded input size (2999999998)")),
        new Rejection("HugeOutput", List.of("inChannels = 1", "outChannels = 100000", "kernelSize = 1",
            "height = 1000", "width = 1000"), "@Conv2d(", List.of("[kiln.too-large]", "output size (100000000000)")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rejections")
  void ruleRejectsTheLayer(Rejection r) {
    assertError(layer(r.name(), r.attributes().toArray(String[]::new)), r.line(),
        r.fragments().toArray(String[]::new));
  }

  @Test
  void circularPaddingEqualToTheInputIsAllowed() {
    assertThat(compile(layer("CircularEdge", "padding = \"1,3\"", "width = 3", "paddingMode = PaddingMode.CIRCULAR")))
        .succeededWithoutWarnings();
  }

  @Test
  void pairAttributesNeedOneOrTwoValues() {
    for (String attr : List.of("kernelSize", "stride", "dilation")) {
      assertError(layer("Empty" + attr, attr + " = {}"), attr + " = {}", "[kiln.arity]",
          "@Conv2d." + attr + " takes 1 or 2 values", "but got 0");
      assertError(layer("Three" + attr, attr + " = {1, 1, 1}"), attr + " = {1, 1, 1}", "[kiln.arity]",
          "@Conv2d." + attr + " takes 1 or 2 values", "but got 3");
    }
  }

  @Test
  void pairAttributesMustBePositive() {
    for (String attr : List.of("kernelSize", "stride", "dilation")) {
      assertError(layer("Zero" + attr, attr + " = 0"), attr + " = 0", "[kiln.positive]",
          "@Conv2d." + attr + " must be > 0 but was 0");
      assertError(layer("Neg" + attr, attr + " = {1, -1}"), attr + " = {1, -1}", "[kiln.positive]",
          "@Conv2d." + attr + " must be > 0 but was -1");
    }
  }

  @Test
  void channelsAndSizesMustBePositive() {
    for (String attr : List.of("inChannels", "outChannels", "height", "width")) {
      assertError(layer("Zero" + attr, attr + " = 0"), attr + " = 0", "[kiln.positive]",
          "@Conv2d." + attr + " must be > 0 but was 0");
    }
    assertError(layer("NegOut", "outChannels = -3"), "outChannels = -3", "[kiln.positive]", "was -3");
  }

  @Test
  void unparsablePadding() {
    for (String p : List.of("abc", "1,2,3", "-1", "", "1.5")) {
      assertError(layer("Pad" + Math.abs(p.hashCode()), "padding = \"" + p + "\""), "padding = ", "[kiln.padding]",
          "@Conv2d.padding \"" + p + "\" is not valid", "\"valid\", \"same\", \"p\" or \"pH,pW\"");
    }
  }

  @Test
  void missingInputShapeOnAStandaloneInterface() {
    for (String attr : List.of("inChannels", "height", "width")) {
      assertError(layer("Missing" + attr, "-" + attr), "@Conv2d(", "[kiln.missing]",
          "@Conv2d." + attr + " is required on a standalone interface");
    }
  }

  @Test
  void annotationOnAClass() {
    JavaFileObject source = JavaFileObjects.forSourceString("test.OnClass", """
        package test;
        import dev.kiln.annotation.Conv2d;
        @Conv2d(inChannels = 1, outChannels = 1, kernelSize = 1, height = 2, width = 2)
        public class OnClass {}""");
    assertError(source, "@Conv2d(", "[kiln.target]", "must be placed on an interface");
  }

  @Test
  void interfaceWithAForeignAbstractMethod() {
    JavaFileObject source = JavaFileObjects.forSourceString("test.Foreign", """
        package test;
        import dev.kiln.annotation.Conv2d;
        @Conv2d(inChannels = 1, outChannels = 1, kernelSize = 1, height = 2, width = 2)
        public interface Foreign extends dev.kiln.nn.Module {
          dev.kiln.tensor.Tensor forward(dev.kiln.tensor.Tensor input);
          int answer();
          default int helper() { return 1; }
        }""");
    assertError(source, "@Conv2d(", "[kiln.target]", "abstract methods the generated kernel cannot implement: [answer]");
  }

  @Test
  void severalInvalidInterfacesEachReportTheirErrorAndTheValidOneGenerates() {
    JavaFileObject source = JavaFileObjects.forSourceString("test.Mixed", """
        package test;
        import dev.kiln.annotation.Conv2d;
        public interface Mixed {
          @Conv2d(inChannels = 3, outChannels = 4, kernelSize = 3, height = 8, width = 8,
              groups = 2)
          interface BadGroups {}
          @Conv2d(inChannels = 3, outChannels = 4, kernelSize = 3, height = 8, width = 8,
              stride = 0)
          interface BadStride {}
          @Conv2d(inChannels = 3, outChannels = 4, kernelSize = 3, height = 8, width = 8, padding = "same")
          interface Good {}
          @Conv2d(inChannels = 3, outChannels = 4, kernelSize = 3, height = 8, width = 8,
              padding = "x")
          interface BadPadding {}
        }""");

    Compilation c = compile(source);
    assertThat(c).failed();
    assertThat(c).hadErrorCount(3);
    assertThat(c).hadErrorContaining("[kiln.groups]").inFile(source).onLineContaining("groups = 2");
    assertThat(c).hadErrorContaining("[kiln.positive]").inFile(source).onLineContaining("stride = 0");
    assertThat(c).hadErrorContaining("[kiln.padding]").inFile(source).onLineContaining("padding = \"x\"");
    assertThat(InMemoryCompiler.generatedSourceNames(source)).containsExactly("test.Mixed_GoodKernel");
  }

  @Test
  void inheritedForeignAbstractMethod() {
    JavaFileObject source = JavaFileObjects.forSourceString("test.Inherits", """
        package test;
        import dev.kiln.annotation.Conv2d;
        interface Base { int answer(); }
        @Conv2d(inChannels = 1, outChannels = 1, kernelSize = 1, height = 2, width = 2)
        public interface Inherits extends Base {}""");
    assertError(source, "@Conv2d(", "[kiln.target]", "cannot implement or that clash with it: [answer()]");
  }

  @Test
  void moduleMethodNamesWithOtherSignatures() {
    String[][] cases = {
        {"dev.kiln.tensor.Tensor forward(String s);", "[forward(java.lang.String)]"},
        {"String forward(dev.kiln.tensor.Tensor input);", "[forward(dev.kiln.tensor.Tensor)]"},
        {"void eval();", "[eval()]"},
        {"default void eval() {}", "[eval()]"}, // unrelated to Module.eval: javac rejects the kernel
        {"default void forwardSample(float[] x, int a, float[] y, int b, int c, int d) {}",
            "[forwardSample(float[], int, float[], int, int, int)]"},
        // A static method of ConvKernel that the generated loops call: javac rejects an instance method beside it.
        {"default boolean fusedMultiplyAdd() { return false; }", "[fusedMultiplyAdd()]"},
    };
    int checked = 0;
    for (String[] c : cases) {
      JavaFileObject source = JavaFileObjects.forSourceLines("test.Sig" + checked,
          "package test;",
          "import dev.kiln.annotation.Conv2d;",
          "@Conv2d(inChannels = 1, outChannels = 1, kernelSize = 1, height = 2, width = 2)",
          "public interface Sig" + checked + " extends dev.kiln.nn.Module {",
          "  " + c[0],
          "}");
      if (c[0].startsWith("default void eval")) {
        source = JavaFileObjects.forSourceLines("test.Sig" + checked,
            "package test;",
            "import dev.kiln.annotation.Conv2d;",
            "@Conv2d(inChannels = 1, outChannels = 1, kernelSize = 1, height = 2, width = 2)",
            "public interface Sig" + checked + " {",
            "  " + c[0],
            "}");
      }
      assertError(source, "@Conv2d(", "[kiln.target]", c[1]);
      checked++;
    }
    assertThat(checked).isEqualTo(6);
  }

  @Test
  void defaultMethodWithTheSignatureOfAGeneratedOne() {
    JavaFileObject source = JavaFileObjects.forSourceString("test.TakenOver", """
        package test;
        import dev.kiln.annotation.Conv2d;
        @Conv2d(inChannels = 2, outChannels = 2, kernelSize = 3, padding = "1", height = 4, width = 4)
        public interface TakenOver {
          default void writeBand(float[] acc, float[] y, int a, int b) {}
        }""");
    assertError(source, "default void writeBand", "[kiln.target] method writeBand() of @Conv2d "
        + "interface TakenOver has the signature of test.TakenOverKernel.writeBand()");
  }

  @Test
  void interfacesTheKernelCanImplementCompile() {
    JavaFileObject source = JavaFileObjects.forSourceString("test.Friendly", """
        package test;
        import dev.kiln.annotation.Conv2d;
        import dev.kiln.tensor.Tensor;
        @Conv2d(inChannels = 2, outChannels = 2, kernelSize = 3, padding = "1", height = 4, width = 4)
        public interface Friendly extends dev.kiln.nn.Module {
          Tensor forward(Tensor input);
          java.util.Map<String, Tensor> stateDict();
          void backwardParameters(Tensor gradOutput);
          default void eval() { train(false); }
          default int helper() { return 2; }
          static int util() { return 3; }
          // Constants named like the kernel's fields and constants must not confuse the generated code.
          String w = "w";
          float[] b = null;
          int IN_C = 99;
          int oc = 5;
        }""");
    Compilation c = compile(source);
    assertThat(c).succeededWithoutWarnings();
    assertThat(c).generatedSourceFile("test.FriendlyKernel");
  }

  @Test
  void unresolvedConstantIsLeftToJavac() {
    for (String attr : List.of("outChannels = MISSING", "kernelSize = {1, MISSING}", "padding = MISSING_TEXT",
        "paddingMode = PaddingMode.NOPE")) {
      Compilation c = compile(layer("Unresolved" + Math.abs(attr.hashCode()), attr));
      assertThat(c).failed();
      assertThat(c).hadErrorCount(1);
      // javac's own error: "cannot find symbol"; for the enum constant, javac 23 and later (checked on
      // Temurin 25) say "an enum annotation value must be an enum constant" instead.
      String message = c.errors().get(0).getMessage(java.util.Locale.ROOT);
      assertWithMessage(attr).that(message.contains("cannot find symbol")
          || attr.startsWith("paddingMode") && message.contains("an enum annotation value must be an enum constant"))
          .isTrue();
    }
  }

  @Test
  void conv2dOnAMethodOutsideAModel() {
    JavaFileObject source = JavaFileObjects.forSourceString("test.NoModel", """
        package test;
        import dev.kiln.annotation.Conv2d;
        public interface NoModel {
          @Conv2d(inChannels = 1, outChannels = 1, kernelSize = 1, height = 2, width = 2)
          dev.kiln.nn.Module conv();
        }""");
    assertError(source, "@Conv2d(", "[kiln.layer-context]",
        "@Conv2d on method NoModel.conv() declares a network layer and needs an enclosing @Model");
  }
}
