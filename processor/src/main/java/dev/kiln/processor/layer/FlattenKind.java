package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.validation.Report;
import java.util.List;
import java.util.Optional;

/** {@code @Flatten} on any shape, to a flat vector: {@code dev.kiln.nn.Flatten}. */
public final class FlattenKind implements LayerKind {
  @Override
  public String annotation() {
    return "Flatten";
  }

  @Override
  public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report) {
    return Optional.of(new Flatten(name, in));
  }

  /** One sample's values as a vector. */
  record Flatten(String name, int[] inShape) implements LayerSpec.Runtime {
    @Override
    public int[] outShape() {
      int n = 1;
      for (int d : inShape) {
        n *= d;
      }
      return new int[] {n};
    }

    @Override
    public String runtimeClass() {
      return "Flatten";
    }

    @Override
    public List<String> constructorArguments(String seed) {
      return List.of();
    }
  }
}
