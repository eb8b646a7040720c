package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.model.LayerSpec.DeployRole;
import dev.kiln.processor.validation.ModelValidator;
import dev.kiln.processor.validation.Report;
import java.util.Optional;

/**
 * {@code @Dropout(p)} on any shape: {@code dev.kiln.nn.Dropout}, inverted dropout with probability {@code p},
 * left out of the deploy network.
 */
public final class DropoutKind extends RuntimeLayerKind {
  DropoutKind() {
    super("Dropout");
  }

  @Override
  public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report) {
    double p = annotation.doubleValue("p");
    if (!ModelValidator.dropout(p, report)) {
      return Optional.empty();
    }
    return Optional.of(layer(name, in, in, Double.toString(p)).drawingRandomNumbers().deployedAs(DeployRole.REMOVE));
  }
}
