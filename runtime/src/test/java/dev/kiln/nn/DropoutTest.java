package dev.kiln.nn;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class DropoutTest {
  private static Tensor uniform(long seed, int... shape) {
    SplittableRandom r = new SplittableRandom(seed);
    Tensor t = Tensor.zeros(shape);
    for (int i = 0; i < t.size(); i++) {
      t.data()[i] = (float) (0.5 + r.nextDouble()); // never zero, so zeros in the output are drops
    }
    return t;
  }

  @Test
  void dropFractionIsPAndKeptValuesAreScaled() {
    int checkedP = 0;
    for (double p : new double[] {0.1, 0.3, 0.5, 0.9}) {
      Dropout d = new Dropout(p, 42);
      Tensor x = uniform(1, 4, 50, 25, 20); // 100,000 elements
      Tensor y = d.forward(x);
      int dropped = 0;
      int bothDropped = 0;
      float scale = 1f / (float) (1 - p);
      for (int i = 0; i < y.size(); i++) {
        float v = y.data()[i];
        if (v == 0f) {
          dropped++;
          if (i > 0 && y.data()[i - 1] == 0f) {
            bothDropped++;
          }
        } else {
          assertThat(v).isEqualTo(x.data()[i] * scale);
          assertThat((double) v).isWithin(1e-6 * v).of(x.data()[i] / (1 - p));
        }
      }
      double n = y.size();
      // 6 standard deviations of a binomial fraction is < 0.01 for n = 1e5
      assertThat(dropped / n).isWithin(0.01).of(p);
      // independence of neighbours: P(both dropped) = p^2
      assertThat(bothDropped / (n - 1)).isWithin(0.01).of(p * p);
      checkedP++;
    }
    assertThat(checkedP).isEqualTo(4);
  }

  @Test
  void evalIsIdentity() {
    Dropout d = new Dropout(0.5, 1);
    d.eval();
    Tensor x = uniform(2, 3, 4);
    Tensor y = d.forward(x);
    assertThat(y.shape()).isEqualTo(new int[] {3, 4});
    assertThat(y.data()).isEqualTo(x.data());
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> d.backward(y));
    assertThat(e).hasMessageThat().contains("training-mode forward");
  }

  @Test
  void zeroProbabilityIsIdentityInTraining() {
    Dropout d = new Dropout(0.0, 1);
    Tensor x = uniform(3, 2, 3, 2, 2);
    assertThat(d.forward(x).data()).isEqualTo(x.data());
    Tensor g = uniform(4, 2, 3, 2, 2);
    assertThat(d.backward(g).data()).isEqualTo(g.data());
  }

  @Test
  void sameSeedSameMasksAndSetSeedRestarts() {
    Dropout a = new Dropout(0.5, 7);
    Dropout b = new Dropout(0.5, 7);
    Dropout c = new Dropout(0.5, 8);
    Tensor x = uniform(5, 8, 100);
    float[] a1 = a.forward(x).data();
    float[] a2 = a.forward(x).data();
    assertThat(b.forward(x).data()).isEqualTo(a1);
    assertThat(b.forward(x).data()).isEqualTo(a2);
    assertThat(a2).isNotEqualTo(a1); // the stream moves on
    assertThat(c.forward(x).data()).isNotEqualTo(a1);
    a.setSeed(7);
    assertThat(a.forward(x).data()).isEqualTo(a1);
  }

  @Test
  void duplicatedBatchHalvesGetIndependentMasks() {
    Dropout d = new Dropout(0.5, 3);
    Tensor half = uniform(6, 16, 32);
    float[] both = new float[2 * half.size()];
    System.arraycopy(half.data(), 0, both, 0, half.size());
    System.arraycopy(half.data(), 0, both, half.size(), half.size());
    float[] y = d.forward(Tensor.of(both, 32, 32)).data();
    int differ = 0;
    for (int i = 0; i < half.size(); i++) {
      if ((y[i] == 0f) != (y[i + half.size()] == 0f)) {
        differ++;
      }
    }
    // for independent masks, half of the positions differ in expectation (256 of 512)
    assertThat(differ).isIn(com.google.common.collect.Range.closed(180, 332));
  }

  @Test
  void backwardUsesTheForwardMask() {
    Dropout d = new Dropout(0.3, 11);
    Tensor x = uniform(7, 5, 6, 7);
    Tensor y = d.forward(x);
    Tensor gy = uniform(8, 5, 6, 7);
    Tensor gx = d.backward(gy);
    float scale = 1f / 0.7f;
    int kept = 0;
    for (int i = 0; i < x.size(); i++) {
      if (y.data()[i] == 0f) {
        assertThat(gx.data()[i]).isEqualTo(0f);
      } else {
        assertThat(gx.data()[i]).isEqualTo(gy.data()[i] * scale);
        kept++;
      }
    }
    assertThat(kept).isGreaterThan(0);
    assertThat(kept).isLessThan(x.size());
    // a second backward gives the same gradient; the mask does not change until the next forward
    assertThat(d.backward(gy).data()).isEqualTo(gx.data());
  }

  @Test
  void setPDropsAsAFreshLayerWithThatProbability() {
    int compared = 0;
    for (double p : new double[] {0.0, 0.1, 0.5, 0.9}) {
      Dropout changed = new Dropout(0.3, 21);
      changed.setP(p);
      Dropout fresh = new Dropout(p, 21);
      assertThat(changed.p()).isEqualTo(p);
      Tensor x = uniform(9, 4, 300);
      assertThat(changed.forward(x).data()).isEqualTo(fresh.forward(x).data());
      Tensor g = uniform(10, 4, 300);
      assertThat(changed.backward(g).data()).isEqualTo(fresh.backward(g).data());
      compared++;
    }
    assertThat(compared).isEqualTo(4);
  }

  @Test
  void backwardKeepsTheScaleOfItsForward() {
    Dropout d = new Dropout(0.5, 13);
    Dropout reference = new Dropout(0.5, 13);
    Tensor x = uniform(11, 3, 40);
    d.forward(x);
    reference.forward(x);
    d.setP(0.2);
    Tensor g = uniform(12, 3, 40);
    assertThat(d.backward(g).data()).isEqualTo(reference.backward(g).data());
  }

  @Test
  void setPRejectsBadProbabilityAndKeepsTheOldOne() {
    Dropout d = new Dropout(0.3, 0);
    for (double p : new double[] {-0.1, 1.0, Double.NaN}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.setP(p));
      assertThat(e).hasMessageThat().isEqualTo("dropout probability must be in [0, 1) but was " + p);
      assertThat(d.p()).isEqualTo(0.3);
    }
  }

  @Test
  void rejectsBadProbabilityAndShapes() {
    for (double p : new double[] {-0.1, 1.0, 1.5, Double.NaN}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Dropout(p, 0));
      assertThat(e).hasMessageThat().contains("[0, 1)");
    }
    Dropout d = new Dropout(0.5, 0);
    d.forward(Tensor.zeros(2, 3));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.backward(Tensor.zeros(3, 2)));
    assertThat(e).hasMessageThat().contains("[2, 3]");
    assertThat(e).hasMessageThat().contains("[3, 2]");
    e = assertThrows(IllegalArgumentException.class, () -> d.forward(Tensor.scalar(1f)));
    assertThat(e).hasMessageThat().contains("expected shape [N, ...] but got []");
  }
}
