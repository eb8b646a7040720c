package dev.kiln.processor.step;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.element.Diagnostics;
import dev.kiln.processor.validation.Messages;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;

/** {@code @RDrop} is read by {@link ModelStep}; this step only reports it on anything that is not a {@code @Model}. */
public final class RDropStep extends ProcessingStep {
  static final String ANNOTATION = "dev.kiln.annotation.RDrop";

  public RDropStep(ProcessingEnvironment env) {
    super(env);
  }

  @Override
  public String annotation() {
    return ANNOTATION;
  }

  @Override
  protected void process(Element element, AnnotationReader annotation) {
    if (AnnotationReader.of(element, ModelStep.ANNOTATION, env.getElementUtils()).isEmpty()) {
      Diagnostics.error(env.getMessager(), element, annotation, Messages.rdropTarget());
    }
  }
}
