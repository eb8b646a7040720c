package dev.kiln.nn;

import dev.kiln.runtime.Parallel;

/**
 * Branch-free element-wise loops shared by the layers' training paths. A data-dependent branch per element
 * (ReLU of activations that are about half negative) is mispredicted about half of the time; the forms below
 * compile to straight-line (vectorizable) code and give the same values.
 */
final class Elementwise {

  private Elementwise() {}

  /** Runs {@code body} over {@code [0, size)}, split over the shared pool when {@code size} is large. */
  static void forRange(int size, Parallel.RangeBody body) {
    if (Parallel.worthSplitting(size, Parallel.MIN_ELEMENTS)) {
      Parallel.forRange(size, body);
    } else {
      body.run(0, size);
    }
  }

  /**
   * {@code out = y > 0f ? g : 0f} over the whole arrays, through {@code loops} (vectorized when the JVM has
   * the Vector API), split over the shared pool when large: the gradient through a ReLU whose output was
   * {@code y}.
   */
  static void reluGradient(PlaneLoops loops, float[] y, float[] g, float[] out) {
    forRange(g.length, (start, end) -> loops.reluGradient(y, g, out, start, end));
  }

  /**
   * {@code out = 0f < y && y < 6f ? g : 0f} over the whole arrays, split over the shared pool when large: the
   * gradient through a ReLU6 whose output was {@code y} (0 at the clamps and for NaN, as PyTorch's
   * {@code hardtanh_backward}).
   */
  static void relu6Gradient(float[] y, float[] g, float[] out) {
    forRange(g.length, (start, end) -> {
      for (int i = start; i < end; i++) {
        out[i] = y[i] > 0f && y[i] < 6f ? g[i] : 0f;
      }
    });
  }

  /**
   * {@code out[i] = y[i] > 0f ? g[i] : 0f} for {@code i} in {@code [from, to)}: the gradient of a ReLU
   * whose output was {@code y} (0 where {@code y} is 0, -0, negative or NaN, as in PyTorch).
   *
   * <p>On the bits {@code b} of {@code y}, {@code y > 0f} is {@code 0 < b <= 0x7f800000} (positive finite
   * values and +infinity; -0 and the negatives have the sign bit, NaNs lie above +infinity). Both bounds
   * become all-ones-or-zero masks by an arithmetic shift of a difference that cannot overflow except for
   * {@code b == Integer.MIN_VALUE} (-0), where the second mask is 0.
   */
  static void reluGradient(float[] y, float[] g, float[] out, int from, int to) {
    for (int i = from; i < to; i++) {
      int b = Float.floatToRawIntBits(y[i]);
      int mask = ((-b) >> 31) & ((b - 0x7f800001) >> 31);
      out[i] = Float.intBitsToFloat(Float.floatToRawIntBits(g[i]) & mask);
    }
  }
}
