package dev.kiln.nn;

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
    return fourPartialSums(x, null, 0, from, to, (a, b, m, k) -> a[k]);
  }

  @Override
  public double squaredDeviations(float[] x, int from, int to, double m) {
    return fourPartialSums(x, null, m, from, to, (a, b, mean, k) -> (a[k] - mean) * (a[k] - mean));
  }

  @Override
  public void gradientSums(float[] gy, float[] x, int from, int to, double mean, double[] sums) {
    sums[0] = fourPartialSums(gy, null, 0, from, to, (a, b, m, k) -> a[k]);
    sums[1] = fourPartialSums(gy, x, mean, from, to, (a, b, m, k) -> a[k] * (b[k] - m));
  }

  /**
   * One term of a sum over {@code [from, to)}: a function of index {@code k} of arrays {@code a} and {@code b}
   * and of {@code m}. The terms above capture nothing, so passing one allocates nothing.
   */
  @FunctionalInterface
  private interface Term {
    double at(float[] a, float[] b, double m, int k);
  }

  /**
   * The sum of {@code term.at(a, b, m, k)} over {@code [from, to)} in the fixed order of this class: four
   * partial sums, term {@code k} going to partial sum {@code (k - from) % 4} (the terms after the last full
   * group of four to the first), added pairwise at the end.
   */
  private static double fourPartialSums(float[] a, float[] b, double m, int from, int to, Term term) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int k = from;
    for (; k + 3 < to; k += 4) {
      s0 += term.at(a, b, m, k);
      s1 += term.at(a, b, m, k + 1);
      s2 += term.at(a, b, m, k + 2);
      s3 += term.at(a, b, m, k + 3);
    }
    for (; k < to; k++) {
      s0 += term.at(a, b, m, k);
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
