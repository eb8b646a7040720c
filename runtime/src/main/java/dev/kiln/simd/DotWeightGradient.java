package dev.kiln.simd;

import static dev.kiln.simd.VectorShape.SPECIES;
import static dev.kiln.simd.VectorShape.LANES;

import dev.kiln.nn.ConvGeometry;
import jdk.incubator.vector.FloatVector;

/**
 * The weight gradient as dot products over output positions, vectorized over positions:
 * {@code gw[oc][c, tap] += sum_p gy[oc][p] * xpad[c][p + tapOffset]}, with positions {@code p} the virtual
 * rows of the padded layout ({@code oh * Wq + ow}; the output gradient is zero at the junk columns). No
 * transposition of the output gradient, which {@link WeightGradient} needs for vectors over output channels
 * and which costs about as much as the multiply-adds when a layer has few (input channel, tap) columns.
 *
 * <p>Up to {@link #SAMPLES} samples at a time, each channel's padded input and each output channel's gradient
 * (in virtual rows) are copied one sample after another into a row of fixed-size, zero-padded slots:
 * {@code [channel][sample][slot]}. A kernel then runs one flat loop over the row, 4 output channels x 4 columns
 * of accumulators in registers, so that its fixed cost (adding the accumulators to the call's vector scratch)
 * is spread over all the samples; a column's input is read at its tap's offset, past the slot's end only where
 * the gradient is zero. The scratch is reduced across lanes once per call.
 */
final class DotWeightGradient {
  /** Samples per row of the copies. */
  static final int SAMPLES = 4;

  private final ConvGeometry geometry;
  private final PaddedLayout layout;
  private final int inGroupChannels;
  private final int outGroupChannels;
  /** (input channel, tap) columns per group. */
  private final int columns;
  /** Each column's input channel within its group. */
  private final int[] colChannel;
  /** Each column's tap offset within its channel's padded input. */
  private final int[] colTap;
  /** Virtual positions up to the last output position, junk columns included. */
  private final int span;
  /**
   * Floats per sample in a row: the part of a padded channel that columns read (or the virtual positions, if
   * more), rounded up to whole vectors.
   */
  private final int slot;
  /** Floats per row: {@link #SAMPLES} slots and room for the largest tap offset past the last. */
  private final int row;
  /** The part of each padded channel that some column reads: {@code [0, readTo)} (tap (0, 0) is at 0). */
  private final int readTo;
  /** The largest tap offset. */
  private final int maxTap;
  /** Whether the padded input is the input itself (no padding, stride 1): copied straight from it. */
  private final boolean inPlace;
  private final ThreadLocal<Scratch> scratch;

  private static final class Scratch {
    /** One sample's padded input. */
    final float[] paddedX;
    /** The padded input rows, {@code [c][sample][slot]}. */
    final float[] xs;
    /** The output-gradient rows in virtual positions, {@code [oc][sample][slot]}; other cells stay zero. */
    final float[] gs;
    /** The call's accumulators, {@code [oc][column][lane]}. */
    final float[] acc;

    Scratch(int xpLength, int xsLength, int gsLength, int accLength) {
      paddedX = new float[xpLength];
      xs = new float[xsLength];
      gs = new float[gsLength];
      acc = new float[accLength];
    }
  }

  /**
   * This weight gradient for {@code g} where it is likely faster than {@link WeightGradient}, else null: layers
   * whose gradient transposition costs about as much as their multiply-adds (few columns per output channel),
   * with output planes long enough for vectors of positions and slots that are mostly gradient (a strided kxk
   * layer reads several phase planes per sample). The system property {@code kiln.simd.dot} ({@code auto},
   * {@code on}, {@code off}) overrides this for tests and measurements.
   */
  static DotWeightGradient forLayer(ConvGeometry geometry) {
    String mode = System.getProperty("kiln.simd.dot", "auto");
    if (mode.equals("on") || mode.equals("off")) {
      return mode.equals("on") ? new DotWeightGradient(geometry) : null;
    }
    int columns = geometry.inChannelsPerGroup() * geometry.kernelH() * geometry.kernelW();
    if (geometry.outHeight() * geometry.outWidth() < 8 * LANES || columns > 32 && geometry.kernelH() * geometry.kernelW() > 1) {
      return null;
    }
    DotWeightGradient d = new DotWeightGradient(geometry);
    return d.slot <= 1.25 * d.span ? d : null;
  }

  private DotWeightGradient(ConvGeometry geometry) {
    this.geometry = geometry;
    this.layout = PaddedLayout.of(geometry, 1);
    this.inGroupChannels = geometry.inChannelsPerGroup();
    this.outGroupChannels = geometry.outChannelsPerGroup();
    int taps = geometry.kernelH() * geometry.kernelW();
    this.columns = inGroupChannels * taps;
    int[] offsets = layout.tapOffsets(geometry);
    this.colChannel = new int[columns];
    this.colTap = new int[columns];
    int maxTap = 0;
    for (int col = 0; col < columns; col++) {
      colChannel[col] = col / taps;
      colTap[col] = offsets[col] - colChannel[col] * layout.channelStride;
      maxTap = Math.max(maxTap, colTap[col]);
    }
    this.maxTap = maxTap;
    this.span = (geometry.outHeight() - 1) * layout.rowPitch + geometry.outWidth();
    this.readTo = Math.min(layout.channelStride, maxTap + span);
    this.slot = (Math.max(readTo, span) + LANES - 1) / LANES * LANES;
    this.row = SAMPLES * slot + (maxTap + LANES - 1) / LANES * LANES;
    this.inPlace = geometry.padTop() == 0 && geometry.padBottom() == 0 && geometry.padLeft() == 0 && geometry.padRight() == 0
        && geometry.strideH() == 1 && geometry.strideW() == 1;
    // Padding copies whole vectors and may run past the last channel (as in WeightGradient).
    int xpLength = inPlace ? 0 : geometry.inChannels() * layout.channelStride + maxTap + span + LANES;
    int xsLength = geometry.inChannels() * row;
    int gsLength = geometry.outChannels() * row;
    int accLength = geometry.outChannels() * columns * LANES;
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
    int plane = geometry.outHeight() * geometry.outWidth();
    int outW = geometry.outWidth();
    int rowPitch = layout.rowPitch;
    int inPlane = geometry.inHeight() * geometry.inWidth();
    for (int i0 = from; i0 < to; i0 += SAMPLES) {
      int count = Math.min(SAMPLES, to - i0);
      for (int k = 0; k < count; k++) {
        int i = i0 + k;
        if (inPlace) {
          for (int c = 0; c < geometry.inChannels(); c++) {
            System.arraycopy(x, i * xStride + c * inPlane, s.xs, c * row + k * slot, readTo);
          }
        } else {
          layout.pad(x, i * xStride, 0, geometry.inChannels(), s.paddedX);
          // Only the cells some column reads; the others stay zero.
          for (int c = 0; c < geometry.inChannels(); c++) {
            System.arraycopy(s.paddedX, c * layout.channelStride, s.xs, c * row + k * slot, readTo);
          }
        }
        int gyBase = i * gyStride;
        for (int oc = 0; oc < geometry.outChannels(); oc++) {
          int src = gyBase + oc * plane;
          int dst = oc * row + k * slot;
          if (rowPitch == outW) {
            System.arraycopy(gy, src, s.gs, dst, plane);
          } else {
            // Virtual rows: the junk columns are never written and stay zero.
            for (int oh = 0; oh < geometry.outHeight(); oh++) {
              System.arraycopy(gy, src + oh * outW, s.gs, dst + oh * rowPitch, outW);
            }
          }
          if (gb != null) {
            gb[oc] += (float) SimdPlaneLoops.total(gy, src, src + plane);
          }
        }
      }
      if (count < SAMPLES) {
        // Past the last sample the kernels read up to the largest tap offset into the next slot, where the
        // gradient is zero: clear what an earlier call left there, so that it cannot make 0 * NaN.
        for (int c = 0; c < geometry.inChannels(); c++) {
          int at = c * row + count * slot;
          java.util.Arrays.fill(s.xs, at, at + Math.min(slot, maxTap + LANES), 0f);
        }
      }
      int length = count * slot;
      for (int grp = 0; grp < geometry.groups(); grp++) {
        int xGroup = grp * inGroupChannels * row;
        int o0 = grp * outGroupChannels;
        int oEnd = o0 + outGroupChannels;
        for (; o0 + 4 <= oEnd; o0 += 4) {
          int col = 0;
          for (; col + 4 <= columns; col += 4) {
            kernel4x4(s.xs, xAt(xGroup, col), xAt(xGroup, col + 1), xAt(xGroup, col + 2), xAt(xGroup, col + 3),
                s.gs, o0 * row, length, acc, (o0 * columns + col) * LANES);
          }
          for (; col < columns; col++) {
            kernel4x1(s.xs, xAt(xGroup, col), s.gs, o0 * row, length, acc, (o0 * columns + col) * LANES);
          }
        }
        for (; o0 < oEnd; o0++) {
          for (int col = 0; col < columns; col++) {
            kernel1x1(s.xs, xAt(xGroup, col), s.gs, o0 * row, length, acc, (o0 * columns + col) * LANES);
          }
        }
      }
    }
    for (int j = 0; j < gw.length; j++) {
      gw[j] += VectorShape.sumLanes(FloatVector.fromArray(SPECIES, acc, j * LANES));
    }
  }

  /** Where column {@code col} of the group whose rows start at {@code xGroup} reads its input. */
  private int xAt(int xGroup, int col) {
    return xGroup + colChannel[col] * row + colTap[col];
  }

  /** {@code acc[at..at + LANES) += a}. */
  private static void add(FloatVector a, float[] acc, int at) {
    a.add(FloatVector.fromArray(SPECIES, acc, at)).intoArray(acc, at);
  }

  /**
   * Output-gradient rows {@code 0..3} (at {@code gs[gAt + k * row]}) times the input at {@code xs[x0..]} to
   * {@code xs[x3..]} (columns {@code 0..3}) over {@code length} positions; adds to
   * {@code acc[at + (k * columns + j) * LANES]}.
   */
  private void kernel4x4(float[] xs, int x0, int x1, int x2, int x3, float[] gs, int gAt, int length, float[] acc,
      int at) {
    int row = this.row;
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
    for (int p = 0; p < length; p += LANES) {
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
    int r = columns * LANES;
    add(a00, acc, at);
    add(a01, acc, at + LANES);
    add(a02, acc, at + 2 * LANES);
    add(a03, acc, at + 3 * LANES);
    add(a10, acc, at + r);
    add(a11, acc, at + r + LANES);
    add(a12, acc, at + r + 2 * LANES);
    add(a13, acc, at + r + 3 * LANES);
    add(a20, acc, at + 2 * r);
    add(a21, acc, at + 2 * r + LANES);
    add(a22, acc, at + 2 * r + 2 * LANES);
    add(a23, acc, at + 2 * r + 3 * LANES);
    add(a30, acc, at + 3 * r);
    add(a31, acc, at + 3 * r + LANES);
    add(a32, acc, at + 3 * r + 2 * LANES);
    add(a33, acc, at + 3 * r + 3 * LANES);
  }

  /** As {@link #kernel4x4} for one column. */
  private void kernel4x1(float[] xs, int xAt, float[] gs, int gAt, int length, float[] acc, int at) {
    int row = this.row;
    FloatVector z = FloatVector.zero(SPECIES);
    FloatVector a0 = z;
    FloatVector a1 = z;
    FloatVector a2 = z;
    FloatVector a3 = z;
    for (int p = 0; p < length; p += LANES) {
      FloatVector v = FloatVector.fromArray(SPECIES, xs, xAt + p);
      a0 = FloatVector.fromArray(SPECIES, gs, gAt + p).fma(v, a0);
      a1 = FloatVector.fromArray(SPECIES, gs, gAt + row + p).fma(v, a1);
      a2 = FloatVector.fromArray(SPECIES, gs, gAt + 2 * row + p).fma(v, a2);
      a3 = FloatVector.fromArray(SPECIES, gs, gAt + 3 * row + p).fma(v, a3);
    }
    int r = columns * LANES;
    add(a0, acc, at);
    add(a1, acc, at + r);
    add(a2, acc, at + 2 * r);
    add(a3, acc, at + 3 * r);
  }

  /** One output-gradient row times one column. */
  private void kernel1x1(float[] xs, int xAt, float[] gs, int gAt, int length, float[] acc, int at) {
    FloatVector a = FloatVector.zero(SPECIES);
    FloatVector b = a;
    int p = 0;
    // Two accumulators over alternate vectors, so that consecutive multiply-adds are independent.
    for (; p + LANES < length; p += 2 * LANES) {
      a = FloatVector.fromArray(SPECIES, gs, gAt + p).fma(FloatVector.fromArray(SPECIES, xs, xAt + p), a);
      b = FloatVector.fromArray(SPECIES, gs, gAt + p + LANES).fma(FloatVector.fromArray(SPECIES, xs, xAt + p + LANES), b);
    }
    if (p < length) {
      a = FloatVector.fromArray(SPECIES, gs, gAt + p).fma(FloatVector.fromArray(SPECIES, xs, xAt + p), a);
    }
    add(a.add(b), acc, at);
  }
}
