package dev.kiln.simd;

import static dev.kiln.simd.VectorShape.SPECIES;
import static dev.kiln.simd.VectorShape.LANES;

import dev.kiln.nn.PlaneLoops;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * {@link PlaneLoops} over vectors: float lanes accumulate blocks of {@link #BLOCK} elements (each lane
 * adds {@code BLOCK / LANES} values, so the float error stays within a few units in the last place of the
 * block's magnitude), and every block's lane total is added in double. The whole vectors after the last
 * block (fewer than a block) are one more such partial sum: one lane reduction per block, not per vector. Loaded by name by
 * {@code dev.kiln.nn.Accelerators} only when the JVM has {@code jdk.incubator.vector}.
 */
public final class SimdPlaneLoops implements PlaneLoops {
  /** Elements per float partial sum: eight vectors, two accumulators. */
  private static final int BLOCK = 8 * LANES;

  /** The element-wise maps' last elements (fewer than a vector): the scalar loops, the same floats. */
  private static final PlaneLoops TAIL = PlaneLoops.scalar();

  /** Needed for loading by name. */
  public SimdPlaneLoops() {}

  /** {@code "simd-<bits>"}, e.g. {@code simd-512}: names the arithmetic path (recorded in checkpoints). */
  @Override
  public String toString() {
    return "simd-" + LANES * Float.SIZE;
  }

  @Override
  public double sum(float[] x, int from, int to) {
    return total(x, from, to);
  }

  /** {@link #sum}, for this package. */
  static double total(float[] x, int from, int to) {
    double total = 0;
    int k = from;
    for (; k + BLOCK <= to; k += BLOCK) {
      FloatVector a = FloatVector.fromArray(SPECIES, x, k);
      FloatVector b = FloatVector.fromArray(SPECIES, x, k + LANES);
      for (int j = 2 * LANES; j < BLOCK; j += 2 * LANES) {
        a = a.add(FloatVector.fromArray(SPECIES, x, k + j));
        b = b.add(FloatVector.fromArray(SPECIES, x, k + j + LANES));
      }
      total += VectorShape.sumLanes(a.add(b));
    }
    if (k + LANES <= to) {
      // The rest of the whole vectors (fewer than a block) in one accumulator, reduced once.
      FloatVector a = FloatVector.fromArray(SPECIES, x, k);
      for (k += LANES; k + LANES <= to; k += LANES) {
        a = a.add(FloatVector.fromArray(SPECIES, x, k));
      }
      total += VectorShape.sumLanes(a);
    }
    for (; k < to; k++) {
      total += x[k];
    }
    return total;
  }

  @Override
  public double squaredDeviations(float[] x, int from, int to, double mean) {
    FloatVector m = FloatVector.broadcast(SPECIES, (float) mean);
    double total = 0;
    int k = from;
    for (; k + BLOCK <= to; k += BLOCK) {
      FloatVector d = FloatVector.fromArray(SPECIES, x, k).sub(m);
      FloatVector e = FloatVector.fromArray(SPECIES, x, k + LANES).sub(m);
      FloatVector a = d.mul(d);
      FloatVector b = e.mul(e);
      for (int j = 2 * LANES; j < BLOCK; j += 2 * LANES) {
        d = FloatVector.fromArray(SPECIES, x, k + j).sub(m);
        e = FloatVector.fromArray(SPECIES, x, k + j + LANES).sub(m);
        a = d.fma(d, a);
        b = e.fma(e, b);
      }
      total += VectorShape.sumLanes(a.add(b));
    }
    if (k + LANES <= to) {
      FloatVector d = FloatVector.fromArray(SPECIES, x, k).sub(m);
      FloatVector a = d.mul(d);
      for (k += LANES; k + LANES <= to; k += LANES) {
        d = FloatVector.fromArray(SPECIES, x, k).sub(m);
        a = d.fma(d, a);
      }
      total += VectorShape.sumLanes(a);
    }
    for (; k < to; k++) {
      double d = x[k] - mean;
      total += d * d;
    }
    return total;
  }

  @Override
  public void gradientSums(float[] gy, float[] x, int from, int to, double mean, double[] sums) {
    FloatVector m = FloatVector.broadcast(SPECIES, (float) mean);
    double sumGy = 0;
    double dot = 0;
    int k = from;
    for (; k + BLOCK <= to; k += BLOCK) {
      FloatVector g = FloatVector.fromArray(SPECIES, gy, k);
      FloatVector a = g;
      FloatVector b = g.mul(FloatVector.fromArray(SPECIES, x, k).sub(m));
      for (int j = LANES; j < BLOCK; j += LANES) {
        g = FloatVector.fromArray(SPECIES, gy, k + j);
        a = a.add(g);
        b = g.fma(FloatVector.fromArray(SPECIES, x, k + j).sub(m), b);
      }
      sumGy += VectorShape.sumLanes(a);
      dot += VectorShape.sumLanes(b);
    }
    if (k + LANES <= to) {
      FloatVector g = FloatVector.fromArray(SPECIES, gy, k);
      FloatVector a = g;
      FloatVector b = g.mul(FloatVector.fromArray(SPECIES, x, k).sub(m));
      for (k += LANES; k + LANES <= to; k += LANES) {
        g = FloatVector.fromArray(SPECIES, gy, k);
        a = a.add(g);
        b = g.fma(FloatVector.fromArray(SPECIES, x, k).sub(m), b);
      }
      sumGy += VectorShape.sumLanes(a);
      dot += VectorShape.sumLanes(b);
    }
    for (; k < to; k++) {
      double a = gy[k];
      sumGy += a;
      dot += a * (x[k] - mean);
    }
    sums[0] = sumGy;
    sums[1] = dot;
  }

  @Override
  public void normalizedGradient(float[] gy, float[] x, float[] gx, int from, int to, float meanGy, float mean,
      float k2, float scale) {
    int k = from;
    for (; k + LANES <= to; k += LANES) {
      FloatVector d = FloatVector.fromArray(SPECIES, x, k).sub(mean).mul(k2);
      FloatVector.fromArray(SPECIES, gy, k).sub(meanGy).sub(d).mul(scale).intoArray(gx, k);
    }
    TAIL.normalizedGradient(gy, x, gx, k, to, meanGy, mean, k2, scale);
  }

  @Override
  public void branchSum(float[] d, float ad, float bd, float[] p, float ap, float bp, float[] x, float ai,
      float bi, boolean relu, float[] y, int from, int to) {
    int k = from;
    for (; k + LANES <= to; k += LANES) {
      FloatVector v = FloatVector.fromArray(SPECIES, d, k).mul(ad).add(bd)
          .add(FloatVector.fromArray(SPECIES, p, k).mul(ap).add(bp));
      if (x != null) {
        v = v.add(FloatVector.fromArray(SPECIES, x, k).mul(ai).add(bi));
      }
      (relu ? v.max(0f) : v).intoArray(y, k);
    }
    TAIL.branchSum(d, ad, bd, p, ap, bp, x, ai, bi, relu, y, k, to);
  }

  @Override
  public void reluGradient(float[] y, float[] g, float[] out, int from, int to) {
    FloatVector zero = FloatVector.zero(SPECIES);
    int k = from;
    for (; k + LANES <= to; k += LANES) {
      VectorMask<Float> positive = FloatVector.fromArray(SPECIES, y, k).compare(VectorOperators.GT, 0f);
      zero.blend(FloatVector.fromArray(SPECIES, g, k), positive).intoArray(out, k);
    }
    TAIL.reluGradient(y, g, out, k, to);
  }
}
