package dev.kiln.processor.writing;

import com.palantir.javapoet.MethodSpec;
import dev.kiln.processor.model.ConvSpec;

/**
 * Emits the border: the output pixels with at least one tap in the padding. Each such pixel runs a small
 * generic loop over the window that maps padded coordinates through the padding mode (zeros skip the
 * tap; reflect, replicate and circular map it back into the input). Only the regions the shape actually
 * has are emitted.
 */
final class BorderEmitter {
  private final ConvSpec spec;

  BorderEmitter(ConvSpec spec) {
    this.spec = spec;
  }

  /**
   * A private static helper for the window of one border pixel:
   * {@code name(float[] <input>, int inPlane, float[] <weights>, int wOff, int oh, int ow)}.
   */
  private static MethodSpec.Builder pixelHelper(String name, String input, String weights) {
    return GeneratedMethods.helper(name)
        .addParameter(ConvKernelWriter.FLOATS, input).addParameter(int.class, "inPlane")
        .addParameter(ConvKernelWriter.FLOATS, weights).addParameter(int.class, "wOff")
        .addParameter(int.class, "oh").addParameter(int.class, "ow");
  }

  /**
   * Emits loops over every border pixel (rows above and below the interior, columns left and right of
   * it), running {@code body} (a statement format using {@code oh}, {@code ow}) for each.
   */
  private void forEachBorderPixel(MethodSpec.Builder m, String body, Object... args) {
    if (!spec.hasInterior()) {
      m.beginControlFlow("for (int oh = 0; oh < OUT_H; oh++)");
      m.beginControlFlow("for (int ow = 0; ow < OUT_W; ow++)");
      m.addStatement(body, args);
      m.endControlFlow();
      m.endControlFlow();
      return;
    }
    if (spec.interiorRowStart() > 0) {
      m.addComment("rows above the interior");
      fullRows(m, "0", "ROW_START", body, args);
    }
    if (spec.interiorRowEnd() < spec.outHeight()) {
      m.addComment("rows below the interior");
      fullRows(m, "ROW_END", "OUT_H", body, args);
    }
    boolean left = spec.interiorColStart() > 0;
    boolean right = spec.interiorColEnd() < spec.outWidth();
    if (left || right) {
      m.addComment("columns beside the interior");
      m.beginControlFlow("for (int oh = ROW_START; oh < ROW_END; oh++)");
      if (left) {
        m.beginControlFlow("for (int ow = 0; ow < COL_START; ow++)");
        m.addStatement(body, args);
        m.endControlFlow();
      }
      if (right) {
        m.beginControlFlow("for (int ow = COL_END; ow < OUT_W; ow++)");
        m.addStatement(body, args);
        m.endControlFlow();
      }
      m.endControlFlow();
    }
  }

  private static void fullRows(MethodSpec.Builder m, String from, String to, String body, Object... args) {
    m.beginControlFlow("for (int oh = $L; oh < $L; oh++)", from, to);
    m.beginControlFlow("for (int ow = 0; ow < OUT_W; ow++)");
    m.addStatement(body, args);
    m.endControlFlow();
    m.endControlFlow();
  }

  /**
   * Emits the mapping of padded coordinate {@code v} (in {@code [-pad, size + pad)}) for the padding mode;
   * for zeros it skips the tap with {@code continue}.
   */
  private void mapCoordinate(MethodSpec.Builder m, String v, String size) {
    switch (spec.paddingMode()) {
      case ZEROS:
        m.beginControlFlow("if ($L < 0 || $L >= $L)", v, v, size);
        m.addStatement("continue");
        m.endControlFlow();
        break;
      case REFLECT:
        m.beginControlFlow("if ($L < 0)", v).addStatement("$L = -$L", v, v);
        m.nextControlFlow("else if ($L >= $L)", v, size).addStatement("$L = 2 * $L - 2 - $L", v, size, v);
        m.endControlFlow();
        break;
      case REPLICATE:
        m.beginControlFlow("if ($L < 0)", v).addStatement("$L = 0", v);
        m.nextControlFlow("else if ($L >= $L)", v, size).addStatement("$L = $L - 1", v, size);
        m.endControlFlow();
        break;
      case CIRCULAR:
        m.beginControlFlow("if ($L < 0)", v).addStatement("$L += $L", v, size);
        m.nextControlFlow("else if ($L >= $L)", v, size).addStatement("$L -= $L", v, size);
        m.endControlFlow();
        break;
      default:
        throw new AssertionError(spec.paddingMode());
    }
  }

  /** Opens the window loops of one border pixel, mapping {@code ih}/{@code iw}; the body goes inside. */
  private void openWindow(MethodSpec.Builder m) {
    m.beginControlFlow("for (int kh = 0; kh < K_H; kh++)");
    m.addStatement("int ih = oh * STRIDE_H - PAD_TOP + kh * DILATION_H");
    mapCoordinate(m, "ih", "IN_H");
    m.addStatement("int inRow = inPlane + ih * IN_W");
    m.addStatement("int wRow = wOff + kh * K_W");
    m.beginControlFlow("for (int kw = 0; kw < K_W; kw++)");
    m.addStatement("int iw = ow * STRIDE_W - PAD_LEFT + kw * DILATION_W");
    mapCoordinate(m, "iw", "IN_W");
  }

  private static void closeWindow(MethodSpec.Builder m) {
    m.endControlFlow();
    m.endControlFlow();
  }

  MethodSpec forwardBorder() {
    MethodSpec.Builder m = GeneratedMethods.planePairHelper("forwardBorder", "x", "y", "w")
        .addJavadoc("Adds one input plane's contribution to the border pixels of one output plane.\n");
    forEachBorderPixel(m, "y[yPlane + oh * OUT_W + ow] += forwardPixel(x, xPlane, w, wOff, oh, ow)");
    return m.build();
  }

  MethodSpec forwardPixel() {
    MethodSpec.Builder m = pixelHelper("forwardPixel", "x", "w")
        .addJavadoc("One border pixel's sum over the window, padding applied per tap.\n")
        .returns(float.class);
    m.addStatement("float acc = 0f");
    openWindow(m);
    m.addStatement("acc += w[wRow + kw] * x[inRow + iw]");
    closeWindow(m);
    m.addStatement("return acc");
    return m.build();
  }

  /**
   * The two backward passes over the border. Each is a loop over the border pixels of one plane pair,
   * {@code <name>Border(<first>, <second>, <weights>)}, that hands every pixel's output gradient to
   * {@code <name>Pixel(<pixelInput>, <weights>, g)}, which runs {@code tap} for each tap of the pixel's window.
   */
  enum BackwardPass {
    INPUT("backwardInput", "gy", "gx", "w", "gx", "gx[inRow + iw] += w[wRow + kw] * g",
        "Scatters the border pixels of one output-gradient plane into one input-gradient plane.\n",
        "Scatters one border pixel's gradient {@code g} through the window, padding applied per tap.\n"),
    WEIGHT("backwardWeight", "x", "gy", "gw", "x", "gw[wRow + kw] += g * x[inRow + iw]",
        "Adds the border pixels' contribution to the weight gradient of one plane pair.\n",
        "Adds one border pixel's gradient {@code g} times its inputs to the weight gradient.\n");

    private final String name;
    private final String first;
    private final String second;
    private final String weights;
    private final String pixelInput;
    private final String tap;
    private final String borderJavadoc;
    private final String pixelJavadoc;

    BackwardPass(String name, String first, String second, String weights, String pixelInput, String tap,
        String borderJavadoc, String pixelJavadoc) {
      this.name = name;
      this.first = first;
      this.second = second;
      this.weights = weights;
      this.pixelInput = pixelInput;
      this.tap = tap;
      this.borderJavadoc = borderJavadoc;
      this.pixelJavadoc = pixelJavadoc;
    }
  }

  /** The loop of {@code pass} over the border pixels of one plane pair. */
  MethodSpec backwardBorder(BackwardPass pass) {
    MethodSpec.Builder m = GeneratedMethods.planePairHelper(pass.name + "Border", pass.first, pass.second,
        pass.weights).addJavadoc(pass.borderJavadoc);
    forEachBorderPixel(m, pass.name + "Pixel(" + pass.pixelInput + ", " + pass.pixelInput + "Plane, " + pass.weights
        + ", wOff, oh, ow, gy[gyPlane + oh * OUT_W + ow])");
    return m.build();
  }

  /** The window of one border pixel in {@code pass}, with the pixel's gradient {@code g}. */
  MethodSpec backwardPixel(BackwardPass pass) {
    MethodSpec.Builder m = pixelHelper(pass.name + "Pixel", pass.pixelInput, pass.weights)
        .addJavadoc(pass.pixelJavadoc)
        .addParameter(float.class, "g");
    openWindow(m);
    m.addStatement(pass.tap);
    closeWindow(m);
    return m.build();
  }
}
