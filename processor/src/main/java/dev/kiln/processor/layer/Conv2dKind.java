package dev.kiln.processor.layer;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.validation.ArrivingShapes;
import dev.kiln.processor.validation.ConvValidator;
import dev.kiln.processor.validation.Report;
import java.util.Optional;

/** {@code @Conv2d}: a convolution, generated as a specialized kernel (also on a standalone interface). */
public final class Conv2dKind implements LayerKind {
  @Override
  public String annotation() {
    return "Conv2d";
  }

  /** Reads the raw values of a {@code @Conv2d}; {@code arriving} ({@code [C, H, W]}, or null) overrides the input shape. */
  public static ConvValidator.Request request(AnnotationReader r, int[] arriving) {
    return new ConvValidator.Request(
        arriving != null ? Integer.valueOf(arriving[0]) : r.explicitInt("inChannels"),
        r.intValue("outChannels"),
        r.intArray("kernelSize"),
        r.intArray("stride"),
        r.stringValue("padding"),
        r.intArray("dilation"),
        r.intValue("groups"),
        r.booleanValue("bias"),
        r.enumValue("paddingMode", PaddingMode.class),
        arriving != null ? Integer.valueOf(arriving[1]) : r.explicitInt("height"),
        arriving != null ? Integer.valueOf(arriving[2]) : r.explicitInt("width"),
        r.enumValue("activation", Activation.class));
  }

  @Override
  public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report) {
    if (!ArrivingShapes.featureMap(annotation(), name, in, report)
        || !ArrivingShapes.matchDeclared(annotation(), name, in, declaredInput(annotation), report)) {
      return Optional.empty();
    }
    return ConvValidator.validate(request(annotation, in), report).map(conv -> new LayerSpec.Conv(name, conv));
  }

  /** The input-shape attributes as written ({@code null} where not). */
  static Integer[] declaredInput(AnnotationReader annotation) {
    Integer[] declared = new Integer[3];
    for (int i = 0; i < 3; i++) {
      declared[i] = annotation.explicitInt(ArrivingShapes.INPUT_ATTRIBUTES[i]);
    }
    return declared;
  }
}
