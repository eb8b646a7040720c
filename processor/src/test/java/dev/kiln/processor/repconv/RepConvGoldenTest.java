package dev.kiln.processor.repconv;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.kiln.processor.testing.CaseCounts.count;
import static dev.kiln.testing.NumericAssertions.assertClose;

import com.google.testing.compile.JavaFileObjects;
import dev.kiln.annotation.Activation;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.ConvKernel;
import dev.kiln.nn.Module;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.ReferenceConv2d;
import dev.kiln.nn.RepVggBlock;
import dev.kiln.processor.testing.InMemoryCompiler;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.Golden;
import dev.kiln.testing.NumericAssertions;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code @RepConv} against PyTorch: every golden case (written by {@code tools/golden/repvgg_golden.py} from an
 * official-structure RepVGG block) is declared as an interface in one in-process compilation; the generated
 * block loads the PyTorch state dict as it is, and its training step (forward, input and parameter gradients,
 * running statistics), eval forward and fused deploy kernel are compared with PyTorch's.
 */
class RepConvGoldenTest {
  static final double REL = 1e-4;
  static final double FUSED_VS_EVAL_REL = 1e-5;
  /** Relative error {@code rel}, the floor a tenth of the largest magnitude or of 1 ({@link NumericAssertions}). */
  static NumericAssertions.Tolerance tolerance(double rel) {
    return NumericAssertions.relative(rel).floorOfLargest(0.1).scaleAtLeast(1);
  }
  static final int EXPECTED_CASES = 12;
  static final String PKG = "golden";
  static final String OUTER = "RepConvCases";

  record GoldenCase(String name, Golden golden) {
    Map<String, String> meta() {
      return golden.metadata();
    }

    int attr(String key) {
      return Integer.parseInt(meta().get(key));
    }

    boolean flag(String key) {
      return Boolean.parseBoolean(meta().get(key));
    }

    /** A fresh copy of the golden tensor {@code key}. */
    Tensor tensor(String key) {
      return golden.tensor(key);
    }

    List<String> stateKeys() {
      return List.of(meta().get("state_keys").split(","));
    }

    /** The PyTorch state dict exactly as stored (fresh copies, so a test cannot alter the golden data). */
    Map<String, Tensor> stateDict() {
      Map<String, Tensor> state = new LinkedHashMap<>();
      for (String key : stateKeys()) {
        state.put(key, tensor(key));
      }
      return state;
    }

    String annotation() {
      return "@RepConv(inChannels = " + attr("in_channels") + ", outChannels = " + attr("out_channels")
          + ", kernelSize = " + attr("kernel_size") + ", stride = " + attr("stride") + ", groups = " + attr("groups")
          + ", batchNorm = " + flag("batch_norm") + ", activation = Activation." + meta().get("activation")
          + ", height = " + attr("height") + ", width = " + attr("width") + ")";
    }
  }

  static List<GoldenCase> cases;
  static ClassLoader loader;

  static Path goldenDir() throws URISyntaxException {
    return Path.of(RepConvGoldenTest.class.getResource("/golden/repconv/cases.txt").toURI()).getParent();
  }

  @BeforeAll
  static void compileAllCases() throws IOException, URISyntaxException {
    cases = new ArrayList<>();
    Path dir = goldenDir();
    for (String name : Files.readAllLines(dir.resolve("cases.txt"))) {
      if (name.isBlank()) {
        continue;
      }
      cases.add(new GoldenCase(name, Golden.load("/golden/repconv/" + name + ".safetensors")));
    }
    StringBuilder src = new StringBuilder("package " + PKG + ";\n\n")
        .append("import dev.kiln.annotation.Activation;\n")
        .append("import dev.kiln.annotation.RepConv;\n\n")
        .append("public interface ").append(OUTER).append(" {\n");
    for (GoldenCase c : cases) {
      src.append("  ").append(c.annotation()).append("\n  interface ").append(c.name()).append(" {}\n\n");
    }
    // The seed notes' example: no BatchNorm, 2 channels, 9x9.
    src.append("  @RepConv(inChannels = 2, outChannels = 2, batchNorm = false, activation = Activation.NONE,"
        + " height = 9, width = 9)\n  interface Seed {}\n}\n");
    loader = InMemoryCompiler.compileAndLoad(JavaFileObjects.forSourceString(PKG + "." + OUTER, src.toString()));
  }

  static RepVggBlock block(String caseName) {
    return InMemoryCompiler.newInstance(loader, PKG + "." + OUTER + "_" + caseName + "Block");
  }

  @Test
  void goldenCasesCoverTheAttributeSpace() {
    assertThat(cases).hasSize(EXPECTED_CASES);
    assertThat(count(cases, c -> c.flag("batch_norm"))).isEqualTo(8);
    assertThat(count(cases, c -> c.flag("identity"))).isEqualTo(8);
    assertThat(count(cases, c -> c.attr("stride") == 2)).isEqualTo(3);
    assertThat(count(cases, c -> c.attr("groups") > 1 && c.attr("groups") < c.attr("in_channels"))).isEqualTo(3);
    assertThat(count(cases, c -> c.attr("groups") == c.attr("in_channels") && c.attr("groups") > 1)).isEqualTo(4);
    assertThat(count(cases, c -> c.attr("kernel_size") == 5)).isEqualTo(3);
    assertThat(count(cases, c -> c.meta().get("activation").equals("RELU"))).isEqualTo(8);
    assertThat(count(cases, c -> c.attr("height") != c.attr("width"))).isEqualTo(9);
  }

  @Test
  void everyCaseMatchesPyTorch() {
    List<String> failures = new ArrayList<>();
    int compared = 0;
    for (GoldenCase c : cases) {
      try {
        checkCase(c);
        compared++;
      } catch (AssertionError | RuntimeException e) {
        failures.add(c.name() + ": " + e);
      }
    }
    assertWithMessage("failed cases").that(failures).isEmpty();
    assertThat(compared).isEqualTo(EXPECTED_CASES);
  }

  private static void checkCase(GoldenCase c) {
    RepVggBlock block = block(c.name());
    assertWithMessage("identity branch").that(block.hasIdentity()).isEqualTo(c.flag("identity"));
    assertWithMessage("batch norm").that(block.hasBatchNorm()).isEqualTo(c.flag("batch_norm"));
    // The official key names, in PyTorch's order; then the PyTorch state dict loads as it is.
    assertThat(new ArrayList<>(block.stateDict().keySet())).containsExactlyElementsIn(c.stateKeys()).inOrder();
    block.loadStateDict(c.stateDict());
    Set<String> nonState = new LinkedHashSet<>(c.golden().keys());
    nonState.removeAll(c.stateKeys());
    for (String key : nonState) {
      assertWithMessage("golden key %s", key).that(key.matches(
          "input|grad_output|train_output|grad_input|eval_output|fused_output|fused\\.(weight|bias)|(grad|after)\\..+"))
          .isTrue();
    }

    // Training step.
    assertThat(block.isTraining()).isTrue();
    Tensor input = c.tensor("input");
    Tensor out = block.forward(input.copy());
    assertClose("train_output", c.tensor("train_output"), out, tolerance(REL));
    Tensor gradInput = block.backward(c.tensor("grad_output").copy());
    assertClose("grad_input", c.tensor("grad_input"), gradInput, tolerance(REL));
    Set<String> gradKeys = new LinkedHashSet<>();
    for (Map.Entry<String, Parameter> p : block.namedParameters().entrySet()) {
      gradKeys.add("grad." + p.getKey());
      assertClose("grad." + p.getKey(), c.tensor("grad." + p.getKey()), p.getValue().grad(), tolerance(REL));
    }
    assertThat(gradKeys).containsExactlyElementsIn(nonState.stream().filter(k -> k.startsWith("grad.")).toList());

    // Running statistics after the step.
    Map<String, Tensor> state = block.stateDict();
    int buffers = 0;
    for (String key : nonState) {
      if (!key.startsWith("after.")) {
        continue;
      }
      String name = key.substring("after.".length());
      Tensor actual = state.get(name);
      assertWithMessage("state key %s", name).that(actual).isNotNull();
      if (name.endsWith("num_batches_tracked")) {
        assertWithMessage(name).that(actual.shape()).isEmpty();
        assertWithMessage(name).that(actual.data()[0]).isEqualTo(c.tensor(key).data()[0]);
      } else {
        assertClose(key, c.tensor(key), actual, tolerance(REL));
      }
      buffers++;
    }
    int bns = !c.flag("batch_norm") ? 0 : c.flag("identity") ? 3 : 2;
    assertWithMessage("running buffers compared").that(buffers).isEqualTo(3 * bns);

    // Eval mode and the fused deploy kernel.
    block.eval();
    Tensor evalOut = block.forward(input.copy());
    assertClose("eval_output", c.tensor("eval_output"), evalOut, tolerance(REL));
    ConvKernel kernel = fuse(block);
    assertThat(kernel.isTraining()).isFalse();
    assertThat(kernel.activation()).isEqualTo(Activation.valueOf(c.meta().get("activation")));
    assertClose("fused.weight", c.tensor("fused.weight"), kernel.weight().data(), tolerance(REL));
    assertClose("fused.bias", c.tensor("fused.bias"), kernel.bias().data(), tolerance(REL));
    Tensor fusedOut = kernel.forward(input.copy());
    assertClose("fused_output", c.tensor("fused_output"), fusedOut, tolerance(REL));
    assertClose("fused vs eval block", evalOut, fusedOut, tolerance(FUSED_VS_EVAL_REL));
  }

  /** {@code FooBlock.fuse()} is generated with the concrete return type; call it without reflection tricks. */
  static ConvKernel fuse(RepVggBlock block) {
    try {
      Object kernel = block.getClass().getMethod("fuse").invoke(block);
      assertThat(kernel.getClass().getSimpleName()).endsWith("Kernel");
      assertThat(kernel).isInstanceOf(ConvKernel.class);
      return (ConvKernel) kernel;
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("fuse()", e);
    }
  }

  /**
   * The seed notes' check: without BatchNorm, on a 2-channel 9x9 input of ones, the 3x3 + 1x1 + identity
   * branches equal one 3x3 convolution whose weight is {@code W3 + pad(W1) + I} and bias {@code b3 + b1} —
   * built here by hand and run through {@link ReferenceConv2d}, and compared with the fused kernel.
   */
  @Test
  void seedBranchesEqualOneFusedConvolution() {
    RepVggBlock block = block("Seed");
    assertThat(block.hasIdentity()).isTrue();
    assertThat(block.hasBatchNorm()).isFalse();
    assertThat(block.stateDict().keySet())
        .containsExactly("rbr_dense.weight", "rbr_dense.bias", "rbr_1x1.weight", "rbr_1x1.bias").inOrder();
    Map<String, Tensor> state = block.stateDict();
    float[] w3 = state.get("rbr_dense.weight").data();
    float[] w1 = state.get("rbr_1x1.weight").data();
    float[] b3 = state.get("rbr_dense.bias").data();
    float[] b1 = state.get("rbr_1x1.bias").data();
    assertThat(state.get("rbr_dense.weight").shape()).isEqualTo(new int[] {2, 2, 3, 3});
    assertThat(state.get("rbr_1x1.weight").shape()).isEqualTo(new int[] {2, 2, 1, 1});
    float[] weight = w3.clone();
    float[] bias = new float[2];
    for (int o = 0; o < 2; o++) {
      bias[o] = b3[o] + b1[o];
      for (int i = 0; i < 2; i++) {
        int centre = (o * 2 + i) * 9 + 4;
        weight[centre] += w1[o * 2 + i] + (o == i ? 1f : 0f);
      }
    }
    ReferenceConv2d reference = ReferenceConv2d.builder(ConvGeometry.builder().inChannels(2).outChannels(2)
        .inputSize(9, 9).kernel(3, 3).padding(1, 1, 1, 1).build()).build();
    Map<String, Tensor> fusedState = new LinkedHashMap<>();
    fusedState.put("weight", Tensor.of(weight, 2, 2, 3, 3));
    fusedState.put("bias", Tensor.of(bias, 2));
    reference.loadStateDict(fusedState);
    reference.eval();

    Tensor ones = Tensor.zeros(1, 2, 9, 9).fill(1f);
    block.eval();
    Tensor blockOut = block.forward(ones);
    ConvKernel kernel = fuse(block);
    Tensor kernelOut = kernel.forward(ones);
    Tensor referenceOut = reference.forward(ones);
    assertThat(blockOut.shape()).isEqualTo(new int[] {1, 2, 9, 9});
    assertClose("fused kernel weight", fusedState.get("weight"), kernel.weight().data(), tolerance(1e-6));
    assertClose("fused kernel bias", fusedState.get("bias"), kernel.bias().data(), tolerance(1e-6));
    assertClose("fused kernel vs block", blockOut, kernelOut, tolerance(FUSED_VS_EVAL_REL));
    assertClose("reference conv vs block", blockOut, referenceOut, tolerance(FUSED_VS_EVAL_REL));
    // Ones make every interior pixel the same: sum of the fused 3x3 weights plus the bias.
    for (int o = 0; o < 2; o++) {
      double expected = bias[o];
      for (int i = 0; i < 18; i++) {
        expected += weight[o * 18 + i];
      }
      assertThat((double) blockOut.data()[o * 81 + 4 * 9 + 4]).isWithin(1e-5).of(expected);
    }
    // Training mode is the same function without BatchNorm.
    block.train(true);
    assertClose("training-mode block", blockOut, block.forward(ones), tolerance(FUSED_VS_EVAL_REL));
    assertThat(Arrays.equals(kernelOut.data(), new float[kernelOut.size()])).isFalse();
  }

  /** The generated classes obey the module contract of SPEC §4. */
  @Test
  void generatedClassesImplementTheInterfaceAndModule() throws ReflectiveOperationException {
    for (GoldenCase c : cases) {
      Class<?> iface = loader.loadClass(PKG + "." + OUTER + "$" + c.name());
      Class<?> blockClass = loader.loadClass(PKG + "." + OUTER + "_" + c.name() + "Block");
      Class<?> kernelClass = loader.loadClass(PKG + "." + OUTER + "_" + c.name() + "Kernel");
      for (Class<?> k : List.of(blockClass, kernelClass)) {
        assertWithMessage(k.getName()).that(iface.isAssignableFrom(k)).isTrue();
        assertWithMessage(k.getName()).that(Module.class.isAssignableFrom(k)).isTrue();
        assertWithMessage(k.getName()).that(java.lang.reflect.Modifier.isFinal(k.getModifiers())).isTrue();
        k.getConstructor(long.class);
      }
      assertThat(blockClass.getMethod("fuse").getReturnType()).isEqualTo(kernelClass);
      // Different seeds give different weights; the same seed the same weights.
      Module a = (Module) blockClass.getConstructor(long.class).newInstance(7L);
      Module b = (Module) blockClass.getConstructor(long.class).newInstance(7L);
      Module d = (Module) blockClass.getConstructor(long.class).newInstance(8L);
      String key = c.flag("batch_norm") ? "rbr_dense.conv.weight" : "rbr_dense.weight";
      assertThat(a.stateDict().get(key).data()).isEqualTo(b.stateDict().get(key).data());
      assertThat(Arrays.equals(a.stateDict().get(key).data(), d.stateDict().get(key).data())).isFalse();
    }
  }
}
