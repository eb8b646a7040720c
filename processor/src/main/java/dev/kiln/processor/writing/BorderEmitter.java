package dev.kiln.processor.writing;

import com.palantir.javapoet.MethodSpec;
import dev.kiln.processor.model.ConvSpec;
import java.util.ArrayList;
import java.util.List;
import javax.lang.model.element.Modifier;

/**
 * Emits the border: the output pixels with at least one tap in the padding. One method per pass
 * (forward, input gradient, weight gradient), each a single loop nest over the output plane that jumps
 * over the interior columns of the interior rows and runs a small loop over the window for every border
 * pixel, mapping padded coordinates through the padding mode (zeros skip the tap; reflect, replicate and
 * circular map it back into the input). Conditions the shape rules out are not emitted.
 */
final class BorderEmitter {
  private final ConvSpec spec;

  BorderEmitter(ConvSpec spec) {
    this.spec = spec;
  }

  private static MethodSpec.Builder method(String name) {
    return MethodSpec.methodBuilder(name).addModifiers(Modifier.PRIVATE, Modifier.STATIC);
  }

  /**
   * Opens the loops over the border pixels {@code (oh, ow)} of one output plane: every row, and in the
   * interior rows only the columns outside {@code [COL_START, COL_END)}.
   */
  private void openBorderPixels(MethodSpec.Builder m) {
    m.beginControlFlow("for (int oh = 0; oh < OUT_H; oh++)");
    String skip = null;
    if (spec.hasInterior()) {
      List<String> interiorRow = new ArrayList<>();
      if (spec.interiorRowStart() > 0) {
        interiorRow.add("oh >= ROW_START");
      }
      if (spec.interiorRowEnd() < spec.outHeight()) {
        interiorRow.add("oh < ROW_END");
      }
      if (interiorRow.isEmpty()) {
        skip = "COL_START";
      } else {
        m.addStatement("int skip = $L ? COL_START : OUT_W", String.join(" && ", interiorRow));
        skip = "skip";
      }
    }
    m.beginControlFlow("for (int ow = 0; ow < OUT_W; ow++)");
    if (skip != null) {
      m.beginControlFlow("if (ow == $L)", skip);
      m.addComment("the interior columns of this row are done by the interior methods");
      m.addStatement("ow = COL_END - 1");
      m.addStatement("continue");
      m.endControlFlow();
    }
  }

  private static void closeBorderPixels(MethodSpec.Builder m) {
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

  /**
   * Opens the window loops of pixel {@code (oh, ow)} over the input plane at {@code inPlane}, mapping
   * {@code ih}/{@code iw}; the tap's statement goes inside.
   */
  private void openWindow(MethodSpec.Builder m, String inPlane) {
    m.beginControlFlow("for (int kh = 0; kh < K_H; kh++)");
    m.addStatement("int ih = oh * STRIDE_H - PAD_TOP + kh * DILATION_H");
    mapCoordinate(m, "ih", "IN_H");
    m.addStatement("int inRow = $L + ih * IN_W", inPlane);
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
    MethodSpec.Builder m = method("forwardBorder")
        .addJavadoc("Adds one input plane's contribution to the border pixels of one output plane.\n")
        .addParameter(ConvKernelWriter.FLOATS, "x").addParameter(int.class, "xPlane")
        .addParameter(ConvKernelWriter.FLOATS, "y").addParameter(int.class, "yPlane")
        .addParameter(ConvKernelWriter.FLOATS, "w").addParameter(int.class, "wOff");
    openBorderPixels(m);
    m.addStatement("float acc = 0f");
    openWindow(m, "xPlane");
    m.addStatement("acc += w[wRow + kw] * x[inRow + iw]");
    closeWindow(m);
    m.addStatement("y[yPlane + oh * OUT_W + ow] += acc");
    closeBorderPixels(m);
    return m.build();
  }

  MethodSpec backwardInputBorder() {
    MethodSpec.Builder m = method("backwardInputBorder")
        .addJavadoc("Scatters the border pixels of one output-gradient plane into one input-gradient plane.\n")
        .addParameter(ConvKernelWriter.FLOATS, "gy").addParameter(int.class, "gyPlane")
        .addParameter(ConvKernelWriter.FLOATS, "gx").addParameter(int.class, "gxPlane")
        .addParameter(ConvKernelWriter.FLOATS, "w").addParameter(int.class, "wOff");
    openBorderPixels(m);
    m.addStatement("final float g = gy[gyPlane + oh * OUT_W + ow]");
    openWindow(m, "gxPlane");
    m.addStatement("gx[inRow + iw] += w[wRow + kw] * g");
    closeWindow(m);
    closeBorderPixels(m);
    return m.build();
  }

  MethodSpec backwardWeightBorder() {
    MethodSpec.Builder m = method("backwardWeightBorder")
        .addJavadoc("Adds the border pixels' contribution to the weight gradient of one plane pair.\n")
        .addParameter(ConvKernelWriter.FLOATS, "x").addParameter(int.class, "xPlane")
        .addParameter(ConvKernelWriter.FLOATS, "gy").addParameter(int.class, "gyPlane")
        .addParameter(ConvKernelWriter.FLOATS, "gw").addParameter(int.class, "wOff");
    openBorderPixels(m);
    m.addStatement("final float g = gy[gyPlane + oh * OUT_W + ow]");
    openWindow(m, "xPlane");
    m.addStatement("gw[wRow + kw] += g * x[inRow + iw]");
    closeWindow(m);
    closeBorderPixels(m);
    return m.build();
  }
}
