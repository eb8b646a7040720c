package dev.kiln.processor.step;

import javax.lang.model.element.Element;

/** One annotation family: validate each annotated element, then generate for the valid ones. */
public interface Step {
  /** The qualified name of the annotation this step handles. */
  String annotation();

  /** Handles one annotated element; reports problems through the messager instead of throwing. */
  void process(Element element);
}
