package dev.kiln.runtime;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The shared pool: chunk boundaries, every chunk run exactly once over many back-to-back sections, failures
 * rethrown on the caller, and calls that find the pool busy (nested in a body, or from other threads) run
 * their chunks on the caller with the same boundaries.
 */
class ParallelTest {
  private final int savedThreads = Parallel.threads();

  @AfterEach
  void restoreThreads() {
    Parallel.setThreads(savedThreads);
  }

  @Test
  void chunksCoverTheRangeWithFixedBoundaries() {
    for (int threads = 1; threads <= 4; threads++) {
      Parallel.setThreads(threads);
      for (int n : new int[] {0, 1, 2, 3, 7, 64, 1001}) {
        int chunks = Parallel.chunkCount(n);
        assertThat(chunks).isEqualTo(Math.max(1, Math.min(threads, n)));
        int[][] ranges = new int[chunks][];
        int[] hits = new int[n];
        Parallel.forChunks(n, (chunk, start, end) -> {
          ranges[chunk] = new int[] {start, end};
          for (int i = start; i < end; i++) {
            hits[i]++;
          }
        });
        for (int i = 0; i < n; i++) {
          assertThat(hits[i]).isEqualTo(1);
        }
        for (int c = 0; n > 0 && c < chunks; c++) {
          assertThat(ranges[c]).asList().containsExactly((int) ((long) n * c / chunks),
              (int) ((long) n * (c + 1) / chunks)).inOrder();
        }
      }
    }
  }

  /**
   * {@link Parallel#handOffNanos}: nothing on one thread; on two, once a window of sections has been handed to a
   * spinning worker, a time per hand-off (nanoseconds, not a sum over the window).
   */
  @Test
  void handOffIsMeasuredPerSectionWhileTheWorkerSpins() {
    Parallel.setThreads(1);
    assertThat(Parallel.handOffNanos()).isEqualTo(-1L);
    Parallel.setThreads(2);
    AtomicLong sink = new AtomicLong();
    long deadline = System.nanoTime() + 20_000_000_000L;
    int sections = 0;
    while (Parallel.handOffNanos() < 0 && System.nanoTime() < deadline) {
      Parallel.forChunks(2, (chunk, start, end) -> sink.addAndGet(chunk));
      sections++;
    }
    assertThat(sections).isAtLeast(Parallel.HAND_OFF_WINDOW);
    assertThat(Parallel.handOffNanos()).isGreaterThan(0L);
    assertThat(Parallel.handOffNanos()).isLessThan(1_000_000L);
  }

  @Test
  void manyShortSectionsEachRunEveryChunkOnce() {
    Parallel.setThreads(2);
    AtomicLong total = new AtomicLong();
    int sections = 20_000;
    for (int s = 0; s < sections; s++) {
      int n = 2 + s % 5;
      Parallel.forRange(n, (start, end) -> total.addAndGet(end - start));
    }
    long expected = 0;
    for (int s = 0; s < sections; s++) {
      expected += 2 + s % 5;
    }
    assertThat(total.get()).isEqualTo(expected);
  }

  /**
   * The first chunk of every section runs on the calling thread (a row-split layer keeps band 0 in the caller's
   * arrays), whether the worker spins or is parked, and the other chunks run once each. With the first chunk up
   * for grabs a spinning worker took it in some sections of every run of this test (tens to thousands of the
   * 20,000 here).
   */
  @Test
  void theFirstChunkRunsOnTheCaller() throws InterruptedException {
    Parallel.setThreads(2);
    Thread caller = Thread.currentThread();
    AtomicLong elsewhere = new AtomicLong();
    AtomicLong runs = new AtomicLong();
    int sections = 20_000;
    for (int s = 0; s < sections; s++) {
      if (s == sections / 2) {
        Thread.sleep(50); // past the spin: the worker parks, and the next section wakes it
      }
      Parallel.forChunks(2, (chunk, start, end) -> {
        runs.incrementAndGet();
        if (chunk == 0 && Thread.currentThread() != caller) {
          elsewhere.incrementAndGet();
        }
      });
    }
    assertThat(runs.get()).isEqualTo(2L * sections);
    assertThat(elsewhere.get()).isEqualTo(0L);
  }

  /**
   * Sections of alternating widths (2 and 3 chunks on 3 threads): a worker without a chunk in one section
   * must not run a chunk of the next one twice.
   */
  @Test
  void sectionsOfDifferentWidthsRunEachChunkOnce() {
    for (int threads : new int[] {3, 4}) {
      Parallel.setThreads(threads);
      int sections = 20_000;
      int[] runs = new int[sections * threads];
      for (int s = 0; s < sections; s++) {
        int section = s;
        int width = 2 + s % (threads - 1);
        Parallel.forChunks(width, (chunk, start, end) -> runs[section * threads + chunk]++);
      }
      for (int s = 0; s < sections; s++) {
        int width = 2 + s % (threads - 1);
        for (int c = 0; c < threads; c++) {
          assertThat(runs[s * threads + c]).isEqualTo(c < width ? 1 : 0);
        }
      }
    }
  }

  @Test
  void failuresReachTheCaller() {
    Parallel.setThreads(2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Parallel.forChunks(10, (chunk, start, end) -> {
          if (chunk == 1) {
            throw new IllegalArgumentException("chunk one");
          }
        }));
    assertThat(e).hasMessageThat().isEqualTo("chunk one");
    AssertionError error = assertThrows(AssertionError.class,
        () -> Parallel.forChunks(10, (chunk, start, end) -> {
          if (chunk == 0) {
            throw new AssertionError("chunk zero");
          }
        }));
    assertThat(error).hasMessageThat().isEqualTo("chunk zero");
    // The pool still works afterwards.
    AtomicInteger runs = new AtomicInteger();
    Parallel.forChunks(10, (chunk, start, end) -> runs.incrementAndGet());
    assertThat(runs.get()).isEqualTo(2);
  }

  @Test
  void nestedCallsRunOnTheCallerWithTheSameChunks() {
    Parallel.setThreads(2);
    ConcurrentLinkedQueue<String> inner = new ConcurrentLinkedQueue<>();
    Parallel.forChunks(2, (outer, s0, e0) -> Parallel.forChunks(9, (chunk, start, end) ->
        inner.add(outer + ":" + chunk + ":" + start + "-" + end + ":" + Thread.currentThread().getName())));
    assertThat(inner).hasSize(4);
    List<String> ranges = new ArrayList<>();
    for (String s : inner) {
      String[] parts = s.split(":");
      ranges.add(parts[0] + ":" + parts[1] + ":" + parts[2]);
    }
    assertThat(ranges).containsExactly("0:0:0-4", "0:1:4-9", "1:0:0-4", "1:1:4-9");
  }

  @Test
  void concurrentCallersAllComplete() throws InterruptedException {
    Parallel.setThreads(2);
    int callers = 4;
    int sections = 2_000;
    AtomicLong total = new AtomicLong();
    CountDownLatch done = new CountDownLatch(callers);
    List<Throwable> failures = new ArrayList<>();
    for (int k = 0; k < callers; k++) {
      Thread t = new Thread(() -> {
        try {
          for (int s = 0; s < sections; s++) {
            Parallel.forRange(100, (start, end) -> total.addAndGet(end - start));
          }
        } catch (Throwable e) {
          synchronized (failures) {
            failures.add(e);
          }
        } finally {
          done.countDown();
        }
      });
      t.start();
    }
    done.await();
    assertThat(failures).isEmpty();
    assertThat(total.get()).isEqualTo((long) callers * sections * 100);
  }

  @Test
  void changingTheThreadCountTakesEffect() {
    Parallel.setThreads(2);
    AtomicInteger chunks = new AtomicInteger();
    Parallel.forChunks(8, (chunk, start, end) -> chunks.incrementAndGet());
    assertThat(chunks.get()).isEqualTo(2);
    Parallel.setThreads(3);
    chunks.set(0);
    Parallel.forChunks(8, (chunk, start, end) -> chunks.incrementAndGet());
    assertThat(chunks.get()).isEqualTo(3);
    assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(0));
  }
  /**
   * Inside {@code onCallingThread} the calling thread sees one thread and runs every section itself, in one chunk
   * (as with one thread), nested calls included and after a failure; another thread meanwhile still sees two.
   */
  @Test
  void onCallingThreadRunsSectionsAloneThereOnly() throws Exception {
    Parallel.setThreads(2);
    Thread caller = Thread.currentThread();
    int[] seenElsewhere = new int[1];
    List<String> runs = Parallel.onCallingThread(() -> {
      List<String> r = new ArrayList<>();
      r.add("threads " + Parallel.threads() + " chunks " + Parallel.chunkCount(100) + " split "
          + Parallel.worthSplitting(Parallel.MIN_MACS * 8, Parallel.MIN_MACS));
      Parallel.forChunks(100, (chunk, start, end) -> r.add(chunk + ":" + start + "-" + end + " "
          + (Thread.currentThread() == caller)));
      r.add("nested " + Parallel.onCallingThread(Parallel::threads));
      r.add("after nested " + Parallel.threads());
      Thread other = new Thread(() -> seenElsewhere[0] = Parallel.threads());
      other.start();
      try {
        other.join();
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      return r;
    });
    assertThat(runs).containsExactly("threads 1 chunks 1 split false", "0:0-100 true", "nested 1",
        "after nested 1").inOrder();
    assertThat(seenElsewhere[0]).isEqualTo(2);
    assertThat(Parallel.threads()).isEqualTo(2);
    assertThrows(IllegalStateException.class, () -> Parallel.onCallingThread(() -> {
      throw new IllegalStateException("inside");
    }));
    assertThat(Parallel.threads()).isEqualTo(2);
    assertThat(Parallel.chunkCount(100)).isEqualTo(2);
  }
}
