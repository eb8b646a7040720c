package dev.kiln.simd;

import static dev.kiln.simd.VectorShape.LANES;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Gets the tile kernels of {@link BlockedKernels} compiled by C2 before real work reaches them.
 *
 * <p>Vector API code runs only when C2 has compiled it: interpreted or compiled by C1, every vector operation
 * is a call into Java fallback code that allocates, some hundred times slower than the compiled kernel, and
 * that slow code is itself hot enough to fill C2's queue with the fallbacks. A tile kernel called for the
 * first time from a network's first forward therefore ran for seconds. Instead, tiles are handed to one
 * background thread, which calls each on tiny inputs (a few reduction steps, so that each call costs little in
 * the slow modes), with calls that do nothing in between ({@link #EMPTY_CALLS}), until its calls take as
 * little time as only compiled code can; the tile is then <em>hot</em>. The one-block tiles a network's first
 * forward runs on are requested when its layers are constructed and warmed first, in the order requested; a
 * layer waits for them (for at most {@link #WAIT_NANOS}). Each layer's own, faster tiles are requested after
 * the network's first forward (at its start where it runs a batch together) and warmed in the order of the work
 * they take over. Since every tile computes each output element by the same fused multiply-adds in the same
 * order, which tile a call uses never changes a result. Between the tiles needed now and the others the thread
 * also runs work a first forward would otherwise do itself ({@link #schedule}).
 */
final class TileWarmer {
  /** A call on the warm-up input faster than this can only be compiled code (the slow modes take tens of us). */
  private static final long HOT_CALL_NANOS = 2_000L;
  /**
   * Calls that do no work ({@link Tile#emptyCall}) between two warm-up calls. HotSpot compiles a method with C2
   * once it has been invoked often enough (about 5,000 times in C1's profiling code, more while C2's queue is
   * long: a tile's first C2 compile came after 1,600-29,000 calls), and before that every vector operation of a
   * real call allocates: with real calls only, warming MobileNet v1's eight tiles allocated 989 MB and lasted
   * until 2.8-3.8 s after the JVM's start, on a virtual machine where each new megabyte of heap costs about 3
   * ms of page faults. The empty calls count as invocations at no cost, and the real ones in between still
   * give C2 every path and loop: with 63 the tiles were hot at 2.0 s (264 MB allocated with 63 in an earlier
   * run), the first one-block tile after 150-230 ms of warming instead of about 500, and the networks' steady
   * times did not move measurably (with 15 neither).
   */
  static final int EMPTY_CALLS = 63;
  /**
   * Fast calls that make a tile hot: a run of them, which a slow call halves rather than ends. In the slow modes
   * every call is slow, but a compiled kernel's calls are now and then slow too: on an AMD EPYC Zen 5 virtual
   * machine, in one JVM of two to five, one warm-up call of the classifier kernel in about 22 took 9-25 us
   * (another thread's work, the host) for as long as it was warmed, so a run of 32 consecutive fast calls never came
   * and RepVGG-A0's classifier ran its plain-Java sums until the warmer gave up after {@link #WAIT_NANOS}: 0.5-3 ms
   * of every forward for 12-18 s.
   */
  static final int HOT_CALLS = 32;
  /** The longest a layer waits for a tile, and the longest the warmer works on one. */
  static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);
  /** Reduction steps per warm-up call of a depthwise tile. */
  private static final int STEPS = 16;
  /**
   * Reduction steps of the warm-up calls of a convolution tile, alternately: one block of input channels and
   * two. With one only, a pointwise tile was compiled never having taken the branch or looped back over the
   * channel blocks as every real layer does, and its first real calls threw it out of compiled code again
   * ("unstable_if"): MobileNet v1 then ran for about a second at up to 1.2 s per forward.
   */
  private static final int[] CONV_STEPS = {LANES, 2 * LANES};

  /** A tile kernel and whether it is compiled. */
  static final class Tile {
    final String key;
    final BlockedKernels.ConvTile conv;
    final BlockedKernels.DepthwiseTile depthwise;
    final BlockedKernels.Depthwise3x3Tile depthwise3x3;
    /** One call of the kernel on tiny inputs (the warm-up calls vary what each takes from call to call). */
    final Runnable warmCall;
    /**
     * A call of the kernel that computes nothing and allocates nothing (no reduction steps, an empty clamp range,
     * no rows or no blocks), or null for a kernel without one.
     */
    final Runnable emptyCall;
    private volatile boolean hot;
    private volatile boolean queued;
    /** Work it would take over (guarded by the class lock). */
    private long benefit;

    private Tile(String key, BlockedKernels.ConvTile conv, BlockedKernels.DepthwiseTile depthwise,
        BlockedKernels.Depthwise3x3Tile depthwise3x3, Runnable warmCall, Runnable emptyCall) {
      this.key = key;
      this.conv = conv;
      this.depthwise = depthwise;
      this.depthwise3x3 = depthwise3x3;
      this.warmCall = warmCall;
      this.emptyCall = emptyCall;
    }

    /** A kernel known only by its warm-up call, with no empty call (tests' stand-ins for kernels). */
    Tile(String key, Runnable warmCall) {
      this(key, warmCall, null);
    }

    /** A kernel with no tile interface of its own ({@link HeadKernels}): its warm-up call and its empty call. */
    Tile(String key, Runnable warmCall, Runnable emptyCall) {
      this(key, null, null, null, warmCall, emptyCall);
    }

    /** A stand-in that is hot from the start and never warmed ({@link DriverPrimer}). */
    static Tile standIn(String key, BlockedKernels.ConvTile conv, BlockedKernels.DepthwiseTile depthwise,
        BlockedKernels.Depthwise3x3Tile depthwise3x3) {
      Tile t = new Tile(key, conv, depthwise, depthwise3x3, null, null);
      t.hot = true;
      return t;
    }

    /** Whether C2 has compiled it (as far as timing tells). */
    boolean hot() {
      return hot;
    }

    /** Waits until the tile is hot, at most {@link #WAIT_NANOS}; true if it is. */
    boolean awaitHot() {
      if (hot || !waiting) {
        return hot;
      }
      request(this, true);
      long deadline = System.nanoTime() + WAIT_NANOS;
      synchronized (this) {
        while (!hot) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          try {
            TimeUnit.NANOSECONDS.timedWait(this, left);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return hot;
          }
        }
      }
      return true;
    }

    private synchronized void markHot() {
      hot = true;
      notifyAll();
    }

    @Override
    public String toString() {
      return key + (hot ? " (hot)" : "");
    }
  }

  private static final ConcurrentHashMap<String, Tile> TILES = new ConcurrentHashMap<>();
  /** Tiles a layer needs now, then tiles that would only be faster than ones already queued. */
  private static final LinkedBlockingDeque<Tile> NEEDED = new LinkedBlockingDeque<>();
  /** Guarded by the class lock; warmed most beneficial first. */
  private static final java.util.List<Tile> FASTER = new java.util.ArrayList<>();
  private static volatile Thread thread;
  /** Whether layers wait for tiles to be hot (tests of many tile sizes turn it off). */
  private static volatile boolean waiting = true;

  private TileWarmer() {}

  /** Whether layers wait for tiles to be compiled before using them (default true); for tests. */
  static void setWaiting(boolean wait) {
    waiting = wait;
  }

  /** Whether layers wait for tiles to be compiled. */
  static boolean waiting() {
    return waiting;
  }

  /** The convolution tile of {@code blocks} x {@code pixels} with pixel stride 0 (any), 1 or 2, shared. */
  static Tile conv(int blocks, int pixels, int pixelStride) {
    return conv(blocks, pixels, pixelStride, NO_KIND);
  }

  /** A bound no kind has ({@link #boundKind}): the general tile, which takes the bound of each call. */
  private static final float NO_KIND = Float.NaN;

  /**
   * {@link #conv(int, int, int)} for layers of lower bound {@code lo}: of the kind with that bound as a constant
   * where there is one ({@link BlockedKernels#conv(int, int, int, float)}), shared.
   */
  static Tile conv(int blocks, int pixels, int pixelStride, float lo) {
    String kind = boundKind(blocks, lo);
    String key = "conv" + blocks + "x" + pixels + "/" + pixelStride + kind;
    Tile t = TILES.get(key);
    return t != null ? t
        : shared(convTile(key, BlockedKernels.conv(blocks, pixels, pixelStride, lo), blocks, warmBound(kind, lo)));
  }

  /** The key's suffix for the kind of tile {@link BlockedKernels} gives for {@code blocks} and {@code lo}. */
  private static String boundKind(int blocks, float lo) {
    if (!BlockedKernels.hasBoundKinds(blocks)) {
      return "";
    }
    return BlockedKernels.reluBound(lo) ? " relu" : lo == Float.NEGATIVE_INFINITY ? " linear" : "";
  }

  /**
   * The bound a tile of {@code kind} (for layers of bound {@code lo}) is warmed with: its own, which the kinds
   * assert, else 0.
   */
  private static float warmBound(String kind, float lo) {
    return kind.isEmpty() ? 0f : lo;
  }

  /**
   * The pointwise tile of {@code blocks} x {@code pixels} ({@link BlockedKernels#pointwise}) taking the lanes per
   * iteration {@link TileBudget#pointwiseLanes} chooses here, shared.
   */
  static Tile pointwise(int blocks, int pixels) {
    return pointwise(blocks, pixels, NO_KIND);
  }

  /** {@link #pointwise(int, int)} for layers of lower bound {@code lo} (see {@link #conv(int, int, int, float)}). */
  static Tile pointwise(int blocks, int pixels, float lo) {
    return pointwise(blocks, pixels, TileBudget.pointwiseLanes(blocks, pixels), lo);
  }

  /** The pointwise tile of {@code blocks} x {@code pixels} taking {@code lanes} lanes per iteration, shared. */
  static Tile pointwise(int blocks, int pixels, int lanes) {
    return pointwise(blocks, pixels, lanes, NO_KIND);
  }

  /** {@link #pointwise(int, int, int)} for layers of lower bound {@code lo}, shared. */
  static Tile pointwise(int blocks, int pixels, int lanes, float lo) {
    String kind = boundKind(blocks, lo);
    String key = "pointwise" + blocks + "x" + pixels + (lanes == 1 ? " one lane" : "") + kind;
    Tile t = TILES.get(key);
    return t != null ? t
        : shared(convTile(key, BlockedKernels.pointwise(blocks, pixels, lanes, lo), blocks, warmBound(kind, lo)));
  }

  /**
   * The plain-Java depthwise code ({@link BlockedConv#depthwiseScalar}) that depthwise layers run until their
   * vector tiles are hot, shared.
   */
  static Tile depthwisePlain() {
    Tile t = TILES.get("depthwise plain");
    return t != null ? t : shared(new DepthwisePlainWarmUp().tile("depthwise plain", null, null, null));
  }

  /**
   * The plain-Java classifier ({@link HeadKernels#linearPlain}) that a network's linear layer runs until the
   * vector kernel is hot, shared.
   */
  static Tile linearPlain() {
    Tile t = TILES.get("linear plain");
    return t != null ? t : shared(new LinearPlainWarmUp().tile("linear plain", null, null, null));
  }

  /**
   * Winograd's input transform ({@link WinogradConv#inputRow}), or with {@code plain} its plain-Java form
   * ({@link WinogradConv#inputRowPlain}), shared by every Winograd layer.
   */
  static Tile winogradInput(boolean plain) {
    String key = plain ? "winograd input plain" : "winograd input";
    Tile t = TILES.get(key);
    return t != null ? t : shared(new WinogradInputWarmUp(plain).tile(key, null, null, null));
  }

  /**
   * Winograd's output transform ({@link WinogradConv#outputRow}), or its plain-Java form, as {@link #winogradInput}.
   */
  static Tile winogradOutput(boolean plain) {
    String key = plain ? "winograd output plain" : "winograd output";
    Tile t = TILES.get(key);
    return t != null ? t : shared(new WinogradOutputWarmUp(plain).tile(key, null, null, null));
  }

  /** The conversions' 16x16 transposes ({@link BlockTranspose#runs}), both ways, shared. */
  static Tile transposes() {
    Tile t = TILES.get("transposes");
    return t != null ? t : shared(new TransposeWarmUp().tile("transposes", null, null, null));
  }

  /** Winograd's weight transform ({@link WinogradConv#transform}), shared by every Winograd layer. */
  static Tile winogradWeights() {
    Tile t = TILES.get("winograd weights");
    return t != null ? t : shared(new WinogradWeightsWarmUp().tile("winograd weights", null, null, null));
  }

  /** The depthwise tile of {@code pixels} pixels, shared. */
  static Tile depthwise(int pixels) {
    String key = "depthwise" + pixels;
    Tile t = TILES.get(key);
    if (t != null) {
      return t;
    }
    BlockedKernels.DepthwiseTile tile = BlockedKernels.depthwise(pixels);
    return shared(new DepthwiseWarmUp(tile).tile(key, null, tile, null));
  }

  /** The depthwise 3x3 tile of {@code pixels} pixels at horizontal stride 1 or 2, shared. */
  static Tile depthwise3x3(int pixels, int stride) {
    String key = "depthwise3x3-" + pixels + "/" + stride;
    Tile t = TILES.get(key);
    if (t != null) {
      return t;
    }
    BlockedKernels.Depthwise3x3Tile tile = BlockedKernels.depthwise3x3(pixels, stride);
    return shared(new Depthwise3x3WarmUp(tile).tile(key, null, null, tile));
  }

  /** A convolution tile of {@code blocks} blocks, with its warm-up ({@link ConvWarmUp}) at bound {@code lo}. */
  private static Tile convTile(String key, BlockedKernels.ConvTile t, int blocks, float lo) {
    return new ConvWarmUp(t, blocks, lo).tile(key, t, null, null);
  }

  /**
   * The pooling kernel {@link HeadKernels#blockSums}, shared. Its warm-up calls sum five blocks (four
   * together and one alone) of 2x3 pixels.
   */
  static Tile blockSums() {
    Tile t = TILES.get("blockSums");
    return t != null ? t : shared(new BlockSumsWarmUp().tile("blockSums", null, null, null));
  }

  /** The fully connected kernel {@link HeadKernels#linear}, shared. */
  static Tile linear() {
    Tile t = TILES.get("linear");
    return t != null ? t : shared(new LinearWarmUp().tile("linear", null, null, null));
  }

  /** {@code made}, or the tile made under its key first by another thread (a race makes a spare, no harm). */
  private static Tile shared(Tile made) {
    Tile first = TILES.putIfAbsent(made.key, made);
    return first != null ? first : made;
  }

  /*
   * The warm-up of each kind of kernel is a named class, and the tiles above are made without lambdas: every
   * lambda is a class generated at run time (about 0.75 ms apiece in a fresh JVM on the AMD EPYC Zen 1, a few ms
   * for each new shape), and the bytecode library that generates them soon gets hot enough for C1 and C2 to
   * compile it while the first tile waits for C2. Tiles are made while a network is constructed and built, on
   * the way to its first result ({@code StartupClassesTest}).
   */

  /**
   * How one kind of kernel is warmed: {@link #warm} a real call on tiny inputs, varying what it takes from call to
   * call so that C2 sees every path; {@link #empty} a call that computes nothing ({@link Tile#emptyCall}).
   */
  private abstract static class WarmUp {
    abstract void warm();

    abstract void empty();

    /** A tile of this warm-up; {@code conv}, {@code depthwise} and {@code depthwise3x3} as {@link Tile} has them. */
    final Tile tile(String key, BlockedKernels.ConvTile conv, BlockedKernels.DepthwiseTile depthwise,
        BlockedKernels.Depthwise3x3Tile depthwise3x3) {
      return new Tile(key, conv, depthwise, depthwise3x3, new Call(this, false), new Call(this, true));
    }
  }

  /** A {@link WarmUp}'s real or empty call, as a {@link Tile} holds its calls. */
  private static final class Call implements Runnable {
    private final WarmUp warmUp;
    private final boolean empty;

    Call(WarmUp warmUp, boolean empty) {
      this.warmUp = warmUp;
      this.empty = empty;
    }

    @Override
    public void run() {
      if (empty) {
        warmUp.empty();
      } else {
        warmUp.warm();
      }
    }
  }

  /** A convolution tile: one block of input channels and two in turn ({@link #CONV_STEPS}); empty: no steps. */
  private static final class ConvWarmUp extends WarmUp {
    private final BlockedKernels.ConvTile tile;
    private final int blocks;
    /** The lower bound of its calls: 0, or minus infinity for a tile of the linear kind (which asserts it). */
    private final float lo;
    private final WarmInputs in;
    private int calls;

    ConvWarmUp(BlockedKernels.ConvTile tile, int blocks, float lo) {
      this.tile = tile;
      this.blocks = blocks;
      this.lo = lo;
      this.in = new WarmInputs(blocks);
    }

    @Override
    void warm() {
      run(CONV_STEPS[calls++ % CONV_STEPS.length]);
    }

    @Override
    void empty() {
      run(0);
    }

    private void run(int steps) {
      tile.run(in.x, 0, LANES, in.off, steps, in.w, 0, blocks * LANES, in.b, 0, lo, in.y, 0, LANES, WarmInputs.CS);
    }
  }

  /**
   * A depthwise tile: {@link #STEPS} taps, without an upper bound and with one in turn (the tile stores the two
   * ways, and a way the profile never saw would be compiled as a trap); empty: none.
   */
  private static final class DepthwiseWarmUp extends WarmUp {
    private final BlockedKernels.DepthwiseTile tile;
    private final WarmInputs in = new WarmInputs(1);
    private int calls;

    DepthwiseWarmUp(BlockedKernels.DepthwiseTile tile) {
      this.tile = tile;
    }

    @Override
    void warm() {
      run(STEPS, upperBound(calls++));
    }

    @Override
    void empty() {
      run(0, Float.POSITIVE_INFINITY);
    }

    private void run(int taps, float hi) {
      tile.run(in.x, 0, LANES, in.off, taps, in.w, 0, in.b, 0, 0f, hi, in.y, 0, LANES);
    }
  }

  /** The upper bound of a depthwise tile's warm call {@code call}: none (ReLU) and 6 (ReLU6) in turn. */
  static float upperBound(int call) {
    return call % 2 == 0 ? Float.POSITIVE_INFINITY : 6f;
  }

  /**
   * A depthwise 3x3 tile: {@link #TILES} tiles of one row in one call, without an upper bound and with one in turn
   * ({@link #upperBound}); empty: an empty clamp range.
   */
  private static final class Depthwise3x3WarmUp extends WarmUp {
    /** Tiles per warm call: two, so that the profile sees the loop over a row's tiles go round (rows hold 1-16). */
    static final int TILES = 2;

    private final BlockedKernels.Depthwise3x3Tile tile;
    private final WarmInputs in = new WarmInputs(1);

    Depthwise3x3WarmUp(BlockedKernels.Depthwise3x3Tile tile) {
      this.tile = tile;
    }

    private int calls;

    @Override
    void warm() {
      run(0f, upperBound(calls++));
    }

    @Override
    void empty() {
      run(1f, 0f);
    }

    private void run(float lo, float hi) {
      tile.run(in.x, 0, LANES, in.w, 0, in.b, 0, lo, hi, in.y, 0, TILES);
    }
  }

  /**
   * The transposes: one run and two in turn, into a block with a halo and back to its planes in turn (so the
   * profile sees both ways and the loop over runs go round); empty: no runs.
   */
  private static final class TransposeWarmUp extends WarmUp {
    private static final int PIXELS = 2 * LANES;
    private final float[] planes = new float[LANES * PIXELS];
    private final float[] block = new float[(PIXELS + 2) * LANES];
    private final int[] pixels = new int[PIXELS];
    private int calls;

    TransposeWarmUp() {
      for (int p = 0; p < PIXELS; p++) {
        pixels[p] = (p + 1) * LANES;
      }
    }

    @Override
    void warm() {
      int c = calls++;
      run(c % 3 == 0 ? 2 : 1, c % 2 == 0);
    }

    @Override
    void empty() {
      run(0, false);
    }

    private void run(int runs, boolean toPlanes) {
      // Only where the transposes exist: they are written for 16 lanes (narrower vectors never request them).
      if (BlockTranspose.AVAILABLE) {
        BlockTranspose.runs(planes, 0, PIXELS, block, 0, pixels, 0, runs, toPlanes);
      }
    }
  }

  /** The plain depthwise code: 3 pixels and 1 of a 3x3 kernel with an upper bound in turn; empty: no pixels. */
  private static final class DepthwisePlainWarmUp extends WarmUp {
    private final WarmInputs in = new WarmInputs(1);
    private int calls;

    @Override
    void warm() {
      run(calls++ % 2 == 0 ? 3 : 1);
    }

    @Override
    void empty() {
      run(0);
    }

    private void run(int pixels) {
      BlockedConv.depthwiseScalar(in.x, 0, LANES, in.off, 9, in.w, 0, in.b, 0, 0f, 6f, in.y, 0, pixels);
    }
  }

  /**
   * The plain classifier: an 8->18 layer on one row (four passes of four outputs and two outputs one at a time,
   * the code's two loops), with a bias and without in turn (small enough that compiled
   * code takes well under {@link #HOT_CALL_NANOS}: a 16->40 layer's calls took 1-2 us compiled, and on a busy
   * machine the warm-up waited for 32 fast calls in a row for up to 0.8 s); empty: no rows.
   */
  private static final class LinearPlainWarmUp extends WarmUp {
    private final float[] x = new float[8];
    private final float[] w = new float[18 * 8];
    private final float[] bias = new float[18];
    private final float[] y = new float[18];
    private int calls;

    @Override
    void warm() {
      HeadKernels.linearPlain(x, 8, w, calls++ % 2 == 0 ? bias : null, 18, y, 1);
    }

    @Override
    void empty() {
      HeadKernels.linearPlain(x, 8, w, bias, 16, y, 0);
    }
  }

  /** Winograd's weight transform: two 3x3 kernels; empty: none. */
  private static final class WinogradWeightsWarmUp extends WarmUp {
    private final float[] w = new float[2 * 9];
    private final float[] u = new float[WinogradConv.POSITIONS * 2];
    private final int[] columns = {0};
    private final int[] strides = {1};

    @Override
    void warm() {
      WinogradConv.transform(w, 1, 2, u, 0, 2, columns, strides);
    }

    @Override
    void empty() {
      WinogradConv.transform(w, 0, 0, u, 0, 2, columns, strides);
    }
  }

  /** Winograd's input transform: two patches and one in turn, as a row of 1 to 28 patches loops; empty: none. */
  private static final class WinogradInputWarmUp extends WarmUp {
    private final boolean plain;
    /** A 4x6 map of one channel block: two patches side by side. */
    private final float[] x = new float[4 * 6 * LANES];
    private final float[] v = new float[WinogradConv.POSITIONS * 2 * LANES];
    private int calls;

    WinogradInputWarmUp(boolean plain) {
      this.plain = plain;
    }

    @Override
    void warm() {
      run(calls++ % 2 == 0 ? 2 : 1);
    }

    @Override
    void empty() {
      run(0);
    }

    private void run(int count) {
      if (plain) {
        WinogradConv.inputRowPlain(x, 0, 6 * LANES, LANES, v, 0, 2 * LANES, count);
      } else {
        WinogradConv.inputRow(x, 0, 6 * LANES, LANES, v, 0, 2 * LANES, count);
      }
    }
  }

  /**
   * Winograd's output transform: two tiles and one in turn, with a bias (whole and partial) and without, so
   * that C2 compiles every path a real layer takes; empty: none.
   */
  private static final class WinogradOutputWarmUp extends WarmUp {
    private final boolean plain;
    private final float[] m = new float[WinogradConv.POSITIONS * 2 * LANES];
    private final float[] bias = new float[LANES];
    /** A 2x4 map of one channel block: two tiles side by side. */
    private final float[] y = new float[2 * 4 * LANES];
    private int calls;

    WinogradOutputWarmUp(boolean plain) {
      this.plain = plain;
    }

    @Override
    void warm() {
      int c = calls++;
      run(c % 3 == 2 ? null : bias, c % 3 == 1 ? LANES - 1 : LANES, c % 2 == 0 ? 2 : 1);
    }

    @Override
    void empty() {
      run(null, LANES, 0);
    }

    private void run(float[] b, int channels, int count) {
      if (plain) {
        WinogradConv.outputRowPlain(m, 0, 2 * LANES, b, 0, channels, 0f, Float.POSITIVE_INFINITY, y, 0, 4 * LANES,
            LANES, count);
      } else {
        WinogradConv.outputRow(m, 0, 2 * LANES, b, 0, channels, 0f, Float.POSITIVE_INFINITY, y, 0, 4 * LANES, LANES,
            count);
      }
    }
  }

  /** Pooling: five blocks of 2x3 pixels (four together and one alone); empty: no blocks. */
  private static final class BlockSumsWarmUp extends WarmUp {
    private final float[] x = new float[5 * 6 * LANES];
    private final float[] sums = new float[5 * LANES];

    @Override
    void warm() {
      HeadKernels.blockSums(x, 0, 6 * LANES, 5, 0, 2, 3, 3 * LANES, sums);
    }

    @Override
    void empty() {
      HeadKernels.blockSums(x, 0, 6 * LANES, 0, 0, 2, 3, 3 * LANES, sums);
    }
  }

  /**
   * The fully connected kernel: five output blocks (four together and one alone) of two rows, with and without a
   * bias and with the last block whole and partial in turn, so that C2 compiles every path a real layer takes;
   * empty: no rows, no blocks.
   */
  private static final class LinearWarmUp extends WarmUp {
    private static final int IN = 4;
    /** Rows of the warm calls: fewer than {@link HeadKernels#ROWS} (row by row), and a group of four with one more. */
    private static final int FEW = 2;
    private static final int MANY = HeadKernels.ROWS + 1;
    private final float[] x = new float[MANY * IN];
    private final float[] w = new float[5 * IN * LANES];
    private final float[] bias = new float[5 * LANES];
    private final float[] y = new float[MANY * 5 * LANES];
    private int calls;

    @Override
    void warm() {
      int c = calls++;
      HeadKernels.linear(x, IN, w, c % 2 == 0 ? bias : null, (c & 2) == 0 ? 5 * LANES : 5 * LANES - 1, y, 0,
          (c & 4) == 0 ? FEW : MANY, 0, 5);
    }

    @Override
    void empty() {
      HeadKernels.linear(x, IN, w, bias, 5 * LANES, y, 0, 0, 0, 0);
    }
  }

  /** Zero inputs large enough for any tile's warm-up call over {@code blocks} output-channel blocks. */
  private static final class WarmInputs {
    /** Reduction steps the offsets cover: the most of any warm-up call. */
    static final int STEPS_MAX = Math.max(STEPS, CONV_STEPS[CONV_STEPS.length - 1]);
    /** The most output pixels of a warm call: the widest depthwise tile, or a depthwise 3x3 call's tiles. */
    static final int PIXELS = Math.max(BlockedKernels.MAX_DEPTHWISE_PIXELS,
        Depthwise3x3WarmUp.TILES * BlockedKernels.MAX_DEPTHWISE_3X3_PIXELS);
    /** Floats between the output blocks. */
    static final int CS = PIXELS * LANES;
    final int[] off = new int[STEPS_MAX];
    // Room for what the widest calls read: PIXELS pixels at stride 2 (sx = LANES), plus 3 rows of LANES floats.
    final float[] x = new float[STEPS_MAX + 2 * LANES * PIXELS + 4 * LANES];
    final float[] w;
    final float[] b;
    final float[] y;

    WarmInputs(int blocks) {
      for (int i = 0; i < off.length; i++) {
        off[i] = i;
      }
      w = new float[Math.max(STEPS_MAX, 9) * blocks * LANES];
      b = new float[blocks * LANES];
      y = new float[blocks * CS];
    }
  }

  /** {@link #request(Tile, boolean, long)} with no work of its own to weigh it by. */
  static void request(Tile tile, boolean needed) {
    request(tile, needed, 0);
  }

  /**
   * Queues {@code tile} for warming (once): {@code needed} tiles in the order requested, before the others;
   * those in the order of the work (multiply-adds per sample, summed over the requests) they would take over
   * from slower code.
   */
  static void request(Tile tile, boolean needed, long benefit) {
    if (tile.hot) {
      return;
    }
    synchronized (TileWarmer.class) {
      tile.benefit += benefit;
      if (tile.queued) {
        // A tile someone now waits for moves to the front of the needed ones.
        if (needed && FASTER.remove(tile)) {
          NEEDED.addFirst(tile);
        }
        return;
      }
      tile.queued = true;
      if (needed) {
        NEEDED.addLast(tile);
      } else {
        FASTER.add(tile);
      }
      TileWarmer.class.notifyAll();
      startThread();
    }
  }

  /** Starts the warmer thread if it is not running (guarded by the class lock). */
  private static void startThread() {
    if (thread == null) {
      Thread t = new Thread("kiln-tile-warmer") {
        @Override
        public void run() {
          work();
        }
      };
      t.setDaemon(true);
      thread = t;
      t.start();
    }
  }

  /** Work for the warmer thread besides tiles, in the order queued (guarded by the class lock). */
  private static final java.util.ArrayDeque<Runnable> JOBS = new java.util.ArrayDeque<>();

  /**
   * Queues {@code job} to run once on the warmer thread, after the tiles needed now and before the driver's
   * priming and the faster tiles: work a first forward would otherwise do itself, such as packing a layer's
   * weights or transforming them for Winograd's form ({@link BlockedNetwork#forward} queues them), so that it is
   * done on the warmer's processor while the forward runs the layers before. A job must not wait for a tile (the
   * warmer would wait for itself).
   */
  static void schedule(Runnable job) {
    synchronized (TileWarmer.class) {
      JOBS.addLast(job);
      TileWarmer.class.notifyAll();
      startThread();
    }
  }

  /** {@link #peekNext}, as the warmer's calls ahead take it (a class, not a lambda: see {@link WarmUp}). */
  private static final java.util.function.Supplier<Tile> NEXT = new java.util.function.Supplier<>() {
    @Override
    public Tile get() {
      return peekNext();
    }
  };

  /** The tile the warmer would take next (not removed from its queue), or null. */
  private static synchronized Tile peekNext() {
    Tile t = NEEDED.peekFirst();
    if (t != null) {
      return t;
    }
    int best = mostBeneficialIndex();
    return best < 0 ? null : FASTER.get(best);
  }

  /** Removes and returns the queued faster tile of the most benefit (the first requested among equals). */
  private static Tile mostBeneficial() {
    int best = mostBeneficialIndex();
    return best < 0 ? null : FASTER.remove(best);
  }

  /** The index in {@link #FASTER} of the tile of the most benefit (the first requested among equals), or -1. */
  private static int mostBeneficialIndex() {
    int best = -1;
    for (int i = 0; i < FASTER.size(); i++) {
      if (best < 0 || FASTER.get(i).benefit > FASTER.get(best).benefit) {
        best = i;
      }
    }
    return best;
  }

  private static void work() {
    while (true) {
      Tile tile;
      boolean prime = false;
      Runnable job = null;
      synchronized (TileWarmer.class) {
        // The tiles needed now, then the jobs, then the driver's priming (once), then the faster tiles.
        while (true) {
          tile = NEEDED.pollFirst();
          if (tile == null && (job = JOBS.pollFirst()) != null) {
            jobRunning = true;
            break;
          }
          if (tile == null && primeRequested && !primed) {
            primed = true;
            prime = true;
            break;
          }
          if (tile == null) {
            tile = mostBeneficial();
          }
          if (tile != null) {
            warming = tile;
            break;
          }
          try {
            TileWarmer.class.wait();
          } catch (InterruptedException e) {
            return;
          }
        }
      }
      if (job != null) {
        try {
          job.run();
        } catch (RuntimeException | OutOfMemoryError e) {
          // The work is done again where it is needed (and fails there); the tiles must still be warmed.
          System.err.println("kiln: background work failed: " + e);
        } finally {
          synchronized (TileWarmer.class) {
            jobRunning = false;
            TileWarmer.class.notifyAll();
          }
        }
        continue;
      }
      if (prime) {
        // A network's first forward is done (it asks for this with its faster tiles): the driver's profile
        // first, so that C2 compiles the loop from it before those tiles take over.
        try {
          DriverPrimer.prime();
        } catch (RuntimeException e) {
          // Only the driver's first compilations depend on it; the tiles must still be warmed.
          System.err.println("kiln: priming the driver loop failed: " + e);
        }
        continue;
      }
      try {
        warm(tile, WAIT_NANOS, BACK_OFF_NANOS, NEXT);
      } finally {
        synchronized (TileWarmer.class) {
          warming = null;
          TileWarmer.class.notifyAll();
        }
      }
    }
  }

  /** Whether a network asked for {@link DriverPrimer}'s priming, and whether it ran (guarded by the class lock). */
  private static boolean primeRequested;
  private static boolean primed;

  /** Whether a network asked for the driver's priming (for tests). */
  static synchronized boolean primeRequested() {
    return primeRequested;
  }

  /**
   * Asks the warmer to prime the driver loop ({@link DriverPrimer}) once, after the tiles needed now and before
   * the faster ones: a network of the blocked engine asks after its first forward, with its faster tiles;
   * layers used alone, which do not run that loop, do not ask. Asked for when the network was built, the
   * priming ran during the first forward and took processor time and C2's queue from it: ColdStart on the AMD
   * EPYC Zen 1 machine (both networks, N = 1 and 8, 1 and 2 threads, 5 alternating pairs each) spent 3-30% less
   * time in the first forward and C2 70-290 ms less processor time by the first result in 7 of the 8 cases
   * (the eighth within 1%), and in MobileNet v1's first 8 s C2 compiled the driver loop twice instead of 3-5
   * times. The faster tiles now start after the priming: MobileNet v1's were all hot about 0.3 s later.
   */
  static synchronized void requestDriverPriming() {
    if (!primeRequested) {
      primeRequested = true;
      TileWarmer.class.notifyAll();
    }
  }

  /** The tile the warmer thread is working on, or null (guarded by the class lock). */
  private static Tile warming;
  /** Whether the warmer thread is running a job ({@link #schedule}; guarded by the class lock). */
  private static boolean jobRunning;

  /**
   * Waits until no tile or job is queued, being warmed or running, at most {@code timeoutNanos}: every tile
   * requested so far is hot (or was given up on at its deadline). Returns whether the warmer is idle.
   */
  static boolean awaitIdle(long timeoutNanos) throws InterruptedException {
    long start = System.nanoTime();
    synchronized (TileWarmer.class) {
      while (warming != null || jobRunning || !NEEDED.isEmpty() || !JOBS.isEmpty() || !FASTER.isEmpty()) {
        long left = timeoutNanos - (System.nanoTime() - start);
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(TileWarmer.class, left);
      }
      return true;
    }
  }

  /**
   * After this long without being hot, the warmer pauses for {@link #PAUSE_NANOS} after every slow call: by
   * then the tile's code has been called often enough to be queued for C2, and spinning on it only takes a
   * processor the application may need (a kernel that compiled slowly took one for 6 s under load). The
   * kernels of this engine became hot within 0.01-0.8 s of warming on an idle machine and within 1.4 s on a
   * busy one; a layer that waits for a tile waits for its warming, so the pauses start well after that.
   */
  static final long BACK_OFF_NANOS = TimeUnit.SECONDS.toNanos(2);
  /** The pause after a slow call once warming has taken {@link #BACK_OFF_NANOS}. */
  static final long PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  /** Calls {@code tile} on tiny inputs until it is compiled (or {@link #WAIT_NANOS} passed), then marks it hot. */
  static void warm(Tile tile) {
    warm(tile, WAIT_NANOS, BACK_OFF_NANOS);
  }

  /**
   * {@link #warm(Tile)} giving up after {@code waitNanos} and pausing after slow calls once {@code backOffNanos}
   * have passed; returns the number of calls made.
   */
  static long warm(Tile tile, long waitNanos, long backOffNanos) {
    return warm(tile, waitNanos, backOffNanos, null);
  }

  /**
   * Calls of a tile after which it has passed C2's invocation threshold (about 5,000 calls in C1's profiling
   * code) and waits for the compiler: from then on the warmer calls the next queued tile too ({@link #warm(Tile,
   * long, long, java.util.function.Supplier)}).
   */
  static final long AHEAD_CALLS = 20_000;

  /**
   * {@link #warm(Tile, long, long)}, and where {@code ahead} is not null, once {@code tile} has had {@link
   * #AHEAD_CALLS} calls, the calls of the tile {@code ahead} then names (the next queued one) too, untimed, so
   * that its compilation by C1 and its calls up to C2's threshold happen while C2 compiles {@code tile} and C2
   * finds it queued when done. One tile at a time left gaps: MobileNet v1's tiles took 95-550 ms of warming each
   * while C2 compiled each in 48-110 ms (the depthwise ones in 160-240).
   */
  static long warm(Tile tile, long waitNanos, long backOffNanos, java.util.function.Supplier<Tile> ahead) {
    long begin = System.nanoTime();
    long deadline = begin + waitNanos;
    int fast = 0;
    long call = 0;
    Tile next = null;
    long nextCall = 0;
    for (; fast < HOT_CALLS && System.nanoTime() < deadline; call++) {
      if (ahead != null && call >= AHEAD_CALLS) {
        if (call == AHEAD_CALLS) {
          next = ahead.get();
        }
        if (next != null && !next.hot) {
          (emptyCall(next, nextCall++) ? next.emptyCall : next.warmCall).run();
        }
      }
      if (emptyCall(tile, call)) {
        tile.emptyCall.run();
        continue;
      }
      long start = System.nanoTime();
      tile.warmCall.run();
      long end = System.nanoTime();
      fast = end - start < HOT_CALL_NANOS ? fast + 1 : fast / 2;
      if (fast == 0 && end - begin > backOffNanos) {
        LockSupport.parkNanos(PAUSE_NANOS);
      }
    }
    tile.markHot();
    if (LOG) {
      System.err.printf("kiln: tile %s hot at %d ms after %d ms of warming (%d calls)%n", tile.key,
          java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime(),
          (System.nanoTime() - begin) / 1_000_000, call);
    }
    return call;
  }

  /** Whether call number {@code call} of {@code tile}'s warm-up is one of its empty calls ({@link #EMPTY_CALLS}). */
  private static boolean emptyCall(Tile tile, long call) {
    return tile.emptyCall != null && call % (EMPTY_CALLS + 1) != 0;
  }

  /** Diagnostic: log each tile as it becomes hot (system property {@code kiln.simd.warmup.log}). */
  static final boolean LOG = Boolean.getBoolean("kiln.simd.warmup.log");
}
