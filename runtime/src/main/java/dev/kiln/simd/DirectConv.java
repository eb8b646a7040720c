package dev.kiln.simd;

import static dev.kiln.simd.VectorShape.SPECIES;
import static dev.kiln.simd.VectorShape.LANES;

import dev.kiln.nn.ConvGeometry;
import dev.kiln.runtime.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Direct convolution of one sample over a {@link PaddedLayout}: a register-blocked kernel computes
 * {@link #OB} output channels times 1-3 vectors of virtual output positions (24 accumulators), broadcasting
 * weights that were packed as {@code [group][channel block][in channel][tap][OB]}, loading each input
 * vector once per tap and reusing it across the channel block. The reduction over (input channel, tap) is
 * one flat loop that steps one index through the packed weights and a table of input offsets laid out
 * alongside them ({@link #plan}). Depthwise-like layers (fewer than {@code OB} output channels per
 * group) use single-channel kernels over 4 vectors.
 *
 * <p>Where results go, by geometry:
 * <ul>
 *   <li>scratch: into a per-thread plane per channel (virtual rows of width {@code Wq}), then copied row
 *       by row into the compact output (most layers with many multiply-adds per output);
 *   <li>direct: rows padded to whole vectors and stored straight into the output, a row's junk lanes
 *       spilling onto the next row that is stored later (few multiply-adds per output, where copying
 *       would cost a large share);
 *   <li>contiguous: no junk columns at all (1x1 without padding), stored straight into the output,
 *       position blocks outermost so that the input block stays in L1 across channel blocks;
 *   <li>wrapped: no junk columns either, on a {@link WrappedLayout} (stride 1 or 2 with padding
 *       along the rows, where that saves at least 3% of the lanes), stored straight into the output, each
 *       channel block over all positions (its weights, 3x3 over many channels, stay in L1).
 * </ul>
 * Layers with at least {@link ChannelConv#CB} output channels per group, small planes and long reductions
 * go to {@link ChannelConv} instead (vectors over output channels) when that wastes fewer lanes. The system
 * properties {@code kiln.simd.direct}, {@code kiln.simd.wrap} and {@code kiln.simd.channels} ({@code auto},
 * {@code on}, {@code off}) override the choices, for tests.
 *
 * <p>Kernels are straight-line code in one flat loop each, carry no vector across nested loops or
 * branches (the JIT of JDK 17 then boxes them), and ReLU is {@code max(a, floor)} with floor 0 or -inf.
 */
final class DirectConv {
  /** Output channels per block of the wide kernels. */
  static final int OB = 8;

  /**
   * Vectors of positions per call of the {@link #split} kernels ({@link #kernelSplit}): 6 where C2 loads the input
   * vectors of a step one at a time between the multiply-adds (JDK 17), 5 where it loads them ahead
   * ({@link TileBudget#BROADCASTS_FIRST}: Temurin 25 kept two of the 6-vector kernel's accumulators on the stack).
   */
  static final int SPLIT_VECTORS = TileBudget.BROADCASTS_FIRST ? 5 : 6;

  /** {@code j * LANES} for {@code j < 6}: the output offsets of a run of whole vectors ({@link #kernelSplit}). */
  private static final int[] RUN = {0, LANES, 2 * LANES, 3 * LANES, 4 * LANES, 5 * LANES};

  /** Vectors of positions in a 1x1 layer's panel ({@link #computePanels}). */
  static final int PANEL_VECTORS = 5;

  /** Floats per input channel in a 1x1 layer's panel. */
  static final int PANEL = PANEL_VECTORS * LANES;

  private final ConvGeometry geometry;
  private final boolean relu;
  /**
   * Whether the wide kernels run split into narrower passes for 16 vector registers
   * ({@link TileBudget#SPLIT_DIRECT_KERNELS}): runs of {@link #SPLIT_VECTORS} vectors as four passes of 2 channels
   * ({@link #kernelSplit}), the remaining 8 x 3 as two halves of 4 x 3, 8 x 2 as two of 4 x 2; 1x1 layers through
   * panels ({@link #panels}). The same multiply-adds in the same order either way.
   */
  private final boolean split;
  /** Whether 1x1 layers with contiguous outputs copy their inputs into panels first ({@link #computePanels}). */
  final boolean panels;
  final SampleLayout layout;
  /**
   * The input padded with no row rounding (stride phases split): {@link #layout} where neither whole-vector nor
   * wrapped rows are chosen; also what the input gradient reads (the padding's rows and columns).
   */
  final PaddedLayout natural;
  /** Whether {@link #layout} is a {@link WrappedLayout} (contiguous outputs, channel blocks outermost). */
  final boolean wrapped;
  private final int inGroupChannels;
  private final int outGroupChannels;
  private final int taps;
  /** The kernels vectorized over output channels, when they fit this layer better (else null). */
  private final ChannelConv channels;
  /** Whether virtual rows are whole vectors, so that full channel blocks are stored straight into the output. */
  final boolean direct;
  /** Whether the input needs no padding and is read in place (no padding, stride 1, no row rounding). */
  private final boolean unpadded;
  /** Whether virtual rows have no junk columns and the wide kernels apply, so outputs are contiguous. */
  final boolean contiguous;
  /** Whether the depthwise 3x3 stencil kernel applies (direct mode, one input channel, stride 1, dilation 1). */
  private final boolean stencil3x3;
  /** Offset in a compact output plane of each vector of the whole-vector virtual rows (direct mode). */
  private final int[] directOffset;
  /** Vectors per virtual row (in direct mode). */
  private final int rowVectors;
  /** Output channels per block: {@link #OB} or 1. */
  private final int outBlock;
  private final int blocksPerGroup;
  /** Offset of (input channel of the group, tap) from the group's first padded channel. */
  private final int[] offs;
  /**
   * The input offset of each reduction step in the packed weights' index space: {@code plan[q] = offs[i]}
   * at {@code q = block * k * outBlock + i * outBlock}, the index of the step's first weight. The kernels step
   * one index {@code q} through both arrays: with a separate step counter and weight offset, JDK 17's C2 ran
   * out of general registers in the loop (after strip mining it for safepoints) and kept the input array's
   * address in a vector register, moving it back on every step (C64_64_56 about 15% slower).
   */
  private final int[] plan;
  /** Virtual output positions rounded up to whole vectors: one scratch plane. */
  private final int planeV;
  private final int vectors;
  private final int outPlane;
  private final int xpLength;
  private final ThreadLocal<Scratch> scratch;

  /** A thread's buffers: the padded input and the output planes of one channel block. */
  private static final class Scratch {
    final float[] paddedX;
    final float[] ys;
    /** The inputs of one block of positions of a 1x1 layer ({@link #computePanels}), or null. */
    final float[] panel;
    /** A call's panels split over the pool, this thread calling ({@link PanelSplit}), or null. */
    PanelSplit panelSplit;

    Scratch(int xpLength, int ysLength, int panelLength) {
      paddedX = new float[xpLength];
      ys = new float[ysLength];
      panel = panelLength == 0 ? null : new float[panelLength];
    }
  }

  /** Weights (and bias) packed for this layer's kernels. */
  static final class Packed {
    final float[] wp;
    final float[] bp;

    Packed(float[] wp, float[] bp) {
      this.wp = wp;
      this.bp = bp;
    }
  }

  DirectConv(ConvGeometry geometry, boolean relu) {
    this(geometry, relu, TileBudget.SPLIT_DIRECT_KERNELS);
  }

  /** With the wide kernels split into narrower passes or not (the same bits either way; tests take both). */
  DirectConv(ConvGeometry geometry, boolean relu, boolean split) {
    this.geometry = geometry;
    this.relu = relu;
    this.split = split;
    this.inGroupChannels = geometry.inChannelsPerGroup();
    this.outGroupChannels = geometry.outChannelsPerGroup();
    this.taps = geometry.kernelH() * geometry.kernelW();
    PaddedLayout natural = PaddedLayout.of(geometry, 1);
    this.natural = natural;
    int rowPitch = natural.rowPitch;
    int wqDirect = (rowPitch + LANES - 1) / LANES * LANES;
    // Whole-vector rows cost lanes (up to 1/8 more, 1/7 for the fewest multiply-adds) but let kernels
    // store straight into the output; that pays when copying the output is a large share of the work.
    String mode = System.getProperty("kiln.simd.direct", "auto");
    boolean directRows = geometry.outHeight() > 1 && wqDirect - geometry.outWidth() <= geometry.outWidth() && !mode.equals("off")
        && (mode.equals("on") || inGroupChannels * taps <= 200 && wqDirect * 8 <= rowPitch * 9
            || inGroupChannels * taps <= 36 && wqDirect * 7 <= rowPitch * 8);
    // Vectors over output channels where they waste fewer lanes than vectors over positions.
    int outPlane = geometry.outHeight() * geometry.outWidth();
    int naturalVectors = ((geometry.outHeight() - 1) * rowPitch + geometry.outWidth() + LANES - 1) / LANES;
    double positionUse = (double) outPlane / ((directRows ? geometry.outHeight() * (wqDirect / LANES) : naturalVectors) * LANES);
    // Rows as long as the output's with a copy of the input per kernel column (WrappedLayout): no
    // junk columns, outputs stored straight into place; for the wide kernels (a copy of the input is shared
    // by at least OB output channels), where it saves at least 3% of the lanes: the copies cost time too,
    // and planes wide enough to waste less spill the copies out of L2 (56x56 planes: 1.6-3% slower).
    String wrapMode = System.getProperty("kiln.simd.wrap", "auto");
    double wrapUse = (double) outPlane / ((outPlane + LANES - 1) / LANES * LANES);
    boolean wrap = outGroupChannels >= OB && WrappedLayout.canWrap(geometry) && !wrapMode.equals("off")
        && (wrapMode.equals("on") || wrapUse >= positionUse + 0.03);
    String channelMode = System.getProperty("kiln.simd.channels", "auto");
    // Its outputs leave through a scalar transposition: only worth it with many multiply-adds per output.
    // Weighed against the padded rows' lanes, not the wrapped rows': 192->192 14x14 took 1,157 us in it against
    // 1,260 on wrapped rows (which use 196 of 208 lanes to its 196 of 209).
    this.channels = outGroupChannels >= ChannelConv.CB && !channelMode.equals("off") && (channelMode.equals("on")
        || inGroupChannels * taps >= ChannelConv.MIN_REDUCTION && ChannelConv.utilization(geometry, natural) > positionUse + 0.02)
        ? new ChannelConv(geometry, relu, natural) : null;
    this.wrapped = wrap && channels == null;
    this.direct = directRows && channels == null && !wrapped;
    this.layout = wrapped ? new WrappedLayout(geometry) : direct ? PaddedLayout.of(geometry, LANES) : natural;
    this.rowVectors = layout.rowPitch() / LANES;
    this.stencil3x3 = direct && outGroupChannels < OB && inGroupChannels == 1 && geometry.kernelH() == 3 && geometry.kernelW() == 3
        && geometry.strideH() == 1 && geometry.strideW() == 1 && geometry.dilationH() == 1 && geometry.dilationW() == 1;
    this.directOffset = new int[direct ? geometry.outHeight() * rowVectors : 0];
    for (int v = 0; v < directOffset.length; v++) {
      directOffset[v] = v / rowVectors * geometry.outWidth() + v % rowVectors * LANES;
    }
    this.unpadded = layout.isInputItself();
    this.outBlock = outGroupChannels >= OB ? OB : 1;
    this.blocksPerGroup = (outGroupChannels + outBlock - 1) / outBlock;
    this.contiguous = layout.rowPitch() == geometry.outWidth() && outBlock == OB && !mode.equals("off");
    this.offs = layout.tapOffsets(geometry);
    this.plan = channels != null ? null : plan(offs, geometry.groups() * blocksPerGroup, outBlock);
    int positions = (geometry.outHeight() - 1) * layout.rowPitch() + geometry.outWidth();
    this.vectors = (positions + LANES - 1) / LANES;
    // Direct mode computes whole rows, up to outH * rowVectors vectors.
    this.planeV = Math.max(vectors, direct ? geometry.outHeight() * rowVectors : 0) * LANES;
    this.outPlane = geometry.outHeight() * geometry.outWidth();
    // The last channel's farthest tap, plus what the kernels read past it.
    this.xpLength = java.util.Arrays.stream(offs).max().orElse(0) + layout.channelStride()
        + Math.max(planeV + LANES, channels == null ? 0 : ChannelConv.reach(geometry, natural));
    int ysLength = outBlock * planeV + LANES;
    this.panels = split && contiguous && !wrapped && channels == null && taps == 1 && outPlane >= PANEL;
    int panelLength = panels ? Math.multiplyExact(inGroupChannels, PANEL) : 0;
    this.scratch = ThreadLocal.withInitial(() -> {
      Scratch s = new Scratch(xpLength, ysLength, panelLength);
      s.panelSplit = panels ? new PanelSplit() : null;
      return s;
    });
  }

  /**
   * {@link #plan}: {@code offs} at every step's first weight, for {@code blocks} blocks of {@code outBlock}
   * channels (the other entries are never read).
   */
  private static int[] plan(int[] offs, int blocks, int outBlock) {
    int k = offs.length;
    int[] plan = new int[Math.multiplyExact(Math.multiplyExact(blocks, k), outBlock)];
    for (int b = 0; b < blocks; b++) {
      for (int i = 0; i < k; i++) {
        plan[(b * k + i) * outBlock] = offs[i];
      }
    }
    return plan;
  }

  /**
   * The fewest output positions of a 1x1 layer for which its panels ({@link #computePanels}) beat the blocked
   * tiles with their conversions ({@code LoneBlockedConv}). One layer alone, 1 thread, the ways interleaved in one
   * JVM ({@code LoneLayerTimes}; AMD EPYC Zen 3, JDK 17): direct over blocked 256->256 28x28 1,700 against 2,284 us,
   * 128->256 28x28 763 against 982, 512->512 14x14 1,850-1,894 against 1,855-1,904, 1024->1024 7x7 2,863 against
   * 2,534 (a plane of 49 positions: one panel, the rest in narrower kernels).
   */
  static final int MIN_PANEL_POSITIONS = 512;

  /**
   * Whether this layer, used alone, runs faster here than on the blocked tiles with their conversions: through
   * panels, one group, at least {@link #MIN_PANEL_POSITIONS} outputs.
   */
  boolean prefersPanels() {
    return panels && geometry.groups() == 1 && outPlane >= MIN_PANEL_POSITIONS;
  }

  /** Output channels per block. */
  int channelBlock() {
    return channels != null ? ChannelConv.CB : outBlock;
  }

  /** Packs {@code w [out, in/groups, kH, kW]} and {@code b} (or null). */
  Packed pack(float[] w, float[] b) {
    if (channels != null) {
      return channels.pack(w, b);
    }
    int groups = geometry.groups();
    int k = inGroupChannels * taps;
    float[] wp = new float[groups * blocksPerGroup * k * outBlock];
    float[] bp = new float[groups * blocksPerGroup * outBlock];
    for (int grp = 0; grp < groups; grp++) {
      for (int blk = 0; blk < blocksPerGroup; blk++) {
        int block = grp * blocksPerGroup + blk;
        for (int j = 0; j < outBlock; j++) {
          int oc = blk * outBlock + j;
          if (oc >= outGroupChannels) {
            continue;
          }
          oc += grp * outGroupChannels;
          if (b != null) {
            bp[block * outBlock + j] = b[oc];
          }
          int src = oc * k;
          int dst = block * k * outBlock + j;
          for (int i = 0; i < k; i++) {
            wp[dst + i * outBlock] = w[src + i];
          }
        }
      }
    }
    return new Packed(wp, bp);
  }

  /** Writes output channels {@code [ocStart, ocEnd)} of one sample. */
  void forward(Packed pw, float[] x, int xOff, float[] y, int yOff, int ocStart, int ocEnd) {
    if (ocStart >= ocEnd) {
      return;
    }
    Scratch s = scratch.get();
    float[] ys = s.ys;
    int g0 = ocStart / outGroupChannels;
    int g1 = (ocEnd - 1) / outGroupChannels;
    int k = inGroupChannels * taps;
    for (int grp = g0; grp <= g1; grp++) {
      int first = grp * outGroupChannels;
      int lo = Math.max(ocStart, first);
      int hi = Math.min(ocEnd, first + outGroupChannels);
      float[] paddedX;
      int xBase;
      int groupInput = xOff + grp * inGroupChannels * layout.channelStride();
      if (unpadded && groupInput + xpLength <= x.length) {
        // The input is its own padded layout: read it in place (junk lanes read past it).
        paddedX = x;
        xBase = groupInput;
      } else {
        paddedX = s.paddedX;
        xBase = 0;
        layout.pad(x, xOff, grp * inGroupChannels, (grp + 1) * inGroupChannels, paddedX);
      }
      if (channels != null) {
        channels.compute(pw, paddedX, xBase, grp, lo, hi, y, yOff);
        continue;
      }
      if (contiguous && (lo - first) % OB == 0 && (hi - first) % OB == 0) {
        computeContiguous(paddedX, xBase, k, pw, grp * blocksPerGroup + (lo - first) / OB, (hi - lo) / OB, s, y,
            yOff + lo * outPlane);
        continue;
      }
      for (int blk = (lo - first) / outBlock; blk * outBlock < hi - first; blk++) {
        int block = grp * blocksPerGroup + blk;
        int blockStart = first + blk * outBlock;
        boolean full = blockStart >= lo && blockStart + outBlock <= hi;
        if (full && direct) {
          computeDirect(paddedX, xBase, k, pw.wp, block * k * outBlock, pw.bp, block * outBlock, ys, y,
              yOff + blockStart * outPlane);
          continue;
        }
        computeBlock(paddedX, xBase, k, pw.wp, block * k * outBlock, pw.bp, block * outBlock, ys);
        int from = Math.max(lo, blockStart);
        int to = Math.min(hi, blockStart + outBlock);
        for (int oc = from; oc < to; oc++) {
          compact(ys, (oc - blockStart) * planeV, y, yOff + oc * outPlane);
        }
      }
    }
  }

  /**
   * Copies one channel's virtual rows (width {@code Wq}) into its compact output plane. Rows are copied a
   * vector at a time, in order, so a row's overshoot is overwritten by the next row; rows whose overshoot
   * would leave the plane are copied exactly.
   */
  private void compact(float[] ys, int src, float[] y, int dst) {
    int rowPitch = layout.rowPitch();
    int outW = geometry.outWidth();
    if (rowPitch == outW) {
      System.arraycopy(ys, src, y, dst, outPlane);
      return;
    }
    int span = (outW + LANES - 1) / LANES * LANES;
    int r = 0;
    for (; r * outW + span <= outPlane; r++) {
      int s = src + r * rowPitch;
      int d = dst + r * outW;
      for (int v = 0; v < span; v += LANES) {
        FloatVector.fromArray(SPECIES, ys, s + v).intoArray(y, d + v);
      }
    }
    for (; r < geometry.outHeight(); r++) {
      System.arraycopy(ys, src + r * rowPitch, y, dst + r * outW, outW);
    }
  }

  /**
   * Output rows without junk columns ({@code Wq == outW}): 1x1 without padding for each block of three vectors of
   * positions all {@code blocks} channel blocks from {@code block0} in turn, so that the input block stays in L1
   * while the (small) weights pass over it; a {@link WrappedLayout} each channel block over all positions. Full
   * vectors are stored straight into the output planes at {@code y[yBase..]}, the last partial vector goes
   * through {@code ys}.
   */
  private void computeContiguous(float[] paddedX, int xBase, int k, Packed pw, int block0, int blocks, Scratch s,
      float[] y, int yBase) {
    float[] ys = s.ys;
    float floor = relu ? 0f : Float.NEGATIVE_INFINITY;
    float[] wp = pw.wp;
    float[] bp = pw.bp;
    int full = outPlane / LANES;
    int stride = OB * outPlane;
    if (wrapped) {
      // 3x3-like layers: each block's weights (k * OB floats) stay in L1 while its positions pass.
      for (int b = 0; b < blocks; b++) {
        wholeVectors(paddedX, xBase, k, wp, bp, block0 + b, y, yBase + b * stride, 0, full, floor);
      }
    } else {
      int v = 0;
      if (panels) {
        int count = full / PANEL_VECTORS;
        long macs = (long) k * blocks * OB * outPlane;
        if (count > 1 && Parallel.worthSplitting(macs, Parallel.MIN_MACS)) {
          s.panelSplit.run(paddedX, xBase, k, wp, bp, block0, blocks, y, yBase, floor, count);
        } else {
          computePanels(paddedX, xBase, k, wp, bp, block0, blocks, s.panel, y, yBase, floor, 0, count);
        }
        v = count * PANEL_VECTORS;
      }
      int step = split ? SPLIT_VECTORS : 3;
      for (; v + step <= full; v += step) {
        for (int b = 0; b < blocks; b++) {
          wholeVectors(paddedX, xBase, k, wp, bp, block0 + b, y, yBase + b * stride, v, v + step, floor);
        }
      }
      for (int b = 0; b < blocks; b++) {
        wholeVectors(paddedX, xBase, k, wp, bp, block0 + b, y, yBase + b * stride, v, full, floor);
      }
    }
    int rest = outPlane - full * LANES;
    if (rest > 0) {
      for (int b = 0; b < blocks; b++) {
        int block = block0 + b;
        kernel8x1(paddedX, xBase + full * LANES, plan, k, wp, block * k * OB, bp, block * OB, ys, 0, planeV, floor);
        for (int j = 0; j < OB; j++) {
          System.arraycopy(ys, j * planeV, y, yBase + b * stride + j * outPlane + full * LANES, rest);
        }
      }
    }
  }

  /**
   * Panels {@code [from, to)} of a 1x1 layer's positions ({@link #PANEL_VECTORS} vectors each), each panel's inputs
   * first copied into {@code panel} ({@link #PANEL} floats per input channel, one after another) and then read from
   * there by all {@code blocks} channel blocks from {@code block0} ({@link #panel2x5}, outputs stored at
   * {@code y[yBase..]}): the kernels then read one short stretch of memory instead of one {@code PANEL}-float run in
   * each input channel's plane, every run a page or more from the last. On the Zen 3 (AVX2), 64->64 56x56 took
   * 350-360 us this way against 400-435 reading the planes in place (processes alternating; the layer's input and
   * output do not fit its level-2 cache).
   */
  private void computePanels(float[] paddedX, int xBase, int k, float[] wp, float[] bp, int block0, int blocks,
      float[] panel, float[] y, int yBase, float floor, int from, int to) {
    for (int v = from * PANEL_VECTORS, end = to * PANEL_VECTORS; v < end; v += PANEL_VECTORS) {
      for (int i = 0, dst = 0; i < k; i++, dst += PANEL) {
        int src = xBase + offs[i] + v * LANES;
        for (int j = 0; j < PANEL; j += LANES) {
          FloatVector.fromArray(SPECIES, paddedX, src + j).intoArray(panel, dst + j);
        }
      }
      for (int b = 0; b < blocks; b++) {
        int block = block0 + b;
        int yo = yBase + b * OB * outPlane + v * LANES;
        for (int h = 0; h < OB; h += 2) {
          panel2x5(panel, k, wp, block * k * OB, h, bp, block * OB, y, yo, outPlane, floor);
        }
      }
    }
  }

  /**
   * One call's panels split over the pool ({@link Parallel#forRange}), each thread copying its own panels into its
   * own buffer and computing all the call's channel blocks for them: a 1x1 layer takes all its channels in one call
   * ({@code SimdConvEngine#channelBlock}) and splits its positions here, so no input is copied twice. The calling
   * thread's instance holds the call's arguments while the pool runs.
   */
  private final class PanelSplit implements Parallel.RangeBody {
    private float[] paddedX;
    private int xBase;
    private int k;
    private float[] wp;
    private float[] bp;
    private int block0;
    private int blocks;
    private float[] y;
    private int yBase;
    private float floor;

    void run(float[] paddedX, int xBase, int k, float[] wp, float[] bp, int block0, int blocks, float[] y, int yBase,
        float floor, int count) {
      this.paddedX = paddedX;
      this.xBase = xBase;
      this.k = k;
      this.wp = wp;
      this.bp = bp;
      this.block0 = block0;
      this.blocks = blocks;
      this.y = y;
      this.yBase = yBase;
      this.floor = floor;
      try {
        Parallel.forRange(count, this);
      } finally {
        this.paddedX = null;
        this.wp = null;
        this.bp = null;
        this.y = null;
      }
    }

    @Override
    public void run(int start, int end) {
      computePanels(paddedX, xBase, k, wp, bp, block0, blocks, scratch.get().panel, y, yBase, floor, start, end);
    }
  }

  /**
   * Vectors {@code [from, to)} of positions of channel block {@code block}, stored straight into its planes at
   * {@code y[yb..]}: six at a time where the kernels are {@link #split}, then three, two, one.
   */
  private void wholeVectors(float[] paddedX, int xBase, int k, float[] wp, float[] bp, int block, float[] y, int yb,
      int from, int to, float floor) {
    int wo = block * k * OB;
    int bo = block * OB;
    int v = from;
    for (; split && v + SPLIT_VECTORS <= to; v += SPLIT_VECTORS) {
      kernelSplit(paddedX, xBase + v * LANES, plan, k, wp, wo, bp, bo, y, RUN, 0, yb + v * LANES, outPlane, floor);
    }
    for (; v + 3 <= to; v += 3) {
      int yo = yb + v * LANES;
      kernel8x3(split, paddedX, xBase + v * LANES, plan, k, wp, wo, bp, bo,
          y, yo, yo + LANES, yo + 2 * LANES, outPlane, floor);
    }
    if (v + 2 <= to) {
      int yo = yb + v * LANES;
      kernel8x2(split, paddedX, xBase + v * LANES, plan, k, wp, wo, bp, bo, y, yo, yo + LANES, outPlane, floor);
      v += 2;
    }
    if (v < to) {
      kernel8x1(paddedX, xBase + v * LANES, plan, k, wp, wo, bp, bo, y, yb + v * LANES, outPlane, floor);
    }
  }

  /**
   * One full channel block in direct mode: every row but the last is stored straight into the output
   * planes at {@code y[yBase..]} (a row's junk lanes spill onto the next row, which is stored later); the
   * last row, whose spill would leave the plane, goes through {@code ys}.
   */
  private void computeDirect(float[] paddedX, int xBase, int k, float[] wp, int wo, float[] bp, int bo, float[] ys,
      float[] y, int yBase) {
    float floor = relu ? 0f : Float.NEGATIVE_INFINITY;
    int step = outBlock == OB ? (split ? SPLIT_VECTORS : 3) : 4;
    // Vectors [0, head) go straight to the output; the rest (the last row and the remainder of a whole
    // kernel call) go through ys.
    int head = (geometry.outHeight() - 1) * rowVectors / step * step;
    int total = geometry.outHeight() * rowVectors;
    int v = 0;
    if (outBlock == OB) {
      for (; split && v < head; v += SPLIT_VECTORS) {
        kernelSplit(paddedX, xBase + v * LANES, plan, k, wp, wo, bp, bo, y, directOffset, v, yBase, outPlane, floor);
      }
      for (; split && v + SPLIT_VECTORS <= total; v += SPLIT_VECTORS) {
        kernelSplit(paddedX, xBase + v * LANES, plan, k, wp, wo, bp, bo, ys, RUN, 0, (v - head) * LANES, planeV, floor);
      }
      for (; v < head; v += 3) {
        kernel8x3(split, paddedX, xBase + v * LANES, plan, k, wp, wo, bp, bo, y, yBase + directOffset[v],
            yBase + directOffset[v + 1], yBase + directOffset[v + 2], outPlane, floor);
      }
      for (; v + 3 <= total; v += 3) {
        int o = (v - head) * LANES;
        kernel8x3(split, paddedX, xBase + v * LANES, plan, k, wp, wo, bp, bo,
            ys, o, o + LANES, o + 2 * LANES, planeV, floor);
      }
      if (v + 2 <= total) {
        int o = (v - head) * LANES;
        kernel8x2(split, paddedX, xBase + v * LANES, plan, k, wp, wo, bp, bo, ys, o, o + LANES, planeV, floor);
        v += 2;
      }
      for (; v < total; v++) {
        kernel8x1(paddedX, xBase + v * LANES, plan, k, wp, wo, bp, bo, ys, (v - head) * LANES, planeV, floor);
      }
    } else {
      if (stencil3x3) {
        int rows = (geometry.outHeight() - 1) / 4 * 4;
        kernelDepthwise3x3(paddedX, xBase, layout.rowPitch(), rows / 4 * rowVectors, rowVectors, wp, wo, bp[bo], y, yBase,
            geometry.outWidth(), floor);
        v = rows * rowVectors;
      }
      for (; v + 4 <= head; v += 4) {
        kernel1x4(paddedX, xBase + v * LANES, plan, k, wp, wo, bp[bo], y, yBase + directOffset[v], yBase + directOffset[v + 1],
            yBase + directOffset[v + 2], yBase + directOffset[v + 3], floor);
      }
      for (; v < head; v++) {
        kernel1x1(paddedX, xBase + v * LANES, plan, k, wp, wo, bp[bo], y, yBase + directOffset[v], floor);
      }
      for (; v + 4 <= total; v += 4) {
        int o = (v - head) * LANES;
        kernel1x4(paddedX, xBase + v * LANES, plan, k, wp, wo, bp[bo], ys, o, o + LANES, o + 2 * LANES, o + 3 * LANES, floor);
      }
      for (; v < total; v++) {
        kernel1x1(paddedX, xBase + v * LANES, plan, k, wp, wo, bp[bo], ys, (v - head) * LANES, floor);
      }
    }
    int outW = geometry.outWidth();
    for (v = head; v < total; v++) {
      int count = Math.min(LANES, outW - v % rowVectors * LANES);
      if (count <= 0) {
        continue;
      }
      for (int j = 0; j < outBlock; j++) {
        System.arraycopy(ys, j * planeV + (v - head) * LANES, y, yBase + j * outPlane + directOffset[v], count);
      }
    }
  }


  private void computeBlock(float[] paddedX, int xBase, int k, float[] wp, int wo, float[] bp, int bo,
      float[] ys) {
    // ReLU as max(a, 0), identity as max(a, -inf): one code path, so the JIT never merges vectors.
    float floor = relu ? 0f : Float.NEGATIVE_INFINITY;
    int v = 0;
    if (outBlock == OB) {
      for (; split && v + SPLIT_VECTORS <= vectors; v += SPLIT_VECTORS) {
        kernelSplit(paddedX, xBase + v * LANES, plan, k, wp, wo, bp, bo, ys, RUN, 0, v * LANES, planeV, floor);
      }
      for (; v + 3 <= vectors; v += 3) {
        kernel8x3(split, paddedX, xBase + v * LANES, plan, k, wp, wo, bp, bo,
            ys, v * LANES, v * LANES + LANES, v * LANES + 2 * LANES, planeV, floor);
      }
      if (v + 2 <= vectors) {
        kernel8x2(split, paddedX, xBase + v * LANES, plan, k, wp, wo, bp, bo,
            ys, v * LANES, v * LANES + LANES, planeV, floor);
        v += 2;
      }
      for (; v < vectors; v++) {
        kernel8x1(paddedX, xBase + v * LANES, plan, k, wp, wo, bp, bo, ys, v * LANES, planeV, floor);
      }
    } else {
      for (; v + 4 <= vectors; v += 4) {
        kernel1x4(paddedX, xBase + v * LANES, plan, k, wp, wo, bp[bo], ys, v * LANES, v * LANES + LANES, v * LANES + 2 * LANES, v * LANES + 3 * LANES, floor);
      }
      for (; v < vectors; v++) {
        kernel1x1(paddedX, xBase + v * LANES, plan, k, wp, wo, bp[bo], ys, v * LANES, floor);
      }
    }
  }

  /**
   * 8 channels x {@link #SPLIT_VECTORS} vectors of positions starting at virtual position {@code p}, for
   * {@link #split} kernels: four passes of two channels ({@link #kernel2x6} or {@link #kernel2x5}), vector {@code j}
   * stored at {@code ys[yBase + yOffsets[yi + j]..]} (of channel 0; each next channel {@code ps} further).
   */
  private static void kernelSplit(float[] paddedX, int p, int[] plan, int n, float[] wp, int wo, float[] bp, int bo,
      float[] ys, int[] yOffsets, int yi, int yBase, int ps, float floor) {
    for (int h = 0; h < OB; h += 2) {
      if (SPLIT_VECTORS == 6) {
        kernel2x6(paddedX, p, plan, n, wp, wo, h, bp, bo, ys, yOffsets, yi, yBase, ps, floor);
      } else {
        kernel2x5(paddedX, p, plan, n, wp, wo, h, bp, bo, ys, yOffsets, yi, yBase, ps, floor);
      }
    }
  }

  /**
   * Channels {@code h} and {@code h + 1} of an {@link #OB}-channel block x 6 vectors of positions
   * ({@link #kernelSplit}): 12 accumulators, the step's two weights broadcast and each input vector loaded once for
   * both, 15 of AVX2's 16 registers where C2 loads one input vector at a time (JDK 17). The halves of
   * {@link #kernel8x3} (12 accumulators, 3 input vectors and a weight) take all 16, and C2 keeps two accumulators
   * on the stack, a store and a load in their chains on every step.
   */
  private static void kernel2x6(float[] paddedX, int p, int[] plan, int n, float[] wp, int wo, int h, float[] bp,
      int bo, float[] ys, int[] yOffsets, int yi, int yBase, int ps, float floor) {
    FloatVector a00 = FloatVector.broadcast(SPECIES, bp[bo + h]);
    FloatVector a10 = FloatVector.broadcast(SPECIES, bp[bo + h + 1]);
    FloatVector a01 = a00;
    FloatVector a02 = a00;
    FloatVector a03 = a00;
    FloatVector a04 = a00;
    FloatVector a05 = a00;
    FloatVector a11 = a10;
    FloatVector a12 = a10;
    FloatVector a13 = a10;
    FloatVector a14 = a10;
    FloatVector a15 = a10;
    for (int q = wo, end = wo + n * OB; q < end; q += OB) {
      int o = p + plan[q];
      int r = q + h;
      FloatVector w0 = FloatVector.broadcast(SPECIES, wp[r]);
      FloatVector w1 = FloatVector.broadcast(SPECIES, wp[r + 1]);
      FloatVector x0 = FloatVector.fromArray(SPECIES, paddedX, o);
      a00 = x0.fma(w0, a00);
      a10 = x0.fma(w1, a10);
      FloatVector x1 = FloatVector.fromArray(SPECIES, paddedX, o + LANES);
      a01 = x1.fma(w0, a01);
      a11 = x1.fma(w1, a11);
      FloatVector x2 = FloatVector.fromArray(SPECIES, paddedX, o + 2 * LANES);
      a02 = x2.fma(w0, a02);
      a12 = x2.fma(w1, a12);
      FloatVector x3 = FloatVector.fromArray(SPECIES, paddedX, o + 3 * LANES);
      a03 = x3.fma(w0, a03);
      a13 = x3.fma(w1, a13);
      FloatVector x4 = FloatVector.fromArray(SPECIES, paddedX, o + 4 * LANES);
      a04 = x4.fma(w0, a04);
      a14 = x4.fma(w1, a14);
      FloatVector x5 = FloatVector.fromArray(SPECIES, paddedX, o + 5 * LANES);
      a05 = x5.fma(w0, a05);
      a15 = x5.fma(w1, a15);
    }
    int row = yBase + h * ps;
    int y0 = row + yOffsets[yi];
    int y1 = row + yOffsets[yi + 1];
    int y2 = row + yOffsets[yi + 2];
    int y3 = row + yOffsets[yi + 3];
    int y4 = row + yOffsets[yi + 4];
    int y5 = row + yOffsets[yi + 5];
    a00.max(floor).intoArray(ys, y0);
    a01.max(floor).intoArray(ys, y1);
    a02.max(floor).intoArray(ys, y2);
    a03.max(floor).intoArray(ys, y3);
    a04.max(floor).intoArray(ys, y4);
    a05.max(floor).intoArray(ys, y5);
    a10.max(floor).intoArray(ys, y0 + ps);
    a11.max(floor).intoArray(ys, y1 + ps);
    a12.max(floor).intoArray(ys, y2 + ps);
    a13.max(floor).intoArray(ys, y3 + ps);
    a14.max(floor).intoArray(ys, y4 + ps);
    a15.max(floor).intoArray(ys, y5 + ps);
  }

  /** {@link #kernel2x6} for 5 vectors: 10 accumulators, for compilers that load more input vectors ahead. */
  private static void kernel2x5(float[] paddedX, int p, int[] plan, int n, float[] wp, int wo, int h, float[] bp,
      int bo, float[] ys, int[] yOffsets, int yi, int yBase, int ps, float floor) {
    FloatVector a00 = FloatVector.broadcast(SPECIES, bp[bo + h]);
    FloatVector a10 = FloatVector.broadcast(SPECIES, bp[bo + h + 1]);
    FloatVector a01 = a00;
    FloatVector a02 = a00;
    FloatVector a03 = a00;
    FloatVector a04 = a00;
    FloatVector a11 = a10;
    FloatVector a12 = a10;
    FloatVector a13 = a10;
    FloatVector a14 = a10;
    for (int q = wo, end = wo + n * OB; q < end; q += OB) {
      int o = p + plan[q];
      int r = q + h;
      FloatVector w0 = FloatVector.broadcast(SPECIES, wp[r]);
      FloatVector w1 = FloatVector.broadcast(SPECIES, wp[r + 1]);
      FloatVector x0 = FloatVector.fromArray(SPECIES, paddedX, o);
      a00 = x0.fma(w0, a00);
      a10 = x0.fma(w1, a10);
      FloatVector x1 = FloatVector.fromArray(SPECIES, paddedX, o + LANES);
      a01 = x1.fma(w0, a01);
      a11 = x1.fma(w1, a11);
      FloatVector x2 = FloatVector.fromArray(SPECIES, paddedX, o + 2 * LANES);
      a02 = x2.fma(w0, a02);
      a12 = x2.fma(w1, a12);
      FloatVector x3 = FloatVector.fromArray(SPECIES, paddedX, o + 3 * LANES);
      a03 = x3.fma(w0, a03);
      a13 = x3.fma(w1, a13);
      FloatVector x4 = FloatVector.fromArray(SPECIES, paddedX, o + 4 * LANES);
      a04 = x4.fma(w0, a04);
      a14 = x4.fma(w1, a14);
    }
    int row = yBase + h * ps;
    int y0 = row + yOffsets[yi];
    int y1 = row + yOffsets[yi + 1];
    int y2 = row + yOffsets[yi + 2];
    int y3 = row + yOffsets[yi + 3];
    int y4 = row + yOffsets[yi + 4];
    a00.max(floor).intoArray(ys, y0);
    a01.max(floor).intoArray(ys, y1);
    a02.max(floor).intoArray(ys, y2);
    a03.max(floor).intoArray(ys, y3);
    a04.max(floor).intoArray(ys, y4);
    a10.max(floor).intoArray(ys, y0 + ps);
    a11.max(floor).intoArray(ys, y1 + ps);
    a12.max(floor).intoArray(ys, y2 + ps);
    a13.max(floor).intoArray(ys, y3 + ps);
    a14.max(floor).intoArray(ys, y4 + ps);
  }

  /**
   * Channels {@code h} and {@code h + 1} of an {@link #OB}-channel block x 5 vectors of positions of a 1x1 layer,
   * the inputs from a {@link #PANEL}-float panel per input channel ({@link #computePanels}), stored at
   * {@code ys[yo..]}: {@link #kernel2x5} without the offset table. 5 vectors on every JDK: in 6, JDK 17's C2 loaded
   * two input vectors ahead here and kept an accumulator on the stack (0.51x ONNX Runtime on 64->64 56x56).
   */
  private static void panel2x5(float[] panel, int n, float[] wp, int wo, int h, float[] bp, int bo, float[] ys,
      int yo, int ps, float floor) {
    FloatVector a00 = FloatVector.broadcast(SPECIES, bp[bo + h]);
    FloatVector a10 = FloatVector.broadcast(SPECIES, bp[bo + h + 1]);
    FloatVector a01 = a00;
    FloatVector a02 = a00;
    FloatVector a03 = a00;
    FloatVector a04 = a00;
    FloatVector a11 = a10;
    FloatVector a12 = a10;
    FloatVector a13 = a10;
    FloatVector a14 = a10;
    for (int o = 0, r = wo + h, end = n * PANEL; o < end; o += PANEL, r += OB) {
      FloatVector w0 = FloatVector.broadcast(SPECIES, wp[r]);
      FloatVector w1 = FloatVector.broadcast(SPECIES, wp[r + 1]);
      FloatVector x0 = FloatVector.fromArray(SPECIES, panel, o);
      a00 = x0.fma(w0, a00);
      a10 = x0.fma(w1, a10);
      FloatVector x1 = FloatVector.fromArray(SPECIES, panel, o + 1 * LANES);
      a01 = x1.fma(w0, a01);
      a11 = x1.fma(w1, a11);
      FloatVector x2 = FloatVector.fromArray(SPECIES, panel, o + 2 * LANES);
      a02 = x2.fma(w0, a02);
      a12 = x2.fma(w1, a12);
      FloatVector x3 = FloatVector.fromArray(SPECIES, panel, o + 3 * LANES);
      a03 = x3.fma(w0, a03);
      a13 = x3.fma(w1, a13);
      FloatVector x4 = FloatVector.fromArray(SPECIES, panel, o + 4 * LANES);
      a04 = x4.fma(w0, a04);
      a14 = x4.fma(w1, a14);
    }
    int row = yo + h * ps;
    a00.max(floor).intoArray(ys, row);
    a01.max(floor).intoArray(ys, row + 1 * LANES);
    a02.max(floor).intoArray(ys, row + 2 * LANES);
    a03.max(floor).intoArray(ys, row + 3 * LANES);
    a04.max(floor).intoArray(ys, row + 4 * LANES);
    a10.max(floor).intoArray(ys, row + ps);
    a11.max(floor).intoArray(ys, row + ps + 1 * LANES);
    a12.max(floor).intoArray(ys, row + ps + 2 * LANES);
    a13.max(floor).intoArray(ys, row + ps + 3 * LANES);
    a14.max(floor).intoArray(ys, row + ps + 4 * LANES);
  }

  /**
   * Channels {@code h..h+3} of {@link #kernel8x2}'s block: its split form, 8 accumulators where 16 do not fit
   * AVX2's registers.
   */
  private static void kernel4x2(float[] paddedX, int p, int[] plan, int n, float[] wp, int wo, int h, float[] bp,
      int bo, float[] ys, int yo, int yo1, int ps, float floor) {
    FloatVector a00 = FloatVector.broadcast(SPECIES, bp[bo + h]);
    FloatVector a10 = FloatVector.broadcast(SPECIES, bp[bo + h + 1]);
    FloatVector a20 = FloatVector.broadcast(SPECIES, bp[bo + h + 2]);
    FloatVector a30 = FloatVector.broadcast(SPECIES, bp[bo + h + 3]);
    FloatVector a01 = a00;
    FloatVector a11 = a10;
    FloatVector a21 = a20;
    FloatVector a31 = a30;
    for (int q = wo, end = wo + n * OB; q < end; q += OB) {
      int o = p + plan[q];
      int r = q + h;
      FloatVector w0 = FloatVector.broadcast(SPECIES, wp[r]);
      FloatVector w1 = FloatVector.broadcast(SPECIES, wp[r + 1]);
      FloatVector w2 = FloatVector.broadcast(SPECIES, wp[r + 2]);
      FloatVector w3 = FloatVector.broadcast(SPECIES, wp[r + 3]);
      FloatVector x0 = FloatVector.fromArray(SPECIES, paddedX, o);
      a00 = x0.fma(w0, a00);
      a10 = x0.fma(w1, a10);
      a20 = x0.fma(w2, a20);
      a30 = x0.fma(w3, a30);
      FloatVector x1 = FloatVector.fromArray(SPECIES, paddedX, o + LANES);
      a01 = x1.fma(w0, a01);
      a11 = x1.fma(w1, a11);
      a21 = x1.fma(w2, a21);
      a31 = x1.fma(w3, a31);
    }
    int row = h * ps;
    a00.max(floor).intoArray(ys, yo + row);
    a01.max(floor).intoArray(ys, yo1 + row);
    a10.max(floor).intoArray(ys, yo + row + ps);
    a11.max(floor).intoArray(ys, yo1 + row + ps);
    a20.max(floor).intoArray(ys, yo + row + 2 * ps);
    a21.max(floor).intoArray(ys, yo1 + row + 2 * ps);
    a30.max(floor).intoArray(ys, yo + row + 3 * ps);
    a31.max(floor).intoArray(ys, yo1 + row + 3 * ps);
  }

  /** 8 channels x 3 vectors of positions starting at virtual position {@code p}. */
  private static void kernel8x3(boolean split, float[] paddedX, int p, int[] plan, int n, float[] wp, int wo,
      float[] bp, int bo, float[] ys, int yo, int yo1, int yo2, int ps, float floor) {
    if (split) {
      kernel4x3(paddedX, p, plan, n, wp, wo, 0, bp, bo, ys, yo, yo1, yo2, ps, floor);
      kernel4x3(paddedX, p, plan, n, wp, wo, 4, bp, bo, ys, yo, yo1, yo2, ps, floor);
      return;
    }
    FloatVector a00 = FloatVector.broadcast(SPECIES, bp[bo]);
    FloatVector a10 = FloatVector.broadcast(SPECIES, bp[bo + 1]);
    FloatVector a20 = FloatVector.broadcast(SPECIES, bp[bo + 2]);
    FloatVector a30 = FloatVector.broadcast(SPECIES, bp[bo + 3]);
    FloatVector a40 = FloatVector.broadcast(SPECIES, bp[bo + 4]);
    FloatVector a50 = FloatVector.broadcast(SPECIES, bp[bo + 5]);
    FloatVector a60 = FloatVector.broadcast(SPECIES, bp[bo + 6]);
    FloatVector a70 = FloatVector.broadcast(SPECIES, bp[bo + 7]);
    FloatVector a01 = a00;
    FloatVector a11 = a10;
    FloatVector a21 = a20;
    FloatVector a31 = a30;
    FloatVector a41 = a40;
    FloatVector a51 = a50;
    FloatVector a61 = a60;
    FloatVector a71 = a70;
    FloatVector a02 = a00;
    FloatVector a12 = a10;
    FloatVector a22 = a20;
    FloatVector a32 = a30;
    FloatVector a42 = a40;
    FloatVector a52 = a50;
    FloatVector a62 = a60;
    FloatVector a72 = a70;
    for (int q = wo, end = wo + n * OB; q < end; q += OB) {
      int o = p + plan[q];
      FloatVector x0 = FloatVector.fromArray(SPECIES, paddedX, o);
      FloatVector x1 = FloatVector.fromArray(SPECIES, paddedX, o + LANES);
      FloatVector x2 = FloatVector.fromArray(SPECIES, paddedX, o + 2 * LANES);
      FloatVector w = FloatVector.broadcast(SPECIES, wp[q]);
      a00 = x0.fma(w, a00);
      a01 = x1.fma(w, a01);
      a02 = x2.fma(w, a02);
      w = FloatVector.broadcast(SPECIES, wp[q + 1]);
      a10 = x0.fma(w, a10);
      a11 = x1.fma(w, a11);
      a12 = x2.fma(w, a12);
      w = FloatVector.broadcast(SPECIES, wp[q + 2]);
      a20 = x0.fma(w, a20);
      a21 = x1.fma(w, a21);
      a22 = x2.fma(w, a22);
      w = FloatVector.broadcast(SPECIES, wp[q + 3]);
      a30 = x0.fma(w, a30);
      a31 = x1.fma(w, a31);
      a32 = x2.fma(w, a32);
      w = FloatVector.broadcast(SPECIES, wp[q + 4]);
      a40 = x0.fma(w, a40);
      a41 = x1.fma(w, a41);
      a42 = x2.fma(w, a42);
      w = FloatVector.broadcast(SPECIES, wp[q + 5]);
      a50 = x0.fma(w, a50);
      a51 = x1.fma(w, a51);
      a52 = x2.fma(w, a52);
      w = FloatVector.broadcast(SPECIES, wp[q + 6]);
      a60 = x0.fma(w, a60);
      a61 = x1.fma(w, a61);
      a62 = x2.fma(w, a62);
      w = FloatVector.broadcast(SPECIES, wp[q + 7]);
      a70 = x0.fma(w, a70);
      a71 = x1.fma(w, a71);
      a72 = x2.fma(w, a72);
    }
    a00.max(floor).intoArray(ys, yo);
    a01.max(floor).intoArray(ys, yo1);
    a02.max(floor).intoArray(ys, yo2);
    a10.max(floor).intoArray(ys, yo + ps);
    a11.max(floor).intoArray(ys, yo1 + ps);
    a12.max(floor).intoArray(ys, yo2 + ps);
    a20.max(floor).intoArray(ys, yo + 2 * ps);
    a21.max(floor).intoArray(ys, yo1 + 2 * ps);
    a22.max(floor).intoArray(ys, yo2 + 2 * ps);
    a30.max(floor).intoArray(ys, yo + 3 * ps);
    a31.max(floor).intoArray(ys, yo1 + 3 * ps);
    a32.max(floor).intoArray(ys, yo2 + 3 * ps);
    a40.max(floor).intoArray(ys, yo + 4 * ps);
    a41.max(floor).intoArray(ys, yo1 + 4 * ps);
    a42.max(floor).intoArray(ys, yo2 + 4 * ps);
    a50.max(floor).intoArray(ys, yo + 5 * ps);
    a51.max(floor).intoArray(ys, yo1 + 5 * ps);
    a52.max(floor).intoArray(ys, yo2 + 5 * ps);
    a60.max(floor).intoArray(ys, yo + 6 * ps);
    a61.max(floor).intoArray(ys, yo1 + 6 * ps);
    a62.max(floor).intoArray(ys, yo2 + 6 * ps);
    a70.max(floor).intoArray(ys, yo + 7 * ps);
    a71.max(floor).intoArray(ys, yo1 + 7 * ps);
    a72.max(floor).intoArray(ys, yo2 + 7 * ps);
  }

  /** 8 channels x 2 vectors of positions starting at virtual position {@code p}. */
  private static void kernel8x2(boolean split, float[] paddedX, int p, int[] plan, int n, float[] wp, int wo,
      float[] bp, int bo, float[] ys, int yo, int yo1, int ps, float floor) {
    if (split) {
      kernel4x2(paddedX, p, plan, n, wp, wo, 0, bp, bo, ys, yo, yo1, ps, floor);
      kernel4x2(paddedX, p, plan, n, wp, wo, 4, bp, bo, ys, yo, yo1, ps, floor);
      return;
    }
    FloatVector a00 = FloatVector.broadcast(SPECIES, bp[bo]);
    FloatVector a10 = FloatVector.broadcast(SPECIES, bp[bo + 1]);
    FloatVector a20 = FloatVector.broadcast(SPECIES, bp[bo + 2]);
    FloatVector a30 = FloatVector.broadcast(SPECIES, bp[bo + 3]);
    FloatVector a40 = FloatVector.broadcast(SPECIES, bp[bo + 4]);
    FloatVector a50 = FloatVector.broadcast(SPECIES, bp[bo + 5]);
    FloatVector a60 = FloatVector.broadcast(SPECIES, bp[bo + 6]);
    FloatVector a70 = FloatVector.broadcast(SPECIES, bp[bo + 7]);
    FloatVector a01 = a00;
    FloatVector a11 = a10;
    FloatVector a21 = a20;
    FloatVector a31 = a30;
    FloatVector a41 = a40;
    FloatVector a51 = a50;
    FloatVector a61 = a60;
    FloatVector a71 = a70;
    for (int q = wo, end = wo + n * OB; q < end; q += OB) {
      int o = p + plan[q];
      FloatVector x0 = FloatVector.fromArray(SPECIES, paddedX, o);
      FloatVector x1 = FloatVector.fromArray(SPECIES, paddedX, o + LANES);
      FloatVector w = FloatVector.broadcast(SPECIES, wp[q]);
      a00 = x0.fma(w, a00);
      a01 = x1.fma(w, a01);
      w = FloatVector.broadcast(SPECIES, wp[q + 1]);
      a10 = x0.fma(w, a10);
      a11 = x1.fma(w, a11);
      w = FloatVector.broadcast(SPECIES, wp[q + 2]);
      a20 = x0.fma(w, a20);
      a21 = x1.fma(w, a21);
      w = FloatVector.broadcast(SPECIES, wp[q + 3]);
      a30 = x0.fma(w, a30);
      a31 = x1.fma(w, a31);
      w = FloatVector.broadcast(SPECIES, wp[q + 4]);
      a40 = x0.fma(w, a40);
      a41 = x1.fma(w, a41);
      w = FloatVector.broadcast(SPECIES, wp[q + 5]);
      a50 = x0.fma(w, a50);
      a51 = x1.fma(w, a51);
      w = FloatVector.broadcast(SPECIES, wp[q + 6]);
      a60 = x0.fma(w, a60);
      a61 = x1.fma(w, a61);
      w = FloatVector.broadcast(SPECIES, wp[q + 7]);
      a70 = x0.fma(w, a70);
      a71 = x1.fma(w, a71);
    }
    a00.max(floor).intoArray(ys, yo);
    a01.max(floor).intoArray(ys, yo1);
    a10.max(floor).intoArray(ys, yo + ps);
    a11.max(floor).intoArray(ys, yo1 + ps);
    a20.max(floor).intoArray(ys, yo + 2 * ps);
    a21.max(floor).intoArray(ys, yo1 + 2 * ps);
    a30.max(floor).intoArray(ys, yo + 3 * ps);
    a31.max(floor).intoArray(ys, yo1 + 3 * ps);
    a40.max(floor).intoArray(ys, yo + 4 * ps);
    a41.max(floor).intoArray(ys, yo1 + 4 * ps);
    a50.max(floor).intoArray(ys, yo + 5 * ps);
    a51.max(floor).intoArray(ys, yo1 + 5 * ps);
    a60.max(floor).intoArray(ys, yo + 6 * ps);
    a61.max(floor).intoArray(ys, yo1 + 6 * ps);
    a70.max(floor).intoArray(ys, yo + 7 * ps);
    a71.max(floor).intoArray(ys, yo1 + 7 * ps);
  }

  /**
   * Channels {@code h..h+3} of {@link #kernel8x3}'s block (weights packed for {@link #OB}): the same
   * multiply-adds in the same order for those outputs, so the same bits, with 12 accumulators where the
   * registers do not hold 24 ({@link TileBudget#SPLIT_DIRECT_KERNELS}).
   */
  private static void kernel4x3(float[] paddedX, int p, int[] plan, int n, float[] wp, int wo, int h, float[] bp,
      int bo, float[] ys, int yo, int yo1, int yo2, int ps, float floor) {
    FloatVector a00 = FloatVector.broadcast(SPECIES, bp[bo + h]);
    FloatVector a10 = FloatVector.broadcast(SPECIES, bp[bo + h + 1]);
    FloatVector a20 = FloatVector.broadcast(SPECIES, bp[bo + h + 2]);
    FloatVector a30 = FloatVector.broadcast(SPECIES, bp[bo + h + 3]);
    FloatVector a01 = a00;
    FloatVector a11 = a10;
    FloatVector a21 = a20;
    FloatVector a31 = a30;
    FloatVector a02 = a00;
    FloatVector a12 = a10;
    FloatVector a22 = a20;
    FloatVector a32 = a30;
    for (int q = wo, end = wo + n * OB; q < end; q += OB) {
      int o = p + plan[q];
      int r = q + h;
      FloatVector x0 = FloatVector.fromArray(SPECIES, paddedX, o);
      FloatVector x1 = FloatVector.fromArray(SPECIES, paddedX, o + LANES);
      FloatVector x2 = FloatVector.fromArray(SPECIES, paddedX, o + 2 * LANES);
      FloatVector w = FloatVector.broadcast(SPECIES, wp[r]);
      a00 = x0.fma(w, a00);
      a01 = x1.fma(w, a01);
      a02 = x2.fma(w, a02);
      w = FloatVector.broadcast(SPECIES, wp[r + 1]);
      a10 = x0.fma(w, a10);
      a11 = x1.fma(w, a11);
      a12 = x2.fma(w, a12);
      w = FloatVector.broadcast(SPECIES, wp[r + 2]);
      a20 = x0.fma(w, a20);
      a21 = x1.fma(w, a21);
      a22 = x2.fma(w, a22);
      w = FloatVector.broadcast(SPECIES, wp[r + 3]);
      a30 = x0.fma(w, a30);
      a31 = x1.fma(w, a31);
      a32 = x2.fma(w, a32);
    }
    int row = h * ps;
    a00.max(floor).intoArray(ys, yo + row);
    a01.max(floor).intoArray(ys, yo1 + row);
    a02.max(floor).intoArray(ys, yo2 + row);
    a10.max(floor).intoArray(ys, yo + row + ps);
    a11.max(floor).intoArray(ys, yo1 + row + ps);
    a12.max(floor).intoArray(ys, yo2 + row + ps);
    a20.max(floor).intoArray(ys, yo + row + 2 * ps);
    a21.max(floor).intoArray(ys, yo1 + row + 2 * ps);
    a22.max(floor).intoArray(ys, yo2 + row + 2 * ps);
    a30.max(floor).intoArray(ys, yo + row + 3 * ps);
    a31.max(floor).intoArray(ys, yo1 + row + 3 * ps);
    a32.max(floor).intoArray(ys, yo2 + row + 3 * ps);
  }

  /** 8 channels x 1 vector of positions. */
  private static void kernel8x1(float[] paddedX, int p, int[] plan, int n, float[] wp, int wo, float[] bp, int bo,
      float[] ys, int yo, int ps, float floor) {
    FloatVector a0 = FloatVector.broadcast(SPECIES, bp[bo]);
    FloatVector a1 = FloatVector.broadcast(SPECIES, bp[bo + 1]);
    FloatVector a2 = FloatVector.broadcast(SPECIES, bp[bo + 2]);
    FloatVector a3 = FloatVector.broadcast(SPECIES, bp[bo + 3]);
    FloatVector a4 = FloatVector.broadcast(SPECIES, bp[bo + 4]);
    FloatVector a5 = FloatVector.broadcast(SPECIES, bp[bo + 5]);
    FloatVector a6 = FloatVector.broadcast(SPECIES, bp[bo + 6]);
    FloatVector a7 = FloatVector.broadcast(SPECIES, bp[bo + 7]);
    for (int q = wo, end = wo + n * OB; q < end; q += OB) {
      FloatVector x0 = FloatVector.fromArray(SPECIES, paddedX, p + plan[q]);
      a0 = x0.fma(FloatVector.broadcast(SPECIES, wp[q]), a0);
      a1 = x0.fma(FloatVector.broadcast(SPECIES, wp[q + 1]), a1);
      a2 = x0.fma(FloatVector.broadcast(SPECIES, wp[q + 2]), a2);
      a3 = x0.fma(FloatVector.broadcast(SPECIES, wp[q + 3]), a3);
      a4 = x0.fma(FloatVector.broadcast(SPECIES, wp[q + 4]), a4);
      a5 = x0.fma(FloatVector.broadcast(SPECIES, wp[q + 5]), a5);
      a6 = x0.fma(FloatVector.broadcast(SPECIES, wp[q + 6]), a6);
      a7 = x0.fma(FloatVector.broadcast(SPECIES, wp[q + 7]), a7);
    }
    a0.max(floor).intoArray(ys, yo);
    a1.max(floor).intoArray(ys, yo + ps);
    a2.max(floor).intoArray(ys, yo + 2 * ps);
    a3.max(floor).intoArray(ys, yo + 3 * ps);
    a4.max(floor).intoArray(ys, yo + 4 * ps);
    a5.max(floor).intoArray(ys, yo + 5 * ps);
    a6.max(floor).intoArray(ys, yo + 6 * ps);
    a7.max(floor).intoArray(ys, yo + 7 * ps);
  }

  /**
   * Depthwise 3x3 (stride 1, dilation 1, one input channel): 4 output rows x 1 vector per step, each of
   * the 6 input rows loaded once per tap column and used for every output row it touches (18 loads for
   * 36 multiply-adds instead of 36). Steps go through row groups of 4 from the top and, within a group,
   * through the row's vectors from the right, so a row's junk spill onto the next row is overwritten.
   */
  private static void kernelDepthwise3x3(float[] paddedX, int xBase, int rowPitch, int steps, int rowVectors, float[] wp,
      int wo, float bias, float[] y, int yBase, int outW, float floor) {
    FloatVector w0 = FloatVector.broadcast(SPECIES, wp[wo]);
    FloatVector w1 = FloatVector.broadcast(SPECIES, wp[wo + 1]);
    FloatVector w2 = FloatVector.broadcast(SPECIES, wp[wo + 2]);
    FloatVector w3 = FloatVector.broadcast(SPECIES, wp[wo + 3]);
    FloatVector w4 = FloatVector.broadcast(SPECIES, wp[wo + 4]);
    FloatVector w5 = FloatVector.broadcast(SPECIES, wp[wo + 5]);
    FloatVector w6 = FloatVector.broadcast(SPECIES, wp[wo + 6]);
    FloatVector w7 = FloatVector.broadcast(SPECIES, wp[wo + 7]);
    FloatVector w8 = FloatVector.broadcast(SPECIES, wp[wo + 8]);
    FloatVector b = FloatVector.broadcast(SPECIES, bias);
    int row = 0;
    int vi = rowVectors - 1;
    for (int step = 0; step < steps; step++) {
      int p = xBase + row * rowPitch + vi * LANES;
      int o = yBase + row * outW + vi * LANES;
      FloatVector l0 = FloatVector.fromArray(SPECIES, paddedX, p);
      FloatVector l1 = FloatVector.fromArray(SPECIES, paddedX, p + 1);
      FloatVector l2 = FloatVector.fromArray(SPECIES, paddedX, p + 2);
      FloatVector a0 = l2.fma(w2, l1.fma(w1, l0.fma(w0, b)));
      p += rowPitch;
      l0 = FloatVector.fromArray(SPECIES, paddedX, p);
      l1 = FloatVector.fromArray(SPECIES, paddedX, p + 1);
      l2 = FloatVector.fromArray(SPECIES, paddedX, p + 2);
      a0 = l2.fma(w5, l1.fma(w4, l0.fma(w3, a0)));
      FloatVector a1 = l2.fma(w2, l1.fma(w1, l0.fma(w0, b)));
      p += rowPitch;
      l0 = FloatVector.fromArray(SPECIES, paddedX, p);
      l1 = FloatVector.fromArray(SPECIES, paddedX, p + 1);
      l2 = FloatVector.fromArray(SPECIES, paddedX, p + 2);
      a0 = l2.fma(w8, l1.fma(w7, l0.fma(w6, a0)));
      a1 = l2.fma(w5, l1.fma(w4, l0.fma(w3, a1)));
      FloatVector a2 = l2.fma(w2, l1.fma(w1, l0.fma(w0, b)));
      p += rowPitch;
      l0 = FloatVector.fromArray(SPECIES, paddedX, p);
      l1 = FloatVector.fromArray(SPECIES, paddedX, p + 1);
      l2 = FloatVector.fromArray(SPECIES, paddedX, p + 2);
      a1 = l2.fma(w8, l1.fma(w7, l0.fma(w6, a1)));
      a2 = l2.fma(w5, l1.fma(w4, l0.fma(w3, a2)));
      FloatVector a3 = l2.fma(w2, l1.fma(w1, l0.fma(w0, b)));
      p += rowPitch;
      l0 = FloatVector.fromArray(SPECIES, paddedX, p);
      l1 = FloatVector.fromArray(SPECIES, paddedX, p + 1);
      l2 = FloatVector.fromArray(SPECIES, paddedX, p + 2);
      a2 = l2.fma(w8, l1.fma(w7, l0.fma(w6, a2)));
      a3 = l2.fma(w5, l1.fma(w4, l0.fma(w3, a3)));
      p += rowPitch;
      l0 = FloatVector.fromArray(SPECIES, paddedX, p);
      l1 = FloatVector.fromArray(SPECIES, paddedX, p + 1);
      l2 = FloatVector.fromArray(SPECIES, paddedX, p + 2);
      a3 = l2.fma(w8, l1.fma(w7, l0.fma(w6, a3)));
      a0.max(floor).intoArray(y, o);
      a1.max(floor).intoArray(y, o + outW);
      a2.max(floor).intoArray(y, o + 2 * outW);
      a3.max(floor).intoArray(y, o + 3 * outW);
      if (--vi < 0) {
        vi = rowVectors - 1;
        row += 4;
      }
    }
  }

  /** 1 channel x 4 vectors of positions. */
  private static void kernel1x4(float[] paddedX, int p, int[] plan, int n, float[] wp, int wo, float bias,
      float[] ys, int yo, int yo1, int yo2, int yo3, float floor) {
    FloatVector a0 = FloatVector.broadcast(SPECIES, bias);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    for (int q = wo, end = wo + n; q < end; q++) {
      int o = p + plan[q];
      FloatVector w = FloatVector.broadcast(SPECIES, wp[q]);
      a0 = FloatVector.fromArray(SPECIES, paddedX, o).fma(w, a0);
      a1 = FloatVector.fromArray(SPECIES, paddedX, o + LANES).fma(w, a1);
      a2 = FloatVector.fromArray(SPECIES, paddedX, o + 2 * LANES).fma(w, a2);
      a3 = FloatVector.fromArray(SPECIES, paddedX, o + 3 * LANES).fma(w, a3);
    }
    a0.max(floor).intoArray(ys, yo);
    a1.max(floor).intoArray(ys, yo1);
    a2.max(floor).intoArray(ys, yo2);
    a3.max(floor).intoArray(ys, yo3);
  }

  /** 1 channel x 1 vector of positions. */
  private static void kernel1x1(float[] paddedX, int p, int[] plan, int n, float[] wp, int wo, float bias,
      float[] ys, int yo, float floor) {
    FloatVector a0 = FloatVector.broadcast(SPECIES, bias);
    for (int q = wo, end = wo + n; q < end; q++) {
      a0 = FloatVector.fromArray(SPECIES, paddedX, p + plan[q]).fma(FloatVector.broadcast(SPECIES, wp[q]), a0);
    }
    a0.max(floor).intoArray(ys, yo);
  }
}
