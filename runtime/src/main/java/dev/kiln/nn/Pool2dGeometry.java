package dev.kiln.nn;

import java.util.Arrays;

/**
 * Kernel, stride and symmetric zero/-inf padding of a 2-D pooling layer with PyTorch's rules (dilation 1,
 * {@code ceil_mode=False}): {@code out = floor((in + 2 * pad - kernel) / stride) + 1}, {@code pad <= kernel / 2}.
 */
final class Pool2dGeometry {
  final int kernelH;
  final int kernelW;
  final int strideH;
  final int strideW;
  final int padH;
  final int padW;

  Pool2dGeometry(String layer, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {
    if (kernelH <= 0 || kernelW <= 0) {
      throw new IllegalArgumentException(layer + ": kernel size must be positive but was (" + kernelH + ", "
          + kernelW + ")");
    }
    if (strideH <= 0 || strideW <= 0) {
      throw new IllegalArgumentException(layer + ": stride must be positive but was (" + strideH + ", "
          + strideW + ")");
    }
    if (padH < 0 || padW < 0 || padH > kernelH / 2 || padW > kernelW / 2) {
      throw new IllegalArgumentException(layer + ": padding must be between 0 and half the kernel size ("
          + kernelH / 2 + ", " + kernelW / 2 + ") but was (" + padH + ", " + padW + ")");
    }
    this.kernelH = kernelH;
    this.kernelW = kernelW;
    this.strideH = strideH;
    this.strideW = strideW;
    this.padH = padH;
    this.padW = padW;
  }

  /** {@code [N, C, outH, outW]} for {@code [N, C, H, W]}; throws unless the output is at least 1 x 1. */
  int[] outputShape(int[] inputShape) {
    int[] s = LayerShapes.requireNchw("input", inputShape, -1);
    int oh = ConvGeometry.outSize(s[2], padH, padH, kernelH, strideH, 1);
    int ow = ConvGeometry.outSize(s[3], padW, padW, kernelW, strideW, 1);
    if (oh <= 0 || ow <= 0) {
      throw new IllegalArgumentException("input: shape " + Arrays.toString(s) + " gives output size " + oh + "x"
          + ow + " with kernel (" + kernelH + ", " + kernelW + "), stride (" + strideH + ", " + strideW
          + "), padding (" + padH + ", " + padW + "): the input is too small");
    }
    return new int[] {s[0], s[1], oh, ow};
  }

  /**
   * The first (inclusive) and last (exclusive) input rows of each output row's window, clipped to the input:
   * {@code [start0, end0, start1, end1, ...]}.
   */
  int[] rowWindows(int in, int out) {
    return windows(in, out, kernelH, strideH, padH);
  }

  /** Like {@link #rowWindows} for columns. */
  int[] colWindows(int in, int out) {
    return windows(in, out, kernelW, strideW, padW);
  }

  private static int[] windows(int in, int out, int kernel, int stride, int pad) {
    int[] w = new int[2 * out];
    for (int o = 0; o < out; o++) {
      int start = o * stride - pad;
      w[2 * o] = Math.max(start, 0);
      w[2 * o + 1] = Math.min(start + kernel, in);
    }
    return w;
  }

  @Override
  public String toString() {
    return "kernel_size=(" + kernelH + ", " + kernelW + "), stride=(" + strideH + ", " + strideW + "), padding=("
        + padH + ", " + padW + ")";
  }
}
