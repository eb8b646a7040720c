package dev.kiln.processor.writing;

import com.palantir.javapoet.AnnotationSpec;
import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.JavaFile;
import com.palantir.javapoet.TypeSpec;
import dev.kiln.processor.validation.Messages;
import java.io.IOException;
import java.io.Writer;
import java.util.HashMap;
import java.util.Map;
import javax.annotation.processing.Filer;
import javax.annotation.processing.Messager;
import javax.lang.model.element.TypeElement;
import javax.tools.Diagnostic;
import javax.tools.JavaFileObject;

/**
 * The source files one compilation generates: every class goes out with {@code @Generated} and exactly one
 * originating element (the user's interface), once. Remembers which interface each class was written for,
 * so that two interfaces that map to one class name ({@code p.Outer.Foo} and a top-level
 * {@code p.Outer_Foo}) are a {@code [kiln.name-clash]} error instead of a second file.
 */
public final class GeneratedFiles {
  static final ClassName GENERATED = ClassName.get("javax.annotation.processing", "Generated");
  static final String PROCESSOR = "dev.kiln.processor.KilnProcessor";

  private final Filer filer;
  private final Messager messager;
  /** Generated class name -> the interface it was generated for. */
  private final Map<String, String> written = new HashMap<>();

  public GeneratedFiles(Filer filer, Messager messager) {
    this.filer = filer;
    this.messager = messager;
  }

  /** {@code p.Foo -> p.FooKernel}, {@code p.Outer.Foo -> p.Outer_FooKernel}. */
  public static ClassName nameFor(TypeElement type, String suffix) {
    ClassName name = ClassName.get(type);
    return ClassName.get(name.packageName(), String.join("_", name.simpleNames()) + suffix);
  }

  /** Writes {@code type} as {@code name}, generated for {@code origin}; reports a clash or an I/O failure. */
  public void write(TypeElement origin, ClassName name, TypeSpec type) {
    String previous = written.putIfAbsent(name.canonicalName(), origin.getQualifiedName().toString());
    if (previous != null && !previous.contentEquals(origin.getQualifiedName())) {
      messager.printMessage(Diagnostic.Kind.ERROR, Messages.nameClash(name.canonicalName(), previous), origin);
      return;
    }
    TypeSpec withMeta = type.toBuilder()
        .addAnnotation(AnnotationSpec.builder(GENERATED).addMember("value", "$S", PROCESSOR).build())
        .addOriginatingElement(origin)
        .avoidClashesWithNestedClasses(origin) // a nested type named like an import must not shadow it
        .build();
    JavaFile file = JavaFile.builder(name.packageName(), withMeta)
        .skipJavaLangImports(true)
        .indent("  ")
        .build();
    try {
      // Rendered to a string and written in one call: JavaPoet's writeTo(Filer) sends every token through
      // the Filer's writer and its character encoder, which costs a cold javac more than the rendering.
      String text = file.toString();
      JavaFileObject source = filer.createSourceFile(name.canonicalName(), origin);
      try (Writer writer = source.openWriter()) {
        writer.write(text);
      }
    } catch (IOException e) {
      messager.printMessage(Diagnostic.Kind.ERROR, Messages.writeFailed(name.canonicalName(), e), origin);
    }
  }
}
