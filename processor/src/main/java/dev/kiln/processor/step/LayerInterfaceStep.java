package dev.kiln.processor.step;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.element.Diagnostics;
import dev.kiln.processor.layer.ConvolutionKind;
import dev.kiln.processor.validation.Report;
import dev.kiln.processor.writing.GeneratedFiles;
import java.util.Optional;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.TypeElement;

/**
 * A convolution kind's annotation on a standalone interface ({@code @Conv2d}, {@code @RepConv}): checks the
 * interface, validates the annotation's values into a spec of type {@code S} (the input shape as its attributes
 * declare it) and writes the classes the spec generates; reports every problem on the interface instead. On a method the annotation declares a
 * {@code @Model} layer, which {@link ModelStep} handles.
 *
 * @param <S> the validated layer
 */
abstract class LayerInterfaceStep<S> extends ProcessingStep {
  protected final GeneratedFiles files;
  private final ConvolutionKind<S> kind;
  private final String[] baseClasses;

  /**
   * @param baseClasses the qualified names of the runtime classes the generated classes extend, whose
   *     methods the interface must be able to live with
   */
  LayerInterfaceStep(ProcessingEnvironment env, GeneratedFiles files, ConvolutionKind<S> kind,
      String... baseClasses) {
    super(env);
    this.files = files;
    this.kind = kind;
    this.baseClasses = baseClasses;
  }

  @Override
  public final String annotation() {
    return kind.qualifiedAnnotation();
  }

  @Override
  protected final void process(Element element, AnnotationReader annotation) {
    if (element.getKind() == ElementKind.METHOD) {
      return;
    }
    Report report = new Report();
    Optional<S> spec = targets.checkLayerInterface(element, kind.annotation(), report, baseClasses)
        ? kind.validate(annotation, null, report) : Optional.empty();
    if (spec.isEmpty()) {
      Diagnostics.print(env.getMessager(), element, annotation, report);
      return;
    }
    write((TypeElement) element, spec.get());
  }

  /** Writes the classes of {@code spec} for {@code type} unless they would take over one of its methods. */
  protected abstract void write(TypeElement type, S spec);
}
