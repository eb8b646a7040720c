package dev.kiln.testing;

import dev.kiln.tensor.Tensor;
import java.util.Arrays;

/**
 * The tests' one element-wise tolerance (shared by every module through kiln-runtime's test jar): relative,
 * with a floor tied to the tensor's largest expected magnitude,
 * {@code |actual - expected| <= max(rel * max(|expected|, floor * max(minScale, max|expected|), 1e-12), absolute)}.
 * The floor covers values that cancel to nearly zero, where the float rounding of the (much larger) partial
 * sums dominates; {@code minScale} 1 keeps it absolute for tensors whose values are all small. An expected
 * NaN must be a NaN.
 */
public final class NumericAssertions {
  /** What a float kernel keeps against a double-precision reference. */
  public static final Tolerance KERNEL = relative(1e-4).floorOfLargest(0.1).scaleAtLeast(1);

  private NumericAssertions() {}

  /**
   * A tolerance: relative error {@code rel}, a floor at {@code floor} times the larger of {@code minScale}
   * and the largest expected magnitude, and an absolute error always allowed.
   */
  public record Tolerance(double rel, double floor, double minScale, double absolute) {
    /** The same tolerance with the floor at {@code fraction} of the largest expected magnitude. */
    public Tolerance floorOfLargest(double fraction) {
      return new Tolerance(rel, fraction, minScale, absolute);
    }

    /** The same tolerance with the floor's scale never below {@code scale}. */
    public Tolerance scaleAtLeast(double scale) {
      return new Tolerance(rel, floor, scale, absolute);
    }

    /** The same tolerance, any error up to {@code error} also allowed. */
    public Tolerance orAbsolute(double error) {
      return new Tolerance(rel, floor, minScale, error);
    }

    /** The largest error allowed for {@code expected}, in a tensor whose largest magnitude is {@code largest}. */
    double at(double expected, double largest) {
      return Math.max(rel * Math.max(Math.max(Math.abs(expected), floor * Math.max(minScale, largest)), 1e-12),
          absolute);
    }
  }

  /** Relative error {@code rel} without a floor (see {@link Tolerance}). */
  public static Tolerance relative(double rel) {
    return new Tolerance(rel, 0, 0, 0);
  }

  /** {@code |actual - expected| <= rel * max(|expected|, 1e-6)}. */
  public static void assertClose(String what, double expected, double actual, double rel) {
    double tol = rel * Math.max(Math.abs(expected), 1e-6);
    if (!(Math.abs(actual - expected) <= tol)) {
      throw new AssertionError(what + ": expected " + expected + " but got " + actual + " (tolerance " + tol + ")");
    }
  }

  /** A kernel's result against a reference's, within {@link #KERNEL}. */
  public static void assertClose(String what, Tensor expected, Tensor actual) {
    assertClose(what, expected, actual, KERNEL);
  }

  /** Same shape, and every element within {@code tolerance}. */
  public static void assertClose(String what, Tensor expected, Tensor actual, Tolerance tolerance) {
    float[] e = expected.data();
    double[] widened = new double[e.length];
    for (int i = 0; i < e.length; i++) {
      widened[i] = e[i];
    }
    assertClose(what, expected.shape(), widened, actual, tolerance);
  }

  /** {@code actual} has {@code expectedShape}, and every element is within {@code tolerance}. */
  public static void assertClose(String what, int[] expectedShape, double[] expected, Tensor actual,
      Tolerance tolerance) {
    if (!Arrays.equals(expectedShape, actual.shape())) {
      throw new AssertionError(what + ": expected shape " + Tensor.shapeString(expectedShape) + " but got "
          + Tensor.shapeString(actual.shape()));
    }
    double maxAbs = 0;
    for (double e : expected) {
      if (!Double.isNaN(e)) {
        maxAbs = Math.max(maxAbs, Math.abs(e));
      }
    }
    float[] a = actual.data();
    for (int i = 0; i < expected.length; i++) {
      if (Double.isNaN(expected[i])) {
        if (!Float.isNaN(a[i])) {
          throw new AssertionError(what + "[" + i + "]: expected NaN but got " + a[i]);
        }
        continue;
      }
      double tol = tolerance.at(expected[i], maxAbs);
      if (!(Math.abs(a[i] - expected[i]) <= tol)) {
        throw new AssertionError(what + "[" + i + "]: expected " + expected[i] + " but got " + a[i] + " (error "
            + Math.abs(a[i] - expected[i]) + ", tolerance " + tol + ")");
      }
    }
  }

  /**
   * The same floats bit for bit (NaNs by their bits), naming the first element that differs: a whole-array
   * comparison's failure message for arrays of a layer's size exhausted the heap.
   */
  /**
   * The largest absolute difference between {@code actual} and {@code expected} over the largest magnitude of
   * {@code expected} (at least 1e-6): a tolerance relative to the output's scale, for sums in another order.
   */
  public static double relativeError(float[] actual, float[] expected) {
    com.google.common.truth.Truth.assertThat(actual.length).isEqualTo(expected.length);
    double maxDiff = 0;
    double maxAbs = 0;
    for (int i = 0; i < expected.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs((double) actual[i] - expected[i]));
      maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
    }
    return maxDiff / Math.max(maxAbs, 1e-6);
  }

  public static void assertSameBits(String what, float[] expected, float[] actual) {
    int differs = Arrays.mismatch(expected, actual);
    if (differs >= 0) {
      throw new AssertionError(what + ": element " + differs + " is "
          + (differs < actual.length ? actual[differs] : "missing") + ", expected "
          + (differs < expected.length ? expected[differs] : "nothing") + " (lengths " + expected.length + " and "
          + actual.length + ")");
    }
  }
}
