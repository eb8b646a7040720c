package dev.kiln.processor.step;

import dev.kiln.processor.validation.Report;
import javax.annotation.processing.Messager;
import javax.lang.model.element.Element;
import javax.tools.Diagnostic;

/** Prints a {@link Report} as compile errors on the annotation, and on the offending value where javac allows. */
public final class Diagnostics {
  private Diagnostics() {}

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
}
