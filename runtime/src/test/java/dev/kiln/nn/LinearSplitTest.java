package dev.kiln.nn;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Linear's forward split over rows, row blocks and parts of the output features (small batches on several
 * threads) gives every output exactly the single sum {@code b[o] + x[r, 0] * W[o, 0] + ...} in float, in the
 * order of the inputs, for batch sizes around the row-block size and thread counts 1-3.
 */
class LinearSplitTest {
  private final int savedThreads = Parallel.threads();

  @AfterEach
  void restoreThreads() {
    Parallel.setThreads(savedThreads);
  }

  @Test
  void everySplitGivesTheSequentialSum() {
    int out = 1000;
    SplittableRandom r = new SplittableRandom(21);
    int cases = 0;
    // 301 inputs: steps of 64 features, four at a time, and one left over; 7: one group of four and three
    for (int in : new int[] {301, 7}) {
      Linear fc = new Linear(in, out, true, 3);
      fc.eval();
      float[] w = fc.weight().data().data();
      float[] b = fc.bias().data().data();
      for (int n : new int[] {1, 2, 3, 8, 9, 17}) {
        Tensor x = TestTensors.uniform(r, 1, n, in);
        float[] expected = new float[n * out];
        for (int row = 0; row < n; row++) {
          for (int o = 0; o < out; o++) {
            float s = b[o];
            for (int i = 0; i < in; i++) {
              s += x.data()[row * in + i] * w[o * in + i];
            }
            expected[row * out + o] = s;
          }
        }
        for (int threads = 1; threads <= 3; threads++) {
          Parallel.setThreads(threads);
          Tensor y = fc.forward(x);
          assertThat(y.shape()).asList().containsExactly(n, out).inOrder();
          assertWithMessage("%s inputs, N=%s, %s threads", in, n, threads).that(y.data()).usingExactEquality()
              .containsExactly(expected).inOrder();
          cases++;
        }
      }
    }
    assertThat(cases).isEqualTo(36);
  }
}
