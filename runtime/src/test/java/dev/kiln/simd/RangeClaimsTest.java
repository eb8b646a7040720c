package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** Ranges of work items claimed from their fronts by their owners and from their backs by the others. */
class RangeClaimsTest {
  @Test
  void ownerTakesItsRangeInOrderAndThenTheOthersFromTheBack() {
    RangeClaims claims = new RangeClaims();
    claims.open(new int[] {0, 5, 12}, 2, 2);
    assertThat(claims.ranges()).isEqualTo(2);
    List<String> order = new ArrayList<>();
    for (long c; (c = claims.claimFront(0)) >= 0; ) {
      order.add(RangeClaims.start(c) + "-" + RangeClaims.end(c));
    }
    // Range 1's owner took one claim before range 0's owner finished.
    long first = claims.claimFront(1);
    order.add("front1 " + RangeClaims.start(first) + "-" + RangeClaims.end(first));
    for (long c; (c = claims.claimBack(1)) >= 0; ) {
      order.add(RangeClaims.start(c) + "-" + RangeClaims.end(c));
    }
    assertThat(order).containsExactly("0-2", "2-4", "4-5", "front1 5-7", "10-12", "8-10", "7-8").inOrder();
    assertThat(claims.claimFront(1)).isEqualTo(-1);
    assertThat(claims.claimBack(0)).isEqualTo(-1);
  }

  @Test
  void emptyRangesAndReopening() {
    RangeClaims claims = new RangeClaims();
    claims.open(new int[] {3, 3, 4}, 2, 1);
    assertThat(claims.claimFront(0)).isEqualTo(-1);
    long c = claims.claimBack(1);
    assertThat(RangeClaims.start(c)).isEqualTo(3);
    assertThat(RangeClaims.end(c)).isEqualTo(4);
    // Reopened with more ranges than before, the words grow.
    claims.open(new int[] {0, 1, 2, 3}, 3, 5);
    assertThat(claims.ranges()).isEqualTo(3);
    assertThat(RangeClaims.end(claims.claimFront(2))).isEqualTo(3);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> claims.open(new int[] {4, 2}, 1, 1));
    assertThat(e).hasMessageThat().isEqualTo("range 0: [4, 2)");
  }

  /** Four threads, each working through its own range and then stealing: every item runs exactly once. */
  @Test
  void everyItemRunsOnceUnderContention() throws Exception {
    int threads = 4;
    int items = 40_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 20; round++) {
        RangeClaims claims = new RangeClaims();
        int[] bounds = new int[threads + 1];
        for (int j = 0; j <= threads; j++) {
          bounds[j] = items * j / threads;
        }
        claims.open(bounds, threads, 1 + round % 3);
        AtomicIntegerArray runs = new AtomicIntegerArray(items);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int own = t;
          done.add(pool.submit(() -> {
            start.await();
            // A slow owner: thread 0 claims only every so often, so the others steal most of its range.
            for (long c; (c = claims.claimFront(own)) >= 0; ) {
              mark(runs, c);
              if (own == 0) {
                Thread.onSpinWait();
              }
            }
            for (int k = 1; k < threads; k++) {
              for (long c; (c = claims.claimBack((own + k) % threads)) >= 0; ) {
                mark(runs, c);
              }
            }
            return null;
          }));
        }
        start.countDown();
        for (Future<?> f : done) {
          f.get();
        }
        int once = 0;
        for (int i = 0; i < items; i++) {
          assertThat(runs.get(i)).isEqualTo(1);
          once++;
        }
        assertThat(once).isEqualTo(items);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static void mark(AtomicIntegerArray runs, long claim) {
    for (int i = RangeClaims.start(claim); i < RangeClaims.end(claim); i++) {
      runs.incrementAndGet(i);
    }
  }
}
