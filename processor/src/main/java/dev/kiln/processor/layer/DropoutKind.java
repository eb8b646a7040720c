package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.validation.ModelValidator;
import dev.kiln.processor.validation.Report;
import java.util.List;
import java.util.Optional;

/** {@code @Dropout(p)} on any shape: {@code dev.kiln.nn.Dropout}, left out of the deploy network. */
public final class DropoutKind implements LayerKind {
  @Override
  public String annotation() {
    return "Dropout";
  }

  @Override
  public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report) {
    double p = annotation.doubleValue("p");
    return ModelValidator.dropout(p, report) ? Optional.of(new Dropout(name, in, p)) : Optional.empty();
  }

  /** Inverted dropout with probability {@code p}. */
  record Dropout(String name, int[] inShape, double p) implements LayerSpec.Runtime {
    @Override
    public int[] outShape() {
      return inShape;
    }

    @Override
    public DeployRole deployRole() {
      return DeployRole.REMOVE;
    }

    @Override
    public String runtimeClass() {
      return "Dropout";
    }

    @Override
    public List<String> constructorArguments(String seed) {
      return List.of(Double.toString(p), seed);
    }
  }
}
