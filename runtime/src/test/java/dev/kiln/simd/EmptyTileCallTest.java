package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.kiln.simd.VectorShape.LANES;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The calls that do no work, which {@link TileWarmer} makes between its warm-up calls so that a kernel is
 * invoked often enough for C2 at little cost: every tile kernel called with no reduction steps (convolution,
 * pointwise and depthwise tiles), an empty clamp range (depthwise 3x3 tiles) or no rows (the fully connected
 * kernel) or no blocks (the pooling kernel) or no runs (the conversions' transposes) writes nothing, where a real call with the same arguments would
 * write the bias (or its clamp); every tile the warmer knows has such a call; and the warmer makes
 * {@link TileWarmer#EMPTY_CALLS} of them between two real calls.
 */
class EmptyTileCallTest {
  /** Outputs far apart enough for any tile: blocks {@code CS} floats apart, pixels {@code LANES}. */
  private static final int CS = BlockedKernels.MAX_DEPTHWISE_PIXELS * 2 * LANES;

  private static float[] unwritten() {
    float[] y = new float[(BlockedKernels.MAX_BLOCKS + 1) * CS];
    Arrays.fill(y, -7f);
    return y;
  }

  private static float[] bias() {
    float[] b = new float[BlockedKernels.MAX_BLOCKS * LANES];
    Arrays.fill(b, 1f);
    return b;
  }

  private static void assertUnwritten(String tile, float[] y) {
    for (int i = 0; i < y.length; i++) {
      assertWithMessage("%s: y[%s]", tile, i).that(y[i]).isEqualTo(-7f);
    }
  }

  /**
   * Every tile {@link TileWarmer} hands out ({@link BlockedTileCompilationTest#allTiles}) has an empty call, and
   * its kernel called with nothing to do writes nothing.
   */
  @Test
  void everyTileHasAnEmptyCallAndItsKernelWritesNothingWithNothingToDo() {
    float[] x = new float[4 * CS];
    float[] w = new float[4 * CS];
    int[] off = new int[64];
    int cases = 0;
    for (TileWarmer.Tile tile : BlockedTileCompilationTest.allTiles()) {
      assertWithMessage("%s", tile.key).that(tile.emptyCall).isNotNull();
      float[] y = unwritten();
      if (tile.conv != null) {
        // Convolution and pointwise tiles: no reduction steps (they return before the packing check).
        tile.conv.run(x, 0, LANES, off, 0, w, 0, LANES, bias(), 0, 0f, y, 0, LANES, CS);
      } else if (tile.depthwise != null) {
        tile.depthwise.run(x, 0, LANES, off, 0, w, 0, bias(), 0, 0f, Float.POSITIVE_INFINITY, y, 0, LANES);
      } else if (tile.depthwise3x3 != null) {
        tile.depthwise3x3.run(x, 0, 3 * CS / 4, w, 0, bias(), 0, 1f, 0f, y, 0, 2);
        assertUnwritten(tile.key, y);
        // No tiles: nothing either.
        tile.depthwise3x3.run(x, 0, 3 * CS / 4, w, 0, bias(), 0, 0f, 0.5f, y, 0, 0);
        assertUnwritten(tile.key, y);
        // The same call with a clamp range that is not empty writes the clamped bias to every pixel.
        tile.depthwise3x3.run(x, 0, 3 * CS / 4, w, 0, bias(), 0, 0f, 0.5f, y, 0, 1);
        assertThat(y[0]).isEqualTo(0.5f);
        y = unwritten();
      } else if (tile.key.equals("transposes")) {
        // No runs, either way: nothing written (y as the block, x as the planes, and the other way).
        int[] pixels = new int[2 * LANES];
        BlockTranspose.runs(x, 0, LANES, y, 0, pixels, 0, 0, false);
        assertUnwritten(tile.key, y);
        BlockTranspose.runs(y, 0, LANES, x, 0, pixels, 0, 0, true);
      } else if (tile.key.equals("linear")) {
        HeadKernels.linear(x, 4, w, bias(), 2 * LANES, y, 0, 0, 0, 2);
        HeadKernels.linear(x, 4, w, bias(), 2 * LANES, y, 1, 1, 0, 2);
      } else {
        assertThat(tile.key).isEqualTo("blockSums");
        HeadKernels.blockSums(x, 0, 6 * LANES, 0, 0, 2, 3, 3 * LANES, y);
      }
      assertUnwritten(tile.key, y);
      cases++;
    }
    assertThat(cases).isEqualTo(BlockedTileCompilationTest.expectedTiles());
  }

  @Test
  void aRealCallWithOneReductionStepWritesTheBiasPlusTheProduct() {
    // The counterpart of the empty calls above: rs = 1 computes, so the early return is only for rs = 0.
    float[] x = new float[4 * CS];
    float[] w = new float[4 * CS];
    Arrays.fill(x, 2f);
    Arrays.fill(w, 3f);
    float[] y = unwritten();
    BlockedKernels.conv(1, 1, 0).run(x, 0, LANES, new int[1], 1, w, 0, LANES, bias(), 0, 0f, y, 0, LANES, CS);
    for (int lane = 0; lane < LANES; lane++) {
      assertThat(y[lane]).isEqualTo(7f);
    }
    assertThat(y[LANES]).isEqualTo(-7f);
  }

  @Test
  void theWarmerMakesItsEmptyCallsBetweenWarmUpCalls() {
    long[] real = {0};
    long[] empty = {0};
    TileWarmer.Tile tile = new TileWarmer.Tile("test-empty", () -> real[0]++, () -> empty[0]++);
    long made = TileWarmer.warm(tile, TimeUnit.SECONDS.toNanos(5), TimeUnit.MILLISECONDS.toNanos(100));
    assertThat(tile.hot()).isTrue();
    // Hot after a run of 32 fast warm-up calls (a first call can be slow, loading classes), the first made
    // before any empty call and the last after EMPTY_CALLS of them, as between every two.
    assertThat(real[0]).isAtLeast(32L);
    assertThat(real[0]).isLessThan(1_000L);
    assertThat(empty[0]).isEqualTo(TileWarmer.EMPTY_CALLS * (real[0] - 1));
    assertThat(made).isEqualTo(real[0] + empty[0]);
  }
}
