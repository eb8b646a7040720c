package dev.kiln.processor.step;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.element.Diagnostics;
import dev.kiln.processor.layer.LayerKind;
import dev.kiln.processor.validation.Messages;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;

/**
 * A layer annotation on a method declares a layer of the enclosing {@code @Model} (which {@link ModelStep}
 * builds); this step reports it on a method of any other interface.
 */
public final class LayerContextStep extends ProcessingStep {
  private final LayerKind kind;

  public LayerContextStep(ProcessingEnvironment env, LayerKind kind) {
    super(env);
    this.kind = kind;
  }

  @Override
  public String annotation() {
    return kind.qualifiedAnnotation();
  }

  @Override
  protected void process(Element element, AnnotationReader annotation) {
    if (element.getKind() != ElementKind.METHOD) {
      return;
    }
    Element owner = element.getEnclosingElement();
    if (AnnotationReader.of(owner, ModelStep.ANNOTATION, env.getElementUtils()).isEmpty()) {
      Diagnostics.error(env.getMessager(), element, annotation, Messages.layerOutsideModel(kind.annotation(),
          owner.getSimpleName() + "." + element.getSimpleName() + "()"));
    }
  }
}
