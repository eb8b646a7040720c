package dev.kiln.simd;

import dev.kiln.nn.ConvGeometry;

/**
 * How the direct engine ({@link DirectConv}) lays out one sample's input so that every output position reads
 * its taps at fixed offsets: output position {@code (oh, ow)} is the virtual index {@code p = oh * rowPitch() +
 * ow}, and (input channel, tap) {@code i} of a group reads {@code p + tapOffsets(g)[i]} from the group's first
 * channel. {@link PaddedLayout} pads each channel (phases split by stride); {@link WrappedLayout} keeps rows as
 * long as the output's with a copy of the input per kernel column.
 */
interface SampleLayout {
  /** The virtual row width: output positions {@code ow >= outW} of a row are junk the kernels compute and drop. */
  int rowPitch();

  /** Floats of one input channel in this layout. */
  int channelStride();

  /** The offset of tap {@code (kh, kw)} of convolution {@code g} from its input channel's start. */
  int tapOffset(ConvGeometry g, int kh, int kw);

  /**
   * The offset of each (input channel of a group, tap) of convolution {@code g} from the group's first channel,
   * in the order {@code [channel][kh][kw]} of the weights.
   */
  default int[] tapOffsets(ConvGeometry g) {
    int taps = g.kernelH() * g.kernelW();
    int[] offs = new int[g.inChannelsPerGroup() * taps];
    for (int c = 0; c < g.inChannelsPerGroup(); c++) {
      for (int kh = 0; kh < g.kernelH(); kh++) {
        for (int kw = 0; kw < g.kernelW(); kw++) {
          offs[c * taps + kh * g.kernelW() + kw] = c * channelStride() + tapOffset(g, kh, kw);
        }
      }
    }
    return offs;
  }

  /**
   * Lays out channels {@code [c0, c1)} of the sample at {@code x[xOff..]} into {@code paddedX}, channel {@code c}
   * at {@code (c - c0) * channelStride()}. {@code paddedX} is a buffer of this layout alone, zero when allocated:
   * cells a layout never writes stay zero.
   */
  void pad(float[] x, int xOff, int c0, int c1, float[] paddedX);

  /** Whether this layout is the NCHW sample itself, so that a kernel may read the input where it is. */
  boolean isInputItself();
}
