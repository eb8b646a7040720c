package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.model.PoolWindow;
import dev.kiln.processor.validation.PoolValidator;
import dev.kiln.processor.validation.Report;
import java.util.Optional;

/**
 * {@code @MaxPool2d} and {@code @AvgPool2d} ({@code kernelSize}, {@code stride}, {@code padding}) on a
 * feature map: {@code dev.kiln.nn.MaxPool2d} and {@code dev.kiln.nn.AvgPool2d}, pooling over the validated
 * {@link PoolWindow}.
 */
public final class PoolKind extends RuntimeLayerKind {
  public static final PoolKind MAX = new PoolKind("MaxPool2d");
  public static final PoolKind AVG = new PoolKind("AvgPool2d");

  private PoolKind(String name) {
    super(name);
  }

  @Override
  public Optional<LayerSpec> infer(String layer, int[] in, AnnotationReader annotation, Report report) {
    return PoolValidator.validate(annotation(), layer, in, annotation.intArray("kernelSize"),
        annotation.intArray("stride"), annotation.intArray("padding"), report)
        .map(window -> layer(layer, in, window.outShape(in), Integer.toString(window.kernelH()),
            Integer.toString(window.kernelW()), Integer.toString(window.strideH()),
            Integer.toString(window.strideW()), Integer.toString(window.padH()), Integer.toString(window.padW())));
  }
}
