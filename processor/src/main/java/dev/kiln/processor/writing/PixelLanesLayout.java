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
 * <p>Output rows are processed in bands so that the staged planes of one band stay within
 * {@link #STAGE_BUDGET} floats per thread.
 */
final class PixelLanesLayout {
  /** Floats in the widest vector (512 bits): the pitch is a multiple of this when rows are offset. */
  static final int LANES = 16;
  /** Floats of staged input per thread (1 MB) that a band is sized for. */
  static final int STAGE_BUDGET = 1 << 18;

  private final ConvSpec spec;
  private final int[] phases;
  private final int maxRowOffset;
  private final int pitch;
  private final int bandRows;

  PixelLanesLayout(ConvSpec spec) {
    this.spec = spec;
    this.phases = rowPhases(spec);
    int q = 0;
    for (int kh = 0; kh < spec.kernelH(); kh++) {
      q = Math.max(q, rowOffset(kh));
    }
    this.maxRowOffset = q;
    this.pitch = q == 0 ? spec.outWidth() : (spec.outWidth() + LANES - 1) / LANES * LANES;
    this.bandRows = bandRows(spec, phases.length, pitch, q);
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

  private static int bandRows(ConvSpec spec, int phaseCount, int pitch, int maxRowOffset) {
    long perRow = (long) spec.inChannels() * phaseCount * spec.kernelW() * pitch;
    long fit = Math.max(1, STAGE_BUDGET / perRow - maxRowOffset);
    int rows = (int) Math.min(spec.outHeight(), fit);
    int bands = (spec.outHeight() + rows - 1) / rows;
    return (spec.outHeight() + bands - 1) / bands;
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
