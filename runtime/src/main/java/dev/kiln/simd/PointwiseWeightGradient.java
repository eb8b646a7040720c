package dev.kiln.simd;

import static dev.kiln.simd.Lanes.SPECIES;
import static dev.kiln.simd.Lanes.V;

import dev.kiln.nn.ConvGeometry;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The weight gradient of a 1x1 convolution without padding (any stride and groups) whose output planes are
 * large: {@code gw[oc][c] += sum_p gy[oc][p] * x'[c][p]}, where {@code x'} is the input at the strided
 * positions ({@link PaddedLayout}'s read phase, or the input itself at stride 1). Each output position is one
 * input position, so the products are dot products over positions, vectorized over positions: no
 * transposition of the output gradient, which costs about as much as the multiply-adds of a 1x1 layer with
 * few input channels ({@link WeightGradient} transposes).
 *
 * <p>Up to {@link #SAMPLES} samples at a time, each channel's planes (output gradient and input) are copied
 * one after another into a row of whole vectors, zero-padded: {@code [channel][sample][position]}. A kernel
 * then runs one flat loop over the row, 4 output channels x 4 input channels of accumulators in registers, so
 * that its fixed cost (adding the accumulators to the call's vector scratch) is spread over all the samples.
 * The scratch is reduced across lanes once per call.
 */
final class PointwiseWeightGradient {
  /** Output positions below which the transposing kernels ({@link WeightGradient}) are faster. */
  static final int MIN_POSITIONS = 8 * V;
  /** Samples per row of the copies. */
  static final int SAMPLES = 4;

  private final ConvGeometry g;
  private final PaddedLayout layout;
  private final int icpg;
  private final int ocpg;
  /** Output positions per plane. */
  private final int positions;
  /** Positions per plane rounded up to whole vectors: a sample's slot in a row. */
  private final int slot;
  /** Whether the input is read in place (stride 1), not through the padded layout. */
  private final boolean inPlace;
  private final ThreadLocal<Scratch> scratch;

  private static final class Scratch {
    /** One sample's strided input (the layout's read phase). */
    final float[] xp;
    /** The input rows, {@code [c][sample][slot]}; the cells past each plane stay zero. */
    final float[] xs;
    /** The output-gradient rows, {@code [oc][sample][slot]}; the cells past each plane stay zero. */
    final float[] gs;
    /** The call's accumulators, {@code [oc][c][lane]}. */
    final float[] acc;

    Scratch(int xpLength, int xsLength, int gsLength, int accLength) {
      xp = new float[xpLength];
      xs = new float[xsLength];
      gs = new float[gsLength];
      acc = new float[accLength];
    }
  }

  /** Whether {@code g} is a 1x1 convolution without padding whose output planes are large enough. */
  static boolean applies(ConvGeometry g) {
    return g.kernelH() == 1 && g.kernelW() == 1 && g.padTop() == 0 && g.padBottom() == 0 && g.padLeft() == 0
        && g.padRight() == 0 && g.outHeight() * g.outWidth() >= MIN_POSITIONS;
  }

  PointwiseWeightGradient(ConvGeometry g) {
    if (!applies(g)) {
      throw new IllegalArgumentException("not a 1x1 convolution without padding with large planes: " + g);
    }
    this.g = g;
    this.layout = PaddedLayout.of(g, 1);
    this.icpg = g.inChannelsPerGroup();
    this.ocpg = g.outChannelsPerGroup();
    this.positions = g.outHeight() * g.outWidth();
    this.slot = (positions + V - 1) / V * V;
    this.inPlace = g.strideH() == 1 && g.strideW() == 1;
    if (layout.wq != g.outWidth() || layout.hq != g.outHeight()) {
      throw new IllegalStateException("phase plane " + layout.hq + "x" + layout.wq + " is not the output plane "
          + g.outHeight() + "x" + g.outWidth());
    }
    int xpLength = inPlace ? 0 : g.inChannels() * layout.channelStride;
    int xsLength = g.inChannels() * SAMPLES * slot;
    int gsLength = g.outChannels() * SAMPLES * slot;
    int accLength = g.outChannels() * icpg * V;
    this.scratch = ThreadLocal.withInitial(() -> new Scratch(xpLength, xsLength, gsLength, accLength));
  }

  /**
   * Adds the weight gradient of samples {@code [from, to)} to {@code gw} and their bias gradient to
   * {@code gb} (if not null); sample {@code i} is at {@code x[i * xStride..]} and {@code gy[i * gyStride..]}.
   */
  void accumulate(float[] x, int xStride, float[] gy, int gyStride, int from, int to, float[] gw, float[] gb) {
    Scratch s = scratch.get();
    float[] acc = s.acc;
    java.util.Arrays.fill(acc, 0f);
    int plane = positions;
    int row = SAMPLES * slot;
    for (int i0 = from; i0 < to; i0 += SAMPLES) {
      int count = Math.min(SAMPLES, to - i0);
      for (int k = 0; k < count; k++) {
        int i = i0 + k;
        float[] src = x;
        int xBase = i * xStride;
        int channelStride = plane;
        if (!inPlace) {
          layout.pad(x, i * xStride, 0, g.inChannels(), s.xp);
          src = s.xp;
          xBase = layout.offset(0, 0);
          channelStride = layout.channelStride;
        }
        for (int c = 0; c < g.inChannels(); c++) {
          System.arraycopy(src, xBase + c * channelStride, s.xs, c * row + k * slot, plane);
        }
        int gyBase = i * gyStride;
        for (int oc = 0; oc < g.outChannels(); oc++) {
          System.arraycopy(gy, gyBase + oc * plane, s.gs, oc * row + k * slot, plane);
          if (gb != null) {
            gb[oc] += (float) SimdPlaneLoops.total(gy, gyBase + oc * plane, gyBase + (oc + 1) * plane);
          }
        }
      }
      int length = count * slot;
      for (int grp = 0; grp < g.groups(); grp++) {
        int xGroup = grp * icpg * row;
        int o0 = grp * ocpg;
        int oEnd = o0 + ocpg;
        for (; o0 + 4 <= oEnd; o0 += 4) {
          int c = 0;
          for (; c + 4 <= icpg; c += 4) {
            kernel4x4(s.xs, xGroup + c * row, s.gs, o0 * row, length, acc, (o0 * icpg + c) * V);
          }
          for (; c < icpg; c++) {
            kernel4x1(s.xs, xGroup + c * row, s.gs, o0 * row, length, acc, (o0 * icpg + c) * V);
          }
        }
        for (; o0 < oEnd; o0++) {
          for (int c = 0; c < icpg; c++) {
            kernel1x1(s.xs, xGroup + c * row, s.gs, o0 * row, length, acc, (o0 * icpg + c) * V);
          }
        }
      }
    }
    for (int j = 0; j < gw.length; j++) {
      gw[j] += FloatVector.fromArray(SPECIES, acc, j * V).reduceLanes(VectorOperators.ADD);
    }
  }

  /** {@code acc[at..at + V) += a}. */
  private static void add(FloatVector a, float[] acc, int at) {
    a.add(FloatVector.fromArray(SPECIES, acc, at)).intoArray(acc, at);
  }

  /**
   * Output-gradient rows {@code 0..3} (at {@code gs[gAt + k * row]}) times input rows {@code 0..3} (at
   * {@code xs[xAt + j * row]}) over {@code length} positions; adds to {@code acc[at + (k * icpg + j) * V]}.
   */
  private void kernel4x4(float[] xs, int xAt, float[] gs, int gAt, int length, float[] acc, int at) {
    int row = SAMPLES * slot;
    int x0 = xAt;
    int x1 = xAt + row;
    int x2 = xAt + 2 * row;
    int x3 = xAt + 3 * row;
    int g0 = gAt;
    int g1 = gAt + row;
    int g2 = gAt + 2 * row;
    int g3 = gAt + 3 * row;
    FloatVector z = FloatVector.zero(SPECIES);
    FloatVector a00 = z;
    FloatVector a01 = z;
    FloatVector a02 = z;
    FloatVector a03 = z;
    FloatVector a10 = z;
    FloatVector a11 = z;
    FloatVector a12 = z;
    FloatVector a13 = z;
    FloatVector a20 = z;
    FloatVector a21 = z;
    FloatVector a22 = z;
    FloatVector a23 = z;
    FloatVector a30 = z;
    FloatVector a31 = z;
    FloatVector a32 = z;
    FloatVector a33 = z;
    for (int p = 0; p < length; p += V) {
      FloatVector y0 = FloatVector.fromArray(SPECIES, gs, g0 + p);
      FloatVector y1 = FloatVector.fromArray(SPECIES, gs, g1 + p);
      FloatVector y2 = FloatVector.fromArray(SPECIES, gs, g2 + p);
      FloatVector y3 = FloatVector.fromArray(SPECIES, gs, g3 + p);
      FloatVector v = FloatVector.fromArray(SPECIES, xs, x0 + p);
      a00 = y0.fma(v, a00);
      a10 = y1.fma(v, a10);
      a20 = y2.fma(v, a20);
      a30 = y3.fma(v, a30);
      v = FloatVector.fromArray(SPECIES, xs, x1 + p);
      a01 = y0.fma(v, a01);
      a11 = y1.fma(v, a11);
      a21 = y2.fma(v, a21);
      a31 = y3.fma(v, a31);
      v = FloatVector.fromArray(SPECIES, xs, x2 + p);
      a02 = y0.fma(v, a02);
      a12 = y1.fma(v, a12);
      a22 = y2.fma(v, a22);
      a32 = y3.fma(v, a32);
      v = FloatVector.fromArray(SPECIES, xs, x3 + p);
      a03 = y0.fma(v, a03);
      a13 = y1.fma(v, a13);
      a23 = y2.fma(v, a23);
      a33 = y3.fma(v, a33);
    }
    int r = icpg * V;
    add(a00, acc, at);
    add(a01, acc, at + V);
    add(a02, acc, at + 2 * V);
    add(a03, acc, at + 3 * V);
    add(a10, acc, at + r);
    add(a11, acc, at + r + V);
    add(a12, acc, at + r + 2 * V);
    add(a13, acc, at + r + 3 * V);
    add(a20, acc, at + 2 * r);
    add(a21, acc, at + 2 * r + V);
    add(a22, acc, at + 2 * r + 2 * V);
    add(a23, acc, at + 2 * r + 3 * V);
    add(a30, acc, at + 3 * r);
    add(a31, acc, at + 3 * r + V);
    add(a32, acc, at + 3 * r + 2 * V);
    add(a33, acc, at + 3 * r + 3 * V);
  }

  /** As {@link #kernel4x4} for one input row. */
  private void kernel4x1(float[] xs, int xAt, float[] gs, int gAt, int length, float[] acc, int at) {
    int row = SAMPLES * slot;
    FloatVector z = FloatVector.zero(SPECIES);
    FloatVector a0 = z;
    FloatVector a1 = z;
    FloatVector a2 = z;
    FloatVector a3 = z;
    for (int p = 0; p < length; p += V) {
      FloatVector v = FloatVector.fromArray(SPECIES, xs, xAt + p);
      a0 = FloatVector.fromArray(SPECIES, gs, gAt + p).fma(v, a0);
      a1 = FloatVector.fromArray(SPECIES, gs, gAt + row + p).fma(v, a1);
      a2 = FloatVector.fromArray(SPECIES, gs, gAt + 2 * row + p).fma(v, a2);
      a3 = FloatVector.fromArray(SPECIES, gs, gAt + 3 * row + p).fma(v, a3);
    }
    int r = icpg * V;
    add(a0, acc, at);
    add(a1, acc, at + r);
    add(a2, acc, at + 2 * r);
    add(a3, acc, at + 3 * r);
  }

  /** One output-gradient row times one input row. */
  private void kernel1x1(float[] xs, int xAt, float[] gs, int gAt, int length, float[] acc, int at) {
    FloatVector a = FloatVector.zero(SPECIES);
    FloatVector b = a;
    int p = 0;
    // Two accumulators over alternate vectors, so that consecutive multiply-adds are independent.
    for (; p + V < length; p += 2 * V) {
      a = FloatVector.fromArray(SPECIES, gs, gAt + p).fma(FloatVector.fromArray(SPECIES, xs, xAt + p), a);
      b = FloatVector.fromArray(SPECIES, gs, gAt + p + V).fma(FloatVector.fromArray(SPECIES, xs, xAt + p + V), b);
    }
    if (p < length) {
      a = FloatVector.fromArray(SPECIES, gs, gAt + p).fma(FloatVector.fromArray(SPECIES, xs, xAt + p), a);
    }
    add(a.add(b), acc, at);
  }
}
