package dev.kiln.runtime;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The one shared thread pool that kernels use. Its size is the system property {@code kiln.threads}
 * (default: available processors) or {@link #setThreads(int)}; 1 runs everything on the calling thread,
 * deterministically.
 */
public final class Parallel {
  /** A body run over a half-open range of indices. */
  @FunctionalInterface
  public interface RangeBody {
    void run(int start, int end);
  }

  /** A body run over one chunk of a half-open range; {@code chunk} is in {@code [0, chunkCount(n))}. */
  @FunctionalInterface
  public interface ChunkBody {
    void run(int chunk, int start, int end);
  }

  private static volatile int threads = initialThreads();
  private static volatile ExecutorService pool;

  private Parallel() {}

  private static int initialThreads() {
    String value = System.getProperty("kiln.threads");
    if (value != null) {
      try {
        int n = Integer.parseInt(value.trim());
        if (n >= 1) {
          return n;
        }
      } catch (NumberFormatException ignored) {
        // fall through to the default
      }
      System.err.println("kiln: ignoring kiln.threads=" + value + " (expected a positive integer)");
    }
    return Runtime.getRuntime().availableProcessors();
  }

  /** The number of threads kernels split work over. */
  public static int threads() {
    return threads;
  }

  /** Sets the number of threads (at least 1); takes effect for the next parallel call. */
  public static synchronized void setThreads(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("threads must be >= 1 but was " + n);
    }
    if (n != threads) {
      threads = n;
      ExecutorService old = pool;
      pool = null;
      if (old != null) {
        old.shutdown();
      }
    }
  }

  private static synchronized ExecutorService pool() {
    ExecutorService p = pool;
    if (p == null) {
      AtomicInteger count = new AtomicInteger();
      ThreadFactory factory = r -> {
        Thread t = new Thread(r, "kiln-worker-" + count.incrementAndGet());
        t.setDaemon(true);
        return t;
      };
      p = Executors.newFixedThreadPool(Math.max(1, threads - 1), factory);
      pool = p;
    }
    return p;
  }

  /**
   * Runs {@code body} over {@code [0, n)} split into at most {@link #threads()} contiguous chunks; the
   * calling thread takes the first chunk. Chunk boundaries depend only on {@code n} and the thread count.
   */
  public static void forRange(int n, RangeBody body) {
    forChunks(n, (chunk, start, end) -> body.run(start, end));
  }

  /**
   * Like {@link #forRange} but tells the body which chunk it runs, so that per-chunk partial results can
   * be combined in chunk order (deterministic for a given thread count).
   */
  public static void forChunks(int n, ChunkBody body) {
    int t = Math.min(threads, n);
    if (t <= 1) {
      if (n > 0) {
        body.run(0, 0, n);
      }
      return;
    }
    ExecutorService p = pool();
    CountDownLatch done = new CountDownLatch(t - 1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    for (int c = 1; c < t; c++) {
      int chunk = c;
      int start = (int) ((long) n * c / t);
      int end = (int) ((long) n * (c + 1) / t);
      p.execute(() -> {
        try {
          body.run(chunk, start, end);
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        } finally {
          done.countDown();
        }
      });
    }
    try {
      body.run(0, 0, (int) ((long) n / t));
    } catch (Throwable e) {
      failure.compareAndSet(null, e);
    }
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for kernel workers", e);
    }
    Throwable f = failure.get();
    if (f instanceof RuntimeException) {
      throw (RuntimeException) f;
    }
    if (f instanceof Error) {
      throw (Error) f;
    }
    if (f != null) {
      throw new IllegalStateException(f);
    }
  }

  /** How many chunks {@link #forChunks} splits {@code n} items into with the current thread count. */
  public static int chunkCount(int n) {
    return Math.max(1, Math.min(threads, n));
  }
}
