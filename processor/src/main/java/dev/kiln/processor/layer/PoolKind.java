package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.model.PoolWindow;
import dev.kiln.processor.validation.PoolValidator;
import dev.kiln.processor.validation.Report;
import java.util.List;
import java.util.Optional;

/**
 * {@code @MaxPool2d} and {@code @AvgPool2d} ({@code kernelSize}, {@code stride}, {@code padding}) on a
 * feature map: {@code dev.kiln.nn.MaxPool2d} and {@code dev.kiln.nn.AvgPool2d}.
 */
public final class PoolKind implements LayerKind {
  public static final PoolKind MAX = new PoolKind("MaxPool2d");
  public static final PoolKind AVG = new PoolKind("AvgPool2d");

  /** The annotation's and the runtime class's simple name. */
  private final String name;

  private PoolKind(String name) {
    this.name = name;
  }

  @Override
  public String annotation() {
    return name;
  }

  @Override
  public Optional<LayerSpec> infer(String layer, int[] in, AnnotationReader annotation, Report report) {
    return PoolValidator.validate(name, layer, in, annotation.intArray("kernelSize"), annotation.intArray("stride"),
        annotation.intArray("padding"), report).map(window -> new Pool(layer, name, in, window));
  }

  /** A pooling layer over {@code window}. */
  record Pool(String name, String runtimeClass, int[] inShape, PoolWindow window) implements LayerSpec.Runtime {
    @Override
    public int[] outShape() {
      return window.outShape(inShape);
    }

    @Override
    public List<String> constructorArguments(String seed) {
      return List.of(Integer.toString(window.kernelH()), Integer.toString(window.kernelW()),
          Integer.toString(window.strideH()), Integer.toString(window.strideW()), Integer.toString(window.padH()),
          Integer.toString(window.padW()));
    }
  }
}
