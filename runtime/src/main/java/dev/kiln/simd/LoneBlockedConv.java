package dev.kiln.simd;

import static dev.kiln.simd.AlignedFloats.FIRST;

import dev.kiln.annotation.Activation;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.Parameter;
import dev.kiln.runtime.Parallel;

/**
 * A convolution layer used on its own (a {@code ConvKernel}'s forward, NCHW in and out) run by the blocked
 * engine's tiles ({@link BlockedConv}) where those are faster than the direct engine's kernels even with the
 * conversions: the input copied into padded planes (the layout a network's stem reads; read where it is when the
 * layer reads no padding) or, for a 1x1 layer of many input channels, into channel blocks (the layout a network's
 * 1x1 layers read, which its pointwise tiles walk), the output converted from channel blocks back to NCHW. Each
 * output is the same fused multiply-adds in the same order as the direct engine's, so the same bits.
 *
 * <p>1x1 layers of at least {@link #MIN_POINTWISE_CHANNELS} input channels (stride 1, no padding, one group, whole
 * blocks of input channels) take the channel blocks on every machine, unless the direct engine prefers its panels
 * ({@link DirectConv#prefersPanels}, AVX2's large planes). One layer alone, 1 thread, the ways interleaved in one JVM
 * ({@code LoneLayerTimes}; Intel Xeon of the Sapphire Rapids class, JDK 17), this path's time over the direct
 * engine's with 512-bit vectors: 512->512 14x14 0.75-0.84, 1024->1024 7x7 0.75, 512->1024 7x7 0.74, 256->512 14x14
 * 0.73, 256->256 28x28 0.91, 256->256 56x56 0.83; with 256-bit vectors (16 registers) 0.67-0.81 on the 7x7 and 14x14
 * maps, 1.02-1.03 against the panels on the 28x28 and 56x56 ones. Below the threshold it was mixed: 192->192 14x14
 * 0.94, 128->128 14x14 1.10, 128->128 56x56 1.03, 64->64 56x56 1.51 (the conversions outweigh the tiles' gain).
 *
 * <p>Other layers, over padded planes: machines with 16 vector registers ({@link TileBudget#REGISTERS}; AVX2), whose
 * direct kernels run in passes that load each input four times ({@link TileBudget#SPLIT_DIRECT_KERNELS}) while the
 * blocked tiles are sized for 16 registers, and layers of at least {@link #MIN_REDUCTION} terms per output, so that the
 * multiply-adds outweigh the conversions. One layer alone, 1 thread, the ways interleaved in one JVM ({@code
 * LoneLayerTimes} in the runtime's tests; AMD EPYC Zen 1, JDK 17), this path's time over the direct engine's: 3x3
 * layers 48->48 56x56 0.88, 64->64 56x56 0.90, 96->96 28x28 0.81, 192->192 14x14 0.84; below the threshold 32->32 28x28
 * (288 terms) 1.03, 16->32 14x14 1.03, the 3->48 224x224 stride-2 stem 1.34 and 64->64 56x56 1x1 1.35 (the tiles alone
 * were faster there too; the conversions cost more than they gained; over channel blocks the 1x1 layer is 1.51, above).
 * With 32 registers the direct engine's kernels are whole and the planes are not used. Nor is either form for 1x1
 * layers of large planes, which the direct engine runs through panels faster on AVX2 (a {@code SimdConvEngine} asks
 * {@link DirectConv#prefersPanels} first). The system property {@code kiln.simd.loneBlocked=false}, read when a layer's
 * engine is created, turns it off (an experiment switch).
 */
final class LoneBlockedConv implements LoneForward {

  /** The fewest (input channel, tap) terms per output for which the tiles outweigh the conversions. */
  static final int MIN_REDUCTION = 384;

  /** The fewest input channels of a 1x1 layer that reads channel blocks ({@link #readsChannelBlocks}). */
  static final int MIN_POINTWISE_CHANNELS = 256;

  private static final boolean ENABLED = !"false".equals(System.getProperty("kiln.simd.loneBlocked"));

  private final BlockedConv conv;
  private final BlockedLayout in;
  private final BlockedLayout out;
  private final int outChannels;
  /**
   * Whether the layer reads no padding: its planes without a halo are the NCHW sample itself, which the tiles
   * then read where it is, with no copy.
   */
  private final boolean readsInPlace;
  /** Per thread: the padded input planes (their halo stays zero), the blocked output, a call's split. */
  private final ThreadLocal<Scratch> scratch;
  private volatile boolean fasterTilesRequested;

  /**
   * This path for {@code geometry} over padded planes, whatever its terms (for measuring); {@link #of} checks the
   * rest.
   */
  LoneBlockedConv(ConvGeometry geometry, Activation activation) {
    this(geometry, activation, false);
  }

  /**
   * This path for {@code geometry}, its input in channel blocks where {@code channelBlocks} (a layer that
   * {@link #readsChannelBlocks}), else in padded planes.
   */
  LoneBlockedConv(ConvGeometry geometry, Activation activation, boolean channelBlocks) {
    int[] halo = BlockedConv.requiredHalo(geometry);
    if (channelBlocks && !readsChannelBlocks(geometry)) {
      throw new IllegalArgumentException("not a 1x1 layer over whole channel blocks: " + geometry);
    }
    this.in = channelBlocks
        ? channelBlocks(geometry)
        : BlockedLayout.planes(geometry.inChannels(), geometry.inHeight(), geometry.inWidth(), halo[0], halo[1],
            halo[2], halo[3]);
    this.out = BlockedLayout.blocked(geometry.outChannels(), geometry.outHeight(), geometry.outWidth(), 0, 0, 0, 0);
    this.conv = new BlockedConv(geometry, activation, in, out);
    this.outChannels = geometry.outChannels();
    this.readsInPlace = !channelBlocks && halo[0] + halo[1] + halo[2] + halo[3] == 0;
    // A class of its own, not a method reference: nothing is generated at run time before a first result.
    this.scratch = new ThreadLocal<>() {
      @Override
      protected Scratch initialValue() {
        return new Scratch();
      }
    };
  }

  /**
   * This path for a layer of {@code geometry} where it is the faster one here (see the class), else null. (A layer
   * the direct engine runs through panels, {@link DirectConv#prefersPanels}, is not asked.)
   */
  static LoneBlockedConv forLayer(ConvGeometry geometry, Activation activation) {
    if (!ENABLED) {
      return null;
    }
    if (readsChannelBlocks(geometry) && geometry.inChannels() >= MIN_POINTWISE_CHANNELS) {
      return new LoneBlockedConv(geometry, activation, true);
    }
    return TileBudget.REGISTERS < 32 ? of(geometry, activation) : null;
  }

  /**
   * Whether the layer can read its input in channel blocks without a halo on the pointwise tiles: one group, and
   * what a network's 1x1 layers need to read such an input row after row ({@link BlockedConv#contiguousRows}: 1x1,
   * stride 1, no padding, whole blocks of input channels).
   */
  static boolean readsChannelBlocks(ConvGeometry geometry) {
    return geometry.groups() == 1 && BlockedConv.supports(geometry, true)
        && BlockedConv.contiguousRows(geometry, channelBlocks(geometry));
  }

  /** The layer's input in channel blocks without a halo. */
  private static BlockedLayout channelBlocks(ConvGeometry geometry) {
    return BlockedLayout.blocked(geometry.inChannels(), geometry.inHeight(), geometry.inWidth(), 0, 0, 0, 0);
  }

  /** This path for a layer of {@code geometry} wherever the blocked engine can run it with enough terms, else null. */
  static LoneBlockedConv of(ConvGeometry geometry, Activation activation) {
    if (!BlockedConv.supports(geometry, false) || BlockedConv.isDepthwise(geometry)
        || geometry.fanIn() < MIN_REDUCTION) {
      return null;
    }
    return new LoneBlockedConv(geometry, activation);
  }

  /** The layout the tiles read the input in: padded planes, or channel blocks ({@link #readsChannelBlocks}). */
  BlockedLayout inputLayout() {
    return in;
  }

  /** The layout the tiles write the output in (channel blocks, before the conversion to NCHW). */
  BlockedLayout outputLayout() {
    return out;
  }

  @Override
  public String kind() {
    return "blocked";
  }

  /**
   * Output channels {@code [ocStart, ocEnd)} of one sample: {@code x[xOff..]} NCHW in, {@code y[yOff..]} NCHW
   * out, the activation applied. A range of some channels computes the whole channel chunks they fall in on
   * this thread and writes only those channels; all channels, where the layer is worth splitting, are split
   * over the pool as a network's layer is (the input's rows, the blocked layer's row bands or chunks, the
   * output's channel blocks), so a caller asks for all of them at once ({@code SimdConvEngine#channelBlock}).
   * The first call asks for this layer's own tiles (until they are compiled it runs on the shared one-block
   * tiles, as a network's first forward does).
   */
  @Override
  public void forward(Parameter weight, Parameter bias, float[] x, int xOff, float[] y, int yOff, int ocStart,
      int ocEnd) {
    Scratch s = scratch.get();
    boolean split = ocStart == 0 && ocEnd == outChannels && Parallel.threads() > 1 && conv.splits(1);
    s.io.set(x, xOff, y, yOff, ocStart, ocEnd);
    s.weight = weight;
    s.bias = bias;
    s.xin = readsInPlace ? x : s.io.xb;
    s.xinOff = readsInPlace ? xOff : FIRST;
    try {
      if (!readsInPlace) {
        SampleConversions.run(split, in.height, s.io.input);
      }
      if (split) {
        s.ranges = Parallel.threads();
        s.bands = conv.bands(s.ranges, 1);
        Parallel.forChunks(s.ranges, s.compute);
      } else {
        conv.run(weight, bias, s.xin, s.xinOff, s.io.yb, FIRST, 1, 1, conv.firstItem(ocStart),
            conv.endItem(ocEnd));
      }
      SampleConversions.run(split, out.blocks, s.io.output);
    } finally {
      s.io.clear();
      s.xin = null;
      s.weight = null;
      s.bias = null;
    }
    if (!fasterTilesRequested) {
      fasterTilesRequested = true;
      conv.requestFasterTiles();
      LoneForward.requestAfterFirstCall(in, out);
    }
  }

  /** One thread's buffers and a call's three parts, reused from call to call (no allocation). */
  private final class Scratch {
    /** The padded input planes (where the layer does not read in place), the blocked output, their conversions. */
    final SampleConversions io = new SampleConversions(in, out, readsInPlace);
    Parameter weight;
    Parameter bias;
    /** The input the tiles read: the padded planes, or the caller's sample where the layer reads in place. */
    float[] xin;
    int xinOff;
    int ranges;
    int bands;
    /** Range {@code chunk} of the layer's work items. */
    final Parallel.ChunkBody compute = (chunk, start, end) -> conv.run(weight, bias, xin, xinOff, io.yb, FIRST, 1,
        bands, conv.rangeStart(start, ranges, bands, 1), conv.rangeStart(end, ranges, bands, 1));
  }
}
