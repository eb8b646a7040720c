package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.validation.Report;
import java.util.Optional;

/**
 * One kind of network layer as a {@code @Model} layer method declares it: its annotation, and how the
 * annotation's values are read, validated and turned into a {@link LayerSpec} for the shape that arrives.
 * The spec says how the model's class writes the layer. {@link LayerKinds#ALL} lists every kind.
 */
public abstract class LayerKind {
  /** The package of every layer annotation. */
  public static final String ANNOTATION_PACKAGE = "dev.kiln.annotation.";

  /** The annotation's simple name. */
  private final String annotation;

  LayerKind(String annotation) {
    this.annotation = annotation;
  }

  /** The annotation's simple name, e.g. {@code "Linear"}. */
  public final String annotation() {
    return annotation;
  }

  /** The annotation's qualified name. */
  public final String qualifiedAnnotation() {
    return ANNOTATION_PACKAGE + annotation;
  }

  /**
   * The layer that method {@code name} declares with {@code annotation}, receiving one sample of shape
   * {@code in}; empty, with every problem in {@code report} (on the attribute to blame), when the values or
   * the shape do not fit.
   */
  public abstract Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report);
}
