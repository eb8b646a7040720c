package dev.kiln.nn;

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

  private WinogradKernels() {}

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
