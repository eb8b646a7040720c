package dev.kiln.processor;

import static com.google.common.truth.Truth.assertThat;
import static com.google.testing.compile.CompilationSubject.assertThat;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import dev.kiln.nn.Module;
import dev.kiln.nn.SequentialModel;
import dev.kiln.processor.testing.InMemoryCompiler;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import javax.tools.JavaFileObject;
import org.junit.jupiter.api.Test;

/**
 * Layers of one shape in a {@code @Model} share one generated class (a network is its wiring plus one kernel
 * per distinct shape), each layer keeping its own weights, keys and initialization.
 */
class SharedKernelsTest {
  private static final String SOURCE = "package test;\n"
      + "import dev.kiln.annotation.*;\n"
      + "import dev.kiln.nn.Module;\n"
      + "@Model(input = {4, 8, 8})\n"
      + "public interface Twins {\n"
      + "  @Conv2d(outChannels = 4, kernelSize = 3, padding = \"1\", activation = Activation.RELU) Module a();\n"
      + "  @Conv2d(outChannels = 4, kernelSize = 3, padding = \"1\", activation = Activation.RELU) Module b();\n"
      + "  @RepConv(outChannels = 6) Module c();\n"
      + "  @RepConv(outChannels = 6) Module d();\n"
      + "  @RepConv(outChannels = 6) Module f();\n"
      + "  @RepConv(outChannels = 6, stride = 2) Module e();\n"
      + "  @GlobalAvgPool2d Module gap();\n"
      + "  @Flatten Module flatten();\n"
      + "  @Linear(outFeatures = 3) Module fc();\n"
      + "}\n";

  private static Module layer(SequentialModel model, String name) throws ReflectiveOperationException {
    return (Module) model.getClass().getMethod(name).invoke(model);
  }

  @Test
  void layersOfOneShapeShareOneClass() throws ReflectiveOperationException, IOException {
    Compilation c = InMemoryCompiler.compile(JavaFileObjects.forSourceString("test.Twins", SOURCE));
    assertThat(c).succeededWithoutWarnings();
    JavaFileObject generated = c.generatedSourceFile("test.TwinsModel").orElseThrow();
    String text = generated.getCharContent(true).toString();
    assertThat(text).contains("class AKernel");
    assertThat(text).doesNotContain("class BKernel");
    assertThat(text).contains("class CBlock"); // 4 -> 6
    assertThat(text).contains("class DBlock"); // 6 -> 6, also f
    assertThat(text).doesNotContain("class FBlock");
    assertThat(text).doesNotContain("class FKernel");
    assertThat(text).contains("class EBlock"); // 6 -> 6 with stride 2: another shape
    assertThat(text).contains("layers {@code b} use it too");
    assertThat(text).contains("layers {@code f} use it too");

    ClassLoader loader = InMemoryCompiler.loader(c);
    SequentialModel model = (SequentialModel) loader.loadClass("test.TwinsModel").getConstructor(long.class)
        .newInstance(3L);
    assertThat(layer(model, "b").getClass()).isSameInstanceAs(layer(model, "a").getClass());
    assertThat(layer(model, "f").getClass()).isSameInstanceAs(layer(model, "d").getClass());
    assertThat(layer(model, "d").getClass()).isNotSameInstanceAs(layer(model, "c").getClass());
    assertThat(layer(model, "e").getClass()).isNotSameInstanceAs(layer(model, "d").getClass());
    List<String> nested = new ArrayList<>();
    for (Class<?> k : loader.loadClass("test.TwinsModel").getDeclaredClasses()) {
      nested.add(k.getSimpleName());
    }
    assertThat(nested).containsNoneOf("BKernel", "FBlock", "FKernel");
    assertThat(nested).containsAtLeast("AKernel", "CBlock", "DBlock", "EBlock", "Fused");

    // Own weights from own seeds, own keys.
    Tensor wa = model.stateDict().get("a.weight");
    Tensor wb = model.stateDict().get("b.weight");
    assertThat(wa.shape()).isEqualTo(wb.shape());
    assertThat(wa.maxAbsDifference(wb)).isGreaterThan(0.0);
    long dKeys = model.stateDict().keySet().stream().filter(k -> k.startsWith("d.")).count();
    long fKeys = model.stateDict().keySet().stream().filter(k -> k.startsWith("f.")).count();
    assertThat(dKeys).isGreaterThan(0L);
    assertThat(fKeys).isEqualTo(dKeys);

    // The shared classes compute each layer with its own weights: fused equals eval.
    model.eval();
    Tensor x = TestTensors.uniform(new SplittableRandom(7), 1, 2, 4, 8, 8);
    Tensor y = model.forward(x).copy();
    SequentialModel fused = (SequentialModel) model.getClass().getMethod("fuse").invoke(model);
    Tensor yf = fused.forward(x);
    assertThat(yf.maxAbsDifference(y)).isLessThan(1e-4);
  }
}
