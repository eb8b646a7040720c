package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.validation.ArrivingShapes;
import dev.kiln.processor.validation.Report;
import java.util.List;
import java.util.Optional;

/**
 * {@code @BatchNorm2d} on a feature map: {@code dev.kiln.nn.BatchNorm2d}, folded into a directly preceding
 * convolution on deploy.
 */
public final class BatchNormKind implements LayerKind {
  @Override
  public String annotation() {
    return "BatchNorm2d";
  }

  @Override
  public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report) {
    return ArrivingShapes.featureMap(annotation(), name, in, report)
        ? Optional.of(new BatchNorm(name, in)) : Optional.empty();
  }

  /** Batch normalization over the channels of {@code inShape}. */
  record BatchNorm(String name, int[] inShape) implements LayerSpec.Runtime {
    @Override
    public int[] outShape() {
      return inShape;
    }

    @Override
    public DeployRole deployRole() {
      return DeployRole.BATCH_NORM;
    }

    @Override
    public String runtimeClass() {
      return "BatchNorm2d";
    }

    @Override
    public List<String> constructorArguments(String seed) {
      return List.of(Integer.toString(inShape[0]));
    }
  }
}
