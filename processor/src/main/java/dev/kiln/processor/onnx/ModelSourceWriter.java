package dev.kiln.processor.onnx;

import com.palantir.javapoet.AnnotationSpec;
import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.CodeBlock;
import com.palantir.javapoet.JavaFile;
import com.palantir.javapoet.MethodSpec;
import com.palantir.javapoet.TypeSpec;
import java.util.Arrays;
import java.util.Map;
import javax.lang.model.SourceVersion;
import javax.lang.model.element.Modifier;

/**
 * Writes the {@code @Model} interface of an {@link ImportedNetwork}: one abstract method per layer, in order,
 * carrying its layer annotation with every attribute that differs from the default, and a Javadoc naming the
 * ONNX nodes it came from. The processor then generates {@code <Name>Model} from it as from any hand-written
 * {@code @Model}.
 *
 * <p>Text that comes from the file (producer, node names) or from outside (file names) appears only in Javadoc,
 * and only through {@link #javadocText}; names of code are checked to be Java names, and attribute values are
 * numbers, booleans, enum constants or string literals ({@code $S}). So the source declares exactly the
 * interface, whatever the file holds.
 */
public final class ModelSourceWriter {
  private static final String ANNOTATION = "dev.kiln.annotation";
  private static final ClassName MODULE = ClassName.get("dev.kiln.nn", "Module");
  /** The most characters of one piece of text in the Javadoc. */
  static final int MAX_TEXT = UnsupportedGraphException.MAX_MESSAGE;

  private ModelSourceWriter() {}

  /**
   * The Java source of interface {@code packageName.name}.
   *
   * @param origin the ONNX file's name, for the Javadoc
   * @param weights the weights file's name, for the Javadoc
   */
  public static String write(ImportedNetwork network, String packageName, String name, String origin,
      String weights) {
    if (!packageName.isEmpty() && !SourceVersion.isName(packageName)) {
      throw new IllegalArgumentException("not a package name: " + javadocText(packageName));
    }
    if (!SourceVersion.isIdentifier(name) || SourceVersion.isKeyword(name)) {
      throw new IllegalArgumentException("not a Java identifier: " + javadocText(name));
    }
    TypeSpec.Builder type = TypeSpec.interfaceBuilder(name)
        .addModifiers(Modifier.PUBLIC)
        .addJavadoc("Imported from <code>$L</code> ($L) by {@code kiln-cli import}.\n\n"
            + "<p>Weights: <code>$L</code> (state-dict keys {@code <method>.<key>}); load them with\n"
            + "{@code new $LModel().loadStateDict(SafeTensors.read(path))}.\n", javadocText(origin),
            javadocText(network.source()), javadocText(weights), name)
        .addAnnotation(AnnotationSpec.builder(ClassName.get(ANNOTATION, "Model"))
            .addMember("input", "$L", ints(network.input())).build());
    for (ImportedNetwork.Layer layer : network.layers()) {
      AnnotationSpec.Builder a = AnnotationSpec.builder(ClassName.bestGuess(layer.kind().qualifiedAnnotation()));
      for (Map.Entry<String, Object> e : layer.attributes().entrySet()) {
        a.addMember(e.getKey(), value(e.getValue()));
      }
      type.addMethod(MethodSpec.methodBuilder(layer.method())
          .addModifiers(Modifier.PUBLIC, Modifier.ABSTRACT)
          .returns(MODULE)
          .addAnnotation(a.build())
          .addJavadoc("From $L.\n", javadocText(String.join(", ", layer.nodes())))
          .build());
    }
    return JavaFile.builder(packageName, type.build()).skipJavaLangImports(true).indent("  ").build().toString();
  }

  /**
   * Text from a file (producer, node names) or from outside (file names) made inert inside a Javadoc comment:
   * printable ASCII is kept but for the backslash, {@code *}, {@code @}, {@code &}, {@code <} and {@code >};
   * those and every other character (line terminators, control and format characters, all of non-ASCII) become
   * HTML character references, which javac leaves alone and Javadoc shows as the character. So the text cannot
   * close the comment, spell a unicode escape (which javac decodes anywhere, comments included, whatever the
   * number of u's), break the line, start a block tag or open an HTML element. Cut after {@link #MAX_TEXT}
   * characters ("..." marks the cut).
   */
  static String javadocText(String text) {
    StringBuilder s = new StringBuilder(Math.min(text.length(), MAX_TEXT) + 16);
    for (int i = 0; i < text.length(); ) {
      if (s.length() >= MAX_TEXT) {
        return s.append("...").toString();
      }
      int c = text.codePointAt(i);
      i += Character.charCount(c);
      if (c >= 0x20 && c < 0x7f && "\\*@&<>".indexOf(c) < 0) {
        s.append((char) c);
      } else {
        s.append("&#").append(c).append(';');
      }
    }
    return s.toString();
  }

  private static CodeBlock value(Object v) {
    if (v instanceof int[] array) {
      return CodeBlock.of("$L", ints(array));
    } else if (v instanceof String s) {
      return CodeBlock.of("$S", s);
    } else if (v instanceof OnnxImporter.EnumValue e && SourceVersion.isIdentifier(e.type())
        && SourceVersion.isIdentifier(e.name())) {
      return CodeBlock.of("$T.$L", ClassName.get(ANNOTATION, e.type()), e.name());
    } else if (v instanceof Integer || v instanceof Boolean
        || v instanceof Double d && Double.isFinite(d)) {
      return CodeBlock.of("$L", v);
    }
    throw new IllegalArgumentException("not an annotation value: " + javadocText(String.valueOf(v)));
  }

  private static String ints(int[] values) {
    return values.length == 1 ? Integer.toString(values[0])
        : Arrays.toString(values).replace('[', '{').replace(']', '}');
  }
}
