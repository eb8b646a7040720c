package dev.kiln.nn;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.Test;

class PackedWeightsTest {
  private static Parameter parameter() {
    return Parameter.of("weight", Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3));
  }

  @Test
  void columnsAndRowsOfTheMatrix() {
    Parameter p = parameter();
    float[][] columns = PackedWeights.columns(p, 2, 3).arrays();
    assertThat(columns).hasLength(3);
    assertThat(columns[0]).isEqualTo(new float[] {1, 4});
    assertThat(columns[1]).isEqualTo(new float[] {2, 5});
    assertThat(columns[2]).isEqualTo(new float[] {3, 6});
    float[][] rows = PackedWeights.rows(p, 2, 3).arrays();
    assertThat(rows).hasLength(2);
    assertThat(rows[0]).isEqualTo(new float[] {1, 2, 3});
    assertThat(rows[1]).isEqualTo(new float[] {4, 5, 6});
  }

  @Test
  void theCopyFollowsTheParameterVersion() {
    Parameter p = parameter();
    PackedWeights packed = PackedWeights.columns(p, 2, 3);
    float[][] first = packed.arrays();
    assertThat(packed.arrays()).isSameInstanceAs(first);
    p.data().data()[1] = 20;
    // Written without markChanged: the copy is not rebuilt (the documented contract of Parameter).
    assertThat(packed.arrays()[1]).isEqualTo(new float[] {2, 5});
    p.markChanged();
    float[][] second = packed.arrays();
    assertThat(second).isNotSameInstanceAs(first);
    assertThat(second[1]).isEqualTo(new float[] {20, 5});
    assertThat(first[1]).isEqualTo(new float[] {2, 5});
  }

  @Test
  void rejectsAShapeThatDoesNotFit() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PackedWeights.rows(parameter(), 4, 2));
    assertThat(e).hasMessageThat().contains("has 6 values, not 4 x 2");
  }

  @Test
  void transposesAcrossBlocksOfColumns() {
    int rows = 3;
    int cols = 150;
    float[] w = new float[rows * cols];
    for (int i = 0; i < w.length; i++) {
      w[i] = i;
    }
    float[][] columns = PackedWeights.columns(Parameter.of("w", Tensor.of(w, rows, cols)), rows, cols).arrays();
    int checked = 0;
    for (int k = 0; k < cols; k++) {
      for (int r = 0; r < rows; r++) {
        assertThat(columns[k][r]).isEqualTo((float) (r * cols + k));
        checked++;
      }
    }
    assertThat(checked).isEqualTo(450);
  }
}
