package dev.kiln.nn;

import dev.kiln.annotation.Activation;
import java.util.Arrays;

/**
 * The forward of a 3x3 convolution of stride 1 and padding 1 by Winograd's minimal filtering F(2x2, 3x3) in plain
 * Java, for JVMs without the Vector API (the scalar path; the vectorized network engine has its own,
 * {@code dev.kiln.simd.WinogradConv}): each 2x2 block of output pixels is {@code A^T [(G g G^T) . (B^T d B)] A} of
 * the 4x4 input patch {@code d} around it, so the reduction over input channels becomes 16 products of matrices
 * with 2.25 times fewer multiply-adds than the 3x3 sums. One sample at a time, for a range of output channels:
 * the input copied into padded planes and transformed (every call transforms the whole sample), then, a group of
 * tiles at a time, each position's products as loops over the output channels ({@code m[t][o] += v * u[o]}, which
 * HotSpot's C2 vectorizes: multiplies and adds, not fused), then the output transform with the bias and the
 * activation. The backward passes are the generated loops' ({@link #hasBackwardInput} and
 * {@link #hasBackwardWeight} are false). Results differ from the 3x3 sums by rounding (checked against the reference
 * convolution by {@code PlainWinogradTest}).
 */
final class PlainWinograd implements ConvEngine {
  /** Positions of a transformed 4x4 patch. */
  private static final int POSITIONS = WinogradKernels.POSITIONS;
  /** The fewest input channels a layer needs to run this way (as the vectorized network engine's). */
  static final int MIN_CHANNELS = WinogradKernels.MIN_CHANNELS;
  /** Tiles whose products are accumulated together: their sums for 192 output channels stay in the level-1 cache. */
  private static final int GROUP = 16;

  private final ConvGeometry g;
  private final float lo;
  private final float hi;
  private final int tilesW;
  private final int tiles;
  private final ThreadLocal<Scratch> scratch;
  private volatile Prepared prepared;

  /**
   * The transformed weights, a row of output channels per position {@code p} and input channel {@code c}
   * ({@code u[p * in + c][o]}), and the bias, of one pair of versions.
   */
  private record Prepared(Parameter weight, long weightVersion, Parameter bias, long biasVersion, float[][] u,
      float[] b) implements Weights {}

  /**
   * One thread's buffers: the padded input planes, the transformed input ({@code v[(p * in + c) * tiles + t]}), and
   * a group's sums, a row of output channels per position and tile ({@code m[p * GROUP + t][o]}). Rows of their
   * own, so that the innermost loop reads and writes both arrays at the same index, which C2 needs to vectorize
   * it (with offsets into one array each, it did not).
   */
  private record Scratch(float[] xp, float[] v, float[][] m) {}

  /**
   * Whether a layer runs this way: a 3x3 convolution of stride 1, dilation 1, one group and zero padding 1, at
   * least {@link #MIN_CHANNELS} input channels, even output sides; {@code kiln.scalar.winograd=false} turns it off.
   */
  static boolean supports(ConvGeometry g) {
    return !"false".equals(System.getProperty("kiln.scalar.winograd")) && WinogradKernels.fits(g)
        && g.inChannels() >= MIN_CHANNELS;
  }

  PlainWinograd(ConvGeometry geometry, Activation activation) {
    if (!supports(geometry)) {
      throw new IllegalArgumentException("no Winograd form for " + geometry);
    }
    this.g = geometry;
    this.lo = activation.lower();
    this.hi = activation.upper();
    this.tilesW = geometry.outWidth() / 2;
    this.tiles = geometry.outHeight() / 2 * tilesW;
    int padded = geometry.inChannels() * (geometry.inHeight() + 2) * (geometry.inWidth() + 2);
    int v = POSITIONS * geometry.inChannels() * tiles;
    int out = geometry.outChannels();
    this.scratch = new ThreadLocal<>() {
      @Override
      protected Scratch initialValue() {
        return new Scratch(new float[padded], new float[v], new float[POSITIONS * GROUP][out]);
      }
    };
  }

  @Override
  public String name() {
    return "scalar-winograd";
  }

  @Override
  public int channelBlock() {
    return 16;
  }

  @Override
  public Weights forwardWeights(Parameter weight, Parameter bias) {
    long wv = weight.version();
    long bv = bias == null ? 0 : bias.version();
    Prepared p = prepared;
    if (p != null && p.weight == weight && p.weightVersion == wv && p.bias == bias && p.biasVersion == bv) {
      return p;
    }
    int out = g.outChannels();
    int in = g.inChannels();
    float[][] u = new float[POSITIONS * in][out];
    float[] w = weight.data().data();
    float[] k16 = new float[POSITIONS];
    for (int o = 0; o < out; o++) {
      for (int c = 0; c < in; c++) {
        WinogradKernels.transform(w, 9 * (o * in + c), k16);
        for (int q = 0; q < POSITIONS; q++) {
          u[q * in + c][o] = k16[q];
        }
      }
    }
    float[] b = bias == null ? null : bias.data().data().clone();
    p = new Prepared(weight, wv, bias, bv, u, b);
    prepared = p;
    return p;
  }

  @Override
  public void forward(Weights weights, float[] x, int xOff, float[] y, int yOff, int ocStart, int ocEnd) {
    Prepared p = (Prepared) weights;
    Scratch s = scratch.get();
    float[] xp = s.xp;
    float[] v = s.v;
    float[][] m = s.m;
    int in = g.inChannels();
    int out = g.outChannels();
    int h = g.inHeight();
    int w = g.inWidth();
    int pw = w + 2;
    int plane = (h + 2) * pw;
    // The input into padded planes (their border stays zero).
    for (int c = 0; c < in; c++) {
      for (int r = 0; r < h; r++) {
        System.arraycopy(x, xOff + (c * h + r) * w, xp, c * plane + (r + 1) * pw + 1, w);
      }
    }
    transformInput(xp, in, plane, pw, v);
    float[][] u = p.u;
    for (int t0 = 0; t0 < tiles; t0 += GROUP) {
      int count = Math.min(GROUP, tiles - t0);
      for (float[] row : m) {
        Arrays.fill(row, ocStart, ocEnd, 0f);
      }
      for (int q = 0; q < POSITIONS; q++) {
        products(v, (q * in) * tiles + t0, tiles, u, q * in, in, m, q * GROUP, count, ocStart, ocEnd);
      }
      transformOutput(m, count, t0, p.b, y, yOff, ocStart, ocEnd);
    }
  }

  /**
   * {@code B^T d B} of every patch of every channel: position {@code q}'s value at
   * {@code v[(q * in + c) * tiles + t]}.
   */
  private void transformInput(float[] xp, int in, int plane, int pw, float[] v) {
    int region = in * tiles;
    for (int c = 0; c < in; c++) {
      for (int t = 0; t < tiles; t++) {
        int o = c * plane + (t / tilesW) * 2 * pw + (t % tilesW) * 2;
        float r00 = xp[o] - xp[o + 2];
        float r01 = xp[o + 1] + xp[o + 2];
        float r02 = xp[o + 2] - xp[o + 1];
        float r03 = xp[o + 1] - xp[o + 3];
        o += pw;
        float r10 = xp[o] - xp[o + 2];
        float r11 = xp[o + 1] + xp[o + 2];
        float r12 = xp[o + 2] - xp[o + 1];
        float r13 = xp[o + 1] - xp[o + 3];
        o += pw;
        float r20 = xp[o] - xp[o + 2];
        float r21 = xp[o + 1] + xp[o + 2];
        float r22 = xp[o + 2] - xp[o + 1];
        float r23 = xp[o + 1] - xp[o + 3];
        o += pw;
        float r30 = xp[o] - xp[o + 2];
        float r31 = xp[o + 1] + xp[o + 2];
        float r32 = xp[o + 2] - xp[o + 1];
        float r33 = xp[o + 1] - xp[o + 3];
        int q = c * tiles + t;
        v[q] = r00 - r20;
        v[q + region] = r01 - r21;
        v[q + 2 * region] = r02 - r22;
        v[q + 3 * region] = r03 - r23;
        v[q + 4 * region] = r10 + r20;
        v[q + 5 * region] = r11 + r21;
        v[q + 6 * region] = r12 + r22;
        v[q + 7 * region] = r13 + r23;
        v[q + 8 * region] = r20 - r10;
        v[q + 9 * region] = r21 - r11;
        v[q + 10 * region] = r22 - r12;
        v[q + 11 * region] = r23 - r13;
        v[q + 12 * region] = r10 - r30;
        v[q + 13 * region] = r11 - r31;
        v[q + 14 * region] = r12 - r32;
        v[q + 15 * region] = r13 - r33;
      }
    }
  }

  /**
   * One position's products for {@code count} tiles: {@code m[mo + t][o] += v[vo + c * tiles + t] * u[uo + c][o]}
   * over input channels {@code c}, output channels {@code [o0, o1)}; the innermost loop runs over the output
   * channels, one weight row for all the tiles.
   */
  private static void products(float[] v, int vo, int tiles, float[][] u, int uo, int in, float[][] m, int mo,
      int count, int o0, int o1) {
    int c = 0;
    // Four input channels per pass: one load and store of the sums per four products (C2 vectorizes a loop of up
    // to five products into one array; one product per pass ran the network's layers no faster than the 3x3 sums).
    for (; c + 4 <= in; c += 4) {
      float[] w0 = u[uo + c];
      float[] w1 = u[uo + c + 1];
      float[] w2 = u[uo + c + 2];
      float[] w3 = u[uo + c + 3];
      int vr = vo + c * tiles;
      for (int t = 0; t < count; t++) {
        axpy4(v[vr + t], w0, v[vr + tiles + t], w1, v[vr + 2 * tiles + t], w2, v[vr + 3 * tiles + t], w3,
            m[mo + t], o0, o1);
      }
    }
    for (; c < in; c++) {
      float[] w = u[uo + c];
      int vr = vo + c * tiles;
      for (int t = 0; t < count; t++) {
        axpy(v[vr + t], w, m[mo + t], o0, o1);
      }
    }
  }

  /** {@code s[o] += a * w[o]} for {@code o} in {@code [o0, o1)}. */
  private static void axpy(float a, float[] w, float[] s, int o0, int o1) {
    for (int o = o0; o < o1; o++) {
      s[o] += a * w[o];
    }
  }

  /** {@code s[o] += a0 * w0[o] + a1 * w1[o] + a2 * w2[o] + a3 * w3[o]} for {@code o} in {@code [o0, o1)}. */
  private static void axpy4(float a0, float[] w0, float a1, float[] w1, float a2, float[] w2, float a3, float[] w3,
      float[] s, int o0, int o1) {
    for (int o = o0; o < o1; o++) {
      s[o] += a0 * w0[o] + a1 * w1[o] + a2 * w2[o] + a3 * w3[o];
    }
  }

  /** {@code A^T m A} of {@code count} tiles from {@code t0} on, plus the bias, clamped, into the NCHW output. */
  private void transformOutput(float[][] m, int count, int t0, float[] b, float[] y, int yOff, int o0, int o1) {
    int ow = g.outWidth();
    int oh = g.outHeight();
    for (int t = 0; t < count; t++) {
      int tile = t0 + t;
      int top = yOff + (tile / tilesW) * 2 * ow + (tile % tilesW) * 2;
      float[] r0 = m[t];
      float[] r1 = m[GROUP + t];
      float[] r2 = m[2 * GROUP + t];
      float[] r3 = m[3 * GROUP + t];
      float[] r4 = m[4 * GROUP + t];
      float[] r5 = m[5 * GROUP + t];
      float[] r6 = m[6 * GROUP + t];
      float[] r7 = m[7 * GROUP + t];
      float[] r8 = m[8 * GROUP + t];
      float[] r9 = m[9 * GROUP + t];
      float[] r10 = m[10 * GROUP + t];
      float[] r11 = m[11 * GROUP + t];
      float[] r12 = m[12 * GROUP + t];
      float[] r13 = m[13 * GROUP + t];
      float[] r14 = m[14 * GROUP + t];
      float[] r15 = m[15 * GROUP + t];
      for (int o = o0; o < o1; o++) {
        float m4 = r4[o];
        float m5 = r5[o];
        float m6 = r6[o];
        float m7 = r7[o];
        float m8 = r8[o];
        float m9 = r9[o];
        float m10 = r10[o];
        float m11 = r11[o];
        float s00 = r0[o] + m4 + m8;
        float s01 = r1[o] + m5 + m9;
        float s02 = r2[o] + m6 + m10;
        float s03 = r3[o] + m7 + m11;
        float s10 = m4 - m8 - r12[o];
        float s11 = m5 - m9 - r13[o];
        float s12 = m6 - m10 - r14[o];
        float s13 = m7 - m11 - r15[o];
        float bias = b == null ? 0f : b[o];
        int e = top + o * oh * ow;
        y[e] = Math.min(Math.max(s00 + s01 + s02 + bias, lo), hi);
        y[e + 1] = Math.min(Math.max(s01 - s02 - s03 + bias, lo), hi);
        y[e + ow] = Math.min(Math.max(s10 + s11 + s12 + bias, lo), hi);
        y[e + ow + 1] = Math.min(Math.max(s11 - s12 - s13 + bias, lo), hi);
      }
    }
  }

  @Override
  public boolean hasBackwardInput() {
    return false;
  }

  @Override
  public Weights backwardInputWeights(Parameter weight) {
    throw new UnsupportedOperationException("no backward in the Winograd form");
  }

  @Override
  public void backwardInput(Weights weights, float[] gy, int gyOff, float[] gx, int gxOff) {
    throw new UnsupportedOperationException("no backward in the Winograd form");
  }

  @Override
  public boolean hasBackwardWeight() {
    return false;
  }

  @Override
  public void backwardWeight(float[] x, int xStride, float[] gy, int gyStride, int from, int to, float[] gw,
      float[] gb) {
    throw new UnsupportedOperationException("no backward in the Winograd form");
  }
}
