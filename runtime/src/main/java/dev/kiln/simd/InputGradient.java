package dev.kiln.simd;

import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;

/**
 * One sample's input gradient as direct convolutions of the output gradient. The gradient with respect
 * to the padded input, {@code gxp[R][C] = sum gy[oh][ow] * w[kh][kw]} over {@code R = oh*sH + kh*dH},
 * {@code C = ow*sW + kw*dW}, splits by the residues {@code (R mod sH, C mod sW)} into at most
 * {@code sH * sW} phases; each phase is a stride-1 convolution of {@code gy} with the taps of that residue,
 * flipped, in the transposed channel layout. With zero padding each phase computes only the cells that
 * are input cells (its output is cropped to them), and the phases are interleaved into the input gradient;
 * for stride 1 the one phase's output is the input gradient itself. With the other padding modes the
 * phases cover the whole padded plane and are folded back through the padding (the gradient of a
 * reflected, replicated or wrapped cell goes to its source).
 */
final class InputGradient {
  private final ConvGeometry geometry;
  private final PaddedLayout layout;
  private final Phase[] phases;
  private final ThreadLocal<float[]> scratch;
  /** Whether the one phase's output is the input gradient itself (stride 1, zero padding, cropped). */
  private final boolean writesInput;
  /** Whether the phases' planes are interleaved into the input gradient (zero padding). */
  private final boolean interleaved;
  /** Where each phase's planes start in the scratch (when interleaved). */
  private final int[] phaseBase;
  /** The phase of each residue pair {@code rr * sW + cr}, or -1 (no tap lands there: zero gradient). */
  private final int[] phaseAt;

  /** Lane {@code i} takes lane {@code i / 2}: the low half of a vector spread over pairs of lanes. */
  private static final VectorShuffle<Float> SPREAD_LOW = spread(0);
  /** Lane {@code i} takes lane {@code V / 2 + i / 2}: the high half spread over pairs of lanes. */
  private static final VectorShuffle<Float> SPREAD_HIGH = spread(VectorShape.LANES / 2);
  /** The odd lanes. */
  private static final VectorMask<Float> ODD = VectorMask.fromLong(VectorShape.SPECIES,
      0xAAAAAAAAAAAAAAAAL & ((1L << VectorShape.LANES) - 1));

  private static VectorShuffle<Float> spread(int first) {
    int[] index = new int[VectorShape.LANES];
    for (int i = 0; i < VectorShape.LANES; i++) {
      index[i] = first + i / 2;
    }
    return VectorShuffle.fromArray(VectorShape.SPECIES, index, 0);
  }

  /** One residue class of padded rows and columns. */
  private static final class Phase {
    final int rowResidue;
    final int colResidue;
    /** Kernel rows of this phase's taps, in tap order (descending). */
    final int[] rowTaps;
    final int[] colTaps;
    final DirectConv conv;
    /** Padded rows (columns) of this residue: the phase output rows (columns) that are folded. */
    final int rows;
    final int cols;
    /** The phase convolution's output size (may exceed rows, cols). */
    final int convH;
    final int convW;
    /** The first phase row (column) the convolution computes: 0, or the first input row when cropped. */
    final int rowCrop;
    final int colCrop;
    /** Phase columns whose padded column is an input column ({@code padLeft <= col * sW + residue < padLeft + W}). */
    int interiorStart;
    int interiorEnd;

    Phase(int rowResidue, int colResidue, int[] rowTaps, int[] colTaps, DirectConv conv, int rows, int cols,
        int convH, int convW, int rowCrop, int colCrop) {
      this.rowCrop = rowCrop;
      this.colCrop = colCrop;
      this.rowResidue = rowResidue;
      this.colResidue = colResidue;
      this.rowTaps = rowTaps;
      this.colTaps = colTaps;
      this.conv = conv;
      this.rows = rows;
      this.cols = cols;
      this.convH = convH;
      this.convW = convW;
    }
  }

  /** One axis of a phase: its taps and the 1-D geometry of its convolution. */
  private static final class Axis {
    int[] taps;
    int dilation;
    int padBefore;
    int padAfter;
    int size;
    int convSize;
    /** The first phase index the convolution computes. */
    int crop;
  }

  InputGradient(ConvGeometry geometry, PaddedLayout layout) {
    this.geometry = geometry;
    this.layout = layout;
    // With zero padding every input cell takes its gradient from exactly one phase: the phases compute
    // only input cells, their planes are kept side by side and interleaved into the input gradient (no
    // zeroing, no adding).
    this.interleaved = geometry.paddingMode() == PaddingMode.ZEROS;
    List<Phase> list = new ArrayList<>();
    int largest = 0;
    for (int rr = 0; rr < geometry.strideH(); rr++) {
      Axis rowAxis = axis(geometry.kernelH(), geometry.strideH(), geometry.dilationH(), rr, layout.paddedH, geometry.outHeight(), geometry.padTop(),
          geometry.inHeight(), interleaved);
      if (rowAxis == null) {
        continue;
      }
      for (int cr = 0; cr < geometry.strideW(); cr++) {
        Axis colAxis = axis(geometry.kernelW(), geometry.strideW(), geometry.dilationW(), cr, layout.paddedW, geometry.outWidth(),
            geometry.padLeft(), geometry.inWidth(), interleaved);
        if (colAxis == null) {
          continue;
        }
        // Its output size, derived from these values, is rowAxis.convSize x colAxis.convSize.
        ConvGeometry pg = ConvGeometry.builder().inChannels(geometry.outChannels()).inputSize(geometry.outHeight(), geometry.outWidth())
            .outChannels(geometry.inChannels()).kernel(rowAxis.taps.length, colAxis.taps.length)
            .dilation(rowAxis.dilation, colAxis.dilation)
            .padding(rowAxis.padBefore, rowAxis.padAfter, colAxis.padBefore, colAxis.padAfter)
            .groups(geometry.groups()).build();
        Phase ph = new Phase(rr, cr, rowAxis.taps, colAxis.taps, new DirectConv(pg, false), rowAxis.size,
            colAxis.size, rowAxis.convSize, colAxis.convSize, rowAxis.crop, colAxis.crop);
        ph.interiorStart = Math.min(ph.cols, ceilDiv(Math.max(0, geometry.padLeft() - cr), geometry.strideW()));
        ph.interiorEnd = Math.max(ph.interiorStart,
            Math.min(ph.cols, ceilDiv(Math.max(0, geometry.padLeft() + geometry.inWidth() - cr), geometry.strideW())));
        list.add(ph);
        largest = Math.max(largest, geometry.inChannels() * rowAxis.convSize * colAxis.convSize);
      }
    }
    this.phases = list.toArray(new Phase[0]);
    this.writesInput = interleaved && phases.length == 1 && geometry.strideH() == 1 && geometry.strideW() == 1
        && phases[0].convH == geometry.inHeight() && phases[0].convW == geometry.inWidth() && phases[0].rowCrop == geometry.padTop()
        && phases[0].colCrop == geometry.padLeft();
    this.phaseBase = new int[phases.length];
    this.phaseAt = new int[geometry.strideH() * geometry.strideW()];
    java.util.Arrays.fill(phaseAt, -1);
    int total = 0;
    for (int i = 0; i < phases.length; i++) {
      phaseBase[i] = total;
      total += geometry.inChannels() * phases[i].convH * phases[i].convW;
      phaseAt[phases[i].rowResidue * geometry.strideW() + phases[i].colResidue] = i;
    }
    int size = writesInput ? 0 : interleaved ? total : largest;
    this.scratch = ThreadLocal.withInitial(() -> new float[size]);
  }

  /**
   * The taps of residue {@code residue} along one axis, or null when no tap lands there. Tap {@code k}
   * reaches padded index {@code R = s*o + k*d}; with {@code R = s*R' + residue} that is output
   * {@code o = R' - a(k)}, {@code a(k) = (k*d - residue) / s}. With {@code crop}, the convolution computes
   * only the phase indices that are input cells ({@code pad <= s*R' + residue < pad + in}) when that needs no
   * negative padding.
   */
  private static Axis axis(int kernel, int stride, int dilation, int residue, int padded, int out, int pad,
      int in, boolean crop) {
    List<Integer> taps = new ArrayList<>();
    for (int k = kernel - 1; k >= 0; k--) {
      if (k * dilation % stride == residue) {
        taps.add(k);
      }
    }
    int size = (padded - residue + stride - 1) / stride;
    if (taps.isEmpty() || size <= 0) {
      return null;
    }
    Axis a = new Axis();
    a.taps = taps.stream().mapToInt(Integer::intValue).toArray();
    int first = (a.taps[0] * dilation - residue) / stride;
    int last = (a.taps[a.taps.length - 1] * dilation - residue) / stride;
    a.dilation = a.taps.length > 1 ? first - (a.taps[1] * dilation - residue) / stride : 1;
    a.padBefore = first;
    a.padAfter = Math.max(0, size - out - last);
    a.size = size;
    a.convSize = out + last + a.padAfter;
    if (crop) {
      int lo = ceilDiv(Math.max(0, pad - residue), stride);
      int hi = Math.min(size, ceilDiv(Math.max(0, pad + in - residue), stride));
      int before = first - lo;
      // The convolution's output size is out + before + after - (first - last).
      int after = hi - lo - out - before + (first - last);
      if (hi > lo && before >= 0 && after >= 0) {
        a.padBefore = before;
        a.padAfter = after;
        a.convSize = hi - lo;
        a.crop = lo;
      }
    }
    return a;
  }

  /** The weights {@code w [out, in/g, kH, kW]} packed for every phase. */
  DirectConv.Packed[] pack(float[] w) {
    DirectConv.Packed[] packed = new DirectConv.Packed[phases.length];
    for (int i = 0; i < phases.length; i++) {
      Phase ph = phases[i];
      packed[i] = ph.conv.pack(transposed(w, ph.rowTaps, ph.colTaps), null);
    }
    return packed;
  }

  /**
   * The kernel of one input-gradient convolution: {@code t[in][out/g][a][b] = w[out][in/g][rowTaps[a]][colTaps[b]]},
   * grouped by input channel (the transposed channel layout).
   */
  private float[] transposed(float[] w, int[] rowTaps, int[] colTaps) {
    int inGroupChannels = geometry.inChannelsPerGroup();
    int outGroupChannels = geometry.outChannelsPerGroup();
    int kh = geometry.kernelH();
    int kw = geometry.kernelW();
    int th = rowTaps.length;
    int tw = colTaps.length;
    float[] t = new float[geometry.inChannels() * outGroupChannels * th * tw];
    for (int oc = 0; oc < geometry.outChannels(); oc++) {
      int grp = oc / outGroupChannels;
      int j = oc - grp * outGroupChannels;
      for (int c = 0; c < inGroupChannels; c++) {
        int src = (oc * inGroupChannels + c) * kh * kw;
        int dst = ((grp * inGroupChannels + c) * outGroupChannels + j) * th * tw;
        for (int a = 0; a < th; a++) {
          for (int b = 0; b < tw; b++) {
            t[dst + a * tw + b] = w[src + rowTaps[a] * kw + colTaps[b]];
          }
        }
      }
    }
    return t;
  }

  /** Writes one sample's input gradient to {@code gx[gxOff..]}. */
  void write(DirectConv.Packed[] packed, float[] gy, int gyOff, float[] gx, int gxOff) {
    if (writesInput) {
      phases[0].conv.forward(packed[0], gy, gyOff, gx, gxOff, 0, geometry.inChannels());
      return;
    }
    float[] gp = scratch.get();
    if (interleaved) {
      for (int i = 0; i < phases.length; i++) {
        phases[i].conv.forward(packed[i], gy, gyOff, gp, phaseBase[i], 0, geometry.inChannels());
      }
      interleave(gp, gx, gxOff);
      return;
    }
    java.util.Arrays.fill(gx, gxOff, gxOff + geometry.inChannels() * geometry.inHeight() * geometry.inWidth(), 0f);
    for (int i = 0; i < phases.length; i++) {
      Phase ph = phases[i];
      ph.conv.forward(packed[i], gy, gyOff, gp, 0, 0, geometry.inChannels());
      fold(gp, ph, gx, gxOff);
    }
  }

  /**
   * Writes the input gradient from the phases' planes: input cell {@code (ih, iw)} is padded cell
   * {@code (R, C) = (ih + padTop, iw + padLeft)}, row {@code R / sH}, column {@code C / sW} of phase
   * {@code (R mod sH, C mod sW)}, less the phase's crop.
   */
  private void interleave(float[] gp, float[] gx, int gxOff) {
    int h = geometry.inHeight();
    int w = geometry.inWidth();
    int sW = geometry.strideW();
    int end = gxOff + geometry.inChannels() * h * w;
    for (int c = 0; c < geometry.inChannels(); c++) {
      for (int ih = 0; ih < h; ih++) {
        int rowR = ih + geometry.padTop();
        int dst = gxOff + (c * h + ih) * w;
        if (sW == 2 && dst + 2 * VectorShape.LANES <= end) {
          interleavePair(gp, c, rowR, gx, dst, end);
          continue;
        }
        for (int cr = 0; cr < sW; cr++) {
          int first = Math.floorMod(cr - geometry.padLeft(), sW);
          int src = rowStart(c, rowR, cr, first);
          if (src < 0) {
            for (int iw = first; iw < w; iw += sW) {
              gx[dst + iw] = 0f;
            }
            continue;
          }
          for (int iw = first; iw < w; iw += sW, src++) {
            gx[dst + iw] = gp[src];
          }
        }
      }
    }
  }

  /**
   * Where in the phases' planes input row {@code rowR - padTop} of channel {@code c} finds input column
   * {@code first} (the first column of residue {@code cr}), or -1 when no tap reaches that residue.
   */
  private int rowStart(int c, int rowR, int cr, int first) {
    int pi = phaseAt[rowR % geometry.strideH() * geometry.strideW() + cr];
    if (pi < 0) {
      return -1;
    }
    Phase ph = phases[pi];
    return phaseBase[pi] + (c * ph.convH + rowR / geometry.strideH() - ph.rowCrop) * ph.convW
        + (first + geometry.padLeft()) / geometry.strideW() - ph.colCrop;
  }

  /**
   * One input row with column stride 2: the even columns from one phase, the odd ones from the other,
   * paired lane by lane, two vectors of the row per vector of each phase. Stores may run past the row's end
   * onto rows written later, never past {@code end}; loads stay inside the scratch.
   */
  private void interleavePair(float[] gp, int c, int rowR, float[] gx, int dst, int end) {
    int w = geometry.inWidth();
    int evenResidue = geometry.padLeft() % 2;
    int even = rowStart(c, rowR, evenResidue, 0);
    int odd = rowStart(c, rowR, 1 - evenResidue, 1);
    FloatVector zero = FloatVector.zero(VectorShape.SPECIES);
    int j = 0;
    for (; 2 * j < w; j += VectorShape.LANES) {
      int d = dst + 2 * j;
      if (d + 2 * VectorShape.LANES > end || even + j + VectorShape.LANES > gp.length || odd + j + VectorShape.LANES > gp.length) {
        break;
      }
      FloatVector a = even < 0 ? zero : FloatVector.fromArray(VectorShape.SPECIES, gp, even + j);
      FloatVector b = odd < 0 ? zero : FloatVector.fromArray(VectorShape.SPECIES, gp, odd + j);
      a.rearrange(SPREAD_LOW).blend(b.rearrange(SPREAD_LOW), ODD).intoArray(gx, d);
      a.rearrange(SPREAD_HIGH).blend(b.rearrange(SPREAD_HIGH), ODD).intoArray(gx, d + VectorShape.LANES);
    }
    for (int iw = 2 * j; iw < w; iw++) {
      int src = (iw & 1) == 0 ? even : odd;
      gx[dst + iw] = src < 0 ? 0f : gp[src + iw / 2];
    }
  }

  /** Adds a phase's padded-input gradient to its source cells. */
  private void fold(float[] gp, Phase ph, float[] gx, int gxOff) {
    int h = geometry.inHeight();
    int w = geometry.inWidth();
    int sW = geometry.strideW();
    for (int c = 0; c < geometry.inChannels(); c++) {
      int dst0 = gxOff + c * h * w;
      int src0 = c * ph.convH * ph.convW;
      for (int r = 0; r < ph.rows; r++) {
        int sr = layout.rowSource(r * geometry.strideH() + ph.rowResidue);
        if (sr < 0) {
          continue;
        }
        int dst = dst0 + sr * w;
        int src = src0 + r * ph.convW;
        if (ph.interiorEnd > ph.interiorStart) {
          // Columns [interiorStart, interiorEnd) map to consecutive input columns sW apart.
          int d = dst + ph.interiorStart * sW + ph.colResidue - geometry.padLeft();
          for (int col = ph.interiorStart; col < ph.interiorEnd; col++, d += sW) {
            gx[d] += gp[src + col];
          }
        }
        foldBorder(gp, src, 0, ph.interiorStart, ph, gx, dst);
        foldBorder(gp, src, ph.interiorEnd, ph.cols, ph, gx, dst);
      }
    }
  }

  /** Adds phase columns {@code [from, to)} of one row (border columns) to their source cells, if any. */
  private void foldBorder(float[] gp, int src, int from, int to, Phase ph, float[] gx, int dst) {
    for (int col = from; col < to; col++) {
      int sc = layout.colSource(col * geometry.strideW() + ph.colResidue);
      if (sc >= 0) {
        gx[dst + sc] += gp[src + col];
      }
    }
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }
}
