package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.validation.ModelValidator;
import dev.kiln.processor.validation.Report;
import java.util.Optional;

/**
 * {@code @Linear(outFeatures, bias)} on a flat vector: {@code dev.kiln.nn.Linear}, a fully connected layer
 * {@code [inFeatures] -> [outFeatures]}.
 */
public final class LinearKind extends RuntimeLayerKind {
  LinearKind() {
    super("Linear");
  }

  @Override
  public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report) {
    int out = annotation.intValue("outFeatures");
    if (!ModelValidator.linear(name, in, out, report)) {
      return Optional.empty();
    }
    return Optional.of(layer(name, new int[] {in[0]}, new int[] {out}, Integer.toString(in[0]),
        Integer.toString(out), Boolean.toString(annotation.booleanValue("bias"))).drawingRandomNumbers());
  }
}
