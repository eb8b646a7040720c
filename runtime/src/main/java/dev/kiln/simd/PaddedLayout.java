package dev.kiln.simd;

import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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
final class PaddedLayout {
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
  /**
   * Whether this is a wrapped layout ({@link #wrapped}): rows as long as the output's, one copy of the input
   * per kernel column (and row phase), the cells its tap reads past a row's end zeroed.
   */
  final boolean wrapped;
  /** Wrapped: the kernel's columns, and the zero cells before each copy's first row. */
  private final int wrapKernelW;
  private final int lead;
  /** Wrapped: the input column of output column {@code ow} for kernel column {@code kw} is {@code stride * (ow + wrapShift[kw]) + wrapPhase[kw]}. */
  private final int[] wrapPhase;
  private final int[] wrapShift;
  /** Wrapped: {@link #keepMasks}. */
  private final int[][] keep;
  private static final jdk.incubator.vector.VectorSpecies<Integer> INTS = VectorShape.SPECIES.withLanes(int.class);
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
  boolean isInputItself() {
    return !wrapped && strideH == 1 && strideW == 1 && paddedH == inH && paddedW == inW && rowPitch == inW;
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
    this.wrapped = false;
    this.wrapKernelW = 0;
    this.lead = 0;
    this.wrapPhase = null;
    this.wrapShift = null;
    this.keep = null;
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

  /**
   * Whether convolution {@code g} can read a {@link #wrapped} layout: zero padding along the rows, and stride 1
   * with output rows as long as the input's, or stride 2 both ways with output rows half as long (rounded up);
   * every tap within a row's length of its output column.
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

  /**
   * A layout without junk columns for a {@link #canWrap} convolution {@code g}: the virtual rows are as long as
   * the output's ({@code Wq = outW}), so virtual position {@code p = oh * outW + ow} is the output's own index,
   * and each kernel column {@code kw} reads its own copy of the input, rows split by phase for stride 2. Output
   * column {@code ow} reads input column {@code s * (ow + q) + phase} ({@code s} the stride, {@code q} and
   * {@code phase} fixed per kernel column), which the copy holds at column {@code ow + q} of its rows of the
   * phase's columns: where {@code ow + q} is past a row's end, the tap reads the neighbouring row's first or
   * last {@code |q|} cells, and that column's copy has those cells zeroed (they are the padding the tap should
   * read, and no output of that tap reads them otherwise; with these strides and row lengths every column past
   * a row's end is padding). Top and bottom padding are zero rows. Vectors of positions then run across rows: a
   * 14x14 plane is 13 vectors of 16 instead of 14, a 112x112 one 784 instead of 896.
   */
  static PaddedLayout wrapped(ConvGeometry g) {
    if (!canWrap(g)) {
      throw new IllegalArgumentException("no wrapped layout for " + g);
    }
    return new PaddedLayout(g);
  }

  /** The {@link #wrapped} layout of {@code g}'s input. */
  private PaddedLayout(ConvGeometry g) {
    int s = g.strideW();
    this.channels = g.inChannels();
    this.inH = g.inHeight();
    this.inW = g.inWidth();
    this.strideH = s;
    this.strideW = s;
    this.padTop = g.padTop();
    this.padLeft = g.padLeft();
    this.paddedH = inH + g.padTop() + g.padBottom();
    this.paddedW = inW + g.padLeft() + g.padRight();
    this.sharedBorder = false;
    this.wrapped = true;
    this.wrapKernelW = g.kernelW();
    this.wrapPhase = new int[wrapKernelW];
    this.wrapShift = new int[wrapKernelW];
    int before = 0;
    int after = 0;
    for (int kw = 0; kw < wrapKernelW; kw++) {
      int d = kw * g.dilationW() - g.padLeft();
      wrapPhase[kw] = Math.floorMod(d, s);
      wrapShift[kw] = Math.floorDiv(d, s);
      before = Math.max(before, -wrapShift[kw]);
      after = Math.max(after, wrapShift[kw]);
    }
    // The first row's taps to the left read up to `before` cells before it, the last row's to the right up to
    // `after` past it.
    this.lead = before;
    this.rowPitch = g.outWidth();
    // Rows of a row phase: those the taps of the output rows read.
    this.hq = s == 1 ? paddedH : g.outHeight() + (g.kernelH() - 1) * g.dilationH() / s;
    this.keep = keepMasks(s == 1 ? inH : 1, inW, rowPitch, s, wrapPhase, wrapShift);
    // Room for a vector past the rows' last cell: a copy's overshoot lands there (zeroed by the masks).
    this.planeQ = lead + hq * rowPitch + Math.max(after, VectorShape.LANES);
    this.channelStride = Math.multiplyExact(wrapKernelW * s, planeQ);
    this.zeros = true;
    this.span = (inW + VectorShape.LANES - 1) / VectorShape.LANES * VectorShape.LANES;
    this.rowSource = sources(paddedH, padTop, inH, PaddingMode.ZEROS);
    this.rowOffset = new int[0];
    this.rowLimit = new int[0];
    this.colSource = sources(paddedW, padLeft, inW, PaddingMode.ZEROS);
    this.pairSpan = 0;
    this.pairEven = 0;
    this.pairOdd = 0;
    this.pairEvenRead = false;
    this.pairOddRead = false;
    this.pairRow = new boolean[0];
    this.borderOffset = new int[0];
    this.borderSource = new int[0];
    this.rowCopied = new boolean[0];
    this.colRead = new boolean[] {true};
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

  /**
   * The offset of each (input channel of a group, tap) of convolution {@code g} from the group's first
   * padded channel, in the order {@code [channel][kh][kw]} of the weights.
   */
  int[] tapOffsets(ConvGeometry g) {
    int taps = g.kernelH() * g.kernelW();
    int[] offs = new int[g.inChannelsPerGroup() * taps];
    for (int c = 0; c < g.inChannelsPerGroup(); c++) {
      for (int kh = 0; kh < g.kernelH(); kh++) {
        for (int kw = 0; kw < g.kernelW(); kw++) {
          int r = kh * g.dilationH();
          offs[c * taps + kh * g.kernelW() + kw] = c * channelStride + (wrapped
              ? (kw * strideH + r % strideH) * planeQ + lead + r / strideH * rowPitch + wrapShift[kw]
              : offset(r, kw * g.dilationW()));
        }
      }
    }
    return offs;
  }

  /** Offset of padded coordinate {@code (r, c)} from its channel's start. */
  int offset(int r, int c) {
    return ((r % strideH) * strideW + c % strideW) * planeQ + (r / strideH) * rowPitch + c / strideW;
  }

  /**
   * Pads channels {@code [c0, c1)} of the sample at {@code x[xOff..]} into {@code paddedX}, channel {@code c} at
   * {@code (c - c0) * channelStride}. Phase cells past the padded plane are never written (they stay zero);
   * a {@link #wrapped} layout writes only its rows, so {@code paddedX} must be a buffer of this layout alone,
   * zero when allocated.
   */
  void pad(float[] x, int xOff, int c0, int c1, float[] paddedX) {
    if (wrapped) {
      if (strideW == 1) {
        padWrapped(x, xOff, c0, c1, paddedX);
      } else {
        padWrappedPairs(x, xOff, c0, c1, paddedX);
      }
      return;
    }
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

  /**
   * {@link #pad} for a {@link #wrapped} layout: per channel and kernel column, the plane copied a vector at a
   * time (its rows are contiguous in the input and in the copy) through that column's {@link #keep} mask, which
   * zeroes the cells its tap reads past a row's end and the last vector's lanes past the plane. The cells
   * before and after the rows are never written otherwise and stay zero ({@code planeQ} leaves a vector of room
   * after the rows). A channel whose last vector would read past {@code x} is copied exactly and zeroed cell by
   * cell.
   */
  private void padWrapped(float[] x, int xOff, int c0, int c1, float[] paddedX) {
    int plane = inH * inW;
    int top = lead + padTop * inW;
    int vectors = keep[0].length;
    for (int c = c0; c < c1; c++) {
      int src = xOff + c * plane;
      boolean whole = src + vectors <= x.length;
      for (int kw = 0; kw < wrapKernelW; kw++) {
        int dst = (c - c0) * channelStride + kw * planeQ + top;
        int[] mask = keep[kw];
        if (whole) {
          for (int i = 0; i < vectors; i += VectorShape.LANES) {
            FloatVector.fromArray(VectorShape.SPECIES, x, src + i).reinterpretAsInts()
                .and(IntVector.fromArray(INTS, mask, i)).reinterpretAsFloats().intoArray(paddedX, dst + i);
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
   * {@link #pad} for a {@link #wrapped} layout of stride 2: per channel, kernel column and row phase, each row
   * of that phase, its columns of the kernel column's phase taken a vector pair at a time ({@link
   * #deinterleave}'s shuffles) through the column's {@link #keep} mask; rows of padding as zero vectors. A row's
   * last vector overshoots onto the next row (written after it) or the room after the rows, its lanes there
   * zeroed by the mask. A row whose last vector pair would read past {@code x} is copied cell by cell.
   */
  private void padWrappedPairs(float[] x, int xOff, int c0, int c1, float[] paddedX) {
    int plane = inH * inW;
    int vectors = keep[0].length;
    FloatVector zero = FloatVector.zero(VectorShape.SPECIES);
    for (int c = c0; c < c1; c++) {
      int src0 = xOff + c * plane;
      for (int kw = 0; kw < wrapKernelW; kw++) {
        int[] mask = keep[kw];
        int phase = wrapPhase[kw];
        for (int rowPhase = 0; rowPhase < 2; rowPhase++) {
          int dst = (c - c0) * channelStride + (kw * 2 + rowPhase) * planeQ + lead;
          for (int i = 0; i < hq; i++, dst += rowPitch) {
            int row = 2 * i + rowPhase - padTop;
            if (row < 0 || row >= inH) {
              for (int k = 0; k < vectors; k += VectorShape.LANES) {
                zero.intoArray(paddedX, dst + k);
              }
              continue;
            }
            int src = src0 + row * inW;
            if (src + 2 * vectors > x.length) {
              for (int j = 0; j < rowPitch; j++) {
                paddedX[dst + j] = mask[j] == 0 ? 0f : x[src + 2 * j + phase];
              }
            } else if (phase == 0) {
              for (int k = 0; k < vectors; k += VectorShape.LANES) {
                FloatVector a = FloatVector.fromArray(VectorShape.SPECIES, x, src + 2 * k);
                FloatVector b = FloatVector.fromArray(VectorShape.SPECIES, x, src + 2 * k + VectorShape.LANES);
                a.rearrange(EVEN_LOW).blend(b.rearrange(EVEN_HIGH), HIGH_HALF).reinterpretAsInts()
                    .and(IntVector.fromArray(INTS, mask, k)).reinterpretAsFloats().intoArray(paddedX, dst + k);
              }
            } else {
              for (int k = 0; k < vectors; k += VectorShape.LANES) {
                FloatVector a = FloatVector.fromArray(VectorShape.SPECIES, x, src + 2 * k);
                FloatVector b = FloatVector.fromArray(VectorShape.SPECIES, x, src + 2 * k + VectorShape.LANES);
                a.rearrange(ODD_LOW).blend(b.rearrange(ODD_HIGH), HIGH_HALF).reinterpretAsInts()
                    .and(IntVector.fromArray(INTS, mask, k)).reinterpretAsFloats().intoArray(paddedX, dst + k);
              }
            }
          }
        }
      }
    }
  }

  /**
   * Per kernel column of a {@link #wrapped} layout, over {@code rows} rows of {@code width} cells rounded up to
   * whole vectors (the whole plane for stride 1, one row for stride 2): -1 for the cells its copy keeps, 0 for
   * those it zeroes: cells past the plane (or row), columns of the phase past the input's last, and the {@code
   * |q|} cells at each row's end ({@code q < 0}) or start ({@code q > 0}) that its tap reads past a row's end.
   */
  private static int[][] keepMasks(int rows, int inW, int width, int stride, int[] phase, int[] shift) {
    int cells = rows * width;
    int[][] keep = new int[phase.length][(cells + VectorShape.LANES - 1) / VectorShape.LANES * VectorShape.LANES];
    for (int kw = 0; kw < phase.length; kw++) {
      int q = shift[kw];
      for (int i = 0; i < cells; i++) {
        int col = i % width;
        boolean wrappedRead = q < 0 && col >= width + q || q > 0 && col < q;
        keep[kw][i] = wrappedRead || stride * col + phase[kw] >= inW ? 0 : -1;
      }
    }
    return keep;
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
      a.rearrange(EVEN_LOW).blend(b.rearrange(EVEN_HIGH), HIGH_HALF).intoArray(paddedX, dstEven);
    }
    if (oddRead) {
      a.rearrange(ODD_LOW).blend(b.rearrange(ODD_HIGH), HIGH_HALF).intoArray(paddedX, dstOdd);
    }
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
