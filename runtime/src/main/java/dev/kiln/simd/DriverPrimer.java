package dev.kiln.simd;

import static dev.kiln.simd.VectorShape.LANES;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.Parameter;
import dev.kiln.tensor.Tensor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Gives the JIT a profile of {@link BlockedConv#run} (the loop every layer of the blocked engine runs through,
 * and the paths it calls per run of output rows) in which every path is taken and every kernel call has seen
 * several kernel classes, before a network's layers switch from their first tiles to their own.
 *
 * <p>C2 compiles a method for the paths and receiver classes its profile has seen and leaves an "uncommon
 * trap" on the others: the first time one is taken, the compiled code is thrown away, the method runs in
 * slower code again and is compiled anew. A network's driver loop was compiled while its layers still ran on
 * their first tiles and its depthwise layers in plain Java; as each depthwise tile became hot, and then a
 * second depthwise tile class reached the same call, it was thrown out again: MobileNet v1 on 2 threads (AMD
 * EPYC Zen 1, JDK 17) compiled {@code BlockedConv.run} 12 times with C2 in its first 7 s, each taking 105-217 ms
 * (wall time in a flight recording), while the layers waited for their tiles in the same compiler's queue.
 *
 * <p>So, once per JVM, after the first forward of a network of this engine, the warmer runs this before that
 * network's faster tiles ({@link TileWarmer#requestDriverPriming}; during the first forward it took processor
 * time and C2's queue from it): small layers of every kind (convolution, pointwise, pointwise row by row, pointwise
 * in row groups, depthwise
 * 3x3 at strides 1 and 2, another depthwise, with and without an upper bound) on stand-in tiles of three
 * classes that compute nothing, over two samples and one or two row bands, each with its first tiles and with
 * its own ({@link BlockedConv#firstTilesOnly}): enough calls for the JIT to compile the loop from that
 * profile. The stand-ins never touch a real layer's data.
 */
final class DriverPrimer {
  /** Calls of each layer's loop: past C2's invocation threshold (5,000) with all layers together. */
  static final int ROUNDS = 1500;

  private static final AtomicBoolean DONE = new AtomicBoolean();

  private DriverPrimer() {}

  /**
   * Whether to prime (system property {@code kiln.simd.primeDriver}, default true; {@code false} leaves the
   * driver's profile to the network, for measuring what this does).
   */
  static final boolean ENABLED = !"false".equals(System.getProperty("kiln.simd.primeDriver"));

  /** Runs the priming once per JVM where {@link #ENABLED} (later calls return at once); whether this call ran it. */
  static boolean prime() {
    if (!ENABLED || !DONE.compareAndSet(false, true)) {
      return false;
    }
    long start = System.nanoTime();
    run(ROUNDS);
    if (TileWarmer.LOG) {
      System.err.printf("kiln: driver primed in %d ms%n", (System.nanoTime() - start) / 1_000_000);
    }
    return true;
  }

  /**
   * What a priming run did: the stand-in kernels' calls by kind (convolution, depthwise, depthwise 3x3) and
   * class (three), and the depthwise layers' items run in plain Java.
   */
  record Calls(long[][] byKindAndClass, long plainItems) {}

  /** {@code rounds} rounds of every priming layer's loop. */
  static Calls run(int rounds) {
    StandIns source = new StandIns();
    Layer[] layers = {
        new Layer(geometry(LANES, 3 * LANES, 4, 20, 3, 1, 1, 1), Activation.RELU6, source),
        new Layer(geometry(LANES, 2 * LANES, 4, 20, 1, 1, 0, 1), Activation.RELU, source),
        // Its items row by row through the chunks (BlockedConv#rowsFirst).
        new Layer(geometry(BlockedConv.ROWS_FIRST_STEPS, 4 * LANES, 16, 17, 1, 1, 0, 1), Activation.RELU, source),
        // Rows of 9 and 13 pixels: groups of rows as one run of tiles (BlockedConv#rowGroups) for any widest tile of
        // 3 to 8 pixels (one width or the other), a band's last taking more rows, into an output with a horizontal
        // halo (through the thread's buffer) and one without; row by row through the chunks too.
        new Layer(geometry(LANES, 2 * LANES, 16, 9, 1, 1, 0, 1), Activation.RELU, source, 1),
        new Layer(geometry(LANES, 2 * LANES, 16, 9, 1, 1, 0, 1), Activation.RELU6, source),
        new Layer(geometry(LANES, 3 * LANES, 16, 13, 1, 1, 0, 1), Activation.RELU, source, 1),
        new Layer(geometry(LANES, 3 * LANES, 16, 13, 1, 1, 0, 1), Activation.RELU6, source),
        new Layer(geometry(BlockedConv.ROWS_FIRST_STEPS, 4 * LANES, 58, 9, 1, 1, 0, 1), Activation.RELU, source),
        new Layer(geometry(BlockedConv.ROWS_FIRST_STEPS, 3 * LANES, 58, 13, 1, 1, 0, 1), Activation.RELU, source),
        new Layer(geometry(LANES, LANES, 4, 20, 3, 1, 1, LANES), Activation.RELU6, source),
        new Layer(geometry(LANES, LANES, 4, 20, 3, 2, 1, LANES), Activation.RELU, source),
        new Layer(geometry(LANES, LANES, 4, 30, 5, 1, 2, LANES), Activation.NONE, source),
    };
    for (int round = 0; round < rounds; round++) {
      for (Layer l : layers) {
        l.run(round);
      }
    }
    long[][] calls = new long[3][StandIns.CLASSES];
    for (int c = 0; c < StandIns.CLASSES; c++) {
      for (int k = 0; k < 3; k++) {
        calls[k][c] = source.kernels[c].calls[k];
      }
    }
    long plain = 0;
    for (Layer l : layers) {
      plain += l.plainItems;
    }
    return new Calls(calls, plain);
  }


  private static ConvGeometry geometry(int in, int out, int h, int w, int k, int stride, int pad, int groups) {
    return ConvGeometry.builder().inChannels(in).outChannels(out).inputSize(h, w).kernel(k, k).stride(stride, stride)
        .padding(pad, pad, pad, pad).groups(groups).paddingMode(PaddingMode.ZEROS).build();
  }

  /** A small layer on stand-in tiles, its parameters, and inputs and outputs for two samples. */
  private static final class Layer {
    final BlockedConv conv;
    final Parameter weight;
    final Parameter bias;
    final float[] x;
    final float[] y;
    final boolean depthwise;
    /** Items of a depthwise layer run in plain Java. */
    long plainItems;

    Layer(ConvGeometry g, Activation activation, StandIns source) {
      this(g, activation, source, 0);
    }

    /** A layer whose output has a halo of {@code outHalo} all round. */
    Layer(ConvGeometry g, Activation activation, StandIns source, int outHalo) {
      int[] halo = BlockedConv.requiredHalo(g);
      BlockedLayout in = BlockedLayout.blocked(g.inChannels(), g.inHeight(), g.inWidth(), halo[0], halo[1], halo[2],
          halo[3]);
      BlockedLayout out = BlockedLayout.blocked(g.outChannels(), g.outHeight(), g.outWidth(), outHalo, outHalo,
          outHalo, outHalo);
      conv = new BlockedConv(g, activation, in, out, source);
      depthwise = BlockedConv.isDepthwise(g);
      weight = Parameter.of("weight",
          Tensor.zeros(g.outChannels(), g.inChannels() / g.groups(), g.kernelH(), g.kernelW()));
      bias = Parameter.of("bias", Tensor.zeros(g.outChannels()));
      x = new float[2 * in.sampleSize];
      y = new float[2 * out.sampleSize];
    }

    /**
     * One call of the layer's loop: its first tiles (depthwise layers: plain Java) every eighth round, else its
     * own, checking again whether its chunks are hot; two bands every third round.
     */
    void run(int round) {
      conv.firstTilesOnly = round % 8 == 0;
      if (conv.firstTilesOnly && depthwise) {
        plainItems += conv.items(2);
      }
      conv.forgetHotChunks();
      int bands = round % 3 == 0 ? 2 : 1;
      conv.run(weight, bias, x, 0, y, 0, 2, bands, 0, conv.items(2));
    }
  }

  /** Hot stand-in tiles, cycling through three classes so that every kernel call sees more than two. */
  private static final class StandIns implements BlockedConv.TileSource {
    static final int CLASSES = 3;
    final StandIn[] kernels = {new A(), new B(), new C()};
    private int next;

    private TileWarmer.Tile next() {
      StandIn k = kernels[next++ % CLASSES];
      return TileWarmer.Tile.standIn("stand-in", k, k, k);
    }

    @Override
    public TileWarmer.Tile conv(int blocks, int pixels, int pixelStride, float lo) {
      return next();
    }

    @Override
    public TileWarmer.Tile pointwise(int blocks, int pixels, float lo) {
      return next();
    }

    @Override
    public TileWarmer.Tile depthwise(int pixels) {
      return next();
    }

    /** The depthwise 3x3 stand-ins by width and stride: a layer calls one per run of equal tiles. */
    private final java.util.Map<Integer, TileWarmer.Tile> depthwise3x3 = new java.util.HashMap<>();

    /**
     * One stand-in per width and stride, the classes in turn over the widths (a layer calls each run of tiles of
     * one width as one tile: with a class per tile, the priming layers' runs reached two of the three).
     */
    @Override
    public TileWarmer.Tile depthwise3x3(int pixels, int stride) {
      // No lambda (computeIfAbsent): the priming starts as a first forward returns, and a class generated for a
      // lambda then is one more on the way to a first result (StartupClassesTest).
      Integer key = stride * 100 + pixels;
      TileWarmer.Tile t = depthwise3x3.get(key);
      if (t == null) {
        StandIn k = kernels[depthwise3x3.size() % CLASSES];
        t = TileWarmer.Tile.standIn("stand-in", k, k, k);
        depthwise3x3.put(key, t);
      }
      return t;
    }

    @Override
    public TileWarmer.Tile first(int pixels) {
      return next();
    }

    @Override
    public TileWarmer.Tile firstPointwise(int pixels) {
      return next();
    }
  }


  /** Kernels that compute nothing; they count their calls by kind. */
  private abstract static class StandIn
      implements BlockedKernels.ConvTile, BlockedKernels.DepthwiseTile, BlockedKernels.Depthwise3x3Tile {
    final long[] calls = new long[3];

    @Override
    public void run(float[] x, int xo, int sx, int[] off, int rs, float[] w, int wo, int ws, float[] b, int bo,
        float lo, float[] y, int yo, int sy, int cs) {
      calls[0]++;
    }

    @Override
    public void run(float[] x, int xo, int sx, int[] off, int ks, float[] w, int wo, float[] b, int bo, float lo,
        float hi, float[] y, int yo, int sy) {
      calls[1]++;
    }

    @Override
    public void run(float[] x, int xo, int rowStride, float[] w, int wo, float[] b, int bo, float lo, float hi,
        float[] y, int yo, int count) {
      calls[2]++;
    }
  }

  private static final class A extends StandIn {}

  private static final class B extends StandIn {}

  private static final class C extends StandIn {}
}
