package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.model.LayerSpec.DeployRole;
import dev.kiln.processor.validation.Report;
import java.util.Optional;

/**
 * {@code @ReLU} on any shape: {@code dev.kiln.nn.ReLU}, element-wise, fused into a directly preceding
 * convolution on deploy.
 */
public final class ReluKind extends RuntimeLayerKind {
  ReluKind() {
    super("ReLU");
  }

  @Override
  public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report) {
    return Optional.of(layer(name, in, in).deployedAs(DeployRole.RELU));
  }
}
