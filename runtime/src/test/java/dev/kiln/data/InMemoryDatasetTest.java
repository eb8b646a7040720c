package dev.kiln.data;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class InMemoryDatasetTest {
  @Test
  void validatesSizesAndLabels() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> InMemoryDataset.of(new float[5], new int[] {0, 1}, 2, 1, 3));
    assertThat(e).hasMessageThat().isEqualTo("2 samples of shape [1, 3] need 6 values but got 5");
    e = assertThrows(IllegalArgumentException.class, () -> InMemoryDataset.of(new float[2], new int[] {0, 2}, 2, 1));
    assertThat(e).hasMessageThat().isEqualTo("label 2 of sample 1 is outside [0, 2)");
    e = assertThrows(IllegalArgumentException.class, () -> InMemoryDataset.of(new float[0], new int[0], 2, 0));
    assertThat(e).hasMessageThat().contains("has a dimension < 1");
    e = assertThrows(IllegalArgumentException.class, () -> new Normalization(0f, 0f));
    assertThat(e).hasMessageThat().contains("std must be finite and positive but was 0.0");
  }

  @Test
  void subsetAndNormalizeCopy() {
    InMemoryDataset d = InMemoryDataset.of(new float[] {1, 2, 3, 4, 5, 6}, new int[] {0, 1, 2}, 3, 2);
    InMemoryDataset sub = d.subset(1, 3);
    assertThat(sub.size()).isEqualTo(2);
    float[] s = new float[2];
    sub.copySample(1, s, 0);
    assertThat(s).usingExactEquality().containsExactly(5f, 6f).inOrder();
    assertThat(sub.label(0)).isEqualTo(1);
    InMemoryDataset n = d.normalized(new Normalization(1f, 2f));
    n.copySample(2, s, 0);
    assertThat(s).usingExactEquality().containsExactly(2f, 2.5f).inOrder();
    d.copySample(2, s, 0);
    assertThat(s).usingExactEquality().containsExactly(5f, 6f).inOrder();
  }
}
