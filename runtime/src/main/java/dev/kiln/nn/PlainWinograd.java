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
 * tiles at a time, each position's products as loops that HotSpot's C2 vectorizes (multiplies and adds, not fused),
 * then the output transform with the bias and the activation. The products' innermost loop runs over the longer of
 * two rows ({@link #byTiles}): the output channels ({@code m[t][o] += v[t] * u[o]}) or a group of up to
 * {@link #MAX_TILE_GROUP} tiles ({@code m[o][t] += v[t] * u[o]}); either way each sum is the same multiplies and
 * adds in the same order, so the same bits. The backward passes are the generated loops' ({@link #hasBackwardInput}
 * and {@link #hasBackwardWeight} are false). Results differ from the 3x3 sums by rounding (checked against the
 * reference convolution by {@code PlainWinogradTest}).
 */
final class PlainWinograd implements ConvEngine {
  /** Positions of a transformed 4x4 patch. */
  private static final int POSITIONS = WinogradKernels.POSITIONS;
  /** The fewest input channels a layer needs to run this way (as the vectorized network engine's). */
  static final int MIN_CHANNELS = WinogradKernels.MIN_CHANNELS;
  /**
   * Tiles whose products are accumulated together where the innermost loop runs over the output channels: their
   * sums for 192 output channels stay in the level-1 cache.
   */
  private static final int GROUP = 16;

  /**
   * The most tiles of a group where the innermost loop runs over tiles ({@link #byTiles}); a layer's tiles are split
   * into groups as even as possible.
   */
  static final int MAX_TILE_GROUP = 256;

  private final ConvGeometry g;
  private final float lo;
  private final float hi;
  private final int tilesW;
  private final int tiles;
  /** Whether the products' innermost loop runs over tiles ({@link #byTiles}). */
  private final boolean byTiles;
  /** Tiles per group: {@link #GROUP}, or where {@link #byTiles} the layer's tiles in even groups. */
  private final int group;
  /** Where each tile's 2x2 output pixels start in an output plane. */
  private final int[] tileTops;
  private final ThreadLocal<Scratch> scratch;
  private volatile Prepared prepared;

  /**
   * The transformed weights, a row of output channels per position {@code p} and input channel {@code c}
   * ({@code u[p * in + c][o]}), and the bias, of one pair of versions.
   */
  private record Prepared(Parameter weight, long weightVersion, Parameter bias, long biasVersion, float[][] u,
      float[] b) implements Weights {}

  /**
   * One thread's buffers: the padded input planes, the transformed input and a group's sums. The transformed input
   * has a row per tile group, position {@code p} and input channel {@code c}, its group's tiles
   * ({@code v[(g * POSITIONS + p) * in + c][t - g * group]}; one group of all tiles unless {@link #byTiles}). The
   * sums have a row of output channels per position and tile ({@code m[p * GROUP + t][o]}), or where
   * {@link #byTiles} a row of the group's tiles per position and output channel ({@code m[p * out + o][t]}). Rows
   * of their own, so that the innermost loop reads and writes arrays at the same index, which C2 needs to vectorize
   * it (with offsets into one array each, it did not).
   */
  private record Scratch(float[] xp, float[][] v, float[][] m) {}

  /**
   * Whether the products' innermost loop runs over a group's tiles rather than the output channels: where a group
   * of tiles is the longer row. C2 vectorizes such a loop with vectors as wide as the loop's profiled trip count
   * allows (on a 512-bit machine, JDK 17: a row of 48 floats ran on 4-lane vectors, 96 on 8, 192 on 16; in
   * RepVGG-A0 the one shared loop over output channels of 48 to 192 ran on 4), so a long row and loops of their own
   * for each orientation keep the vectors wide: both on 16 lanes in RepVGG-A0 (its 56x56 and 28x28 layers by tiles,
   * the 14x14 ones by channels), the scalar path's forward 56.5-57.8 ms against 59.4-62.5 before (Intel Xeon,
   * Sapphire Rapids class, N=1, one thread, three alternating pairs). What is left is the loops' set-up: a 192-float
   * row is twelve 16-lane steps plus a scalar pre- and post-loop each call.
   */
  static boolean byTiles(int tiles, int outChannels) {
    return Math.min(tiles, MAX_TILE_GROUP) > outChannels;
  }

  /**
   * Whether a layer runs this way: a 3x3 convolution of stride 1, dilation 1, one group and zero padding 1, at
   * least {@link #MIN_CHANNELS} input channels, even output sides; {@code kiln.scalar.winograd=false} turns it off.
   */
  static boolean supports(ConvGeometry g) {
    return !"false".equals(System.getProperty("kiln.scalar.winograd")) && WinogradKernels.fits(g)
        && g.inChannels() >= MIN_CHANNELS;
  }

  PlainWinograd(ConvGeometry geometry, Activation activation) {
    this(geometry, activation, byTiles(geometry.outHeight() / 2 * (geometry.outWidth() / 2), geometry.outChannels()));
  }

  /** A layer whose products' innermost loop runs over tiles or not as {@code byTiles} says (for tests). */
  PlainWinograd(ConvGeometry geometry, Activation activation, boolean byTiles) {
    if (!supports(geometry)) {
      throw new IllegalArgumentException("no Winograd form for " + geometry);
    }
    this.g = geometry;
    this.lo = activation.lower();
    this.hi = activation.upper();
    this.tilesW = geometry.outWidth() / 2;
    this.tiles = geometry.outHeight() / 2 * tilesW;
    this.tileTops = new int[tiles];
    for (int t = 0; t < tiles; t++) {
      tileTops[t] = (t / tilesW) * 2 * geometry.outWidth() + (t % tilesW) * 2;
    }
    int out = geometry.outChannels();
    this.byTiles = byTiles;
    int groups = byTiles ? (tiles + MAX_TILE_GROUP - 1) / MAX_TILE_GROUP : 1;
    this.group = byTiles ? (tiles + groups - 1) / groups : GROUP;
    int padded = geometry.inChannels() * (geometry.inHeight() + 2) * (geometry.inWidth() + 2);
    int vRows = groups * POSITIONS * geometry.inChannels();
    int vRow = byTiles ? group : tiles;
    int mRows = byTiles ? POSITIONS * out : POSITIONS * GROUP;
    int mRow = byTiles ? group : out;
    this.scratch = new ThreadLocal<>() {
      @Override
      protected Scratch initialValue() {
        return new Scratch(new float[padded], new float[vRows][vRow], new float[mRows][mRow]);
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
    float[][] v = s.v;
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
    if (byTiles) {
      for (int t0 = 0, grp = 0; t0 < tiles; t0 += group, grp++) {
        int count = Math.min(group, tiles - t0);
        for (int q = 0; q < POSITIONS; q++) {
          for (int o = ocStart; o < ocEnd; o++) {
            float[] sums = m[q * out + o];
            Arrays.fill(sums, 0, count, 0f);
            tileProducts(v, (grp * POSITIONS + q) * in, u, q * in, in, o, sums, count);
          }
        }
        transformOutput(m, count, t0, p.b, y, yOff, ocStart, ocEnd);
      }
      return;
    }
    for (int t0 = 0; t0 < tiles; t0 += GROUP) {
      int count = Math.min(GROUP, tiles - t0);
      for (float[] row : m) {
        Arrays.fill(row, ocStart, ocEnd, 0f);
      }
      for (int q = 0; q < POSITIONS; q++) {
        products(v, q * in, t0, u, q * in, in, m, q * GROUP, count, ocStart, ocEnd);
      }
      transformOutput(m, count, t0, p.b, y, yOff, ocStart, ocEnd);
    }
  }

  /**
   * {@code B^T d B} of every patch of every channel: position {@code q}'s value of tile {@code t} in group
   * {@code g} at {@code v[(g * POSITIONS + q) * in + c][t - g * group]} (one group of all tiles unless
   * {@link #byTiles}).
   */
  private void transformInput(float[] xp, int in, int plane, int pw, float[][] v) {
    int span = byTiles ? group : tiles;
    for (int c = 0; c < in; c++) {
      for (int t = 0; t < tiles; t++) {
        int grp = t / span;
        // Position 0's row of this channel and group; position p's is in rows further on.
        int row = grp * POSITIONS * in + c;
        int col = t - grp * span;
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
        v[row][col] = r00 - r20;
        v[row + 1 * in][col] = r01 - r21;
        v[row + 2 * in][col] = r02 - r22;
        v[row + 3 * in][col] = r03 - r23;
        v[row + 4 * in][col] = r10 + r20;
        v[row + 5 * in][col] = r11 + r21;
        v[row + 6 * in][col] = r12 + r22;
        v[row + 7 * in][col] = r13 + r23;
        v[row + 8 * in][col] = r20 - r10;
        v[row + 9 * in][col] = r21 - r11;
        v[row + 10 * in][col] = r22 - r12;
        v[row + 11 * in][col] = r23 - r13;
        v[row + 12 * in][col] = r10 - r30;
        v[row + 13 * in][col] = r11 - r31;
        v[row + 14 * in][col] = r12 - r32;
        v[row + 15 * in][col] = r13 - r33;
      }
    }
  }

  /**
   * One position's products for {@code count} tiles from {@code t0} on, the innermost loop over the output channels:
   * {@code m[mo + t][o] += v[vr + c][t0 + t] * u[uo + c][o]} over input channels {@code c}, output channels
   * {@code [o0, o1)}; one weight row for all the tiles.
   */
  private static void products(float[][] v, int vr, int t0, float[][] u, int uo, int in, float[][] m, int mo,
      int count, int o0, int o1) {
    int c = 0;
    // Four input channels per pass: one load and store of the sums per four products (C2 vectorizes a loop of up
    // to five products into one array; one product per pass ran the network's layers no faster than the 3x3 sums).
    for (; c + 4 <= in; c += 4) {
      float[] w0 = u[uo + c];
      float[] w1 = u[uo + c + 1];
      float[] w2 = u[uo + c + 2];
      float[] w3 = u[uo + c + 3];
      float[] v0 = v[vr + c];
      float[] v1 = v[vr + c + 1];
      float[] v2 = v[vr + c + 2];
      float[] v3 = v[vr + c + 3];
      for (int t = 0; t < count; t++) {
        axpy4(v0[t0 + t], w0, v1[t0 + t], w1, v2[t0 + t], w2, v3[t0 + t], w3, m[mo + t], o0, o1);
      }
    }
    for (; c < in; c++) {
      float[] w = u[uo + c];
      float[] vc = v[vr + c];
      for (int t = 0; t < count; t++) {
        axpy(vc[t0 + t], w, m[mo + t], o0, o1);
      }
    }
  }

  /**
   * One position's products for output channel {@code o}, the innermost loop over a group's {@code count} tiles:
   * {@code sums[t] += v[vr + c][t] * u[uo + c][o]} over input channels {@code c}, in the order of
   * {@link #products} (four channels per pass), so the same bits.
   */
  private static void tileProducts(float[][] v, int vr, float[][] u, int uo, int in, int o, float[] sums,
      int count) {
    int c = 0;
    for (; c + 4 <= in; c += 4) {
      tileAxpy4(u[uo + c][o], v[vr + c], u[uo + c + 1][o], v[vr + c + 1], u[uo + c + 2][o], v[vr + c + 2],
          u[uo + c + 3][o], v[vr + c + 3], sums, count);
    }
    for (; c < in; c++) {
      tileAxpy(u[uo + c][o], v[vr + c], sums, count);
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

  /**
   * {@link #axpy4} for {@link #tileProducts}, a copy of its own: C2 takes a loop's trip count, and so its vectors'
   * width, from the method's profile, which every caller of one method shares (inlined or not).
   */
  private static void tileAxpy4(float a0, float[] v0, float a1, float[] v1, float a2, float[] v2, float a3,
      float[] v3, float[] s, int count) {
    for (int t = 0; t < count; t++) {
      s[t] += a0 * v0[t] + a1 * v1[t] + a2 * v2[t] + a3 * v3[t];
    }
  }

  /** {@link #axpy} for {@link #tileProducts} (see {@link #tileAxpy4}). */
  private static void tileAxpy(float a, float[] v, float[] s, int count) {
    for (int t = 0; t < count; t++) {
      s[t] += a * v[t];
    }
  }

  /**
   * {@code A^T m A} of {@code count} tiles from {@code t0} on, output channels {@code [o0, o1)}, plus the bias,
   * clamped, into the NCHW output: the sums in rows of output channels ({@code m[p * GROUP + t][o]}), or where
   * {@link #byTiles} in rows of tiles ({@code m[p * out + o][t]}); each row's 16 positions fetched once for it.
   */
  private void transformOutput(float[][] m, int count, int t0, float[] b, float[] y, int yOff, int o0, int o1) {
    int plane = g.outHeight() * g.outWidth();
    int step = byTiles ? g.outChannels() : GROUP;
    int rowsEnd = byTiles ? o1 : count;
    int first = byTiles ? 0 : o0;
    int end = byTiles ? count : o1;
    for (int r = byTiles ? o0 : 0; r < rowsEnd; r++) {
      float[] r0 = m[r];
      float[] r1 = m[r + step];
      float[] r2 = m[r + 2 * step];
      float[] r3 = m[r + 3 * step];
      float[] r4 = m[r + 4 * step];
      float[] r5 = m[r + 5 * step];
      float[] r6 = m[r + 6 * step];
      float[] r7 = m[r + 7 * step];
      float[] r8 = m[r + 8 * step];
      float[] r9 = m[r + 9 * step];
      float[] r10 = m[r + 10 * step];
      float[] r11 = m[r + 11 * step];
      float[] r12 = m[r + 12 * step];
      float[] r13 = m[r + 13 * step];
      float[] r14 = m[r + 14 * step];
      float[] r15 = m[r + 15 * step];
      for (int i = first; i < end; i++) {
        int t = byTiles ? i : r;
        int o = byTiles ? r : i;
        float m4 = r4[i];
        float m5 = r5[i];
        float m6 = r6[i];
        float m7 = r7[i];
        float m8 = r8[i];
        float m9 = r9[i];
        float m10 = r10[i];
        float m11 = r11[i];
        float s00 = r0[i] + m4 + m8;
        float s01 = r1[i] + m5 + m9;
        float s02 = r2[i] + m6 + m10;
        float s03 = r3[i] + m7 + m11;
        float s10 = m4 - m8 - r12[i];
        float s11 = m5 - m9 - r13[i];
        float s12 = m6 - m10 - r14[i];
        float s13 = m7 - m11 - r15[i];
        float bias = b == null ? 0f : b[o];
        int ow = g.outWidth();
        int e = yOff + tileTops[t0 + t] + o * plane;
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
