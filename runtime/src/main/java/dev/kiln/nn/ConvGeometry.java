package dev.kiln.nn;

import dev.kiln.annotation.PaddingMode;

/**
 * The complete, fixed geometry of one convolution, as a generated kernel bakes it in: what a vectorized
 * engine needs to plan its loops. Shapes exclude the batch dimension. Padding is per side.
 */
public record ConvGeometry(
    int inChannels,
    int inHeight,
    int inWidth,
    int outChannels,
    int outHeight,
    int outWidth,
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
    PaddingMode paddingMode) {

  public int inChannelsPerGroup() {
    return inChannels / groups;
  }

  public int outChannelsPerGroup() {
    return outChannels / groups;
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

  /** Multiply-adds for one sample. */
  public long macsPerSample() {
    return (long) outChannels * outHeight * outWidth * inChannelsPerGroup() * kernelH * kernelW;
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
}
