package dev.kiln.processor.repconv;

import dev.kiln.tensor.Tensor;
import java.util.Arrays;

/**
 * Element-wise comparison, relative with an absolute floor tied to the tensor's magnitude:
 * {@code |actual - expected| <= rel * max(|expected|, FLOOR * max(1, max|expected|))}. The floor covers
 * elements that cancel to nearly zero, where float rounding of the (much larger) partial sums dominates.
 */
final class Close {
  /** The floor, as a fraction of the tensor's largest magnitude. */
  static final double FLOOR = 0.1;

  private Close() {}

  /** Fails with the name, index and both values of the first element out of tolerance. */
  static void assertClose(String what, Tensor expected, Tensor actual, double rel) {
    if (!Arrays.equals(expected.shape(), actual.shape())) {
      throw new AssertionError(what + ": expected shape " + Arrays.toString(expected.shape()) + " but got "
          + Arrays.toString(actual.shape()));
    }
    float[] e = expected.data();
    float[] a = actual.data();
    double scale = 1.0;
    for (float v : e) {
      scale = Math.max(scale, Math.abs(v));
    }
    double floor = FLOOR * scale;
    for (int i = 0; i < e.length; i++) {
      double err = Math.abs((double) a[i] - e[i]);
      if (!(err <= rel * Math.max(Math.abs(e[i]), floor))) {
        throw new AssertionError(what + "[" + i + "]: expected " + e[i] + " but got " + a[i] + " (error " + err
            + ", allowed " + rel * Math.max(Math.abs(e[i]), floor) + ")");
      }
    }
  }

  /** The largest absolute element-wise difference. */
  static double maxAbsDiff(Tensor x, Tensor y) {
    double m = 0;
    for (int i = 0; i < x.size(); i++) {
      m = Math.max(m, Math.abs((double) x.data()[i] - y.data()[i]));
    }
    return m;
  }
}
