package dev.kiln.processor.model;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;

/**
 * A fully resolved, valid 2-D convolution: every shape, stride, offset and padding decision the
 * generated kernel bakes in. Plain data, usable without a compiler. All shape arithmetic lives here.
 */
public record ConvSpec(
    int inChannels,
    int outChannels,
    int inHeight,
    int inWidth,
    int kernelH,
    int kernelW,
    int strideH,
    int strideW,
    int dilationH,
    int dilationW,
    int padTop,
    int padBottom,
    int padLeft,
    int padRight,
    int groups,
    boolean bias,
    PaddingMode paddingMode,
    Activation activation) {

  /** Output size along one axis, as {@code torch.nn.Conv2d}: {@link ConvGeometry#outSize}, 0 for a kernel that does not fit. */
  public static int outSize(int in, int padBefore, int padAfter, int kernel, int stride, int dilation) {
    return ConvGeometry.outSize(in, padBefore, padAfter, kernel, stride, dilation);
  }

  /**
   * Padding {@code same} along one axis: {@code {before, after}}, the odd extra pixel after.
   *
   * @throws ArithmeticException if the padding does not fit in an {@code int}
   */
  public static int[] samePadding(int kernel, int dilation) {
    long total = (long) dilation * (kernel - 1);
    return new int[] {Math.toIntExact(total / 2), Math.toIntExact(total - total / 2)};
  }

  public int outHeight() {
    return outSize(inHeight, padTop, padBottom, kernelH, strideH, dilationH);
  }

  public int outWidth() {
    return outSize(inWidth, padLeft, padRight, kernelW, strideW, dilationW);
  }

  public int inChannelsPerGroup() {
    return inChannels / groups;
  }

  public int outChannelsPerGroup() {
    return outChannels / groups;
  }

  /** Weight elements per (output channel, input channel) pair. */
  public int kernelArea() {
    return kernelH * kernelW;
  }

  public int fanIn() {
    return inChannelsPerGroup() * kernelArea();
  }

  /** Multiply-adds for one sample. */
  public long macsPerSample() {
    return (long) outChannels * outHeight() * outWidth() * fanIn();
  }

  public boolean hasPadding() {
    return padTop + padBottom + padLeft + padRight > 0;
  }

  /** First output row whose every tap reads inside the input. */
  public int interiorRowStart() {
    return Math.min(ceilDiv(padTop, strideH), outHeight());
  }

  /** One past the last output row whose every tap reads inside the input. */
  public int interiorRowEnd() {
    int end = Math.floorDiv(inHeight - 1 - (kernelH - 1) * dilationH + padTop, strideH) + 1;
    return Math.max(interiorRowStart(), Math.min(end, outHeight()));
  }

  /** First output column whose every tap reads inside the input. */
  public int interiorColStart() {
    return Math.min(ceilDiv(padLeft, strideW), outWidth());
  }

  /** One past the last output column whose every tap reads inside the input. */
  public int interiorColEnd() {
    int end = Math.floorDiv(inWidth - 1 - (kernelW - 1) * dilationW + padLeft, strideW) + 1;
    return Math.max(interiorColStart(), Math.min(end, outWidth()));
  }

  /** Whether some output pixel reads only inside the input. */
  public boolean hasInterior() {
    return interiorRowEnd() > interiorRowStart() && interiorColEnd() > interiorColStart();
  }

  /** Whether some output pixel reads the padding. */
  public boolean hasBorder() {
    return !hasInterior()
        || interiorRowStart() > 0 || interiorRowEnd() < outHeight()
        || interiorColStart() > 0 || interiorColEnd() < outWidth();
  }

  private static int ceilDiv(int a, int b) {
    return -Math.floorDiv(-a, b);
  }

  /** A short human description, used in generated Javadoc. */
  public String describe() {
    return "Conv2d " + inChannels + "->" + outChannels + ", kernel " + kernelH + "x" + kernelW
        + ", stride " + strideH + "x" + strideW + ", dilation " + dilationH + "x" + dilationW
        + ", padding (top " + padTop + ", bottom " + padBottom + ", left " + padLeft + ", right " + padRight
        + ", " + paddingMode.name().toLowerCase(java.util.Locale.ROOT) + ")"
        + ", groups " + groups + (bias ? ", bias" : ", no bias")
        + (activation == Activation.NONE ? "" : ", " + activation.name().toLowerCase(java.util.Locale.ROOT))
        + "; input [N, " + inChannels + ", " + inHeight + ", " + inWidth + "] -> output [N, " + outChannels + ", "
        + outHeight() + ", " + outWidth() + "]";
  }
}
