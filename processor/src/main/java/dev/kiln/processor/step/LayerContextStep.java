package dev.kiln.processor.step;

import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;

/**
 * The network-only layer annotations ({@code @Linear}, {@code @ReLU}, ...): they have nothing to generate on
 * their own, so this step only reports them when they are used outside a {@code @Model} interface.
 */
public final class LayerContextStep implements Step {
  private final ProcessingEnvironment env;
  private final String simpleName;

  public LayerContextStep(ProcessingEnvironment env, String simpleName) {
    this.env = env;
    this.simpleName = simpleName;
  }

  @Override
  public String annotation() {
    return ModelStep.PKG + simpleName;
  }

  @Override
  public void process(Element element) {
    ModelStep.checkLayerContext(env, element, simpleName);
  }
}
