package dev.kiln.nn;

import java.util.function.IntToDoubleFunction;

/** {@link PlaneLoops} in plain Java: double accumulation, four independent partial sums (a fixed order). */
final class ScalarPlaneLoops implements PlaneLoops {
  static final ScalarPlaneLoops INSTANCE = new ScalarPlaneLoops();

  private ScalarPlaneLoops() {}

  /** {@code "scalar"}: names the arithmetic path (recorded in checkpoints). */
  @Override
  public String toString() {
    return "scalar";
  }

  @Override
  public double sum(float[] x, int from, int to) {
    return fourPartialSums(from, to, k -> x[k]);
  }

  @Override
  public double squaredDeviations(float[] x, int from, int to, double m) {
    return fourPartialSums(from, to, k -> (x[k] - m) * (x[k] - m));
  }

  @Override
  public void gradientSums(float[] gy, float[] x, int from, int to, double mean, double[] sums) {
    sums[0] = fourPartialSums(from, to, k -> gy[k]);
    sums[1] = fourPartialSums(from, to, k -> gy[k] * (x[k] - mean));
  }

  /**
   * The sum of {@code term(k)} over {@code [from, to)} in the fixed order of this class: four partial sums,
   * term {@code k} going to partial sum {@code (k - from) % 4} (the terms after the last full group of four to
   * the first), added pairwise at the end.
   */
  private static double fourPartialSums(int from, int to, IntToDoubleFunction term) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int k = from;
    for (; k + 3 < to; k += 4) {
      s0 += term.applyAsDouble(k);
      s1 += term.applyAsDouble(k + 1);
      s2 += term.applyAsDouble(k + 2);
      s3 += term.applyAsDouble(k + 3);
    }
    for (; k < to; k++) {
      s0 += term.applyAsDouble(k);
    }
    return (s0 + s1) + (s2 + s3);
  }

  @Override
  public void normalizedGradient(float[] gy, float[] x, float[] gx, int from, int to, float meanGy, float mean,
      float k2, float scale) {
    for (int k = from; k < to; k++) {
      gx[k] = (gy[k] - meanGy - (x[k] - mean) * k2) * scale;
    }
  }

  @Override
  public void branchSum(float[] d, float ad, float bd, float[] p, float ap, float bp, float[] x, float ai,
      float bi, boolean relu, float[] y, int from, int to) {
    for (int k = from; k < to; k++) {
      float v = (d[k] * ad + bd) + (p[k] * ap + bp);
      if (x != null) {
        v += x[k] * ai + bi;
      }
      y[k] = relu ? Math.max(v, 0f) : v;
    }
  }

  @Override
  public void reluGradient(float[] y, float[] g, float[] out, int from, int to) {
    Elementwise.reluGradient(y, g, out, from, to);
  }
}
