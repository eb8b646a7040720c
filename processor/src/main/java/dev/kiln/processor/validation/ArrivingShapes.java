package dev.kiln.processor.validation;

import java.util.Arrays;

/**
 * Checks of the shape that arrives at a layer of a {@code @Model} (one sample, without the batch
 * dimension), inferred from the layers before it.
 */
public final class ArrivingShapes {
  /** The input-shape attributes of the convolution annotations, in {@code [C, H, W]} order. */
  public static final String[] INPUT_ATTRIBUTES = {"inChannels", "height", "width"};

  private ArrivingShapes() {}

  /** {@code [2, 3, 4]}. */
  public static String show(int[] shape) {
    return Arrays.toString(shape);
  }

  /** Whether {@code in} is a {@code [C, H, W]} feature map, as {@code @annotation} needs. */
  public static boolean featureMap(String annotation, String layer, int[] in, Report report) {
    if (in.length != 3) {
      report.error("", Messages.needsMap(layer, annotation, show(in)));
      return false;
    }
    return true;
  }

  /** Whether {@code in} is a flat {@code [F]} vector, as {@code @annotation} needs. */
  public static boolean vector(String annotation, String layer, int[] in, Report report) {
    if (in.length != 1) {
      report.error("", Messages.needsVector(layer, annotation, show(in)));
      return false;
    }
    return true;
  }

  /**
   * Whether the input-shape attributes the user wrote (an entry of {@code declared} is {@code null} where
   * not) agree with the feature map {@code in} that arrives; reports each that does not on its attribute.
   */
  public static boolean matchDeclared(String annotation, String layer, int[] in, Integer[] declared,
      Report report) {
    boolean ok = true;
    for (int i = 0; i < 3; i++) {
      if (declared[i] != null && declared[i] != in[i]) {
        report.error(INPUT_ATTRIBUTES[i], Messages.shapeMismatch(layer, annotation, INPUT_ATTRIBUTES[i], declared[i],
            in[i], show(in)));
        ok = false;
      }
    }
    return ok;
  }
}
