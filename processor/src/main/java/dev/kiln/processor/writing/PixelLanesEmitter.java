package dev.kiln.processor.writing;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.CodeBlock;
import com.palantir.javapoet.MethodSpec;
import com.palantir.javapoet.TypeName;
import com.palantir.javapoet.TypeSpec;
import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.processor.model.ConvSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Emits the scalar forward with output pixels in the vector lanes, in the shape HotSpot auto-vectorizes
 * ({@link PixelLanesLayout}): per band of output rows, each input channel is staged into shifted planes
 * (padding applied while copying, so there is no border code), then each output channel's accumulator
 * receives one loop per block of taps ({@link TermBlocks}), {@code acc[j] += w0 * s0[j] + w1 * s1[j] + ...}
 * over the band's pixels, and the band is written to the output with the activation. When the layout is
 * channel-blocked, the input channels are staged a block at a time and every output channel's accumulator
 * receives that block's loops before the next block is staged.
 */
final class PixelLanesEmitter {
  private static final ClassName SCRATCH = ClassName.get("dev.kiln.nn", "Scratch");
  private static final TypeName PLANES = ConvKernelWriter.PLANES;
  private static final TypeName FLOATS = ConvKernelWriter.FLOATS;

  private final ConvSpec spec;
  private final PixelLanesLayout layout;

  PixelLanesEmitter(ConvSpec spec) {
    this.spec = spec;
    this.layout = new PixelLanesLayout(spec);
  }

  /** Adds the staged forward's shape constants (their legend goes into the class Javadoc). */
  void constants(TypeSpec.Builder type) {
    ConvKernelWriter.constant(type, "PITCH", layout.pitch(),
        "Floats from one output row to the next in the staged input and the accumulator.");
    ConvKernelWriter.constant(type, "BAND_ROWS", layout.bandRows(), "Output rows per band of the forward.");
    ConvKernelWriter.constant(type, "PLANES_PER_CHANNEL", layout.planesPerChannel(),
        "Staged planes per input channel: one per row phase (per kernel row when staged per tap) and kernel "
            + "column.");
    ConvKernelWriter.constant(type, "STAGE_LENGTH", layout.stageLength(), "Floats of one staged plane.");
    if (layout.channelBlocked()) {
      ConvKernelWriter.constant(type, "CHANNEL_BLOCK", layout.channelBlock(),
          "Input channels staged at once, for every output channel's loops to read from the level-1 cache.");
    }
  }

  /** The methods of the forward: the per-sample entry point and its helpers (and {@code mapIndex} if needed). */
  List<MethodSpec> methods() {
    List<MethodSpec> methods = new ArrayList<>();
    methods.add(forwardSample());
    methods.add(stageChannel());
    methods.add(stageRow());
    if (zeroRowsNeeded()) {
      methods.add(zeroRow());
    }
    methods.add(accumulate());
    methods.addAll(TermBlocks.mapDistinct(spec, this::block));
    methods.add(writeBand());
    return methods;
  }

  private String blockName(TermBlocks.Block block) {
    return TermBlocks.name("taps", block, spec);
  }

  private MethodSpec forwardSample() {
    if (layout.channelBlocked()) {
      return blockedForwardSample();
    }
    if (spec.groups() > 1) {
      return groupedForwardSample();
    }
    MethodSpec.Builder m = forwardPrologue();
    m.addStatement("float[][] stage = scratch.inputs(IN_C * PLANES_PER_CHANNEL, STAGE_LENGTH)");
    m.addStatement("float[] acc = scratch.accumulators(1, BAND_ROWS * PITCH)[0]");
    beginBands(m);
    m.beginControlFlow("for (int c = 0; c < IN_C; c++)");
    m.addStatement("stageChannel(x, xOff + c * IN_PLANE, stage, c * PLANES_PER_CHANNEL, oh0, rows)");
    m.endControlFlow();
    m.beginControlFlow("for (int oc = ocStart; oc < ocEnd; oc++)");
    outputChannel(m, "oc");
    m.endControlFlow();
    endBands(m);
    return m.build();
  }

  /**
   * The forward of a layout with groups: per band, each group's input channels are staged (into the planes from
   * {@code stage[0]} on) and that group's output channels run over them before the next group is staged, so that a
   * group's planes stay in the level-1 cache ({@link PixelLanesLayout}); a depthwise layer stages one channel and
   * computes one.
   */
  private MethodSpec groupedForwardSample() {
    MethodSpec.Builder m = forwardPrologue();
    m.addStatement("float[][] stage = scratch.inputs(IC_PER_GROUP * PLANES_PER_CHANNEL, STAGE_LENGTH)");
    m.addStatement("float[] acc = scratch.accumulators(1, BAND_ROWS * PITCH)[0]");
    beginBands(m);
    if (spec.inChannelsPerGroup() == 1 && spec.outChannelsPerGroup() == 1) {
      m.beginControlFlow("for (int c = ocStart; c < ocEnd; c++)");
      m.addStatement("stageChannel(x, xOff + c * IN_PLANE, stage, 0, oh0, rows)");
      outputChannel(m, "c");
      m.endControlFlow();
    } else {
      m.addComment("the groups of output channels [ocStart, ocEnd)");
      m.beginControlFlow("for (int g = ocStart / OC_PER_GROUP; g <= (ocEnd - 1) / OC_PER_GROUP; g++)");
      if (spec.inChannelsPerGroup() == 1) {
        m.addStatement("stageChannel(x, xOff + g * IN_PLANE, stage, 0, oh0, rows)");
      } else {
        m.beginControlFlow("for (int c = 0; c < IC_PER_GROUP; c++)");
        m.addStatement("stageChannel(x, xOff + (g * IC_PER_GROUP + c) * IN_PLANE, stage, c * PLANES_PER_CHANNEL, "
            + "oh0, rows)");
        m.endControlFlow();
      }
      m.addStatement("int ocLast = Math.min(ocEnd, (g + 1) * OC_PER_GROUP)");
      m.beginControlFlow("for (int oc = Math.max(ocStart, g * OC_PER_GROUP); oc < ocLast; oc++)");
      outputChannel(m, "oc");
      m.endControlFlow();
      m.endControlFlow();
    }
    endBands(m);
    return m.build();
  }

  /** One output channel's band: the accumulator at the bias, its group's loops (from plane 0), the write. */
  private void outputChannel(MethodSpec.Builder m, String oc) {
    m.addStatement("$T.fill(acc, 0, rows * PITCH, $L)", ConvKernelWriter.ARRAYS, spec.bias() ? "b[" + oc + "]" : "0f");
    m.addStatement("accumulate(acc, stage, 0, w, $L * $L, rows * PITCH)", oc,
        spec.inChannelsPerGroup() == 1 ? "K_AREA" : "IC_PER_GROUP * K_AREA");
    m.addStatement("writeBand(acc, y, yOff + $L * OUT_PLANE + oh0 * OUT_W, rows)", oc);
  }

  /** The start of {@code forwardSample}: the weights, the bias and the thread's scratch in locals. */
  private MethodSpec.Builder forwardPrologue() {
    MethodSpec.Builder m = GeneratedMethods.forwardSample();
    m.addStatement("final float[] w = super.w");
    if (spec.bias()) {
      m.addStatement("final float[] b = super.b");
    }
    m.addStatement("$T scratch = $T.get()", SCRATCH, SCRATCH);
    return m;
  }

  /** Opens the loop over the bands of output rows {@code [oh0, oh0 + rows)} (or declares the one band). */
  private void beginBands(MethodSpec.Builder m) {
    if (layout.singleBand()) {
      m.addStatement("final int oh0 = 0");
      m.addStatement("final int rows = OUT_H");
    } else {
      m.beginControlFlow("for (int oh0 = 0; oh0 < OUT_H; oh0 += BAND_ROWS)");
      m.addStatement("int rows = Math.min(BAND_ROWS, OUT_H - oh0)");
    }
  }

  /** Closes what {@link #beginBands} opened. */
  private void endBands(MethodSpec.Builder m) {
    if (!layout.singleBand()) {
      m.endControlFlow();
    }
  }

  /** The forward of the channel-blocked layout (one group): see the class comment. */
  private MethodSpec blockedForwardSample() {
    MethodSpec.Builder m = forwardPrologue();
    m.addStatement("float[][] stage = scratch.inputs(CHANNEL_BLOCK * PLANES_PER_CHANNEL, STAGE_LENGTH)");
    m.addStatement("float[][] acc = scratch.accumulators(ocEnd - ocStart, BAND_ROWS * PITCH)");
    beginBands(m);
    m.beginControlFlow("for (int oc = ocStart; oc < ocEnd; oc++)");
    m.addStatement("$T.fill(acc[oc - ocStart], 0, rows * PITCH, $L)", ConvKernelWriter.ARRAYS,
        spec.bias() ? "b[oc]" : "0f");
    m.endControlFlow();
    m.beginControlFlow("for (int c0 = 0; c0 < IN_C; c0 += CHANNEL_BLOCK)");
    m.addStatement("int c1 = Math.min(IN_C, c0 + CHANNEL_BLOCK)");
    m.beginControlFlow("for (int c = c0; c < c1; c++)");
    m.addStatement("stageChannel(x, xOff + c * IN_PLANE, stage, (c - c0) * PLANES_PER_CHANNEL, oh0, rows)");
    m.endControlFlow();
    m.beginControlFlow("for (int oc = ocStart; oc < ocEnd; oc++)");
    m.addStatement("accumulate(acc[oc - ocStart], stage, w, oc * IC_PER_GROUP * K_AREA, c0, c1, rows * PITCH)");
    m.endControlFlow();
    m.endControlFlow();
    m.beginControlFlow("for (int oc = ocStart; oc < ocEnd; oc++)");
    m.addStatement("writeBand(acc[oc - ocStart], y, yOff + oc * OUT_PLANE + oh0 * OUT_W, rows)");
    m.endControlFlow();
    endBands(m);
    return m.build();
  }

  private boolean zeroRowsNeeded() {
    return spec.paddingMode() == PaddingMode.ZEROS && spec.padTop() + spec.padBottom() > 0;
  }

  private MethodSpec stageChannel() {
    MethodSpec.Builder m = GeneratedMethods.helper("stageChannel")
        .addJavadoc("Stages the rows of one input channel that output rows {@code [oh0, oh0 + rows)} read into "
            + "planes\n{@code stage[p + phase * K_W + kw]}: staged row {@code r} of a phase holds padded input row\n"
            + "{@code (oh0 + r) * STRIDE_H + phase}.\n")
        .addParameter(FLOATS, "x").addParameter(int.class, "xPlane")
        .addParameter(PLANES, "stage").addParameter(int.class, "p")
        .addParameter(int.class, "oh0").addParameter(int.class, "rows");
    int[] phases = layout.phases();
    for (int i = 0; i < phases.length; i++) {
      int phase = phases[i];
      String first = i == 0 ? "p" : "p + " + i * spec.kernelW();
      int extra = layout.maxRowOffset(phase);
      if (phases.length > 1) {
        m.addComment("row phase $L", phase);
      }
      m.beginControlFlow("for (int r = 0; r < rows$L; r++)", extra == 0 ? "" : " + " + extra);
      m.addStatement("int ih = (oh0 + r) * STRIDE_H$L - PAD_TOP", phase == 0 ? "" : " + " + phase);
      if (zeroRowsNeeded()) {
        m.beginControlFlow("if (ih < 0 || ih >= IN_H)");
        m.addStatement("zeroRow(stage, $L, r * PITCH)", first);
        m.nextControlFlow("else");
        m.addStatement("stageRow(x, xPlane + ih * IN_W, stage, $L, r * PITCH)", first);
        m.endControlFlow();
      } else if (spec.paddingMode() != PaddingMode.ZEROS && spec.padTop() + spec.padBottom() > 0) {
        m.addStatement("stageRow(x, xPlane + mapIndex(ih, IN_H) * IN_W, stage, $L, r * PITCH)", first);
      } else {
        m.addStatement("stageRow(x, xPlane + ih * IN_W, stage, $L, r * PITCH)", first);
      }
      m.endControlFlow();
      if (derivedColumns()) {
        for (int kw = spec.strideW(); kw < spec.kernelW(); kw++) {
          int shift = kw * spec.dilationW() / spec.strideW();
          m.addStatement("System.arraycopy(stage[$L], $L, stage[$L], 0, $L * PITCH - $L)",
              plane(i * spec.kernelW() + kw % spec.strideW()), shift, plane(i * spec.kernelW() + kw),
              extra == 0 ? "rows" : "(rows + " + extra + ")", shift);
        }
      }
    }
    return m.build();
  }

  private static String plane(int index) {
    return index == 0 ? "p" : "p + " + index;
  }

  /**
   * Whether only the planes of the first {@code STRIDE_W} kernel columns are staged row by row and the others are
   * whole-plane copies of them, shifted: kernel column {@code kw} reads padded column {@code ow * STRIDE_W + kw *
   * DILATION_W}, which where the stride or the dilation is 1 is column {@code kw % STRIDE_W}'s plane
   * {@code kw * DILATION_W / STRIDE_W} pixels on; so those planes' rows are gathered that much wider (within
   * {@code PITCH}). At stride 1 that is one padded row per input row and one copy per other plane, instead of one copy
   * and up to three fills per row and plane. The shifted planes' columns beyond {@code OUT_W} hold the next row's
   * first floats (or, at the end, what the plane held before), which only outputs beyond {@code OUT_W} read.
   * MobileNet v1's depthwise layers alone (Intel Xeon of the Sapphire Rapids class, JDK 17, one thread, N=1, after
   * {@link PixelLanesLayout}'s groups one at a time): stride 1, 512 channels 14x14 270 us -> 130, 1,024 7x7 400 ->
   * 165, 256 28x28 330 -> 197, 128 56x56 590 -> 406; stride 2, 512 channels 14x14 295-326 -> 244-251, 64 112x112
   * 748-793 -> 638-652; the same bits.
   */
  private boolean derivedColumns() {
    int s = spec.strideW();
    int d = spec.dilationW();
    return (s == 1 || d == 1) && spec.kernelW() > s
        && layout.pitch() >= spec.outWidth() + (spec.kernelW() - 1) * d / s;
  }


  private boolean horizontalPadding() {
    return spec.padLeft() + spec.padRight() > 0;
  }

  private MethodSpec stageRow() {
    MethodSpec.Builder m = GeneratedMethods.helper("stageRow");
    if (derivedColumns()) {
      m.addJavadoc("Copies input row {@code x[row..]} into row {@code at} of planes {@code stage[p + kw]}, "
          + "{@code kw < STRIDE_W}: output\ncolumn {@code ow < OUT_W + (K_W - 1 - kw) * DILATION_W / STRIDE_W} of "
          + "plane {@code kw} gets padded input\ncolumn {@code ow * STRIDE_W + kw * DILATION_W}; the columns after them "
          + "to {@code PITCH} get zeros.\n");
    } else {
      m.addJavadoc("Copies input row {@code x[row..]} into row {@code at} of planes {@code stage[p + kw]}: "
          + "output column {@code ow}\nof plane {@code kw} gets padded input column "
          + "{@code ow * STRIDE_W + kw * DILATION_W}$L.\n",
          layout.pitch() > spec.outWidth() ? "; the columns from {@code OUT_W} to {@code PITCH} get zeros" : "");
    }
    m.addParameter(FLOATS, "x").addParameter(int.class, "row")
        .addParameter(PLANES, "stage").addParameter(int.class, "p").addParameter(int.class, "at");
    boolean derived = derivedColumns();
    String cols = derived ? "cols" : "OUT_W";
    if (derived) {
      m.addComment("the first STRIDE_W kernel columns; the others are these planes shifted (stageChannel)");
      m.beginControlFlow("for (int kw = 0; kw < STRIDE_W; kw++)");
      m.addStatement("int cols = OUT_W + (K_W - 1 - kw) * DILATION_W / STRIDE_W");
    } else {
      m.beginControlFlow("for (int kw = 0; kw < K_W; kw++)");
    }
    m.addStatement("float[] s = stage[p + kw]");
    m.addStatement("int shift = kw * DILATION_W - PAD_LEFT");
    if (!horizontalPadding()) {
      copyColumns(m, "0", cols);
    } else {
      m.addComment("output columns [lo, hi) read inside the input row");
      if (spec.strideW() == 1) {
        m.addStatement("int lo = Math.min($L, Math.max(0, -shift))", cols);
        m.addStatement("int hi = Math.max(lo, Math.min($L, IN_W - shift))", cols);
      } else {
        m.addStatement("int lo = Math.min($L, Math.max(0, Math.floorDiv(STRIDE_W - 1 - shift, STRIDE_W)))", cols);
        m.addStatement("int hi = Math.max(lo, Math.min($L, Math.floorDiv(IN_W - 1 - shift, STRIDE_W) + 1))", cols);
      }
      borderColumns(m, "0", "lo");
      copyColumns(m, "lo", "hi");
      borderColumns(m, "hi", cols);
    }
    if (derived || layout.pitch() > spec.outWidth()) {
      m.addStatement("$T.fill(s, at + $L, at + PITCH, 0f)", ConvKernelWriter.ARRAYS, cols);
    }
    m.endControlFlow();
    return m.build();
  }

  private void copyColumns(MethodSpec.Builder m, String from, String to) {
    if (spec.strideW() == 1) {
      boolean mayBeEmpty = !from.equals("0");
      if (mayBeEmpty) {
        m.beginControlFlow("if ($L > $L)", to, from);
      }
      m.addStatement("System.arraycopy(x, row + $L + shift, s, at + $L, $L - $L)", from, from, to, from);
      if (mayBeEmpty) {
        m.endControlFlow();
      }
    } else {
      m.beginControlFlow("for (int ow = $L; ow < $L; ow++)", from, to);
      m.addStatement("s[at + ow] = x[row + ow * STRIDE_W + shift]");
      m.endControlFlow();
    }
  }

  private void borderColumns(MethodSpec.Builder m, String from, String to) {
    PaddedPlanes.paddingColumns(m, spec, "ow", from, to, "s[at + ow]", "ow * STRIDE_W + shift");
  }

  private MethodSpec zeroRow() {
    boolean derived = derivedColumns();
    return GeneratedMethods.helper("zeroRow")
        .addJavadoc("Fills row {@code at} of planes {@code stage[p + kw]}$L with zeros (a padding row).\n",
            derived ? ", {@code kw < STRIDE_W} (the others are copies)," : "")
        .addParameter(PLANES, "stage").addParameter(int.class, "p").addParameter(int.class, "at")
        .beginControlFlow("for (int kw = 0; kw < $L; kw++)", derived ? "STRIDE_W" : "K_W")
        .addStatement("$T.fill(stage[p + kw], at, at + PITCH, 0f)", ConvKernelWriter.ARRAYS)
        .endControlFlow()
        .build();
  }

  /** {@code mapIndex(i, size)}: a padded coordinate mapped into the input by the (non-zero) padding mode. */
  static MethodSpec mapIndex(ConvSpec spec) {
    MethodSpec.Builder m = GeneratedMethods.helper("mapIndex")
        .addJavadoc("Maps padded coordinate {@code i} (in {@code [-pad, size + pad)}) into {@code [0, size)}: "
            + "$L padding.\n", spec.paddingMode().name().toLowerCase(java.util.Locale.ROOT))
        .returns(int.class)
        .addParameter(int.class, "i").addParameter(int.class, "size");
    switch (spec.paddingMode()) {
      case REFLECT -> m.addStatement("return i < 0 ? -i : i >= size ? 2 * size - 2 - i : i");
      case REPLICATE -> m.addStatement("return i < 0 ? 0 : i >= size ? size - 1 : i");
      case CIRCULAR -> m.addStatement("return i < 0 ? i + size : i >= size ? i - size : i");
      default -> throw new AssertionError(spec.paddingMode());
    }
    return m.build();
  }

  private MethodSpec accumulate() {
    if (layout.channelBlocked()) {
      return blockedAccumulate();
    }
    MethodSpec.Builder m = GeneratedMethods.helper("accumulate")
        .addJavadoc("Adds the window sums of one output channel over the $L of its group to the first "
            + "{@code length}\nfloats of the accumulator; the group's staged planes start at {@code stage[p]}, "
            + "its weights at\n{@code w[wOff]}.\n", spec.inChannelsPerGroup() == 1 ? "input channel" : "input channels")
        .addParameter(FLOATS, "acc").addParameter(PLANES, "stage").addParameter(int.class, "p")
        .addParameter(FLOATS, "w").addParameter(int.class, "wOff").addParameter(int.class, "length");
    forEachBlock(m, spec, (block, plane, weight) -> m.addStatement("$L(acc, stage, $L, w, $L, length)",
        blockName(block), plane, weight));
    return m.build();
  }

  /**
   * The channel-blocked {@code accumulate}: input channels {@code [c0, c1)}, staged from {@code stage[0]} on, in
   * the order and loops of the unblocked one (a block's channel count is a multiple of the loops' channels,
   * except the last block's, which ends with the loop of the channels left over).
   */
  private MethodSpec blockedAccumulate() {
    MethodSpec.Builder m = GeneratedMethods.helper("accumulate")
        .addJavadoc("Adds the window sums of one output channel over input channels {@code [c0, c1)} to the first\n"
            + "{@code length} floats of its accumulator; channel {@code c}'s staged planes start at\n"
            + "{@code stage[(c - c0) * PLANES_PER_CHANNEL]}, the output channel's weights at {@code w[wOff]}.\n")
        .addParameter(FLOATS, "acc").addParameter(PLANES, "stage").addParameter(FLOATS, "w")
        .addParameter(int.class, "wOff").addParameter(int.class, "c0").addParameter(int.class, "c1")
        .addParameter(int.class, "length");
    int per = TermBlocks.channelsPerBlock(spec);
    List<TermBlocks.Block> blocks = TermBlocks.distinct(spec);
    if (per == 1) {
      m.beginControlFlow("for (int c = c0; c < c1; c++)");
      blocks.forEach(block -> m.addStatement(
          "$L(acc, stage, (c - c0) * PLANES_PER_CHANNEL, w, wOff + c * K_AREA, length)", blockName(block)));
      m.endControlFlow();
      return m.build();
    }
    m.addStatement("int c = c0");
    m.beginControlFlow("for (; c + $L <= c1; c += $L)", per, per);
    m.addStatement("$L(acc, stage, (c - c0) * PLANES_PER_CHANNEL, w, wOff + c * K_AREA, length)",
        blockName(blocks.get(0)));
    m.endControlFlow();
    if (blocks.size() > 1) {
      m.beginControlFlow("if (c < c1)");
      m.addComment("the last $L input channels", blocks.get(1).channels());
      m.addStatement("$L(acc, stage, (c - c0) * PLANES_PER_CHANNEL, w, wOff + c * K_AREA, length)",
          blockName(blocks.get(1)));
      m.endControlFlow();
    }
    return m.build();
  }

  /** What {@link #forEachBlock} emits per call: the block, its first plane and its first weight as code. */
  interface BlockCall {
    void emit(TermBlocks.Block block, String plane, String weight);
  }

  /**
   * Emits the calls of the blocks over the input channels of one group: a loop over the channels (or
   * channel blocks) when there are several, with the plane and weight offsets {@code p + c * PLANES_PER_CHANNEL}
   * and {@code wOff + c * K_AREA}.
   */
  static void forEachBlock(MethodSpec.Builder m, ConvSpec spec, BlockCall call) {
    int per = TermBlocks.channelsPerBlock(spec);
    int channels = spec.inChannelsPerGroup();
    if (per == 1) {
      if (channels == 1) {
        TermBlocks.tapBlocks(spec).forEach(block -> call.emit(block, "p", "wOff"));
      } else {
        m.beginControlFlow("for (int c = 0; c < IC_PER_GROUP; c++)");
        TermBlocks.tapBlocks(spec).forEach(block ->
            call.emit(block, "p + c * PLANES_PER_CHANNEL", "wOff + c * K_AREA"));
        m.endControlFlow();
      }
      return;
    }
    List<TermBlocks.Block> blocks = TermBlocks.distinct(spec);
    int full = channels / per;
    if (full == 1) {
      call.emit(blocks.get(0), "p", "wOff");
    } else {
      m.beginControlFlow("for (int c = 0; c < $L; c += $L)", full * per, per);
      call.emit(blocks.get(0), "p + c * PLANES_PER_CHANNEL", "wOff + c * K_AREA");
      m.endControlFlow();
    }
    if (blocks.size() > 1) {
      call.emit(blocks.get(1), "p + " + full * per + " * PLANES_PER_CHANNEL", "wOff + " + full * per + " * K_AREA");
    }
  }

  private MethodSpec block(TermBlocks.Block block) {
    int last = block.last();
    String what = TermBlocks.describe(block, spec);
    MethodSpec.Builder m = GeneratedMethods.helper(blockName(block))
        .addJavadoc("Adds $L to the accumulator: one loop over the band's pixels\n"
            + "that C2 vectorizes (every access {@code a[j + k * PITCH]}).\n", what)
        .addParameter(FLOATS, "acc").addParameter(PLANES, "stage").addParameter(int.class, "p")
        .addParameter(FLOATS, "w").addParameter(int.class, "wOff").addParameter(int.class, "length");
    List<Integer> planes = new ArrayList<>();
    List<int[]> terms = new ArrayList<>(); // {plane slot, row offset}
    for (int c = 0; c < block.channels(); c++) {
      for (int t = block.firstTap(); t <= last; t++) {
        int kh = t / spec.kernelW();
        int kw = t % spec.kernelW();
        int plane = c * layout.planesPerChannel() + layout.plane(kh, kw);
        int slot = planes.indexOf(plane);
        if (slot < 0) {
          slot = planes.size();
          planes.add(plane);
        }
        terms.add(new int[] {slot, layout.rowOffset(kh)});
      }
    }
    for (int s = 0; s < planes.size(); s++) {
      int plane = planes.get(s);
      m.addStatement("final float[] s$L = stage[$L]", s, plane == 0 ? "p" : "p + " + plane);
    }
    for (int k = 0; k < terms.size(); k++) {
      int c = k / block.taps();
      int t = block.firstTap() + k % block.taps();
      int offset = c * spec.kernelArea() + t;
      m.addStatement("final float w$L = w[$L]", k, offset == 0 ? "wOff" : "wOff + " + offset);
    }
    List<String> scalars = new ArrayList<>();
    List<String> elements = new ArrayList<>();
    for (int k = 0; k < terms.size(); k++) {
      int[] term = terms.get(k);
      String index = term[1] == 0 ? "j" : term[1] == 1 ? "j + PITCH" : "j + " + term[1] + " * PITCH";
      scalars.add("w" + k);
      elements.add("s" + term[0] + "[" + index + "]");
    }
    TermBlocks.addLoop(m, "int j = 0; j < length; j++", "acc[j]", scalars, elements);
    return m.build();
  }

  private MethodSpec writeBand() {
    boolean relu = spec.activation() != Activation.NONE;
    MethodSpec.Builder m = GeneratedMethods.helper("writeBand")
        .addJavadoc("Writes the first {@code rows} rows of the accumulator to the output at {@code y[yAt]}$L.\n",
            relu ? ", through the " + spec.activation() + " (applied in place first, a loop C2 vectorizes)" : "")
        .addParameter(FLOATS, "acc").addParameter(FLOATS, "y").addParameter(int.class, "yAt")
        .addParameter(int.class, "rows");
    if (relu) {
      m.beginControlFlow("for (int j = 0; j < rows * PITCH; j++)");
      m.addStatement("acc[j] = $L", ActivationCode.apply(spec.activation(), "acc[j]"));
      m.endControlFlow();
    }
    if (layout.pitch() == spec.outWidth()) {
      m.addStatement("System.arraycopy(acc, 0, y, yAt, rows * OUT_W)");
    } else {
      m.beginControlFlow("for (int r = 0; r < rows; r++)");
      m.addStatement("System.arraycopy(acc, r * PITCH, y, yAt + r * OUT_W, OUT_W)");
      m.endControlFlow();
    }
    return m.build();
  }
}
