package dev.kiln.processor.validation;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.processor.model.RepConvSpec;
import java.util.Optional;

/** Validates the raw values of a {@code @RepConv} into a {@link RepConvSpec}. Independent of javac. */
public final class RepConvValidator {
  private static final String ANNOTATION = "RepConv";

  /** The raw attribute values; {@code null} input-shape values mean "not given". */
  public record Request(
      Integer inChannels,
      int outChannels,
      int kernelSize,
      int stride,
      int groups,
      boolean batchNorm,
      Activation activation,
      Integer height,
      Integer width) {}

  private RepConvValidator() {}

  public static Optional<RepConvSpec> validate(Request r, Report report) {
    int errors = report.items().size();
    int[] input = AttributeChecks.convolutionShape(ANNOTATION, r.inChannels(), r.height(), r.width(),
        r.outChannels(), report);
    int in = input[0];
    int h = input[1];
    int w = input[2];
    if (r.kernelSize() <= 0) {
      report.error("kernelSize", Messages.positive(ANNOTATION, "kernelSize", r.kernelSize()));
    } else if (r.kernelSize() % 2 == 0) {
      report.error("kernelSize", Messages.oddKernel(r.kernelSize()));
    }
    if (r.stride() != 1 && r.stride() != 2) {
      report.error("stride", Messages.repStride(r.stride()));
    }
    AttributeChecks.groups(ANNOTATION, r.groups(), in, r.outChannels(), report);
    if (r.activation() != Activation.NONE && r.activation() != Activation.RELU) {
      report.error("activation", Messages.repActivation(r.activation().name()));
    }
    if (report.items().size() > errors) {
      return Optional.empty();
    }
    // The shared conv checks (kernel fits, array sizes) on the widest branch.
    int k = r.kernelSize();
    int p = k / 2;
    if (ConvValidator.finish(in, r.outChannels(), h, w, new int[] {k, k}, new int[] {r.stride(), r.stride()},
        new int[] {1, 1}, new int[] {p, p, p, p}, r.groups(), PaddingMode.ZEROS, ANNOTATION, report).isEmpty()) {
      return Optional.empty();
    }
    RepConvSpec spec = new RepConvSpec(in, r.outChannels(), h, w, r.kernelSize(), r.stride(), r.groups(),
        r.batchNorm(), r.activation());
    return Optional.of(spec);
  }
}
