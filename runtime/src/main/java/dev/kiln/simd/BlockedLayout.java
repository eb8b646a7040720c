package dev.kiln.simd;

import static dev.kiln.simd.VectorShape.LANES;

import dev.kiln.nn.ConvGeometry;
import java.util.Objects;

/**
 * Where one sample {@code [C, H, W]} lives in a float array, with a zero halo around each channel's plane
 * that the next convolution reads as its zero padding:
 * <ul>
 *   <li><em>blocked</em> ({@code NCHW<LANES>c}): channels in blocks of {@link VectorShape#LANES} lanes, a block's pixels in
 *       row-major order, each pixel's lanes contiguous; the last block's lanes past {@code C} stay zero;
 *   <li><em>planes</em>: one padded plane per channel (NCHW with a border), for inputs with few channels.
 * </ul>
 * The halo is never written by anyone, so a buffer allocated zeroed keeps it zero: producers write the
 * interior only. Immutable.
 */
final class BlockedLayout {
  final int channels;
  final int height;
  final int width;
  final boolean blocked;
  final int top;
  final int bottom;
  final int left;
  final int right;
  /** Channel blocks (blocked) or channels (planes). */
  final int blocks;
  final int paddedHeight;
  final int paddedWidth;
  /** Floats from one pixel to the next in a row: {@link VectorShape#LANES} or 1. */
  final int pixelStride;
  /** Floats from one padded row to the next. */
  final int rowStride;
  /** Floats from one channel block (or plane) to the next. */
  final int blockStride;
  /** Floats of one sample. */
  final int sampleSize;

  /** Interior pixel {@code p}'s {@link #pixel offset} (row-major order), made on first use ({@link #pixels()}). */
  private int[] pixels;

  private BlockedLayout(int channels, int height, int width, boolean blocked, int top, int bottom, int left,
      int right) {
    if (channels <= 0 || height <= 0 || width <= 0 || top < 0 || bottom < 0 || left < 0 || right < 0) {
      throw new IllegalArgumentException("bad layout " + channels + "x" + height + "x" + width);
    }
    this.channels = channels;
    this.height = height;
    this.width = width;
    this.blocked = blocked;
    this.top = top;
    this.bottom = bottom;
    this.left = left;
    this.right = right;
    this.blocks = blocked ? VectorShape.blocks(channels) : channels;
    this.paddedHeight = height + top + bottom;
    this.paddedWidth = width + left + right;
    this.pixelStride = blocked ? LANES : 1;
    this.rowStride = Math.multiplyExact(paddedWidth, pixelStride);
    this.blockStride = Math.multiplyExact(paddedHeight, rowStride);
    this.sampleSize = Math.multiplyExact(blocks, blockStride);
  }

  /** A blocked layout with the given halo. */
  static BlockedLayout blocked(int channels, int height, int width, int top, int bottom, int left, int right) {
    return new BlockedLayout(channels, height, width, true, top, bottom, left, right);
  }

  /** One padded plane per channel, with the given halo. */
  static BlockedLayout planes(int channels, int height, int width, int top, int bottom, int left, int right) {
    return new BlockedLayout(channels, height, width, false, top, bottom, left, right);
  }

  /** The offset of channel {@code c}'s element at (0, 0) relative to the block base, halo excluded. */
  int channelOffset(int c) {
    return blocked ? (c / LANES) * blockStride + c % LANES : c * blockStride;
  }

  /**
   * The offset of each (input channel, tap) of convolution {@code g}'s first {@code channels} input channels from
   * the first channel's element under the top-left tap, in the order {@code [channel][kh][kw]} of the weights.
   */
  int[] tapOffsets(ConvGeometry g, int channels) {
    int[] taps = new int[g.kernelH() * g.kernelW()];
    int t = 0;
    for (int kh = 0; kh < g.kernelH(); kh++) {
      for (int kw = 0; kw < g.kernelW(); kw++) {
        taps[t++] = kh * g.dilationH() * rowStride + kw * g.dilationW() * pixelStride;
      }
    }
    int[] off = new int[channels * taps.length];
    int r = 0;
    for (int c = 0; c < channels; c++) {
      int base = channelOffset(c);
      for (int tap : taps) {
        off[r++] = base + tap;
      }
    }
    return off;
  }

  /** The offset of interior pixel ({@code h}, {@code w}) within its channel block or plane. */
  int pixel(int h, int w) {
    return (h + top) * rowStride + (w + left) * pixelStride;
  }

  /**
   * The {@link #pixel offsets} of the interior pixels in row-major order (the order of an NCHW plane), for the
   * transposes ({@link BlockTranspose}). Made once; threads that race to make it make the same table.
   */
  int[] pixels() {
    int[] p = pixels;
    if (p == null) {
      p = new int[height * width];
      for (int h = 0, i = 0; h < height; h++) {
        for (int w = 0; w < width; w++) {
          p[i++] = pixel(h, w);
        }
      }
      pixels = p;
    }
    return p;
  }

  /**
   * Zeroes what of one sample at {@code buf[off..]} is not a channel's interior element: the halo of every
   * block (or plane) and, in a blocked layout, the last block's lanes past {@code C}. A buffer that held
   * another layout before holds this one's zero padding again afterwards.
   */
  void clearOutside(float[] buf, int off) {
    clearOutside(buf, off, 0, height);
  }

  /**
   * {@link #clearOutside(float[], int)} for interior rows {@code [h0, h1)} only: their halo columns and padded
   * lanes, and the halo rows above them if {@code h0} is 0 and below them if {@code h1} is the height.
   */
  void clearOutside(float[] buf, int off, int h0, int h1) {
    for (int cb = 0; cb < blocks; cb++) {
      int base = off + cb * blockStride;
      if (h0 == 0) {
        java.util.Arrays.fill(buf, base, base + top * rowStride, 0f);
      }
      if (h1 == height) {
        java.util.Arrays.fill(buf, base + (top + height) * rowStride, base + paddedHeight * rowStride, 0f);
      }
      clearRowEnds(buf, base + (top + h0) * rowStride, h1 - h0, rowStride, left * pixelStride,
          (left + width) * pixelStride);
    }
    int used = channels - (blocks - 1) * LANES;
    if (blocked && used < LANES) {
      int base = off + (blocks - 1) * blockStride;
      for (int h = h0; h < h1; h++) {
        for (int w = 0; w < width; w++) {
          int p = base + pixel(h, w);
          java.util.Arrays.fill(buf, p + used, p + LANES, 0f);
        }
      }
    }
  }

  /**
   * Zeroes the first {@code head} floats and those from {@code tail} to {@code rowStride} of {@code rows} rows from
   * {@code buf[first]}. A method of its own, called once per channel block, so that C1 compiles it from its calls
   * early in a first forward: as a loop inside {@link #clearOutside}, which a layer calls once per sample, it ran
   * interpreted for much of MobileNet v1's first forward at N=8 (JFR: 35 interpreted samples in six cold starts).
   */
  private static void clearRowEnds(float[] buf, int first, int rows, int rowStride, int head, int tail) {
    for (int r = 0, row = first; r < rows; r++, row += rowStride) {
      java.util.Arrays.fill(buf, row, row + head, 0f);
      java.util.Arrays.fill(buf, row + tail, row + rowStride, 0f);
    }
  }

  /** The same channels and size with another halo. */
  BlockedLayout withHalo(int top, int bottom, int left, int right) {
    return new BlockedLayout(channels, height, width, blocked, top, bottom, left, right);
  }

  /**
   * Writes sample {@code [C, H, W]} at {@code src[srcOff..]} (NCHW, no halo) into this layout's interior at
   * {@code dst[dstOff..]}; the halo is left as it is.
   */
  void fromNchw(float[] src, int srcOff, float[] dst, int dstOff) {
    fromNchw(src, srcOff, dst, dstOff, 0, height);
  }

  /** {@link #fromNchw(float[], int, float[], int)} for the interior rows {@code [h0, h1)} only. */
  void fromNchw(float[] src, int srcOff, float[] dst, int dstOff, int h0, int h1) {
    int plane = height * width;
    if (!blocked) {
      for (int c = 0; c < channels; c++) {
        for (int h = h0; h < h1; h++) {
          System.arraycopy(src, srcOff + c * plane + h * width, dst, dstOff + c * blockStride + pixel(h, 0), width);
        }
      }
      return;
    }
    // Full blocks 16 pixels at a time by transposes where they are compiled; the rest element by element.
    int first = h0 * width;
    int end = h1 * width;
    int runs = BlockTranspose.ready(this) ? (end - first) / LANES : 0;
    int[] pixels = runs > 0 ? pixels() : null;
    for (int cb = 0; cb < blocks; cb++) {
      int lanes = Math.min(LANES, channels - cb * LANES);
      int from = srcOff + cb * LANES * plane;
      int base = dstOff + cb * blockStride;
      if (lanes == LANES && runs > 0) {
        BlockTranspose.runs(src, from, plane, dst, base, pixels, first, runs, false);
        for (int p = first + runs * LANES; p < end; p++) {
          int d = base + pixels[p];
          for (int lane = 0; lane < LANES; lane++) {
            dst[d + lane] = src[from + lane * plane + p];
          }
        }
        continue;
      }
      for (int h = h0; h < h1; h++) {
        int row = base + pixel(h, 0);
        int in = from + h * width;
        for (int w = 0; w < width; w++) {
          int d = row + w * LANES;
          for (int lane = 0; lane < lanes; lane++) {
            dst[d + lane] = src[in + lane * plane + w];
          }
        }
      }
    }
  }

  /**
   * {@link #toNchw(float[], int, float[], int)} for channels {@code [c0, c1)} only: their planes of the NCHW
   * sample at {@code dst[dstOff..]}, nothing else. Blocked, it goes channel by channel, each plane written front
   * to back from every {@link VectorShape#LANES}-th float of its block (a row at a time where there is a halo to
   * the side, else the whole plane at once): on the AMD EPYC Zen 1 (AVX2) 1.9-3.4 times faster than the
   * pixel-major order of {@code toNchw} for 48-1024 channels of 7x7 to 112x112 (one JVM, interleaved). The
   * whole-sample conversion keeps the pixel-major order, measured faster on the AVX-512 machine in a network's
   * output stage.
   */
  void toNchw(float[] src, int srcOff, float[] dst, int dstOff, int c0, int c1) {
    int plane = height * width;
    if (!blocked) {
      for (int c = c0; c < c1; c++) {
        for (int h = 0; h < height; h++) {
          System.arraycopy(src, srcOff + c * blockStride + pixel(h, 0), dst, dstOff + c * plane + h * width, width);
        }
      }
      return;
    }
    boolean rows = left + right > 0;
    int run = rows ? width : plane;
    // Whole blocks within the range 16 pixels at a time by transposes where they are compiled; the rest (their last
    // plane % 16 pixels, other channels) element by element.
    boolean transposes = BlockTranspose.ready(this);
    int runs = transposes ? plane / LANES : 0;
    int tb0 = (c0 + LANES - 1) / LANES;
    int tb1 = transposes ? Math.min(c1, channels) / LANES : 0;
    int[] pixels = transposes ? pixels() : null;
    for (int cb = tb0; cb < tb1; cb++) {
      BlockTranspose.runs(dst, dstOff + cb * LANES * plane, plane, src, srcOff + cb * blockStride, pixels, 0, runs,
          true);
    }
    for (int c = c0; c < c1; c++) {
      int from = srcOff + (c / LANES) * blockStride + c % LANES;
      int to = dstOff + c * plane;
      if (c / LANES >= tb0 && c / LANES < tb1) {
        for (int p = runs * LANES; p < plane; p++) {
          dst[to + p] = src[from + pixels[p]];
        }
        continue;
      }
      for (int h = 0; h < (rows ? height : 1); h++) {
        int s = from + pixel(h, 0);
        int d = to + h * width;
        for (int w = 0; w < run; w++) {
          dst[d + w] = src[s + w * LANES];
        }
      }
    }
  }

  /** Writes this layout's interior at {@code src[srcOff..]} as sample {@code [C, H, W]} (NCHW) at {@code dst[dstOff..]}. */
  void toNchw(float[] src, int srcOff, float[] dst, int dstOff) {
    if (!blocked) {
      toNchw(src, srcOff, dst, dstOff, 0, channels);
      return;
    }
    int plane = height * width;
    // Each block read once, front to back, its lanes written to as many planes side by side. Lane by lane
    // (a pass over the whole block per lane, one float of each 64-byte line) a network's output stage took
    // 41-43 us instead of 27 for a 192-channel 14x14 map and 64-72 instead of 53 for 96 channels at 28x28
    // (1 thread, the new tensor's allocation included).
    for (int cb = 0; cb < blocks; cb++) {
      int lanes = Math.min(LANES, channels - cb * LANES);
      int to = dstOff + cb * LANES * plane;
      for (int h = 0; h < height; h++) {
        int row = srcOff + cb * blockStride + pixel(h, 0);
        int o = to + h * width;
        for (int w = 0; w < width; w++) {
          int p = row + w * LANES;
          for (int lane = 0; lane < lanes; lane++) {
            dst[o + lane * plane + w] = src[p + lane];
          }
        }
      }
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BlockedLayout l && l.channels == channels && l.height == height && l.width == width
        && l.blocked == blocked && l.top == top && l.bottom == bottom && l.left == left && l.right == right;
  }

  @Override
  public int hashCode() {
    return Objects.hash(channels, height, width, blocked, top, bottom, left, right);
  }

  @Override
  public String toString() {
    return (blocked ? "blocked " : "planes ") + channels + "x" + height + "x" + width + " halo " + top + "/" + bottom
        + "/" + left + "/" + right;
  }
}
