package dev.kiln.simd;

import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;

/**
 * How one sample is laid out after padding, so that every output position of a convolution reads its
 * taps at fixed offsets: each channel's padded plane ({@code Hp x Wp}) is split into {@code sH * sW}
 * phases by row and column remainder modulo the stride, each phase a {@code Hq x Wq} plane. Output
 * position {@code (oh, ow)} is then the virtual index {@code p = oh * Wq + ow}, and tap {@code (kh, kw)}
 * reads {@code p + tapOffset(kh, kw)} in every row: loads along {@code ow} are contiguous for any stride.
 * Columns {@code ow >= outW} of the virtual rows are junk that kernels compute and discard. For stride 1
 * this is the plain padded plane.
 */
final class PaddedLayout implements SampleLayout {
  final int channels;
  final int inH;
  final int inW;
  final int strideH;
  final int strideW;
  final int padTop;
  final int padLeft;
  final int paddedH;
  final int paddedW;
  /** Rows of one phase plane. */
  final int hq;
  /** Columns of one phase plane: the virtual row width. */
  final int rowPitch;
  /** Floats of one phase plane. */
  final int planeQ;
  /** Floats of one channel (all its phases). */
  final int channelStride;
  /** VectorShape {@code 0, 2, 4, ...} of a vector into the low half (for the even lanes of a pair). */
  private static final VectorShuffle<Float> EVEN_LOW = halves(0, true);
  /** VectorShape {@code 0, 2, 4, ...} of a vector into the high half. */
  private static final VectorShuffle<Float> EVEN_HIGH = halves(0, false);
  private static final VectorShuffle<Float> ODD_LOW = halves(1, true);
  private static final VectorShuffle<Float> ODD_HIGH = halves(1, false);
  /** The high half of the lanes. */
  private static final VectorMask<Float> HIGH_HALF = VectorMask.fromLong(VectorShape.SPECIES,
      ((1L << VectorShape.LANES) - 1) & ~((1L << (VectorShape.LANES / 2)) - 1));

  /** A one-vector shuffle moving lanes {@code first, first + 2, ...} into the low or high half. */
  private static VectorShuffle<Float> halves(int first, boolean low) {
    int half = VectorShape.LANES / 2;
    int[] index = new int[VectorShape.LANES];
    for (int i = 0; i < half; i++) {
      index[low ? i : half + i] = first + 2 * i;
    }
    return VectorShuffle.fromArray(VectorShape.SPECIES, index, 0);
  }

  /** Whether rows share their zero border cells (see the constructor). */
  final boolean sharedBorder;
  /** Whether the border is zeros (otherwise every border cell has a source). */
  private final boolean zeros;
  /** Input row length rounded up to whole vectors. */
  private final int span;
  /** Offset of each padded row's first cell from its channel's start. */
  private final int[] rowOffset;
  /** How far past its start a copy into each padded row may overshoot: its phase plane's end, or any cell for stride 1. */
  private final int[] rowLimit;
  /** Source row of each padded row, or -1 for a zero row. */
  private final int[] rowSource;
  /** Source column of each padded column, or -1 for a zero column. */
  private final int[] colSource;
  /** Stride 2 along rows: the output columns per phase rounded up to whole vectors. */
  private final int pairSpan;
  /** Stride 2 along rows: where the even and odd input columns go relative to a row's base. */
  private final int pairEven;
  private final int pairOdd;
  private final boolean pairEvenRead;
  private final boolean pairOddRead;
  /** Stride 2 along rows: whether each padded row can take whole vectors (their overshoot stays in its phase). */
  private final boolean[] pairRow;
  /** Each border column's cell relative to its row's base ({@link #fillBorders}). */
  private final int[] borderOffset;
  /** Each border column's source column, or -1 for zero. */
  private final int[] borderSource;
  /** Whether each padded row is in a phase some tap reads; the others are not copied (their cells stay zero). */
  private final boolean[] rowCopied;
  /** Whether some tap reads each column phase. */
  private final boolean[] colRead;

  /**
   * The layout of the input of convolution {@code g}, with the virtual row width {@code Wq} rounded up to a
   * multiple of {@code rowMultiple}. Only the phases some tap reads are filled: a 1x1 convolution with
   * stride 2 copies a quarter of its input.
   */
  static PaddedLayout of(ConvGeometry g, int rowMultiple) {
    return new PaddedLayout(g.inChannels(), g.inHeight(), g.inWidth(), g.strideH(), g.strideW(), g.padTop(),
        g.padBottom(), g.padLeft(), g.padRight(), g.paddingMode(), rowMultiple,
        phasesRead(g.kernelH(), g.dilationH(), g.strideH()), phasesRead(g.kernelW(), g.dilationW(), g.strideW()));
  }

  /** Which remainders modulo {@code stride} the taps {@code k * dilation} hit. */
  private static boolean[] phasesRead(int kernel, int dilation, int stride) {
    boolean[] read = new boolean[stride];
    for (int k = 0; k < kernel; k++) {
      read[k * dilation % stride] = true;
    }
    return read;
  }

  /**
   * Whether this layout of a sample is the NCHW sample itself (no padding, stride 1, rows not rounded up), so
   * that a kernel may read the input where it is. A stride of 2 along the height alone with an even height
   * keeps the row length and the channel size but puts the even rows before the odd ones: not the sample.
   */
  @Override
  public boolean isInputItself() {
    return strideH == 1 && strideW == 1 && paddedH == inH && paddedW == inW && rowPitch == inW;
  }

  @Override
  public int rowPitch() {
    return rowPitch;
  }

  @Override
  public int channelStride() {
    return channelStride;
  }

  /** As {@link #of}; {@code rowPhases}/{@code colPhases} say which phases some tap reads. */
  private PaddedLayout(int channels, int inH, int inW, int strideH, int strideW, int padTop, int padBottom,
      int padLeft, int padRight, PaddingMode mode, int rowMultiple, boolean[] rowPhases, boolean[] colPhases) {
    this.channels = channels;
    this.inH = inH;
    this.inW = inW;
    this.strideH = strideH;
    this.strideW = strideW;
    this.padTop = padTop;
    this.padLeft = padLeft;
    this.paddedH = inH + padTop + padBottom;
    this.paddedW = inW + padLeft + padRight;
    // With zero padding and stride 1, a row's right border and the next row's left border can be the
    // same zero cells: rows need only max(padLeft, padRight) of them, and one extra zero row catches the
    // last row's right border. Fewer junk columns, fuller vectors.
    this.sharedBorder = mode == PaddingMode.ZEROS && strideH == 1 && strideW == 1 && padLeft + padRight > 0;
    this.hq = sharedBorder ? paddedH + 1 : (paddedH + strideH - 1) / strideH;
    int width = sharedBorder ? inW + Math.max(padLeft, padRight) : (paddedW + strideW - 1) / strideW;
    this.rowPitch = (width + rowMultiple - 1) / rowMultiple * rowMultiple;
    this.planeQ = hq * rowPitch;
    this.channelStride = strideH * strideW * planeQ;
    this.zeros = mode == PaddingMode.ZEROS;
    this.span = (inW + VectorShape.LANES - 1) / VectorShape.LANES * VectorShape.LANES;
    this.rowSource = sources(paddedH, padTop, inH, mode);
    this.rowOffset = new int[paddedH];
    this.rowLimit = new int[paddedH];
    for (int r = 0; r < paddedH; r++) {
      rowOffset[r] = offset(r, 0);
      rowLimit[r] = strideH == 1 && strideW == 1 ? Integer.MAX_VALUE / 2 : (r % strideH + 1) * strideW * planeQ;
    }
    this.colSource = sources(paddedW, padLeft, inW, mode);
    // The border columns' cells relative to a row's base, and their source columns: precomputed, because a
    // division by the stride per cell (twice per row) cost more than copying the row.
    int borders = padLeft + (paddedW - padLeft - inW);
    this.borderOffset = new int[borders];
    this.borderSource = new int[borders];
    int j = 0;
    for (int col = 0; col < paddedW; col++) {
      if (col < padLeft || col >= padLeft + inW) {
        borderOffset[j] = col % strideW * planeQ + col / strideW;
        borderSource[j] = colSource[col];
        j++;
      }
    }
    this.pairSpan = ((inW + 1) / 2 + VectorShape.LANES - 1) / VectorShape.LANES * VectorShape.LANES;
    int even = padLeft % 2;
    this.pairEven = even * planeQ + padLeft / 2;
    this.pairOdd = strideW == 2 ? (1 - even) * planeQ + (padLeft + 1) / 2 : 0;
    this.pairEvenRead = strideW == 2 && colPhases[even];
    this.pairOddRead = strideW == 2 && colPhases[1 - even];
    this.pairRow = new boolean[paddedH];
    for (int r = 0; r < paddedH && strideW == 2; r++) {
      int base = rowOffset[r];
      pairRow[r] = base + pairEven + pairSpan <= rowLimit[r] - (1 - even) * planeQ
          && base + pairOdd + pairSpan <= rowLimit[r] - even * planeQ;
    }
    this.rowCopied = new boolean[paddedH];
    for (int r = 0; r < paddedH; r++) {
      rowCopied[r] = rowPhases[r % strideH];
    }
    this.colRead = colPhases;
  }

  /** The source index of each of {@code padded} cells along an axis whose first {@code pad} cells are border. */
  private static int[] sources(int padded, int pad, int size, PaddingMode mode) {
    int[] source = new int[padded];
    for (int i = 0; i < padded; i++) {
      source[i] = ConvGeometry.sourceIndex(i - pad, size, mode);
    }
    return source;
  }


  int rowSource(int r) {
    return rowSource[r];
  }

  int colSource(int c) {
    return colSource[c];
  }

  /**
   * Copies one input row to {@code paddedX}: a vector at a time when the overshoot stays inside {@code x}.
   * The caller ensures that the overshoot in {@code paddedX} lands on cells written later: the right border or
   * the next row of the same phase plane.
   */
  private void copyRow(float[] x, int src, float[] paddedX, int dst) {
    if (src + span <= x.length) {
      for (int i = 0; i < span; i += VectorShape.LANES) {
        FloatVector.fromArray(VectorShape.SPECIES, x, src + i).intoArray(paddedX, dst + i);
      }
    } else {
      System.arraycopy(x, src, paddedX, dst, inW);
    }
  }

  @Override
  public int tapOffset(ConvGeometry g, int kh, int kw) {
    return offset(kh * g.dilationH(), kw * g.dilationW());
  }

  /** Offset of padded coordinate {@code (r, c)} from its channel's start. */
  int offset(int r, int c) {
    return ((r % strideH) * strideW + c % strideW) * planeQ + (r / strideH) * rowPitch + c / strideW;
  }

  /**
   * Pads channels {@code [c0, c1)} of the sample at {@code x[xOff..]} into {@code paddedX}, channel {@code c} at
   * {@code (c - c0) * channelStride}. Phase cells past the padded plane are never written (they stay zero).
   */
  @Override
  public void pad(float[] x, int xOff, int c0, int c1, float[] paddedX) {
    int plane = inH * inW;
    int span = this.span;
    for (int c = c0; c < c1; c++) {
      int src0 = xOff + c * plane;
      int dst0 = (c - c0) * channelStride;
      if (zeros && strideH == 1 && strideW == 1 && padLeft <= VectorShape.LANES && paddedW - padLeft - inW <= VectorShape.LANES
          && src0 + (inH - 1) * inW + span <= x.length) {
        padZeros(x, src0, paddedX, dst0);
      } else if (strideW == 2 && src0 + (inH - 1) * inW + 2 * pairSpan <= x.length) {
        padPairs(x, src0, paddedX, dst0);
      } else {
        padRows(x, src0, paddedX, dst0);
      }
      if (sharedBorder) {
        java.util.Arrays.fill(paddedX, dst0 + paddedH * rowPitch, dst0 + hq * rowPitch, 0f);
      }
    }
  }

  /** A padded row of zeros (border row): its cells in every column phase. */
  private void zeroRow(float[] paddedX, int rowBase) {
    for (int phase = 0; phase < strideW; phase++) {
      int dst = rowBase + phase * planeQ;
      java.util.Arrays.fill(paddedX, dst, dst + (paddedW - phase + strideW - 1) / strideW, 0f);
    }
  }

  /** Pads one channel row by row, any mode and stride. */
  private void padRows(float[] x, int src0, float[] paddedX, int dst0) {
    for (int r = 0; r < paddedH; r++) {
      if (!rowCopied[r]) {
        continue;
      }
      int sr = rowSource[r];
      int rowBase = dst0 + rowOffset[r];
      if (sr < 0) {
        zeroRow(paddedX, rowBase);
        continue;
      }
      int src = src0 + sr * inW;
      if (strideW == 1) {
        if (rowBase + padLeft + span <= dst0 + rowLimit[r]) {
          copyRow(x, src, paddedX, rowBase + padLeft);
        } else {
          System.arraycopy(x, src, paddedX, rowBase + padLeft, inW);
        }
        if (zeros) {
          for (int col = 0; col < padLeft; col++) {
            paddedX[rowBase + col] = 0f;
          }
          for (int col = padLeft + inW; col < paddedW; col++) {
            paddedX[rowBase + col] = 0f;
          }
        } else {
          for (int col = 0; col < padLeft; col++) {
            paddedX[rowBase + col] = x[src + colSource[col]];
          }
          for (int col = padLeft + inW; col < paddedW; col++) {
            paddedX[rowBase + col] = x[src + colSource[col]];
          }
        }
      } else {
        copyRowStrided(x, src, paddedX, dst0, rowBase, r);
      }
    }
  }

  /**
   * Stride 1, zero padding, whole vectors only: per row a zero vector over the left border, the row
   * copied a vector at a time, a zero vector over the right border. Each store that runs past its part
   * lands on cells written later (the rest of the row, the next rows, the bottom border, the next
   * channel) or on cells only junk outputs read.
   */
  private void padZeros(float[] x, int src, float[] paddedX, int dst0) {
    FloatVector zero = FloatVector.zero(VectorShape.SPECIES);
    int top = dst0 + padTop * rowPitch;
    java.util.Arrays.fill(paddedX, dst0, top, 0f);
    int right = padLeft + inW;
    if (span == VectorShape.LANES) {
      // Rows of one or two vectors: straight-line code (a loop's setup costs more than its trips).
      for (int r = 0; r < inH; r++) {
        int dst = top + r * rowPitch;
        zero.intoArray(paddedX, dst);
        FloatVector.fromArray(VectorShape.SPECIES, x, src).intoArray(paddedX, dst + padLeft);
        zero.intoArray(paddedX, dst + right);
        src += inW;
      }
    } else if (span == 2 * VectorShape.LANES) {
      for (int r = 0; r < inH; r++) {
        int dst = top + r * rowPitch;
        zero.intoArray(paddedX, dst);
        FloatVector.fromArray(VectorShape.SPECIES, x, src).intoArray(paddedX, dst + padLeft);
        FloatVector.fromArray(VectorShape.SPECIES, x, src + VectorShape.LANES).intoArray(paddedX, dst + padLeft + VectorShape.LANES);
        zero.intoArray(paddedX, dst + right);
        src += inW;
      }
    } else {
      for (int r = 0; r < inH; r++) {
        int dst = top + r * rowPitch;
        zero.intoArray(paddedX, dst);
        for (int i = 0; i < span; i += VectorShape.LANES) {
          FloatVector.fromArray(VectorShape.SPECIES, x, src + i).intoArray(paddedX, dst + padLeft + i);
        }
        zero.intoArray(paddedX, dst + right);
        src += inW;
      }
    }
    int bottom = top + inH * rowPitch;
    java.util.Arrays.fill(paddedX, bottom, dst0 + paddedH * rowPitch, 0f);
  }

  /**
   * Pads one channel with stride 2 along rows, where every input row can be read a vector pair past its
   * start (the caller checks): the rows whose vectors fit their phase are split into the column phases
   * inline, the others go through {@link #copyRowStrided}. A separate small method, so that the JIT
   * compiles the row loop with the vector operations inlined.
   */
  private void padPairs(float[] x, int src0, float[] paddedX, int dst0) {
    for (int r = 0; r < paddedH; r++) {
      if (!rowCopied[r]) {
        continue;
      }
      int sr = rowSource[r];
      int rowBase = dst0 + rowOffset[r];
      if (sr < 0) {
        zeroRow(paddedX, rowBase);
      } else if (pairRow[r]) {
        copyPairs(x, src0 + sr * inW, paddedX, rowBase);
      } else {
        copyRowStrided(x, src0 + sr * inW, paddedX, dst0, rowBase, r);
      }
    }
  }

  /** Copies one input row into its {@code strideW} column phases, then fills the borders. */
  private void copyRowStrided(float[] x, int src, float[] paddedX, int dst0, int rowBase, int r) {
    if (pairRow[r] && src + 2 * pairSpan <= x.length) {
      copyPairs(x, src, paddedX, rowBase);
      return;
    }
    // Input column i lands in phase (padLeft + i) % strideW at index (padLeft + i) / strideW.
    for (int phase = 0; phase < strideW; phase++) {
      if (!colRead[phase]) {
        continue;
      }
      int first = Math.floorMod(phase - padLeft, strideW);
      int dst = rowBase + phase * planeQ + (padLeft + first) / strideW;
      for (int i = src + first; i < src + inW; i += strideW, dst++) {
        paddedX[dst] = x[i];
      }
    }
    fillBorders(x, src, paddedX, rowBase);
  }

  /**
   * Stride 2 along rows, a row whose vectors fit its phases ({@link #pairRow}): input column {@code i} lands
   * in phase {@code (padLeft + i) % 2} at index {@code (padLeft + i) / 2}; then the borders.
   */
  private void copyPairs(float[] x, int src, float[] paddedX, int rowBase) {
    if (pairSpan == VectorShape.LANES) {
      // One vector pair: straight-line code (a loop's setup costs more than its one trip).
      deinterleave(x, src, paddedX, rowBase + pairEven, rowBase + pairOdd, pairEvenRead, pairOddRead);
    } else {
      for (int t = 0; t < pairSpan; t += VectorShape.LANES) {
        deinterleave(x, src + 2 * t, paddedX, rowBase + pairEven + t, rowBase + pairOdd + t, pairEvenRead, pairOddRead);
      }
    }
    fillBorders(x, src, paddedX, rowBase);
  }

  /** Two input vectors at {@code x[src..]} into their even and odd columns at {@code paddedX[dstEven..]}, {@code paddedX[dstOdd..]}. */
  private static void deinterleave(float[] x, int src, float[] paddedX, int dstEven, int dstOdd, boolean evenRead,
      boolean oddRead) {
    FloatVector a = FloatVector.fromArray(VectorShape.SPECIES, x, src);
    FloatVector b = FloatVector.fromArray(VectorShape.SPECIES, x, src + VectorShape.LANES);
    if (evenRead) {
      evens(a, b).intoArray(paddedX, dstEven);
    }
    if (oddRead) {
      odds(a, b).intoArray(paddedX, dstOdd);
    }
  }

  /** The even lanes of the pair {@code a, b} (lanes 0, 2, ... of {@code a}, then of {@code b}). */
  static FloatVector evens(FloatVector a, FloatVector b) {
    return a.rearrange(EVEN_LOW).blend(b.rearrange(EVEN_HIGH), HIGH_HALF);
  }

  /** The odd lanes of the pair {@code a, b}. */
  static FloatVector odds(FloatVector a, FloatVector b) {
    return a.rearrange(ODD_LOW).blend(b.rearrange(ODD_HIGH), HIGH_HALF);
  }

  /** The padded columns left and right of the input row, in their phases. */
  private void fillBorders(float[] x, int src, float[] paddedX, int rowBase) {
    int[] dst = borderOffset;
    int[] source = borderSource;
    for (int j = 0; j < dst.length; j++) {
      int sc = source[j];
      paddedX[rowBase + dst[j]] = sc < 0 ? 0f : x[src + sc];
    }
  }

}
