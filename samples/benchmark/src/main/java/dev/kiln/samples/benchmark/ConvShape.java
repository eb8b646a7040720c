package dev.kiln.samples.benchmark;

import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.ConvKernel;
import dev.kiln.nn.ReferenceConv2d;
import dev.kiln.tensor.Tensor;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.LongFunction;

/**
 * The benchmark suite: each constant is one convolution with its batch size. The convolution is a
 * {@code @Conv2d} interface in {@link Shapes}, whose generated kernel is the one description of its
 * geometry (square kernel, symmetric padding, zeros padding mode, bias): every number here is read from it.
 * Each constant builds the generated kernel, the run-time {@link ReferenceConv2d} and the ONNX model for it,
 * all with the same weights. {@link #main} prints the suite for the Python benchmark scripts.
 */
public enum ConvShape {
  TINY(1, Shapes_TinyKernel::new),
  GROUPED(1, Shapes_GroupedKernel::new),
  C1_16_28(1, Shapes_C1x16At28Kernel::new),
  C16_32_14(1, Shapes_C16x32At14Kernel::new),
  C48_48_56(1, Shapes_C48At56Kernel::new),
  C96_96_28(1, Shapes_C96At28Kernel::new),
  C192_192_14(1, Shapes_C192At14Kernel::new),
  STEM_3_48_224_S2(1, Shapes_Stem3x48At224Kernel::new),
  DW_32_56(1, Shapes_Depthwise32At56Kernel::new),
  PW_64_56(1, Shapes_Pointwise64At56Kernel::new),
  C1_16_28_N32(32, Shapes_C1x16At28Kernel::new),
  C16_32_14_N32(32, Shapes_C16x32At14Kernel::new),
  C64_64_56(1, Shapes_C64At56Kernel::new),
  PW_512_14(1, Shapes_Pointwise512At14Kernel::new);

  /** The seed of every benchmark kernel's weights. */
  public static final long WEIGHT_SEED = 42L;

  private final int batch;
  private final LongFunction<ConvKernel> factory;
  /** The generated kernel's geometry, read from the first kernel built. */
  private volatile ConvGeometry geometry;

  ConvShape(int batch, LongFunction<ConvKernel> factory) {
    this.batch = batch;
    this.factory = factory;
  }

  /** The convolution, as the generated kernel bakes it in. */
  public ConvGeometry geometry() {
    ConvGeometry g = geometry;
    if (g == null) {
      g = factory.apply(WEIGHT_SEED).geometry();
      geometry = g;
    }
    return g;
  }

  /** The name of the {@code @Conv2d} interface in {@link Shapes}, e.g. {@code C64At56}. */
  public String interfaceName() {
    String kernel = newKernel().getClass().getSimpleName();
    return kernel.substring("Shapes_".length(), kernel.length() - "Kernel".length());
  }

  public int batch() {
    return batch;
  }

  public int inChannels() {
    return geometry().inChannels();
  }

  public int outChannels() {
    return geometry().outChannels();
  }

  /** The input's height (and width: the suite's inputs are square). */
  public int size() {
    return geometry().inHeight();
  }

  public int kernel() {
    return geometry().kernelH();
  }

  public int stride() {
    return geometry().strideH();
  }

  public int padding() {
    return geometry().padTop();
  }

  public int groups() {
    return geometry().groups();
  }

  public int outHeight() {
    return geometry().outHeight();
  }

  public int outWidth() {
    return geometry().outWidth();
  }

  /** {@code [N, C, H, W]} of the input batch. */
  public int[] inputShape() {
    return batched(geometry().inputShape());
  }

  /** {@code [N, C, H, W]} of the output batch. */
  public int[] outputShape() {
    return batched(geometry().outputShape());
  }

  private int[] batched(int[] sample) {
    return new int[] {batch, sample[0], sample[1], sample[2]};
  }

  /** {@code [out, in/groups, k, k]}. */
  public int[] weightShape() {
    return geometry().weightShape();
  }

  /** Multiply-adds of one call over the whole batch. */
  public long macs() {
    return batch * geometry().macsPerSample();
  }

  /** The generated Kiln kernel with the suite's weights ({@link #WEIGHT_SEED}), in eval mode. */
  public ConvKernel newKernel() {
    ConvKernel k = factory.apply(WEIGHT_SEED);
    k.eval();
    return k;
  }

  /** The run-time reference layer for this shape, loaded with {@code kernel}'s weights, in eval mode. */
  public ReferenceConv2d newReference(ConvKernel weightsFrom) {
    ReferenceConv2d ref = ReferenceConv2d.builder(geometry()).build();
    ref.loadStateDict(weightsFrom.stateDict());
    ref.eval();
    return ref;
  }

  /** A seeded input batch with values uniform in {@code [-1, 1)}. */
  public Tensor randomInput(long seed) {
    Tensor t = Tensor.zeros(inputShape());
    SplittableRandom random = new SplittableRandom(seed);
    float[] x = t.data();
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextDouble() * 2.0 - 1.0);
    }
    return t;
  }

  /** A short description such as {@code 3->48 224x224 k3 s2 p1 g1 N=1}. */
  public String describe() {
    return inChannels() + "->" + outChannels() + " " + size() + "x" + size() + " k" + kernel() + " s" + stride()
        + " p" + padding() + " g" + groups() + " N=" + batch;
  }

  /**
   * Prints the suite as JSON, one object per line with the name, batch, in, out, size, kernel, stride,
   * padding and groups: what {@code tools/bench/pytorch_conv_bench.py} times.
   */
  public static void main(String[] args) {
    for (ConvShape s : values()) {
      System.out.printf(Locale.ROOT, "{\"name\": \"%s\", \"batch\": %d, \"in\": %d, \"out\": %d, "
              + "\"size\": %d, \"kernel\": %d, \"stride\": %d, \"padding\": %d, \"groups\": %d}%n",
          s.name(), s.batch, s.inChannels(), s.outChannels(), s.size(), s.kernel(), s.stride(), s.padding(),
          s.groups());
    }
  }
}
