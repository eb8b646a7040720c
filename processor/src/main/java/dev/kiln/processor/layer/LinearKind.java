package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.validation.ModelValidator;
import dev.kiln.processor.validation.Report;
import java.util.List;
import java.util.Optional;

/** {@code @Linear(outFeatures, bias)} on a flat vector: {@code dev.kiln.nn.Linear}. */
public final class LinearKind implements LayerKind {
  @Override
  public String annotation() {
    return "Linear";
  }

  @Override
  public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report) {
    int out = annotation.intValue("outFeatures");
    if (!ModelValidator.linear(name, in, out, report)) {
      return Optional.empty();
    }
    return Optional.of(new Linear(name, in[0], out, annotation.booleanValue("bias")));
  }

  /** A fully connected layer {@code [inFeatures] -> [outFeatures]}. */
  record Linear(String name, int inFeatures, int outFeatures, boolean bias) implements LayerSpec.Runtime {
    @Override
    public int[] inShape() {
      return new int[] {inFeatures};
    }

    @Override
    public int[] outShape() {
      return new int[] {outFeatures};
    }

    @Override
    public String runtimeClass() {
      return "Linear";
    }

    @Override
    public List<String> constructorArguments(String seed) {
      return List.of(Integer.toString(inFeatures), Integer.toString(outFeatures), Boolean.toString(bias), seed);
    }
  }
}
