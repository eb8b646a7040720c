package dev.kiln.processor.writing;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.CodeBlock;
import com.palantir.javapoet.JavaFile;
import com.palantir.javapoet.MethodSpec;
import com.palantir.javapoet.TypeSpec;
import org.junit.jupiter.api.Test;

/** {@link Body} writes the same text as JavaPoet's code methods would. */
class BodyTest {
  private static final ClassName ARRAYS = ClassName.get("java.util", "Arrays");

  /** The same method body through JavaPoet and through {@link Body}. */
  @Test
  void rendersLikeJavaPoet() {
    MethodSpec.Builder poet = MethodSpec.methodBuilder("f");
    poet.addStatement("float acc = 0f");
    poet.beginControlFlow("for (int i = $L; i < $L; i++)", 0, "n");
    poet.addComment("a comment");
    poet.beginControlFlow("if (i < 0)").addStatement("continue");
    poet.nextControlFlow("else if (i >= $L)", 9).addStatement("break");
    poet.endControlFlow();
    poet.addStatement("$T.fill(y, 0, 4, 0f)", ARRAYS);
    poet.addStatement("acc += $L", "x[i]\n    + x[i + 1]");
    poet.endControlFlow();

    Body body = new Body();
    body.addStatement("float acc = 0f");
    body.beginControlFlow("for (int i = $L; i < $L; i++)", 0, "n");
    body.addComment("a comment");
    body.beginControlFlow("if (i < 0)").addStatement("continue");
    body.nextControlFlow("else if (i >= $L)", 9).addStatement("break");
    body.endControlFlow();
    body.addTypedStatement("$T.fill(y, 0, 4, 0f)", ARRAYS);
    body.addStatement("acc += $L", "x[i]\n    + x[i + 1]");
    body.endControlFlow();
    MethodSpec.Builder text = MethodSpec.methodBuilder("f").addCode(body.build());

    String expected = render(poet.build());
    assertThat(render(text.build())).isEqualTo(expected);
    assertThat(expected).contains("import java.util.Arrays;");
    assertThat(expected).contains("      Arrays.fill(y, 0, 4, 0f);\n");
    assertThat(expected).contains("      acc += x[i]\n              + x[i + 1];\n");
  }

  private static String render(MethodSpec method) {
    return JavaFile.builder("p", TypeSpec.classBuilder("C").addMethod(method).build())
        .indent(Body.INDENT)
        .build()
        .toString();
  }

  @Test
  void formatFillsOnlyDollarL() {
    assertThat(Body.format("a[$L] = $L", "i + 1", 2.5f)).isEqualTo("a[i + 1] = 2.5");
    assertThat(Body.format("no placeholders")).isEqualTo("no placeholders");
    assertThrows(IllegalArgumentException.class, () -> Body.format("$T.fill()", ARRAYS));
    assertThrows(IllegalArgumentException.class, () -> Body.format("$L + $L", 1));
    assertThrows(IllegalArgumentException.class, () -> Body.format("$L", 1, 2));
    assertThrows(IllegalArgumentException.class, () -> Body.format("trailing $", 1));
  }

  @Test
  void controlFlowMustBeBalanced() {
    Body open = new Body().beginControlFlow("while (true)");
    assertThrows(IllegalStateException.class, open::build);
    assertThrows(IllegalStateException.class, () -> new Body().endControlFlow());
    CodeBlock empty = new Body().build();
    assertThat(empty.isEmpty()).isTrue();
  }
}
