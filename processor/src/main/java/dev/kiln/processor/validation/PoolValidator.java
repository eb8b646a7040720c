package dev.kiln.processor.validation;

import dev.kiln.processor.model.PoolWindow;
import java.util.Optional;

/** Validates the values of {@code @MaxPool2d} and {@code @AvgPool2d} against the feature map that arrives. */
public final class PoolValidator {
  private PoolValidator() {}

  /**
   * The window, or empty with the problems in {@code report}.
   *
   * @param stride empty means the kernel size, as in PyTorch
   */
  public static Optional<PoolWindow> validate(String annotation, String layer, int[] in, int[] kernel, int[] stride,
      int[] padding, Report report) {
    if (!ArrivingShapes.featureMap(annotation, layer, in, report)) {
      return Optional.empty();
    }
    int[] k = AttributeChecks.positivePair(annotation, "kernelSize", kernel, report);
    int[] s = stride.length == 0 && k != null ? k : AttributeChecks.positivePair(annotation, "stride", stride, report);
    int[] p = AttributeChecks.pair(annotation, "padding", padding, report);
    if (k == null || s == null || p == null) {
      return Optional.empty();
    }
    for (int i = 0; i < 2; i++) {
      if (p[i] < 0) {
        report.error("padding", Messages.nonNegative(annotation, "padding", p[i]));
        return Optional.empty();
      }
      if (p[i] > k[i] / 2) {
        report.error("padding", Messages.poolPadding(annotation, p[i], k[i]));
        return Optional.empty();
      }
      if (in[i + 1] + 2 * p[i] < k[i]) {
        report.error("kernelSize", Messages.poolFit(layer, annotation, ArrivingShapes.show(in), k[0], k[1], p[0],
            p[1]));
        return Optional.empty();
      }
    }
    PoolWindow window = new PoolWindow(k[0], k[1], s[0], s[1], p[0], p[1]);
    int[] out = window.outShape(in);
    return AttributeChecks.fitsInArray(annotation, "padding", "output size", (long) out[0] * out[1] * out[2], report)
        ? Optional.of(window) : Optional.empty();
  }
}
