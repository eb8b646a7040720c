package dev.kiln.processor.step;

import com.palantir.javapoet.AnnotationSpec;
import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.JavaFile;
import com.palantir.javapoet.TypeSpec;
import dev.kiln.processor.validation.Messages;
import dev.kiln.processor.validation.Report;
import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import javax.annotation.processing.Filer;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.Modifier;
import javax.lang.model.element.NestingKind;
import javax.lang.model.element.TypeElement;
import javax.lang.model.util.ElementFilter;
import javax.tools.Diagnostic;
import javax.tools.JavaFileObject;

/** Helpers shared by the steps: generated names, the user-interface checks, writing source files. */
public final class Steps {
  static final ClassName GENERATED = ClassName.get("javax.annotation.processing", "Generated");
  static final String PROCESSOR = "dev.kiln.processor.KilnProcessor";

  /**
   * The classes written so far through each Filer (one per compilation), with the interface each was
   * generated for: {@code p.Outer.Foo} and a top-level {@code p.Outer_Foo} map to the same name.
   */
  private static final Map<Filer, Map<String, String>> WRITTEN = new WeakHashMap<>();

  private Steps() {}

  /** {@code p.Foo -> p.FooKernel}, {@code p.Outer.Foo -> p.Outer_FooKernel}. */
  public static ClassName generatedName(TypeElement type, String suffix) {
    ClassName name = ClassName.get(type);
    String simple = String.join("_", name.simpleNames()) + suffix;
    return ClassName.get(name.packageName(), simple);
  }

  /**
   * Checks that a layer annotation sits on an interface that a generated class can implement: an
   * interface, not private, without type parameters, whose abstract methods (if any) are all
   * {@code dev.kiln.nn.Module} methods.
   */
  static boolean checkLayerInterface(Element element, String annotation, Report report) {
    return checkLayerInterface(element, annotation, report, false);
  }

  /**
   * As {@link #checkLayerInterface(Element, String, Report)}; with {@code model} the abstract methods are
   * layer declarations (checked by the model step) rather than foreign methods.
   */
  static boolean checkLayerInterface(Element element, String annotation, Report report, boolean model) {
    if (element.getKind() != ElementKind.INTERFACE) {
      report.error("", Messages.notAnInterface(annotation));
      return false;
    }
    TypeElement type = (TypeElement) element;
    if (!type.getTypeParameters().isEmpty()) {
      report.error("", "[kiln.target] @" + annotation + " interfaces must not have type parameters");
      return false;
    }
    for (Element e = type; e != null && e.getKind() != ElementKind.PACKAGE; e = e.getEnclosingElement()) {
      if (e.getModifiers().contains(Modifier.PRIVATE)) {
        report.error("", "[kiln.target] @" + annotation + " interface " + type.getSimpleName()
            + " must not be private (the generated class in the same package implements it)");
        return false;
      }
      if (e instanceof TypeElement t && t.getNestingKind() == NestingKind.LOCAL) {
        report.error("", "[kiln.target] @" + annotation + " interface must not be local");
        return false;
      }
    }
    List<String> foreign = new ArrayList<>();
    for (ExecutableElement m : ElementFilter.methodsIn(type.getEnclosedElements())) {
      if (!model && m.getModifiers().contains(Modifier.ABSTRACT) && !isModuleMethod(m)) {
        foreign.add(m.getSimpleName().toString());
      }
    }
    if (!foreign.isEmpty()) {
      report.error("", "[kiln.target] @" + annotation + " interface " + type.getSimpleName()
          + " declares abstract methods the generated kernel cannot implement: " + foreign
          + " (only dev.kiln.nn.Module methods are allowed; use default methods for helpers)");
      return false;
    }
    return true;
  }

  private static boolean isModuleMethod(ExecutableElement m) {
    String name = m.getSimpleName().toString();
    int params = m.getParameters().size();
    switch (name) {
      case "forward":
      case "backward":
      case "loadStateDict":
      case "train":
        return params == 1;
      case "isTraining":
      case "namedParameters":
      case "stateDict":
      case "zeroGrad":
      case "eval":
        return params == 0;
      default:
        return false;
    }
  }

  /** Writes {@code type} as {@code name} with {@code @Generated} and one originating element. */
  static void writeSource(ProcessingEnvironment env, TypeElement origin, ClassName name, TypeSpec type) {
    TypeSpec withMeta = type.toBuilder()
        .addAnnotation(AnnotationSpec.builder(GENERATED).addMember("value", "$S", PROCESSOR).build())
        .addOriginatingElement(origin)
        .avoidClashesWithNestedClasses(origin) // a nested type named like an import must not shadow it
        .build();
    JavaFile file = JavaFile.builder(name.packageName(), withMeta)
        .skipJavaLangImports(true)
        .indent("  ")
        .build();
    String previous;
    synchronized (WRITTEN) {
      previous = WRITTEN.computeIfAbsent(env.getFiler(), f -> new HashMap<>())
          .putIfAbsent(name.canonicalName(), origin.getQualifiedName().toString());
    }
    if (previous != null && !previous.contentEquals(origin.getQualifiedName())) {
      env.getMessager().printMessage(Diagnostic.Kind.ERROR, Messages.nameClash(name.canonicalName(), previous),
          origin);
      return;
    }
    try {
      // Rendered to a string and written in one call: JavaPoet's writeTo(Filer) sends every token through
      // the Filer's writer and its character encoder, which costs a cold javac more than the rendering.
      String text = file.toString();
      JavaFileObject source = env.getFiler().createSourceFile(name.canonicalName(), origin);
      try (Writer writer = source.openWriter()) {
        writer.write(text);
      }
    } catch (IOException e) {
      env.getMessager().printMessage(Diagnostic.Kind.ERROR,
          "[kiln.io] could not write " + name + ": " + e.getMessage(), origin);
    }
  }
}
