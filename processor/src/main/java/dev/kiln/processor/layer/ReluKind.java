package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.validation.Report;
import java.util.List;
import java.util.Optional;

/** {@code @ReLU} on any shape: {@code dev.kiln.nn.ReLU}, fused into a directly preceding convolution on deploy. */
public final class ReluKind implements LayerKind {
  @Override
  public String annotation() {
    return "ReLU";
  }

  @Override
  public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report) {
    return Optional.of(new Relu(name, in));
  }

  /** An element-wise ReLU. */
  record Relu(String name, int[] inShape) implements LayerSpec.Runtime {
    @Override
    public int[] outShape() {
      return inShape;
    }

    @Override
    public DeployRole deployRole() {
      return DeployRole.RELU;
    }

    @Override
    public String runtimeClass() {
      return "ReLU";
    }

    @Override
    public List<String> constructorArguments(String seed) {
      return List.of();
    }
  }
}
