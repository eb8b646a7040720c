package dev.kiln.processor.layer;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.model.LayerSpec;
import dev.kiln.processor.validation.ArrivingShapes;
import dev.kiln.processor.validation.AttributeValues;
import dev.kiln.processor.validation.DeclaredInput;
import dev.kiln.processor.validation.Report;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * A kind whose layer is generated as a specialized kernel from a validated spec of type {@code S}
 * ({@code @Conv2d}, {@code @RepConv}). Its annotation declares a layer of a {@code @Model}, where the shape
 * arrives from the layer before, or stands on an interface of its own, where the {@code inChannels},
 * {@code height} and {@code width} attributes declare it.
 *
 * @param <S> the validated layer
 */
public final class ConvolutionKind<S> extends LayerKind {
  /** Validates the annotation's values with the input shape into the layer. */
  interface Validation<S> {
    Optional<S> validate(AttributeValues annotation, DeclaredInput input, Report report);
  }

  private final Validation<S> validation;
  private final BiFunction<String, S, LayerSpec> layer;

  /**
   * The kind of {@code annotation}, whose values {@code validation} validates and whose spec {@code layer} turns
   * into the model layer of a name.
   */
  ConvolutionKind(String annotation, Validation<S> validation, BiFunction<String, S, LayerSpec> layer) {
    super(annotation);
    this.validation = validation;
    this.layer = layer;
  }

  /**
   * Validates the annotation's values into the layer; empty, with every problem in {@code report}.
   *
   * @param arriving the input shape {@code [C, H, W]} that arrives in a model, or {@code null} on a standalone
   *     interface, where the input-shape attributes give it
   */
  public Optional<S> validate(AnnotationReader annotation, int[] arriving, Report report) {
    return validation.validate(annotation, input(annotation, arriving), report);
  }

  @Override
  public Optional<LayerSpec> infer(String name, int[] in, AnnotationReader annotation, Report report) {
    if (!ArrivingShapes.featureMap(annotation(), name, in, report)
        || !ArrivingShapes.matchDeclared(annotation(), name, in, declaredInput(annotation), report)) {
      return Optional.empty();
    }
    return validate(annotation, in, report).map(spec -> layer.apply(name, spec));
  }

  /** The input-shape attributes as written ({@code null} where not). */
  private static Integer[] declaredInput(AnnotationReader annotation) {
    Integer[] declared = new Integer[3];
    for (int i = 0; i < 3; i++) {
      declared[i] = annotation.explicitInt(ArrivingShapes.INPUT_ATTRIBUTES[i]);
    }
    return declared;
  }

  /**
   * The input shape: the arriving one where there is one, else the input-shape attributes as written
   * ({@code null} where not).
   */
  private static DeclaredInput input(AnnotationReader annotation, int[] arriving) {
    Integer[] input = arriving != null ? new Integer[] {arriving[0], arriving[1], arriving[2]}
        : declaredInput(annotation);
    return new DeclaredInput(input[0], input[1], input[2]);
  }
}
