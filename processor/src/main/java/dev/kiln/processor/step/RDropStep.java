package dev.kiln.processor.step;

import dev.kiln.processor.validation.Messages;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;
import javax.tools.Diagnostic;

/** {@code @RDrop} is read by {@link ModelStep}; this step only reports it on anything that is not a {@code @Model}. */
public final class RDropStep implements Step {
  private final ProcessingEnvironment env;

  public RDropStep(ProcessingEnvironment env) {
    this.env = env;
  }

  @Override
  public String annotation() {
    return ModelStep.PKG + "RDrop";
  }

  @Override
  public void process(Element element) {
    if (AnnotationReader.of(element, ModelStep.ANNOTATION, env.getElementUtils()).isEmpty()) {
      AnnotationReader.of(element, annotation(), env.getElementUtils()).ifPresent(r ->
          env.getMessager().printMessage(Diagnostic.Kind.ERROR, Messages.rdropTarget(), element, r.mirror()));
    }
  }
}
