package dev.kiln.processor.step;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.element.Diagnostics;
import dev.kiln.processor.validation.Messages;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;

/**
 * One annotation's processing, element by element: reads the annotation on each element, leaves values
 * javac already reports as broken to javac, and turns an exception from one element into a
 * {@code [kiln.internal]} error on that element, so that one bad element never stops the others.
 */
public abstract class ProcessingStep {
  protected final ProcessingEnvironment env;

  protected ProcessingStep(ProcessingEnvironment env) {
    this.env = env;
  }

  /** The qualified name of the annotation this step handles. */
  public abstract String annotation();

  /** Processes every element of this round that carries {@link #annotation()}. */
  public final void process(Iterable<? extends Element> elements) {
    for (Element element : elements) {
      try {
        AnnotationReader reader = AnnotationReader.of(element, annotation(), env.getElementUtils()).orElseThrow();
        if (!reader.hasErroneousValue()) {
          process(element, reader);
        }
      } catch (RuntimeException e) {
        Diagnostics.error(env.getMessager(), element, Messages.internal(element.toString(), e));
      }
    }
  }

  /**
   * Validates one element and generates what it declares; reports every problem through the messager
   * (see {@link Diagnostics}) and generates nothing for an invalid element.
   *
   * @param annotation the element's {@link #annotation()}, whose values are all well-typed
   */
  protected abstract void process(Element element, AnnotationReader annotation);
}
