package dev.kiln.processor.onnx;

import com.palantir.javapoet.AnnotationSpec;
import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.CodeBlock;
import com.palantir.javapoet.JavaFile;
import com.palantir.javapoet.MethodSpec;
import com.palantir.javapoet.TypeSpec;
import java.util.Arrays;
import java.util.Map;
import javax.lang.model.element.Modifier;

/**
 * Writes the {@code @Model} interface of an {@link ImportedNetwork}: one abstract method per layer, in order,
 * carrying its layer annotation with every attribute that differs from the default, and a Javadoc naming the
 * ONNX nodes it came from. The processor then generates {@code <Name>Model} from it as from any hand-written
 * {@code @Model}.
 */
public final class ModelSourceWriter {
  private static final String ANNOTATION = "dev.kiln.annotation";
  private static final ClassName MODULE = ClassName.get("dev.kiln.nn", "Module");

  private ModelSourceWriter() {}

  /**
   * The Java source of interface {@code packageName.name}.
   *
   * @param origin the ONNX file's name, for the Javadoc
   * @param weights the weights file's name, for the Javadoc
   */
  public static String write(ImportedNetwork network, String packageName, String name, String origin,
      String weights) {
    TypeSpec.Builder type = TypeSpec.interfaceBuilder(name)
        .addModifiers(Modifier.PUBLIC)
        .addJavadoc("Imported from {@code $L} ($L) by {@code kiln-cli import}.\n\n"
            + "<p>Weights: {@code $L} (state-dict keys {@code <method>.<key>}); load them with\n"
            + "{@code new $LModel().loadStateDict(SafeTensors.read(path))}.\n", origin, network.source(), weights, name)
        .addAnnotation(AnnotationSpec.builder(ClassName.get(ANNOTATION, "Model"))
            .addMember("input", "$L", ints(network.input())).build());
    for (ImportedNetwork.Layer layer : network.layers()) {
      AnnotationSpec.Builder a = AnnotationSpec.builder(ClassName.get(ANNOTATION, layer.annotation()));
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
   * Text read from the file (node names) made safe inside a Javadoc comment: one line, and no {@code *}{@code /},
   * {@code @} or backslash (javac reads unicode escapes even in comments, so a name could otherwise close the
   * comment).
   */
  static String javadocText(String text) {
    return UnsupportedGraphException.oneLine(text).replace("\\", "&#92;").replace("*/", "*&#47;")
        .replace("@", "&#64;");
  }

  private static CodeBlock value(Object v) {
    if (v instanceof int[] array) {
      return CodeBlock.of("$L", ints(array));
    } else if (v instanceof String s) {
      return CodeBlock.of("$S", s);
    } else if (v instanceof OnnxImporter.EnumValue e) {
      return CodeBlock.of("$T.$L", ClassName.get(ANNOTATION, e.type()), e.name());
    }
    return CodeBlock.of("$L", v);
  }

  private static String ints(int[] values) {
    return values.length == 1 ? Integer.toString(values[0])
        : Arrays.toString(values).replace('[', '{').replace(']', '}');
  }
}
