package dev.kiln.simd;

import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * A layout without junk columns for a {@link #canWrap} convolution: the virtual rows are as long as the output's
 * ({@code rowPitch() = outW}), so virtual position {@code p = oh * outW + ow} is the output's own index, and
 * each kernel column {@code kw} reads its own copy of the input, rows split by phase for stride 2. Output column
 * {@code ow} reads input column {@code s * (ow + q) + phase} ({@code s} the stride, {@code q} and {@code phase}
 * fixed per kernel column), which the copy holds at column {@code ow + q} of its rows of the phase's columns:
 * where {@code ow + q} is past a row's end the tap reads the neighbouring row's first or last {@code |q|} cells,
 * and that column's copy has those cells zeroed (they are the padding the tap should read, and no output of that
 * tap reads them otherwise; with these strides and row lengths every column past a row's end is padding). Top and
 * bottom padding are zero rows. Vectors of positions then run across rows: a 14x14 plane is 13 vectors of 16
 * instead of 14, a 112x112 one 784 instead of 896.
 */
final class WrappedLayout implements SampleLayout {
  private static final int LANES = VectorShape.LANES;

  private final int inH;
  private final int inW;
  /** The stride, along rows and columns alike: 1 or 2. */
  private final int stride;
  private final int padTop;
  private final int kernelW;
  /** Rows of one row phase's copy (all padded rows for stride 1). */
  private final int rows;
  /** The output's row length: the virtual row width. */
  private final int rowPitch;
  /** Zero cells before each copy's first row (the most that a tap reads before its output column). */
  private final int lead;
  /** Floats of one copy (one kernel column and row phase): lead, rows, room for a vector after them. */
  private final int planeQ;
  private final int channelStride;
  /** Per kernel column: the input column of output column {@code ow} is {@code stride * (ow + shift) + phase}. */
  private final int[] phase;
  private final int[] shift;
  /** {@link #keepMasks}. */
  private final float[][] keep;

  /**
   * Whether convolution {@code g} can read this layout: zero padding along the rows, and stride 1 with output rows
   * as long as the input's, or stride 2 both ways with output rows half as long (rounded up); every tap within a
   * row's length of its output column.
   */
  static boolean canWrap(ConvGeometry g) {
    int s = g.strideW();
    if (g.paddingMode() != PaddingMode.ZEROS || g.padLeft() + g.padRight() == 0 || g.strideH() != s
        || !(s == 1 && g.outWidth() == g.inWidth() || s == 2 && g.outWidth() == (g.inWidth() + 1) / 2)) {
      return false;
    }
    int first = Math.floorDiv(-g.padLeft(), s);
    int last = Math.floorDiv((g.kernelW() - 1) * g.dilationW() - g.padLeft(), s);
    return -first < g.outWidth() && last < g.outWidth();
  }

  /** The layout of {@code g}'s input, which {@link #canWrap} must accept. */
  WrappedLayout(ConvGeometry g) {
    if (!canWrap(g)) {
      throw new IllegalArgumentException("no wrapped layout for " + g);
    }
    this.inH = g.inHeight();
    this.inW = g.inWidth();
    this.stride = g.strideW();
    this.padTop = g.padTop();
    this.kernelW = g.kernelW();
    this.phase = new int[kernelW];
    this.shift = new int[kernelW];
    int before = 0;
    int after = 0;
    for (int kw = 0; kw < kernelW; kw++) {
      int d = kw * g.dilationW() - g.padLeft();
      phase[kw] = Math.floorMod(d, stride);
      shift[kw] = Math.floorDiv(d, stride);
      before = Math.max(before, -shift[kw]);
      after = Math.max(after, shift[kw]);
    }
    this.lead = before;
    this.rowPitch = g.outWidth();
    // The rows of a row phase that the taps of the output rows read.
    this.rows = stride == 1 ? inH + g.padTop() + g.padBottom()
        : g.outHeight() + (g.kernelH() - 1) * g.dilationH() / stride;
    this.keep = keepMasks(stride == 1 ? inH : 1, inW, rowPitch, stride, phase, shift);
    // Room for a vector past the rows' last cell: a copy's overshoot lands there (zeroed by the masks).
    this.planeQ = lead + rows * rowPitch + Math.max(after, LANES);
    this.channelStride = Math.multiplyExact(kernelW * stride, planeQ);
  }

  @Override
  public int rowPitch() {
    return rowPitch;
  }

  @Override
  public int channelStride() {
    return channelStride;
  }

  @Override
  public boolean isInputItself() {
    return false;
  }

  /** Tap {@code (kh, kw)} reads kernel column {@code kw}'s copy in row phase {@code kh * dilationH % stride}. */
  @Override
  public int tapOffset(ConvGeometry g, int kh, int kw) {
    int r = kh * g.dilationH();
    return (kw * stride + r % stride) * planeQ + lead + r / stride * rowPitch + shift[kw];
  }

  /**
   * Per channel and kernel column (and row phase), the rows through that column's {@link #keep} mask, which
   * zeroes the cells its tap reads past a row's end and the lanes past the plane (stride 1) or row (stride 2).
   * The cells before and after the rows are never written otherwise and stay zero.
   */
  @Override
  public void pad(float[] x, int xOff, int c0, int c1, float[] paddedX) {
    if (stride == 1) {
      padPlanes(x, xOff, c0, c1, paddedX);
    } else if (kernelW == 3 && phase[0] == 1 && phase[1] == 0 && phase[2] == 1) {
      padPairsShared(x, xOff, c0, c1, paddedX);
    } else {
      padPairs(x, xOff, c0, c1, paddedX);
    }
  }

  /**
   * {@link #padPairs} for three kernel columns whose first and last read the odd columns and the middle one the
   * even ones (3 wide, stride 2, left padding 1: every such layer on wrapped rows, the stems of RepVGG and MobileNet
   * among them): the first and last copies hold the same columns and differ only in their masks, so each vector
   * pair is loaded and split once and stored three times. Written out for the three columns rather than as a loop
   * over the columns sharing a phase, which would carry the split vectors into an inner loop (JDK 17 boxes such
   * vectors). Same values as {@link #padPairs}.
   */
  private void padPairsShared(float[] x, int xOff, int c0, int c1, float[] paddedX) {
    int plane = inH * inW;
    int vectors = keep[0].length;
    float[] keep0 = keep[0];
    float[] keep1 = keep[1];
    float[] keep2 = keep[2];
    FloatVector zero = FloatVector.zero(VectorShape.SPECIES);
    for (int c = c0; c < c1; c++) {
      int src0 = xOff + c * plane;
      for (int rowPhase = 0; rowPhase < 2; rowPhase++) {
        int base = (c - c0) * channelStride + rowPhase * planeQ + lead;
        for (int i = 0; i < rows; i++) {
          int d0 = base + i * rowPitch;
          int d1 = d0 + 2 * planeQ;
          int d2 = d0 + 4 * planeQ;
          int row = 2 * i + rowPhase - padTop;
          if (row < 0 || row >= inH) {
            for (int k = 0; k < vectors; k += LANES) {
              zero.intoArray(paddedX, d0 + k);
              zero.intoArray(paddedX, d1 + k);
              zero.intoArray(paddedX, d2 + k);
            }
            continue;
          }
          int src = src0 + row * inW;
          if (src + 2 * vectors > x.length) {
            for (int j = 0; j < rowPitch; j++) {
              paddedX[d0 + j] = keep0[j] == 0 ? 0f : x[src + 2 * j + 1];
              paddedX[d1 + j] = keep1[j] == 0 ? 0f : x[src + 2 * j];
              paddedX[d2 + j] = keep2[j] == 0 ? 0f : x[src + 2 * j + 1];
            }
            continue;
          }
          for (int k = 0; k < vectors; k += LANES) {
            FloatVector a = FloatVector.fromArray(VectorShape.SPECIES, x, src + 2 * k);
            FloatVector b = FloatVector.fromArray(VectorShape.SPECIES, x, src + 2 * k + LANES);
            FloatVector odd = PaddedLayout.odds(a, b);
            masked(odd, keep0, k).intoArray(paddedX, d0 + k);
            masked(PaddedLayout.evens(a, b), keep1, k).intoArray(paddedX, d1 + k);
            masked(odd, keep2, k).intoArray(paddedX, d2 + k);
          }
        }
      }
    }
  }

  /**
   * Stride 1: each copy is the input plane (its rows are contiguous in the input and in the copy), a vector at a
   * time. A channel whose last vector would read past {@code x} is copied cell by cell.
   */
  private void padPlanes(float[] x, int xOff, int c0, int c1, float[] paddedX) {
    int plane = inH * inW;
    int top = lead + padTop * inW;
    int vectors = keep[0].length;
    for (int c = c0; c < c1; c++) {
      int src = xOff + c * plane;
      boolean whole = src + vectors <= x.length;
      for (int kw = 0; kw < kernelW; kw++) {
        int dst = (c - c0) * channelStride + kw * planeQ + top;
        float[] mask = keep[kw];
        if (whole) {
          for (int i = 0; i < vectors; i += LANES) {
            masked(FloatVector.fromArray(VectorShape.SPECIES, x, src + i), mask, i).intoArray(paddedX, dst + i);
          }
        } else {
          for (int i = 0; i < plane; i++) {
            paddedX[dst + i] = mask[i] == 0 ? 0f : x[src + i];
          }
        }
      }
    }
  }

  /**
   * Stride 2: per row phase, each row's columns of the kernel column's phase, a vector pair at a time
   * ({@link PaddedLayout#evens}, {@link PaddedLayout#odds}); rows of padding as zero vectors. A row's last vector
   * overshoots onto the next row (written after it) or the room after the rows, its lanes there zeroed by the
   * mask. A row whose last vector pair would read past {@code x} is copied cell by cell.
   */
  private void padPairs(float[] x, int xOff, int c0, int c1, float[] paddedX) {
    int plane = inH * inW;
    int vectors = keep[0].length;
    FloatVector zero = FloatVector.zero(VectorShape.SPECIES);
    for (int c = c0; c < c1; c++) {
      int src0 = xOff + c * plane;
      for (int kw = 0; kw < kernelW; kw++) {
        float[] mask = keep[kw];
        boolean odd = phase[kw] == 1;
        for (int rowPhase = 0; rowPhase < 2; rowPhase++) {
          int dst = (c - c0) * channelStride + (kw * 2 + rowPhase) * planeQ + lead;
          for (int i = 0; i < rows; i++, dst += rowPitch) {
            int row = 2 * i + rowPhase - padTop;
            if (row < 0 || row >= inH) {
              for (int k = 0; k < vectors; k += LANES) {
                zero.intoArray(paddedX, dst + k);
              }
              continue;
            }
            int src = src0 + row * inW;
            if (src + 2 * vectors > x.length) {
              for (int j = 0; j < rowPitch; j++) {
                paddedX[dst + j] = mask[j] == 0 ? 0f : x[src + 2 * j + phase[kw]];
              }
              continue;
            }
            // Two loops rather than a choice per vector: each with its shuffles as constants.
            if (odd) {
              for (int k = 0; k < vectors; k += LANES) {
                FloatVector a = FloatVector.fromArray(VectorShape.SPECIES, x, src + 2 * k);
                FloatVector b = FloatVector.fromArray(VectorShape.SPECIES, x, src + 2 * k + LANES);
                masked(PaddedLayout.odds(a, b), mask, k).intoArray(paddedX, dst + k);
              }
            } else {
              for (int k = 0; k < vectors; k += LANES) {
                FloatVector a = FloatVector.fromArray(VectorShape.SPECIES, x, src + 2 * k);
                FloatVector b = FloatVector.fromArray(VectorShape.SPECIES, x, src + 2 * k + LANES);
                masked(PaddedLayout.evens(a, b), mask, k).intoArray(paddedX, dst + k);
              }
            }
          }
        }
      }
    }
  }

  /**
   * {@code v} with the lanes where {@code mask[i..]} is 0 set to +0 (a blend: the other lanes exactly as they are).
   * In float vectors only: as an AND of the bits with an integer mask ({@code reinterpretAsInts}, {@code IntVector},
   * {@code reinterpretAsFloats}), the same bits, a JVM that had run it compiled later large vector methods partly
   * to the Vector API's Java fallback (a lone 48->48 56x56 Winograd layer after a 16->32 14x14 layer of wrapped rows
   * at 0.72x ONNX Runtime's speed against 1.15x this way; {@code bench-results/winograd-rows-s57-spr-2026-12-08.txt}).
   */
  private static FloatVector masked(FloatVector v, float[] mask, int i) {
    return v.blend(0f, FloatVector.fromArray(VectorShape.SPECIES, mask, i).compare(VectorOperators.EQ, 0f));
  }

  /**
   * Per kernel column, over {@code rows} rows of {@code width} cells rounded up to whole vectors (the whole plane
   * for stride 1, one row for stride 2): 1 for the cells its copy keeps, 0 for those it zeroes: cells past the
   * plane (or row), columns of the phase past the input's last, and the {@code |q|} cells at each row's end
   * ({@code q < 0}) or start ({@code q > 0}) that its tap reads past a row's end.
   */
  private static float[][] keepMasks(int rows, int inW, int width, int stride, int[] phase, int[] shift) {
    int cells = rows * width;
    float[][] keep = new float[phase.length][(cells + LANES - 1) / LANES * LANES];
    for (int kw = 0; kw < phase.length; kw++) {
      int q = shift[kw];
      for (int i = 0; i < cells; i++) {
        int col = i % width;
        boolean wrappedRead = q < 0 && col >= width + q || q > 0 && col < q;
        keep[kw][i] = wrappedRead || stride * col + phase[kw] >= inW ? 0f : 1f;
      }
    }
    return keep;
  }
}
