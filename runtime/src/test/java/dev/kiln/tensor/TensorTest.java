package dev.kiln.tensor;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** {@link Tensor#maxAbsDifference}: the largest element-wise difference, NaN-propagating, shape-checked. */
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
}
