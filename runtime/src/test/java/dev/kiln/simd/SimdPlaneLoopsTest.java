package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.nn.PlaneLoops;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The vectorized plane sums against exact sums, for lengths around every vector and block boundary. */
class SimdPlaneLoopsTest {
  private static final int[] LENGTHS = {0, 1, 7, 15, 16, 17, 31, 33, 49, 127, 128, 129, 196, 255, 257, 784,
      1000, 3136};

  /**
   * {@link VectorShape#sumLanes} adds lanes {@code i} and {@code i ^ d} for d = LANES / 2 down to 1, the same bits
   * on every JDK and tier; values of mixed magnitudes make the order visible (lane order gives other bits).
   */
  @Test
  void sumLanesAddsInAFixedPairwiseOrder() {
    int lanes = VectorShape.LANES;
    SplittableRandom r = new SplittableRandom(1205);
    int differsFromLaneOrder = 0;
    for (int c = 0; c < 200; c++) {
      float[] v = new float[lanes];
      for (int i = 0; i < lanes; i++) {
        v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(8)));
      }
      float[] t = v.clone();
      for (int d = lanes / 2; d >= 1; d /= 2) {
        float[] next = new float[lanes];
        for (int i = 0; i < lanes; i++) {
          next[i] = t[i] + t[i ^ d];
        }
        t = next;
      }
      float inOrder = 0f;
      for (float x : v) {
        inOrder += x;
      }
      float sum = VectorShape.sumLanes(jdk.incubator.vector.FloatVector.fromArray(VectorShape.SPECIES, v, 0));
      assertWithMessage("case %s", c).that(Float.floatToIntBits(sum)).isEqualTo(Float.floatToIntBits(t[0]));
      differsFromLaneOrder += sum != inOrder ? 1 : 0;
    }
    assertThat(differsFromLaneOrder).isGreaterThan(20);
  }

  @Test
  void isTheImplementationInUse() {
    assertThat(PlaneLoops.get()).isInstanceOf(SimdPlaneLoops.class);
  }

  @Test
  void matchesDoubleSumsToInputPrecision() {
    PlaneLoops simd = new SimdPlaneLoops();
    SplittableRandom random = new SplittableRandom(7);
    int cases = 0;
    for (int length : LENGTHS) {
      for (double offset : new double[] {0, 3, 100}) {
        int from = random.nextInt(5);
        float[] x = new float[from + length + 3];
        float[] gy = new float[x.length];
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) (offset + random.nextGaussian());
          gy[i] = (float) random.nextGaussian();
        }
        int to = from + length;
        double sum = 0;
        double abs = 0;
        for (int k = from; k < to; k++) {
          sum += x[k];
          abs += Math.abs(x[k]);
        }
        double mean = length == 0 ? 0 : sum / length;
        double m2 = 0;
        double sumGy = 0;
        double absGy = 0;
        double dot = 0;
        double absDot = 0;
        for (int k = from; k < to; k++) {
          m2 += (x[k] - mean) * (x[k] - mean);
          sumGy += gy[k];
          absGy += Math.abs(gy[k]);
          dot += gy[k] * (x[k] - mean);
          absDot += Math.abs(gy[k] * (x[k] - mean));
        }
        String where = "length " + length + " offset " + offset;
        // Float partial sums of 8 values per lane: a few ulps of the magnitudes involved.
        double tol = 1e-6;
        assertWithMessage("sum, %s", where).that(simd.sum(x, from, to)).isWithin(tol * abs + 1e-12).of(sum);
        // The mean is rounded to float first: (x - mean) may move by ulp(mean) per element.
        double meanUlp = Math.ulp((float) mean) * length;
        assertWithMessage("squaredDeviations, %s", where)
            .that(simd.squaredDeviations(x, from, to, mean))
            .isWithin(tol * m2 + meanUlp * meanUlp + 1e-12).of(m2);
        double[] sums = new double[2];
        simd.gradientSums(gy, x, from, to, mean, sums);
        assertWithMessage("sum(gy), %s", where).that(sums[0]).isWithin(tol * absGy + 1e-12).of(sumGy);
        assertWithMessage("sum(gy * (x - mean)), %s", where).that(sums[1])
            .isWithin(tol * absDot + absGy * Math.ulp((float) mean) + 1e-12).of(dot);
        double[] scalar = new double[2];
        PlaneLoops.scalar().gradientSums(gy, x, from, to, mean, scalar);
        assertWithMessage("scalar sum(gy), %s", where).that(scalar[0]).isWithin(1e-9 * absGy + 1e-12).of(sumGy);
        cases++;
      }
    }
    assertThat(cases).isEqualTo(LENGTHS.length * 3);
  }

  /** The element-wise maps (ReLU gradient included) give the scalar floats exactly, with -0, NaN and infinities. */
  @Test
  void mapsEqualScalarBitForBit() {
    PlaneLoops simd = new SimdPlaneLoops();
    PlaneLoops scalar = PlaneLoops.scalar();
    SplittableRandom random = new SplittableRandom(11);
    int cases = 0;
    for (int length : LENGTHS) {
      int from = random.nextInt(5);
      int size = from + length + 3;
      float[] gy = values(random, size);
      float[] x = values(random, size);
      float[] p = values(random, size);
      float[] expected = new float[size];
      float[] actual = new float[size];
      String where = "length " + length;
      scalar.normalizedGradient(gy, x, expected, from, from + length, 0.3f, -0.7f, 1.9f, 0.6f);
      simd.normalizedGradient(gy, x, actual, from, from + length, 0.3f, -0.7f, 1.9f, 0.6f);
      assertWithMessage("normalizedGradient, %s", where).that(actual).usingExactEquality()
          .containsExactly(expected).inOrder();
      java.util.Arrays.fill(expected, 5f);
      java.util.Arrays.fill(actual, 5f);
      scalar.reluGradient(x, gy, expected, from, from + length);
      simd.reluGradient(x, gy, actual, from, from + length);
      for (int k = 0; k < size; k++) {
        assertWithMessage("reluGradient, %s, element %s", where, k)
            .that(Float.floatToRawIntBits(actual[k])).isEqualTo(Float.floatToRawIntBits(expected[k]));
      }
      cases++;
      for (boolean relu : new boolean[] {false, true}) {
        for (boolean identity : new boolean[] {false, true}) {
          float[] id = identity ? x : null;
          java.util.Arrays.fill(expected, 5f);
          java.util.Arrays.fill(actual, 5f);
          scalar.branchSum(gy, 1.3f, -0.2f, p, 0.8f, 0.1f, id, 0.9f, -0.4f, relu, expected, from, from + length);
          simd.branchSum(gy, 1.3f, -0.2f, p, 0.8f, 0.1f, id, 0.9f, -0.4f, relu, actual, from, from + length);
          for (int k = 0; k < size; k++) {
            assertWithMessage("branchSum relu=%s identity=%s, %s, element %s", relu, identity, where, k)
                .that(Float.floatToRawIntBits(actual[k])).isEqualTo(Float.floatToRawIntBits(expected[k]));
          }
          cases++;
        }
      }
    }
    assertThat(cases).isEqualTo(LENGTHS.length * 5);
  }

  /** Gaussian values with some zeros, negative zeros, NaNs and infinities. */
  private static float[] values(SplittableRandom random, int size) {
    float[] v = new float[size];
    for (int i = 0; i < size; i++) {
      int kind = random.nextInt(20);
      v[i] = kind == 0 ? 0f : kind == 1 ? -0f : kind == 2 ? Float.NaN
          : kind == 3 ? Float.POSITIVE_INFINITY : kind == 4 ? Float.NEGATIVE_INFINITY : (float) random.nextGaussian();
    }
    return v;
  }
}
