package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link TileWarmer#warm(TileWarmer.Tile, long, long)}: a kernel whose calls never get fast is called back to
 * back only until the back-off time, then with a pause after every slow call, and is marked hot at the
 * deadline; a kernel that is fast at once is hot after the run of fast calls, one with occasional slow calls a
 * little later, one with frequent ones only at the deadline; the next queued tile is called along
 * once a tile has had its {@link TileWarmer#AHEAD_CALLS}.
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

  /**
   * Warming ahead: once a tile has had {@link TileWarmer#AHEAD_CALLS} calls, the next tile is called once per call
   * of it (untimed, and not marked hot); a next tile that is already hot, or none, is not called.
   */
  @Test
  void theNextTileIsCalledAlongOnceTheTileHasHadItsAheadCalls() {
    long slowCalls = TileWarmer.AHEAD_CALLS + 5_000;
    long[] calls = {0};
    // Slow (3 us) for its first AHEAD_CALLS + 5,000 calls, then fast.
    TileWarmer.Tile tile = new TileWarmer.Tile("test-then", () -> {
      if (calls[0]++ < slowCalls) {
        long until = System.nanoTime() + 3_000;
        while (System.nanoTime() < until) {
          Thread.onSpinWait();
        }
      }
    });
    long[] nextCalls = {0};
    TileWarmer.Tile next = new TileWarmer.Tile("test-next", () -> nextCalls[0]++);
    long made = TileWarmer.warm(tile, TimeUnit.SECONDS.toNanos(60), TimeUnit.SECONDS.toNanos(60), () -> next);
    assertThat(tile.hot()).isTrue();
    assertThat(made).isAtLeast(slowCalls + 32);
    assertThat(nextCalls[0]).isEqualTo(made - TileWarmer.AHEAD_CALLS);
    assertThat(next.hot()).isFalse();

    long[] hotCalls = {0};
    TileWarmer.Tile hot = new TileWarmer.Tile("test-hot-next", () -> hotCalls[0]++);
    TileWarmer.warm(hot, TimeUnit.SECONDS.toNanos(5), TimeUnit.SECONDS.toNanos(5));
    long before = hotCalls[0];
    calls[0] = 0;
    TileWarmer.Tile again = new TileWarmer.Tile("test-then-again", () -> {
      if (calls[0]++ < slowCalls) {
        long until = System.nanoTime() + 3_000;
        while (System.nanoTime() < until) {
          Thread.onSpinWait();
        }
      }
    });
    TileWarmer.warm(again, TimeUnit.SECONDS.toNanos(60), TimeUnit.SECONDS.toNanos(60), () -> hot);
    assertThat(hotCalls[0]).isEqualTo(before);
    assertThat(TileWarmer.warm(new TileWarmer.Tile("test-alone", () -> { }), TimeUnit.SECONDS.toNanos(5),
        TimeUnit.SECONDS.toNanos(5), () -> null)).isAtLeast(32L);
  }

  /**
   * {@link TileWarmer#schedule}: jobs run once each on the warmer's thread in the order queued, one that throws
   * does not stop the next, and {@link TileWarmer#awaitIdle} is false while a job is queued or running.
   */
  @Test
  void scheduledJobsRunInOrderOnTheWarmerThread() throws Exception {
    java.util.List<String> ran = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    TileWarmer.schedule(() -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ran.add("first on " + Thread.currentThread().getName());
    });
    TileWarmer.schedule(() -> {
      throw new IllegalStateException("test: a failing job");
    });
    TileWarmer.schedule(() -> ran.add("third on " + Thread.currentThread().getName()));
    assertThat(TileWarmer.awaitIdle(TimeUnit.MILLISECONDS.toNanos(50))).isFalse();
    assertThat(ran).isEmpty();
    release.countDown();
    assertThat(TileWarmer.awaitIdle(TimeUnit.SECONDS.toNanos(60))).isTrue();
    assertThat(ran).containsExactly("first on kiln-tile-warmer", "third on kiln-tile-warmer").inOrder();
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

  /**
   * A slow call halves the run of fast calls instead of ending it ({@link TileWarmer#HOT_CALLS}): a kernel whose
   * every 20th call is slow (an interrupted compiled call) is hot long before the deadline, after a few dozen calls;
   * one whose every other call is slow (as in the slow modes, where all are) is not, until the deadline.
   */
  @Test
  void anOccasionalSlowCallDelaysAKernelAndFrequentOnesKeepItCold() {
    long[] calls = {0};
    TileWarmer.Tile mostlyFast = new TileWarmer.Tile("test-mostly-fast", () -> {
      if (++calls[0] % 20 == 0) {
        spin(20_000);
      }
    });
    long wait = TimeUnit.SECONDS.toNanos(5);
    long start = System.nanoTime();
    long made = TileWarmer.warm(mostlyFast, wait, TimeUnit.MILLISECONDS.toNanos(100));
    long elapsed = System.nanoTime() - start;
    assertThat(mostlyFast.hot()).isTrue();
    assertThat(made).isEqualTo(calls[0]);
    // Runs of 19 fast calls, halved at each slow one: 19, 9 + 19, 14 + 19 >= 32 after about 57 calls.
    assertThat(made).isAtLeast((long) TileWarmer.HOT_CALLS + 19);
    assertThat(made).isLessThan(10_000L);
    assertThat(elapsed).isLessThan(wait / 2);

    long[] halfCalls = {0};
    TileWarmer.Tile halfSlow = new TileWarmer.Tile("test-half-slow", () -> {
      if (halfCalls[0]++ % 2 == 0) {
        spin(5_000);
      }
    });
    long shortWait = TimeUnit.MILLISECONDS.toNanos(300);
    start = System.nanoTime();
    made = TileWarmer.warm(halfSlow, shortWait, TimeUnit.MILLISECONDS.toNanos(100));
    elapsed = System.nanoTime() - start;
    assertThat(halfSlow.hot()).isTrue();
    assertThat(elapsed).isAtLeast(shortWait);
    assertThat(made).isGreaterThan(100L);
  }

  private static void spin(long nanos) {
    long until = System.nanoTime() + nanos;
    while (System.nanoTime() < until) {
      Thread.onSpinWait();
    }
  }
}
