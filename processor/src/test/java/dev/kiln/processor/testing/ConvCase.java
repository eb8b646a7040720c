package dev.kiln.processor.testing;

import static com.google.testing.compile.CompilationSubject.assertThat;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.JavaFileObjects;
import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.ConvKernel;
import dev.kiln.nn.ReferenceConv2d;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import javax.tools.JavaFileObject;

/**
 * One {@code @Conv2d} test configuration, with its attributes exactly as a user would write them (so
 * {@code kernelSize} may have one or two values and {@code padding} is the string), plus a batch size.
 * Resolves the padding on its own (independently of the processor's model) for the reference layer.
 */
public record ConvCase(
    String name,
    int inChannels,
    int outChannels,
    int[] kernelSize,
    int[] stride,
    String padding,
    int[] dilation,
    int groups,
    boolean bias,
    PaddingMode paddingMode,
    Activation activation,
    int height,
    int width,
    int batch) {

  /** A case from golden metadata: a JSON object with the attribute names as keys plus {@code batch}. */
  public static ConvCase fromJson(String name, Map<String, Object> json) {
    return new ConvCase(name, intOf(json, "inChannels"), intOf(json, "outChannels"), ints(json, "kernelSize"),
        ints(json, "stride"), (String) json.get("padding"), ints(json, "dilation"), intOf(json, "groups"),
        (Boolean) json.get("bias"), PaddingMode.valueOf((String) json.get("paddingMode")),
        Activation.valueOf((String) json.get("activation")), intOf(json, "height"), intOf(json, "width"),
        intOf(json, "batch"));
  }

  private static int intOf(Map<String, Object> json, String key) {
    return integer(key, json.get(key));
  }

  private static int[] ints(Map<String, Object> json, String key) {
    List<?> list = (List<?>) json.get(key);
    return list.stream().mapToInt(o -> integer(key, o)).toArray();
  }

  /** A JSON number (a {@code Double}) that must be an {@code int}. */
  private static int integer(String key, Object v) {
    if (!(v instanceof Double d) || d != (int) d.doubleValue()) {
      throw new IllegalArgumentException("golden metadata: " + key + " is " + v);
    }
    return d.intValue();
  }

  private static int first(int[] v) {
    return v[0];
  }

  private static int second(int[] v) {
    return v.length == 1 ? v[0] : v[1];
  }

  public int kernelH() {
    return first(kernelSize);
  }

  public int kernelW() {
    return second(kernelSize);
  }

  /** {@code {top, bottom, left, right}} as PyTorch resolves the padding string. */
  public int[] resolvedPadding() {
    String p = padding.trim();
    if (p.equals("valid")) {
      return new int[4];
    }
    if (p.equals("same")) {
      int th = first(dilation) * (kernelH() - 1);
      int tw = second(dilation) * (kernelW() - 1);
      return new int[] {th / 2, th - th / 2, tw / 2, tw - tw / 2};
    }
    String[] parts = p.split(",");
    int ph = Integer.parseInt(parts[0].trim());
    int pw = parts.length == 1 ? ph : Integer.parseInt(parts[1].trim());
    return new int[] {ph, ph, pw, pw};
  }

  /**
   * The geometry, resolved independently of the processor's model.
   *
   * @throws IllegalArgumentException if PyTorch rejects it (as {@link ConvGeometry} judges)
   */
  public ConvGeometry geometry() {
    int[] pad = resolvedPadding();
    return ConvGeometry.builder().inChannels(inChannels).outChannels(outChannels).inputSize(height, width)
        .kernel(kernelH(), kernelW()).stride(first(stride), second(stride)).padding(pad[0], pad[1], pad[2], pad[3])
        .dilation(first(dilation), second(dilation)).groups(groups).paddingMode(paddingMode).build();
  }

  /** A reference layer with this geometry (weights to be loaded). */
  public ReferenceConv2d reference() {
    return ReferenceConv2d.builder(geometry()).bias(bias).activation(activation).build();
  }

  /** Whether PyTorch accepts this configuration (as the runtime's geometry judges it). */
  public boolean isValid() {
    if (padding.trim().equals("same") && (first(stride) != 1 || second(stride) != 1)) {
      return false;
    }
    try {
      geometry();
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  public int outHeight() {
    return geometry().outHeight();
  }

  public int outWidth() {
    return geometry().outWidth();
  }

  /** {@code {N, C, H, W}} of the input batch. */
  public int[] inputShape() {
    return new int[] {batch, inChannels, height, width};
  }

  private static String array(int[] v) {
    return Arrays.stream(v).mapToObj(Integer::toString).collect(Collectors.joining(", ", "{", "}"));
  }

  /** The annotation as Java source, every attribute written out. */
  public String annotation() {
    return "@dev.kiln.annotation.Conv2d(inChannels = " + inChannels + ", outChannels = " + outChannels
        + ", kernelSize = " + array(kernelSize) + ", stride = " + array(stride) + ", padding = \"" + padding
        + "\", dilation = " + array(dilation) + ", groups = " + groups + ", bias = " + bias
        + ", paddingMode = dev.kiln.annotation.PaddingMode." + paddingMode.name()
        + ", activation = dev.kiln.annotation.Activation." + activation.name()
        + ", height = " + height + ", width = " + width + ")";
  }

  /**
   * One source file {@code pkg.outer} declaring every case as a nested interface named after the case; the
   * kernel of case {@code c} is {@code pkg.outer_<c.name()>Kernel} (see {@link #kernel}).
   */
  public static JavaFileObject source(String pkg, String outer, List<ConvCase> cases) {
    StringBuilder sb = new StringBuilder();
    sb.append("package ").append(pkg).append(";\n\n");
    sb.append("public interface ").append(outer).append(" {\n");
    for (ConvCase c : cases) {
      sb.append("  ").append(c.annotation()).append('\n');
      sb.append("  interface ").append(c.name()).append(" {}\n\n");
    }
    sb.append("}\n");
    return JavaFileObjects.forSourceString(pkg + "." + outer, sb.toString());
  }

  /** Compiles the {@link #source} {@code pkg.outer} of {@code cases}, asserting that it compiles without warnings. */
  public static Compilation compile(String pkg, String outer, List<ConvCase> cases) {
    Compilation compilation = InMemoryCompiler.compile(source(pkg, outer, cases));
    assertThat(compilation).succeededWithoutWarnings();
    return compilation;
  }

  /** A new instance of the kernel generated for this case in the {@link #source} {@code pkg.outer}. */
  public ConvKernel kernel(ClassLoader loader, String pkg, String outer) {
    return InMemoryCompiler.newInstance(loader, pkg + "." + outer + "_" + name + "Kernel");
  }

  @Override
  public String toString() {
    return name + " " + annotation().substring("@dev.kiln.annotation.".length()) + " batch " + batch;
  }

  /** A short label for messages. */
  public String label() {
    return name + String.format(Locale.ROOT, "[%d->%d k%s s%s p\"%s\" d%s g%d %s %s %s %dx%d n%d]", inChannels,
        outChannels, Arrays.toString(kernelSize), Arrays.toString(stride), padding, Arrays.toString(dilation),
        groups, bias ? "bias" : "nobias", paddingMode, activation, height, width, batch);
  }
}
