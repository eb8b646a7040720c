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
 * tiles at a time, each position's products as loops that HotSpot's C2 vectorizes (fused multiply-adds where the JVM
 * compiles {@link Math#fma} to an instruction, {@link FusedMultiplyAdd}, else multiplies and adds), then the output
 * transform with the bias and the activation. The products' innermost loop runs over the longer of
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
  /** Whether the products are fused multiply-adds ({@link FusedMultiplyAdd#fast}). */
  private final boolean fused;
  private final float lo;
  private final float hi;
  private final int tilesW;
  private final int tiles;
  /** Whether the products' innermost loop runs over tiles ({@link #byTiles}). */
  private final boolean byTiles;
  /** Tiles per group: {@link #GROUP}, or where {@link #byTiles} the layer's tiles in even groups. */
  private final int group;
  /** Groups of {@link #group} tiles {@link #byTiles} (1 otherwise). */
  private final int tileGroups;
  /** Where each tile's 2x2 output pixels start in an output plane. */
  private final int[] tileTops;
  /** Where each tile's 4x4 input patch starts in a padded input plane. */
  private final int[] tileCorners;
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
   * it (with offsets into one array each, it did not). Nine rows as long as a sums row for the output transform
   * ({@link #transformOutput}; the last holds the bias along the row: zero where the rows run over output channels
   * of a layer without one, else filled per output channel where they run over tiles).
   */
  private record Scratch(float[] xp, float[][] v, float[][] m, float[][] q) {}

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
    this(geometry, activation, byTiles(geometry.outHeight() / 2 * (geometry.outWidth() / 2), geometry.outChannels()),
        FusedMultiplyAdd.fast());
  }

  /**
   * A layer whose products' innermost loop runs over tiles or not as {@code byTiles} says, with fused
   * multiply-adds or not as {@code fused} says (for tests).
   */
  PlainWinograd(ConvGeometry geometry, Activation activation, boolean byTiles, boolean fused) {
    if (!supports(geometry)) {
      throw new IllegalArgumentException("no Winograd form for " + geometry);
    }
    this.g = geometry;
    this.fused = fused;
    this.lo = activation.lower();
    this.hi = activation.upper();
    this.tilesW = geometry.outWidth() / 2;
    this.tiles = geometry.outHeight() / 2 * tilesW;
    this.tileTops = new int[tiles];
    this.tileCorners = new int[tiles];
    for (int t = 0; t < tiles; t++) {
      tileTops[t] = (t / tilesW) * 2 * geometry.outWidth() + (t % tilesW) * 2;
      tileCorners[t] = (t / tilesW) * 2 * (geometry.inWidth() + 2) + (t % tilesW) * 2;
    }
    int out = geometry.outChannels();
    this.byTiles = byTiles;
    int groups = byTiles ? (tiles + MAX_TILE_GROUP - 1) / MAX_TILE_GROUP : 1;
    this.group = byTiles ? (tiles + groups - 1) / groups : GROUP;
    this.tileGroups = groups;
    int padded = geometry.inChannels() * (geometry.inHeight() + 2) * (geometry.inWidth() + 2);
    int vRows = groups * POSITIONS * geometry.inChannels();
    int vRow = byTiles ? group : tiles;
    int mRows = byTiles ? POSITIONS * out : POSITIONS * GROUP;
    int mRow = byTiles ? group : out;
    this.scratch = new ThreadLocal<>() {
      @Override
      protected Scratch initialValue() {
        return new Scratch(new float[padded], new float[vRows][vRow], new float[mRows][mRow], new float[9][mRow]);
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

  /**
   * A layer whose products' innermost loop runs over the output channels (not {@link #byTiles}) splits a sample
   * over threads by tiles: a range of output channels would shorten that loop (C2 then compiles it to narrower
   * vectors) and have every thread transform the whole input. RepVGG-A0's 192->192 14x14 layer on two threads took
   * 5.4-5.7 ms split by output channels against 1.9-2.1 on one thread (Intel Xeon of the Sapphire Rapids class, JDK
   * 17). A layer by tiles in several groups of tiles splits by groups (each thread transforms only its groups'
   * input; RepVGG-A0's 48->48 56x56 layer, four groups); one in a single group keeps the split by output channels,
   * since a range of tiles would shorten its loops.
   */
  @Override
  public int splitUnits() {
    return byTiles ? (tileGroups < 2 ? 0 : tileGroups) : (tiles < 2 ? 0 : tiles);
  }

  /** Every output channel of units {@code [start, end)} ({@link #splitUnits}): tiles, or groups of tiles. */
  @Override
  public void forwardUnits(Weights weights, float[] x, int xOff, float[] y, int yOff, int start, int end) {
    if (splitUnits() == 0) {
      throw new UnsupportedOperationException("a layer by tiles in one group splits by output channels");
    }
    Prepared p = (Prepared) weights;
    Scratch s = scratch.get();
    int from = byTiles ? start * group : start;
    int to = byTiles ? Math.min(tiles, end * group) : end;
    transformInput(padInput(x, xOff, s.xp), g.inChannels(), s.v, from, to);
    if (byTiles) {
      tileGroups(p, s, y, yOff, start, end, 0, g.outChannels());
    } else {
      channelRows(p, s, y, yOff, from, to, 0, g.outChannels());
    }
  }

  /**
   * The products and output transform of tile groups {@code [g0, g1)}, output channels {@code [ocStart, ocEnd)}, for
   * a layer {@link #byTiles}.
   */
  private void tileGroups(Prepared p, Scratch s, float[] y, int yOff, int g0, int g1, int ocStart, int ocEnd) {
    float[][] v = s.v;
    float[][] m = s.m;
    float[][] u = p.u;
    int in = g.inChannels();
    int out = g.outChannels();
    for (int grp = g0, t0 = g0 * group; grp < g1 && t0 < tiles; grp++, t0 += group) {
      int count = Math.min(group, tiles - t0);
      for (int q = 0; q < POSITIONS; q++) {
        for (int o = ocStart; o < ocEnd; o++) {
          float[] sums = m[q * out + o];
          Arrays.fill(sums, 0, count, 0f);
          tileProducts(v, (grp * POSITIONS + q) * in, u, q * in, in, o, sums, count, fused);
        }
      }
      transformOutput(m, count, t0, p.b, s.q, y, yOff, ocStart, ocEnd);
    }
  }

  /** The input into this thread's padded planes (their border stays zero); returns them. */
  private float[] padInput(float[] x, int xOff, float[] xp) {
    int in = g.inChannels();
    int h = g.inHeight();
    int w = g.inWidth();
    int pw = w + 2;
    int plane = (h + 2) * pw;
    for (int c = 0; c < in; c++) {
      for (int r = 0; r < h; r++) {
        System.arraycopy(x, xOff + (c * h + r) * w, xp, c * plane + (r + 1) * pw + 1, w);
      }
    }
    return xp;
  }

  /**
   * The products and output transform of tiles {@code [t0, t1)}, output channels {@code [ocStart, ocEnd)}, in groups
   * of {@link #GROUP} tiles, for a layer whose products' innermost loop runs over the output channels.
   */
  private void channelRows(Prepared p, Scratch s, float[] y, int yOff, int t0, int t1, int ocStart, int ocEnd) {
    float[][] v = s.v;
    float[][] m = s.m;
    float[][] u = p.u;
    int in = g.inChannels();
    for (int t = t0; t < t1; t += GROUP) {
      int count = Math.min(GROUP, t1 - t);
      for (float[] row : m) {
        Arrays.fill(row, ocStart, ocEnd, 0f);
      }
      for (int q = 0; q < POSITIONS; q++) {
        products(v, q * in, t, u, q * in, in, m, q * GROUP, count, ocStart, ocEnd, fused);
      }
      transformOutput(m, count, t, p.b, s.q, y, yOff, ocStart, ocEnd);
    }
  }

  @Override
  public void forward(Weights weights, float[] x, int xOff, float[] y, int yOff, int ocStart, int ocEnd) {
    Prepared p = (Prepared) weights;
    Scratch s = scratch.get();
    transformInput(padInput(x, xOff, s.xp), g.inChannels(), s.v, 0, tiles);
    if (byTiles) {
      tileGroups(p, s, y, yOff, 0, tileGroups, ocStart, ocEnd);
    } else {
      channelRows(p, s, y, yOff, 0, tiles, ocStart, ocEnd);
    }
  }

  /**
   * {@code B^T d B} of every patch of every channel: position {@code q}'s value of tile {@code t} in group
   * {@code g} at {@code v[(g * POSITIONS + q) * in + c][t - g * group]} (one group of all tiles unless
   * {@link #byTiles}), of tiles {@code [from, to)}.
   */
  private void transformInput(float[] xp, int in, float[][] v, int from, int to) {
    int pw = g.inWidth() + 2;
    int plane = (g.inHeight() + 2) * pw;
    int span = byTiles ? group : tiles;
    int[] corners = tileCorners;
    for (int c = 0; c < in; c++) {
      int base = c * plane;
      for (int t0 = 0, grp = 0; t0 < tiles; t0 += span, grp++) {
        // The group's 16 rows of this channel, fetched once for its tiles.
        int row = grp * POSITIONS * in + c;
        float[] v0 = v[row];
        float[] v1 = v[row + in];
        float[] v2 = v[row + 2 * in];
        float[] v3 = v[row + 3 * in];
        float[] v4 = v[row + 4 * in];
        float[] v5 = v[row + 5 * in];
        float[] v6 = v[row + 6 * in];
        float[] v7 = v[row + 7 * in];
        float[] v8 = v[row + 8 * in];
        float[] v9 = v[row + 9 * in];
        float[] v10 = v[row + 10 * in];
        float[] v11 = v[row + 11 * in];
        float[] v12 = v[row + 12 * in];
        float[] v13 = v[row + 13 * in];
        float[] v14 = v[row + 14 * in];
        float[] v15 = v[row + 15 * in];
        int count = Math.min(span, to - t0);
        for (int col = Math.max(0, from - t0); col < count; col++) {
          int o = base + corners[t0 + col];
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
          v0[col] = r00 - r20;
          v1[col] = r01 - r21;
          v2[col] = r02 - r22;
          v3[col] = r03 - r23;
          v4[col] = r10 + r20;
          v5[col] = r11 + r21;
          v6[col] = r12 + r22;
          v7[col] = r13 + r23;
          v8[col] = r20 - r10;
          v9[col] = r21 - r11;
          v10[col] = r22 - r12;
          v11[col] = r23 - r13;
          v12[col] = r10 - r30;
          v13[col] = r11 - r31;
          v14[col] = r12 - r32;
          v15[col] = r13 - r33;
        }
      }
    }
  }

  /**
   * One position's products for {@code count} tiles from {@code t0} on, the innermost loop over the output channels:
   * {@code m[mo + t][o] += v[vr + c][t0 + t] * u[uo + c][o]} over input channels {@code c}, output channels
   * {@code [o0, o1)}; one weight row for all the tiles.
   */
  private static void products(float[][] v, int vr, int t0, float[][] u, int uo, int in, float[][] m, int mo,
      int count, int o0, int o1, boolean fused) {
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
        axpy4(v0[t0 + t], w0, v1[t0 + t], w1, v2[t0 + t], w2, v3[t0 + t], w3, m[mo + t], o0, o1, fused);
      }
    }
    for (; c < in; c++) {
      float[] w = u[uo + c];
      float[] vc = v[vr + c];
      for (int t = 0; t < count; t++) {
        axpy(vc[t0 + t], w, m[mo + t], o0, o1, fused);
      }
    }
  }

  /**
   * One position's products for output channel {@code o}, the innermost loop over a group's {@code count} tiles:
   * {@code sums[t] += v[vr + c][t] * u[uo + c][o]} over input channels {@code c}, in the order of
   * {@link #products} (four channels per pass), so the same bits.
   */
  private static void tileProducts(float[][] v, int vr, float[][] u, int uo, int in, int o, float[] sums,
      int count, boolean fused) {
    int c = 0;
    for (; c + 4 <= in; c += 4) {
      tileAxpy4(u[uo + c][o], v[vr + c], u[uo + c + 1][o], v[vr + c + 1], u[uo + c + 2][o], v[vr + c + 2],
          u[uo + c + 3][o], v[vr + c + 3], sums, count, fused);
    }
    for (; c < in; c++) {
      tileAxpy(u[uo + c][o], v[vr + c], sums, count, fused);
    }
  }

  /**
   * {@code s[o] += a * w[o]} for {@code o} in {@code [o0, o1)}; where {@code fused}, {@code s[o] = fma(a, w[o], s[o])}.
   * Each form a loop of its own, which C2 vectorizes (the other never runs in a JVM: {@link FusedMultiplyAdd}).
   */
  private static void axpy(float a, float[] w, float[] s, int o0, int o1, boolean fused) {
    if (fused) {
      for (int o = o0; o < o1; o++) {
        s[o] = Math.fma(a, w[o], s[o]);
      }
    } else {
      for (int o = o0; o < o1; o++) {
        s[o] += a * w[o];
      }
    }
  }

  /**
   * {@code s[o] += a0 * w0[o] + a1 * w1[o] + a2 * w2[o] + a3 * w3[o]} for {@code o} in {@code [o0, o1)}; where
   * {@code fused}, one input channel after another,
   * {@code s[o] = fma(a3, w3[o], fma(a2, w2[o], fma(a1, w1[o], fma(a0, w0[o], s[o]))))}.
   */
  private static void axpy4(float a0, float[] w0, float a1, float[] w1, float a2, float[] w2, float a3, float[] w3,
      float[] s, int o0, int o1, boolean fused) {
    if (fused) {
      for (int o = o0; o < o1; o++) {
        s[o] = Math.fma(a3, w3[o], Math.fma(a2, w2[o], Math.fma(a1, w1[o], Math.fma(a0, w0[o], s[o]))));
      }
    } else {
      for (int o = o0; o < o1; o++) {
        s[o] += a0 * w0[o] + a1 * w1[o] + a2 * w2[o] + a3 * w3[o];
      }
    }
  }

  /**
   * {@link #axpy4} for {@link #tileProducts}, a copy of its own: C2 takes a loop's trip count, and so its vectors'
   * width, from the method's profile, which every caller of one method shares (inlined or not).
   */
  private static void tileAxpy4(float a0, float[] v0, float a1, float[] v1, float a2, float[] v2, float a3,
      float[] v3, float[] s, int count, boolean fused) {
    if (fused) {
      for (int t = 0; t < count; t++) {
        s[t] = Math.fma(a3, v3[t], Math.fma(a2, v2[t], Math.fma(a1, v1[t], Math.fma(a0, v0[t], s[t]))));
      }
    } else {
      for (int t = 0; t < count; t++) {
        s[t] += a0 * v0[t] + a1 * v1[t] + a2 * v2[t] + a3 * v3[t];
      }
    }
  }

  /** {@link #axpy} for {@link #tileProducts} (see {@link #tileAxpy4}). */
  private static void tileAxpy(float a, float[] v, float[] s, int count, boolean fused) {
    if (fused) {
      for (int t = 0; t < count; t++) {
        s[t] = Math.fma(a, v[t], s[t]);
      }
    } else {
      for (int t = 0; t < count; t++) {
        s[t] += a * v[t];
      }
    }
  }

  /**
   * {@code A^T m A} of {@code count} tiles from {@code t0} on, output channels {@code [o0, o1)}, plus the bias,
   * clamped, into the NCHW output: the sums in rows of output channels ({@code m[p * GROUP + t][o]}), or where
   * {@link #byTiles} in rows of tiles ({@code m[p * out + o][t]}). A row's four output pixels are computed along
   * the row into the scratch rows {@code q} by loops that C2 vectorizes ({@link #columns}, {@link #pixels}; the
   * same adds in the same order as one pixel at a time, so the same bits), then stored one at a time, since the
   * pixels of consecutive output channels (or tiles) lie apart in the output.
   */
  private void transformOutput(float[][] m, int count, int t0, float[] b, float[][] q, float[] y, int yOff, int o0,
      int o1) {
    int plane = g.outHeight() * g.outWidth();
    int ow = g.outWidth();
    int step = byTiles ? g.outChannels() : GROUP;
    // The tile's output pixels, top left, top right, bottom left, bottom right, as pixels() leaves them.
    float[] p00 = q[0];
    float[] p01 = q[1];
    float[] p10 = q[4];
    float[] p11 = q[5];
    if (byTiles) {
      for (int o = o0; o < o1; o++) {
        columns(m, o, step, 0, count, q);
        // This output channel's bias along the row of tiles.
        Arrays.fill(q[8], 0, count, b == null ? 0f : b[o]);
        pixels(q[0], q[1], q[2], q[3], q[8], 0, count);
        pixels(q[4], q[5], q[6], q[7], q[8], 0, count);
        int top = yOff + o * plane;
        for (int i = 0; i < count; i++) {
          int e = top + tileTops[t0 + i];
          y[e] = p00[i];
          y[e + 1] = p01[i];
          y[e + ow] = p10[i];
          y[e + ow + 1] = p11[i];
        }
      }
      return;
    }
    float[] bias = b == null ? q[8] : b;
    for (int t = 0; t < count; t++) {
      columns(m, t, step, o0, o1, q);
      pixels(q[0], q[1], q[2], q[3], bias, o0, o1);
      pixels(q[4], q[5], q[6], q[7], bias, o0, o1);
      int top = yOff + tileTops[t0 + t];
      for (int o = o0; o < o1; o++) {
        int e = top + o * plane;
        y[e] = p00[o];
        y[e + 1] = p01[o];
        y[e + ow] = p10[o];
        y[e + ow + 1] = p11[o];
      }
    }
  }

  /**
   * The columns of {@code A^T m} for row {@code r}'s sums ({@code m[r + p * step]} for positions {@code p}) at
   * {@code [from, to)}: {@code q[j] = m0j + m1j + m2j} and {@code q[4 + j] = m1j - m2j - m3j} for columns
   * {@code j}, where {@code mkj} is position {@code 4k + j}. Loops of at most eight array accesses each: C2
   * (JDK 17) left a loop of twenty scalar.
   */
  private static void columns(float[][] m, int r, int step, int from, int to, float[][] q) {
    for (int j = 0; j < 4; j += 2) {
      add3(m[r + j * step], m[r + (4 + j) * step], m[r + (8 + j) * step], m[r + (1 + j) * step],
          m[r + (5 + j) * step], m[r + (9 + j) * step], q[j], q[j + 1], from, to);
      sub3(m[r + (4 + j) * step], m[r + (8 + j) * step], m[r + (12 + j) * step], m[r + (5 + j) * step],
          m[r + (9 + j) * step], m[r + (13 + j) * step], q[4 + j], q[5 + j], from, to);
    }
  }

  /** {@code x[i] = a[i] + b[i] + c[i]} and {@code z[i] = d[i] + e[i] + f[i]} for {@code i} in {@code [from, to)}. */
  private static void add3(float[] a, float[] b, float[] c, float[] d, float[] e, float[] f, float[] x, float[] z,
      int from, int to) {
    for (int i = from; i < to; i++) {
      x[i] = a[i] + b[i] + c[i];
      z[i] = d[i] + e[i] + f[i];
    }
  }

  /** {@code x[i] = a[i] - b[i] - c[i]} and {@code z[i] = d[i] - e[i] - f[i]} for {@code i} in {@code [from, to)}. */
  private static void sub3(float[] a, float[] b, float[] c, float[] d, float[] e, float[] f, float[] x, float[] z,
      int from, int to) {
    for (int i = from; i < to; i++) {
      x[i] = a[i] - b[i] - c[i];
      z[i] = d[i] - e[i] - f[i];
    }
  }

  /**
   * A row of output pixel pairs from columns {@code c0} to {@code c3} of {@code A^T m}: {@code c0 + c1 + c2} into
   * {@code c0} and {@code c1 - c2 - c3} into {@code c1}, plus {@code bias[i]}, clamped, at {@code [from, to)}.
   */
  private void pixels(float[] c0, float[] c1, float[] c2, float[] c3, float[] bias, int from, int to) {
    float lo = this.lo;
    float hi = this.hi;
    for (int i = from; i < to; i++) {
      float a = c0[i];
      float b = c1[i];
      float c = c2[i];
      float d = c3[i];
      float e = bias[i];
      c0[i] = Math.min(Math.max(a + b + c + e, lo), hi);
      c1[i] = Math.min(Math.max(b - c - d + e, lo), hi);
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
