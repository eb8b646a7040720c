package dev.kiln.processor.writing;

import com.palantir.javapoet.CodeBlock;
import com.palantir.javapoet.MethodSpec;
import dev.kiln.processor.model.ConvSpec;
import dev.kiln.processor.model.TapBlock;

/**
 * The scalar interior: the block's weights are held in locals {@code w<t>}, each output pixel is one
 * straight-line expression over the block's taps at constant offsets from the pixel's first tap.
 */
final class ScalarInteriorEmitter implements InteriorEmitter {
  private final ConvSpec spec;

  ScalarInteriorEmitter(ConvSpec spec) {
    this.spec = spec;
  }

  /** {@code base + offset} with the offset folded to a literal (omitted when zero). */
  private CodeBlock at(String base, int tap) {
    long off = TapBlock.inputOffset(spec, tap);
    return off == 0 ? CodeBlock.of("$L", base) : CodeBlock.of("$L + $L", base, off);
  }

  private void loadWeights(MethodSpec.Builder m, String array, TapBlock block) {
    for (int t = block.first(); t < block.first() + block.count(); t++) {
      m.addStatement("final float w$L = $L[wOff + $L]", t, array, t);
    }
  }

  /** Opens the loops over interior rows and columns; {@code i} is the input index of the pixel's tap 0. */
  private void openPixelLoops(MethodSpec.Builder m, String inPlane, String outPlane) {
    m.beginControlFlow("for (int oh = ROW_START; oh < ROW_END; oh++)");
    m.addStatement("int inRow = $L + (oh * STRIDE_H - PAD_TOP) * IN_W - PAD_LEFT", inPlane);
    m.addStatement("int outRow = $L + oh * OUT_W", outPlane);
    m.beginControlFlow("for (int ow = COL_START; ow < COL_END; ow++)");
    m.addStatement("int i = inRow + ow * STRIDE_W");
  }

  private static void closePixelLoops(MethodSpec.Builder m) {
    m.endControlFlow();
    m.endControlFlow();
  }

  @Override
  public MethodSpec forward(TapBlock block, String suffix) {
    MethodSpec.Builder m = GeneratedMethods.planePairHelper("forwardInterior" + suffix, "x", "y", "w")
        .addJavadoc("Adds taps $L..$L of one input plane to the interior of one output plane.\n", block.first(),
            block.first() + block.count() - 1);
    loadWeights(m, "w", block);
    openPixelLoops(m, "xPlane", "yPlane");
    CodeBlock.Builder sum = CodeBlock.builder();
    for (int t = block.first(); t < block.first() + block.count(); t++) {
      if (t > block.first()) {
        sum.add("\n    + ");
      }
      sum.add("w$L * x[$L]", t, at("i", t));
    }
    m.addStatement("y[outRow + ow] += $L", sum.build());
    closePixelLoops(m);
    return m.build();
  }

  @Override
  public MethodSpec backwardInput(TapBlock block, String suffix) {
    MethodSpec.Builder m = GeneratedMethods.planePairHelper("backwardInputInterior" + suffix, "gy", "gx", "w")
        .addJavadoc("Scatters the interior of one output-gradient plane through taps $L..$L into one "
            + "input-gradient plane.\n", block.first(), block.first() + block.count() - 1);
    loadWeights(m, "w", block);
    openPixelLoops(m, "gxPlane", "gyPlane");
    m.addStatement("final float g = gy[outRow + ow]");
    for (int t = block.first(); t < block.first() + block.count(); t++) {
      m.addStatement("gx[$L] += w$L * g", at("i", t), t);
    }
    closePixelLoops(m);
    return m.build();
  }

  @Override
  public MethodSpec backwardWeight(TapBlock block, String suffix) {
    MethodSpec.Builder m = GeneratedMethods.planePairHelper("backwardWeightInterior" + suffix, "x", "gy", "gw")
        .addJavadoc("Adds the interior's contribution to the gradient of taps $L..$L.\n", block.first(),
            block.first() + block.count() - 1);
    for (int t = block.first(); t < block.first() + block.count(); t++) {
      m.addStatement("float a$L = 0f", t);
    }
    openPixelLoops(m, "xPlane", "gyPlane");
    m.addStatement("final float g = gy[outRow + ow]");
    for (int t = block.first(); t < block.first() + block.count(); t++) {
      m.addStatement("a$L += g * x[$L]", t, at("i", t));
    }
    closePixelLoops(m);
    for (int t = block.first(); t < block.first() + block.count(); t++) {
      m.addStatement("gw[wOff + $L] += a$L", t, t);
    }
    return m.build();
  }
}
