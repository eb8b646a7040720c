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
 * <p>Where that would pad the rows ({@code OUT_W} not a multiple of {@link #LANES}: 14, 28 or 56 pixels wide),
 * each input channel may be staged <em>per tap</em> instead (where {@link #nanosPerOutput} estimates it cheaper
 * and the loops are at least {@link #MIN_PER_TAP_LOOP} floats long): every kernel row has planes of its own, whose
 * staged row {@code r} holds padded input row {@code (oh0 + r) * STRIDE_H + kh * DILATION_H}, so that no tap
 * reads at a row offset and {@code PITCH} is {@code OUT_W}. That stages {@code K_H} times the planes of a
 * stride-1 layout, once per input channel and band for all output channels, and runs every loop over
 * {@code OUT_W} floats per row instead of the next multiple of 16: RepVGG-A0's 192-channel 14x14 layers run
 * loops of 196 floats instead of 224, all reading at the same offset, and a model of their loops took 18-20%
 * less time (2.27 ms against 2.77 on one core; three input channels staged at a time against seven).
 *
 * <p>Output rows are processed in bands. When the staged planes of all input channels would not stay in the
 * level-1 cache (and the convolution has one group), the layout is <em>channel-blocked</em>: each band keeps
 * one accumulator per output channel (all of them within {@link #ACCUMULATOR_BUDGET} floats, for the level-2
 * cache), and its input channels are staged a block of {@link #channelBlock()} at a time, small enough
 * ({@link #BLOCK_BUDGET}) to stay in the level-1 cache while every output channel's loops read it. Otherwise,
 * with one group, every input channel of a band is staged at once, within {@link #STAGE_BUDGET} floats, and the
 * output channels run one after another over them; with groups, one group's input channels are staged and its
 * output channels run before the next group's ({@link #groupBandRows}). All orders add the products of each
 * output value in the same order (input channel by input channel), so they give the same bits.
 *
 * <p>Where the rows' pitch leaves room, the planes of the kernel columns from {@code STRIDE_W} on are shifted copies
 * of the first ones (at stride 1: one padded plane and its shifted copies; see {@code PixelLanesEmitter}).
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
  /** Whether each kernel row has planes of its own (see the class comment). */
  private final boolean perTap;
  private final int[] phases;
  private final int maxRowOffset;
  private final int pitch;
  private final int bandRows;
  private final int channelBlock;

  PixelLanesLayout(ConvSpec spec) {
    this.spec = spec;
    // The last kernel row reads furthest down.
    int q = sharedRowOffset(spec, spec.kernelH() - 1);
    Plan shared = plan(spec, false, q);
    Plan perTapPlan = q > 0 && spec.outWidth() % LANES != 0 ? plan(spec, true, 0) : null;
    Plan chosen = perTapPlan != null && perTapPlan.bandRows() * spec.outWidth() >= MIN_PER_TAP_LOOP
        && perTapPlan.nanosPerOutput(spec) < shared.nanosPerOutput(spec) ? perTapPlan : shared;
    this.perTap = chosen.perTap();
    this.phases = chosen.phases();
    this.maxRowOffset = chosen.maxRowOffset();
    this.pitch = chosen.pitch();
    this.bandRows = chosen.bandRows();
    this.channelBlock = chosen.channelBlock();
  }

  /** One way to stage a layer: per tap or with row offsets of up to {@code maxRowOffset} rows. */
  private record Plan(boolean perTap, int[] phases, int maxRowOffset, int pitch, int bandRows, int channelBlock) {
    int planesPerChannel(ConvSpec spec) {
      return phases.length * spec.kernelW();
    }

    /**
     * Estimated nanoseconds per output value and input channel: the loop calls (each pays
     * {@link #LOOP_CALL_NANOS} for a band's outputs and {@link #LOOP_FLOAT_NANOS} per float of its pitched
     * rows) and the staging (once per input channel and band, for the group's output channels). Staging per
     * tap saves the padding of the rows but stages more planes and may shorten the bands.
     */
    double nanosPerOutput(ConvSpec spec) {
      double outputs = (double) bandRows * spec.outWidth();
      double loops = (double) TermBlocks.tapBlocks(spec).size() / TermBlocks.channelsPerBlock(spec);
      double loopNanos = loops * (LOOP_CALL_NANOS + LOOP_FLOAT_NANOS * bandRows * pitch) / outputs;
      double stageNanos = STAGE_FLOAT_NANOS * stagedPerChannel(planesPerChannel(spec), bandRows, maxRowOffset, pitch)
          / (spec.outChannelsPerGroup() * outputs);
      return loopNanos + stageNanos;
    }
  }

  /**
   * The shortest loop (floats: band rows times {@code OUT_W}) staged per tap: MobileNet v1's 1,024-channel
   * depthwise 7x7 layer, its loops 49 floats long per tap instead of 112 with row offsets, took 1.23 ms against
   * 0.67 (C2 runs a short loop's floats mostly one at a time, outside its unrolled vector loop).
   */
  static final int MIN_PER_TAP_LOOP = 8 * LANES;

  /** Nanoseconds of a loop call of the generated code (a five-product loop measured alone on JDK 17). */
  static final double LOOP_CALL_NANOS = 15;
  /** Nanoseconds per float of a loop of the generated code, beyond {@link #LOOP_CALL_NANOS}. */
  static final double LOOP_FLOAT_NANOS = 0.1;
  /**
   * Nanoseconds per staged float (row copies of 7-112 floats, gathered at the stride): an estimate, the value
   * with which {@link Plan#nanosPerOutput} ranks both ways of staging as measured for the six 3x3 layer shapes of
   * RepVGG-A0 that staging per tap applies to (per tap 4-7% faster for the stride-2 layers and the 14x14 ones,
   * 4% and 11% slower for the stride-1 layers of 28x28 and 56x56, whose bands it would shorten).
   */
  static final double STAGE_FLOAT_NANOS = 0.3;

  /** The layout staged per tap or with row offsets of up to {@code maxRowOffset} rows. */
  private static Plan plan(ConvSpec spec, boolean perTap, int maxRowOffset) {
    int pitch = maxRowOffset == 0 ? spec.outWidth() : (spec.outWidth() + LANES - 1) / LANES * LANES;
    int[] phases = rowPhases(spec, perTap);
    int planes = phases.length * spec.kernelW();
    if (spec.groups() > 1) {
      return new Plan(perTap, phases, maxRowOffset, pitch, groupBandRows(spec, planes, pitch, maxRowOffset),
          spec.inChannels());
    }
    int allChannels = bandRows(spec, planes, pitch, maxRowOffset);
    long staged = spec.inChannels() * stagedPerChannel(planes, allChannels, maxRowOffset, pitch);
    if (spec.groups() == 1 && staged + (long) allChannels * pitch > BLOCK_BUDGET) {
      int rows = blockedBandRows(spec, planes, pitch, maxRowOffset);
      long fit = Math.max(1,
          (BLOCK_BUDGET - (long) rows * pitch) / stagedPerChannel(planes, rows, maxRowOffset, pitch));
      int per = TermBlocks.channelsPerBlock(spec);
      return new Plan(perTap, phases, maxRowOffset, pitch, rows,
          (int) Math.min(spec.inChannels(), Math.max(per, fit / per * per)));
    }
    return new Plan(perTap, phases, maxRowOffset, pitch, allChannels, spec.inChannels());
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

  /**
   * Rows per band of a layout with groups, whose forward stages one group's input channels at a time and runs
   * that group's output channels over them before it stages the next: at most what keeps one group's staged
   * planes and one accumulator within {@link #BLOCK_BUDGET}, or, where that would leave fewer than
   * {@link #MIN_GROUP_BAND_ROWS} rows (groups of many channels), one group's planes within
   * {@link #STAGE_BUDGET}; at least one; the bands balanced. Staging every channel of a band first and then
   * running the output channels had MobileNet v1's depthwise layers in bands sized for all channels' planes (the
   * 1,024-channel 7x7 layer in bands of 3 rows, loops of 48 floats); one group at a time they run whole planes
   * from the level-1 cache (one thread, N=1, Intel Xeon of the Sapphire Rapids class, JDK 17): 512 channels
   * 14x14 450 us -> 270, 1,024 7x7 760 -> 400, 256 28x28 540 -> 330, 128 56x56 800 -> 590.
   */
  private static int groupBandRows(ConvSpec spec, int planesPerChannel, int pitch, int maxRowOffset) {
    long planes = (long) spec.inChannelsPerGroup() * planesPerChannel;
    long rows = (BLOCK_BUDGET - planes * maxRowOffset * pitch) / ((planes + 1) * pitch);
    if (rows < MIN_GROUP_BAND_ROWS) {
      rows = STAGE_BUDGET / (planes * pitch) - maxRowOffset;
    }
    return balanced(spec.outHeight(), Math.max(1, rows));
  }

  /** The fewest rows per band that {@link #groupBandRows} sizes for the level-1 cache. */
  static final int MIN_GROUP_BAND_ROWS = 4;

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

  private static int[] rowPhases(ConvSpec spec, boolean perTap) {
    List<Integer> seen = new ArrayList<>();
    for (int kh = 0; kh < spec.kernelH(); kh++) {
      int phase = phase(spec, perTap, kh);
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

  /**
   * The row phases in use, ascending: the values of {@code (kh * DILATION_H) % STRIDE_H}, or of
   * {@code kh * DILATION_H} when staged per tap.
   */
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
    return phase(spec, perTap, kh);
  }

  /** Row phase of kernel row {@code kh}: its padded row offset, modulo the stride unless staged per tap. */
  private static int phase(ConvSpec spec, boolean perTap, int kh) {
    return perTap ? kh * spec.dilationH() : kh * spec.dilationH() % spec.strideH();
  }

  /** Staged rows between output row {@code oh} and the row kernel row {@code kh} reads. */
  int rowOffset(int kh) {
    return perTap ? 0 : sharedRowOffset(spec, kh);
  }

  /** {@link #rowOffset} of kernel row {@code kh} when kernel rows share planes (not staged per tap). */
  private static int sharedRowOffset(ConvSpec spec, int kh) {
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

  /** Staged planes per input channel: one per row phase (per kernel row when staged per tap) and kernel column. */
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
