package dev.kiln.processor.writing;

import com.palantir.javapoet.ClassName;
import com.palantir.javapoet.CodeBlock;
import com.palantir.javapoet.FieldSpec;
import com.palantir.javapoet.MethodSpec;
import com.palantir.javapoet.TypeName;
import com.palantir.javapoet.TypeSpec;
import javax.lang.model.element.Modifier;

/**
 * The skeletons several writers of generated classes share: the per-sample methods of
 * {@code dev.kiln.nn.ConvKernel} that every forward and backward emitter overrides, with their signatures, the
 * helper signatures of the kernel's loops, the field of packed weights of a vectorized loop, and the
 * constructors that draw PyTorch's default initialization from a seed (kernels, blocks, networks).
 */
final class GeneratedMethods {
  private static final TypeName FLOATS = ConvKernelWriter.FLOATS;
  private static final ClassName PACKED = ClassName.get("dev.kiln.nn", "PackedWeights");

  private GeneratedMethods() {}

  /** {@code forwardSample(x, xOff, y, yOff, ocStart, ocEnd)}: one sample's output channels {@code [ocStart, ocEnd)}. */
  static MethodSpec.Builder forwardSample() {
    return override("forwardSample")
        .addParameter(FLOATS, "x").addParameter(int.class, "xOff")
        .addParameter(FLOATS, "y").addParameter(int.class, "yOff")
        .addParameter(int.class, "ocStart").addParameter(int.class, "ocEnd");
  }

  /** {@code forwardUnits(x, xOff, y, yOff, start, end)}: one sample's forward over a range of split units. */
  static MethodSpec.Builder forwardUnits() {
    return override("forwardUnits")
        .addParameter(FLOATS, "x").addParameter(int.class, "xOff")
        .addParameter(FLOATS, "y").addParameter(int.class, "yOff")
        .addParameter(int.class, "start").addParameter(int.class, "end");
  }

  /** {@code splitUnits()}, returning {@code units}: the kernel's threads take ranges of them. */
  static MethodSpec splitUnits(String units) {
    return override("splitUnits").returns(int.class).addStatement("return $L", units).build();
  }

  /** {@code backwardInputSample(gy, gyOff, gx, gxOff)}: one sample's input gradient. */
  static MethodSpec.Builder backwardInputSample() {
    return override("backwardInputSample")
        .addParameter(FLOATS, "gy").addParameter(int.class, "gyOff")
        .addParameter(FLOATS, "gx").addParameter(int.class, "gxOff");
  }

  /** {@code backwardWeightSample(x, xOff, gy, gyOff, gw, gb)}: adds one sample's weight and bias gradients. */
  static MethodSpec.Builder backwardWeightSample() {
    return override("backwardWeightSample")
        .addParameter(FLOATS, "x").addParameter(int.class, "xOff")
        .addParameter(FLOATS, "gy").addParameter(int.class, "gyOff")
        .addParameter(FLOATS, "gw").addParameter(FLOATS, "gb");
  }

  /** A private static helper method of a kernel, {@code name}. */
  static MethodSpec.Builder helper(String name) {
    return MethodSpec.methodBuilder(name).addModifiers(Modifier.PRIVATE, Modifier.STATIC);
  }

  /**
   * A private static helper of a kernel for one (output channel, input channel) plane pair:
   * {@code name(float[] <first>, int <first>Plane, float[] <second>, int <second>Plane, float[] <weights>,
   * int wOff)}, the arrays with the offsets of their planes and of the pair's weights.
   */
  static MethodSpec.Builder planePairHelper(String name, String first, String second, String weights) {
    return helper(name)
        .addParameter(FLOATS, first).addParameter(int.class, first + "Plane")
        .addParameter(FLOATS, second).addParameter(int.class, second + "Plane")
        .addParameter(FLOATS, weights).addParameter(int.class, "wOff");
  }

  /** The public constructor {@code this(0L)}, documented by {@code javadoc}. */
  static MethodSpec seedZeroConstructor(CodeBlock javadoc) {
    return MethodSpec.constructorBuilder()
        .addModifiers(Modifier.PUBLIC)
        .addJavadoc(javadoc)
        .addStatement("this(0L)")
        .build();
  }

  /**
   * The private final {@code dev.kiln.nn.PackedWeights} field {@code name} that holds the kernel's weights
   * laid out for a vectorized loop: {@code PackedWeights.<layout>(weight(), OUT_C, <length>)}.
   */
  static FieldSpec packedWeightsField(String name, String javadoc, String layout, String length) {
    return FieldSpec.builder(PACKED, name, Modifier.PRIVATE, Modifier.FINAL)
        .addJavadoc(javadoc)
        .initializer("$T.$L(weight(), OUT_C, $L)", PACKED, layout, length)
        .build();
  }

  private static MethodSpec.Builder override(String name) {
    return MethodSpec.methodBuilder(name)
        .addAnnotation(Override.class)
        .addModifiers(Modifier.PROTECTED);
  }

  /**
   * Adds the public constructors of a generated layer class: one drawing PyTorch's default initialization
   * from seed 0, which calls the other, which draws it from its {@code long seed} and whose body is the
   * statement {@code superFormat} (with {@code args}).
   *
   * @param layer what the class is, for the Javadoc ({@code "kernel"}, {@code "block"})
   */
  static void addSeededConstructors(TypeSpec.Builder type, String layer, String superFormat, Object... args) {
    type.addMethod(seedZeroConstructor(
        CodeBlock.of("A $L with PyTorch's default initialization drawn from seed 0.\n", layer)));
    type.addMethod(MethodSpec.constructorBuilder()
        .addModifiers(Modifier.PUBLIC)
        .addJavadoc("A $L with PyTorch's default initialization drawn from {@code seed}.\n", layer)
        .addParameter(long.class, "seed")
        .addStatement(superFormat, args)
        .build());
  }
}
