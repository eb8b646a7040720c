package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.validation.Report;
import java.util.Optional;

/** {@code @Flatten} on any shape: {@code dev.kiln.nn.Flatten}, one sample's values as a flat vector. */
public final class FlattenKind extends RuntimeLayerKind {
  FlattenKind() {
    super("Flatten");
  }

  @Override
  public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report) {
    int n = 1;
    for (int d : in) {
      n *= d;
    }
    return Optional.of(layer(name, in, new int[] {n}));
  }
}
