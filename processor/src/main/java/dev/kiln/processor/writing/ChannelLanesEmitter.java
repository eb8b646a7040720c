package dev.kiln.processor.writing;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.CodeBlock;
import com.palantir.javapoet.FieldSpec;
import com.palantir.javapoet.MethodSpec;
import com.palantir.javapoet.TypeName;
import dev.kiln.annotation.Activation;
import dev.kiln.processor.model.ConvSpec;
import java.util.ArrayList;
import java.util.List;
import javax.lang.model.element.Modifier;

/**
 * Emits the scalar forward with output channels in the vector lanes, for layers whose output planes are
 * small next to their channel count (the last stages of a network: 7x7 pixels, 1,280 channels), where a
 * loop over a plane's pixels would be short and mostly padding. Each input channel is copied into a padded
 * plane; the weights are kept transposed ({@code dev.kiln.nn.PackedWeights}, one array per input channel
 * and tap over the output channels); each output pixel has an accumulator over the output channels, and
 * each block of taps ({@link TermBlocks}) is one loop
 * {@code acc[oc] += x0 * u0[oc] + x1 * u1[oc] + ...} with the pixel's inputs {@code x0, x1, ...} as scalars.
 */
final class ChannelLanesEmitter {
  private static final ClassName SCRATCH = ClassName.get("dev.kiln.nn", "Scratch");
  private static final TypeName PLANES = ConvKernelWriter.PLANES;
  private static final TypeName FLOATS = ConvKernelWriter.FLOATS;
  /** Output channels per output pixel from which the channels are the better vector lanes. */
  static final int CHANNELS_PER_PIXEL = 2;

  private final ConvSpec spec;

  ChannelLanesEmitter(ConvSpec spec) {
    this.spec = spec;
  }

  /**
   * Whether the output channels are the better lanes: at least {@link #CHANNELS_PER_PIXEL} times as many
   * output channels as output pixels, and no groups (a group's few channels would make short loops).
   */
  static boolean applies(ConvSpec spec) {
    return spec.groups() == 1
        && spec.outChannels() >= (long) CHANNELS_PER_PIXEL * spec.outHeight() * spec.outWidth();
  }

  private String blockName(TermBlocks.Block block) {
    return TermBlocks.name("lanes", block, spec);
  }

  /** The field holding the transposed weights. */
  FieldSpec lanesField() {
    return GeneratedMethods.packedWeightsField("lanes",
        "The weights transposed: array {@code c * K_AREA + t} holds tap {@code t} of input channel "
            + "{@code c} over the output channels.\n",
        "columns", "IC_PER_GROUP * K_AREA");
  }

  /** The methods of the forward: the per-sample entry point and its helpers (it also needs {@link PaddedPlanes}). */
  List<MethodSpec> methods() {
    List<MethodSpec> methods = new ArrayList<>();
    methods.add(forwardSample());
    methods.add(GeneratedMethods.splitUnits("OUT_PLANE"));
    methods.add(forwardUnits());
    methods.add(forwardLanes());
    methods.add(accumulate());
    methods.addAll(TermBlocks.mapDistinct(spec, this::block));
    methods.add(writeLanes());
    return methods;
  }

  private MethodSpec forwardSample() {
    return GeneratedMethods.forwardSample()
        .addStatement("forwardLanes(x, xOff, y, yOff, ocStart, ocEnd, 0, OUT_PLANE)")
        .build();
  }

  /**
   * {@code forwardUnits}: every output channel of a range of output pixels, what each thread takes when a sample is
   * split (the loops stay as long as the output channels; a range of channels would shorten them).
   */
  private MethodSpec forwardUnits() {
    return GeneratedMethods.forwardUnits()
        .addStatement("forwardLanes(x, xOff, y, yOff, 0, OUT_C, start, end)")
        .build();
  }

  private MethodSpec forwardLanes() {
    MethodSpec.Builder m = MethodSpec.methodBuilder("forwardLanes").addModifiers(Modifier.PRIVATE)
        .addJavadoc("The forward of output channels {@code [ocStart, ocEnd)} at output pixels {@code [j0, j1)} of one "
            + "sample.\n")
        .addParameter(FLOATS, "x").addParameter(int.class, "xOff")
        .addParameter(FLOATS, "y").addParameter(int.class, "yOff")
        .addParameter(int.class, "ocStart").addParameter(int.class, "ocEnd")
        .addParameter(int.class, "j0").addParameter(int.class, "j1");
    m.addStatement("float[][] u = lanes.arrays()");
    m.addStatement("$T scratch = $T.get()", SCRATCH, SCRATCH);
    m.addStatement("float[][] in = scratch.inputs(IN_C, PADDED_PLANE)");
    m.addStatement("float[][] acc = scratch.accumulators(OUT_PLANE, OUT_C)");
    m.beginControlFlow("for (int c = 0; c < IN_C; c++)");
    m.addStatement("pad(x, xOff + c * IN_PLANE, in[c])");
    m.endControlFlow();
    m.beginControlFlow("for (int j = j0; j < j1; j++)");
    if (spec.bias()) {
      m.addStatement("System.arraycopy(super.b, ocStart, acc[j], ocStart, ocEnd - ocStart)");
    } else {
      m.addStatement("$T.fill(acc[j], ocStart, ocEnd, 0f)", ConvKernelWriter.ARRAYS);
    }
    m.endControlFlow();
    m.addStatement("accumulate(acc, in, u, ocStart, ocEnd, j0, j1)");
    m.addStatement("writeLanes(acc, y, yOff, ocStart, ocEnd, j0, j1)");
    return m.build();
  }

  private MethodSpec accumulate() {
    MethodSpec.Builder m = GeneratedMethods.helper("accumulate")
        .addJavadoc("Adds every input channel's window to the accumulators of output pixels {@code [j0, j1)}, output\n"
            + "channels {@code [ocStart, ocEnd)}; one input channel at a time, so that its transposed weights stay in "
            + "cache.\n")
        .addParameter(PLANES, "acc").addParameter(PLANES, "in").addParameter(PLANES, "u")
        .addParameter(int.class, "ocStart").addParameter(int.class, "ocEnd")
        .addParameter(int.class, "j0").addParameter(int.class, "j1");
    int per = TermBlocks.channelsPerBlock(spec);
    List<TermBlocks.Block> blocks = TermBlocks.distinct(spec);
    if (per == 1) {
      m.beginControlFlow("for (int c = 0; c < IN_C; c++)");
      forEachPixel(m, () -> TermBlocks.tapBlocks(spec).forEach(block -> call(m, block, "c")));
      m.endControlFlow();
      return m.build();
    }
    int full = spec.inChannels() / per;
    m.beginControlFlow("for (int c = 0; c < $L; c += $L)", full * per, per);
    forEachPixel(m, () -> call(m, blocks.get(0), "c"));
    m.endControlFlow();
    if (blocks.size() > 1) {
      forEachPixel(m, () -> call(m, blocks.get(1), Integer.toString(full * per)));
    }
    return m.build();
  }

  private void forEachPixel(MethodSpec.Builder m, Runnable body) {
    m.beginControlFlow("for (int j = j0; j < j1; j++)");
    m.addStatement("int oh = j / OUT_W");
    m.addStatement("int i = oh * STRIDE_H * PADDED_W + (j - oh * OUT_W) * STRIDE_W");
    m.addStatement("float[] a = acc[j]");
    body.run();
    m.endControlFlow();
  }

  private void call(MethodSpec.Builder m, TermBlocks.Block block, String channel) {
    m.addStatement("$L(a, u, in, $L, i, ocStart, ocEnd)", blockName(block), channel);
  }

  private MethodSpec block(TermBlocks.Block block) {
    MethodSpec.Builder m = GeneratedMethods.helper(blockName(block))
        .addJavadoc("Adds $L at one output pixel (its first tap at {@code i} of the padded planes)\n"
            + "to that pixel's accumulator {@code a}: one loop over the output channels that C2 vectorizes.\n",
            TermBlocks.describe(block, spec))
        .addParameter(FLOATS, "a").addParameter(PLANES, "u").addParameter(PLANES, "in")
        .addParameter(int.class, "c").addParameter(int.class, "i")
        .addParameter(int.class, "ocStart").addParameter(int.class, "ocEnd");
    int terms = block.channels() * block.taps();
    for (int ch = 0; ch < block.channels(); ch++) {
      String channel = ch == 0 ? "c" : "c + " + ch;
      m.addStatement("final float[] in$L = in[$L]", ch, channel);
    }
    for (int k = 0; k < terms; k++) {
      int ch = k / block.taps();
      int t = block.firstTap() + k % block.taps();
      int row = ch * spec.kernelArea() + t;
      m.addStatement("final float[] u$L = u[c * K_AREA$L]", k, row == 0 ? "" : " + " + row);
    }
    for (int k = 0; k < terms; k++) {
      int ch = k / block.taps();
      int t = block.firstTap() + k % block.taps();
      long offset = (long) (t / spec.kernelW()) * spec.dilationH() * PaddedPlanes.width(spec)
          + (long) (t % spec.kernelW()) * spec.dilationW();
      m.addStatement("final float x$L = in$L[$L]", k, ch, offset == 0 ? "i" : "i + " + offset);
    }
    List<String> scalars = new ArrayList<>();
    List<String> elements = new ArrayList<>();
    for (int k = 0; k < terms; k++) {
      scalars.add("x" + k);
      elements.add("u" + k + "[oc]");
    }
    TermBlocks.addLoop(m, "int oc = ocStart; oc < ocEnd; oc++", "a[oc]", scalars, elements);
    return m.build();
  }

  private MethodSpec writeLanes() {
    String value = ActivationCode.apply(spec.activation(), "acc[j][oc]");
    boolean relu = spec.activation() != Activation.NONE;
    MethodSpec.Builder m = GeneratedMethods.helper("writeLanes")
        .addJavadoc("Writes output channels {@code [ocStart, ocEnd)} at pixels {@code [j0, j1)} from the pixels' "
            + "accumulators to\nthe output$L.\n", relu ? ", through the " + spec.activation() : "")
        .addParameter(PLANES, "acc").addParameter(FLOATS, "y").addParameter(int.class, "yOff")
        .addParameter(int.class, "ocStart").addParameter(int.class, "ocEnd")
        .addParameter(int.class, "j0").addParameter(int.class, "j1");
    m.beginControlFlow("for (int oc = ocStart; oc < ocEnd; oc++)");
    m.addStatement("int yPlane = yOff + oc * OUT_PLANE");
    m.beginControlFlow("for (int j = j0; j < j1; j++)");
    m.addStatement("y[yPlane + j] = $L", value);
    m.endControlFlow();
    m.endControlFlow();
    return m.build();
  }
}
