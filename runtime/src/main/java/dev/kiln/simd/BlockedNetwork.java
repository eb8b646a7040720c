package dev.kiln.simd;

import static dev.kiln.simd.AlignedFloats.FIRST;
import static dev.kiln.simd.VectorShape.LANES;

import dev.kiln.nn.BatchNorm2d;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.ConvKernel;
import dev.kiln.nn.Dropout;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.GlobalAvgPool2d;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Module;
import dev.kiln.nn.NetworkEngine;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.ReLU;
import dev.kiln.nn.Scratch;
import dev.kiln.nn.SequentialModel;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * The eval-mode forward of a {@link SequentialModel} with its feature maps in the blocked layout from one
 * convolution to the next ({@link BlockedLayout}): no re-layout and no padding copy between layers, since
 * each producer writes the interior of a buffer whose zero halo is the next convolution's padding. The
 * network's input is copied once into padded planes; convolutions ({@link BlockedConv}), ReLU, BatchNorm and
 * global average pooling run on blocked buffers; any other layer (and Flatten, Linear) runs through its own
 * {@link Module#forward} on an NCHW tensor, converted back where needed. Dropout is the identity in eval mode.
 *
 * <p>Buffers belong to the calling thread (so concurrent callers never share one) and are reused from call
 * to call while the batch (or group) size stays the same; the layers' outputs take turns with two buffers (a
 * layer whose buffer held another layout zeroes its halo before it writes). A batch that divides evenly among the
 * pool's threads runs in parts, one whole forward per thread ({@link #runInParts}); otherwise each layer's
 * work is split over the pool, by bands of output rows where the rows divide evenly among the threads, else by
 * output-channel chunks ({@link BlockedConv#bands}). A small network whose buffers for a group of samples fit
 * in a core's cache runs each thread's samples through every stage a group at a time ({@link #runGroups}), so
 * its feature maps stay in that cache. Each output element is computed the same way whatever the split, so
 * results do not depend on the thread count, the parts or the groups.
 */
final class BlockedNetwork implements NetworkEngine {
  /** A step of the plan: reads the current value (a tensor or a buffer slot), leaves the next. */
  private abstract static class Stage {
    /** The value (a buffer of {@link Workspace#buffers}) this stage reads, or -1 for the current tensor. */
    int inSlot = -1;
    /** The value this stage writes, or -1 when it leaves a tensor. */
    int outSlot = -1;

    /** The layout this stage writes into {@link #outSlot}, or null when it writes no buffer. */
    BlockedLayout outLayout() {
      return null;
    }

    /**
     * Zeroes the halo (and padded lanes) of the output layout in every sample, where the workspace's array for
     * it also holds other layouts ({@link BufferPlan#clear}).
     */
    final void clearOutput(Workspace ws, int n) {
      if (ws.plan.clear[outSlot]) {
        BlockedLayout layout = outLayout();
        float[] y = ws.buffers[outSlot];
        for (int i = 0; i < n; i++) {
          layout.clearOutside(y, FIRST + i * layout.sampleSize);
        }
      }
    }

    abstract Tensor run(Tensor t, Workspace ws, int n);
  }

  /** Tests: global average pooling and linear layers in plain Java (as before their kernels are compiled). */
  static volatile boolean plainHead;

  /** Whether networks time their stages ({@code kiln.blocked.profile}, a diagnostic): see {@link Profile}. */
  static final boolean PROFILE = Boolean.getBoolean("kiln.blocked.profile");

  /**
   * A network's stage times, printed at exit: per stage the median of the last half of its calls, its first
   * call and the sum of its first eight (a first forward's at N=8 where it takes a sample at a time). Recording a
   * call stores one long into an array kept per stage (grown by doubling), so that it costs next to nothing beside
   * the stages themselves; the names are made only when printing. (It had built each stage's name and boxed its
   * time on every call, under one lock for all networks.)
   */
  static final class Profile {
    /** The stages, named by their {@code toString()}. */
    private final List<?> stages;
    private final long[][] times;
    private final int[] counts;

    Profile(List<?> stages) {
      this.stages = stages;
      this.times = new long[stages.size()][64];
      this.counts = new int[stages.size()];
    }

    /** A profile printed at exit. */
    static Profile printedAtExit(List<?> stages) {
      Profile p = new Profile(stages);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> p.lines().forEach(System.err::println)));
      return p;
    }

    synchronized void add(int stage, long nanos) {
      int n = counts[stage];
      if (n == times[stage].length) {
        times[stage] = Arrays.copyOf(times[stage], 2 * n);
      }
      times[stage][n] = nanos;
      counts[stage] = n + 1;
    }

    /** One line per stage that ran: its name and number, the median of the last half of its calls, its first. */
    synchronized List<String> lines() {
      List<String> lines = new ArrayList<>();
      for (int i = 0; i < stages.size(); i++) {
        int n = counts[i];
        if (n == 0) {
          continue;
        }
        long[] last = Arrays.copyOfRange(times[i], n / 2, n);
        Arrays.sort(last);
        long firstEight = 0;
        for (int j = 0; j < Math.min(8, n); j++) {
          firstEight += times[i][j];
        }
        lines.add(String.format(java.util.Locale.ROOT,
            "%-60s median of the last half %9.1f us (first %9.1f us, first eight %9.1f us)",
            stages.get(i) + "#" + i, last[last.length / 2] / 1e3, times[i][0] / 1e3, firstEight / 1e3));
      }
      return lines;
    }
  }

  /** This network's stage times where {@link #PROFILE} is set, else null. */
  private final Profile profile;

  private final int[] inputShape;
  private final List<Stage> stages;
  /** Which array holds which feature map (a calling thread's, and each row-split piece's own; see {@link Workspace}). */
  private final BufferPlan compact;
  private final ThreadLocal<Workspace> compactSpaces;
  /** The convolutions' multiply-adds per sample: whether a batch is worth splitting into parts. */
  private final long macsPerSample;

  private BlockedNetwork(int[] inputShape, List<Stage> stages, BufferPlan compact) {
    long macs = 0;
    long weights = 0;
    for (Stage stage : stages) {
      if (stage instanceof ConvStage conv) {
        macs += conv.conv.geometry.macsPerSample();
        weights += conv.conv.geometry.weightElements();
      } else if (stage instanceof LinearStage linear) {
        weights += linear.weights();
      }
    }
    this.macsPerSample = macs;
    this.inputShape = inputShape;
    this.stages = stages;
    this.profile = PROFILE ? Profile.printedAtExit(stages) : null;
    this.compact = compact;
    this.compactSpaces = new ThreadLocal<>() {
      @Override
      protected Workspace initialValue() {
        return new Workspace(compact, stages.size());
      }
    };
    this.groupSize = groupSize(bufferFloatsPerSample(), weights);
    this.firstGroupSize = firstGroupSize(groupSize, bufferFloatsPerSample(), weights);
    this.headStart = headStart(stages);
    placeWeights(stages);
    for (TileWarmer.Tile t : firstCode()) {
      TileWarmer.request(t, true);
    }
  }

  /**
   * Gives every convolution's packed (or, in Winograd's form, transformed) weights a share of one large array
   * whose vectors start cache lines ({@link AlignedFloats}): most layers' own arrays would be too small for the
   * JVM to put them on a line's boundary. MobileNet v1's 1x1 layers took 8-17% less time with their weights on line
   * boundaries than off them (Intel Xeon, Sapphire Rapids class).
   */
  private static void placeWeights(List<Stage> stages) {
    long floats = 0;
    for (Stage stage : stages) {
      if (stage instanceof ConvStage conv) {
        floats += AlignedFloats.ceilLines(conv.weightFloats());
      }
    }
    if (floats == 0 || floats > Integer.MAX_VALUE / 2) {
      return; // none, or more than one array should hold: each layer's own
    }
    AlignedFloats.Share share = AlignedFloats.share((int) floats);
    int base = share.base();
    for (Stage stage : stages) {
      if (stage instanceof ConvStage conv) {
        conv.placeWeights(new AlignedFloats.Share(share.array(), base));
        base += AlignedFloats.ceilLines(conv.weightFloats());
      }
    }
  }

  /** A convolution's share of the network's weight array and how many floats of it the layer uses. */
  record WeightShare(AlignedFloats.Share home, int floats) {}

  /** Each convolution's share of the weight array ({@link #placeWeights}), in stage order (for tests). */
  List<WeightShare> weightShares() {
    List<WeightShare> shares = new ArrayList<>();
    for (Stage stage : stages) {
      if (stage instanceof ConvStage conv) {
        AlignedFloats.Share home = conv.winograd != null ? conv.winograd.weightHome() : conv.conv.weightHome();
        shares.add(new WeightShare(home, conv.weightFloats()));
      }
    }
    return shares;
  }

  /**
   * The compiled code this network's first forward runs beyond its layers' own ({@link BlockedConv#firstCode},
   * requested when they were constructed): the plain-Java classifier ({@link HeadKernels#linearPlain}) if it has
   * a linear layer. Left to the JIT, MobileNet v1's 1,024->1,000 classifier ran interpreted in its first forward
   * (17-49 ms on the AMD EPYC Zen 1 machine, with the layer's transposed weights allocated; 1-11 ms warmed).
   */
  List<TileWarmer.Tile> firstCode() {
    for (Stage stage : stages) {
      if (stage instanceof LinearStage) {
        return List.of(TileWarmer.linearPlain());
      }
    }
    return List.of();
  }

  /**
   * Floats of feature-map buffers that a group of samples may fill (512 KB: half of a core's 1-2 MB
   * level-2 cache on current server processors, the rest left to the weights and the input): a network whose
   * buffers for one sample fit runs a thread's samples through every stage in groups that do
   * ({@link #runGroups}).
   */
  static final long GROUP_FLOATS = 1L << 17;

  /**
   * Samples per group for buffers of {@code floatsPerSample} floats per sample and layers of {@code weightFloats}
   * weights: as many as fit in {@link #GROUP_FLOATS}; where not even one does, one sample at a time if a sample's
   * buffers are at least a quarter of the weights (the feature maps then move more memory than the weights, and
   * a group of one keeps them to one sample's, as a first forward does: {@link #firstGroupSize}), else all of them
   * (the weights, read once per group, are then read once per part). MobileNet v1 (4.9 MB of buffers per sample,
   * 17 MB of weights) at N=8 took 0.955x the time one sample at a time against all eight together on one thread
   * and 0.970x on two, on an AMD EPYC Zen 4 (two builds alternating in one JVM, medians of 16 rounds; a probe of
   * the engine's groups of 1, 2 and 4 had given 0.90x, 0.88x and 0.91x on one thread); RepVGG-A0 (3.1 MB per
   * sample, 33 MB of weights) ran alike either way (1.00x, 0.985x) and MobileNet v1 at 160x160 (2.5 MB per
   * sample) slower in groups of 1 and 2 (1.02x): both keep their samples together.
   */
  static int groupSize(long floatsPerSample, long weightFloats) {
    if (floatsPerSample <= GROUP_FLOATS) {
      return (int) (GROUP_FLOATS / floatsPerSample);
    }
    return mapsOutweigh(floatsPerSample, weightFloats) ? 1 : Integer.MAX_VALUE;
  }

  /** Whether a sample's buffers are at least a quarter of the layers' weights (the grouping rules' test). */
  private static boolean mapsOutweigh(long floatsPerSample, long weightFloats) {
    return 4 * floatsPerSample >= weightFloats;
  }

  /** Samples a thread runs through every stage before the next ones ({@link #groupSize(long, long)}). */
  private final int groupSize;

  /**
   * Samples a thread runs through every stage together in a network's first forward: one where a sample's
   * buffers are at least a quarter of the layers' weights, else {@code groupSize}. The first forward allocates
   * its buffers, and fresh memory costs page faults (about 3 ms per megabyte on the AMD EPYC Zen 1 machine):
   * one sample at a time, MobileNet v1 at N=8 (4.9 MB of buffers per sample, 17 MB of weights) held 39 MB less
   * in its first forward, which took 0.84-0.96x the time on one thread and 0.84-0.93x on two (medians of 4-10
   * alternating ColdStart pairs, four series, bench-results/driver-paths-s26-avx2-2026-12-05.txt); its later
   * calls run one sample at a time too ({@link #groupSize(long, long)}), while a network whose buffers for a
   * sample fit in {@link #GROUP_FLOATS} runs its later calls in groups. RepVGG-A0 (3.1 MB per sample, 33 MB of
   * weights, which a group streams once per layer) gained nothing (0.98x on one thread, 1.09x on two). Same bits
   * whatever the grouping.
   */
  static int firstGroupSize(int groupSize, long bufferFloatsPerSample, long weightFloats) {
    return mapsOutweigh(bufferFloatsPerSample, weightFloats) ? 1 : groupSize;
  }

  /** Samples per group in a network's first forward ({@link #firstGroupSize(int, long, long)}). */
  private final int firstGroupSize;

  /** Samples per group in the first forward (for tests). */
  int firstGroupSize() {
    return firstGroupSize;
  }

  /** Samples per group (for tests). */
  int groupSize() {
    return groupSize;
  }

  /** Floats per sample of the buffers of one calling thread, layers on one thread each (for tests). */
  long bufferFloatsPerSample() {
    return compact.floatsPerSample();
  }

  /**
   * Which values (by number) the pieces of a forward of {@code n} samples on {@code threads} threads keep in their
   * own arrays ({@link #ownRows}; for tests).
   */
  boolean[] ownValues(int threads, int n) {
    return ownRows(threads, n);
  }

  @Override
  public String name() {
    return "simd-blocked-" + LANES * 32;
  }

  /** Whether its global average pooling writes into a kept tensor (for tests; false without pooling). */
  boolean keepsPooledOutput() {
    return stages.stream().anyMatch(st -> st instanceof GlobalAvgPoolStage pool && pool.keepsOutput);
  }

  /** Every tile kernel this network's stages run (for tests). */
  List<TileWarmer.Tile> tiles() {
    List<TileWarmer.Tile> all = new ArrayList<>();
    for (Stage stage : stages) {
      if (stage instanceof ConvStage conv) {
        all.addAll(conv.winograd != null ? conv.winograd.tileKernels() : conv.conv.tiles());
      } else if (stage instanceof GlobalAvgPoolStage pool) {
        all.add(pool.kernel);
      } else if (stage instanceof LinearStage linear) {
        all.add(linear.kernel);
      }
    }
    return all;
  }

  /**
   * Waits for the tile warmer to finish every tile requested so far: after the first forward, this network's
   * own tiles (and those of any other network of this JVM whose tiles are queued).
   */
  @Override
  public boolean awaitCompiled(long timeoutNanos) throws InterruptedException {
    return TileWarmer.awaitIdle(timeoutNanos);
  }

  /** Samples the calling thread's buffers hold, -1 before its first forward (for tests). */
  int bufferSamples() {
    return compactSpaces.get().batch;
  }

  /** Whether the calling thread's last forward kept values in the pieces' own arrays (for tests). */
  boolean ownInLastForward() {
    return compactSpaces.get().own != null;
  }

  /** How many row-split pieces besides the first have arrays of their own in the calling thread's workspace (for tests). */
  int pieceArrays() {
    return compactSpaces.get().pieces.length;
  }

  /**
   * Which array of a workspace holds which value (a stage's output), by value: values take turns with a few
   * arrays, each as large as the largest layout it holds.
   */
  private static final class BufferPlan {
    /** The array of each value. */
    final int[] slotOf;
    /** Whether a value's array also holds other layouts (so its writer zeroes the halo first), by value. */
    final boolean[] clear;
    /** Floats per sample of each array: the largest layout it holds. */
    final int[] capacities;

    /**
     * Assigns the values, written in order (value {@code v} by a stage reading value {@code inputs[v]}, or -1),
     * to arrays: each to an array other than its input's ({@link #slotFor}).
     */
    BufferPlan(List<BlockedLayout> layouts, int[] inputs) {
      List<List<BlockedLayout>> slots = new ArrayList<>();
      slotOf = new int[layouts.size()];
      for (int v = 0; v < slotOf.length; v++) {
        slotOf[v] = slotFor(slots, layouts.get(v), inputs[v] < 0 ? -1 : slotOf[inputs[v]]);
      }
      clear = new boolean[slotOf.length];
      for (int v = 0; v < slotOf.length; v++) {
        clear[v] = slots.get(slotOf[v]).size() > 1;
      }
      capacities = new int[slots.size()];
      for (int i = 0; i < capacities.length; i++) {
        capacities[i] = capacity(slots.get(i));
      }
    }

    long floatsPerSample() {
      long sum = 0;
      for (int c : capacities) {
        sum += c;
      }
      return sum;
    }
  }

  /** One calling thread's buffers, for one batch (or group) size at a time. */
  private static final class Workspace {
    final BufferPlan plan;
    /** By value: its array (arrays shared as the plan says), sample 0 at {@code FIRST} ({@link AlignedFloats#lined}). */
    float[][] buffers;
    int batch = -1;
    /** Whether its last forward was a part of a batch split into parts ({@link #runInParts}). */
    boolean inParts;
    /** The first sample of its input tensor the running stage reads (the network's first stage: a part's). */
    int firstSample;
    final ConvSection section = new ConvSection();
    final WinogradSection winogradSection = new WinogradSection();
    final WinogradConv.Steps winogradSteps = new WinogradConv.Steps();
    private float[] winogradTiles = new float[0];
    private float[] winogradProducts = new float[0];

    /** Scratch for Winograd convolutions' transformed input, at least {@code floats} long (kept, grown as needed). */
    float[] winogradTiles(int floats) {
      if (winogradTiles.length < floats) {
        winogradTiles = WinogradConv.scratch(floats);
      }
      return winogradTiles;
    }

    private float[][] winogradPieceTiles = new float[0][];

    /**
     * Transformed-input scratch for each of {@code pieces} pieces of a layer split by chunks ({@link
     * WinogradConv#runChunks}), at least {@code floats} long: piece 0's is {@link #winogradTiles}, the others' are
     * kept here. Called on the calling thread before the section, which then only reads them.
     */
    float[][] winogradPieceTiles(int pieces, int floats) {
      if (winogradPieceTiles.length != pieces) {
        winogradPieceTiles = Arrays.copyOf(winogradPieceTiles, pieces);
      }
      winogradPieceTiles[0] = winogradTiles(floats);
      for (int j = 1; j < pieces; j++) {
        if (winogradPieceTiles[j] == null || winogradPieceTiles[j].length < floats) {
          winogradPieceTiles[j] = WinogradConv.scratch(floats);
        }
      }
      return winogradPieceTiles;
    }

    /** Scratch for Winograd convolutions' products, as {@link #winogradTiles}. */
    float[] winogradProducts(int floats) {
      if (winogradProducts.length < floats) {
        winogradProducts = WinogradConv.scratch(floats);
      }
      return winogradProducts;
    }
    /** Outputs kept from call to call, by stage (see {@link GlobalAvgPoolStage#keepsOutput}). */
    private final Tensor[] kept;

    Workspace(BufferPlan plan, int stages) {
      this.plan = plan;
      this.kept = new Tensor[stages];
    }

    /** Stage {@code stage}'s kept output of shape {@code [n, channels, 1, 1]}, allocated when the batch changes. */
    Tensor kept(int stage, int n, int channels) {
      Tensor t = kept[stage];
      if (t == null || t.dim(0) != n) {
        t = Tensor.zeros(n, channels, 1, 1);
        kept[stage] = t;
      }
      return t;
    }

    /**
     * The pooled values of a whole batch whose groups ran one after another ({@link #runGroups}), shape
     * {@code [n, channels, 1, 1]}, kept as {@link #kept} is.
     */
    Tensor pooled(int n, int channels) {
      Tensor t = pooled;
      if (t == null || t.dim(0) != n) {
        t = Tensor.zeros(n, channels, 1, 1);
        pooled = t;
      }
      return t;
    }

    private Tensor pooled;

    /** The values in the pieces' own arrays in the running forward ({@link #ownRows}), or null. */
    boolean[] own;
    /** The pieces of the running forward when {@link #own} is not null. */
    int ownPieces;
    /** {@link #ownRows} for {@link #ownFor} samples in {@link #ownForPieces} pieces (null: none). */
    private boolean[] ownCached;
    private int ownFor = -1;
    private int ownForPieces = -1;
    /** Arrays by value of pieces 1, 2, ... of a row-split forward (piece 0 has {@link #buffers}); by {@link #plan}. */
    float[][][] pieces = new float[0][][];
    private int piecesBatch = -1;

    /** Sets {@link #own} for a forward of {@code n} samples in {@code count} pieces, and allocates their arrays. */
    void usePieces(BlockedNetwork net, int count, int n) {
      if (count < 2) {
        own = null;
        return;
      }
      if (n != ownFor || count != ownForPieces) {
        ownCached = net.ownRows(count, n);
        ownFor = n;
        ownForPieces = count;
      }
      own = ownCached;
      ownPieces = count;
      if (own != null && (pieces.length != count - 1 || piecesBatch != n)) {
        float[][][] p = new float[count - 1][][];
        for (int j = 0; j < p.length; j++) {
          p[j] = arrays(n);
        }
        pieces = p;
        piecesBatch = n;
      }
    }

    /** One array per value for {@code n} samples, values sharing arrays as {@link #plan} says. */
    private float[][] arrays(int n) {
      float[][] arrays = new float[plan.capacities.length][];
      for (int i = 0; i < arrays.length; i++) {
        arrays[i] = AlignedFloats.lined(Math.multiplyExact(n, plan.capacities[i]));
      }
      float[][] byValue = new float[plan.slotOf.length][];
      for (int v = 0; v < byValue.length; v++) {
        byValue[v] = arrays[plan.slotOf[v]];
      }
      return byValue;
    }

    /** Piece {@code j}'s array of value {@code v}: its own where {@link #own} says so, else the shared one. */
    float[] array(int j, int v) {
      return j == 0 || own == null || !own[v] ? buffers[v] : pieces[j - 1][v];
    }

    void ensure(int n) {
      if (n != batch) {
        buffers = arrays(n);
        batch = n;
      }
    }
  }

  /**
   * A convolution's work handed to the pool, reused from call to call: one range of its work items per
   * thread ({@link BlockedConv#rangeStart}), each run in one call. (Claimed a few items at a time instead, with
   * threads done with their own range taking the rest of the others' from their ends, MobileNet v1 at N=1 on
   * two threads took 8% longer, in one process alternating the two ways.)
   */
  private static final class ConvSection implements Parallel.ChunkBody {
    ConvStage stage;
    Workspace ws;
    int samples;
    /** Row bands ({@link BlockedConv#bands}), or 1 for runs of the chunk-major order. */
    int bands;
    /** Ranges: the thread count. */
    int ranges;
    /** Whether the input and the output are in the pieces' own arrays ({@link #ownRows}). */
    boolean ownIn;
    boolean ownOut;

    /** Runs ranges {@code [start, end)} (one piece: range {@code chunk}). */
    @Override
    public void run(int chunk, int start, int end) {
      BlockedConv conv = stage.conv;
      float[] x = ws.array(chunk, stage.inSlot);
      float[] y = ws.array(chunk, stage.outSlot);
      if (ownIn) {
        copyHalo(chunk, x);
      }
      if (ownOut && ws.plan.clear[stage.outSlot]) {
        int rows = conv.out.height / bands;
        for (int i = 0; i < samples; i++) {
          conv.out.clearOutside(y, FIRST + i * conv.out.sampleSize, chunk * rows, (chunk + 1) * rows);
        }
      }
      conv.run(stage.kernel.weight(), stage.kernel.bias(), x, FIRST, y, FIRST, samples, bands,
          conv.rangeStart(start, ranges, bands, samples), conv.rangeStart(end, ranges, bands, samples));
    }

    /**
     * Copies into piece {@code j}'s input array {@code x} the input rows that band {@code j} of the output reads
     * and other pieces wrote (into their own arrays, one band of rows each: the bands divide the rows).
     */
    private void copyHalo(int j, float[] x) {
      BlockedConv conv = stage.conv;
      BlockedLayout in = conv.in;
      ConvGeometry g = conv.geometry;
      int perBand = in.height / bands;
      int outRows = g.outHeight() / bands;
      int first = Math.max(0, g.inputRow(j * outRows, 0));
      int last = Math.min(in.height - 1, g.inputRow((j + 1) * outRows - 1, g.kernelH() - 1));
      for (int r = first; r <= last; r++) {
        int owner = r / perBand;
        if (owner == j) {
          continue;
        }
        float[] from = ws.array(owner, stage.inSlot);
        for (int i = 0; i < samples; i++) {
          for (int cb = 0; cb < in.blocks; cb++) {
            int at = FIRST + i * in.sampleSize + cb * in.blockStride + (r + in.top) * in.rowStride;
            System.arraycopy(from, at, x, at, in.rowStride);
          }
        }
      }
    }
  }

  /** A planned value: where the current feature map is. */
  private static final class Value {
    /** Its buffer layout, or null while it is a tensor. */
    BlockedLayout layout;
    int channels;
    int height;
    int width;
    /** The halo its consumer needs (filled in when the consumer is planned). */
    int[] halo = {0, 0, 0, 0};
  }

  /** Plans {@code model}'s layers, or returns null when no convolution would run in the blocked layout. */
  static BlockedNetwork plan(SequentialModel model) {
    int[] input = model.inputShape();
    List<Module> layers = new ArrayList<>(model.layers().values());
    // Pass 1: which layers run blocked, and the halo each blocked value needs.
    List<Object> kinds = new ArrayList<>();
    boolean blocked = false;
    boolean any = false;
    List<Value> values = new ArrayList<>();
    Value current = null;
    for (Module layer : layers) {
      if (layer instanceof ConvKernel conv
          && BlockedConv.supports(conv.geometry(), blocked || BlockedConv.isDepthwise(conv.geometry()))) {
        ConvGeometry g = conv.geometry();
        if (!blocked) {
          current = new Value();
          current.channels = g.inChannels();
          current.height = g.inHeight();
          current.width = g.inWidth();
          values.add(current);
          kinds.add(BlockedConv.isDepthwise(g) ? "toBlocked" : "toPlanes");
        }
        current.halo = max(current.halo, BlockedConv.requiredHalo(g));
        kinds.add(conv);
        Value next = new Value();
        next.channels = g.outChannels();
        next.height = g.outHeight();
        next.width = g.outWidth();
        values.add(next);
        current = next;
        blocked = true;
        any = true;
      } else if (blocked && (layer instanceof ReLU || layer instanceof BatchNorm2d)) {
        kinds.add(layer);
      } else if (layer instanceof Dropout) {
        kinds.add(layer);
      } else if (blocked && layer instanceof GlobalAvgPool2d) {
        kinds.add(layer);
        blocked = false;
      } else {
        if (blocked) {
          kinds.add("toTensor");
          blocked = false;
        }
        kinds.add(layer);
      }
    }
    if (!any) {
      return null;
    }
    if (blocked) {
      kinds.add("toTensor");
    }
    // Pass 2: stages with layouts, and the values they write (numbered in order; arrays assigned below).
    List<BlockedLayout> written = new ArrayList<>();
    List<Integer> inputs = new ArrayList<>();
    List<Stage> stages = new ArrayList<>();
    int valueIndex = 0;
    int slot = -1;
    for (int k = 0; k < kinds.size(); k++) {
      Object kind = kinds.get(k);
      if (kind instanceof String s) {
        if (s.equals("toTensor")) {
          Value v = values.get(valueIndex - 1);
          Stage st = new ToTensorStage(v.layout);
          st.inSlot = slot;
          stages.add(st);
          slot = -1;
        } else {
          Value v = values.get(valueIndex++);
          int[] h = v.halo;
          v.layout = s.equals("toBlocked")
              ? BlockedLayout.blocked(v.channels, v.height, v.width, h[0], h[1], h[2], h[3])
              : BlockedLayout.planes(v.channels, v.height, v.width, h[0], h[1], h[2], h[3]);
          Stage st = new FromTensorStage(v.layout);
          st.outSlot = written.size();
          written.add(v.layout);
          inputs.add(-1);
          stages.add(st);
          slot = st.outSlot;
        }
      } else if (kind instanceof ConvKernel conv) {
        Value in = values.get(valueIndex - 1);
        Value out = values.get(valueIndex++);
        int[] h = out.halo;
        out.layout = BlockedLayout.blocked(out.channels, out.height, out.width, h[0], h[1], h[2], h[3]);
        Stage st = new ConvStage(conv, new BlockedConv(conv.geometry(), conv.activation(), in.layout, out.layout),
            WinogradConv.supports(conv.geometry(), in.layout.blocked)
                ? new WinogradConv(conv.geometry(), conv.activation(), in.layout, out.layout) : null);
        st.inSlot = slot;
        st.outSlot = written.size();
        written.add(out.layout);
        inputs.add(slot);
        stages.add(st);
        slot = st.outSlot;
      } else if (kind instanceof Dropout) {
        continue;
      } else if (slot >= 0 && kind instanceof ReLU) {
        ReluStage st = new ReluStage();
        st.sampleSize = values.get(valueIndex - 1).layout.sampleSize;
        st.inSlot = slot;
        st.outSlot = slot;
        stages.add(st);
      } else if (slot >= 0 && kind instanceof BatchNorm2d bn) {
        Stage st = new BatchNormStage(bn, values.get(valueIndex - 1).layout);
        st.inSlot = slot;
        st.outSlot = slot;
        stages.add(st);
      } else if (slot >= 0 && kind instanceof GlobalAvgPool2d) {
        Stage st = new GlobalAvgPoolStage(values.get(valueIndex - 1).layout);
        st.inSlot = slot;
        stages.add(st);
        slot = -1;
      } else if (kind instanceof Linear linear) {
        stages.add(new LinearStage(linear));
      } else {
        stages.add(new ModuleStage((Module) kind));
      }
    }
    // Global average pooling followed by a Linear layer (with at most a Flatten between) writes into a tensor its
    // calling thread keeps: the Linear layer's output is the new tensor the caller gets.
    for (int i = 0; i < stages.size(); i++) {
      if (stages.get(i) instanceof GlobalAvgPoolStage pool) {
        int j = i + 1;
        while (j < stages.size() && stages.get(j) instanceof ModuleStage m && m.module instanceof Flatten) {
          j++;
        }
        pool.index = i;
        pool.keepsOutput = j < stages.size() && stages.get(j) instanceof LinearStage;
      }
    }
    int[] in = new int[inputs.size()];
    for (int i = 0; i < in.length; i++) {
      in[i] = inputs.get(i);
    }
    return new BlockedNetwork(input, stages, new BufferPlan(written, in));
  }

  /**
   * The first stage of the network's head, the stages after its global average pooling (a Linear layer, a
   * Flatten), which read only the pooled tensor; {@code stages.size()} where the network has no such head.
   */
  private final int headStart;

  /** {@link #headStart} of {@code stages}. */
  private static int headStart(List<Stage> stages) {
    for (int i = stages.size() - 1; i >= 0; i--) {
      Stage s = stages.get(i);
      if (s instanceof GlobalAvgPoolStage) {
        return i + 1;
      }
      if (!(s instanceof LinearStage || s instanceof ModuleStage)) {
        break;
      }
    }
    return stages.size();
  }

  /** Whether every layout in {@code held} equals {@code layout} (true for none). */
  private static boolean allEqual(List<BlockedLayout> held, BlockedLayout layout) {
    for (BlockedLayout l : held) {
      if (!layout.equals(l)) {
        return false;
      }
    }
    return true;
  }

  private static int[] max(int[] a, int[] b) {
    return new int[] {Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])};
  }

  /**
   * A buffer slot for a value of {@code layout}, other than {@code busy} (the stage's input): one that holds
   * only this layout if there is one, else the largest other slot (the network's values take turns with two
   * buffers), else a new one. A slot that holds several layouts costs its writers a zeroed halo per call; a buffer per layout cost MobileNet v1 145 MB at N=8
   * (39 MB now), and its first call the page faults.
   */
  private static int slotFor(List<List<BlockedLayout>> slots, BlockedLayout layout, int busy) {
    int largest = -1;
    for (int i = 0; i < slots.size(); i++) {
      if (i == busy) {
        continue;
      }
      List<BlockedLayout> held = slots.get(i);
      if (allEqual(held, layout)) {
        return i;
      }
      if (largest < 0 || capacity(held) > capacity(slots.get(largest))) {
        largest = i;
      }
    }
    if (largest >= 0) {
      if (!slots.get(largest).contains(layout)) {
        slots.get(largest).add(layout);
      }
      return largest;
    }
    slots.add(new ArrayList<>(List.of(layout)));
    return slots.size() - 1;
  }

  /** Floats per sample of a slot holding {@code layouts}: the largest of them. */
  private static int capacity(List<BlockedLayout> layouts) {
    int c = 0;
    for (BlockedLayout l : layouts) {
      c = Math.max(c, l.sampleSize);
    }
    return c;
  }

  @Override
  public Tensor forward(Tensor input) {
    if (!fasterTilesRequested) {
      requestFirstPointwise(input);
      if (PREPARE_WEIGHTS) {
        // The convolutions' weights packed or transformed on the warmer's processor, in the order the layers
        // run, while the forward runs the layers before (a layer that gets there first does its own).
        for (Stage stage : stages) {
          if (stage instanceof ConvStage conv) {
            TileWarmer.schedule(new PrepareWeights(conv));
            weightsScheduled++;
          }
        }
      }
      try {
        if (firstForwardAlone(input)) {
          firstForwardRanAlone = true;
          // A class of its own, not a lambda: nothing is generated at run time before a first result.
          return Parallel.onCallingThread(new Supplier<Tensor>() {
            @Override
            public Tensor get() {
              return run(input, firstGroupSize);
            }
          });
        }
        return run(input, firstGroupSize);
      } finally {
        // After the first forward, which runs plain Java the JIT compiles meanwhile (driver loops, weight
        // packing, depthwise layers, Winograd transforms, layers outside this engine): warming more tiles during
        // it took processor time and the JIT's queues from it. So did priming the driver loop (see
        // DriverPrimer), which the warmer now does first, before these tiles. Requested at the start of a first
        // forward that runs a batch together, the own tiles made RepVGG-A0's first result at N=8 take 1.09-1.15x
        // the time on an AMD EPYC Zen 4 and 1.117-1.269x on a Zen 3 (AVX2, with its stride-1 layers in
        // Winograd's form; eight alternating ColdStart pairs each). Only on a Zen 1, before those layers ran in
        // Winograd's form, had that paid on one thread (0.81-0.86x).
        fasterTilesRequested = true;
        TileWarmer.requestDriverPriming();
        requestConvTiles();
        for (Stage stage : stages) {
          if (stage instanceof GlobalAvgPoolStage pool) {
            TileWarmer.request(pool.kernel, false, pool.layout.sampleSize);
          } else if (stage instanceof LinearStage linear) {
            TileWarmer.request(linear.kernel, false, linear.weights());
          }
        }
      }
    }
    return run(input, groupSize);
  }

  /**
   * A first forward's 1x1 work per thread (multiply-adds) from which it has the one-block pointwise tiles warmed
   * ({@link #requestFirstPointwise}): about 200 ms on the one-block first tiles (15 G multiply-adds/s on MobileNet
   * v1's pointwise layers, AMD EPYC Zen 3). {@code kiln.blocked.pointwiseFirstMacs} overrides it (for comparisons).
   */
  static final long FIRST_POINTWISE_MACS = Long.getLong("kiln.blocked.pointwiseFirstMacs", 3_000_000_000L);

  /**
   * At the start of a first forward: requests the one-block pointwise tiles of its 1x1 layers (MobileNet v1's
   * pointwise layers, a Winograd layer's products; {@link BlockedConv#requestFirstPointwise}) if that forward's
   * 1x1 work per thread reaches {@link #FIRST_POINTWISE_MACS}. They run those layers at 1.6-1.9 times the speed
   * of the one-block first tiles (which walk an offset table), once hot; the forward runs the first tiles until
   * then and waits for neither. A layer whose chunks all have two blocks requests its own two-block pointwise tile
   * instead (its pair tile: 1.5 times the one-block pointwise tile's speed, and a tile it needs anyway). Only a long first forward gains: the tile's compilation (90-140 ms of warming
   * on the Zen 3) takes the JIT from the code a short one waits for. Requested at construction, at N=8 on one
   * thread the first results took 0.92x (MobileNet v1) and 0.94x (RepVGG-A0) the time, at N=1 1.18x and 1.06x,
   * at N=8 on two threads 1.09x and 0.99x (ten alternating ColdStart pairs each,
   * {@code bench-results/probes-s44-zen3-2026-12-06.txt}). Returns whether it requested them (for tests).
   */
  boolean requestFirstPointwise(Tensor input) {
    if (!BlockedConv.POINTWISE_FIRST || input.rank() == 0) {
      return false;
    }
    long macs = 0;
    for (Stage stage : stages) {
      if (stage instanceof ConvStage conv) {
        macs += conv.firstPointwiseMacs();
      }
    }
    if (!firstPointwiseWanted(macs, input.dim(0), firstForwardAlone(input) ? 1 : Parallel.threads())) {
      return false;
    }
    for (Stage stage : stages) {
      if (stage instanceof ConvStage conv) {
        conv.requestFirstPointwise();
      }
    }
    return true;
  }

  /**
   * Whether a first forward of {@code samples} samples over {@code threads} threads, with {@code macs} multiply-adds
   * per sample in 1x1 layers, has {@link #FIRST_POINTWISE_MACS} of them per thread (a thread's share of the
   * samples, rounded up).
   */
  static boolean firstPointwiseWanted(long macs, int samples, int threads) {
    return macs > 0 && macs * ((samples + threads - 1) / threads) >= FIRST_POINTWISE_MACS;
  }

  /**
   * Whether the first forward of {@code input} runs on the calling thread alone ({@link Parallel#onCallingThread}):
   * one sample, on more than one thread. Split layer by layer over the pool, that forward's sections are short,
   * run code that is still being compiled, and the second worker takes a processor from the compiler threads and
   * the tile warmer, which the forward waits for: on a two-processor AMD EPYC Zen 4, RepVGG-A0's first forward
   * took 0.79x the time alone and its first result 0.86x (medians of six alternating ColdStart pairs), MobileNet
   * v1's 0.82x and 0.88x (four). A batch that splits into parts ({@link #batchParts}) keeps them: RepVGG-A0 at
   * N=8 on two threads took 1.46x as long alone (first result 1.29x), MobileNet v1 1.18x (1.10x). Same bits
   * either way. {@code kiln.blocked.firstForwardAlone=false} turns it off (for comparisons).
   */
  static boolean firstForwardAlone(Tensor input) {
    return FIRST_FORWARD_ALONE && Parallel.threads() > 1 && input.rank() > 0 && input.dim(0) == 1;
  }

  /** Convolutions whose weights the first forward queued for the warmer's thread to prepare (for tests). */
  int weightsScheduled;

  /**
   * {@link ConvStage#prepareWeights} as the warmer's job ({@link TileWarmer#schedule}; a class, not a lambda:
   * nothing is generated at run time before a first result).
   */
  private static final class PrepareWeights implements Runnable {
    private final ConvStage stage;

    PrepareWeights(ConvStage stage) {
      this.stage = stage;
    }

    @Override
    public void run() {
      stage.prepareWeights();
    }
  }

  /** Whether this network's first forward ran on the calling thread alone (for tests). */
  volatile boolean firstForwardRanAlone;

  /**
   * Whether a first forward queues its convolutions' weight packing and transforms on the warmer's thread ({@link
   * PrepareWeights}); {@code kiln.blocked.prepareWeights=false} turns it off (for comparisons).
   */
  static final boolean PREPARE_WEIGHTS = !"false".equals(System.getProperty("kiln.blocked.prepareWeights"));

  private static final boolean FIRST_FORWARD_ALONE =
      !"false".equals(System.getProperty("kiln.blocked.firstForwardAlone"));

  /** {@link #forward} in groups of {@code group} samples (for tests: same bits whatever the grouping). */
  Tensor forward(Tensor input, int group) {
    if (group < 1) {
      throw new IllegalArgumentException("group size must be >= 1 but was " + group);
    }
    return run(input, group);
  }

  /** Queues every convolution's own tiles ({@link BlockedConv#requestFasterTiles}). */
  private void requestConvTiles() {
    for (Stage stage : stages) {
      if (stage instanceof ConvStage conv) {
        conv.requestFasterTiles();
      }
    }
  }

  /** Whether the convolutions' faster tiles were requested (after the first forward). */
  private volatile boolean fasterTilesRequested;

  private Tensor run(Tensor input, int group) {
    int parts = batchParts(input);
    if (parts > 1) {
      return runInParts(input, parts, group);
    }
    Workspace ws = compactSpaces.get();
    ws.inParts = false;
    return runGroups(input, ws, input.dim(0), 0, group, rowBuffers ? Parallel.threads() : 1);
  }

  /**
   * Whether row-split forwards give each piece its own arrays ({@link #ownRows}): {@code kiln.blocked.rowBuffers}
   * {@code true} (the default; {@code auto}, the former default, means the same) or {@code false} (every piece
   * writes the calling thread's arrays), read once; tests set the field.
   */
  static volatile boolean rowBuffers = rowBuffersProperty(System.getProperty("kiln.blocked.rowBuffers"));

  static boolean rowBuffersProperty(String value) {
    switch (value == null ? "true" : value.trim()) {
      case "true":
      case "auto":
        return true;
      case "false":
        return false;
      default:
        System.err.println("kiln: ignoring kiln.blocked.rowBuffers=" + value + " (expected true or false)");
        return true;
    }
  }

  /**
   * Which values (by number) live in arrays of each row-split piece's own in a forward of {@code n} samples on
   * {@code threads} threads: those written by a convolution that splits its output rows into one band per thread
   * ({@link ConvStage#rowSplit}) and read only by such convolutions. Piece {@code j} then writes band {@code j} of
   * the value into its own array (piece 0 into the calling thread's), and before the next layer copies into it
   * the few rows of other bands that its band reads ({@link ConvSection#copyHalo}); every other value lives in
   * the calling thread's arrays, which all pieces write and read.
   *
   * <p>Each piece runs on one thread (the pool hands the same piece to the same thread from layer to layer unless
   * one is kept waiting), so a thread writes only lines it wrote before and reads its neighbour's lines only at
   * the band edges. With every piece writing the calling thread's arrays, which the values take turns in
   * whatever their size, a thread wrote lines of rows that the other thread had written in an earlier layer
   * (the same address is another row of another layout), and a processor fetches such a line from the other's
   * cache before it writes it: on this project's 2-processor virtual machine (AMD EPYC Zen 5, JDK 17), in
   * minutes when its two processors shared no cache, MobileNet v1 at N=1 on two threads ran at 0.87-0.96x of
   * ONNX Runtime that way. Each piece's arrays take the calling thread's footprint again, but a thread touches
   * only its band of them.
   */
  boolean[] ownRows(int threads, int n) {
    boolean[] own = new boolean[compact.slotOf.length];
    boolean[] read = new boolean[own.length];
    for (Stage st : stages) {
      if (st instanceof ConvStage conv && conv.rowSplit(threads, n)) {
        own[st.outSlot] = true;
      }
    }
    for (Stage st : stages) {
      if (st.inSlot >= 0) {
        read[st.inSlot] = true;
        if (!(st instanceof ConvStage conv && conv.rowSplit(threads, n))) {
          own[st.inSlot] = false;
        }
      }
    }
    boolean any = false;
    for (int v = 0; v < own.length; v++) {
      own[v] &= read[v];
      any |= own[v];
    }
    return any ? own : null;
  }

  /**
   * Into how many parts a batch splits over the threads, each part a whole forward on one thread (see
   * {@link #runInParts}): the thread count when the batch divides evenly among more than one thread and the
   * work is worth the pool, else 1 (the layers split their own work over the threads instead).
   */
  int batchParts(Tensor input) {
    int threads = Parallel.threads();
    if (threads <= 1 || input.rank() == 0 || !(stages.get(0) instanceof FromTensorStage from)
        || !from.fits(input)) {
      return 1;
    }
    int n = input.dim(0);
    return n > 1 && n % threads == 0 && Parallel.worthSplitting(macsPerSample * n, Parallel.MIN_MACS, threads)
        ? threads : 1;
  }

  /**
   * The batch in {@code parts} equal parts of consecutive samples, each run through every stage by one thread
   * of the pool with that thread's own buffers (the stages' own splitting then runs inline). The threads
   * meet once per forward instead of once per layer, and each keeps its part's feature maps in its own cache
   * (split layer by layer, MobileNet v1 at N=8 on two threads took 1.5x as long as ONNX Runtime). Every
   * output is computed the same way as in one part.
   */
  private Tensor runInParts(Tensor input, int parts, int group) {
    int n = input.dim(0);
    int per = n / parts;
    Tensor[] results = new Tensor[parts];
    // Classes of their own here and below, not lambdas: these run in a network's first forward, and a lambda is
    // a class generated at run time (see StartupClassesTest).
    Parallel.forRange(parts, new Parallel.RangeBody() {
      @Override
      public void run(int start, int end) {
        Workspace ws = compactSpaces.get();
        ws.inParts = true;
        for (int part = start; part < end; part++) {
          results[part] = runGroups(input, ws, per, part * per, group, 1);
        }
      }
    });
    return concat(results, n);
  }

  /**
   * Every stage over {@code n} samples of {@code input} from sample {@code first}, in groups of at most
   * {@code group} samples, one group through every stage before the next; with {@code pieces} more than 1, the
   * values {@link #ownRows} names in each row-split piece's own arrays.
   */
  private Tensor runGroups(Tensor input, Workspace ws, int n, int first, int group, int pieces) {
    int g = Math.min(n, group);
    ws.ensure(g);
    ws.usePieces(this, pieces, g);
    if (g == n) {
      return runStages(input, ws, n, first);
    }
    if (headStart < stages.size()) {
      // The groups through the pooling, then the head once over all of them: a Linear layer then reads its
      // weights once for the whole batch instead of once per group (MobileNet v1's 4 MB, at N=8 one sample at
      // a time: eight passes over them). Each row is the same sums either way.
      GlobalAvgPoolStage pool = (GlobalAvgPoolStage) stages.get(headStart - 1);
      int channels = pool.layout.channels;
      Tensor pooled = pool.keepsOutput ? ws.pooled(n, channels) : Tensor.zeros(n, channels, 1, 1);
      for (int start = 0; start < n; start += g) {
        int count = Math.min(g, n - start);
        Tensor t = runStages(input, ws, count, first + start, 0, headStart);
        System.arraycopy(t.data(), 0, pooled.data(), start * channels, count * channels);
      }
      return runStages(pooled, ws, n, 0, headStart, stages.size());
    }
    Tensor[] results = new Tensor[(n + g - 1) / g];
    for (int i = 0; i < results.length; i++) {
      int start = i * g;
      results[i] = runStages(input, ws, Math.min(g, n - start), first + start);
    }
    return concat(results, n);
  }

  /** The outputs of consecutive groups of samples, {@code n} in all, as one tensor. */
  private static Tensor concat(Tensor[] results, int n) {
    int[] shape = results[0].shape();
    shape[0] = n;
    Tensor out = Tensor.zeros(shape);
    int offset = 0;
    for (Tensor r : results) {
      System.arraycopy(r.data(), 0, out.data(), offset, r.size());
      offset += r.size();
    }
    return out;
  }

  /** Every stage over {@code n} samples of {@code input}, from sample {@code first} of it. */
  private Tensor runStages(Tensor input, Workspace ws, int n, int first) {
    return runStages(input, ws, n, first, 0, stages.size());
  }

  /** Stages {@code [from, to)} over {@code n} samples of {@code input}, from sample {@code first} of it. */
  private Tensor runStages(Tensor input, Workspace ws, int n, int first, int from, int to) {
    Tensor t = input;
    for (int i = from; i < to; i++) {
      // Only the first stage reads the network's input; later ones read their own n samples.
      ws.firstSample = i == 0 ? first : 0;
      long s = profile == null ? 0 : System.nanoTime();
      t = stages.get(i).run(t, ws, n);
      if (profile != null) {
        profile.add(i, System.nanoTime() - s);
      }
    }
    return t;
  }

  /** A stage over one value of a fixed layout. */
  private abstract static class LayoutStage extends Stage {
    final BlockedLayout layout;

    LayoutStage(BlockedLayout layout) {
      this.layout = layout;
    }
  }

  /** NCHW tensor into the planes or blocked layout of the first convolution. */
  private static final class FromTensorStage extends LayoutStage {
    FromTensorStage(BlockedLayout layout) {
      super(layout);
    }

    @Override
    BlockedLayout outLayout() {
      return layout;
    }

    /** Whether {@code t} is a batch of this stage's input shape (any batch size). */
    boolean fits(Tensor t) {
      return t.rank() == 4 && t.dim(1) == layout.channels && t.dim(2) == layout.height && t.dim(3) == layout.width;
    }

    @Override
    Tensor run(Tensor t, Workspace ws, int n) {
      if (!fits(t) || t.dim(0) < ws.firstSample + n) {
        throw new IllegalArgumentException("input: expected shape [" + n + ", " + layout.channels + ", "
            + layout.height + ", " + layout.width + "] but got " + Tensor.shapeString(t.shape()));
      }
      clearOutput(ws, n);
      float[] dst = ws.buffers[outSlot];
      float[] src = t.data();
      int sample = layout.channels * layout.height * layout.width;
      int first = ws.firstSample;
      if (Parallel.worthSplitting((long) n * sample, Parallel.MIN_ELEMENTS, layout.height)) {
        // Bands of rows, one per thread, like the first convolution's row bands: each thread writes the rows
        // it reads next (written by one thread and read by another, the buffer's lines moved between the
        // cores on every call: MobileNet v1's 224x224 input took 81 us on 2 threads against 42 on one).
        Parallel.forChunks(layout.height, new Parallel.ChunkBody() {
          @Override
          public void run(int chunk, int h0, int h1) {
            for (int i = 0; i < n; i++) {
              layout.fromNchw(src, (first + i) * sample, dst, FIRST + i * layout.sampleSize, h0, h1);
            }
          }
        });
      } else {
        for (int i = 0; i < n; i++) {
          layout.fromNchw(src, (first + i) * sample, dst, FIRST + i * layout.sampleSize);
        }
      }
      return null;
    }
  }

  /** The blocked value back into a new NCHW tensor. */
  private static final class ToTensorStage extends LayoutStage {
    ToTensorStage(BlockedLayout layout) {
      super(layout);
    }

    @Override
    Tensor run(Tensor t, Workspace ws, int n) {
      Tensor out = Tensor.zeros(n, layout.channels, layout.height, layout.width);
      int sample = layout.channels * layout.height * layout.width;
      for (int i = 0; i < n; i++) {
        layout.toNchw(ws.buffers[inSlot], FIRST + i * layout.sampleSize, out.data(), i * sample);
      }
      return out;
    }
  }

  /** One convolution, split over the pool. */
  private static final class ConvStage extends Stage {
    final ConvKernel kernel;
    final BlockedConv conv;
    /** The layer's Winograd form where it has one ({@link WinogradConv#supports}): it runs instead of {@link #conv}. */
    final WinogradConv winograd;

    ConvStage(ConvKernel kernel, BlockedConv conv, WinogradConv winograd) {
      this.kernel = kernel;
      this.conv = conv;
      this.winograd = winograd;
    }

    @Override
    BlockedLayout outLayout() {
      return conv.out;
    }

    // The form the layer runs decides each of these: its Winograd form where it has one, else the convolution.

    /** Packs or, in Winograd's form, transforms the layer's current weights ahead of its run. */
    void prepareWeights() {
      if (winograd != null) {
        winograd.prepareWeights(kernel.weight());
      } else {
        conv.prepareWeights(kernel.weight(), kernel.bias());
      }
    }

    /** The floats of the layer's packed or transformed weights. */
    int weightFloats() {
      return winograd != null ? winograd.weightFloats() : conv.weightFloats();
    }

    /** Where the layer's packed or transformed weights go ({@link BlockedConv#placeWeights}). */
    void placeWeights(AlignedFloats.Share home) {
      if (winograd != null) {
        winograd.placeWeights(home);
      } else {
        conv.placeWeights(home);
      }
    }

    /** Queues the layer's own tiles (and, in Winograd's form, its vector transforms). */
    void requestFasterTiles() {
      if (winograd != null) {
        winograd.requestFasterTiles();
      } else {
        conv.requestFasterTiles();
      }
    }

    /** The multiply-adds per sample the layer would run on one-block pointwise tiles, 0 if none. */
    long firstPointwiseMacs() {
      return winograd != null ? winograd.firstPointwiseMacs() : conv.firstPointwiseMacs();
    }

    /** Requests the layer's one-block pointwise tiles, if it has any. */
    void requestFirstPointwise() {
      if (winograd != null) {
        winograd.requestFirstPointwise();
      } else {
        conv.requestFirstPointwise();
      }
    }

    @Override
    public String toString() {
      ConvGeometry g = conv.geometry;
      return "conv " + g.inChannels() + "->" + g.outChannels() + " " + g.inHeight() + "x" + g.inWidth() + " k"
          + g.kernelH() + " s" + g.strideH() + " g" + g.groups() + (conv.in.blocked ? "" : " planes")
          + (winograd != null ? " winograd" : "");
    }

    /**
     * Whether a forward of {@code n} samples on {@code threads} threads splits this layer's output rows into one
     * band per thread ({@link BlockedConv#bands}).
     */
    boolean rowSplit(int threads, int n) {
      return winograd == null && threads > 1 && conv.splits(n) && conv.bands(threads, n) == threads;
    }

    @Override
    Tensor run(Tensor t, Workspace ws, int n) {
      boolean own = ws.own != null;
      boolean ownOut = own && ws.own[outSlot];
      if (!ownOut) {
        clearOutput(ws, n);
      }
      if (winograd != null) {
        runWinograd(ws, n);
        return null;
      }
      if (conv.splits(n)) {
        ConvSection s = ws.section;
        // The pieces of a forward with own arrays are fixed for the forward: its thread count.
        int threads = own ? ws.ownPieces : Parallel.threads();
        s.stage = this;
        s.ws = ws;
        s.samples = n;
        s.bands = conv.bands(threads, n);
        s.ranges = threads;
        s.ownIn = own && ws.own[inSlot];
        s.ownOut = ownOut;
        try {
          Parallel.forChunks(threads, s);
        } finally {
          s.ws = null;
        }
      } else {
        conv.run(kernel.weight(), kernel.bias(), ws.buffers[inSlot], FIRST, ws.buffers[outSlot], FIRST, n, 1, 0,
            conv.items(n));
      }
      return null;
    }

    /** The Winograd form's three steps, each split over the pool where the layer is worth splitting. */
    private void runWinograd(Workspace ws, int n) {
      WinogradConv w = winograd;
      int group = w.groupSamples(n);
      float[] v = ws.winogradTiles(w.tileFloats(group));
      float[] m = ws.winogradProducts(w.productFloats(group));
      float[] x = ws.buffers[inSlot];
      float[] y = ws.buffers[outSlot];
      if (!conv.splits(n)) {
        w.run(kernel.weight(), kernel.bias(), x, FIRST, v, m, y, FIRST, n);
        return;
      }
      int threads = Parallel.threads();
      if (w.chunks() < threads) {
        // A group of samples at a time (WinogradConv#groupSamples), each step split over the pool.
        for (int first = 0; first < n; first += group) {
          w.runBySteps(ws.winogradSteps, kernel.weight(), kernel.bias(), x, FIRST + first * w.in.sampleSize, v, m, y,
              FIRST + first * w.out.sampleSize, Math.min(group, n - first));
        }
        return;
      }
      // One self-contained section: each thread its share of the chunks (WinogradConv#runChunks), with the
      // transformed input of its own.
      WinogradSection s = ws.winogradSection;
      s.stage = this;
      s.x = x;
      s.m = m;
      s.y = y;
      s.samples = n;
      s.pieces = threads;
      s.pieceTiles = ws.winogradPieceTiles(threads, w.tileFloats(group));
      try {
        Parallel.forChunks(threads, s);
      } finally {
        s.x = s.m = s.y = null;
        s.pieceTiles = null;
      }
    }
  }

  /**
   * A Winograd convolution split by its output-channel chunks, handed to the pool and reused from call to call:
   * pieces {@code [start, end)} of {@link #pieces} shares of the chunks, each with its own transformed input
   * ({@link WinogradConv#runChunks}; the split step by step is {@link WinogradConv#runBySteps}).
   */
  private static final class WinogradSection implements Parallel.ChunkBody {
    ConvStage stage;
    float[] x;
    float[] m;
    float[] y;
    int samples;
    int pieces;
    /** Each piece's transformed input. */
    float[][] pieceTiles;

    @Override
    public void run(int chunk, int start, int end) {
      WinogradConv w = stage.winograd;
      for (int j = start; j < end; j++) {
        w.runPiece(stage.kernel.weight(), stage.kernel.bias(), x, FIRST, pieceTiles[j], m, y, FIRST, samples, j,
            pieces);
      }
    }
  }

  /**
   * ReLU in place over the whole buffer (the halo and padded lanes are zero and stay zero). Like the other
   * element-wise stages it is plain Java, which the JIT vectorizes: it runs once per layer and call, too
   * rarely for vector code to be compiled early (see {@link TileWarmer}).
   */
  private static final class ReluStage extends Stage {
    @Override
    Tensor run(Tensor t, Workspace ws, int n) {
      float[] y = ws.buffers[inSlot];
      int end = FIRST + n * sampleSize;
      for (int i = FIRST; i < end; i++) {
        y[i] = Math.max(y[i], 0f);
      }
      return null;
    }

    int sampleSize;
  }

  /** Eval-mode BatchNorm in place over the interior: {@code x * scale + shift} per channel. */
  private static final class BatchNormStage extends LayoutStage {
    private final BatchNorm2d bn;

    BatchNormStage(BatchNorm2d bn, BlockedLayout layout) {
      super(layout);
      this.bn = bn;
    }

    @Override
    Tensor run(Tensor t, Workspace ws, int n) {
      float[] y = ws.buffers[inSlot];
      float[] scale = new float[layout.blocks * LANES];
      float[] shift = new float[layout.blocks * LANES];
      for (int c = 0; c < layout.channels; c++) {
        scale[c] = (float) bn.foldedScale(c);
        shift[c] = (float) bn.foldedShift(c);
      }
      for (int i = 0; i < n; i++) {
        for (int cb = 0; cb < layout.blocks; cb++) {
          int base = FIRST + i * layout.sampleSize + cb * layout.blockStride;
          int lanes = cb * LANES;
          for (int h = 0; h < layout.height; h++) {
            int row = base + layout.pixel(h, 0);
            for (int w = 0; w < layout.width; w++) {
              int p = row + w * LANES;
              for (int lane = 0; lane < LANES; lane++) {
                y[p + lane] = y[p + lane] * scale[lanes + lane] + shift[lanes + lane];
              }
            }
          }
        }
      }
      return null;
    }
  }

  /** Global average pooling of the interior into a new {@code [N, C, 1, 1]} tensor. */
  private static final class GlobalAvgPoolStage extends LayoutStage {
    /**
     * The least input (elements, halo included) worth splitting over threads: a quarter of
     * {@link Parallel#MIN_ELEMENTS}, since this pass reads a map the previous layer's threads wrote (MobileNet
     * v1's 7x7x1024, 50K elements, took 56 us on one thread against 26 split; an element-wise pass over data in
     * its own cache is cheaper per element).
     */
    private static final long SPLIT_ELEMENTS = Parallel.MIN_ELEMENTS / 4;

    final TileWarmer.Tile kernel = TileWarmer.blockSums();
    /** This stage's place in the network. */
    int index;
    /**
     * Whether it writes into a tensor the calling thread keeps ({@link Workspace#kept}) rather than a new one:
     * when a Linear layer follows (after at most a Flatten), whose output is the new tensor the caller gets. A
     * new 5-KB tensor per call took 5-57 us on this virtual machine (fresh heap pages faulted in as the young
     * generation fills slowly), more than the pooling: RepVGG-A0's pooling stage 60-107 us per call in three of
     * four runs against 17 in the fourth, the pooling itself 11-18 us.
     */
    boolean keepsOutput;

    GlobalAvgPoolStage(BlockedLayout layout) {
      super(layout);
    }

    @Override
    Tensor run(Tensor t, Workspace ws, int n) {
      float[] x = ws.buffers[inSlot];
      // Every element is written below.
      Tensor out = keepsOutput ? ws.kept(index, n, layout.channels) : Tensor.zeros(n, layout.channels, 1, 1);
      float[] y = out.data();
      if (Parallel.worthSplitting((long) n * layout.sampleSize, SPLIT_ELEMENTS, n * layout.blocks)) {
        // Channel blocks split over the threads, each mean summed by one thread in the same order (the same bits).
        Parallel.forChunks(n * layout.blocks, new Parallel.ChunkBody() {
          @Override
          public void run(int chunk, int start, int end) {
            pool(x, y, start, end);
          }
        });
      } else {
        pool(x, y, 0, n * layout.blocks);
      }
      return out;
    }

    /**
     * Means of the channel blocks {@code [start, end)} of the batch, sample after sample: each lane summed in
     * float over the rows and pixels in order ({@link HeadKernels#blockSums}), by one thread whatever the
     * split (the same bits). In vector code: plain Java loops (sixteen running sums in locals) took 30-37 us
     * for the 7x7 maps of MobileNet v1 (1,024 channels) and RepVGG-A0 (1,280) against ONNX Runtime's 5-7.
     */
    private void pool(float[] x, float[] y, int start, int end) {
      double area = (double) layout.height * layout.width;
      float[] sums = Scratch.get().accumulators(1, layout.blocks * LANES)[0];
      boolean vector = !plainHead && kernel.hot();
      for (int item = start; item < end;) {
        int i = item / layout.blocks;
        int cb = item % layout.blocks;
        int count = Math.min(layout.blocks - cb, end - item);
        int base = FIRST + i * layout.sampleSize + cb * layout.blockStride;
        if (vector) {
          HeadKernels.blockSums(x, base, layout.blockStride, count, layout.pixel(0, 0), layout.height, layout.width,
              layout.rowStride, sums);
        } else {
          HeadKernels.blockSumsPlain(x, base, layout.blockStride, count, layout.pixel(0, 0), layout.height,
              layout.width, layout.rowStride, sums);
        }
        for (int k = 0; k < count; k++) {
          int c = (cb + k) * LANES;
          int lanes = Math.min(LANES, layout.channels - c);
          for (int l = 0; l < lanes; l++) {
            y[i * layout.channels + c + l] = (float) (sums[k * LANES + l] / area);
          }
        }
        item += count;
      }
    }
  }

  /**
   * A {@link Linear} layer: {@link HeadKernels#linear} over a copy of the weights packed by blocks of output
   * features (repacked when the weight or bias parameter's {@link Parameter#version() version} moves), once
   * the kernel is compiled; until then the layer's own forward. Either way the same sums in the same order, so
   * the same bits. The packed weights stream from memory front to back, four blocks of outputs side by side:
   * MobileNet v1's 1,024->1,000 classifier took 100-135 us through {@link Linear#forward} (four columns of the
   * weights per pass over the outputs) against ONNX Runtime's 67-76.
   */
  private static final class LinearStage extends Stage {
    final Linear linear;
    final TileWarmer.Tile kernel = TileWarmer.linear();
    private volatile Packed packed;

    /** Packed weights and bias and the parameter versions they were packed at. */
    private record Packed(long weightVersion, long biasVersion, float[] w, float[] b) {}

    LinearStage(Linear linear) {
      this.linear = linear;
    }

    /** Elements of the weight matrix: also the layer's multiply-adds per sample. */
    long weights() {
      return (long) linear.inFeatures() * linear.outFeatures();
    }

    @Override
    Tensor run(Tensor t, Workspace ws, int n) {
      if (plainHead) {
        return linear.forward(t);
      }
      int rows = linear.outputShape(t.shape())[0];
      int in = linear.inFeatures();
      int out = linear.outFeatures();
      if (!kernel.hot()) {
        // Until the vector kernel is compiled: the same sums from the layer's own weights, in plain Java that
        // the warmer compiled while the network was built.
        Tensor result = Tensor.zeros(rows, out);
        Parameter bias = linear.bias();
        HeadKernels.linearPlain(t.data(), in, linear.weight().data().data(), bias == null ? null : bias.data().data(),
            out, result.data(), rows);
        return result;
      }
      Packed p = packed();
      Tensor result = Tensor.zeros(rows, out);
      float[] x = t.data();
      float[] y = result.data();
      int blocks = VectorShape.blocks(out);
      // Groups of four output blocks (as the kernel takes them) split over the threads, every row each.
      int groups = (blocks + 3) / 4;
      if (Parallel.worthSplitting((long) rows * in * out, Parallel.MIN_MACS, groups)) {
        Parallel.forRange(groups, new Parallel.RangeBody() {
          @Override
          public void run(int g0, int g1) {
            HeadKernels.linear(x, in, p.w(), p.b(), out, y, 0, rows, 4 * g0, Math.min(blocks, 4 * g1));
          }
        });
      } else {
        HeadKernels.linear(x, in, p.w(), p.b(), out, y, 0, rows, 0, blocks);
      }
      return result;
    }

    private Packed packed() {
      Parameter weight = linear.weight();
      Parameter bias = linear.bias();
      long wv = weight.version();
      long bv = bias == null ? 0 : bias.version();
      Packed p = packed;
      if (p != null && p.weightVersion() == wv && p.biasVersion() == bv) {
        return p;
      }
      synchronized (this) {
        p = packed;
        if (p != null && p.weightVersion() == wv && p.biasVersion() == bv) {
          return p;
        }
        int out = linear.outFeatures();
        p = new Packed(wv, bv, HeadKernels.packLinear(weight.data().data(), out, linear.inFeatures()),
            bias == null ? null : HeadKernels.packBias(bias.data().data(), out));
        packed = p;
        return p;
      }
    }
  }

  /** Any other layer, on an NCHW tensor. */
  private static final class ModuleStage extends Stage {
    final Module module;

    ModuleStage(Module module) {
      this.module = module;
    }

    @Override
    Tensor run(Tensor t, Workspace ws, int n) {
      return module.forward(t);
    }
  }
}
