package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.model.LayerSpec.DeployRole;
import dev.kiln.processor.validation.ArrivingShapes;
import dev.kiln.processor.validation.Report;
import java.util.Optional;

/**
 * {@code @BatchNorm2d} on a feature map: {@code dev.kiln.nn.BatchNorm2d}, batch normalization over the
 * channels, folded into a directly preceding convolution on deploy.
 */
public final class BatchNormKind extends RuntimeLayerKind {
  BatchNormKind() {
    super("BatchNorm2d");
  }

  @Override
  public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report) {
    return ArrivingShapes.featureMap(annotation(), name, in, report)
        ? Optional.of(layer(name, in, in, Integer.toString(in[0])).deployedAs(DeployRole.BATCH_NORM))
        : Optional.empty();
  }
}
