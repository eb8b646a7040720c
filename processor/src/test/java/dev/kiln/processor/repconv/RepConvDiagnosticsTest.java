package dev.kiln.processor.repconv;

import static com.google.testing.compile.CompilationSubject.assertThat;

import com.google.common.truth.Truth;
import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import dev.kiln.processor.testing.InMemoryCompiler;
import javax.tools.JavaFileObject;
import org.junit.jupiter.api.Test;

/**
 * Invalid {@code @RepConv} attributes are compile errors on the offending value, tagged, and no code is
 * generated for the bad interface.
 */
class RepConvDiagnosticsTest {
  /** A standalone {@code @RepConv} interface {@code t.Bad} with one attribute per line. */
  static JavaFileObject source(String... attributes) {
    return JavaFileObjects.forSourceString("t.Bad", "package t;\n"
        + "import dev.kiln.annotation.RepConv;\n"
        + "@RepConv(\n    " + String.join(",\n    ", attributes) + ")\n"
        + "public interface Bad {}\n");
  }

  static void assertOneError(JavaFileObject src, String tag, String line) {
    Compilation c = InMemoryCompiler.compile(src);
    assertThat(c).failed();
    assertThat(c).hadErrorCount(1);
    assertThat(c).hadErrorContaining(tag).inFile(src).onLineContaining(line);
    assertNothingGenerated(src);
  }

  static void assertNothingGenerated(JavaFileObject src) {
    Truth.assertWithMessage("sources generated for an invalid interface")
        .that(InMemoryCompiler.generatedSourceNames(src)).isEmpty();
  }

  @Test
  void evenKernelSize() {
    JavaFileObject src = source("inChannels = 4", "outChannels = 4", "kernelSize = 4", "height = 8", "width = 8");
    assertOneError(src, "[kiln.odd-kernel]", "kernelSize = 4");
    assertThat(InMemoryCompiler.compile(src)).hadErrorContaining("must be odd").inFile(src)
        .onLineContaining("kernelSize = 4");
  }

  @Test
  void relu6IsNotABlockActivation() {
    JavaFileObject src = source("inChannels = 4", "outChannels = 4", "height = 8", "width = 8",
        "activation = dev.kiln.annotation.Activation.RELU6");
    assertOneError(src, "[kiln.activation] @RepConv.activation must be NONE or RELU but was RELU6",
        "activation = dev.kiln.annotation.Activation.RELU6");
  }

  @Test
  void zeroKernelSize() {
    JavaFileObject src = source("inChannels = 4", "outChannels = 4", "kernelSize = 0", "height = 8", "width = 8");
    assertOneError(src, "[kiln.positive] @RepConv.kernelSize must be > 0 but was 0", "kernelSize = 0");
  }

  @Test
  void strideThree() {
    JavaFileObject src = source("inChannels = 4", "outChannels = 8", "stride = 3", "height = 8", "width = 8");
    assertOneError(src, "[kiln.rep-stride] @RepConv.stride must be 1 or 2 but was 3", "stride = 3");
  }

  @Test
  void groupsNotDividingTheChannels() {
    JavaFileObject src = source("inChannels = 4", "outChannels = 6", "groups = 4", "height = 8", "width = 8");
    assertOneError(src, "[kiln.groups] @RepConv.groups = 4 must divide outChannels (6)", "groups = 4");
    JavaFileObject both = source("inChannels = 6", "outChannels = 9", "groups = 4", "height = 8", "width = 8");
    Compilation c = InMemoryCompiler.compile(both);
    assertThat(c).hadErrorCount(2);
    assertThat(c).hadErrorContaining("must divide inChannels (6)").inFile(both).onLineContaining("groups = 4");
    assertThat(c).hadErrorContaining("must divide outChannels (9)").inFile(both).onLineContaining("groups = 4");
    assertNothingGenerated(both);
  }

  @Test
  void missingShapeAttributesOnAStandaloneInterface() {
    JavaFileObject src = source("outChannels = 4");
    Compilation c = InMemoryCompiler.compile(src);
    assertThat(c).failed();
    assertThat(c).hadErrorCount(3);
    for (String attribute : new String[] {"inChannels", "height", "width"}) {
      assertThat(c).hadErrorContaining("[kiln.missing] @RepConv." + attribute + " is required on a standalone")
          .inFile(src).onLineContaining("@RepConv(");
    }
    assertNothingGenerated(src);
  }

  @Test
  void oneMissingAttributeAmongValidOnes() {
    JavaFileObject src = source("inChannels = 4", "outChannels = 4", "width = 8");
    Compilation c = InMemoryCompiler.compile(src);
    assertThat(c).hadErrorCount(1);
    assertThat(c).hadErrorContaining("[kiln.missing] @RepConv.height").inFile(src).onLineContaining("@RepConv(");
  }

  @Test
  void negativeOutChannels() {
    JavaFileObject src = source("inChannels = 4", "outChannels = -2", "height = 8", "width = 8");
    assertOneError(src, "[kiln.positive] @RepConv.outChannels must be > 0 but was -2", "outChannels = -2");
  }

  @Test
  void notAnInterface() {
    JavaFileObject src = JavaFileObjects.forSourceString("t.Bad", "package t;\n"
        + "import dev.kiln.annotation.RepConv;\n"
        + "@RepConv(inChannels = 4, outChannels = 4, height = 8, width = 8)\n"
        + "public class Bad {}\n");
    Compilation c = InMemoryCompiler.compile(src);
    assertThat(c).hadErrorCount(1);
    assertThat(c).hadErrorContaining("[kiln.target] @RepConv must be placed on an interface").inFile(src)
        .onLineContaining("@RepConv(");
    assertNothingGenerated(src);
  }

  @Test
  void validBlockCompilesWithoutWarnings() {
    JavaFileObject src = source("inChannels = 4", "outChannels = 8", "kernelSize = 5", "stride = 2", "groups = 2",
        "height = 9", "width = 7");
    Compilation c = InMemoryCompiler.compile(src);
    assertThat(c).succeededWithoutWarnings();
    assertThat(c).generatedSourceFile("t.BadBlock").contentsAsUtf8String().contains("extends RepVggBlock");
    assertThat(c).generatedSourceFile("t.BadKernel").isNotNull();
    // The helper does see generated files, so its empty answers above mean something.
    Truth.assertThat(InMemoryCompiler.generatedSourceNames(src))
        .containsExactly("t.BadBlock", "t.BadKernel");
  }
}
