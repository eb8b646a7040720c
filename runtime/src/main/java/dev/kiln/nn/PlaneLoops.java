package dev.kiln.nn;

/**
 * The loops {@link BatchNorm2d} and {@link RepVggBlock} run over each {@code H x W} plane. The reductions
 * sum in double precision (or float partial sums of a few values each, added in double), so that
 * statistics over whole batches keep about the precision of their inputs. The element-wise maps give the
 * same floats in every implementation (the same operations in the same order, no fused multiply-add):
 * planes are short (49 to a few thousand values), where a loop left to the JIT's auto-vectorizer runs
 * mostly in its scalar pre- and post-loops. The scalar implementation ({@link #scalar()}) is plain Java; a
 * vectorized one ({@code dev.kiln.simd}) replaces it when the JVM has {@code jdk.incubator.vector} and
 * the system property {@code kiln.simd} is not {@code false} ({@link #get()}).
 *
 * <p>Each method reads {@code [from, to)} of its arrays and is stateless, so safe from many threads.
 */
public interface PlaneLoops {
  /** {@code sum(x[from..to))}. */
  double sum(float[] x, int from, int to);

  /** {@code sum((x[k] - mean)^2)} over {@code [from, to)}. */
  double squaredDeviations(float[] x, int from, int to, double mean);

  /** {@code sums[0] = sum(gy)} and {@code sums[1] = sum(gy * (x - mean))} over {@code [from, to)}. */
  void gradientSums(float[] gy, float[] x, int from, int to, double mean, double[] sums);

  /**
   * {@code gx[k] = (gy[k] - meanGy - (x[k] - mean) * k2) * scale} over {@code [from, to)}: BatchNorm's input
   * gradient in training mode.
   */
  void normalizedGradient(float[] gy, float[] x, float[] gx, int from, int to, float meanGy, float mean,
      float k2, float scale);

  /**
   * {@code v = (d[k] * ad + bd) + (p[k] * ap + bp)}, plus {@code (x[k] * ai + bi)} when {@code x} is not
   * null, and {@code y[k] = relu ? Math.max(v, 0f) : v} over {@code [from, to)}: a RepVGG block's three
   * BatchNorm-ed branches summed.
   */
  void branchSum(float[] d, float ad, float bd, float[] p, float ap, float bp, float[] x, float ai, float bi,
      boolean relu, float[] y, int from, int to);

  /**
   * {@code out[k] = y[k] > 0f ? g[k] : 0f} over {@code [from, to)}: the gradient {@code g} through a ReLU whose
   * output was {@code y} (0 where {@code y} is 0, -0, negative or NaN, as in PyTorch), {@code g}'s bits kept.
   */
  void reluGradient(float[] y, float[] g, float[] out, int from, int to);

  /** The fastest implementation available in this JVM. */
  static PlaneLoops get() {
    return Accelerators.planeLoops();
  }

  /** The plain-Java implementation: double accumulation with four independent partial sums. */
  static PlaneLoops scalar() {
    return ScalarPlaneLoops.INSTANCE;
  }
}
