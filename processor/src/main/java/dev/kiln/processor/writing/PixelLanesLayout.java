package dev.kiln.processor.writing;

import dev.kiln.processor.model.ConvSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The memory layout of the forward with output pixels in the vector lanes ({@link PixelLanesEmitter}).
 *
 * <p>HotSpot's C2 (JDK 17) auto-vectorizes a counted loop only when every float access in it has the form
 * {@code a[j + c]} with the constants {@code c} of all accesses equal modulo the vector length (and a
 * small body, see {@link TermBlocks}). So each input channel is <em>staged</em>: for every row phase
 * {@code (kh * DILATION_H) % STRIDE_H} and every kernel column {@code kw} one array holds the padded input
 * rows that phase reads, gathered at stride {@code STRIDE_W} from column {@code kw * DILATION_W}, one output
 * row per {@code PITCH} floats. Output pixel {@code j = oh * PITCH + ow} then reads tap {@code (kh, kw)} at
 * {@code j + ((kh * DILATION_H) / STRIDE_H) * PITCH} of its plane, and {@code PITCH} is a multiple of
 * {@link #LANES} whenever that row offset is not zero.
 *
 * <p>Output rows are processed in bands. When the staged planes of all input channels would not stay in the
 * level-1 cache (and the convolution has one group), the layout is <em>channel-blocked</em>: each band keeps
 * one accumulator per output channel (all of them within {@link #ACCUMULATOR_BUDGET} floats, for the level-2
 * cache), and its input channels are staged a block of {@link #channelBlock()} at a time, small enough
 * ({@link #BLOCK_BUDGET}) to stay in the level-1 cache while every output channel's loops read it. Otherwise
 * every input channel of a band is staged at once, within {@link #STAGE_BUDGET} floats, and the output
 * channels run one after another over them. Both orders add the products of each output value in the same
 * order (input channel by input channel), so they give the same bits.
 */
final class PixelLanesLayout {
  /** Floats in the widest vector (512 bits): the pitch is a multiple of this when rows are offset. */
  static final int LANES = 16;
  /** Floats of staged input per thread (1 MB) that a band is sized for. */
  static final int STAGE_BUDGET = 1 << 18;
  /**
   * Floats (24 KB) of one channel block's staged planes plus one output channel's accumulator band: what the
   * loops of one output channel read and write over and over, sized for a level-1 data cache of 32 KB or more.
   */
  static final int BLOCK_BUDGET = 6144;
  /**
   * Floats (512 KB) of the accumulators of every output channel of one band, for the level-2 cache: RepVGG-A0's
   * 96-channel 28x28 layers took 10% less time in one band of 28 rows than in two of 14 (half this budget).
   */
  static final int ACCUMULATOR_BUDGET = 1 << 17;

  private final ConvSpec spec;
  private final int[] phases;
  private final int maxRowOffset;
  private final int pitch;
  private final int bandRows;
  private final int channelBlock;

  PixelLanesLayout(ConvSpec spec) {
    this.spec = spec;
    this.phases = rowPhases(spec);
    int q = 0;
    for (int kh = 0; kh < spec.kernelH(); kh++) {
      q = Math.max(q, rowOffset(kh));
    }
    this.maxRowOffset = q;
    this.pitch = q == 0 ? spec.outWidth() : (spec.outWidth() + LANES - 1) / LANES * LANES;
    int planes = phases.length * spec.kernelW();
    int allChannels = bandRows(spec, planes, pitch, q);
    long staged = spec.inChannels() * stagedPerChannel(planes, allChannels, q, pitch);
    if (spec.groups() == 1 && staged + (long) allChannels * pitch > BLOCK_BUDGET) {
      this.bandRows = blockedBandRows(spec, planes, pitch, q);
      long fit = Math.max(1, (BLOCK_BUDGET - (long) bandRows * pitch) / stagedPerChannel(planes, bandRows, q, pitch));
      int per = TermBlocks.channelsPerBlock(spec);
      this.channelBlock = (int) Math.min(spec.inChannels(), Math.max(per, fit / per * per));
    } else {
      this.bandRows = allChannels;
      this.channelBlock = spec.inChannels();
    }
  }

  /**
   * Rows per band of the channel-blocked layout: at most what keeps the accumulators of all output channels
   * within {@link #ACCUMULATOR_BUDGET} and one channel's staged planes plus one accumulator within
   * {@link #BLOCK_BUDGET}; at least one; the bands balanced.
   */
  private static int blockedBandRows(ConvSpec spec, int planesPerChannel, int pitch, int maxRowOffset) {
    long byAccumulators = ACCUMULATOR_BUDGET / ((long) spec.outChannels() * pitch);
    long byBlock = (BLOCK_BUDGET - (long) planesPerChannel * maxRowOffset * pitch)
        / ((long) (planesPerChannel + 1) * pitch);
    return balanced(spec.outHeight(), Math.max(1, Math.min(byAccumulators, byBlock)));
  }

  /** Floats of one input channel's staged planes for a band of {@code rows} output rows. */
  private static long stagedPerChannel(int planesPerChannel, int rows, int maxRowOffset, int pitch) {
    return (long) planesPerChannel * (rows + maxRowOffset) * pitch;
  }

  /** Rows per band for bands of at most {@code rows} of {@code height} rows, as even as their count allows. */
  private static int balanced(int height, long rows) {
    int most = (int) Math.min(height, rows);
    int bands = (height + most - 1) / most;
    return (height + bands - 1) / bands;
  }

  private static int[] rowPhases(ConvSpec spec) {
    List<Integer> seen = new ArrayList<>();
    for (int kh = 0; kh < spec.kernelH(); kh++) {
      int phase = kh * spec.dilationH() % spec.strideH();
      if (!seen.contains(phase)) {
        seen.add(phase);
      }
    }
    seen.sort(null);
    return seen.stream().mapToInt(Integer::intValue).toArray();
  }

  /** Rows per band when every input channel is staged at once: within {@link #STAGE_BUDGET}, bands balanced. */
  private static int bandRows(ConvSpec spec, int planesPerChannel, int pitch, int maxRowOffset) {
    long perRow = (long) spec.inChannels() * planesPerChannel * pitch;
    return balanced(spec.outHeight(), Math.max(1, STAGE_BUDGET / perRow - maxRowOffset));
  }

  /** The row phases in use, ascending: the values of {@code (kh * DILATION_H) % STRIDE_H}. */
  int[] phases() {
    return phases.clone();
  }

  private int phaseIndex(int phase) {
    for (int i = 0; i < phases.length; i++) {
      if (phases[i] == phase) {
        return i;
      }
    }
    throw new IllegalArgumentException("phase " + phase);
  }

  /** Row phase of kernel row {@code kh}. */
  int phaseOf(int kh) {
    return kh * spec.dilationH() % spec.strideH();
  }

  /** Staged rows between output row {@code oh} and the row kernel row {@code kh} reads. */
  int rowOffset(int kh) {
    return kh * spec.dilationH() / spec.strideH();
  }

  /** The largest {@link #rowOffset} of the kernel rows of phase {@code phase}. */
  int maxRowOffset(int phase) {
    int q = 0;
    for (int kh = 0; kh < spec.kernelH(); kh++) {
      if (phaseOf(kh) == phase) {
        q = Math.max(q, rowOffset(kh));
      }
    }
    return q;
  }

  /** Floats from one output row to the next in the staged planes and the accumulator. */
  int pitch() {
    return pitch;
  }

  /** Output rows per band. */
  int bandRows() {
    return bandRows;
  }

  /** Whether the layout is channel-blocked (see the class comment). */
  boolean channelBlocked() {
    return channelBlock < spec.inChannels();
  }

  /** Input channels staged at once: all of them unless {@link #channelBlocked()}; a multiple of the loops' channels. */
  int channelBlock() {
    return channelBlock;
  }

  /** Whether one band covers all output rows. */
  boolean singleBand() {
    return bandRows == spec.outHeight();
  }

  /** Staged planes per input channel: one per row phase and kernel column. */
  int planesPerChannel() {
    return phases.length * spec.kernelW();
  }

  /** The plane of tap {@code (kh, kw)} relative to its channel's first plane. */
  int plane(int kh, int kw) {
    return phaseIndex(phaseOf(kh)) * spec.kernelW() + kw;
  }

  /** Floats of one staged plane. */
  int stageLength() {
    return (bandRows + maxRowOffset) * pitch;
  }
}
