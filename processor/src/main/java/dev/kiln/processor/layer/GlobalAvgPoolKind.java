package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.validation.ArrivingShapes;
import dev.kiln.processor.validation.Report;
import java.util.Optional;

/**
 * {@code @GlobalAvgPool2d} on a feature map {@code [C, H, W] -> [C, 1, 1]}: {@code dev.kiln.nn.GlobalAvgPool2d},
 * the mean of each channel plane.
 */
public final class GlobalAvgPoolKind extends RuntimeLayerKind {
  GlobalAvgPoolKind() {
    super("GlobalAvgPool2d");
  }

  @Override
  public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report) {
    return ArrivingShapes.featureMap(annotation(), name, in, report)
        ? Optional.of(layer(name, in, new int[] {in[0], 1, 1})) : Optional.empty();
  }
}
