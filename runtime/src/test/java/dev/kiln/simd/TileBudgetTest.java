package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TileBudgetTest {
  @Test
  void broadcastsFirstAfterJdk17UnlessTold() {
    assertThat(TileBudget.broadcastsFirst(null, 17)).isFalse();
    assertThat(TileBudget.broadcastsFirst(null, 21)).isTrue();
    assertThat(TileBudget.broadcastsFirst(null, 25)).isTrue();
    assertThat(TileBudget.broadcastsFirst("false", 25)).isFalse();
    assertThat(TileBudget.broadcastsFirst("true", 17)).isTrue();
    assertThat(TileBudget.broadcastsFirst("yes", 17)).isFalse();
  }

  @Test
  void widestConvolutionTiles() {
    // 32 registers, JDK 17: m * t + m + 2 <= 32 at a constant pixel distance, m * t + m + 1 at a variable one
    // (capped at the generated 14, 14, 8).
    assertThat(widths(32, false, true)).isEqualTo(new int[] {14, 14, 8});
    assertThat(widths(32, false, false)).isEqualTo(new int[] {14, 14, 8});
    // All broadcasts live: m * t + m + t <= 32; 2 x 10 = 20 + 2 + 10, 3 x 7 = 21 + 3 + 7.
    assertThat(widths(32, true, true)).isEqualTo(new int[] {14, 10, 7});
    assertThat(widths(32, true, false)).isEqualTo(new int[] {14, 10, 7});
    // 16 registers (AVX2), JDK 17: 13 + 1 + 2, 2 x 6 + 2 + 2, 3 x 3 + 3 + 2 (3 x 4 would need 17) at a constant
    // distance; 14 + 1 + 1, 2 x 6 + 2 + 1, 3 x 4 + 3 + 1 at a variable one.
    assertThat(widths(16, false, true)).isEqualTo(new int[] {13, 6, 3});
    assertThat(widths(16, false, false)).isEqualTo(new int[] {14, 6, 4});
    assertThat(widths(16, true, true)).isEqualTo(new int[] {7, 4, 3});
    assertThat(widths(16, true, false)).isEqualTo(new int[] {7, 4, 3});
  }

  @Test
  void variableDistanceTilesWhereTheyAreWider() {
    int wider = 0;
    for (int registers = 16; registers <= 32; registers += 16) {
      for (int first = 0; first < 2; first++) {
        for (int m = 1; m <= BlockedKernels.MAX_BLOCKS; m++) {
          wider += TileBudget.variableDistanceWider(m, registers, first == 1) ? 1 : 0;
        }
      }
    }
    // Only on 16 registers with JDK 17's scheduling, for one and three blocks.
    assertThat(wider).isEqualTo(2);
    assertThat(TileBudget.variableDistanceWider(1, 16, false)).isTrue();
    assertThat(TileBudget.variableDistanceWider(3, 16, false)).isTrue();
    assertThat(TileBudget.variableDistanceWider(2, 16, false)).isFalse();
    assertThat(TileBudget.liveBroadcasts(7, false, true)).isEqualTo(2);
    assertThat(TileBudget.liveBroadcasts(1, false, true)).isEqualTo(1);
    assertThat(TileBudget.liveBroadcasts(7, false, false)).isEqualTo(1);
    assertThat(TileBudget.liveBroadcasts(7, true, false)).isEqualTo(7);
  }

  private static int[] widths(int registers, boolean first, boolean constantDistance) {
    return new int[] {TileBudget.maxPixels(1, registers, first, constantDistance),
        TileBudget.maxPixels(2, registers, first, constantDistance),
        TileBudget.maxPixels(3, registers, first, constantDistance)};
  }

  @Test
  void pointwiseLanes() {
    // JDK 17 on AVX-512: two lanes but for 2 x 14 (28 + 4 + 1 = 33 registers).
    assertThat(TileBudget.pointwiseLanes(3, 7, 32, false)).isEqualTo(2);
    assertThat(TileBudget.pointwiseLanes(2, 13, 32, false)).isEqualTo(2);
    assertThat(TileBudget.pointwiseLanes(2, 14, 32, false)).isEqualTo(1);
    // Broadcasts first: 3 x 7 with two lanes would need 21 + 6 + 14 = 41; 2 x 7 needs 14 + 4 + 14 = 32.
    assertThat(TileBudget.pointwiseLanes(3, 7, 32, true)).isEqualTo(1);
    assertThat(TileBudget.pointwiseLanes(3, 5, 32, true)).isEqualTo(2);
    assertThat(TileBudget.pointwiseLanes(2, 7, 32, true)).isEqualTo(2);
    assertThat(TileBudget.pointwiseLanes(2, 8, 32, true)).isEqualTo(1);
    assertThat(TileBudget.pointwiseLanes(1, 10, 32, true)).isEqualTo(2);
    assertThat(TileBudget.pointwiseLanes(1, 11, 32, true)).isEqualTo(1);
    // AVX2 (16 registers) leaves one free: 2 x 5 with two lanes would fill all 16 (10 + 4 + 2), 2 x 4 needs 14.
    assertThat(TileBudget.twoLaneSpare(16)).isEqualTo(1);
    assertThat(TileBudget.twoLaneSpare(32)).isEqualTo(0);
    assertThat(TileBudget.pointwiseLanes(2, 5, 16, false)).isEqualTo(1);
    assertThat(TileBudget.pointwiseLanes(2, 4, 16, false)).isEqualTo(2);
    assertThat(TileBudget.pointwiseLanes(1, 12, 16, false)).isEqualTo(1);
    assertThat(TileBudget.pointwiseLanes(1, 11, 16, false)).isEqualTo(2);
    assertThat(TileBudget.pointwiseLanes(2, 3, 16, true)).isEqualTo(1);
    assertThat(TileBudget.pointwiseLanes(2, 2, 16, true)).isEqualTo(2);
    int two = 0;
    int one = 0;
    for (int m = 1; m <= BlockedKernels.MAX_BLOCKS; m++) {
      for (int t = 1; t <= BlockedKernels.MAX_PIXELS[m]; t++) {
        two += TileBudget.hasPointwise(m, t, 2) ? 1 : 0;
        one += TileBudget.hasPointwise(m, t, 1) ? 1 : 0;
        // Whatever this JVM chooses exists.
        BlockedKernels.pointwise(m, t, TileBudget.pointwiseLanes(m, t));
      }
    }
    assertThat(two).isEqualTo(35);
    assertThat(one).isEqualTo(29);
  }

  /**
   * Every pointwise tile that exists with one and with two lanes per iteration computes the same bits both ways,
   * and those of fused multiply-adds in the reduction's order from the bias, clamped below: two channel blocks
   * apart by more than a block, a nonzero offset into each array.
   */
  @Test
  void oneAndTwoLanesSameBits() {
    int lanes = VectorShape.LANES;
    SplittableRandom r = new SplittableRandom(1204);
    int blocks = 2;
    int rs = blocks * lanes;
    int blockStride = 14 * lanes + 3 * lanes;
    int[] off = blockOffsets(rs, blockStride);
    int xo = 5;
    int wo = 7;
    int bo = 2;
    int yo = 3;
    float[] x = random(r, xo + blocks * blockStride);
    int cases = 0;
    for (int m = 1; m <= BlockedKernels.MAX_BLOCKS; m++) {
      float[] w = random(r, wo + rs * m * lanes);
      float[] b = random(r, bo + m * lanes);
      for (int t = 1; t <= BlockedKernels.MAX_PIXELS[m]; t++) {
        if (!TileBudget.hasPointwise(m, t, 1) || !TileBudget.hasPointwise(m, t, 2)) {
          continue;
        }
        int sy = lanes;
        int cs = t * lanes + lanes;
        float[] one = new float[yo + m * cs];
        float[] two = new float[yo + m * cs];
        BlockedKernels.pointwise(m, t, 1).run(x, xo, lanes, off, rs, w, wo, m * lanes, b, bo, -0.25f, one, yo, sy, cs);
        BlockedKernels.pointwise(m, t, 2).run(x, xo, lanes, off, rs, w, wo, m * lanes, b, bo, -0.25f, two, yo, sy, cs);
        assertWithMessage("%sx%s", m, t).that(one).isEqualTo(two);
        for (int j = 0; j < m; j++) {
          for (int i = 0; i < t; i++) {
            for (int lane = 0; lane < lanes; lane++) {
              assertWithMessage("%sx%s block %s pixel %s lane %s", m, t, j, i, lane)
                  .that(one[yo + j * cs + i * sy + lane])
                  .isEqualTo(reference(x, xo + i * lanes, off, rs, w, wo, m, b, bo, j, lane, -0.25f));
            }
          }
        }
        cases++;
      }
    }
    assertThat(cases).isEqualTo(28);
  }

  /** The offset table of a pointwise reduction over {@code rs} input channels in blocks {@code blockStride} apart. */
  private static int[] blockOffsets(int rs, int blockStride) {
    int lanes = VectorShape.LANES;
    int[] off = new int[rs];
    for (int k = 0; k < rs; k++) {
      off[k] = (k / lanes) * blockStride + k % lanes;
    }
    return off;
  }

  /**
   * Lane {@code lane} of block {@code j} of a tile's pixel at {@code x[xo..]}: the fused multiply-adds of the
   * reduction in order from the bias, weights packed for {@code m} blocks, then {@code max(a, lo)}.
   */
  private static float reference(float[] x, int xo, int[] off, int rs, float[] w, int wo, int m, float[] b, int bo,
      int j, int lane, float lo) {
    int lanes = VectorShape.LANES;
    float a = b[bo + j * lanes + lane];
    for (int k = 0; k < rs; k++) {
      a = Math.fma(w[wo + k * m * lanes + j * lanes + lane], x[xo + off[k]], a);
    }
    return Math.max(a, lo);
  }

  private static float[] random(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }
}
