package dev.kiln.processor.writing;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.FieldSpec;
import com.palantir.javapoet.MethodSpec;
import com.palantir.javapoet.TypeName;
import com.palantir.javapoet.TypeSpec;
import dev.kiln.processor.model.ConvSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Emits the scalar backward (input and weight gradients) as loops over patches, in the shape HotSpot
 * auto-vectorizes. A patch is the {@code FAN = IC_PER_GROUP * K_AREA} inputs one output pixel reads, gathered
 * from padded input planes ({@link PaddedPlanes}) into an array of its own. The weight gradient of an output
 * channel is then a sum of patches scaled by the output gradient, and a pixel's input-gradient patch is a sum of
 * weight rows scaled by the output gradient, both loops over {@code FAN} of the form
 * {@code acc[k] += a0 * r0[k] + ... + a3 * r3[k]}; the input-gradient patches are added back into a padded
 * gradient plane, which is folded into the input gradient (border cells onto their sources for the
 * non-zero padding modes). Used when a patch is long enough to vectorize ({@link #MIN_FAN}).
 */
final class PatchGradientEmitter {
  private static final ClassName SCRATCH = ClassName.get("dev.kiln.nn", "Scratch");
  private static final TypeName PLANES = ConvKernelWriter.PLANES;
  private static final TypeName FLOATS = ConvKernelWriter.FLOATS;
  /** The shortest patch worth a loop C2 vectorizes (one 512-bit vector). */
  static final int MIN_FAN = 16;
  /** Output pixels whose patches are gathered at a time. */
  static final int PATCH_PIXELS = 64;

  private final ConvSpec spec;

  PatchGradientEmitter(ConvSpec spec) {
    this.spec = spec;
  }

  /** Whether the patches are long enough for vectorized gradients. */
  static boolean applies(ConvSpec spec) {
    return (long) spec.inChannelsPerGroup() * spec.kernelArea() >= MIN_FAN;
  }

  private int patchPixels() {
    return Math.min(PATCH_PIXELS, spec.outHeight() * spec.outWidth());
  }

  /** Adds the patch constants (their legend goes into the class Javadoc). */
  void constants(TypeSpec.Builder type) {
    ConvKernelWriter.constant(type, "FAN", spec.inChannelsPerGroup() * spec.kernelArea(),
        "Inputs of one output pixel (a patch): input channels per group times the window.");
    ConvKernelWriter.constant(type, "PATCH_PIXELS", patchPixels(), "Output pixels whose patches are gathered at a time.");
  }

  /** The field holding the weights as one array per output channel. */
  FieldSpec weightRowsField() {
    return GeneratedMethods.packedWeightsField("weightRows",
        "The weights, one array of {@code FAN} per output channel.\n", "rows", "FAN");
  }

  /** The backward methods (they also need {@link PaddedPlanes}). */
  List<MethodSpec> methods() {
    List<MethodSpec> methods = new ArrayList<>();
    methods.add(backwardInputSample());
    methods.add(backwardWeightSample());
    methods.add(gatherPatches());
    methods.add(scatterPatches());
    methods.add(unpad());
    methods.add(inputGradient());
    methods.add(weightGradient());
    methods.add(addRows());
    methods.add(addRow());
    return methods;
  }

  private boolean grouped() {
    return spec.groups() > 1;
  }

  private String firstInput() {
    return grouped() ? "g * IC_PER_GROUP" : "0";
  }

  private String firstOutput() {
    return grouped() ? "g * OC_PER_GROUP" : "0";
  }

  private void openGroups(MethodSpec.Builder m) {
    if (grouped()) {
      m.beginControlFlow("for (int g = 0; g < GROUPS; g++)");
    }
  }

  private void closeGroups(MethodSpec.Builder m) {
    if (grouped()) {
      m.endControlFlow();
    }
  }

  private MethodSpec backwardInputSample() {
    MethodSpec.Builder m = GeneratedMethods.backwardInputSample();
    m.addStatement("float[][] w = weightRows.arrays()");
    m.addStatement("$T scratch = $T.get()", SCRATCH, SCRATCH);
    m.addStatement("float[][] gin = scratch.inputs(IN_C, PADDED_PLANE)");
    m.addStatement("float[][] patches = scratch.patches(PATCH_PIXELS, FAN)");
    m.beginControlFlow("for (int c = 0; c < IN_C; c++)");
    m.addStatement("$T.fill(gin[c], 0, PADDED_PLANE, 0f)", ConvKernelWriter.ARRAYS);
    m.endControlFlow();
    openGroups(m);
    m.beginControlFlow("for (int j0 = 0; j0 < OUT_PLANE; j0 += PATCH_PIXELS)");
    m.addStatement("int count = Math.min(PATCH_PIXELS, OUT_PLANE - j0)");
    m.beginControlFlow("for (int jj = 0; jj < count; jj++)");
    m.addStatement("$T.fill(patches[jj], 0, FAN, 0f)", ConvKernelWriter.ARRAYS);
    m.addStatement("inputGradient(patches[jj], w, gy, gyOff + j0 + jj, $L)", firstOutput());
    m.endControlFlow();
    m.addStatement("scatterPatches(patches, gin, $L, j0, count)", firstInput());
    m.endControlFlow();
    closeGroups(m);
    m.beginControlFlow("for (int c = 0; c < IN_C; c++)");
    m.addStatement("unpad(gin[c], gx, gxOff + c * IN_PLANE)");
    m.endControlFlow();
    return m.build();
  }

  private MethodSpec backwardWeightSample() {
    MethodSpec.Builder m = GeneratedMethods.backwardWeightSample();
    if (spec.bias()) {
      ConvKernelWriter.forEachGradientPlane(m, () -> ConvKernelWriter.addBiasGradient(m));
    }
    m.addStatement("$T scratch = $T.get()", SCRATCH, SCRATCH);
    m.addStatement("float[][] in = scratch.inputs(IN_C, PADDED_PLANE)");
    m.addStatement("float[][] patches = scratch.patches(PATCH_PIXELS, FAN)");
    m.addStatement("float[][] grad = scratch.accumulators(OUT_C, FAN)");
    m.beginControlFlow("for (int c = 0; c < IN_C; c++)");
    m.addStatement("pad(x, xOff + c * IN_PLANE, in[c])");
    m.endControlFlow();
    m.beginControlFlow("for (int oc = 0; oc < OUT_C; oc++)");
    m.addStatement("$T.fill(grad[oc], 0, FAN, 0f)", ConvKernelWriter.ARRAYS);
    m.endControlFlow();
    openGroups(m);
    m.beginControlFlow("for (int j0 = 0; j0 < OUT_PLANE; j0 += PATCH_PIXELS)");
    m.addStatement("int count = Math.min(PATCH_PIXELS, OUT_PLANE - j0)");
    m.addStatement("gatherPatches(in, $L, patches, j0, count)", firstInput());
    m.beginControlFlow("for (int oc = $L; oc < $L; oc++)", firstOutput(),
        grouped() ? "(g + 1) * OC_PER_GROUP" : "OUT_C");
    m.addStatement("weightGradient(grad[oc], patches, gy, gyOff + oc * OUT_PLANE + j0, count)");
    m.endControlFlow();
    m.endControlFlow();
    closeGroups(m);
    m.beginControlFlow("for (int oc = 0; oc < OUT_C; oc++)");
    m.addStatement("float[] a = grad[oc]");
    m.addStatement("int wOff = oc * FAN");
    m.beginControlFlow("for (int k = 0; k < FAN; k++)");
    m.addStatement("gw[wOff + k] += a[k]");
    m.endControlFlow();
    m.endControlFlow();
    return m.build();
  }

  /** Emits the loops over the patches of pixels {@code [j0, j0 + count)}: {@code row}, {@code k}, {@code at}. */
  private void forEachTap(MethodSpec.Builder m, String planes, String statement) {
    m.beginControlFlow("for (int jj = 0; jj < count; jj++)");
    m.addStatement("int j = j0 + jj");
    m.addStatement("int corner = j / OUT_W * STRIDE_H * PADDED_W + j % OUT_W * STRIDE_W");
    m.addStatement("float[] row = patches[jj]");
    m.beginControlFlow("for (int c = 0; c < IC_PER_GROUP; c++)");
    m.addStatement("float[] plane = $L[c0 + c]", planes);
    m.addStatement("int k = c * K_AREA");
    m.beginControlFlow("for (int kh = 0; kh < K_H; kh++)");
    m.addStatement("int at = corner + kh * DILATION_H * PADDED_W");
    m.beginControlFlow("for (int kw = 0; kw < K_W; kw++)");
    m.addStatement(statement);
    m.endControlFlow();
    m.endControlFlow();
    m.endControlFlow();
    m.endControlFlow();
  }

  private MethodSpec gatherPatches() {
    MethodSpec.Builder m = GeneratedMethods.helper("gatherPatches")
        .addJavadoc("Copies the patches of output pixels {@code [j0, j0 + count)} from the padded planes of input "
            + "channels\n{@code c0, c0 + 1, ...}: {@code patches[jj][c * K_AREA + kh * K_W + kw]}.\n")
        .addParameter(PLANES, "in").addParameter(int.class, "c0").addParameter(PLANES, "patches")
        .addParameter(int.class, "j0").addParameter(int.class, "count");
    forEachTap(m, "in", "row[k++] = plane[at + kw * DILATION_W]");
    return m.build();
  }

  private MethodSpec scatterPatches() {
    MethodSpec.Builder m = GeneratedMethods.helper("scatterPatches")
        .addJavadoc("Adds the input-gradient patches of output pixels {@code [j0, j0 + count)} to the padded "
            + "gradient planes\nof input channels {@code c0, c0 + 1, ...} (the reverse of {@code gatherPatches}).\n")
        .addParameter(PLANES, "patches").addParameter(PLANES, "gin").addParameter(int.class, "c0")
        .addParameter(int.class, "j0").addParameter(int.class, "count");
    forEachTap(m, "gin", "plane[at + kw * DILATION_W] += row[k++]");
    return m.build();
  }

  private MethodSpec unpad() {
    MethodSpec.Builder m = GeneratedMethods.helper("unpad")
        .addJavadoc("Adds a padded gradient plane to the input gradient at {@code gx[gxPlane]}$L.\n",
            PaddedPlanes.needsMapIndex(spec) ? ", the padding cells onto the input cells they copy" : "")
        .addParameter(FLOATS, "gin").addParameter(FLOATS, "gx").addParameter(int.class, "gxPlane");
    m.beginControlFlow("for (int ih = 0; ih < IN_H; ih++)");
    m.addStatement("int from = (ih + PAD_TOP) * PADDED_W + PAD_LEFT");
    m.addStatement("int to = gxPlane + ih * IN_W");
    m.beginControlFlow("for (int iw = 0; iw < IN_W; iw++)");
    m.addStatement("gx[to + iw] += gin[from + iw]");
    m.endControlFlow();
    m.endControlFlow();
    if (PaddedPlanes.needsMapIndex(spec)) {
      m.beginControlFlow("for (int ph = 0; ph < PADDED_H; ph++)");
      m.addStatement("boolean padRow = ph < PAD_TOP || ph >= PAD_TOP + IN_H");
      m.addStatement("int to = gxPlane + mapIndex(ph - PAD_TOP, IN_H) * IN_W");
      m.beginControlFlow("for (int pw = 0; pw < PADDED_W; pw++)");
      m.beginControlFlow("if (padRow || pw < PAD_LEFT || pw >= PAD_LEFT + IN_W)");
      m.addStatement("gx[to + mapIndex(pw - PAD_LEFT, IN_W)] += gin[ph * PADDED_W + pw]");
      m.endControlFlow();
      m.endControlFlow();
      m.endControlFlow();
    }
    return m.build();
  }

  private MethodSpec inputGradient() {
    MethodSpec.Builder m = GeneratedMethods.helper("inputGradient")
        .addJavadoc("Adds one output pixel's input-gradient patch to {@code col}: the weight rows of the output "
            + "channels\n{@code [ocStart, ocStart + OC_PER_GROUP)} scaled by their gradients {@code gy[at + oc * "
            + "OUT_PLANE]}.\n")
        .addParameter(FLOATS, "col").addParameter(PLANES, "w").addParameter(FLOATS, "gy")
        .addParameter(int.class, "at").addParameter(int.class, "ocStart");
    m.addStatement("int end = ocStart + OC_PER_GROUP");
    m.addStatement("int oc = ocStart");
    addScaledRows(m, "col", "oc", "end",
        k -> k == 0 ? "gy[at + oc * OUT_PLANE], w[oc]" : "gy[at + (oc + " + k + ") * OUT_PLANE], w[oc + " + k + "]");
    return m.build();
  }

  private MethodSpec weightGradient() {
    MethodSpec.Builder m = GeneratedMethods.helper("weightGradient")
        .addJavadoc("Adds one output channel's weight gradient over output pixels {@code [j0, j0 + count)} to "
            + "{@code grad}:\nthe pixels' patches scaled by their gradients {@code gy[at + jj]}.\n")
        .addParameter(FLOATS, "grad").addParameter(PLANES, "patches").addParameter(FLOATS, "gy")
        .addParameter(int.class, "at").addParameter(int.class, "count");
    m.addStatement("int jj = 0");
    addScaledRows(m, "grad", "jj", "count",
        k -> k == 0 ? "gy[at + jj], patches[jj]" : "gy[at + jj + " + k + "], patches[jj + " + k + "]");
    return m.build();
  }

  /**
   * Emits the loop that adds rows scaled by their factors to {@code acc} for {@code index} up to {@code end}:
   * four rows a call of {@code addRows}, then the rest one at a time with {@code addRow}.
   *
   * @param term the factor and the row {@code k} places after {@code index}, as the arguments {@code a, r}
   */
  private static void addScaledRows(MethodSpec.Builder m, String acc, String index, String end,
      IntFunction<String> term) {
    m.beginControlFlow("for (; $L + 4 <= $L; $L += 4)", index, end, index);
    m.addStatement("addRows($L, $L, $L,\n$L, $L)", acc, term.apply(0), term.apply(1), term.apply(2), term.apply(3));
    m.endControlFlow();
    m.beginControlFlow("for (; $L < $L; $L++)", index, end, index);
    m.addStatement("addRow($L, $L)", acc, term.apply(0));
    m.endControlFlow();
  }

  private MethodSpec addRows() {
    MethodSpec.Builder m = GeneratedMethods.helper("addRows")
        .addJavadoc("{@code acc[k] += a0 * r0[k] + a1 * r1[k] + a2 * r2[k] + a3 * r3[k]} over a patch: a loop C2 "
            + "vectorizes.\n")
        .addParameter(FLOATS, "acc");
    for (int i = 0; i < 4; i++) {
      m.addParameter(float.class, "a" + i).addParameter(FLOATS, "r" + i);
    }
    m.beginControlFlow("for (int k = 0; k < FAN; k++)");
    m.addStatement("acc[k] += a0 * r0[k] + a1 * r1[k] + a2 * r2[k] + a3 * r3[k]");
    m.endControlFlow();
    return m.build();
  }

  private MethodSpec addRow() {
    MethodSpec.Builder m = GeneratedMethods.helper("addRow")
        .addJavadoc("{@code acc[k] += a * r[k]} over a patch.\n")
        .addParameter(FLOATS, "acc").addParameter(float.class, "a").addParameter(FLOATS, "r");
    m.beginControlFlow("for (int k = 0; k < FAN; k++)");
    m.addStatement("acc[k] += a * r[k]");
    m.endControlFlow();
    return m.build();
  }
}
