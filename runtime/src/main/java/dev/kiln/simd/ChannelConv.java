package dev.kiln.simd;

import static dev.kiln.simd.VectorShape.SPECIES;
import static dev.kiln.simd.VectorShape.LANES;

import dev.kiln.nn.ConvGeometry;
import jdk.incubator.vector.FloatVector;

/**
 * Direct convolution vectorized over output channels instead of positions, for layers with many output
 * channels and small planes (7x7, 14x14), where vectors of positions leave many lanes idle: a kernel
 * holds {@link #P} consecutive virtual positions times two vectors of output channels (16 accumulators),
 * loads each (input channel, tap)'s two weight vectors once and broadcasts the padded input. Weights are
 * packed as {@code [group][block of 2V channels][in channel][tap][2V]}, zero-padded past the group's
 * channels. Results go through a small tile {@code [position][channel]} into the output planes; junk
 * positions (columns past the output width, the end of the last kernel call) are dropped. Where the output
 * rows are whole runs of {@link #ROW_P} positions (7, 14, 28 wide), kernel calls of that many positions start
 * at the rows' runs instead, so that no call computes a junk position: a 14x14 output took 216 positions in
 * calls of 8 (the shared zero column between rows, the last call's tail) for 196 outputs. Each output is the
 * same multiply-adds in the same order either way, so the results are the same bits.
 */
final class ChannelConv {
  /** Virtual positions per kernel call. */
  static final int P = 8;
  /** Positions per kernel call when calls follow the output rows ({@link #rowAligned}). */
  static final int ROW_P = 7;
  /** The fewest (input channel, tap) terms per output for which this beats vectors of positions. */
  static final int MIN_REDUCTION = 256;
  /** Output channels per block: two vectors. */
  static final int CB = 2 * LANES;

  private final ConvGeometry geometry;
  private final boolean relu;
  private final PaddedLayout layout;
  private final int[] offs;
  private final int outGroupChannels;
  private final int k;
  private final int blocksPerGroup;
  private final int span;
  private final int outPlane;
  /** Whether kernel calls of {@link #ROW_P} positions cover each output row exactly. */
  private final boolean rowAligned;
  private final ThreadLocal<float[]> tile = ThreadLocal.withInitial(() -> new float[P * CB]);

  /** The convolution {@code g} over inputs padded as {@code layout}. */
  ChannelConv(ConvGeometry geometry, boolean relu, PaddedLayout layout) {
    this.geometry = geometry;
    this.relu = relu;
    this.layout = layout;
    this.offs = layout.tapOffsets(geometry);
    this.outGroupChannels = geometry.outChannelsPerGroup();
    this.k = offs.length;
    this.blocksPerGroup = (outGroupChannels + CB - 1) / CB;
    this.span = span(geometry, layout);
    this.outPlane = geometry.outHeight() * geometry.outWidth();
    this.rowAligned = geometry.outWidth() % ROW_P == 0;
  }

  /** Virtual positions up to the last output position. */
  private static int span(ConvGeometry geometry, PaddedLayout layout) {
    return (geometry.outHeight() - 1) * layout.rowPitch + geometry.outWidth();
  }

  /** Floats of the padded input past its start that kernel calls may read, beyond the largest tap offset. */
  static int reach(ConvGeometry geometry, PaddedLayout layout) {
    return (span(geometry, layout) + P - 1) / P * P;
  }

  /**
   * The share of computed lanes that are outputs, for choosing between this and vectors of positions:
   * junk positions and zero-padded channels both count as waste. Counted for calls of {@link #P} virtual
   * positions even where the calls follow the rows ({@link #ROW_P}), which leaves the choice as it was tuned:
   * forced on ({@code kiln.simd.channels=on}), the suite's 48->48 and 64->64 56x56, 96->96 28x28 and 16->32 14x14 (N=32)
   * layers ran 3-32% slower than with vectors of positions.
   */
  static double utilization(ConvGeometry geometry, PaddedLayout layout) {
    int outGroupChannels = geometry.outChannelsPerGroup();
    double channels = (double) outGroupChannels / ((outGroupChannels + CB - 1) / CB * CB);
    return channels * geometry.outHeight() * geometry.outWidth() / reach(geometry, layout);
  }

  /** Packs {@code w [out, in/groups, kH, kW]} and {@code b} (or null). */
  DirectConv.Packed pack(float[] w, float[] b) {
    float[] wp = new float[geometry.groups() * blocksPerGroup * k * CB];
    float[] bp = new float[geometry.groups() * blocksPerGroup * CB];
    for (int grp = 0; grp < geometry.groups(); grp++) {
      for (int j = 0; j < outGroupChannels; j++) {
        int block = grp * blocksPerGroup + j / CB;
        int lane = j % CB;
        int oc = grp * outGroupChannels + j;
        if (b != null) {
          bp[block * CB + lane] = b[oc];
        }
        for (int i = 0; i < k; i++) {
          wp[(block * k + i) * CB + lane] = w[oc * k + i];
        }
      }
    }
    return new DirectConv.Packed(wp, bp);
  }

  /**
   * Writes output channels {@code [lo, hi)} of group {@code grp} (all within it) of one sample, from the
   * group's padded input at {@code paddedX[xBase..]}.
   */
  void compute(DirectConv.Packed pw, float[] paddedX, int xBase, int grp, int lo, int hi, float[] y, int yOff) {
    float floor = relu ? 0f : Float.NEGATIVE_INFINITY;
    float[] t = tile.get();
    int first = grp * outGroupChannels;
    for (int blk = (lo - first) / CB; blk * CB < hi - first; blk++) {
      int block = grp * blocksPerGroup + blk;
      int blockStart = first + blk * CB;
      int from = Math.max(lo, blockStart) - blockStart;
      int to = Math.min(hi, blockStart + CB) - blockStart;
      if (rowAligned) {
        int outW = geometry.outWidth();
        int yBase = yOff + blockStart * outPlane;
        for (int oh = 0; oh < geometry.outHeight(); oh++) {
          for (int ow = 0; ow < outW; ow += ROW_P) {
            rowKernel(paddedX, xBase + oh * layout.rowPitch + ow, offs, k, pw.wp, block * k * CB, pw.bp, block * CB, t,
                floor);
            storeRun(t, from, to, y, yBase + oh * outW + ow);
          }
        }
        continue;
      }
      for (int p0 = 0; p0 < span; p0 += P) {
        kernel(paddedX, xBase + p0, offs, k, pw.wp, block * k * CB, pw.bp, block * CB, t, floor);
        store(t, p0, from, to, y, yOff + blockStart * outPlane);
      }
    }
  }

  /**
   * Copies the tile's outputs (channels {@code [from, to)} of the block) into the planes at {@code y[yBase..]}:
   * every output {@code (oh, ow)} whose virtual position {@code oh * Wq + ow} is in {@code [p0, p0 + P)}.
   * With shared zero borders an output row can be wider than {@code Wq}, so one virtual position may serve
   * two outputs (which read the same cells).
   */
  private void store(float[] t, int p0, int from, int to, float[] y, int yBase) {
    int rowPitch = layout.rowPitch;
    int outW = geometry.outWidth();
    int first = Math.max(0, (p0 - outW + rowPitch) / rowPitch);
    int last = Math.min(geometry.outHeight() - 1, (p0 + P - 1) / rowPitch);
    for (int oh = first; oh <= last; oh++) {
      int row = oh * rowPitch;
      int owStart = Math.max(0, p0 - row);
      int owEnd = Math.min(outW, p0 + P - row);
      for (int ow = owStart; ow < owEnd; ow++) {
        int dst = yBase + oh * outW + ow;
        int src = (row + ow - p0) * CB;
        for (int l = from; l < to; l++) {
          y[dst + l * outPlane] = t[src + l];
        }
      }
    }
  }

  /** Copies the tile's {@link #ROW_P} positions (channels {@code [from, to)}) to one run of a row at {@code y[dst..]}. */
  private void storeRun(float[] t, int from, int to, float[] y, int dst) {
    for (int j = 0; j < ROW_P; j++) {
      for (int l = from; l < to; l++) {
        y[dst + j + l * outPlane] = t[j * CB + l];
      }
    }
  }

  /**
   * {@link #ROW_P} positions from virtual position {@code p} times {@link #CB} channels, into {@code t}: the
   * multiply-adds of {@link #kernel} for its first seven positions, in the same order.
   */
  private static void rowKernel(float[] paddedX, int p, int[] offs, int n, float[] wp, int wo, float[] bp, int bo,
      float[] t, float floor) {
    FloatVector b0 = FloatVector.fromArray(SPECIES, bp, bo);
    FloatVector b1 = FloatVector.fromArray(SPECIES, bp, bo + LANES);
    FloatVector a00 = b0;
    FloatVector a01 = b1;
    FloatVector a10 = b0;
    FloatVector a11 = b1;
    FloatVector a20 = b0;
    FloatVector a21 = b1;
    FloatVector a30 = b0;
    FloatVector a31 = b1;
    FloatVector a40 = b0;
    FloatVector a41 = b1;
    FloatVector a50 = b0;
    FloatVector a51 = b1;
    FloatVector a60 = b0;
    FloatVector a61 = b1;
    for (int i = 0; i < n; i++) {
      int o = p + offs[i];
      int q = wo + i * CB;
      FloatVector w0 = FloatVector.fromArray(SPECIES, wp, q);
      FloatVector w1 = FloatVector.fromArray(SPECIES, wp, q + LANES);
      FloatVector x = FloatVector.broadcast(SPECIES, paddedX[o]);
      a00 = w0.fma(x, a00);
      a01 = w1.fma(x, a01);
      x = FloatVector.broadcast(SPECIES, paddedX[o + 1]);
      a10 = w0.fma(x, a10);
      a11 = w1.fma(x, a11);
      x = FloatVector.broadcast(SPECIES, paddedX[o + 2]);
      a20 = w0.fma(x, a20);
      a21 = w1.fma(x, a21);
      x = FloatVector.broadcast(SPECIES, paddedX[o + 3]);
      a30 = w0.fma(x, a30);
      a31 = w1.fma(x, a31);
      x = FloatVector.broadcast(SPECIES, paddedX[o + 4]);
      a40 = w0.fma(x, a40);
      a41 = w1.fma(x, a41);
      x = FloatVector.broadcast(SPECIES, paddedX[o + 5]);
      a50 = w0.fma(x, a50);
      a51 = w1.fma(x, a51);
      x = FloatVector.broadcast(SPECIES, paddedX[o + 6]);
      a60 = w0.fma(x, a60);
      a61 = w1.fma(x, a61);
    }
    a00.max(floor).intoArray(t, 0);
    a01.max(floor).intoArray(t, LANES);
    a10.max(floor).intoArray(t, CB);
    a11.max(floor).intoArray(t, CB + LANES);
    a20.max(floor).intoArray(t, 2 * CB);
    a21.max(floor).intoArray(t, 2 * CB + LANES);
    a30.max(floor).intoArray(t, 3 * CB);
    a31.max(floor).intoArray(t, 3 * CB + LANES);
    a40.max(floor).intoArray(t, 4 * CB);
    a41.max(floor).intoArray(t, 4 * CB + LANES);
    a50.max(floor).intoArray(t, 5 * CB);
    a51.max(floor).intoArray(t, 5 * CB + LANES);
    a60.max(floor).intoArray(t, 6 * CB);
    a61.max(floor).intoArray(t, 6 * CB + LANES);
  }

  /** {@link #P} positions from virtual position {@code p} times {@link #CB} channels, into {@code t}. */
  private static void kernel(float[] paddedX, int p, int[] offs, int n, float[] wp, int wo, float[] bp, int bo, float[] t,
      float floor) {
    FloatVector b0 = FloatVector.fromArray(SPECIES, bp, bo);
    FloatVector b1 = FloatVector.fromArray(SPECIES, bp, bo + LANES);
    FloatVector a00 = b0;
    FloatVector a01 = b1;
    FloatVector a10 = b0;
    FloatVector a11 = b1;
    FloatVector a20 = b0;
    FloatVector a21 = b1;
    FloatVector a30 = b0;
    FloatVector a31 = b1;
    FloatVector a40 = b0;
    FloatVector a41 = b1;
    FloatVector a50 = b0;
    FloatVector a51 = b1;
    FloatVector a60 = b0;
    FloatVector a61 = b1;
    FloatVector a70 = b0;
    FloatVector a71 = b1;
    for (int i = 0; i < n; i++) {
      int o = p + offs[i];
      int q = wo + i * CB;
      FloatVector w0 = FloatVector.fromArray(SPECIES, wp, q);
      FloatVector w1 = FloatVector.fromArray(SPECIES, wp, q + LANES);
      FloatVector x = FloatVector.broadcast(SPECIES, paddedX[o]);
      a00 = w0.fma(x, a00);
      a01 = w1.fma(x, a01);
      x = FloatVector.broadcast(SPECIES, paddedX[o + 1]);
      a10 = w0.fma(x, a10);
      a11 = w1.fma(x, a11);
      x = FloatVector.broadcast(SPECIES, paddedX[o + 2]);
      a20 = w0.fma(x, a20);
      a21 = w1.fma(x, a21);
      x = FloatVector.broadcast(SPECIES, paddedX[o + 3]);
      a30 = w0.fma(x, a30);
      a31 = w1.fma(x, a31);
      x = FloatVector.broadcast(SPECIES, paddedX[o + 4]);
      a40 = w0.fma(x, a40);
      a41 = w1.fma(x, a41);
      x = FloatVector.broadcast(SPECIES, paddedX[o + 5]);
      a50 = w0.fma(x, a50);
      a51 = w1.fma(x, a51);
      x = FloatVector.broadcast(SPECIES, paddedX[o + 6]);
      a60 = w0.fma(x, a60);
      a61 = w1.fma(x, a61);
      x = FloatVector.broadcast(SPECIES, paddedX[o + 7]);
      a70 = w0.fma(x, a70);
      a71 = w1.fma(x, a71);
    }
    a00.max(floor).intoArray(t, 0);
    a01.max(floor).intoArray(t, LANES);
    a10.max(floor).intoArray(t, CB);
    a11.max(floor).intoArray(t, CB + LANES);
    a20.max(floor).intoArray(t, 2 * CB);
    a21.max(floor).intoArray(t, 2 * CB + LANES);
    a30.max(floor).intoArray(t, 3 * CB);
    a31.max(floor).intoArray(t, 3 * CB + LANES);
    a40.max(floor).intoArray(t, 4 * CB);
    a41.max(floor).intoArray(t, 4 * CB + LANES);
    a50.max(floor).intoArray(t, 5 * CB);
    a51.max(floor).intoArray(t, 5 * CB + LANES);
    a60.max(floor).intoArray(t, 6 * CB);
    a61.max(floor).intoArray(t, 6 * CB + LANES);
    a70.max(floor).intoArray(t, 7 * CB);
    a71.max(floor).intoArray(t, 7 * CB + LANES);
  }
}
