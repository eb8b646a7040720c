package dev.kiln.processor.testing;

import dev.kiln.tensor.Tensor;
import java.util.Arrays;

/**
 * Element-wise comparison with a relative tolerance and an absolute floor scaled to the tensor:
 * {@code |actual - expected| <= rel * |expected| + floor * max(1, max|expected|)}. The floor covers values
 * that cancel to near zero, where float rounding of the partial sums dominates.
 */
public final class Close {
  public static final double REL = 1e-4;
  public static final double FLOOR = 1e-5;

  private Close() {}

  /** Throws an {@link AssertionError} naming {@code what}, the index and both values on the first mismatch. */
  public static void assertClose(String what, Tensor expected, Tensor actual) {
    if (!Arrays.equals(expected.shape(), actual.shape())) {
      throw new AssertionError(what + ": expected shape " + Arrays.toString(expected.shape()) + " but got "
          + Arrays.toString(actual.shape()));
    }
    assertClose(what, expected.data(), actual.data());
  }

  public static void assertClose(String what, float[] expected, float[] actual) {
    if (expected.length != actual.length) {
      throw new AssertionError(what + ": expected " + expected.length + " values but got " + actual.length);
    }
    double scale = 1.0;
    for (float e : expected) {
      scale = Math.max(scale, Math.abs(e));
    }
    for (int i = 0; i < expected.length; i++) {
      double err = Math.abs((double) actual[i] - expected[i]);
      if (!(err <= REL * Math.abs(expected[i]) + FLOOR * scale)) {
        throw new AssertionError(what + "[" + i + "]: expected " + expected[i] + " but got " + actual[i]
            + " (error " + err + ")");
      }
    }
  }
}
