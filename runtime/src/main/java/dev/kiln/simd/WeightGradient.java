package dev.kiln.simd;

import static dev.kiln.simd.Lanes.SPECIES;
import static dev.kiln.simd.Lanes.V;

import dev.kiln.nn.ConvGeometry;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * One sample's weight gradient as a matrix product over output positions:
 * {@code gw[oc][c, tap] += sum_p gy[oc][p] * xpad[c][p + tapOffset]}, vectorized over output channels.
 * The output gradient is transposed per sample to {@code [position][channel]} so that a kernel of
 * {@link #COLS} (input channel, tap) columns times {@code 1..2} vectors of output channels keeps its
 * accumulators in registers over all positions and broadcasts the padded input. With fewer output
 * channels per group than a vector (depthwise), it vectorizes over positions instead.
 */
final class WeightGradient {
  /** (input channel, tap) columns per kernel call. */
  static final int COLS = 8;

  private final ConvGeometry g;
  private final PaddedLayout layout;
  private final int icpg;
  private final int ocpg;
  private final int taps;
  private final int columns;
  /** Output-channel vectors per kernel call: 1 or 2. */
  private final int ocVectors;
  /** Row length of the transposed output gradient: output channels per group rounded up. */
  private final int ocPad;
  /** Offset of each (input channel, tap) column from its group's first padded channel; padded to COLS. */
  private final int[] colOff;
  private final int xpLength;
  /** The virtual position ({@code oh * Wq + ow}) of every output position, in order. */
  private final int[] positions;
  /** Vectorize over output channels (at least a vector per group), else over positions. */
  private final boolean byChannel;
  /** Vectors of virtual positions (for the by-position kernels). */
  private final int vectors;
  private final ThreadLocal<Scratch> scratch;

  private static final class Scratch {
    final float[] xp;
    final float[] gyT;
    final float[] lanes = new float[V];

    /** One output-gradient plane in virtual rows; junk columns are never written and stay zero. */
    final float[] gyv;

    Scratch(int xpLength, int gyTLength, int gyvLength) {
      xp = new float[xpLength];
      gyT = new float[gyTLength];
      gyv = new float[gyvLength];
    }
  }


  WeightGradient(ConvGeometry g) {
    this.g = g;
    this.layout = PaddedLayout.of(g, 1);
    this.icpg = g.inChannelsPerGroup();
    this.ocpg = g.outChannelsPerGroup();
    this.taps = g.kernelH() * g.kernelW();
    this.columns = icpg * taps;
    this.ocVectors = ocpg >= 2 * V ? 2 : 1;
    int step = ocVectors * V;
    this.ocPad = (ocpg + step - 1) / step * step;
    int padded = (columns + COLS - 1) / COLS * COLS;
    this.colOff = new int[padded];
    int maxOff = 0;
    for (int c = 0; c < icpg; c++) {
      for (int kh = 0; kh < g.kernelH(); kh++) {
        for (int kw = 0; kw < g.kernelW(); kw++) {
          int off = c * layout.channelStride + layout.offset(kh * g.dilationH(), kw * g.dilationW());
          colOff[(c * g.kernelH() + kh) * g.kernelW() + kw] = off;
          maxOff = Math.max(maxOff, off);
        }
      }
    }
    this.positions = new int[g.outHeight() * g.outWidth()];
    for (int oh = 0; oh < g.outHeight(); oh++) {
      for (int ow = 0; ow < g.outWidth(); ow++) {
        positions[oh * g.outWidth() + ow] = oh * layout.wq + ow;
      }
    }
    int span = (g.outHeight() - 1) * layout.wq + g.outWidth();
    this.xpLength = g.inChannels() * layout.channelStride + maxOff + span + V;
    this.byChannel = ocpg >= V;
    this.vectors = (span + V - 1) / V;
    int gyTLength = byChannel ? g.groups() * g.outHeight() * g.outWidth() * ocPad : 0;
    int gyvLength = byChannel ? 0 : vectors * V;
    this.scratch = ThreadLocal.withInitial(() -> new Scratch(xpLength, gyTLength, gyvLength));
  }

  /** Adds one sample's weight gradient to {@code gw} and bias gradient to {@code gb} (if not null). */
  void accumulate(float[] x, int xOff, float[] gy, int gyOff, float[] gw, float[] gb) {
    Scratch s = scratch.get();
    float[] xp = s.xp;
    float[] gyT = s.gyT;
    layout.pad(x, xOff, 0, g.inChannels(), xp);
    if (!byChannel) {
      accumulateByPosition(s, gy, gyOff, gw, gb);
      return;
    }
    int outPlane = g.outHeight() * g.outWidth();
    int groups = g.groups();
    for (int oc = 0; oc < g.outChannels(); oc++) {
      int grp = oc / ocpg;
      int col = oc - grp * ocpg;
      int src = gyOff + oc * outPlane;
      int dst = grp * outPlane * ocPad + col;
      float sum = 0f;
      for (int i = 0; i < outPlane; i++) {
        float v = gy[src + i];
        gyT[dst + i * ocPad] = v;
        sum += v;
      }
      if (gb != null) {
        gb[oc] += sum;
      }
    }
    float[] lanes = s.lanes;
    int step = ocVectors * V;
    for (int grp = 0; grp < groups; grp++) {
      int xBase = grp * icpg * layout.channelStride;
      int gyBase = grp * outPlane * ocPad;
      for (int o0 = 0; o0 < ocpg; o0 += step) {
        for (int c0 = 0; c0 < columns; c0 += COLS) {
          if (ocVectors == 2) {
            kernel8x2(xp, xBase, gyT, gyBase + o0, lanes, gw, grp * ocpg + o0, c0);
          } else {
            kernel8x1(xp, xBase, gyT, gyBase + o0, lanes, gw, grp * ocpg + o0, c0);
          }
        }
      }
    }
  }

  /**
   * For few output channels per group (depthwise): per output channel, vectors over the virtual positions
   * of its gradient plane, {@link #COLS} (input channel, tap) columns at a time, reduced across lanes.
   */
  private void accumulateByPosition(Scratch s, float[] gy, int gyOff, float[] gw, float[] gb) {
    float[] gyv = s.gyv;
    int outH = g.outHeight();
    int outW = g.outWidth();
    int wq = layout.wq;
    for (int oc = 0; oc < g.outChannels(); oc++) {
      int src = gyOff + oc * outH * outW;
      float sum = 0f;
      for (int r = 0; r < outH; r++) {
        for (int c = 0; c < outW; c++) {
          float v = gy[src + r * outW + c];
          gyv[r * wq + c] = v;
          sum += v;
        }
      }
      if (gb != null) {
        gb[oc] += sum;
      }
      int xBase = oc / ocpg * icpg * layout.channelStride;
      for (int c0 = 0; c0 < columns; c0 += COLS) {
        kernelPositions(s.xp, xBase, gyv, gw, oc * columns, c0);
      }
    }
  }

  private void kernelPositions(float[] xp, int xBase, float[] gyv, float[] gw, int gwBase, int c0) {
    int o0 = xBase + colOff[c0];
    int o1 = xBase + colOff[c0 + 1];
    int o2 = xBase + colOff[c0 + 2];
    int o3 = xBase + colOff[c0 + 3];
    int o4 = xBase + colOff[c0 + 4];
    int o5 = xBase + colOff[c0 + 5];
    int o6 = xBase + colOff[c0 + 6];
    int o7 = xBase + colOff[c0 + 7];
    FloatVector a0 = FloatVector.zero(SPECIES);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    FloatVector a4 = a0;
    FloatVector a5 = a0;
    FloatVector a6 = a0;
    FloatVector a7 = a0;
    int end = vectors * V;
    for (int p = 0; p < end; p += V) {
      FloatVector gv = FloatVector.fromArray(SPECIES, gyv, p);
      a0 = gv.fma(FloatVector.fromArray(SPECIES, xp, o0 + p), a0);
      a1 = gv.fma(FloatVector.fromArray(SPECIES, xp, o1 + p), a1);
      a2 = gv.fma(FloatVector.fromArray(SPECIES, xp, o2 + p), a2);
      a3 = gv.fma(FloatVector.fromArray(SPECIES, xp, o3 + p), a3);
      a4 = gv.fma(FloatVector.fromArray(SPECIES, xp, o4 + p), a4);
      a5 = gv.fma(FloatVector.fromArray(SPECIES, xp, o5 + p), a5);
      a6 = gv.fma(FloatVector.fromArray(SPECIES, xp, o6 + p), a6);
      a7 = gv.fma(FloatVector.fromArray(SPECIES, xp, o7 + p), a7);
    }
    addSum(a0, gw, gwBase, c0);
    addSum(a1, gw, gwBase, c0 + 1);
    addSum(a2, gw, gwBase, c0 + 2);
    addSum(a3, gw, gwBase, c0 + 3);
    addSum(a4, gw, gwBase, c0 + 4);
    addSum(a5, gw, gwBase, c0 + 5);
    addSum(a6, gw, gwBase, c0 + 6);
    addSum(a7, gw, gwBase, c0 + 7);
  }

  private void addSum(FloatVector acc, float[] gw, int gwBase, int col) {
    if (col < columns) {
      gw[gwBase + col] += acc.reduceLanes(VectorOperators.ADD);
    }
  }

  /** Adds the lanes of {@code acc} (output channels {@code oc0..}) to column {@code col} of {@code gw}. */
  private void add(FloatVector acc, float[] lanes, float[] gw, int oc0, int col) {
    if (col >= columns) {
      return;
    }
    acc.intoArray(lanes, 0);
    int end = Math.min(V, (oc0 / ocpg + 1) * ocpg - oc0);
    for (int l = 0; l < end; l++) {
      gw[(oc0 + l) * columns + col] += lanes[l];
    }
  }

  private void kernel8x2(float[] xp, int xBase, float[] gyT, int gyBase, float[] lanes, float[] gw, int oc0,
      int c0) {
    int o0 = xBase + colOff[c0];
    int o1 = xBase + colOff[c0 + 1];
    int o2 = xBase + colOff[c0 + 2];
    int o3 = xBase + colOff[c0 + 3];
    int o4 = xBase + colOff[c0 + 4];
    int o5 = xBase + colOff[c0 + 5];
    int o6 = xBase + colOff[c0 + 6];
    int o7 = xBase + colOff[c0 + 7];
    FloatVector z = FloatVector.zero(SPECIES);
    FloatVector a00 = z;
    FloatVector a01 = z;
    FloatVector a10 = z;
    FloatVector a11 = z;
    FloatVector a20 = z;
    FloatVector a21 = z;
    FloatVector a30 = z;
    FloatVector a31 = z;
    FloatVector a40 = z;
    FloatVector a41 = z;
    FloatVector a50 = z;
    FloatVector a51 = z;
    FloatVector a60 = z;
    FloatVector a61 = z;
    FloatVector a70 = z;
    FloatVector a71 = z;
    int[] positions = this.positions;
    int ocPad = this.ocPad;
    int s = gyBase;
    // One flat loop over the output positions: vectors carried across nested loops defeat the JIT.
    for (int i = 0; i < positions.length; i++, s += ocPad) {
      int p = positions[i];
      FloatVector g0 = FloatVector.fromArray(SPECIES, gyT, s);
      FloatVector g1 = FloatVector.fromArray(SPECIES, gyT, s + V);
      FloatVector x = FloatVector.broadcast(SPECIES, xp[o0 + p]);
      a00 = g0.fma(x, a00);
      a01 = g1.fma(x, a01);
      x = FloatVector.broadcast(SPECIES, xp[o1 + p]);
      a10 = g0.fma(x, a10);
      a11 = g1.fma(x, a11);
      x = FloatVector.broadcast(SPECIES, xp[o2 + p]);
      a20 = g0.fma(x, a20);
      a21 = g1.fma(x, a21);
      x = FloatVector.broadcast(SPECIES, xp[o3 + p]);
      a30 = g0.fma(x, a30);
      a31 = g1.fma(x, a31);
      x = FloatVector.broadcast(SPECIES, xp[o4 + p]);
      a40 = g0.fma(x, a40);
      a41 = g1.fma(x, a41);
      x = FloatVector.broadcast(SPECIES, xp[o5 + p]);
      a50 = g0.fma(x, a50);
      a51 = g1.fma(x, a51);
      x = FloatVector.broadcast(SPECIES, xp[o6 + p]);
      a60 = g0.fma(x, a60);
      a61 = g1.fma(x, a61);
      x = FloatVector.broadcast(SPECIES, xp[o7 + p]);
      a70 = g0.fma(x, a70);
      a71 = g1.fma(x, a71);
    }
    add(a00, lanes, gw, oc0, c0);
    add(a10, lanes, gw, oc0, c0 + 1);
    add(a20, lanes, gw, oc0, c0 + 2);
    add(a30, lanes, gw, oc0, c0 + 3);
    add(a40, lanes, gw, oc0, c0 + 4);
    add(a50, lanes, gw, oc0, c0 + 5);
    add(a60, lanes, gw, oc0, c0 + 6);
    add(a70, lanes, gw, oc0, c0 + 7);
    if (oc0 % ocpg + V < ocpg) {
      add(a01, lanes, gw, oc0 + V, c0);
      add(a11, lanes, gw, oc0 + V, c0 + 1);
      add(a21, lanes, gw, oc0 + V, c0 + 2);
      add(a31, lanes, gw, oc0 + V, c0 + 3);
      add(a41, lanes, gw, oc0 + V, c0 + 4);
      add(a51, lanes, gw, oc0 + V, c0 + 5);
      add(a61, lanes, gw, oc0 + V, c0 + 6);
      add(a71, lanes, gw, oc0 + V, c0 + 7);
    }
  }

  private void kernel8x1(float[] xp, int xBase, float[] gyT, int gyBase, float[] lanes, float[] gw, int oc0,
      int c0) {
    int o0 = xBase + colOff[c0];
    int o1 = xBase + colOff[c0 + 1];
    int o2 = xBase + colOff[c0 + 2];
    int o3 = xBase + colOff[c0 + 3];
    int o4 = xBase + colOff[c0 + 4];
    int o5 = xBase + colOff[c0 + 5];
    int o6 = xBase + colOff[c0 + 6];
    int o7 = xBase + colOff[c0 + 7];
    FloatVector a0 = FloatVector.zero(SPECIES);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    FloatVector a4 = a0;
    FloatVector a5 = a0;
    FloatVector a6 = a0;
    FloatVector a7 = a0;
    int[] positions = this.positions;
    int ocPad = this.ocPad;
    int s = gyBase;
    // One flat loop over the output positions: vectors carried across nested loops defeat the JIT.
    for (int i = 0; i < positions.length; i++, s += ocPad) {
      int p = positions[i];
      FloatVector g0 = FloatVector.fromArray(SPECIES, gyT, s);
      a0 = g0.fma(FloatVector.broadcast(SPECIES, xp[o0 + p]), a0);
      a1 = g0.fma(FloatVector.broadcast(SPECIES, xp[o1 + p]), a1);
      a2 = g0.fma(FloatVector.broadcast(SPECIES, xp[o2 + p]), a2);
      a3 = g0.fma(FloatVector.broadcast(SPECIES, xp[o3 + p]), a3);
      a4 = g0.fma(FloatVector.broadcast(SPECIES, xp[o4 + p]), a4);
      a5 = g0.fma(FloatVector.broadcast(SPECIES, xp[o5 + p]), a5);
      a6 = g0.fma(FloatVector.broadcast(SPECIES, xp[o6 + p]), a6);
      a7 = g0.fma(FloatVector.broadcast(SPECIES, xp[o7 + p]), a7);
    }
    add(a0, lanes, gw, oc0, c0);
    add(a1, lanes, gw, oc0, c0 + 1);
    add(a2, lanes, gw, oc0, c0 + 2);
    add(a3, lanes, gw, oc0, c0 + 3);
    add(a4, lanes, gw, oc0, c0 + 4);
    add(a5, lanes, gw, oc0, c0 + 5);
    add(a6, lanes, gw, oc0, c0 + 6);
    add(a7, lanes, gw, oc0, c0 + 7);
  }
}
