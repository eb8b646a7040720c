package dev.kiln.runtime;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * The one shared thread pool that kernels use. Its size is the system property {@code kiln.threads}
 * (default: available processors) or {@link #setThreads(int)}; 1 runs everything on the calling thread,
 * deterministically.
 *
 * <p>A training step runs dozens of short parallel sections back to back, so handing a section to a worker
 * must cost far less than a thread wake-up (tens of microseconds on a virtual machine). The workers
 * therefore wait for the next section by spinning for {@link #SPIN_NANOS} after each one before they park,
 * and the caller spins while it waits for them; a parked worker is woken by the next section. Nobody spins
 * while the machine has more runnable threads than processors ({@link RunQueue}, sampled by the caller every
 * 20 ms): spinning would then take processor time from the threads doing the work. One section
 * runs at a time: a call made while another is running (from another thread, or from inside a body) runs
 * its chunks one after another on the calling thread, with the same chunk boundaries, so results do not
 * depend on which way it went.
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

  /**
   * How long a worker spins for the next section, and the caller for the workers, before parking
   * ({@code kiln.spin.micros}); when there are more threads than processors they park at once (a spinning
   * thread would hold a processor that a working one needs).
   */
  static final long SPIN_NANOS = initialSpinNanos();

  /** The least work, in multiply-adds, that {@link #worthSplitting} hands to the pool. */
  public static final long MIN_MACS = 1L << 17;

  /** The least work, in elements read or written (element-wise passes, pools, BatchNorm), worth the pool. */
  public static final long MIN_ELEMENTS = 1L << 16;

  /** Pieces per thread that {@link #forRange} splits a range into (fixed boundaries, claimed dynamically). */
  static final int PIECES_PER_THREAD = 4;

  /** The most pieces a section handed to the pool can have (a claim word holds the count in 16 bits). */
  private static final int PIECE_MASK = 0xFFFF;

  /** Samples of the run queue the pool remembers ({@link #HISTORY_MASK}) and how many must be over to quiet it. */
  private static final int HISTORY_MASK = 0xFF;
  private static final int QUIET_SAMPLES = 6;

  /** The most a thread spins while the machine is oversubscribed. */
  static final long QUIET_SPIN_NANOS = 50_000L;

  private static final int PROCESSORS = Runtime.getRuntime().availableProcessors();

  private static volatile int threads = initialThreads();
  private static volatile Pool pool;

  private Parallel() {}

  /**
   * The spin time: system property {@code kiln.spin.micros} (default 2000; 0 parks at once). Where the pool
   * cannot see the machine's run queue (not Linux), this is how to stop spinning on a machine whose processors
   * are busy with other work.
   */
  private static long initialSpinNanos() {
    String value = System.getProperty("kiln.spin.micros");
    if (value != null) {
      try {
        long micros = Long.parseLong(value.trim());
        if (micros >= 0 && micros <= 1_000_000L) {
          return micros * 1_000L;
        }
      } catch (NumberFormatException ignored) {
        // fall through to the default
      }
      System.err.println("kiln: ignoring kiln.spin.micros=" + value + " (expected 0 to 1000000)");
    }
    return 2_000_000L;
  }

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

  /** Where the calling thread is inside {@link #onCallingThread}: there {@link #threads()} is 1. */
  private static final ThreadScope ALONE = new ThreadScope();

  /**
   * The number of threads kernels split work over: {@link #setThreads}'s (or {@code kiln.threads}'s) count, or
   * 1 inside {@link #onCallingThread}.
   */
  public static int threads() {
    int t = threads;
    return t > 1 && ALONE.active() ? 1 : t;
  }

  /**
   * Runs {@code body} with every section it starts on the calling thread alone, as if the pool had one thread
   * (on this thread only; other threads' sections use the pool as before). Kernels compute the same bits on any
   * thread count, so only the time differs. A network's first forward of one sample runs this way while the JIT
   * compiles its code: on a two-processor machine a second worker took the processor the compiler threads
   * needed (see {@code BlockedNetwork#forward}).
   */
  public static <T> T onCallingThread(Supplier<T> body) {
    return ALONE.call(body);
  }

  /** Sets the number of threads (at least 1); takes effect for the next parallel call. */
  public static synchronized void setThreads(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("threads must be >= 1 but was " + n);
    }
    if (n != threads) {
      threads = n;
      Pool old = pool;
      pool = null;
      if (old != null) {
        old.shutdown();
      }
    }
  }

  private static synchronized Pool pool() {
    Pool p = pool;
    if (p == null) {
      p = new Pool(Math.max(1, threads - 1));
      pool = p;
    }
    return p;
  }

  /**
   * Whether a section of {@code work} units over {@code items} independent items is worth handing to the
   * pool: more than one thread, more than one item, and at least {@code minWork} units ({@link #MIN_MACS} or
   * {@link #MIN_ELEMENTS}); below that the hand-off costs more than it saves. The decision depends only on
   * the sizes and the thread count, so results do not depend on timing.
   */
  public static boolean worthSplitting(long work, long minWork, long items) {
    return threads() > 1 && items > 1 && work >= minWork;
  }

  /** {@link #worthSplitting(long, long, long)} for work that splits finely whatever its shape. */
  public static boolean worthSplitting(long work, long minWork) {
    return worthSplitting(work, minWork, Long.MAX_VALUE);
  }

  /**
   * Runs {@code body} over {@code [0, n)} split into at most {@link #threads()} contiguous chunks; the
   * calling thread takes the first chunk. Chunk boundaries depend only on {@code n} and the thread count.
   */
  public static void forRange(int n, RangeBody body) {
    run(n, null, body);
  }

  /**
   * Like {@link #forRange} but tells the body which chunk it runs, so that per-chunk partial results can
   * be combined in chunk order (deterministic for a given thread count).
   */
  public static void forChunks(int n, ChunkBody body) {
    run(n, body, null);
  }

  /** Runs {@code chunks} or (if null) {@code range} over the chunks of {@code [0, n)}. */
  private static void run(int n, ChunkBody chunks, RangeBody range) {
    int t = Math.min(threads(), n);
    if (t <= 1) {
      if (n > 0) {
        runChunk(chunks, range, 0, 0, n);
      }
      return;
    }
    // A range is split finer than the thread count, so that a thread the scheduler keeps waiting holds up
    // little of it; chunks of forChunks keep the fixed boundaries their callers combine partials by.
    int pieces = chunks != null ? t : Math.min(n, t * PIECES_PER_THREAD);
    Pool p = pool();
    if (pieces > PIECE_MASK || t - 1 > p.workers.length || !p.acquire()) {
      // Another section is running (or the pool is being replaced): the pieces in order, here.
      for (int c = 0; c < pieces; c++) {
        runChunk(chunks, range, c, chunkStart(n, c, pieces), chunkStart(n, c + 1, pieces));
      }
      return;
    }
    Throwable failure;
    try {
      p.sampleLoad();
      long gen = p.start(chunks, range, n, pieces);
      p.runFirst();
      p.work(gen);
      failure = p.await();
    } finally {
      p.release();
    }
    if (failure instanceof RuntimeException) {
      throw (RuntimeException) failure;
    }
    if (failure instanceof Error) {
      throw (Error) failure;
    }
    if (failure != null) {
      throw new IllegalStateException(failure);
    }
  }

  private static void runChunk(ChunkBody chunks, RangeBody range, int chunk, int start, int end) {
    if (chunks != null) {
      chunks.run(chunk, start, end);
    } else {
      range.run(start, end);
    }
  }

  /** The first index of chunk {@code c} of {@code t} over {@code [0, n)}. */
  private static int chunkStart(int n, int c, int t) {
    return (int) ((long) n * c / t);
  }

  /** How many chunks {@link #forChunks} splits {@code n} items into with the current thread count. */
  public static int chunkCount(int n) {
    return Math.max(1, Math.min(threads(), n));
  }

  /**
   * Worker threads that spin between sections; one section at a time. A section is {@code pieces} pieces
   * of fixed boundaries. The first is the caller's, claimed as the section is published; the caller and the
   * workers claim the others one at a time from one atomic word holding the section's generation and the next
   * piece, so a piece runs exactly once, on whichever thread gets to it first: the caller never waits for a
   * worker that has not started (it takes the pieces itself), only for pieces already running elsewhere. A
   * worker that comes late, to a section whose pieces are all taken, finds its generation gone from the word and
   * claims nothing.
   */
  private static final class Pool {
    final Worker[] workers;
    private final AtomicBoolean inUse = new AtomicBoolean();
    /**
     * The running section's generation (high 32 bits), its piece count (bits 16-31) and the next unclaimed
     * piece (low 16 bits).
     */
    private final AtomicLong claim = new AtomicLong();
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** The running section (one of the two bodies); written before {@link #generation} publishes it. */
    private ChunkBody body;
    private RangeBody range;
    private int n;
    private int pieces;
    private volatile long generation;
    /** When the running section was published ({@link System#nanoTime}), for {@link #handOffNanos}. */
    private volatile long published;
    private volatile boolean shutdown;
    /** {@link #SPIN_NANOS}, or 0 with more threads than processors. */
    final long spinNanos;
    /** The machine's runnable threads, where the system tells (Linux), or null. */
    private final RunQueue runQueue = RunQueue.open();
    /** Whether nobody spins for now: the machine had more runnable threads than processors. */
    private volatile boolean quiet;
    private long nextSample;
    /** The last eight samples, one bit each (lowest: the latest): whether the machine was oversubscribed. */
    private int overHistory;

    Pool(int size) {
      spinNanos = size + 1 <= Runtime.getRuntime().availableProcessors() ? SPIN_NANOS : 0L;
      workers = new Worker[size];
      for (int i = 0; i < size; i++) {
        workers[i] = new Worker(this, i + 1);
        workers[i].setDaemon(true);
        workers[i].start();
      }
    }

    /**
     * {@code spin}, or at most {@link #QUIET_SPIN_NANOS} while the machine is oversubscribed: long enough to
     * catch the next of a forward's back-to-back sections (a wake-up costs tens of microseconds, several per
     * forward), too short to hold a processor another process needs between calls.
     */
    long spinBudget(long spin) {
      return quiet ? Math.min(spin, QUIET_SPIN_NANOS) : spin;
    }

    /**
     * By the caller at a section's start, at most every {@link RunQueue#SAMPLE_NANOS}: whether the machine
     * has more runnable threads than processors (then spinning only takes time from the threads doing the
     * work, ours or not), in which case nobody spins for {@link RunQueue#QUIET_NANOS}.
     */
    void sampleLoad() {
      if (runQueue == null || spinNanos == 0) {
        return;
      }
      long now = System.nanoTime();
      if (now - nextSample < 0) {
        return;
      }
      // Most of the last eight samples oversubscribed: a thread that is runnable now and then (the JIT's
      // compiler threads, a short process, the machine's own daemons) does not silence the pool, one that
      // keeps running does. (Two samples in a row was too eager: on an idle virtual machine a third runnable
      // thread turned up in about a quarter of the samples, and the pool was quiet much of the time.)
      overHistory = (overHistory << 1 | (runQueue.runnable() > PROCESSORS ? 1 : 0)) & HISTORY_MASK;
      boolean over = Integer.bitCount(overHistory) >= QUIET_SAMPLES;
      quiet = over;
      nextSample = now + (over ? RunQueue.QUIET_NANOS : RunQueue.SAMPLE_NANOS);
    }

    boolean acquire() {
      return !shutdown && inUse.compareAndSet(false, true);
    }

    void release() {
      inUse.set(false);
    }

    /**
     * Publishes a section of {@code pieces} pieces over {@code [0, n)}, its first piece already claimed for the
     * caller ({@link #runFirst}), and wakes parked workers; returns the section's generation.
     */
    long start(ChunkBody body, RangeBody range, int n, int pieces) {
      this.body = body;
      this.range = range;
      this.n = n;
      this.pieces = pieces;
      failure.set(null);
      done.set(0);
      long g = (generation + 1) & 0xFFFF_FFFFL;
      claim.set(g << 32 | (long) pieces << 16 | 1);
      published = System.nanoTime();
      generation = g;
      for (Worker w : workers) {
        if (w.parked) {
          LockSupport.unpark(w);
        }
      }
      return g;
    }

    /**
     * Runs the section's first piece, which {@link #start} claimed for the calling thread. With the first
     * piece up for grabs, a spinning worker sometimes took it (it saw the section while the caller was still
     * reading the workers' parked flags, lines the workers write) and the caller the second: a row-split layer's
     * bands then ran on each other's processor, and their arrays (the pieces' own, see the blocked network
     * engine) crossed between the caches, for that layer and the next. On RepVGG-A0 at N=1 on 2 threads (AMD EPYC
     * Zen 4) that was 2.5-19% of the sections; MobileNet v1 at N=1 on 2 threads took 0.958-0.996 of the time with
     * the first piece reserved (four in-process alternations, both orders).
     */
    void runFirst() {
      runPiece(body, range, n, 0, pieces);
    }

    /** Runs piece {@code piece} of {@code total} over {@code [0, size)} unless a piece failed; counts it done. */
    private void runPiece(ChunkBody b, RangeBody r, int size, int piece, int total) {
      try {
        if (failure.get() == null) {
          runChunk(b, r, piece, chunkStart(size, piece, total), chunkStart(size, piece + 1, total));
        }
      } catch (Throwable e) {
        fail(e);
      } finally {
        done.incrementAndGet();
      }
    }

    /**
     * Claims and runs pieces of section {@code gen} until none is left; returns how many this thread ran.
     * Whether a piece is left is decided from the claim word alone (generation, piece count and next piece
     * are published together), and the section's other fields are read after a successful claim: the
     * claimed piece is not done, so the caller cannot yet have written the next section's fields. (Reading
     * the piece count from its field before the claim let a late worker compare the last section's claim
     * with the next section's count, and run a piece of the next section before it started.)
     */
    int work(long gen) {
      int ran = 0;
      while (true) {
        long c = claim.get();
        int piece = (int) (c & PIECE_MASK);
        int total = (int) ((c >>> 16) & PIECE_MASK);
        if ((c >>> 32) != gen || piece >= total) {
          return ran;
        }
        if (!claim.compareAndSet(c, c + 1)) {
          continue;
        }
        // Read only now: the claimed piece keeps the section running, so the caller cannot have moved on.
        runPiece(body, range, n, piece, total);
        ran++;
      }
    }

    void fail(Throwable e) {
      failure.compareAndSet(null, e);
    }

    /** Waits for the pieces other threads are running; the first failure, or null. Drops the bodies. */
    Throwable await() {
      int total = pieces;
      long spinUntil = System.nanoTime() + spinBudget(spinNanos);
      while (done.get() < total) {
        if (System.nanoTime() < spinUntil) {
          Thread.onSpinWait();
        } else {
          LockSupport.parkNanos(20_000L);
        }
      }
      // Not kept until the next section: a body may hold large arrays.
      body = null;
      range = null;
      return failure.get();
    }

    /** Stops the workers once no section is running; later calls on this pool run on the caller. */
    void shutdown() {
      while (!inUse.compareAndSet(false, true)) {
        Thread.onSpinWait();
      }
      shutdown = true;
      generation = (generation + 1) & 0xFFFF_FFFFL;
      for (Worker w : workers) {
        LockSupport.unpark(w);
      }
    }
  }

  /** Sections per window of {@link #handOffNanos}. */
  static final int HAND_OFF_WINDOW = 256;

  /**
   * How long the pool's slowest worker took, at least, to see a new section while it was spinning for one: the
   * least over its last window of {@link #HAND_OFF_WINDOW} such sections, or -1 before there is one (one thread,
   * or too few sections yet). This is about the time one processor's write takes to reach another's cache, which
   * depends on where the two run: on this project's 2-processor virtual machine (AMD EPYC) 49-60 ns when they
   * shared a level-3 cache and 80-110 ns when they did not (a placement that changed from one minute to the
   * next; a value's round trip between two spinning threads took 56-74 and 340-480 ns). A diagnostic: the
   * network benchmark records it next to its 2-thread figures.
   */
  public static long handOffNanos() {
    Pool p = pool;
    if (p == null || threads <= 1) {
      return -1;
    }
    long max = -1;
    for (Worker w : p.workers) {
      max = Math.max(max, w.handOff);
    }
    return max;
  }

  /**
   * One worker: takes pieces of each section. It spins for the next section for up to the pool's spin time,
   * halved each time it arrived to find every piece taken (the caller had no use for it: on a machine whose
   * processors are all busy, its spinning only takes time from the threads doing the work), and back to the
   * full time once it gets a piece again.
   */
  private static final class Worker extends Thread {
    private final Pool pool;
    volatile boolean parked;
    /** Sections in a row this worker arrived too late to take a piece of. */
    private int late;
    /** The least hand-off time of the current window of {@link #HAND_OFF_WINDOW} sections this worker spun for. */
    private long windowMin = Long.MAX_VALUE;
    private int windowCount;
    /** The least hand-off time of the last complete window, or -1 before one. */
    volatile long handOff = -1;

    Worker(Pool pool, int index) {
      super("kiln-worker-" + index);
      this.pool = pool;
    }

    @Override
    public void run() {
      // Generation 0 is the pool's start: a section published before this thread first runs is still seen.
      long seen = 0;
      while (true) {
        seen = awaitNext(seen);
        if (pool.shutdown) {
          return;
        }
        int ran = pool.work(seen);
        late = ran > 0 ? 0 : Math.min(late + 1, 30);
      }
    }

    /** Spins, then parks, until the generation moves past {@code seen}; returns the new generation. */
    private long awaitNext(long seen) {
      long spinUntil = System.nanoTime() + pool.spinBudget(pool.spinNanos >> late);
      long g;
      boolean slept = false;
      while ((g = pool.generation) == seen) {
        if (System.nanoTime() < spinUntil) {
          Thread.onSpinWait();
        } else {
          slept = true;
          parked = true;
          // Re-read after announcing: a section started before the announcement is seen here, one
          // started after it sees the flag and unparks this thread.
          if (pool.generation == seen) {
            LockSupport.park(this);
          }
          parked = false;
        }
      }
      if (!slept) {
        // Seen while spinning: the time since the caller published the section is the hand-off's. No sample
        // when the time read is not after the publication's: either the caller ran every piece and published
        // the next section between this thread's two reads, or the two processors' clocks disagree by a few
        // nanoseconds (a zero or negative "hand-off" is neither).
        long now = System.nanoTime();
        long at = pool.published;
        if (now <= at || pool.generation != g) {
          return g;
        }
        windowMin = Math.min(windowMin, now - at);
        if (++windowCount == HAND_OFF_WINDOW) {
          handOff = windowMin;
          windowMin = Long.MAX_VALUE;
          windowCount = 0;
        }
      }
      return g;
    }
  }
}
