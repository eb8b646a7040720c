package dev.kiln.processor.validation;

import dev.kiln.annotation.Reduction;
import dev.kiln.processor.model.ModelSpec;
import java.util.Arrays;
import java.util.Optional;

/**
 * Validates a {@code @Model}'s own values, its {@code @RDrop}, and the layers whose values need no more than
 * a line or two ({@code @Linear}, {@code @Dropout}). Independent of javac.
 */
public final class ModelValidator {
  private ModelValidator() {}

  /** {@code @Model.input}: {@code {C, H, W}} or {@code {F}}, all positive, one sample fitting in an array. */
  public static boolean input(int[] input, Report report) {
    if ((input.length != 1 && input.length != 3) || Arrays.stream(input).anyMatch(v -> v <= 0)) {
      report.error("input", Messages.modelInput("got " + Arrays.toString(input)));
      return false;
    }
    return AttributeChecks.fitsInArray("Model", "input", "input size",
        Arrays.stream(input).asLongStream().reduce(1L, (a, b) -> a * b), report);
  }

  /** {@code @RDrop}: a finite, non-negative alpha and a supported KL reduction. */
  public static Optional<ModelSpec.RDropSpec> rDrop(double alpha, Reduction klReduction, Report report) {
    int errors = report.items().size();
    if (!(alpha >= 0) || Double.isInfinite(alpha)) {
      report.error("alpha", Messages.rdropAlpha(alpha));
    }
    if (klReduction != Reduction.SUM && klReduction != Reduction.BATCHMEAN) {
      report.error("klReduction", Messages.rdropReduction(klReduction.name()));
    }
    return report.items().size() == errors ? Optional.of(new ModelSpec.RDropSpec(alpha, klReduction)) : Optional.empty();
  }

  /** {@code @Linear} receiving {@code in}: a flat vector and a positive {@code outFeatures}. */
  public static boolean linear(String layer, int[] in, int outFeatures, Report report) {
    if (!ArrivingShapes.vector("Linear", layer, in, report)) {
      return false;
    }
    if (outFeatures <= 0) {
      report.error("outFeatures", Messages.positive("Linear", "outFeatures", outFeatures));
      return false;
    }
    return AttributeChecks.fitsInArray("Linear", "outFeatures", "weight size", (long) in[0] * outFeatures, report)
        && AttributeChecks.fitsInArray("Linear", "outFeatures", "output size", outFeatures, report);
  }

  /** {@code @Dropout.p} in {@code [0, 1)}. */
  public static boolean dropout(double p, Report report) {
    if (!(p >= 0 && p < 1)) {
      report.error("p", Messages.dropoutP(p));
      return false;
    }
    return true;
  }
}
