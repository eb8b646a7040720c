package dev.kiln.processor.model;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import java.util.Locale;

/**
 * A fully resolved, valid 2-D convolution as the processor generates it: its {@link ConvGeometry} (the one
 * description of a convolution's shapes, shared with the runtime), whether it has a bias, its fused
 * activation, and what only the generated code needs (the interior every tap of which reads inside the
 * input). The geometry's accessors are repeated here for the writers. Plain data, usable without a compiler.
 */
public record ConvSpec(ConvGeometry geometry, boolean bias, Activation activation) {

  /**
   * Padding {@code same} along one axis: {@code {before, after}}, the odd extra pixel after.
   *
   * @throws ArithmeticException if the padding does not fit in an {@code int}
   */
  public static int[] samePadding(int kernel, int dilation) {
    long total = (long) dilation * (kernel - 1);
    return new int[] {Math.toIntExact(total / 2), Math.toIntExact(total - total / 2)};
  }

  public int inChannels() {
    return geometry.inChannels();
  }

  public int outChannels() {
    return geometry.outChannels();
  }

  public int inHeight() {
    return geometry.inHeight();
  }

  public int inWidth() {
    return geometry.inWidth();
  }

  public int outHeight() {
    return geometry.outHeight();
  }

  public int outWidth() {
    return geometry.outWidth();
  }

  /** The shape of one input sample, {@code [C, H, W]}. */
  public int[] inShape() {
    return new int[] {inChannels(), inHeight(), inWidth()};
  }

  /** The shape of one output sample, {@code [C, H, W]}. */
  public int[] outShape() {
    return new int[] {outChannels(), outHeight(), outWidth()};
  }

  public int kernelH() {
    return geometry.kernelH();
  }

  public int kernelW() {
    return geometry.kernelW();
  }

  public int strideH() {
    return geometry.strideH();
  }

  public int strideW() {
    return geometry.strideW();
  }

  public int dilationH() {
    return geometry.dilationH();
  }

  public int dilationW() {
    return geometry.dilationW();
  }

  public int padTop() {
    return geometry.padTop();
  }

  public int padBottom() {
    return geometry.padBottom();
  }

  public int padLeft() {
    return geometry.padLeft();
  }

  public int padRight() {
    return geometry.padRight();
  }

  public int groups() {
    return geometry.groups();
  }

  public PaddingMode paddingMode() {
    return geometry.paddingMode();
  }

  public int inChannelsPerGroup() {
    return geometry.inChannelsPerGroup();
  }

  public int outChannelsPerGroup() {
    return geometry.outChannelsPerGroup();
  }

  /** Weight elements per (output channel, input channel) pair. */
  public int kernelArea() {
    return geometry.kernelArea();
  }

  /** Multiply-adds for one sample. */
  public long macsPerSample() {
    return geometry.macsPerSample();
  }

  /** First output row whose every tap reads inside the input. */
  public int interiorRowStart() {
    return Math.min(ceilDiv(padTop(), strideH()), outHeight());
  }

  /** One past the last output row whose every tap reads inside the input. */
  public int interiorRowEnd() {
    int end = Math.floorDiv(inHeight() - 1 - (kernelH() - 1) * dilationH() + padTop(), strideH()) + 1;
    return Math.max(interiorRowStart(), Math.min(end, outHeight()));
  }

  /** First output column whose every tap reads inside the input. */
  public int interiorColStart() {
    return Math.min(ceilDiv(padLeft(), strideW()), outWidth());
  }

  /** One past the last output column whose every tap reads inside the input. */
  public int interiorColEnd() {
    int end = Math.floorDiv(inWidth() - 1 - (kernelW() - 1) * dilationW() + padLeft(), strideW()) + 1;
    return Math.max(interiorColStart(), Math.min(end, outWidth()));
  }

  /** Whether any side is padded. */
  public boolean hasPadding() {
    return padTop() + padBottom() + padLeft() + padRight() > 0;
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
    return "Conv2d " + inChannels() + "->" + outChannels() + ", kernel " + kernelH() + "x" + kernelW()
        + ", stride " + strideH() + "x" + strideW() + ", dilation " + dilationH() + "x" + dilationW()
        + ", padding (top " + padTop() + ", bottom " + padBottom() + ", left " + padLeft() + ", right "
        + padRight() + ", " + paddingMode().name().toLowerCase(Locale.ROOT) + ")"
        + ", groups " + groups() + (bias ? ", bias" : ", no bias")
        + (activation == Activation.NONE ? "" : ", " + activation.name().toLowerCase(Locale.ROOT))
        + "; input [N, " + inChannels() + ", " + inHeight() + ", " + inWidth() + "] -> output [N, "
        + outChannels() + ", " + outHeight() + ", " + outWidth() + "]";
  }
}
