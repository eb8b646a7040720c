package dev.kiln.processor.writing;

import com.palantir.javapoet.MethodSpec;
import com.palantir.javapoet.TypeSpec;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.processor.model.ConvSpec;
import java.util.List;
import java.util.Locale;

/**
 * Padded copies of the input planes, read without bounds checks by the channel-lanes forward and the patch
 * gradients: the constants {@code PADDED_H}, {@code PADDED_W}, {@code PADDED_PLANE} and the method
 * {@code pad(x, xPlane, dst)}, which applies the padding mode.
 */
final class PaddedPlanes {
  private final ConvSpec spec;

  PaddedPlanes(ConvSpec spec) {
    this.spec = spec;
  }

  static int width(ConvSpec spec) {
    return spec.inWidth() + spec.padLeft() + spec.padRight();
  }

  static int height(ConvSpec spec) {
    return spec.inHeight() + spec.padTop() + spec.padBottom();
  }

  /** Adds the constants (their legend goes into the class Javadoc). */
  void constants(TypeSpec.Builder type) {
    ConvKernelWriter.constant(type, "PADDED_H", height(spec), "Rows of a padded input plane.");
    ConvKernelWriter.constant(type, "PADDED_W", width(spec), "Columns of a padded input plane.");
    ConvKernelWriter.constant(type, "PADDED_PLANE", height(spec) * width(spec), "Elements of one padded input plane.");
  }

  /** {@code pad} (and {@code mapIndex}, emitted once by the kernel writer, for a non-zero padding mode). */
  List<MethodSpec> methods() {
    return List.of(pad());
  }

  /** Whether {@code mapIndex} is used: a non-zero padding mode with some padding. */
  static boolean needsMapIndex(ConvSpec spec) {
    return spec.paddingMode() != PaddingMode.ZEROS && spec.hasPadding();
  }

  private MethodSpec pad() {
    MethodSpec.Builder m = GeneratedMethods.helper("pad")
        .addJavadoc("Copies one input plane into the middle of a padded plane and fills the padding ($L).\n",
            spec.paddingMode().name().toLowerCase(Locale.ROOT))
        .addParameter(ConvKernelWriter.FLOATS, "x").addParameter(int.class, "xPlane")
        .addParameter(ConvKernelWriter.FLOATS, "dst");
    boolean zeros = spec.paddingMode() == PaddingMode.ZEROS;
    m.beginControlFlow("for (int ph = 0; ph < PADDED_H; ph++)");
    m.addStatement("int at = ph * PADDED_W");
    m.addStatement("int ih = ph - PAD_TOP");
    String row;
    if (spec.padTop() + spec.padBottom() == 0) {
      row = "xPlane + ih * IN_W";
    } else if (zeros) {
      m.beginControlFlow("if (ih < 0 || ih >= IN_H)");
      m.addStatement("$T.fill(dst, at, at + PADDED_W, 0f)", ConvKernelWriter.ARRAYS);
      m.addStatement("continue");
      m.endControlFlow();
      row = "xPlane + ih * IN_W";
    } else {
      row = "xPlane + mapIndex(ih, IN_H) * IN_W";
    }
    m.addStatement("int row = $L", row);
    if (spec.padLeft() > 0) {
      border(m, "0", "PAD_LEFT");
    }
    m.addStatement("System.arraycopy(x, row, dst, at + PAD_LEFT, IN_W)");
    if (spec.padRight() > 0) {
      border(m, "PAD_LEFT + IN_W", "PADDED_W");
    }
    m.endControlFlow();
    return m.build();
  }

  private void border(MethodSpec.Builder m, String from, String to) {
    paddingColumns(m, spec, "pw", from, to, "dst[at + pw]", "pw - PAD_LEFT");
  }

  /**
   * Emits the loop that fills the padding columns {@code [from, to)} of a copied input row (whose first input
   * value is {@code x[row]}): {@code target} (an expression of the loop variable {@code column}) becomes 0, or
   * for the other padding modes the input value at {@code mapIndex(inputColumn, IN_W)}.
   */
  static void paddingColumns(MethodSpec.Builder m, ConvSpec spec, String column, String from, String to,
      String target, String inputColumn) {
    m.beginControlFlow("for (int $L = $L; $L < $L; $L++)", column, from, column, to, column);
    if (spec.paddingMode() == PaddingMode.ZEROS) {
      m.addStatement("$L = 0f", target);
    } else {
      m.addStatement("$L = x[row + mapIndex($L, IN_W)]", target, inputColumn);
    }
    m.endControlFlow();
  }
}
