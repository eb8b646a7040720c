package dev.kiln.processor;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static com.google.testing.compile.CompilationSubject.assertThat;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import dev.kiln.processor.testing.InMemoryCompiler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaFileObject;
import org.junit.jupiter.api.Test;

/**
 * The generated source of a few representative declarations, compared with committed golden text in
 * {@code src/test/resources/goldens/} (one file per generated class), so that a change in what the processor
 * emits shows up in review as a diff of those files. After a deliberate change, regenerate them and review
 * the diff:
 *
 * <pre>
 * mvn -q -pl processor -am verify -Dtest=GeneratedSourceGoldenTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dkiln.goldens.update=true
 * </pre>
 */
class GeneratedSourceGoldenTest {
  /** The goldens' directory, relative to the processor module (where the build runs its tests). */
  private static final Path GOLDENS = Path.of("src", "test", "resources", "goldens");
  private static final boolean UPDATE = Boolean.getBoolean("kiln.goldens.update");

  /** The declarations: a common 3x3 kernel, a kernel with every border path, and a small network. */
  private static final JavaFileObject SOURCE = JavaFileObjects.forSourceString("golden.Layers", String.join("\n",
      "package golden;",
      "",
      "import dev.kiln.annotation.*;",
      "import dev.kiln.nn.Module;",
      "",
      "public interface Layers {",
      "  /** 2 -> 4, 3x3, padding 1 on 6x6: an interior and a border. */",
      "  @Conv2d(inChannels = 2, outChannels = 4, kernelSize = 3, padding = \"1\", height = 6, width = 6)",
      "  interface Same3x3 {}",
      "",
      "  /** Stride 2, dilation 2, two groups, reflect padding and a fused ReLU, without bias. */",
      "  @Conv2d(inChannels = 2, outChannels = 2, kernelSize = {3, 2}, stride = 2, padding = \"2,1\", dilation = 2,",
      "      groups = 2, bias = false, paddingMode = PaddingMode.REFLECT, activation = Activation.RELU,",
      "      height = 7, width = 5)",
      "  interface Strided {}",
      "",
      "  /** A conv with its BatchNorm and ReLU folded on deploy, a RepVGG block and the runtime layers. */",
      "  @RDrop(alpha = 0.5)",
      "  @Model(input = {1, 6, 6})",
      "  interface Net {",
      "    @Conv2d(outChannels = 2, kernelSize = 3, padding = \"1\", bias = false) Module conv();",
      "    @BatchNorm2d Module bn();",
      "    @ReLU Module relu();",
      "    @RepConv(outChannels = 2, stride = 2) Module block();",
      "    @MaxPool2d(kernelSize = 2) Module pool();",
      "    @GlobalAvgPool2d Module gap();",
      "    @Flatten Module flat();",
      "    @Dropout(p = 0.25) Module drop();",
      "    @Linear(outFeatures = 3) Module fc();",
      "  }",
      "}",
      ""));

  private static final List<String> GENERATED = List.of("golden.Layers_Same3x3Kernel",
      "golden.Layers_StridedKernel", "golden.Layers_NetModel");

  @Test
  void generatedSourcesMatchTheGoldens() throws IOException {
    Compilation compilation = InMemoryCompiler.compile(SOURCE);
    assertThat(compilation).succeededWithoutWarnings();
    assertThat(InMemoryCompiler.generatedSourceNames(SOURCE)).containsExactlyElementsIn(GENERATED);
    int compared = 0;
    for (String name : GENERATED) {
      String actual = compilation.generatedSourceFile(name).orElseThrow().getCharContent(false).toString();
      Path golden = GOLDENS.resolve(name + ".java.txt");
      if (UPDATE) {
        Files.createDirectories(GOLDENS);
        Files.writeString(golden, actual, StandardCharsets.UTF_8);
      }
      assertWithMessage("golden %s (regenerate with -Dkiln.goldens.update=true, see the class comment)", golden)
          .that(actual).isEqualTo(read(golden));
      // No method reference (fuse() had one): each is a class generated at run time, on the way to a first result.
      assertWithMessage("%s", name).that(actual).doesNotContain("::");
      compared++;
    }
    assertThat(compared).isEqualTo(3);
  }

  private static String read(Path golden) {
    try {
      return Files.readString(golden, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("missing golden " + golden.toAbsolutePath()
          + " (write it with -Dkiln.goldens.update=true)", e);
    }
  }
}
