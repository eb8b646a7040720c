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

  /** Multiply-adds for one sample. */
  public long macsPerSample() {
    return (long) outChannels * outHeight * outWidth * inChannelsPerGroup() * kernelH * kernelW;
  }
}
