package dev.kiln.nn;

/** {@link PlaneLoops} in plain Java: double accumulation, four independent partial sums (a fixed order). */
final class ScalarPlaneLoops implements PlaneLoops {
  static final ScalarPlaneLoops INSTANCE = new ScalarPlaneLoops();

  private ScalarPlaneLoops() {}

  /**
   * {@code "scalar-fma"} where the scalar path's forward uses fused multiply-adds ({@link FusedMultiplyAdd}), else
   * {@code "scalar"}: names the arithmetic path (recorded in checkpoints; the two round differently).
   */
  @Override
  public String toString() {
    return FusedMultiplyAdd.fast() ? "scalar-fma" : "scalar";
  }

  @Override
  public double sum(float[] x, int from, int to) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int k = from;
    for (; k + 3 < to; k += 4) {
      s0 += x[k];
      s1 += x[k + 1];
      s2 += x[k + 2];
      s3 += x[k + 3];
    }
    for (; k < to; k++) {
      s0 += x[k];
    }
    return (s0 + s1) + (s2 + s3);
  }

  @Override
  public double squaredDeviations(float[] x, int from, int to, double m) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int k = from;
    for (; k + 3 < to; k += 4) {
      double d0 = x[k] - m;
      double d1 = x[k + 1] - m;
      double d2 = x[k + 2] - m;
      double d3 = x[k + 3] - m;
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    for (; k < to; k++) {
      double d = x[k] - m;
      s0 += d * d;
    }
    return (s0 + s1) + (s2 + s3);
  }

  @Override
  public void gradientSums(float[] gy, float[] x, int from, int to, double mean, double[] sums) {
    double g0 = 0;
    double g1 = 0;
    double g2 = 0;
    double g3 = 0;
    double d0 = 0;
    double d1 = 0;
    double d2 = 0;
    double d3 = 0;
    int k = from;
    for (; k + 3 < to; k += 4) {
      double a0 = gy[k];
      double a1 = gy[k + 1];
      double a2 = gy[k + 2];
      double a3 = gy[k + 3];
      g0 += a0;
      g1 += a1;
      g2 += a2;
      g3 += a3;
      d0 += a0 * (x[k] - mean);
      d1 += a1 * (x[k + 1] - mean);
      d2 += a2 * (x[k + 2] - mean);
      d3 += a3 * (x[k + 3] - mean);
    }
    for (; k < to; k++) {
      double a = gy[k];
      g0 += a;
      d0 += a * (x[k] - mean);
    }
    sums[0] = (g0 + g1) + (g2 + g3);
    sums[1] = (d0 + d1) + (d2 + d3);
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
