package dev.kiln.simd;

import static dev.kiln.simd.VectorShape.SPECIES;
import static dev.kiln.simd.VectorShape.LANES;

import dev.kiln.nn.ConvGeometry;
import jdk.incubator.vector.FloatVector;

/**
 * One sample's weight gradient as a matrix product over output positions:
 * {@code gw[oc][c, tap] += sum_p gy[oc][p] * xpad[c][p + tapOffset]}, vectorized over output channels.
 * The output gradient is transposed per sample into panels of {@code ocVectors * LANES} output channels,
 * {@code [virtual position][channel]}, so that a kernel of {@link #COLS} (input channel, tap) columns times
 * {@code 1..2} vectors of output channels keeps its accumulators in registers over all positions and
 * broadcasts the padded input. Positions run over the virtual rows of the padded layout ({@code oh * Wq +
 * ow}), junk columns included: their gradient cells are zero, and every index is linear in the loop
 * counter, so the JIT hoists the bounds checks. With fewer output channels per group than a vector
 * (depthwise), it vectorizes over positions instead.
 */
final class WeightGradient {
  /** (input channel, tap) columns per kernel call. */
  static final int COLS = 8;
  /** Positions per tile of the output-gradient transposition. */
  private static final int TILE = 16;

  private final ConvGeometry geometry;
  private final PaddedLayout layout;
  private final int inGroupChannels;
  private final int outGroupChannels;
  private final int taps;
  private final int columns;
  /** Output-channel vectors per kernel call: 1 or 2. */
  private final int ocVectors;
  /** Output channels per panel: {@code ocVectors * LANES}. */
  private final int width;
  /** Output channels per group rounded up to whole panels. */
  private final int ocPad;
  /** Columns rounded up to whole kernel calls ({@link #COLS}). */
  private final int paddedColumns;
  /** Offset of each (input channel, tap) column from its group's first padded channel; padded to COLS. */
  private final int[] colOff;
  private final int xpLength;
  /** Virtual positions {@code oh * Wq + ow} up to the last output position, junk columns included. */
  private final int span;
  /** Vectorize over output channels (at least a vector per group), else over positions. */
  private final boolean byChannel;
  /** Vectors of virtual positions (for the by-position kernels). */
  private final int vectors;
  private final ThreadLocal<Scratch> scratch;

  private static final class Scratch {
    final float[] paddedX;
    final float[] gyT;
    /** The transposed weight gradient of one call (by channel). */
    final float[] gwT;

    /** One output-gradient plane in virtual rows; junk columns are never written and stay zero. */
    final float[] gyv;

    Scratch(int xpLength, int gyTLength, int gyvLength, int gwTLength) {
      gwT = new float[gwTLength];
      paddedX = new float[xpLength];
      gyT = new float[gyTLength];
      gyv = new float[gyvLength];
    }
  }


  WeightGradient(ConvGeometry geometry) {
    this.geometry = geometry;
    this.layout = PaddedLayout.of(geometry, 1);
    this.inGroupChannels = geometry.inChannelsPerGroup();
    this.outGroupChannels = geometry.outChannelsPerGroup();
    this.taps = geometry.kernelH() * geometry.kernelW();
    this.columns = inGroupChannels * taps;
    this.ocVectors = outGroupChannels >= 2 * LANES ? 2 : 1;
    this.width = ocVectors * LANES;
    this.ocPad = (outGroupChannels + width - 1) / width * width;
    this.paddedColumns = (columns + COLS - 1) / COLS * COLS;
    int[] taps = layout.tapOffsets(geometry);
    // Padded columns read offset 0: their sums are computed and dropped.
    this.colOff = java.util.Arrays.copyOf(taps, paddedColumns);
    int maxOff = java.util.Arrays.stream(taps).max().orElse(0);
    int span = (geometry.outHeight() - 1) * layout.rowPitch + geometry.outWidth();
    this.span = span;
    this.xpLength = geometry.inChannels() * layout.channelStride + maxOff + span + LANES;
    this.byChannel = outGroupChannels >= LANES;
    this.vectors = (span + LANES - 1) / LANES;
    int gyTLength = byChannel ? geometry.groups() * span * ocPad : 0;
    int gyvLength = byChannel ? 0 : vectors * LANES;
    int gwTLength = byChannel ? geometry.groups() * ocPad * paddedColumns : 0;
    this.scratch = ThreadLocal.withInitial(() -> new Scratch(xpLength, gyTLength, gyvLength, gwTLength));
  }

  /**
   * Adds the weight gradient of samples {@code [from, to)} to {@code gw} and their bias gradient to
   * {@code gb} (if not null); sample {@code i} is at {@code x[i * xStride..]} and {@code gy[i * gyStride..]}.
   * By channel, the kernels add their accumulators to a transposed gradient ({@code [panel][column][lane]})
   * with whole vectors, which is added to {@code gw} once per call.
   */
  void accumulate(float[] x, int xStride, float[] gy, int gyStride, int from, int to, float[] gw, float[] gb) {
    Scratch s = scratch.get();
    if (!byChannel) {
      for (int i = from; i < to; i++) {
        layout.pad(x, i * xStride, 0, geometry.inChannels(), s.paddedX);
        accumulateByPosition(s, gy, i * gyStride, gw, gb);
      }
      return;
    }
    float[] gwT = s.gwT;
    java.util.Arrays.fill(gwT, 0f);
    for (int i = from; i < to; i++) {
      layout.pad(x, i * xStride, 0, geometry.inChannels(), s.paddedX);
      transpose(gy, i * gyStride, s.gyT, gb);
      for (int grp = 0; grp < geometry.groups(); grp++) {
        int xBase = grp * inGroupChannels * layout.channelStride;
        for (int o0 = 0; o0 < outGroupChannels; o0 += width) {
          int panel = grp * ocPad + o0;
          int gyBase = panel * span;
          int gwBase = panel * paddedColumns;
          int c0 = 0;
          for (; c0 + COLS <= columns; c0 += COLS) {
            if (ocVectors == 2) {
              kernel8x2(s.paddedX, xBase, s.gyT, gyBase, gwT, gwBase + c0 * width, c0);
            } else {
              kernel8x1(s.paddedX, xBase, s.gyT, gyBase, gwT, gwBase + c0 * width, c0);
            }
          }
          for (; c0 < columns; c0++) {
            kernel1(s.paddedX, xBase + colOff[c0], s.gyT, gyBase, gwT, gwBase + c0 * width);
          }
        }
      }
    }
    for (int oc = 0; oc < geometry.outChannels(); oc++) {
      int grp = oc / outGroupChannels;
      int col = oc - grp * outGroupChannels;
      int src = (grp * ocPad + col - col % width) * paddedColumns + col % width;
      int dst = oc * columns;
      for (int c = 0; c < columns; c++) {
        gw[dst + c] += gwT[src + c * width];
      }
    }
  }

  /**
   * Copies one sample's output gradient into the panels of {@code gyT}: panel {@code col / width} of the
   * group, lane {@code col % width}, virtual position {@code oh * Wq + ow}; adds its sums to {@code gb}.
   * The copy runs over tiles of {@link #TILE} positions of a row, so that the panel lines it writes stay in
   * L1 until all lanes are in.
   */
  private void transpose(float[] gy, int gyOff, float[] gyT, float[] gb) {
    int outH = geometry.outHeight();
    int outW = geometry.outWidth();
    int plane = outH * outW;
    int rowPitch = layout.rowPitch;
    if (gb != null) {
      for (int oc = 0; oc < geometry.outChannels(); oc++) {
        gb[oc] += (float) SimdPlaneLoops.total(gy, gyOff + oc * plane, gyOff + (oc + 1) * plane);
      }
    }
    for (int grp = 0; grp < geometry.groups(); grp++) {
      for (int o0 = 0; o0 < outGroupChannels; o0 += width) {
        int panel = (grp * ocPad + o0) * span;
        int src0 = gyOff + (grp * outGroupChannels + o0) * plane;
        int lanes = Math.min(width, outGroupChannels - o0);
        for (int r = 0; r < outH; r++) {
          for (int c0 = 0; c0 < outW; c0 += TILE) {
            int c1 = Math.min(outW, c0 + TILE);
            for (int l = 0; l < lanes; l++) {
              int src = src0 + l * plane + r * outW;
              int d = panel + r * rowPitch * width + l;
              for (int c = c0; c < c1; c++) {
                gyT[d + c * width] = gy[src + c];
              }
            }
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
    int outH = geometry.outHeight();
    int outW = geometry.outWidth();
    int rowPitch = layout.rowPitch;
    for (int oc = 0; oc < geometry.outChannels(); oc++) {
      int src = gyOff + oc * outH * outW;
      float sum = 0f;
      for (int r = 0; r < outH; r++) {
        for (int c = 0; c < outW; c++) {
          float v = gy[src + r * outW + c];
          gyv[r * rowPitch + c] = v;
          sum += v;
        }
      }
      if (gb != null) {
        gb[oc] += sum;
      }
      int xBase = oc / outGroupChannels * inGroupChannels * layout.channelStride;
      for (int c0 = 0; c0 < columns; c0 += COLS) {
        kernelPositions(s.paddedX, xBase, gyv, gw, oc * columns, c0);
      }
    }
  }

  private void kernelPositions(float[] paddedX, int xBase, float[] gyv, float[] gw, int gwBase, int c0) {
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
    int end = vectors * LANES;
    for (int p = 0; p < end; p += LANES) {
      FloatVector gv = FloatVector.fromArray(SPECIES, gyv, p);
      a0 = gv.fma(FloatVector.fromArray(SPECIES, paddedX, o0 + p), a0);
      a1 = gv.fma(FloatVector.fromArray(SPECIES, paddedX, o1 + p), a1);
      a2 = gv.fma(FloatVector.fromArray(SPECIES, paddedX, o2 + p), a2);
      a3 = gv.fma(FloatVector.fromArray(SPECIES, paddedX, o3 + p), a3);
      a4 = gv.fma(FloatVector.fromArray(SPECIES, paddedX, o4 + p), a4);
      a5 = gv.fma(FloatVector.fromArray(SPECIES, paddedX, o5 + p), a5);
      a6 = gv.fma(FloatVector.fromArray(SPECIES, paddedX, o6 + p), a6);
      a7 = gv.fma(FloatVector.fromArray(SPECIES, paddedX, o7 + p), a7);
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
      gw[gwBase + col] += VectorShape.sumLanes(acc);
    }
  }

  /** {@code gwT[at..at + LANES) += acc}. */
  private static void add(FloatVector acc, float[] gwT, int at) {
    acc.add(FloatVector.fromArray(SPECIES, gwT, at)).intoArray(gwT, at);
  }

  /**
   * Columns {@code c0..c0+7} times two vectors of output channels: adds to {@code gwT} at
   * {@code gwAt + j * 2V} (column {@code c0 + j}), the padded columns' sums included (they are not read).
   */
  private void kernel8x2(float[] paddedX, int xBase, float[] gyT, int gyBase, float[] gwT, int gwAt, int c0) {
    if (TileBudget.SPLIT_DIRECT_KERNELS) {
      kernel4x2(paddedX, xBase, gyT, gyBase, gwT, gwAt, c0);
      kernel4x2(paddedX, xBase, gyT, gyBase, gwT, gwAt + 4 * (2 * LANES), c0 + 4);
      return;
    }
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
    int span = this.span;
    // One flat loop over the virtual positions: vectors carried across nested loops defeat the JIT.
    for (int p = 0; p < span; p++) {
      int s = gyBase + p * (2 * LANES);
      FloatVector g0 = FloatVector.fromArray(SPECIES, gyT, s);
      FloatVector g1 = FloatVector.fromArray(SPECIES, gyT, s + LANES);
      FloatVector x = FloatVector.broadcast(SPECIES, paddedX[o0 + p]);
      a00 = g0.fma(x, a00);
      a01 = g1.fma(x, a01);
      x = FloatVector.broadcast(SPECIES, paddedX[o1 + p]);
      a10 = g0.fma(x, a10);
      a11 = g1.fma(x, a11);
      x = FloatVector.broadcast(SPECIES, paddedX[o2 + p]);
      a20 = g0.fma(x, a20);
      a21 = g1.fma(x, a21);
      x = FloatVector.broadcast(SPECIES, paddedX[o3 + p]);
      a30 = g0.fma(x, a30);
      a31 = g1.fma(x, a31);
      x = FloatVector.broadcast(SPECIES, paddedX[o4 + p]);
      a40 = g0.fma(x, a40);
      a41 = g1.fma(x, a41);
      x = FloatVector.broadcast(SPECIES, paddedX[o5 + p]);
      a50 = g0.fma(x, a50);
      a51 = g1.fma(x, a51);
      x = FloatVector.broadcast(SPECIES, paddedX[o6 + p]);
      a60 = g0.fma(x, a60);
      a61 = g1.fma(x, a61);
      x = FloatVector.broadcast(SPECIES, paddedX[o7 + p]);
      a70 = g0.fma(x, a70);
      a71 = g1.fma(x, a71);
    }
    int w = 2 * LANES;
    add(a00, gwT, gwAt);
    add(a01, gwT, gwAt + LANES);
    add(a10, gwT, gwAt + w);
    add(a11, gwT, gwAt + w + LANES);
    add(a20, gwT, gwAt + 2 * w);
    add(a21, gwT, gwAt + 2 * w + LANES);
    add(a30, gwT, gwAt + 3 * w);
    add(a31, gwT, gwAt + 3 * w + LANES);
    add(a40, gwT, gwAt + 4 * w);
    add(a41, gwT, gwAt + 4 * w + LANES);
    add(a50, gwT, gwAt + 5 * w);
    add(a51, gwT, gwAt + 5 * w + LANES);
    add(a60, gwT, gwAt + 6 * w);
    add(a61, gwT, gwAt + 6 * w + LANES);
    add(a70, gwT, gwAt + 7 * w);
    add(a71, gwT, gwAt + 7 * w + LANES);
  }

  /**
   * Columns {@code c0..c0+3} of {@link #kernel8x2}, where the registers do not hold its 16 accumulators
   * ({@link TileBudget#SPLIT_DIRECT_KERNELS}): the same multiply-adds in the same order, so the same bits.
   */
  private void kernel4x2(float[] paddedX, int xBase, float[] gyT, int gyBase, float[] gwT, int gwAt, int c0) {
    int o0 = xBase + colOff[c0];
    int o1 = xBase + colOff[c0 + 1];
    int o2 = xBase + colOff[c0 + 2];
    int o3 = xBase + colOff[c0 + 3];
    FloatVector z = FloatVector.zero(SPECIES);
    FloatVector a00 = z;
    FloatVector a01 = z;
    FloatVector a10 = z;
    FloatVector a11 = z;
    FloatVector a20 = z;
    FloatVector a21 = z;
    FloatVector a30 = z;
    FloatVector a31 = z;
    int span = this.span;
    for (int p = 0; p < span; p++) {
      int s = gyBase + p * (2 * LANES);
      FloatVector g0 = FloatVector.fromArray(SPECIES, gyT, s);
      FloatVector g1 = FloatVector.fromArray(SPECIES, gyT, s + LANES);
      FloatVector x = FloatVector.broadcast(SPECIES, paddedX[o0 + p]);
      a00 = g0.fma(x, a00);
      a01 = g1.fma(x, a01);
      x = FloatVector.broadcast(SPECIES, paddedX[o1 + p]);
      a10 = g0.fma(x, a10);
      a11 = g1.fma(x, a11);
      x = FloatVector.broadcast(SPECIES, paddedX[o2 + p]);
      a20 = g0.fma(x, a20);
      a21 = g1.fma(x, a21);
      x = FloatVector.broadcast(SPECIES, paddedX[o3 + p]);
      a30 = g0.fma(x, a30);
      a31 = g1.fma(x, a31);
    }
    int w = 2 * LANES;
    add(a00, gwT, gwAt);
    add(a01, gwT, gwAt + LANES);
    add(a10, gwT, gwAt + w);
    add(a11, gwT, gwAt + w + LANES);
    add(a20, gwT, gwAt + 2 * w);
    add(a21, gwT, gwAt + 2 * w + LANES);
    add(a30, gwT, gwAt + 3 * w);
    add(a31, gwT, gwAt + 3 * w + LANES);
  }

  /** As {@link #kernel8x2} for one vector of output channels. */
  private void kernel8x1(float[] paddedX, int xBase, float[] gyT, int gyBase, float[] gwT, int gwAt, int c0) {
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
    int span = this.span;
    // One flat loop over the virtual positions: vectors carried across nested loops defeat the JIT.
    for (int p = 0; p < span; p++) {
      FloatVector g0 = FloatVector.fromArray(SPECIES, gyT, gyBase + p * LANES);
      a0 = g0.fma(FloatVector.broadcast(SPECIES, paddedX[o0 + p]), a0);
      a1 = g0.fma(FloatVector.broadcast(SPECIES, paddedX[o1 + p]), a1);
      a2 = g0.fma(FloatVector.broadcast(SPECIES, paddedX[o2 + p]), a2);
      a3 = g0.fma(FloatVector.broadcast(SPECIES, paddedX[o3 + p]), a3);
      a4 = g0.fma(FloatVector.broadcast(SPECIES, paddedX[o4 + p]), a4);
      a5 = g0.fma(FloatVector.broadcast(SPECIES, paddedX[o5 + p]), a5);
      a6 = g0.fma(FloatVector.broadcast(SPECIES, paddedX[o6 + p]), a6);
      a7 = g0.fma(FloatVector.broadcast(SPECIES, paddedX[o7 + p]), a7);
    }
    add(a0, gwT, gwAt);
    add(a1, gwT, gwAt + LANES);
    add(a2, gwT, gwAt + 2 * LANES);
    add(a3, gwT, gwAt + 3 * LANES);
    add(a4, gwT, gwAt + 4 * LANES);
    add(a5, gwT, gwAt + 5 * LANES);
    add(a6, gwT, gwAt + 6 * LANES);
    add(a7, gwT, gwAt + 7 * LANES);
  }

  /** One column (the remainder of {@link #COLS}) times one or two vectors of output channels. */
  private void kernel1(float[] paddedX, int o, float[] gyT, int gyBase, float[] gwT, int gwAt) {
    FloatVector a0 = FloatVector.zero(SPECIES);
    FloatVector a1 = a0;
    int span = this.span;
    if (ocVectors == 2) {
      for (int p = 0; p < span; p++) {
        int s = gyBase + p * (2 * LANES);
        FloatVector x = FloatVector.broadcast(SPECIES, paddedX[o + p]);
        a0 = FloatVector.fromArray(SPECIES, gyT, s).fma(x, a0);
        a1 = FloatVector.fromArray(SPECIES, gyT, s + LANES).fma(x, a1);
      }
      add(a0, gwT, gwAt);
      add(a1, gwT, gwAt + LANES);
      return;
    }
    // Two accumulators over alternate positions, so that consecutive multiply-adds are independent.
    int p = 0;
    for (; p + 1 < span; p += 2) {
      a0 = FloatVector.fromArray(SPECIES, gyT, gyBase + p * LANES).fma(FloatVector.broadcast(SPECIES, paddedX[o + p]), a0);
      a1 = FloatVector.fromArray(SPECIES, gyT, gyBase + (p + 1) * LANES)
          .fma(FloatVector.broadcast(SPECIES, paddedX[o + p + 1]), a1);
    }
    if (p < span) {
      a0 = FloatVector.fromArray(SPECIES, gyT, gyBase + p * LANES).fma(FloatVector.broadcast(SPECIES, paddedX[o + p]), a0);
    }
    add(a0.add(a1), gwT, gwAt);
  }
}
