package dev.kiln.processor;

import static com.google.common.truth.Truth.assertThat;
import static com.google.testing.compile.CompilationSubject.assertThat;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import dev.kiln.nn.SequentialModel;
import dev.kiln.processor.testing.InMemoryCompiler;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.Map;
import java.util.SplittableRandom;
import javax.tools.JavaFileObject;
import org.junit.jupiter.api.Test;

/**
 * {@code @KeyPrefix}: the state-dict keys of the training network and of {@code FooModel.Fused} (whose own
 * state dict uses the official RepVGG deploy names), and every invalid prefix as one compile error on its value.
 */
class KeyPrefixTest {
  private static final String NET = "package test;\n"
      + "import dev.kiln.annotation.*;\n"
      + "import dev.kiln.nn.Module;\n"
      + "@Model(input = {3, 8, 8})\n"
      + "public interface Net {\n"
      + "  @KeyPrefix(\"stage0\") @RepConv(outChannels = 4, stride = 2) Module stage0();\n"
      + "  @KeyPrefix(\"stage1.0\") @RepConv(outChannels = 4) Module stage1_0();\n"
      + "  @KeyPrefix(\"head.conv\") @Conv2d(outChannels = 6, kernelSize = 1, bias = false) Module conv();\n"
      + "  @KeyPrefix(\"head.bn\") @BatchNorm2d Module bn();\n"
      + "  @ReLU Module relu();\n"
      + "  @GlobalAvgPool2d Module gap();\n"
      + "  @Flatten Module flatten();\n"
      + "  @Dropout(p = 0.1) Module dropout();\n"
      + "  @KeyPrefix(\"linear\") @Linear(outFeatures = 3) Module fc();\n"
      + "}\n";

  private static SequentialModel create(ClassLoader loader, String name, long seed) throws Exception {
    return (SequentialModel) loader.loadClass(name).getConstructor(long.class).newInstance(seed);
  }

  @Test
  void trainingAndFusedStateDictsUseThePrefixes() throws Exception {
    ClassLoader loader = InMemoryCompiler.compileAndLoad(JavaFileObjects.forSourceString("test.Net", NET));
    SequentialModel model = create(loader, "test.NetModel", 3);
    assertThat(model.stateDict().keySet()).containsAtLeast("stage0.rbr_dense.conv.weight",
        "stage1.0.rbr_identity.running_var", "stage1.0.rbr_1x1.bn.num_batches_tracked", "head.conv.weight",
        "head.bn.running_mean", "linear.weight", "linear.bias").inOrder();
    assertThat(model.layers().keySet()).containsExactly("stage0", "stage1_0", "conv", "bn", "relu", "gap", "flatten",
        "dropout", "fc").inOrder();
    // Randomized statistics, so that folding is not the identity.
    SplittableRandom r = new SplittableRandom(5);
    model.train(true);
    model.forward(TestTensors.uniform(r, 2, 8, 3, 8, 8));
    model.eval();

    SequentialModel fused = (SequentialModel) model.getClass().getMethod("fuse").invoke(model);
    Map<String, Tensor> deploy = fused.stateDict();
    assertThat(deploy.keySet()).containsExactly("stage0.rbr_reparam.weight", "stage0.rbr_reparam.bias",
        "stage1.0.rbr_reparam.weight", "stage1.0.rbr_reparam.bias", "head.conv.weight", "head.conv.bias",
        "linear.weight", "linear.bias").inOrder();

    // A deploy-form checkpoint loads into a new Fused network and gives the fused network's outputs exactly.
    SequentialModel loaded = create(loader, "test.NetModel$Fused", 9);
    assertThat(loaded.isTraining()).isFalse();
    loaded.loadStateDict(deploy);
    Tensor x = TestTensors.uniform(r, 2, 4, 3, 8, 8);
    Tensor expected = model.forward(x);
    assertThat(loaded.forward(x).data()).usingExactEquality().containsExactly(fused.forward(x).data()).inOrder();
    float[] e = expected.data();
    float[] a = loaded.forward(x).data();
    for (int i = 0; i < e.length; i++) {
      assertThat((double) a[i]).isWithin(1e-5 + 1e-5 * Math.abs(e[i])).of(e[i]);
    }
    SequentialModel defaultSeed = (SequentialModel) loader.loadClass("test.NetModel$Fused").getConstructor()
        .newInstance();
    assertThat(defaultSeed.stateDict().keySet()).isEqualTo(deploy.keySet());
  }

  @Test
  void fusedOfANetworkOfDropoutOnlyHasItsConstructors() throws Exception {
    ClassLoader loader = InMemoryCompiler.compileAndLoad(JavaFileObjects.forSourceString("test.Drop",
        "package test;\nimport dev.kiln.annotation.*;\nimport dev.kiln.nn.Module;\n"
            + "@Model(input = {4})\npublic interface Drop {\n  @Dropout Module dropout();\n}\n"));
    SequentialModel fused = create(loader, "test.DropModel$Fused", 1);
    Tensor x = Tensor.of(new float[] {1, 2, 3, 4}, 1, 4);
    assertThat(fused.forward(x).data()).isEqualTo(x.data());
    assertThat(fused.stateDict()).isEmpty();
  }

  private static JavaFileObject source(String layers) {
    return JavaFileObjects.forSourceString("test.Bad", "package test;\n"
        + "import dev.kiln.annotation.*;\n"
        + "import dev.kiln.nn.Module;\n"
        + "@Model(input = {4})\n"
        + "public interface Bad {\n" + layers + "}\n");
  }

  private static void expectError(String layers, String message, String line) {
    JavaFileObject src = source(layers);
    Compilation c = InMemoryCompiler.compile(src);
    assertThat(c).failed();
    assertThat(c).hadErrorCount(1);
    assertThat(c).hadErrorContaining(message).inFile(src).onLineContaining(line);
  }

  @Test
  void invalidSyntaxIsAnErrorOnTheValue() {
    for (String bad : new String[] {"", "stage1..0", ".a", "a.", "a b", "a-b", "é"}) {
      expectError("  @KeyPrefix(\"" + bad + "\")\n  @Linear(outFeatures = 2) Module fc();\n",
          "[kiln.key-prefix] @KeyPrefix \"" + bad + "\" must be names of letters, digits and underscores joined by "
              + "single dots", "@KeyPrefix(\"" + bad + "\")");
    }
  }

  @Test
  void duplicatePrefixesAreAnError() {
    expectError("  @KeyPrefix(\"linear\") @Linear(outFeatures = 2) Module a();\n"
            + "  @KeyPrefix(\n      \"linear\") @Linear(outFeatures = 2) Module b();\n",
        "[kiln.key-prefix] key prefix \"linear\" of layer b is already the key prefix of layer a", "      \"linear\")");
    // a prefix equal to another layer's method name
    expectError("  @Linear(outFeatures = 2) Module fc();\n"
            + "  @KeyPrefix(\"fc\") @Linear(outFeatures = 2) Module other();\n",
        "key prefix \"fc\" of layer other is already the key prefix of layer fc", "@KeyPrefix(\"fc\")");
  }

  @Test
  void nestedPrefixesAreAnError() {
    expectError("  @KeyPrefix(\"head\") @Linear(outFeatures = 2) Module a();\n"
            + "  @KeyPrefix(\"head.0\") @Linear(outFeatures = 2) Module b();\n",
        "key prefix \"head.0\" of layer b and \"head\" of layer a nest", "@KeyPrefix(\"head.0\")");
  }

  @Test
  void outsideAModelIsAnError() {
    JavaFileObject src = JavaFileObjects.forSourceString("test.Plain", "package test;\n"
        + "public interface Plain {\n  @dev.kiln.annotation.KeyPrefix(\"x\")\n  void run();\n}\n");
    Compilation c = InMemoryCompiler.compile(src);
    assertThat(c).hadErrorContaining("[kiln.layer-context] @KeyPrefix on method Plain.run() names a network layer's "
        + "state-dict keys").inFile(src).onLineContaining("@dev.kiln.annotation.KeyPrefix");
  }
}
