package dev.kiln.processor;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import com.google.testing.compile.Compilation;
import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.processor.testing.ConvCase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.tools.JavaFileObject;
import org.junit.jupiter.api.Test;

/**
 * The code volume the processor generates is a budget: javac compiles every generated line in the user's
 * build (the target: 100 layers in under 5 s of added javac time; {@code CompileTimeBenchmark} measures it).
 * Twenty layers of the benchmark's mix (RepVGG-like 3x3 convolutions, strides 2, pointwise, depthwise,
 * grouped, dilated, the three non-zero padding modes, larger windows) must stay within the committed
 * lines per layer; a change that adds generated code has to raise the budget here, on purpose.
 */
class GeneratedVolumeTest {
  /** The most generated lines per layer on average over {@link #layers()} (about 476 now). */
  private static final int LINES_PER_LAYER_BUDGET = 500;

  /** The most lines of the most common kernel, a 3x3 padding-1 convolution (about 468 now). */
  private static final int LINES_3X3_BUDGET = 490;

  /** The most lines of the largest kernel of the mix, a 7x7 stride-2 stem (about 665 now). */
  private static final int LINES_7X7_BUDGET = 735;

  private static ConvCase conv(String name, int in, int out, int k, int stride, String padding, int dilation,
      int groups, boolean bias, PaddingMode mode, Activation activation, int size) {
    return new ConvCase(name, in, out, new int[] {k}, new int[] {stride}, padding, new int[] {dilation}, groups,
        bias, mode, activation, size, size, 1);
  }

  private static ConvCase conv(String name, int in, int out, int k, int stride, String padding, int groups,
      int size) {
    return conv(name, in, out, k, stride, padding, 1, groups, true, PaddingMode.ZEROS, Activation.NONE, size);
  }

  /** The mix: as in the benchmark, mostly 3x3 padding 1, then one of each other family. */
  static List<ConvCase> layers() {
    List<ConvCase> c = new ArrayList<>();
    c.add(conv("C64At56", 64, 64, 3, 1, "1", 1, 56));
    c.add(conv("C48At56", 48, 48, 3, 1, "1", 1, 56));
    c.add(conv("C96At28", 96, 96, 3, 1, "1", 1, 28));
    c.add(conv("C192At14", 192, 192, 3, 1, "1", 1, 14));
    c.add(conv("C16x32At14", 16, 32, 3, 1, "1", 1, 14));
    c.add(conv("Tiny", 2, 2, 3, 1, "1", 1, 9));
    c.add(conv("Grouped", 2, 4, 3, 1, "1", 2, 9));
    c.add(conv("Stem3x48At224", 3, 48, 3, 2, "1", 1, 224));
    c.add(conv("Down32At28", 32, 64, 3, 2, "1", 1, 28));
    c.add(conv("Pw64At56", 64, 64, 1, 1, "0", 1, 56));
    c.add(conv("DownPw32At28", 32, 64, 1, 2, "0", 1, 28));
    c.add(conv("Dw32At56", 32, 32, 3, 1, "1", 32, 56));
    c.add(conv("G4C64At28", 64, 64, 3, 1, "1", 4, 28));
    c.add(conv("Dil2C32At28", 32, 32, 3, 1, "2", 2, 1, true, PaddingMode.ZEROS, Activation.NONE, 28));
    c.add(conv("Reflect16At56", 16, 16, 3, 1, "1", 1, 1, true, PaddingMode.REFLECT, Activation.NONE, 56));
    c.add(conv("Replicate24At28", 24, 24, 3, 1, "1", 1, 1, true, PaddingMode.REPLICATE, Activation.NONE, 28));
    c.add(conv("Circular32At14", 32, 32, 3, 1, "1", 1, 1, true, PaddingMode.CIRCULAR, Activation.NONE, 14));
    c.add(conv("SameRelu64At28", 64, 64, 3, 1, "same", 1, 1, false, PaddingMode.ZEROS, Activation.RELU, 28));
    c.add(conv("K5C32At14", 32, 32, 5, 1, "2", 1, 14));
    c.add(conv("Stem7x64At224", 3, 64, 7, 2, "3", 1, 224));
    return c;
  }

  @Test
  void generatedLinesStayWithinTheBudget() {
    List<ConvCase> layers = layers();
    Compilation compilation = ConvCase.compile("dev.kiln.volume", "Mix", layers);
    Map<String, Integer> lines = new LinkedHashMap<>();
    for (JavaFileObject f : compilation.generatedSourceFiles()) {
      lines.put(simpleName(f), lineCount(f));
    }
    assertThat(lines).hasSize(layers.size());
    int total = 0;
    for (ConvCase c : layers) {
      Integer n = lines.get("Mix_" + c.name() + "Kernel");
      assertWithMessage("generated %s", c.name()).that(n).isNotNull();
      assertWithMessage("%s: lines of a 1x1 kernel (no border, one tap) are the fixed part", c.name())
          .that(n).isAtLeast(150);
      total += n;
    }
    assertWithMessage("generated lines per layer (total %s over %s layers; per kernel: %s)", total, layers.size(),
        lines).that((double) total / layers.size()).isAtMost((double) LINES_PER_LAYER_BUDGET);
    assertWithMessage("lines of a 3x3 padding-1 kernel").that(lines.get("Mix_C64At56Kernel"))
        .isAtMost(LINES_3X3_BUDGET);
    assertWithMessage("lines of the 7x7 stem").that(lines.get("Mix_Stem7x64At224Kernel"))
        .isAtMost(LINES_7X7_BUDGET);
  }

  private static String simpleName(JavaFileObject f) {
    String path = f.toUri().getPath();
    return path.substring(path.lastIndexOf('/') + 1, path.length() - ".java".length());
  }

  private static int lineCount(JavaFileObject f) {
    try {
      CharSequence text = f.getCharContent(true);
      int n = 0;
      for (int i = 0; i < text.length(); i++) {
        if (text.charAt(i) == '\n') {
          n++;
        }
      }
      return n;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
