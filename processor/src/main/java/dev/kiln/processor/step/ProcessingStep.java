package dev.kiln.processor.step;

import dev.kiln.processor.element.AnnotationReader;
import dev.kiln.processor.element.Diagnostics;
import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.TypeSpec;
import dev.kiln.processor.validation.Messages;
import dev.kiln.processor.validation.TargetInterfaceValidator;
import dev.kiln.processor.writing.GeneratedMembers;
import java.util.List;
import java.util.Set;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.TypeElement;

/**
 * One annotation's processing, element by element: reads the annotation on each element, leaves values
 * javac already reports as broken to javac, and turns an exception from one element into a
 * {@code [kiln.internal]} error on that element, so that one bad element never stops the others.
 */
public abstract class ProcessingStep {
  protected final ProcessingEnvironment env;
  protected final TargetInterfaceValidator targets;

  protected ProcessingStep(ProcessingEnvironment env) {
    this.env = env;
    this.targets = new TargetInterfaceValidator(env);
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

  /**
   * Checks that the class about to be written ({@code written}, named {@code name}) takes over no method of
   * the user's interface {@code type} but {@code implemented} (the methods it is meant to implement):
   * reports each on the interface's method.
   */
  protected boolean checkTakenOver(TypeElement type, String annotation, TypeSpec written, ClassName name,
      Set<ExecutableElement> implemented) {
    List<ExecutableElement> taken = targets.takenOver(type, GeneratedMembers.signatures(written), implemented);
    for (ExecutableElement m : taken) {
      Diagnostics.error(env.getMessager(), m, Messages.memberTaken(annotation, type.getSimpleName().toString(),
          m.getSimpleName().toString(), name.canonicalName() + "." + m.getSimpleName() + "()"));
    }
    return taken.isEmpty();
  }
}
