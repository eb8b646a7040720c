package dev.kiln.processor.writing;

import com.palantir.javapoet.MethodSpec;
import dev.kiln.processor.model.ConvSpec;
import dev.kiln.processor.model.TapBlock;
import javax.lang.model.element.Modifier;

/**
 * The scalar interior: the block's weights are held in locals {@code w<t>}, each output pixel is one
 * straight-line expression over the block's taps at constant offsets from the pixel's first tap.
 */
final class ScalarInteriorEmitter implements InteriorEmitter {
  private final ConvSpec spec;

  ScalarInteriorEmitter(ConvSpec spec) {
    this.spec = spec;
  }

  private static MethodSpec.Builder method(String name) {
    return MethodSpec.methodBuilder(name).addModifiers(Modifier.PRIVATE, Modifier.STATIC);
  }

  /** {@code base + offset} with the offset folded to a literal (omitted when zero). */
  private String at(String base, int tap) {
    long off = TapBlock.inputOffset(spec, tap);
    return off == 0 ? base : base + " + " + off;
  }

  private void loadWeights(Body m, String array, TapBlock block) {
    for (int t = block.first(); t < block.first() + block.count(); t++) {
      m.addStatement("final float w$L = $L[wOff + $L]", t, array, t);
    }
  }

  /** Opens the loops over interior rows and columns; {@code i} is the input index of the pixel's tap 0. */
  private void openPixelLoops(Body m, String inPlane, String outPlane) {
    m.beginControlFlow("for (int oh = ROW_START; oh < ROW_END; oh++)");
    m.addStatement("int inRow = $L + (oh * STRIDE_H - PAD_TOP) * IN_W - PAD_LEFT", inPlane);
    m.addStatement("int outRow = $L + oh * OUT_W", outPlane);
    m.beginControlFlow("for (int ow = COL_START; ow < COL_END; ow++)");
    m.addStatement("int i = inRow + ow * STRIDE_W");
  }

  private static void closePixelLoops(Body m) {
    m.endControlFlow();
    m.endControlFlow();
  }

  @Override
  public MethodSpec forward(TapBlock block, String suffix) {
    MethodSpec.Builder m = method("forwardInterior" + suffix)
        .addJavadoc("Adds taps $L..$L of one input plane to the interior of one output plane.\n", block.first(),
            block.first() + block.count() - 1)
        .addParameter(ConvKernelWriter.FLOATS, "x").addParameter(int.class, "xPlane")
        .addParameter(ConvKernelWriter.FLOATS, "y").addParameter(int.class, "yPlane")
        .addParameter(ConvKernelWriter.FLOATS, "w").addParameter(int.class, "wOff");
    Body b = new Body();
    loadWeights(b, "w", block);
    openPixelLoops(b, "xPlane", "yPlane");
    StringBuilder sum = new StringBuilder();
    for (int t = block.first(); t < block.first() + block.count(); t++) {
      if (t > block.first()) {
        sum.append("\n    + ");
      }
      sum.append('w').append(t).append(" * x[").append(at("i", t)).append(']');
    }
    b.addStatement("y[outRow + ow] += $L", sum);
    closePixelLoops(b);
    return m.addCode(b.build()).build();
  }

  @Override
  public MethodSpec backwardInput(TapBlock block, String suffix) {
    MethodSpec.Builder m = method("backwardInputInterior" + suffix)
        .addJavadoc("Scatters the interior of one output-gradient plane through taps $L..$L into one "
            + "input-gradient plane.\n", block.first(), block.first() + block.count() - 1)
        .addParameter(ConvKernelWriter.FLOATS, "gy").addParameter(int.class, "gyPlane")
        .addParameter(ConvKernelWriter.FLOATS, "gx").addParameter(int.class, "gxPlane")
        .addParameter(ConvKernelWriter.FLOATS, "w").addParameter(int.class, "wOff");
    Body b = new Body();
    loadWeights(b, "w", block);
    openPixelLoops(b, "gxPlane", "gyPlane");
    b.addStatement("final float g = gy[outRow + ow]");
    for (int t = block.first(); t < block.first() + block.count(); t++) {
      b.addStatement("gx[$L] += w$L * g", at("i", t), t);
    }
    closePixelLoops(b);
    return m.addCode(b.build()).build();
  }

  @Override
  public MethodSpec backwardWeight(TapBlock block, String suffix) {
    MethodSpec.Builder m = method("backwardWeightInterior" + suffix)
        .addJavadoc("Adds the interior's contribution to the gradient of taps $L..$L.\n", block.first(),
            block.first() + block.count() - 1)
        .addParameter(ConvKernelWriter.FLOATS, "x").addParameter(int.class, "xPlane")
        .addParameter(ConvKernelWriter.FLOATS, "gy").addParameter(int.class, "gyPlane")
        .addParameter(ConvKernelWriter.FLOATS, "gw").addParameter(int.class, "wOff");
    Body b = new Body();
    for (int t = block.first(); t < block.first() + block.count(); t++) {
      b.addStatement("float a$L = 0f", t);
    }
    openPixelLoops(b, "xPlane", "gyPlane");
    b.addStatement("final float g = gy[outRow + ow]");
    for (int t = block.first(); t < block.first() + block.count(); t++) {
      b.addStatement("a$L += g * x[$L]", t, at("i", t));
    }
    closePixelLoops(b);
    for (int t = block.first(); t < block.first() + block.count(); t++) {
      b.addStatement("gw[wOff + $L] += a$L", t, t);
    }
    return m.addCode(b.build()).build();
  }
}
