package dev.kiln.samples.benchmark;

import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.ConvKernel;
import dev.kiln.nn.ReferenceConv2d;
import dev.kiln.tensor.Tensor;
import java.util.SplittableRandom;
import java.util.function.LongFunction;

/**
 * The benchmark suite: each constant is one convolution (square kernel, symmetric padding, zeros padding
 * mode, bias) with its batch size, and knows how to build the generated Kiln kernel, the run-time
 * {@link ReferenceConv2d} and the ONNX model for it, all with the same weights.
 */
public enum ConvShape {
  TINY(1, 2, 2, 9, 9, 3, 1, 1, 1, Shapes_TinyKernel::new),
  GROUPED(1, 2, 4, 9, 9, 3, 1, 1, 2, Shapes_GroupedKernel::new),
  C1_16_28(1, 1, 16, 28, 28, 3, 1, 1, 1, Shapes_C1x16At28Kernel::new),
  C16_32_14(1, 16, 32, 14, 14, 3, 1, 1, 1, Shapes_C16x32At14Kernel::new),
  C48_48_56(1, 48, 48, 56, 56, 3, 1, 1, 1, Shapes_C48At56Kernel::new),
  C96_96_28(1, 96, 96, 28, 28, 3, 1, 1, 1, Shapes_C96At28Kernel::new),
  C192_192_14(1, 192, 192, 14, 14, 3, 1, 1, 1, Shapes_C192At14Kernel::new),
  STEM_3_48_224_S2(1, 3, 48, 224, 224, 3, 2, 1, 1, Shapes_Stem3x48At224Kernel::new),
  DW_32_56(1, 32, 32, 56, 56, 3, 1, 1, 32, Shapes_Depthwise32At56Kernel::new),
  PW_64_56(1, 64, 64, 56, 56, 1, 1, 0, 1, Shapes_Pointwise64At56Kernel::new),
  C1_16_28_N32(32, 1, 16, 28, 28, 3, 1, 1, 1, Shapes_C1x16At28Kernel::new),
  C16_32_14_N32(32, 16, 32, 14, 14, 3, 1, 1, 1, Shapes_C16x32At14Kernel::new),
  C64_64_56(1, 64, 64, 56, 56, 3, 1, 1, 1, Shapes_C64At56Kernel::new);

  /** The seed of every benchmark kernel's weights. */
  public static final long WEIGHT_SEED = 42L;

  private final int batch;
  private final int inChannels;
  private final int outChannels;
  private final int height;
  private final int width;
  private final int kernel;
  private final int stride;
  private final int padding;
  private final int groups;
  private final LongFunction<ConvKernel> factory;

  ConvShape(int batch, int inChannels, int outChannels, int height, int width, int kernel, int stride,
      int padding, int groups, LongFunction<ConvKernel> factory) {
    this.batch = batch;
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.height = height;
    this.width = width;
    this.kernel = kernel;
    this.stride = stride;
    this.padding = padding;
    this.groups = groups;
    this.factory = factory;
  }

  public int batch() {
    return batch;
  }

  public int inChannels() {
    return inChannels;
  }

  public int outChannels() {
    return outChannels;
  }

  public int kernel() {
    return kernel;
  }

  public int stride() {
    return stride;
  }

  public int padding() {
    return padding;
  }

  public int groups() {
    return groups;
  }

  /** Output height (PyTorch's formula, dilation 1). */
  public int outHeight() {
    return (height + 2 * padding - kernel) / stride + 1;
  }

  /** Output width (PyTorch's formula, dilation 1). */
  public int outWidth() {
    return (width + 2 * padding - kernel) / stride + 1;
  }

  /** {@code [N, C, H, W]} of the input batch. */
  public int[] inputShape() {
    return new int[] {batch, inChannels, height, width};
  }

  /** {@code [N, C, H, W]} of the output batch. */
  public int[] outputShape() {
    return new int[] {batch, outChannels, outHeight(), outWidth()};
  }

  /** {@code [out, in/groups, k, k]}. */
  public int[] weightShape() {
    return new int[] {outChannels, inChannels / groups, kernel, kernel};
  }

  /** Multiply-adds of one call over the whole batch. */
  public long macs() {
    return (long) batch * outChannels * outHeight() * outWidth() * (inChannels / groups) * kernel * kernel;
  }

  /** The generated Kiln kernel with the suite's weights ({@link #WEIGHT_SEED}), in eval mode. */
  public ConvKernel newKernel() {
    ConvKernel k = factory.apply(WEIGHT_SEED);
    k.eval();
    return k;
  }

  /** The run-time reference layer for this shape, loaded with {@code kernel}'s weights, in eval mode. */
  public ReferenceConv2d newReference(ConvKernel weightsFrom) {
    ReferenceConv2d ref = ReferenceConv2d.builder(ConvGeometry.builder().inChannels(inChannels)
        .outChannels(outChannels).inputSize(height, width).kernel(kernel, kernel).stride(stride, stride)
        .padding(padding, padding, padding, padding).groups(groups).build()).build();
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
    return inChannels + "->" + outChannels + " " + height + "x" + width + " k" + kernel + " s" + stride + " p"
        + padding + " g" + groups + " N=" + batch;
  }
}
