package dev.kiln.simd;

import dev.kiln.runtime.Parallel;

/**
 * One thread's conversions of a lone layer's sample ({@link LoneForward}) between the caller's NCHW arrays and the
 * layer's own layouts, each a body the pool can split: input rows into {@link #xb} (layout {@code in}), output
 * channel blocks of {@link #yb} (layout {@code out}) back into the caller's array, only the channels asked for.
 * {@link #set} holds a call's arrays while the pool runs, {@link #clear} lets them go; nothing is allocated per
 * call.
 */
final class SampleConversions {
  private static final int LANES = VectorShape.LANES;

  private final BlockedLayout in;
  private final BlockedLayout out;
  /**
   * The input in layout {@code in} from {@link AlignedFloats#FIRST} on ({@link AlignedFloats#lined}); null where the
   * layer reads the caller's sample in place.
   */
  final float[] xb;
  /** The output in layout {@code out} from {@link AlignedFloats#FIRST} on. */
  final float[] yb;
  private float[] x;
  private int xOff;
  private float[] y;
  private int yOff;
  private int ocStart;
  private int ocEnd;
  /** Input rows {@code [start, end)} into {@link #xb}. */
  final Parallel.RangeBody input;
  /** The channels asked for of output channel blocks {@code [start, end)}, back to NCHW. */
  final Parallel.RangeBody output;

  SampleConversions(BlockedLayout in, BlockedLayout out, boolean readsInPlace) {
    this.in = in;
    this.out = out;
    this.xb = readsInPlace ? null : AlignedFloats.lined(in.sampleSize);
    this.yb = AlignedFloats.lined(out.sampleSize);
    this.input = (start, end) -> in.fromNchw(x, xOff, xb, AlignedFloats.FIRST, start, end);
    this.output = (start, end) -> out.toNchw(yb, AlignedFloats.FIRST, y, yOff, Math.max(ocStart, start * LANES),
        Math.min(ocEnd, end * LANES));
  }

  /** A call's sample {@code x[xOff..]}, its output {@code y[yOff..]} and output channels {@code [ocStart, ocEnd)}. */
  void set(float[] x, int xOff, float[] y, int yOff, int ocStart, int ocEnd) {
    this.x = x;
    this.xOff = xOff;
    this.y = y;
    this.yOff = yOff;
    this.ocStart = ocStart;
    this.ocEnd = ocEnd;
  }

  /** Forgets the call's arrays. */
  void clear() {
    x = null;
    y = null;
  }

  /** {@code body} over {@code [0, n)}: split over the pool, or all of it on this thread. */
  static void run(boolean split, int n, Parallel.RangeBody body) {
    if (split) {
      Parallel.forRange(n, body);
    } else {
      body.run(0, n);
    }
  }
}
