package dev.kiln.processor.repconv;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.testing.compile.JavaFileObjects;
import dev.kiln.nn.RepVggBlock;
import dev.kiln.processor.testing.InMemoryCompiler;
import dev.kiln.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Strict state-dict loading of generated RepConv blocks: every error names the key and the shapes. */
class RepConvStateDictTest {
  static ClassLoader loader;

  @BeforeAll
  static void compile() {
    loader = InMemoryCompiler.compileAndLoad(JavaFileObjects.forSourceString("sd.Blocks", String.join("\n",
        "package sd;",
        "import dev.kiln.annotation.RepConv;",
        "public interface Blocks {",
        "  @RepConv(inChannels = 4, outChannels = 4, height = 5, width = 5)",
        "  interface WithBn {}",
        "  @RepConv(inChannels = 4, outChannels = 6, stride = 2, batchNorm = false, height = 5, width = 5)",
        "  interface Plain {}",
        "}")));
  }

  static RepVggBlock block(String name) {
    return InMemoryCompiler.newInstance(loader, "sd.Blocks_" + name + "Block");
  }

  /** A deep copy of {@code block}'s state dict, with {@code fill} in every element. */
  static Map<String, Tensor> copyOf(RepVggBlock block, float fill) {
    Map<String, Tensor> copy = new LinkedHashMap<>();
    block.stateDict().forEach((k, v) -> copy.put(k, v.copy().fill(fill)));
    return copy;
  }

  /**
   * Loading {@code state} into {@code block} fails with a message containing every one of {@code messageParts},
   * and changes nothing.
   */
  static void assertLoadFails(RepVggBlock block, Map<String, Tensor> state, String... messageParts) {
    Map<String, Tensor> before = new LinkedHashMap<>();
    block.stateDict().forEach((k, v) -> before.put(k, v.copy()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> block.loadStateDict(state));
    // Nothing was changed by the failed load.
    block.stateDict().forEach((k, v) -> assertThat(v.data()).isEqualTo(before.get(k).data()));
    for (String part : messageParts) {
      assertThat(e).hasMessageThat().contains(part);
    }
  }

  @Test
  void keysFollowTheOfficialNames() {
    assertThat(List.copyOf(block("WithBn").stateDict().keySet())).containsExactly(
        "rbr_identity.weight", "rbr_identity.bias", "rbr_identity.running_mean", "rbr_identity.running_var",
        "rbr_identity.num_batches_tracked",
        "rbr_dense.conv.weight", "rbr_dense.bn.weight", "rbr_dense.bn.bias", "rbr_dense.bn.running_mean",
        "rbr_dense.bn.running_var", "rbr_dense.bn.num_batches_tracked",
        "rbr_1x1.conv.weight", "rbr_1x1.bn.weight", "rbr_1x1.bn.bias", "rbr_1x1.bn.running_mean",
        "rbr_1x1.bn.running_var", "rbr_1x1.bn.num_batches_tracked").inOrder();
    assertThat(List.copyOf(block("WithBn").namedParameters().keySet())).containsExactly(
        "rbr_identity.weight", "rbr_identity.bias", "rbr_dense.conv.weight", "rbr_dense.bn.weight",
        "rbr_dense.bn.bias", "rbr_1x1.conv.weight", "rbr_1x1.bn.weight", "rbr_1x1.bn.bias").inOrder();
    RepVggBlock plain = block("Plain");
    assertThat(List.copyOf(plain.stateDict().keySet()))
        .containsExactly("rbr_dense.weight", "rbr_dense.bias", "rbr_1x1.weight", "rbr_1x1.bias").inOrder();
    assertThat(plain.stateDict().get("rbr_dense.weight").shape()).isEqualTo(new int[] {6, 4, 3, 3});
    assertThat(plain.stateDict().get("rbr_1x1.weight").shape()).isEqualTo(new int[] {6, 4, 1, 1});
    assertThat(block("WithBn").stateDict().get("rbr_dense.bn.num_batches_tracked").shape()).isEmpty();
  }

  @Test
  void loadIsOrderInsensitiveAndCopiesValues() {
    RepVggBlock block = block("WithBn");
    Map<String, Tensor> source = copyOf(block, 0.25f);
    List<String> keys = new java.util.ArrayList<>(source.keySet());
    java.util.Collections.reverse(keys);
    Map<String, Tensor> reversed = new LinkedHashMap<>();
    keys.forEach(k -> reversed.put(k, source.get(k)));
    block.loadStateDict(reversed);
    block.stateDict().forEach((k, v) -> {
      for (float f : v.data()) {
        assertThat(f).isEqualTo(0.25f);
      }
    });
    source.get("rbr_dense.conv.weight").fill(9f);
    assertThat(block.stateDict().get("rbr_dense.conv.weight").data()[0]).isEqualTo(0.25f);
  }

  @Test
  void missingKeyIsNamedWithItsShape() {
    RepVggBlock block = block("WithBn");
    Map<String, Tensor> state = copyOf(block, 1f);
    state.remove("rbr_dense.bn.running_var");
    assertLoadFails(block, state, "missing key rbr_dense.bn.running_var", "[4]");
  }

  @Test
  void unexpectedKeyIsNamedWithItsShape() {
    RepVggBlock block = block("Plain");
    Map<String, Tensor> state = copyOf(block, 1f);
    state.put("rbr_identity.weight", Tensor.zeros(4));
    assertLoadFails(block, state, "unexpected key rbr_identity.weight", "[4]");
  }

  @Test
  void bnKeysDoNotLoadIntoThePlainBlock() {
    // A checkpoint of a BatchNorm block does not fit a block declared with batchNorm = false.
    assertLoadFails(block("Plain"), copyOf(block("WithBn"), 1f), "rbr_dense.");
  }

  @Test
  void wrongShapeNamesKeyAndBothShapes() {
    RepVggBlock block = block("Plain");
    Map<String, Tensor> state = copyOf(block, 1f);
    state.put("rbr_1x1.weight", Tensor.zeros(6, 4, 3, 3));
    assertLoadFails(block, state, "rbr_1x1.weight", "[6, 4, 1, 1]", "[6, 4, 3, 3]");
  }

  @Test
  void scalarNumBatchesTrackedMustStayScalar() {
    RepVggBlock block = block("WithBn");
    Map<String, Tensor> state = copyOf(block, 1f);
    state.put("rbr_1x1.bn.num_batches_tracked", Tensor.zeros(1));
    assertLoadFails(block, state, "rbr_1x1.bn.num_batches_tracked", "[]", "[1]");
  }

  @Test
  void inputShapeIsChecked() {
    RepVggBlock block = block("WithBn");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> block.forward(Tensor.zeros(2, 4, 5, 6)));
    assertThat(e).hasMessageThat().contains("[N, 4, 5, 5]");
    assertThat(e).hasMessageThat().contains("[2, 4, 5, 6]");
    RepVggBlock trained = block("Plain");
    Tensor x = Tensor.zeros(2, 4, 5, 5);
    trained.forward(x);
    IllegalArgumentException g = assertThrows(IllegalArgumentException.class,
        () -> trained.backward(Tensor.zeros(2, 6, 5, 5)));
    assertThat(g).hasMessageThat().contains("[2, 6, 3, 3]");
  }
}
