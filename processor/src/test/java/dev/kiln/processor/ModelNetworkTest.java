package dev.kiln.processor;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static com.google.testing.compile.CompilationSubject.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import dev.kiln.loss.DeclaredObjective;
import dev.kiln.loss.Objective;
import dev.kiln.loss.Objectives;
import dev.kiln.nn.Module;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.SequentialModel;
import dev.kiln.processor.testing.InMemoryCompiler;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import javax.tools.JavaFileObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A {@code @Model} with every layer kind, compiled in memory: shapes, state-dict keys, training, the
 * backward pass against finite differences, and {@code fuse()} against the eval-mode network.
 */
class ModelNetworkTest {
  private static final String SOURCE = "package test;\n"
      + "import dev.kiln.annotation.*;\n"
      + "import dev.kiln.nn.Module;\n"
      + "public interface Nets {\n"
      + "  @RDrop(alpha = 0.5, klReduction = Reduction.BATCHMEAN)\n"
      + "  @Model(input = {2, 10, 9})\n"
      + "  interface Full {\n"
      + "    @Conv2d(outChannels = 4, kernelSize = 3, padding = \"same\", bias = false) Module conv1();\n"
      + "    @BatchNorm2d Module bn1();\n"
      + "    @ReLU Module relu1();\n"
      + "    @RepConv(outChannels = 4) Module block1();\n"
      + "    @RepConv(outChannels = 6, stride = 2, groups = 2) Module block2();\n"
      + "    @MaxPool2d(kernelSize = 2, stride = 1) Module pool1();\n"
      + "    @Conv2d(outChannels = 6, kernelSize = {1, 3}, paddingMode = PaddingMode.REFLECT, padding = \"0,1\","
      + " activation = Activation.RELU) Module conv2();\n"
      + "    @BatchNorm2d Module bn2();\n"
      + "    @AvgPool2d(kernelSize = 2, padding = 1) Module pool2();\n"
      + "    @RepConv(outChannels = 6, batchNorm = false, activation = Activation.NONE) Module block3();\n"
      + "    @ReLU Module relu2();\n"
      + "    @GlobalAvgPool2d Module gap();\n"
      + "    @Flatten Module flat();\n"
      + "    @Dropout(p = 0.25) Module drop();\n"
      + "    @Linear(outFeatures = 5) Module fc();\n"
      + "  }\n"
      + "  @Model(input = {3, 6, 6})\n"
      + "  interface NoDropout {\n"
      + "    @RepConv(outChannels = 3, kernelSize = 3) Module block();\n"
      + "    @Conv2d(outChannels = 4, kernelSize = 3, stride = 2, padding = \"1\") Module conv();\n"
      + "    @BatchNorm2d Module bn();\n"
      + "    @ReLU Module relu();\n"
      + "    @Flatten Module flat();\n"
      + "    @Linear(outFeatures = 3) Module fc();\n"
      + "  }\n"
      + "}\n";

  private static ClassLoader loader;

  @BeforeAll
  static void compile() {
    JavaFileObject src = JavaFileObjects.forSourceString("test.Nets", SOURCE);
    Compilation c = InMemoryCompiler.compile(src);
    assertThat(c).succeededWithoutWarnings();
    loader = InMemoryCompiler.loader(c);
  }

  private static SequentialModel create(String name, long seed) throws ReflectiveOperationException {
    return (SequentialModel) loader.loadClass("test.Nets_" + name + "Model").getConstructor(long.class)
        .newInstance(seed);
  }

  private static Tensor random(SplittableRandom r, int... shape) {
    return TestTensors.uniform(r, 1, shape);
  }

  @Test
  void shapesKeysAndAccessors() throws Exception {
    SequentialModel m = create("Full", 7);
    assertThat(m.inputShape()).isEqualTo(new int[] {2, 10, 9});
    assertThat(m.outputShape()).isEqualTo(new int[] {5});
    assertThat(m.layers().keySet()).containsExactly("conv1", "bn1", "relu1", "block1", "block2", "pool1", "conv2",
        "bn2", "pool2", "block3", "relu2", "gap", "flat", "drop", "fc").inOrder();
    Map<String, Tensor> state = m.stateDict();
    assertThat(state.keySet()).containsAtLeast("conv1.weight", "bn1.running_var", "bn1.num_batches_tracked",
        "block1.rbr_identity.weight", "block1.rbr_dense.conv.weight", "block1.rbr_dense.bn.running_mean",
        "block1.rbr_1x1.conv.weight", "block2.rbr_dense.conv.weight", "conv2.bias", "block3.rbr_dense.weight",
        "block3.rbr_1x1.bias", "fc.weight", "fc.bias");
    assertThat(state).doesNotContainKey("conv1.bias");
    assertThat(state).doesNotContainKey("block2.rbr_identity.weight");
    assertThat(state.get("block2.rbr_dense.conv.weight").shape()).isEqualTo(new int[] {6, 2, 3, 3});
    assertThat(state.get("fc.weight").shape()).isEqualTo(new int[] {5, 6});
    Object accessor = m.getClass().getMethod("block2").invoke(m);
    assertThat(accessor).isSameInstanceAs(m.layers().get("block2"));
    Tensor out = m.forward(Tensor.zeros(3, 2, 10, 9));
    assertThat(out.shape()).isEqualTo(new int[] {3, 5});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> m.forward(Tensor.zeros(3, 2, 9, 10)));
    assertThat(e).hasMessageThat().contains("[N, 2, 10, 9]");
    assertThat(e).hasMessageThat().contains("[3, 2, 9, 10]");
    assertThat(m).isInstanceOf(DeclaredObjective.class);
    Objective objective = ((DeclaredObjective) m).objective();
    assertThat(objective.toString()).isEqualTo("RDropObjective[alpha=0.5, klReduction=BATCHMEAN]");
    assertThat(Objectives.forModel(m).toString()).isEqualTo(objective.toString());
    assertThat(Objectives.forModel(create("NoDropout", 1)).toString()).startsWith("CrossEntropyObjective[");
  }

  /** Train a few steps (so BN statistics move), then the fused network must equal the eval-mode one. */
  @Test
  void fusedNetworkEqualsEvalNetwork() throws Exception {
    int compared = 0;
    for (String name : List.of("Full", "NoDropout")) {
      SequentialModel m = create(name, 11);
      SplittableRandom r = new SplittableRandom(5);
      int[] in = m.inputShape();
      for (int step = 0; step < 4; step++) {
        Tensor x = random(r, 6, in[0], in[1], in[2]);
        Tensor y = m.forward(x);
        m.zeroGrad();
        m.backward(random(r, y.shape()));
        for (Parameter p : m.namedParameters().values()) {
          float[] d = p.data().data();
          float[] g = p.grad().data();
          for (int i = 0; i < d.length; i++) {
            d[i] -= 0.05f * g[i];
          }
          p.markChanged();
        }
      }
      m.eval();
      Module fused = (Module) m.getClass().getMethod("fuse").invoke(m);
      assertThat(fused.isTraining()).isFalse();
      assertThat(fused).isNotInstanceOf(DeclaredObjective.class); // for inference only
      assertThrows(NoSuchMethodException.class, () -> fused.getClass().getMethod("objective"));
      Tensor x = random(r, 5, in[0], in[1], in[2]);
      float[] a = m.forward(x).data();
      float[] b = fused.forward(x).data();
      assertThat(b.length).isEqualTo(a.length);
      for (int i = 0; i < a.length; i++) {
        assertThat((double) b[i]).isWithin(1e-5 + 1e-5 * Math.abs(a[i])).of(a[i]);
        compared++;
      }
      // the fused network has no dropout and no separate batch norms
      Map<String, Tensor> fusedState = fused.stateDict();
      assertThat(fusedState.keySet().stream().filter(k -> k.startsWith("drop") || k.startsWith("bn1")
          || k.startsWith("relu") || (name.equals("NoDropout") && k.startsWith("bn"))).count()).isEqualTo(0);
    }
    assertThat(compared).isEqualTo(5 * 5 + 5 * 3);
  }

  /**
   * {@code backwardParameters} (what the objectives call) leaves the same parameter gradients as
   * {@code backward}, bit for bit, whether the first layer is a conv or a RepConv block with BatchNorm.
   */
  @Test
  void backwardParametersEqualsBackward() throws Exception {
    int compared = 0;
    for (String name : new String[] {"Full", "NoDropout"}) {
      SequentialModel a = create(name, 5);
      SequentialModel b = create(name, 5);
      int[] in = a.inputShape();
      SplittableRandom r = new SplittableRandom(11);
      Tensor x = random(r, 3, in[0], in[1], in[2]);
      Tensor y = a.forward(x);
      Tensor g = random(r, y.shape());
      b.forward(x);
      a.backward(g);
      b.backwardParameters(g);
      for (Map.Entry<String, Parameter> e : a.namedParameters().entrySet()) {
        float[] expected = e.getValue().grad().data();
        float[] actual = b.namedParameters().get(e.getKey()).grad().data();
        assertWithMessage("%s.%s", name, e.getKey()).that(actual).usingExactEquality().containsExactly(expected)
            .inOrder();
        compared++;
      }
      float[] first = a.namedParameters().values().iterator().next().grad().data();
      double norm = 0;
      for (float v : first) {
        norm += Math.abs(v);
      }
      assertWithMessage("%s: first parameter's gradient", name).that(norm).isGreaterThan(0.0);
    }
    assertThat(compared).isEqualTo(create("Full", 1).namedParameters().size()
        + create("NoDropout", 1).namedParameters().size());
  }

  /**
   * The whole network's backward in training mode against central differences (BN in batch mode): for the
   * input and each parameter, the directional derivative along a random direction.
   */
  @Test
  void backwardMatchesFiniteDifferences() throws Exception {
    SequentialModel m = create("NoDropout", 3);
    SplittableRandom r = new SplittableRandom(9);
    Tensor x = random(r, 4, 3, 6, 6);
    Tensor proj = random(r, 4, 3);
    Tensor y = m.forward(x);
    m.zeroGrad();
    Tensor gx = m.backward(proj);
    List<float[]> values = new ArrayList<>();
    List<float[]> grads = new ArrayList<>();
    List<Runnable> written = new ArrayList<>();
    values.add(x.data());
    grads.add(gx.data().clone());
    written.add(() -> {});
    for (Parameter p : m.namedParameters().values()) {
      values.add(p.data().data());
      grads.add(p.grad().data().clone());
      written.add(p::markChanged);
    }
    int checked = 0;
    for (int v = 0; v < values.size(); v++) {
      float[] data = values.get(v);
      float[] saved = data.clone();
      double[] dir = new double[data.length];
      double analytic = 0;
      for (int i = 0; i < data.length; i++) {
        dir[i] = r.nextDouble() * 2 - 1;
        analytic += dir[i] * grads.get(v)[i];
      }
      double h = 3e-4; // small enough that few ReLU/max-pool kinks are crossed, large for float noise
      for (int i = 0; i < data.length; i++) {
        data[i] = (float) (saved[i] + h * dir[i]);
      }
      written.get(v).run();
      double plus = dot(m.forward(x), proj);
      for (int i = 0; i < data.length; i++) {
        data[i] = (float) (saved[i] - h * dir[i]);
      }
      written.get(v).run();
      double minus = dot(m.forward(x), proj);
      System.arraycopy(saved, 0, data, 0, data.length);
      written.get(v).run();
      double numeric = (plus - minus) / (2 * h);
      assertThat(Math.abs(numeric - analytic)).isLessThan(2e-2 * Math.max(1.0, Math.abs(analytic)));
      checked++;
    }
    assertThat(checked).isEqualTo(values.size());
    assertThat(y.shape()).isEqualTo(new int[] {4, 3});
  }

  private static double dot(Tensor a, Tensor b) {
    double s = 0;
    for (int i = 0; i < a.size(); i++) {
      s += (double) a.data()[i] * b.data()[i];
    }
    return s;
  }
}
