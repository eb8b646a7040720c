package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;

import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * What a network's first forward runs that the warmer compiles beforehand: per layer ({@link
 * BlockedConv#firstCode}) a convolution's one-block first tiles, or the plain-Java depthwise code shared by all
 * depthwise layers, or nothing where the blocked engine cannot run the layer; per network ({@link
 * BlockedNetwork#firstCode}) the plain-Java classifier where there is a linear layer. And both plain-Java entries
 * become hot well before the warmer's deadline (their calls get fast once compiled).
 */
class FirstForwardCodeTest {
  private static ConvGeometry geometry(int in, int out, int size, int k, int stride, int pad, int groups,
      PaddingMode mode) {
    return NaiveConvKernel.geometry(in, out, size, size, k, k, stride, stride, 1, 1, pad, pad, pad, pad, groups, mode);
  }

  @Test
  void eachLayerNamesTheCodeItsFirstForwardRuns() {
    // A 3x3 convolution over 20-pixel rows: the 7-pixel first tile covers every row (the last run overlaps).
    assertThat(BlockedConv.firstCode(geometry(8, 16, 20, 3, 1, 1, 1, PaddingMode.ZEROS)))
        .containsExactly(TileWarmer.conv(1, BlockedConv.FIRST_PIXELS, 0));
    // Rows narrower than the first tile: one run of their width.
    assertThat(BlockedConv.firstCode(geometry(8, 16, 5, 1, 1, 0, 1, PaddingMode.ZEROS)))
        .containsExactly(TileWarmer.conv(1, 5, 0));
    // Depthwise layers, 3x3 at both strides and 5x5: the plain-Java code, one entry for all of them.
    for (int[] ks : new int[][] {{3, 1}, {3, 2}, {5, 1}}) {
      assertThat(BlockedConv.firstCode(geometry(16, 16, 20, ks[0], ks[1], ks[0] / 2, 16, PaddingMode.ZEROS)))
          .containsExactly(TileWarmer.depthwisePlain());
    }
    // Reflection padding: not a layer of the blocked engine, so nothing to warm.
    assertThat(BlockedConv.firstCode(geometry(8, 16, 20, 3, 1, 1, 1, PaddingMode.REFLECT))).isEmpty();
  }

  @Test
  void aNetworkWithALinearLayerNamesThePlainClassifier() {
    BlockedNetworkTest.Net net = new BlockedNetworkTest.Net(3);
    net.eval();
    assertThat(((BlockedNetwork) net.networkEngine()).firstCode()).containsExactly(TileWarmer.linearPlain());
    BlockedNetworkTest.PoolNet pool = new BlockedNetworkTest.PoolNet(3);
    pool.eval();
    assertThat(((BlockedNetwork) pool.networkEngine()).firstCode()).isEmpty();
  }

  @Test
  void thePlainJavaEntriesBecomeHotLongBeforeTheDeadline() {
    long wait = TimeUnit.SECONDS.toNanos(30);
    for (TileWarmer.Tile tile : new TileWarmer.Tile[] {TileWarmer.depthwisePlain(), TileWarmer.linearPlain()}) {
      long start = System.nanoTime();
      TileWarmer.warm(tile, wait, TileWarmer.BACK_OFF_NANOS);
      long elapsed = System.nanoTime() - start;
      assertThat(tile.hot()).isTrue();
      // Marked hot by 32 fast calls in a row, not by the deadline (the same entry may already be hot from another
      // test in this JVM, which returns at once).
      assertThat(elapsed).isLessThan(wait / 2);
    }
  }
}
