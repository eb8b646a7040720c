package dev.kiln.processor;

import static com.google.testing.compile.CompilationSubject.assertThat;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import dev.kiln.processor.testing.InMemoryCompiler;
import javax.tools.JavaFileObject;
import org.junit.jupiter.api.Test;

/** Generated code must compile even when the user's interface declares types named like its imports. */
class NameClashTest {
  @Test
  void nestedTypesNamedLikeGeneratedImportsDoNotShadowThem() {
    JavaFileObject src = JavaFileObjects.forSourceString("test.Clash", """
        package test;
        import dev.kiln.annotation.*;
        public interface Clash {
          @Conv2d(inChannels = 2, outChannels = 2, kernelSize = 3, padding = "1", height = 5, width = 5, \
        activation = Activation.RELU)
          interface K { class Arrays {} class Activation {} class ConvKernel {} class PaddingMode {} \
        class ConvGeometry {} class Generated {} }
          @RepConv(inChannels = 2, outChannels = 2, height = 5, width = 5)
          interface R { class Arrays {} class Activation {} class RepVggBlock {} class ConvKernel {} }
        }
        """);
    Compilation c = InMemoryCompiler.compile(src);
    assertThat(c).succeededWithoutWarnings();
    assertThat(c).generatedSourceFile("test.Clash_KKernel");
    assertThat(c).generatedSourceFile("test.Clash_RBlock");
  }

  @Test
  void twoInterfacesWithOneGeneratedNameAreACompileError() {
    String conv = "@Conv2d(inChannels = 1, outChannels = 2, kernelSize = 3, padding = \"1\", height = 5, width = 5)\n";
    JavaFileObject outer = JavaFileObjects.forSourceString("test.P", "package test;\n"
        + "import dev.kiln.annotation.*;\n"
        + "public interface P {\n  " + conv + "  interface Q {}\n}\n");
    JavaFileObject flat = JavaFileObjects.forSourceString("test.P_Q", "package test;\n"
        + "import dev.kiln.annotation.*;\n"
        + conv + "public interface P_Q {}\n");
    Compilation c = InMemoryCompiler.compile(outer, flat);
    assertThat(c).failed();
    assertThat(c).hadErrorCount(1);
    assertThat(c).hadErrorContaining("[kiln.name-clash] the generated class test.P_QKernel is already generated for");
    assertThat(c).hadErrorContaining("rename one of the two interfaces");
  }
}
