package dev.kiln.tensor;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** {@link Tensor}'s element counts, and {@link Tensor#maxAbsDifference}. */
class TensorTest {
  @Test
  void maxAbsDifference() {
    Tensor a = Tensor.of(new float[] {1f, 2f, -3f}, 3);
    assertThat(a.maxAbsDifference(Tensor.of(new float[] {1f, 2.5f, -3.25f}, 3))).isEqualTo(0.5);
    assertThat(a.maxAbsDifference(a.copy())).isEqualTo(0.0);
    // Computed in double: a tiny difference keeps its exact value.
    assertThat(Tensor.of(new float[] {1e-30f}, 1).maxAbsDifference(Tensor.zeros(1))).isEqualTo((double) 1e-30f);
    assertThat(a.maxAbsDifference(Tensor.of(new float[] {Float.NaN, 2f, -3f}, 3))).isNaN();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> a.maxAbsDifference(Tensor.zeros(1, 3)));
    assertThat(e).hasMessageThat().contains("expected shape [3] but got [1, 3]");
  }

  /** A zero dimension makes a tensor empty whatever the others (as in PyTorch); otherwise at most 2^31 - 1. */
  @Test
  void elementCounts() {
    assertThat(Tensor.zeros(65536, 65536, 0).size()).isEqualTo(0);
    assertThat(Tensor.of(new float[0], 0, Integer.MAX_VALUE, Integer.MAX_VALUE).shape())
        .asList().containsExactly(0, Integer.MAX_VALUE, Integer.MAX_VALUE).inOrder();
    IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
        () -> Tensor.of(new float[0], 65536, 65536, 1));
    assertThat(tooMany).hasMessageThat().isEqualTo("shape [65536, 65536, 1] has more than 2^31 elements");
    IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
        () -> Tensor.zeros(0, -1));
    assertThat(negative).hasMessageThat().isEqualTo("negative dimension in shape [0, -1]");
    IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class,
        () -> Tensor.of(new float[1], 2, 0));
    assertThat(mismatch).hasMessageThat().isEqualTo("shape [2, 0] needs 0 elements but data has 1");
  }
}
