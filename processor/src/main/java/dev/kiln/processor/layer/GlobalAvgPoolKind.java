package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.validation.ArrivingShapes;
import dev.kiln.processor.validation.Report;
import java.util.List;
import java.util.Optional;

/** {@code @GlobalAvgPool2d} on a feature map {@code [C, H, W] -> [C, 1, 1]}: {@code dev.kiln.nn.GlobalAvgPool2d}. */
public final class GlobalAvgPoolKind implements LayerKind {
  @Override
  public String annotation() {
    return "GlobalAvgPool2d";
  }

  @Override
  public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report) {
    return ArrivingShapes.featureMap(annotation(), name, in, report)
        ? Optional.of(new GlobalAvgPool(name, in)) : Optional.empty();
  }

  /** The mean of each channel plane. */
  record GlobalAvgPool(String name, int[] inShape) implements LayerSpec.Runtime {
    @Override
    public int[] outShape() {
      return new int[] {inShape[0], 1, 1};
    }

    @Override
    public String runtimeClass() {
      return "GlobalAvgPool2d";
    }

    @Override
    public List<String> constructorArguments(String seed) {
      return List.of();
    }
  }
}
