package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.nn.PlaneSums;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The vectorized plane sums against exact sums, for lengths around every vector and block boundary. */
class SimdPlaneSumsTest {
  private static final int[] LENGTHS = {0, 1, 7, 15, 16, 17, 31, 33, 49, 127, 128, 129, 196, 255, 257, 784,
      1000, 3136};

  @Test
  void isTheImplementationInUse() {
    assertThat(PlaneSums.get()).isInstanceOf(SimdPlaneSums.class);
  }

  @Test
  void matchesDoubleSumsToInputPrecision() {
    PlaneSums simd = new SimdPlaneSums();
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
        PlaneSums.scalar().gradientSums(gy, x, from, to, mean, scalar);
        assertWithMessage("scalar sum(gy), %s", where).that(scalar[0]).isWithin(1e-9 * absGy + 1e-12).of(sumGy);
        cases++;
      }
    }
    assertThat(cases).isEqualTo(LENGTHS.length * 3);
  }
}
