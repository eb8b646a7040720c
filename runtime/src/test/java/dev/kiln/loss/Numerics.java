package dev.kiln.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.tensor.Tensor;
import java.util.function.ToDoubleFunction;

/** Test-only comparison and finite-difference helpers. */
public final class Numerics {
  private Numerics() {}

  /** {@code |actual - expected| <= rtol * |expected|}, with a floor so that tiny values are not over-judged. */
  public static void assertClose(String what, double expected, double actual, double rtol) {
    double tol = rtol * Math.max(Math.abs(expected), 1e-6);
    if (!(Math.abs(actual - expected) <= tol)) {
      fail(what + ": expected " + expected + " but got " + actual + " (tolerance " + tol + ")");
    }
  }

  /**
   * Elementwise comparison: {@code |a - e| <= rtol * max(|e|, 1e-2 * max|expected|)}, NaN only where
   * expected is NaN. Shapes must agree.
   */
  public static void assertClose(String what, int[] expectedShape, double[] expected, Tensor actual, double rtol) {
    assertEquals(Tensor.shapeString(expectedShape), Tensor.shapeString(actual.shape()), what + " shape");
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
          fail(what + "[" + i + "]: expected NaN but got " + a[i]);
        }
        continue;
      }
      double tol = rtol * Math.max(Math.max(Math.abs(expected[i]), 1e-2 * maxAbs), 1e-12);
      if (!(Math.abs(a[i] - expected[i]) <= tol)) {
        fail(what + "[" + i + "]: expected " + expected[i] + " but got " + a[i] + " (tolerance " + tol + ")");
      }
    }
  }

  /**
   * Central differences of {@code f} with respect to every element of {@code x} (restored afterwards), step
   * {@code h}; the actual float step is used so the rounding of {@code x + h} does not bias the quotient.
   */
  public static double[] finiteDifference(float[] x, double h, ToDoubleFunction<float[]> f) {
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      float orig = x[i];
      float up = (float) (orig + h);
      float down = (float) (orig - h);
      x[i] = up;
      double fUp = f.applyAsDouble(x);
      x[i] = down;
      double fDown = f.applyAsDouble(x);
      x[i] = orig;
      out[i] = (fUp - fDown) / ((double) up - (double) down);
    }
    return out;
  }
}
