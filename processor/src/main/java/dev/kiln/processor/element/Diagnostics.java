package dev.kiln.processor.element;

import dev.kiln.processor.validation.Report;
import javax.annotation.processing.Messager;
import javax.lang.model.element.Element;
import javax.tools.Diagnostic;

/**
 * Prints compile errors where the user will look: a {@link Report} on the annotation and, where javac
 * allows, on the offending value; other errors on the annotation or on the element itself.
 */
public final class Diagnostics {
  private Diagnostics() {}

  /** Every item of {@code report}: on its attribute's value when the user wrote one, else on the annotation. */
  public static void print(Messager messager, Element element, AnnotationReader reader, Report report) {
    for (Report.Item item : report.items()) {
      if (item.attribute().isEmpty() || reader.explicitValue(item.attribute()).isEmpty()) {
        messager.printMessage(Diagnostic.Kind.ERROR, item.message(), element, reader.mirror());
      } else {
        messager.printMessage(Diagnostic.Kind.ERROR, item.message(), element, reader.mirror(),
            reader.explicitValue(item.attribute()).get());
      }
    }
  }

  /** One error on the annotation {@code reader} reads. */
  public static void error(Messager messager, Element element, AnnotationReader reader, String message) {
    messager.printMessage(Diagnostic.Kind.ERROR, message, element, reader.mirror());
  }

  /** One error on {@code element} itself (a method or a type rather than one of its annotations). */
  public static void error(Messager messager, Element element, String message) {
    messager.printMessage(Diagnostic.Kind.ERROR, message, element);
  }
}
