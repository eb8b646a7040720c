package dev.kiln.processor.layer;

import dev.kiln.annotation.Activation;
import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.validation.ArrivingShapes;
import dev.kiln.processor.validation.RepConvValidator;
import dev.kiln.processor.validation.Report;
import java.util.Optional;

/** {@code @RepConv}: a RepVGG block and its fused deploy kernel (also on a standalone interface). */
public final class RepConvKind implements LayerKind {
  @Override
  public String annotation() {
    return "RepConv";
  }

  /** Reads the raw values of a {@code @RepConv}; {@code arriving} ({@code [C, H, W]}, or null) overrides the input shape. */
  public static RepConvValidator.Request request(AnnotationReader r, int[] arriving) {
    return new RepConvValidator.Request(
        arriving != null ? Integer.valueOf(arriving[0]) : r.explicitInt("inChannels"),
        r.intValue("outChannels"),
        r.intValue("kernelSize"),
        r.intValue("stride"),
        r.intValue("groups"),
        r.booleanValue("batchNorm"),
        r.enumValue("activation", Activation.class),
        arriving != null ? Integer.valueOf(arriving[1]) : r.explicitInt("height"),
        arriving != null ? Integer.valueOf(arriving[2]) : r.explicitInt("width"));
  }

  @Override
  public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report) {
    if (!ArrivingShapes.featureMap(annotation(), name, in, report)
        || !ArrivingShapes.matchDeclared(annotation(), name, in, Conv2dKind.declaredInput(annotation), report)) {
      return Optional.empty();
    }
    return RepConvValidator.validate(request(annotation, in), report)
        .map(block -> new LayerSpec.RepConv(name, block));
  }
}
