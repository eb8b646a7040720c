package dev.kiln.simd;

import static dev.kiln.simd.Lanes.SPECIES;
import static dev.kiln.simd.Lanes.V;

import dev.kiln.nn.ConvGeometry;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Direct convolution of one sample over a {@link PaddedLayout}: a register-blocked kernel computes
 * {@link #OB} output channels times a few vectors of virtual output positions, broadcasting weights that
 * were packed as {@code [group][channel block][in channel][tap][OB]}, loading each input vector once per
 * tap and reusing it across the channel block. Results go to a per-thread scratch plane per channel
 * (virtual rows of width {@code Wq}) and are then copied row by row into the compact output.
 * Depthwise-like layers (fewer than {@code OB} output channels per group) use single-channel kernels over
 * more vectors.
 */
final class DirectConv {
  /** Output channels per block of the wide kernels. */
  static final int OB = 8;

  private final ConvGeometry g;
  private final boolean relu;
  final PaddedLayout layout;
  private final int icpg;
  private final int ocpg;
  private final int taps;
  /** Output channels per block: {@link #OB} or 1. */
  private final int ob;
  private final int blocksPerGroup;
  /** Offset of (input channel of the group, tap) from the group's first padded channel. */
  private final int[] offs;
  /** Virtual output positions rounded up to whole vectors: one scratch plane. */
  private final int planeV;
  private final int vectors;
  private final int outPlane;
  private final int xpLength;
  private final ThreadLocal<Scratch> scratch;

  /** A thread's buffers: the padded input and the output planes of one channel block. */
  private static final class Scratch {
    final float[] xp;
    final float[] ys;

    Scratch(int xpLength, int ysLength) {
      xp = new float[xpLength];
      ys = new float[ysLength];
    }
  }

  /** Weights packed for this plan, with the arrays they were packed from. */
  static final class Packed {
    final float[] wp;
    final float[] bp;

    Packed(float[] wp, float[] bp) {
      this.wp = wp;
      this.bp = bp;
    }
  }

  DirectConv(ConvGeometry g, boolean relu) {
    this.g = g;
    this.relu = relu;
    this.layout = new PaddedLayout(g.inChannels(), g.inHeight(), g.inWidth(), g.strideH(), g.strideW(),
        g.padTop(), g.padBottom(), g.padLeft(), g.padRight(), g.paddingMode());
    this.icpg = g.inChannelsPerGroup();
    this.ocpg = g.outChannelsPerGroup();
    this.taps = g.kernelH() * g.kernelW();
    this.ob = ocpg >= OB ? OB : 1;
    this.blocksPerGroup = (ocpg + ob - 1) / ob;
    int[] tapOff = new int[taps];
    int maxTap = 0;
    for (int kh = 0; kh < g.kernelH(); kh++) {
      for (int kw = 0; kw < g.kernelW(); kw++) {
        int t = layout.offset(kh * g.dilationH(), kw * g.dilationW());
        tapOff[kh * g.kernelW() + kw] = t;
        maxTap = Math.max(maxTap, t);
      }
    }
    this.offs = new int[icpg * taps];
    for (int c = 0; c < icpg; c++) {
      for (int t = 0; t < taps; t++) {
        offs[c * taps + t] = c * layout.channelStride + tapOff[t];
      }
    }
    int positions = (g.outHeight() - 1) * layout.wq + g.outWidth();
    this.vectors = (positions + V - 1) / V;
    this.planeV = vectors * V;
    this.outPlane = g.outHeight() * g.outWidth();
    this.xpLength = g.inChannels() * layout.channelStride + maxTap + planeV + V;
    int ysLength = ob * planeV;
    this.scratch = ThreadLocal.withInitial(() -> new Scratch(xpLength, ysLength));
  }

  /** Output channels per block. */
  int channelBlock() {
    return ob;
  }

  /** Packs {@code w [out, in/groups, kH, kW]} and {@code b} (or null). */
  Packed pack(float[] w, float[] b) {
    int groups = g.groups();
    int k = icpg * taps;
    float[] wp = new float[groups * blocksPerGroup * k * ob];
    float[] bp = new float[groups * blocksPerGroup * ob];
    for (int grp = 0; grp < groups; grp++) {
      for (int blk = 0; blk < blocksPerGroup; blk++) {
        int block = grp * blocksPerGroup + blk;
        for (int j = 0; j < ob; j++) {
          int oc = blk * ob + j;
          if (oc >= ocpg) {
            continue;
          }
          oc += grp * ocpg;
          if (b != null) {
            bp[block * ob + j] = b[oc];
          }
          int src = oc * k;
          int dst = block * k * ob + j;
          for (int i = 0; i < k; i++) {
            wp[dst + i * ob] = w[src + i];
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
    float[] xp = s.xp;
    float[] ys = s.ys;
    int g0 = ocStart / ocpg;
    int g1 = (ocEnd - 1) / ocpg;
    layout.pad(x, xOff, g0 * icpg, (g1 + 1) * icpg, xp);
    int k = icpg * taps;
    int outH = g.outHeight();
    int outW = g.outWidth();
    int wq = layout.wq;
    for (int grp = g0; grp <= g1; grp++) {
      int first = grp * ocpg;
      int lo = Math.max(ocStart, first);
      int hi = Math.min(ocEnd, first + ocpg);
      int xBase = grp * icpg * layout.channelStride;
      for (int blk = (lo - first) / ob; blk * ob < hi - first; blk++) {
        int block = grp * blocksPerGroup + blk;
        computeBlock(xp, xBase, k, pw.wp, block * k * ob, pw.bp, block * ob, ys);
        int blockStart = first + blk * ob;
        int from = Math.max(lo, blockStart);
        int to = Math.min(hi, blockStart + ob);
        for (int oc = from; oc < to; oc++) {
          int src = (oc - blockStart) * planeV;
          int dst = yOff + oc * outPlane;
          if (wq == outW) {
            System.arraycopy(ys, src, y, dst, outPlane);
          } else {
            for (int r = 0; r < outH; r++) {
              System.arraycopy(ys, src + r * wq, y, dst + r * outW, outW);
            }
          }
        }
      }
    }
  }

  private void computeBlock(float[] xp, int xBase, int k, float[] wp, int wo, float[] bp, int bo,
      float[] ys) {
    int v = 0;
    if (ob == OB) {
      for (; v + 3 <= vectors; v += 3) {
        kernel8x3(xp, xBase + v * V, offs, k, wp, wo, bp, bo, ys, v * V, planeV, relu);
      }
      for (; v < vectors; v++) {
        kernel8x1(xp, xBase + v * V, offs, k, wp, wo, bp, bo, ys, v * V, planeV, relu);
      }
    } else {
      for (; v + 4 <= vectors; v += 4) {
        kernel1x4(xp, xBase + v * V, offs, k, wp, wo, bp[bo], ys, v * V, relu);
      }
      for (; v < vectors; v++) {
        kernel1x1(xp, xBase + v * V, offs, k, wp, wo, bp[bo], ys, v * V, relu);
      }
    }
  }

  private static FloatVector finish(FloatVector a, boolean relu) {
    return relu ? a.lanewise(VectorOperators.MAX, 0f) : a;
  }

  /** 8 channels x 3 vectors of positions starting at virtual position {@code p}. */
  private static void kernel8x3(float[] xp, int p, int[] offs, int n, float[] wp, int wo, float[] bp, int bo,
      float[] ys, int yo, int ps, boolean relu) {
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
    for (int i = 0; i < n; i++) {
      int o = p + offs[i];
      FloatVector x0 = FloatVector.fromArray(SPECIES, xp, o);
      FloatVector x1 = FloatVector.fromArray(SPECIES, xp, o + V);
      FloatVector x2 = FloatVector.fromArray(SPECIES, xp, o + 2 * V);
      int q = wo + i * OB;
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
    finish(a00, relu).intoArray(ys, yo);
    finish(a01, relu).intoArray(ys, yo + V);
    finish(a02, relu).intoArray(ys, yo + 2 * V);
    finish(a10, relu).intoArray(ys, yo + ps);
    finish(a11, relu).intoArray(ys, yo + ps + V);
    finish(a12, relu).intoArray(ys, yo + ps + 2 * V);
    finish(a20, relu).intoArray(ys, yo + 2 * ps);
    finish(a21, relu).intoArray(ys, yo + 2 * ps + V);
    finish(a22, relu).intoArray(ys, yo + 2 * ps + 2 * V);
    finish(a30, relu).intoArray(ys, yo + 3 * ps);
    finish(a31, relu).intoArray(ys, yo + 3 * ps + V);
    finish(a32, relu).intoArray(ys, yo + 3 * ps + 2 * V);
    finish(a40, relu).intoArray(ys, yo + 4 * ps);
    finish(a41, relu).intoArray(ys, yo + 4 * ps + V);
    finish(a42, relu).intoArray(ys, yo + 4 * ps + 2 * V);
    finish(a50, relu).intoArray(ys, yo + 5 * ps);
    finish(a51, relu).intoArray(ys, yo + 5 * ps + V);
    finish(a52, relu).intoArray(ys, yo + 5 * ps + 2 * V);
    finish(a60, relu).intoArray(ys, yo + 6 * ps);
    finish(a61, relu).intoArray(ys, yo + 6 * ps + V);
    finish(a62, relu).intoArray(ys, yo + 6 * ps + 2 * V);
    finish(a70, relu).intoArray(ys, yo + 7 * ps);
    finish(a71, relu).intoArray(ys, yo + 7 * ps + V);
    finish(a72, relu).intoArray(ys, yo + 7 * ps + 2 * V);
  }

  /** 8 channels x 1 vector of positions. */
  private static void kernel8x1(float[] xp, int p, int[] offs, int n, float[] wp, int wo, float[] bp, int bo,
      float[] ys, int yo, int ps, boolean relu) {
    FloatVector a0 = FloatVector.broadcast(SPECIES, bp[bo]);
    FloatVector a1 = FloatVector.broadcast(SPECIES, bp[bo + 1]);
    FloatVector a2 = FloatVector.broadcast(SPECIES, bp[bo + 2]);
    FloatVector a3 = FloatVector.broadcast(SPECIES, bp[bo + 3]);
    FloatVector a4 = FloatVector.broadcast(SPECIES, bp[bo + 4]);
    FloatVector a5 = FloatVector.broadcast(SPECIES, bp[bo + 5]);
    FloatVector a6 = FloatVector.broadcast(SPECIES, bp[bo + 6]);
    FloatVector a7 = FloatVector.broadcast(SPECIES, bp[bo + 7]);
    for (int i = 0; i < n; i++) {
      FloatVector x0 = FloatVector.fromArray(SPECIES, xp, p + offs[i]);
      int q = wo + i * OB;
      a0 = x0.fma(FloatVector.broadcast(SPECIES, wp[q]), a0);
      a1 = x0.fma(FloatVector.broadcast(SPECIES, wp[q + 1]), a1);
      a2 = x0.fma(FloatVector.broadcast(SPECIES, wp[q + 2]), a2);
      a3 = x0.fma(FloatVector.broadcast(SPECIES, wp[q + 3]), a3);
      a4 = x0.fma(FloatVector.broadcast(SPECIES, wp[q + 4]), a4);
      a5 = x0.fma(FloatVector.broadcast(SPECIES, wp[q + 5]), a5);
      a6 = x0.fma(FloatVector.broadcast(SPECIES, wp[q + 6]), a6);
      a7 = x0.fma(FloatVector.broadcast(SPECIES, wp[q + 7]), a7);
    }
    finish(a0, relu).intoArray(ys, yo);
    finish(a1, relu).intoArray(ys, yo + ps);
    finish(a2, relu).intoArray(ys, yo + 2 * ps);
    finish(a3, relu).intoArray(ys, yo + 3 * ps);
    finish(a4, relu).intoArray(ys, yo + 4 * ps);
    finish(a5, relu).intoArray(ys, yo + 5 * ps);
    finish(a6, relu).intoArray(ys, yo + 6 * ps);
    finish(a7, relu).intoArray(ys, yo + 7 * ps);
  }

  /** 1 channel x 4 vectors of positions. */
  private static void kernel1x4(float[] xp, int p, int[] offs, int n, float[] wp, int wo, float bias,
      float[] ys, int yo, boolean relu) {
    FloatVector a0 = FloatVector.broadcast(SPECIES, bias);
    FloatVector a1 = a0;
    FloatVector a2 = a0;
    FloatVector a3 = a0;
    for (int i = 0; i < n; i++) {
      int o = p + offs[i];
      FloatVector w = FloatVector.broadcast(SPECIES, wp[wo + i]);
      a0 = FloatVector.fromArray(SPECIES, xp, o).fma(w, a0);
      a1 = FloatVector.fromArray(SPECIES, xp, o + V).fma(w, a1);
      a2 = FloatVector.fromArray(SPECIES, xp, o + 2 * V).fma(w, a2);
      a3 = FloatVector.fromArray(SPECIES, xp, o + 3 * V).fma(w, a3);
    }
    finish(a0, relu).intoArray(ys, yo);
    finish(a1, relu).intoArray(ys, yo + V);
    finish(a2, relu).intoArray(ys, yo + 2 * V);
    finish(a3, relu).intoArray(ys, yo + 3 * V);
  }

  /** 1 channel x 1 vector of positions. */
  private static void kernel1x1(float[] xp, int p, int[] offs, int n, float[] wp, int wo, float bias,
      float[] ys, int yo, boolean relu) {
    FloatVector a0 = FloatVector.broadcast(SPECIES, bias);
    for (int i = 0; i < n; i++) {
      a0 = FloatVector.fromArray(SPECIES, xp, p + offs[i]).fma(FloatVector.broadcast(SPECIES, wp[wo + i]), a0);
    }
    finish(a0, relu).intoArray(ys, yo);
  }
}
