package dev.kiln.nn;

import dev.kiln.annotation.PaddingMode;
import java.util.Objects;
import java.util.Optional;

/**
 * The complete, fixed geometry of one 2-D convolution ({@code torch.nn.Conv2d}): channels, input size,
 * kernel, stride, dilation, per-side padding, groups and padding mode, with the output size derived.
 * Shapes exclude the batch dimension. What a generated kernel bakes in, what a vectorized engine plans its
 * loops from, and what the reference convolution computes.
 *
 * <p>Immutable and validated once, when built: every instance describes a convolution PyTorch accepts.
 * Variants are built from an existing geometry:
 *
 * <pre>{@code
 * ConvGeometry dense = ConvGeometry.builder().inChannels(16).outChannels(32).inputSize(28, 28)
 *     .kernel(3, 3).padding(1, 1, 1, 1).build();
 * ConvGeometry pointwise = dense.toBuilder().kernel(1, 1).padding(0, 0, 0, 0).build();
 * }</pre>
 */
public final class ConvGeometry {
  private final int inChannels;
  private final int inHeight;
  private final int inWidth;
  private final int outChannels;
  private final int outHeight;
  private final int outWidth;
  private final int kernelH;
  private final int kernelW;
  private final int strideH;
  private final int strideW;
  private final int dilationH;
  private final int dilationW;
  private final int padTop;
  private final int padBottom;
  private final int padLeft;
  private final int padRight;
  private final int groups;
  private final PaddingMode paddingMode;

  private ConvGeometry(Builder b) {
    inChannels = b.inChannels;
    inHeight = b.inHeight;
    inWidth = b.inWidth;
    outChannels = b.outChannels;
    kernelH = b.kernelH;
    kernelW = b.kernelW;
    strideH = b.strideH;
    strideW = b.strideW;
    dilationH = b.dilationH;
    dilationW = b.dilationW;
    padTop = b.padTop;
    padBottom = b.padBottom;
    padLeft = b.padLeft;
    padRight = b.padRight;
    groups = b.groups;
    paddingMode = Objects.requireNonNull(b.paddingMode, "paddingMode");
    checkPositive();
    Optional<String> problem =
        paddingModeLimit(paddingMode, Math.max(padTop, padBottom), Math.max(padLeft, padRight), inHeight, inWidth);
    if (problem.isPresent()) {
      throw new IllegalArgumentException(problem.get());
    }
    outHeight = outSize(inHeight, padTop, padBottom, kernelH, strideH, dilationH);
    outWidth = outSize(inWidth, padLeft, padRight, kernelW, strideW, dilationW);
    if (outHeight <= 0 || outWidth <= 0) {
      throw new IllegalArgumentException("kernel " + kernelH + "x" + kernelW + " with dilation " + dilationH + "x"
          + dilationW + " does not fit the padded input " + ((long) inHeight + padTop + padBottom) + "x"
          + ((long) inWidth + padLeft + padRight));
    }
  }

  private void checkPositive() {
    if (inChannels <= 0 || outChannels <= 0 || groups <= 0 || inChannels % groups != 0
        || outChannels % groups != 0) {
      throw new IllegalArgumentException("channels and groups must be positive, groups dividing both channel "
          + "counts, but got in=" + inChannels + " out=" + outChannels + " groups=" + groups);
    }
    if (inHeight <= 0 || inWidth <= 0) {
      throw new IllegalArgumentException("input size must be positive but was " + inHeight + "x" + inWidth);
    }
    if (kernelH <= 0 || kernelW <= 0 || strideH <= 0 || strideW <= 0 || dilationH <= 0 || dilationW <= 0
        || padTop < 0 || padBottom < 0 || padLeft < 0 || padRight < 0) {
      throw new IllegalArgumentException("kernel, stride and dilation must be positive, padding >= 0 but got "
          + "kernel " + kernelH + "x" + kernelW + ", stride " + strideH + "x" + strideW + ", dilation "
          + dilationH + "x" + dilationW + ", padding (" + padTop + ", " + padBottom + ", " + padLeft + ", "
          + padRight + ")");
    }
  }

  /** A builder with stride 1, dilation 1, no padding, one group and {@code ZEROS} padding. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this geometry's values, to build a variant. */
  public Builder toBuilder() {
    return new Builder()
        .inChannels(inChannels)
        .outChannels(outChannels)
        .inputSize(inHeight, inWidth)
        .kernel(kernelH, kernelW)
        .stride(strideH, strideW)
        .dilation(dilationH, dilationW)
        .padding(padTop, padBottom, padLeft, padRight)
        .groups(groups)
        .paddingMode(paddingMode);
  }

  public int inChannels() {
    return inChannels;
  }

  public int inHeight() {
    return inHeight;
  }

  public int inWidth() {
    return inWidth;
  }

  public int outChannels() {
    return outChannels;
  }

  /** The output height, {@link #outSize} of the input height. */
  public int outHeight() {
    return outHeight;
  }

  /** The output width, {@link #outSize} of the input width. */
  public int outWidth() {
    return outWidth;
  }

  public int kernelH() {
    return kernelH;
  }

  public int kernelW() {
    return kernelW;
  }

  public int strideH() {
    return strideH;
  }

  public int strideW() {
    return strideW;
  }

  public int dilationH() {
    return dilationH;
  }

  public int dilationW() {
    return dilationW;
  }

  public int padTop() {
    return padTop;
  }

  public int padBottom() {
    return padBottom;
  }

  public int padLeft() {
    return padLeft;
  }

  public int padRight() {
    return padRight;
  }

  public int groups() {
    return groups;
  }

  public PaddingMode paddingMode() {
    return paddingMode;
  }

  public int inChannelsPerGroup() {
    return inChannels / groups;
  }

  public int outChannelsPerGroup() {
    return outChannels / groups;
  }

  /**
   * The input row that output row {@code oh} reads at kernel row {@code kh}: negative or at least the input
   * height where it falls on the padding.
   */
  public int inputRow(int oh, int kh) {
    return oh * strideH - padTop + kh * dilationH;
  }

  /** The input column that output column {@code ow} reads at kernel column {@code kw} (as {@link #inputRow}). */
  public int inputColumn(int ow, int kw) {
    return ow * strideW - padLeft + kw * dilationW;
  }

  /** Weight elements per (output channel, input channel) pair. */
  public int kernelArea() {
    return kernelH * kernelW;
  }

  /** {@code in/groups * kH * kW}, the fan-in of PyTorch's default initialization. */
  public int fanIn() {
    return inChannelsPerGroup() * kernelArea();
  }

  /** Elements of the weight tensor: {@code out * in/groups * kH * kW}. */
  public long weightElements() {
    return (long) outChannels * fanIn();
  }

  /** {@code {out, in/groups, kH, kW}}. */
  public int[] weightShape() {
    return new int[] {outChannels, inChannelsPerGroup(), kernelH, kernelW};
  }

  /** {@code {in, inHeight, inWidth}}: one sample's input. */
  public int[] inputShape() {
    return new int[] {inChannels, inHeight, inWidth};
  }

  /** {@code {out, outHeight, outWidth}}: one sample's output. */
  public int[] outputShape() {
    return new int[] {outChannels, outHeight, outWidth};
  }

  /** Multiply-adds for one sample. */
  public long macsPerSample() {
    return (long) outChannels * outHeight * outWidth * inChannelsPerGroup() * kernelH * kernelW;
  }

  /**
   * Output size along one axis, as {@code torch.nn.Conv2d}:
   * {@code floor((in + padBefore + padAfter - dilation * (kernel - 1) - 1) / stride) + 1}, or 0 when the
   * kernel does not fit. Computed in {@code long} and clamped to {@code int}, so that validation can call it
   * on any annotation values. The one definition the processor and the runtime use.
   */
  public static int outSize(int in, int padBefore, int padAfter, int kernel, int stride, int dilation) {
    long span = (long) in + padBefore + padAfter - (long) dilation * (kernel - 1) - 1;
    return span < 0 ? 0 : (int) Math.min(span / stride + 1, Integer.MAX_VALUE);
  }

  /**
   * What is wrong with padding {@code padH} rows and {@code padW} columns (the larger side of each) of an
   * {@code height x width} input in padding mode {@code mode}, as PyTorch judges it: {@code REFLECT} needs
   * padding smaller than the input, {@code CIRCULAR} no larger; empty when it is fine. The one statement of
   * these limits, for the processor's compile errors and this class's exceptions.
   */
  public static Optional<String> paddingModeLimit(PaddingMode mode, int padH, int padW, int height, int width) {
    String need;
    if (mode == PaddingMode.REFLECT && (padH >= height || padW >= width)) {
      need = "padding smaller than the input";
    } else if (mode == PaddingMode.CIRCULAR && (padH > height || padW > width)) {
      need = "padding no larger than the input";
    } else {
      return Optional.empty();
    }
    return Optional.of("paddingMode " + mode + " needs " + need + " in each dimension (as in PyTorch), but the "
        + "padding is " + padH + " rows and " + padW + " columns for an input of " + height + "x" + width
        + "; use less padding or another paddingMode");
  }

  /**
   * Maps a padded coordinate {@code i} (in {@code [-pad, size + pad)}) back into {@code [0, size)} as
   * PyTorch's padding modes do, or -1 for a zero (ZEROS). The one definition every engine uses.
   */
  public static int sourceIndex(int i, int size, PaddingMode mode) {
    if (i >= 0 && i < size) {
      return i;
    }
    switch (mode) {
      case ZEROS:
        return -1;
      case REFLECT:
        return i < 0 ? -i : 2 * (size - 1) - i;
      case REPLICATE:
        return i < 0 ? 0 : size - 1;
      case CIRCULAR:
        return i < 0 ? i + size : i - size;
      default:
        throw new AssertionError(mode);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ConvGeometry g && inChannels == g.inChannels && inHeight == g.inHeight
        && inWidth == g.inWidth && outChannels == g.outChannels && kernelH == g.kernelH && kernelW == g.kernelW
        && strideH == g.strideH && strideW == g.strideW && dilationH == g.dilationH && dilationW == g.dilationW
        && padTop == g.padTop && padBottom == g.padBottom && padLeft == g.padLeft && padRight == g.padRight
        && groups == g.groups && paddingMode == g.paddingMode;
  }

  @Override
  public int hashCode() {
    return Objects.hash(inChannels, inHeight, inWidth, outChannels, kernelH, kernelW, strideH, strideW, dilationH,
        dilationW, padTop, padBottom, padLeft, padRight, groups, paddingMode);
  }

  /** Every value, e.g. {@code ConvGeometry[16x28x28 -> 32x28x28, kernel 3x3, stride 1x1, ...]}. */
  @Override
  public String toString() {
    return "ConvGeometry[" + inChannels + "x" + inHeight + "x" + inWidth + " -> " + outChannels + "x" + outHeight
        + "x" + outWidth + ", kernel " + kernelH + "x" + kernelW + ", stride " + strideH + "x" + strideW
        + ", dilation " + dilationH + "x" + dilationW + ", padding (top " + padTop + ", bottom " + padBottom
        + ", left " + padLeft + ", right " + padRight + "), groups " + groups + ", " + paddingMode + "]";
  }

  /** Collects the values of a {@link ConvGeometry}; {@link #build()} validates them. */
  public static final class Builder {
    private int inChannels;
    private int outChannels;
    private int inHeight;
    private int inWidth;
    private int kernelH;
    private int kernelW;
    private int strideH = 1;
    private int strideW = 1;
    private int dilationH = 1;
    private int dilationW = 1;
    private int padTop;
    private int padBottom;
    private int padLeft;
    private int padRight;
    private int groups = 1;
    private PaddingMode paddingMode = PaddingMode.ZEROS;

    private Builder() {}

    public Builder inChannels(int channels) {
      inChannels = channels;
      return this;
    }

    public Builder outChannels(int channels) {
      outChannels = channels;
      return this;
    }

    /** The input's height and width. */
    public Builder inputSize(int height, int width) {
      inHeight = height;
      inWidth = width;
      return this;
    }

    public Builder kernel(int height, int width) {
      kernelH = height;
      kernelW = width;
      return this;
    }

    public Builder stride(int vertical, int horizontal) {
      strideH = vertical;
      strideW = horizontal;
      return this;
    }

    public Builder dilation(int vertical, int horizontal) {
      dilationH = vertical;
      dilationW = horizontal;
      return this;
    }

    /** Per-side padding. */
    public Builder padding(int top, int bottom, int left, int right) {
      padTop = top;
      padBottom = bottom;
      padLeft = left;
      padRight = right;
      return this;
    }

    public Builder groups(int count) {
      groups = count;
      return this;
    }

    public Builder paddingMode(PaddingMode mode) {
      paddingMode = mode;
      return this;
    }

    /**
     * The geometry.
     *
     * @throws IllegalArgumentException if a channel count, size, kernel, stride, dilation or group count is
     *     not positive, the groups do not divide both channel counts, a padding is negative, the padding
     *     exceeds what the padding mode allows ({@link #paddingModeLimit}), or the kernel does not fit the
     *     padded input
     */
    public ConvGeometry build() {
      return new ConvGeometry(this);
    }
  }
}
