package dev.kiln.simd;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.ConvKernel;
import java.util.SplittableRandom;

/**
 * A test-only {@link ConvKernel} whose per-sample loops are plain nested loops over its geometry, standing
 * in for a processor-generated kernel: the base class picks the vectorized engine for it exactly as for a
 * generated one, and the loops here serve the parts the engine leaves to the kernel.
 */
final class NaiveConvKernel extends ConvKernel {
  private final ConvGeometry g;
  private final Activation act;

  NaiveConvKernel(ConvGeometry g, boolean bias, Activation activation, long seed) {
    super(g, bias, activation, seed);
    this.g = g;
    this.act = activation;
  }

  /** A geometry from the usual parameters (the output size derived as PyTorch does). */
  static ConvGeometry geometry(int in, int out, int h, int w, int kh, int kw, int sh, int sw, int dh, int dw,
      int pt, int pb, int pl, int pr, int groups, PaddingMode mode) {
    return ConvGeometry.builder().inChannels(in).outChannels(out).inputSize(h, w).kernel(kh, kw).stride(sh, sw)
        .dilation(dh, dw).padding(pt, pb, pl, pr).groups(groups).paddingMode(mode).build();
  }

  /**
   * The channels of a convolution by groups: {@code groups} groups of {@code inPerGroup} input and
   * {@code outPerGroup} output channels.
   */
  record Grouping(int groups, int inPerGroup, int outPerGroup) {
    int inChannels() {
      return groups * inPerGroup;
    }

    int outChannels() {
      return groups * outPerGroup;
    }
  }

  /**
   * Random padding {@code {top, bottom, left, right}} of 0 to 2 each, the bottom (right) equal to the top (left)
   * half of the time: four draws of {@code r} in that order.
   */
  static int[] randomPadding(SplittableRandom r) {
    int pt = r.nextInt(3);
    int pb = r.nextInt(2) == 0 ? pt : r.nextInt(3);
    int pl = r.nextInt(3);
    int pr = r.nextInt(2) == 0 ? pl : r.nextInt(3);
    return new int[] {pt, pb, pl, pr};
  }

  /**
   * Whether a window of {@code kernel} taps {@code dilation} apart fits at least once along an axis of
   * {@code size} with this padding (else the geometry has no output): {@link ConvGeometry#outSize} is positive.
   */
  static boolean windowFits(int size, int padBefore, int padAfter, int kernel, int dilation) {
    return ConvGeometry.outSize(size, padBefore, padAfter, kernel, 1, dilation) > 0;
  }

  /** {@link #geometry} with the channels of {@code c} and padding {@code {top, bottom, left, right}}. */
  static ConvGeometry geometry(Grouping c, int h, int w, int kh, int kw, int sh, int sw, int dh, int dw, int[] pad,
      PaddingMode mode) {
    return geometry(c.inChannels(), c.outChannels(), h, w, kh, kw, sh, sw, dh, dw, pad[0], pad[1], pad[2], pad[3],
        c.groups(), mode);
  }

  /** Index of the input element tap (kh, kw) of output (oh, ow) reads in channel plane {@code ic}, or -1. */
  private int inputIndex(int ic, int oh, int ow, int kh, int kw) {
    int r = ConvGeometry.sourceIndex(oh * g.strideH() - g.padTop() + kh * g.dilationH(), g.inHeight(), g.paddingMode());
    int c = ConvGeometry.sourceIndex(ow * g.strideW() - g.padLeft() + kw * g.dilationW(), g.inWidth(), g.paddingMode());
    return r < 0 || c < 0 ? -1 : (ic * g.inHeight() + r) * g.inWidth() + c;
  }

  @Override
  protected void forwardSample(float[] x, int xOff, float[] y, int yOff, int ocStart, int ocEnd) {
    forEachOutput(ocStart, ocEnd, (oc, oh, ow, o) -> {
      float[] acc = {b == null ? 0f : b[oc]};
      forEachTap(oc, oh, ow, (wi, i) -> acc[0] += w[wi] * x[xOff + i]);
      float a = acc[0];
      if (act != Activation.NONE && a < 0f) {
        a = 0f;
      } else if (act == Activation.RELU6 && a > 6f) {
        a = 6f;
      }
      y[yOff + o] = a;
    });
  }

  @Override
  protected void backwardInputSample(float[] gy, int gyOff, float[] gx, int gxOff) {
    forEachOutput(0, g.outChannels(), (oc, oh, ow, o) -> {
      float go = gy[gyOff + o];
      forEachTap(oc, oh, ow, (wi, i) -> gx[gxOff + i] += w[wi] * go);
    });
  }

  @Override
  protected void backwardWeightSample(float[] x, int xOff, float[] gy, int gyOff, float[] gw, float[] gb) {
    forEachOutput(0, g.outChannels(), (oc, oh, ow, o) -> {
      float go = gy[gyOff + o];
      if (gb != null) {
        gb[oc] += go;
      }
      forEachTap(oc, oh, ow, (wi, i) -> gw[wi] += x[xOff + i] * go);
    });
  }

  /** What runs for each output element: its channel, row, column and index within the sample's output. */
  private interface OutputBody {
    void output(int oc, int oh, int ow, int index);
  }

  /** What runs for each tap of an output that reads an input element: the weight's and the input's index. */
  private interface TapBody {
    void tap(int weight, int input);
  }

  /** Every output element of channels {@code [ocStart, ocEnd)}, channel-major. */
  private void forEachOutput(int ocStart, int ocEnd, OutputBody body) {
    for (int oc = ocStart; oc < ocEnd; oc++) {
      for (int oh = 0; oh < g.outHeight(); oh++) {
        for (int ow = 0; ow < g.outWidth(); ow++) {
          body.output(oc, oh, ow, (oc * g.outHeight() + oh) * g.outWidth() + ow);
        }
      }
    }
  }

  /** The taps of output (oc, oh, ow) that read an input element, in PyTorch's weight order. */
  private void forEachTap(int oc, int oh, int ow, TapBody body) {
    int inGroupChannels = g.inChannelsPerGroup();
    int firstChannel = oc / g.outChannelsPerGroup() * inGroupChannels;
    for (int c = 0; c < inGroupChannels; c++) {
      for (int kh = 0; kh < g.kernelH(); kh++) {
        for (int kw = 0; kw < g.kernelW(); kw++) {
          int i = inputIndex(firstChannel + c, oh, ow, kh, kw);
          if (i >= 0) {
            body.tap(((oc * inGroupChannels + c) * g.kernelH() + kh) * g.kernelW() + kw, i);
          }
        }
      }
    }
  }
}
