package dev.kiln.simd;

import static dev.kiln.simd.AlignedFloats.FIRST;

import dev.kiln.annotation.Activation;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.Parameter;
import dev.kiln.runtime.Parallel;

/**
 * A convolution layer used on its own (a {@code ConvKernel}'s forward, NCHW in and out) in Winograd's form
 * ({@link WinogradConv}): the input copied into a blocked layout with a zero halo, the layer's three steps, the
 * output converted back to NCHW. For the 3x3 layers {@link WinogradConv#supports} names (stride 1, padding 1) with
 * at least {@link #MIN_CHANNELS} input channels and {@link #MIN_PIXELS} output pixels, where the 2.25 times fewer
 * multiply-adds outweigh the two conversions. All channels at once are split over the pool by the products'
 * output-channel chunks ({@link WinogradConv#runChunks}), each thread with the whole input transform of its own,
 * where there are at least as many chunks as threads; with fewer (a 48-channel layer is one chunk), each of the
 * three steps in turn is split over the pool by its own items (input rows, rows of the products, output rows), as
 * a network's Winograd layers are. A range of some channels computes the chunks they fall in. The system property
 * {@code kiln.simd.loneWinograd=false}, read when a layer's engine is created, turns it off.
 */
final class LoneWinograd implements LoneForward {
  private static final int LANES = VectorShape.LANES;

  /**
   * The fewest output pixels: the layers measured ({@code LayerSuite}, AMD EPYC Zen 4, one thread) were 14x14 to
   * 56x56, faster than the direct engine with the conversions (48->48 56x56 1.40x, 64->64 56x56 1.33x, 96->96 28x28
   * 1.75x, 192->192 14x14 2.0x); smaller maps (the sample network's 8x8 layers) were not measured, and keep the
   * direct engine.
   */
  static final int MIN_PIXELS = 14 * 14;

  /**
   * The fewest input channels ({@code kiln.simd.loneWinogradMinChannels}), by default a network's
   * ({@link dev.kiln.nn.WinogradKernels#MIN_CHANNELS}). Which engine runs a 16->32 14x14 layer faster depends on the
   * machine: on the AMD EPYC Zen 4 (512-bit multiply-adds at half rate) Winograd's form, 528-559 us against 592-595
   * in the direct engine at N=32 and 16.0-18.0 us against 18.6-18.9 at N=1; on an Intel Xeon of the Sapphire Rapids
   * class (at full rate) the direct engine, 368-376 us against 393-410 and 11.7 against 12.8-13.6 (LayerSuite, one
   * thread, two runs each); on the AMD EPYC Zen 3 (AVX2) both about the same, 27-29 us. So from 32, where
   * Winograd's form won on every machine measured.
   */
  static final int MIN_CHANNELS =
      Integer.getInteger("kiln.simd.loneWinogradMinChannels", dev.kiln.nn.WinogradKernels.MIN_CHANNELS);

  private static final boolean ENABLED = !"false".equals(System.getProperty("kiln.simd.loneWinograd"));

  private final WinogradConv conv;
  private final BlockedLayout in;
  private final BlockedLayout out;
  private final int outChannels;
  /** Per thread: the blocked input (its halo stays zero), the transformed input, the products, the output. */
  private final ThreadLocal<Scratch> scratch;
  private volatile boolean fasterTilesRequested;

  private LoneWinograd(ConvGeometry geometry, Activation activation) {
    this.in = BlockedLayout.blocked(geometry.inChannels(), geometry.inHeight(), geometry.inWidth(), 1, 1, 1, 1);
    this.out = BlockedLayout.blocked(geometry.outChannels(), geometry.outHeight(), geometry.outWidth(), 0, 0, 0, 0);
    this.conv = new WinogradConv(geometry, activation, in, out);
    this.outChannels = geometry.outChannels();
    this.scratch = new ThreadLocal<>() {
      @Override
      protected Scratch initialValue() {
        return new Scratch();
      }
    };
  }

  /** This form for a layer of {@code geometry} where it applies (see the class), else null. */
  static LoneWinograd forLayer(ConvGeometry geometry, Activation activation) {
    return ENABLED && geometry.outHeight() * geometry.outWidth() >= MIN_PIXELS
        && WinogradConv.supports(geometry, true, MIN_CHANNELS)
        ? new LoneWinograd(geometry, activation) : null;
  }

  @Override
  public String kind() {
    return "winograd";
  }

  /**
   * Output channels {@code [ocStart, ocEnd)} of one sample: {@code x[xOff..]} NCHW in, {@code y[yOff..]} NCHW out,
   * the activation applied; all channels split over the pool where the layer is worth splitting. The first call
   * asks for the layer's own code (the vector transforms, its products' tiles, the conversions' transposes).
   */
  @Override
  public void forward(Parameter weight, Parameter bias, float[] x, int xOff, float[] y, int yOff, int ocStart,
      int ocEnd) {
    Scratch s = scratch.get();
    int threads = Parallel.threads();
    Split how = split(threads, ocStart, ocEnd);
    boolean split = how != Split.NONE;
    s.io.set(x, xOff, y, yOff, ocStart, ocEnd);
    try {
      // The conversions split too (by input rows, by output channel blocks): on one thread they left the other
      // waiting for about a tenth of the layer.
      SampleConversions.run(split, in.height, s.io.input);
      if (how == Split.CHUNKS) {
        s.weight = weight;
        s.bias = bias;
        s.pieces = threads;
        Parallel.forChunks(threads, s.compute);
      } else if (how == Split.STEPS) {
        conv.runBySteps(s.steps, weight, bias, s.io.xb, FIRST, s.v, s.m, s.io.yb, FIRST, 1);
      } else {
        int c0 = conv.chunkOf(ocStart / LANES);
        int c1 = conv.chunkOf((ocEnd - 1) / LANES) + 1;
        conv.runChunks(weight, bias, s.io.xb, FIRST, s.v, s.m, s.io.yb, FIRST, 1, c0, c1);
      }
      SampleConversions.run(split, out.blocks, s.io.output);
    } finally {
      s.io.clear();
      s.weight = null;
      s.bias = null;
    }
    if (!fasterTilesRequested) {
      fasterTilesRequested = true;
      conv.requestFasterTiles();
      LoneForward.requestAfterFirstCall(in, out);
    }
  }

  /** How a call splits over the pool ({@link #split}). */
  enum Split {
    /** On the calling thread alone. */
    NONE,
    /** By the products' output-channel chunks, each thread with its own input transform. */
    CHUNKS,
    /** Each step in turn by its own items. */
    STEPS
  }

  /**
   * How a call for output channels {@code [ocStart, ocEnd)} splits over {@code threads} threads: not at all for a
   * range of channels, one thread or a layer too small to be worth it; by chunks where there are at least as many
   * as threads; else step by step. Before the step-by-step split a 48->48 56x56 layer (one chunk) ran on one thread
   * whatever the pool: 0.59-0.61x ONNX Runtime's speed on two threads against 1.1x on one (Intel Xeon of the
   * Sapphire Rapids class). (Step by step also where the chunks split unevenly, a 64->64 56x56 layer's three blocks
   * and one, was no faster: 732 us against 694.)
   */
  Split split(int threads, int ocStart, int ocEnd) {
    if (ocStart != 0 || ocEnd != outChannels || threads < 2
        || !Parallel.worthSplitting(conv.geometry.macsPerSample() * 4 / 9, Parallel.MIN_MACS)) {
      return Split.NONE;
    }
    return conv.chunks() >= threads ? Split.CHUNKS : Split.STEPS;
  }

  /** The products' output-channel chunks ({@link WinogradConv#chunks}; for tests). */
  int chunks() {
    return conv.chunks();
  }

  /** One thread's buffers, and a split call's pieces (read from the calling thread's). */
  private final class Scratch {
    /** The blocked input and output, their conversions. */
    final SampleConversions io = new SampleConversions(in, out, false);
    final float[] v = WinogradConv.scratch(conv.tileFloats(1));
    final float[] m = WinogradConv.scratch(conv.productFloats(1));
    Parameter weight;
    Parameter bias;
    int pieces;
    /** A split call's steps ({@link WinogradConv#runBySteps}). */
    final WinogradConv.Steps steps = new WinogradConv.Steps();
    /** Piece {@code j}'s share of the chunks, into the calling thread's products and output. */
    final Parallel.ChunkBody compute = (chunk, start, end) -> {
      float[] tiles = scratch.get().v;
      for (int j = start; j < end; j++) {
        conv.runPiece(weight, bias, io.xb, FIRST, tiles, m, io.yb, FIRST, 1, j, pieces);
      }
    };
  }
}
