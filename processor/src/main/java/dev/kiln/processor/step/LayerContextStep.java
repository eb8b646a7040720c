package dev.kiln.processor.step;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.element.Diagnostics;
import dev.kiln.processor.layer.LayerKind;
import dev.kiln.processor.validation.Messages;
import java.util.function.UnaryOperator;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;

/**
 * An annotation that only means something on a layer method of a {@code @Model} (a layer kind, or
 * {@code @KeyPrefix}), which {@link ModelStep} reads; this step reports it on a method of any other interface.
 */
public final class LayerContextStep extends ProcessingStep {
  private final String annotation;
  private final UnaryOperator<String> outsideModel;

  private LayerContextStep(ProcessingEnvironment env, String annotation, UnaryOperator<String> outsideModel) {
    super(env);
    this.annotation = annotation;
    this.outsideModel = outsideModel;
  }

  /** The step for a layer kind's annotation. */
  public static LayerContextStep layer(ProcessingEnvironment env, LayerKind kind) {
    return new LayerContextStep(env, kind.qualifiedAnnotation(),
        method -> Messages.layerOutsideModel(kind.annotation(), method));
  }

  /** The step for {@code @KeyPrefix}. */
  public static LayerContextStep keyPrefix(ProcessingEnvironment env) {
    return new LayerContextStep(env, ModelStep.KEY_PREFIX, Messages::keyPrefixOutsideModel);
  }

  @Override
  public String annotation() {
    return annotation;
  }

  @Override
  protected void process(Element element, AnnotationReader annotation) {
    if (element.getKind() != ElementKind.METHOD) {
      return;
    }
    Element owner = element.getEnclosingElement();
    if (AnnotationReader.of(owner, ModelStep.ANNOTATION, env.getElementUtils()).isEmpty()) {
      Diagnostics.error(env.getMessager(), element, annotation,
          outsideModel.apply(owner.getSimpleName() + "." + element.getSimpleName() + "()"));
    }
  }
}
