package dev.kiln.nn;

/**
 * The reductions {@link BatchNorm2d} runs over each {@code H x W} plane: sums in double precision (or
 * float partial sums of a few values each, added in double), so that statistics over whole batches keep
 * about the precision of their inputs. The scalar implementation ({@link #scalar()}) is plain Java; a
 * vectorized one ({@code dev.kiln.simd}) replaces it when the JVM has {@code jdk.incubator.vector} and
 * the system property {@code kiln.simd} is not {@code false} ({@link #get()}).
 *
 * <p>Each method reads {@code [from, to)} of its arrays and is stateless, so safe from many threads.
 */
public interface PlaneSums {
  /** {@code sum(x[from..to))}. */
  double sum(float[] x, int from, int to);

  /** {@code sum((x[k] - mean)^2)} over {@code [from, to)}. */
  double squaredDeviations(float[] x, int from, int to, double mean);

  /** {@code sums[0] = sum(gy)} and {@code sums[1] = sum(gy * (x - mean))} over {@code [from, to)}. */
  void gradientSums(float[] gy, float[] x, int from, int to, double mean, double[] sums);

  /** The fastest implementation available in this JVM. */
  static PlaneSums get() {
    return Accelerators.planeSums();
  }

  /** The plain-Java implementation: double accumulation with four independent partial sums. */
  static PlaneSums scalar() {
    return ScalarPlaneSums.INSTANCE;
  }
}
