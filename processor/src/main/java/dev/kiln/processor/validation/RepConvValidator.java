package dev.kiln.processor.validation;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.processor.model.RepConvSpec;
import java.util.Optional;

/** Validates the raw values of a {@code @RepConv} into a {@link RepConvSpec}. Independent of javac. */
public final class RepConvValidator {
  private static final String ANNOTATION = "RepConv";

  /** The raw attribute values. */
  public record Request(
      DeclaredInput input,
      int outChannels,
      int kernelSize,
      int stride,
      int groups,
      boolean batchNorm,
      Activation activation) {}

  private RepConvValidator() {}

  public static Optional<RepConvSpec> validate(Request r, Report report) {
    int errors = report.items().size();
    ConvInput input = AttributeChecks.convolutionShape(ANNOTATION, r.input(), r.outChannels(), report);
    if (r.kernelSize() <= 0) {
      report.error("kernelSize", Messages.positive(ANNOTATION, "kernelSize", r.kernelSize()));
    } else if (r.kernelSize() % 2 == 0) {
      report.error("kernelSize", Messages.oddKernel(r.kernelSize()));
    }
    if (r.stride() != 1 && r.stride() != 2) {
      report.error("stride", Messages.repStride(r.stride()));
    }
    AttributeChecks.groups(ANNOTATION, r.groups(), input.channels(), r.outChannels(), report);
    if (r.activation() != Activation.NONE && r.activation() != Activation.RELU) {
      report.error("activation", Messages.repActivation(r.activation().name()));
    }
    if (report.items().size() > errors) {
      return Optional.empty();
    }
    // The shared conv checks (kernel fits, array sizes) on the widest branch.
    int k = r.kernelSize();
    int p = k / 2;
    if (ConvValidator.finish(input, r.outChannels(), new int[] {k, k}, new int[] {r.stride(), r.stride()},
        new int[] {1, 1}, new int[] {p, p, p, p}, r.groups(), PaddingMode.ZEROS, ANNOTATION, report).isEmpty()) {
      return Optional.empty();
    }
    RepConvSpec spec = new RepConvSpec(input.channels(), r.outChannels(), input.height(), input.width(),
        r.kernelSize(), r.stride(), r.groups(), r.batchNorm(), r.activation());
    return Optional.of(spec);
  }
}
