package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link TileWarmer#warm(TileWarmer.Tile, long, long)}: a kernel whose calls never get fast is called back to
 * back only until the back-off time, then with a pause after every slow call, and is marked hot at the
 * deadline; a kernel that is fast at once is hot after the run of fast calls.
 */
class TileWarmerBackOffTest {
  @Test
  void aKernelThatNeverGetsFastIsCalledWithPausesAfterTheBackOffTime() {
    long[] calls = {0};
    // Each call takes 5 us, more than any compiled kernel's warm-up call may take.
    TileWarmer.Tile slow = new TileWarmer.Tile("test-slow", () -> {
      calls[0]++;
      long until = System.nanoTime() + 5_000;
      while (System.nanoTime() < until) {
        Thread.onSpinWait();
      }
    });
    long wait = TimeUnit.MILLISECONDS.toNanos(400);
    long backOff = TimeUnit.MILLISECONDS.toNanos(100);
    long start = System.nanoTime();
    long made = TileWarmer.warm(slow, wait, backOff);
    long elapsed = System.nanoTime() - start;
    assertThat(slow.hot()).isTrue();
    assertThat(made).isEqualTo(calls[0]);
    assertThat(elapsed).isAtLeast(wait);
    // Back to back for 100 ms (at most 20,000 calls of 5 us), then at most one call per millisecond (300):
    // without the pauses it would be about 80,000.
    assertThat(made).isLessThan(25_000L);
    assertThat(made).isGreaterThan(10L);
  }

  /**
   * {@link TileWarmer#awaitIdle}: false while a requested tile is queued or being warmed, true once it is hot,
   * with every warm-up call made before it returns.
   */
  @Test
  void awaitIdleWaitsForTheQueuedTiles() throws Exception {
    long[] calls = {0};
    // Slow (5 us) for its first 2,000 calls, at least 10 ms in all, then fast.
    TileWarmer.Tile tile = new TileWarmer.Tile("test-queued", () -> {
      if (calls[0]++ < 2_000) {
        long until = System.nanoTime() + 5_000;
        while (System.nanoTime() < until) {
          Thread.onSpinWait();
        }
      }
    });
    TileWarmer.request(tile, false, 1);
    assertThat(TileWarmer.awaitIdle(0)).isFalse();
    assertThat(TileWarmer.awaitIdle(TimeUnit.SECONDS.toNanos(60))).isTrue();
    assertThat(tile.hot()).isTrue();
    assertThat(calls[0]).isAtLeast(2_000L + 32);
  }

  @Test
  void aKernelThatIsFastAtOnceIsHotAfterItsRunOfFastCalls() {
    long[] calls = {0};
    TileWarmer.Tile fast = new TileWarmer.Tile("test-fast", () -> calls[0]++);
    long made = TileWarmer.warm(fast, TimeUnit.SECONDS.toNanos(5), TimeUnit.MILLISECONDS.toNanos(100));
    assertThat(fast.hot()).isTrue();
    assertThat(made).isEqualTo(calls[0]);
    assertThat(made).isAtLeast(32L);
    assertThat(made).isLessThan(1_000_000L);
  }
}
