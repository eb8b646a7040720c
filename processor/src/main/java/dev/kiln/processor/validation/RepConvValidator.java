package dev.kiln.processor.validation;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.processor.model.RepConvSpec;
import java.util.Optional;

/** Validates the raw values of a {@code @RepConv} into a {@link RepConvSpec}. Independent of javac. */
public final class RepConvValidator {
  private static final String ANNOTATION = "RepConv";

  private RepConvValidator() {}

  /**
   * Validates the attribute values {@code a} of a {@code @RepConv} with the input shape {@code declared};
   * returns the spec when {@code report} stayed clean.
   */
  public static Optional<RepConvSpec> validate(AttributeValues a, DeclaredInput declared, Report report) {
    int errors = report.items().size();
    int out = a.intValue("outChannels");
    ConvInput input = AttributeChecks.convolutionShape(ANNOTATION, declared, out, report);
    int k = a.intValue("kernelSize");
    if (k <= 0) {
      report.error("kernelSize", Messages.positive(ANNOTATION, "kernelSize", k));
    } else if (k % 2 == 0) {
      report.error("kernelSize", Messages.oddKernel(k));
    }
    int stride = a.intValue("stride");
    if (stride != 1 && stride != 2) {
      report.error("stride", Messages.repStride(stride));
    }
    int groups = a.intValue("groups");
    AttributeChecks.groups(ANNOTATION, groups, input.channels(), out, report);
    Activation activation = a.enumValue("activation", Activation.class);
    if (activation != Activation.NONE && activation != Activation.RELU) {
      report.error("activation", Messages.repActivation(activation.name()));
    }
    if (report.items().size() > errors) {
      return Optional.empty();
    }
    // The shared conv checks (kernel fits, array sizes) on the widest branch.
    int p = k / 2;
    if (ConvValidator.finish(input, out, new int[] {k, k}, new int[] {stride, stride}, new int[] {1, 1},
        new int[] {p, p, p, p}, groups, PaddingMode.ZEROS, ANNOTATION, report).isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new RepConvSpec(input.channels(), out, input.height(), input.width(), k, stride, groups,
        a.booleanValue("batchNorm"), activation));
  }
}
