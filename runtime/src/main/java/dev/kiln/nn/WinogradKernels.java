package dev.kiln.nn;

import dev.kiln.annotation.PaddingMode;

/**
 * The weight transform of Winograd's minimal filtering F(2x2, 3x3) (Lavin and Gray, "Fast Algorithms for
 * Convolutional Neural Networks", 2016), shared by the engines that run 3x3 layers in that form ({@link
 * PlainWinograd} here, {@code dev.kiln.simd.WinogradConv} with the Vector API): {@code G g G^T} of a 3x3 kernel
 * {@code g}, with {@code G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]}, computed in double and
 * rounded once.
 */
public final class WinogradKernels {
  /** Positions of a transformed 4x4 patch. */
  public static final int POSITIONS = 16;

  /**
   * The fewest input channels with which a layer in a network runs in this form, by default: the transforms cost the
   * same per vector of channels whatever their number, the products save 5/9 of the multiply-adds, so the fewer
   * channels, the less is left of the gain (RepVGG-A0's 48-channel layer took 16% less time, its 192-channel ones
   * 48%, on an AMD EPYC Zen 4).
   */
  public static final int MIN_CHANNELS = 32;

  private WinogradKernels() {}

  /**
   * Whether {@code g} has the shape this form computes: a 3x3 convolution of stride 1, dilation 1, one group and
   * zero padding 1 on every side, with even output sides (whole 2x2 tiles). The engines add their own conditions
   * (input channels, layouts).
   */
  public static boolean fits(ConvGeometry g) {
    return g.kernelH() == 3 && g.kernelW() == 3 && g.strideH() == 1 && g.strideW() == 1
        && g.dilationH() == 1 && g.dilationW() == 1 && g.groups() == 1
        && g.padTop() == 1 && g.padBottom() == 1 && g.padLeft() == 1 && g.padRight() == 1
        && g.paddingMode() == PaddingMode.ZEROS && g.outHeight() % 2 == 0 && g.outWidth() % 2 == 0;
  }

  /**
   * Writes {@code G g G^T} of the 3x3 kernel at {@code w[k..k + 9)} (row-major) into {@code u[0..16)}: element
   * {@code (i, j)} at {@code u[4i + j]}.
   */
  public static void transform(float[] w, int k, float[] u) {
    // G g, row by row (4x3), each row then times G^T.
    for (int i = 0; i < 4; i++) {
      double a;
      double b;
      double d;
      if (i == 0 || i == 3) {
        int r = k + (i == 3 ? 6 : 0);
        a = w[r];
        b = w[r + 1];
        d = w[r + 2];
      } else {
        double sign = i == 1 ? 1 : -1;
        a = (w[k] + sign * w[k + 3] + w[k + 6]) / 2;
        b = (w[k + 1] + sign * w[k + 4] + w[k + 7]) / 2;
        d = (w[k + 2] + sign * w[k + 5] + w[k + 8]) / 2;
      }
      u[4 * i] = (float) a;
      u[4 * i + 1] = (float) ((a + b + d) / 2);
      u[4 * i + 2] = (float) ((a - b + d) / 2);
      u[4 * i + 3] = (float) d;
    }
  }
}
