package dev.kiln.samples.benchmark;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The layers that {@link CompileTimeBenchmark} compiles: a deterministic mix of distinct {@code @Conv2d}
 * declarations, first the benchmark suite's layers ({@link ConvShape}, written as {@link Shapes} declares
 * them), then RepVGG-like variations in a fixed
 * rotation: 3x3 padding 1 at various channel counts and sizes, 3x3 and 1x1 stride-2 downsampling, 1x1
 * pointwise, depthwise and grouped 3x3, dilation 2, reflect/replicate/circular padding, {@code "same"}
 * padding with a fused ReLU and no bias, and a few larger windows (5x5, 7x7 stems).
 */
final class CompileTimeLayers {
  private CompileTimeLayers() {}

  /**
   * One {@code @Conv2d} interface.
   *
   * @param name the interface's simple name, unique within the file
   * @param annotation the annotation's attributes as source text (inside the parentheses)
   */
  record Layer(String name, String annotation) {}

  private static final int[] CHANNELS = {16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 8};
  private static final int[] SIZES = {56, 28, 14, 7, 112, 32, 16, 8};
  private static final String[] MODES = {"REFLECT", "REPLICATE", "CIRCULAR"};

  /**
   * The rotation of layer families after the suite; plain 3x3 padding 1 (family 0) is the most common,
   * as in a RepVGG network.
   */
  private static final int[] ROTATION = {0, 1, 2, 0, 3, 9, 0, 4, 5, 0, 6, 7, 0, 2, 8};

  /** The first {@code n} layers of the mix, all distinct. */
  static List<Layer> mix(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("layers: expected at least 1 but got " + n);
    }
    List<Layer> out = new ArrayList<>(n);
    Set<String> seen = new LinkedHashSet<>();
    for (ConvShape shape : ConvShape.values()) {
      String[] layer = conv(shape.interfaceName(), shape.inChannels(), shape.outChannels(), shape.kernel(),
          shape.stride(), Integer.toString(shape.padding()), 1, shape.groups(), shape.size(), "");
      if (out.size() < n && seen.add(layer[1])) { // the batch-32 variants share their layer
        out.add(new Layer(String.format(Locale.ROOT, "L%03d_%s", out.size(), layer[0]), layer[1]));
      }
    }
    int[] uses = new int[10];
    for (int step = 0; out.size() < n; step++) {
      int family = ROTATION[step % ROTATION.length];
      int v = uses[family]++;
      String[] layer = family(family, v);
      // The rotation revisits each family with new parameters; a repeat gets a different size instead.
      for (int bump = 1; !seen.add(layer[1]); bump++) {
        layer = family(family, v + bump * 7919);
      }
      out.add(new Layer(String.format(Locale.ROOT, "L%03d_%s", out.size(), layer[0]), layer[1]));
    }
    return out;
  }

  /** The {@code v}-th variation of one family: {@code {name, attributes}}. */
  private static String[] family(int family, int v) {
    int c = CHANNELS[v % CHANNELS.length];
    int s = SIZES[(v / CHANNELS.length + v) % SIZES.length] + v / (CHANNELS.length * SIZES.length);
    return switch (family) {
      case 0 -> conv("C" + c + "At" + s, c, c, 3, 1, "1", 1, 1, s, "");
      case 1 -> conv("Down" + c + "At" + s, c, 2 * c, 3, 2, "1", 1, 1, s, "");
      case 2 -> conv("Pw" + c + "At" + s, c, 2 * c, 1, 1, "0", 1, 1, s, "");
      case 3 -> conv("Dw" + c + "At" + s, c, c, 3, 1, "1", 1, c, s, "");
      case 4 -> {
        int g = v % 2 == 0 ? 2 : 4;
        yield conv("G" + g + "C" + c + "At" + s, c, c, 3, 1, "1", 1, g, s, "");
      }
      case 5 -> conv("Dil2C" + c + "At" + s, c, c, 3, 1, "2", 2, 1, s, "");
      case 6 -> {
        String mode = MODES[v % MODES.length];
        yield conv(mode.charAt(0) + mode.substring(1).toLowerCase(Locale.ROOT) + c + "At" + s, c, c, 3, 1, "1", 1,
            1, s, ", paddingMode = PaddingMode." + mode);
      }
      case 7 -> conv("SameRelu" + c + "At" + s, c, c, 3, 1, "\"same\"", 1, 1, s,
          ", bias = false, activation = Activation.RELU");
      case 8 -> v % 2 == 0
          ? conv("K5C" + c + "At" + s, c, c, 5, 1, "2", 1, 1, s, "")
          : conv("Stem7x" + c + "At" + (4 * s), 3, c, 7, 2, "3", 1, 1, 4 * s, "");
      case 9 -> conv("DownPw" + c + "At" + s, c, 2 * c, 1, 2, "0", 1, 1, s, "");
      default -> throw new AssertionError(family);
    };
  }

  private static String[] conv(String name, int in, int out, int k, int stride, String padding, int dilation,
      int groups, int size, String extra) {
    StringBuilder a = new StringBuilder();
    a.append("inChannels = ").append(in).append(", outChannels = ").append(out).append(", kernelSize = ").append(k);
    if (stride != 1) {
      a.append(", stride = ").append(stride);
    }
    a.append(", padding = ").append(padding.startsWith("\"") ? padding : "\"" + padding + "\"");
    if (dilation != 1) {
      a.append(", dilation = ").append(dilation);
    }
    if (groups != 1) {
      a.append(", groups = ").append(groups);
    }
    a.append(", height = ").append(size).append(", width = ").append(size).append(extra);
    return new String[] {name, a.toString()};
  }

  /** The source text of one file declaring {@code layers} as nested interfaces of {@code pkg.className}. */
  static String source(String pkg, String className, List<Layer> layers) {
    StringBuilder src = new StringBuilder();
    src.append("package ").append(pkg).append(";\n\n");
    src.append("import dev.kiln.annotation.Activation;\n");
    src.append("import dev.kiln.annotation.Conv2d;\n");
    src.append("import dev.kiln.annotation.PaddingMode;\n\n");
    src.append("/** ").append(layers.size()).append(" {@code @Conv2d} layers for Kiln's compile-time benchmark. */\n");
    src.append("public final class ").append(className).append(" {\n");
    src.append("  private ").append(className).append("() {}\n");
    for (Layer layer : layers) {
      src.append("\n  @Conv2d(").append(layer.annotation()).append(")\n");
      src.append("  public interface ").append(layer.name()).append(" {}\n");
    }
    src.append("}\n");
    return src.toString();
  }
}
