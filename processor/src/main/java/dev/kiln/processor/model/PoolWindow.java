package dev.kiln.processor.model;

import dev.kiln.nn.ConvGeometry;

/**
 * The window of a max or average pooling layer: kernel, stride and symmetric zero padding per axis
 * (average pooling counts the padding, as PyTorch's default).
 */
public record PoolWindow(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {
  /** The {@code [C, H', W']} the window produces from the feature map {@code in}. */
  public int[] outShape(int[] in) {
    return new int[] {in[0], ConvGeometry.outSize(in[1], padH, padH, kernelH, strideH, 1),
        ConvGeometry.outSize(in[2], padW, padW, kernelW, strideW, 1)};
  }
}
