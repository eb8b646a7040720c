package dev.kiln.processor.validation;

import dev.kiln.annotation.Activation;
import dev.kiln.processor.model.RepConvSpec;
import java.util.Optional;

/** Validates the raw values of a {@code @RepConv} into a {@link RepConvSpec}. Independent of javac. */
public final class RepConvValidator {
  private static final String A = "RepConv";

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
    int in = Checks.requireShape(A, r.inChannels(), "inChannels", report);
    int h = Checks.requireShape(A, r.height(), "height", report);
    int w = Checks.requireShape(A, r.width(), "width", report);
    if (r.outChannels() <= 0) {
      report.error("outChannels", Messages.positive(A, "outChannels", r.outChannels()));
    }
    if (r.kernelSize() <= 0) {
      report.error("kernelSize", Messages.positive(A, "kernelSize", r.kernelSize()));
    } else if (r.kernelSize() % 2 == 0) {
      report.error("kernelSize", Messages.oddKernel(r.kernelSize()));
    }
    if (r.stride() != 1 && r.stride() != 2) {
      report.error("stride", Messages.repStride(r.stride()));
    }
    Checks.groups(A, r.groups(), in, r.outChannels(), report);
    if (r.activation() != Activation.NONE && r.activation() != Activation.RELU) {
      report.error("activation", Messages.repActivation(r.activation().name()));
    }
    if (report.items().size() > errors) {
      return Optional.empty();
    }
    RepConvSpec spec = new RepConvSpec(in, r.outChannels(), h, w, r.kernelSize(), r.stride(), r.groups(),
        r.batchNorm(), r.activation());
    // The shared conv checks (kernel fits, array sizes) on the widest branch.
    int k = r.kernelSize();
    int p = k / 2;
    if (ConvValidator.finish(in, r.outChannels(), h, w, new int[] {k, k}, new int[] {r.stride(), r.stride()},
        new int[] {1, 1}, new int[] {p, p, p, p}, r.groups(), true, dev.kiln.annotation.PaddingMode.ZEROS,
        r.activation(), A, report).isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(spec);
  }
}
