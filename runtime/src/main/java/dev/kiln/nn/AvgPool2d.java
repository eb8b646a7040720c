package dev.kiln.nn;

import dev.kiln.tensor.Tensor;

/**
 * Average pooling, {@code torch.nn.AvgPool2d(kernel_size, stride, padding)} with {@code ceil_mode=False} and
 * {@code count_include_pad=True}, on {@code [N, C, H, W]}: zero padding, and every window is divided by
 * {@code kernelH * kernelW}. Backward spreads each output gradient, divided the same way, over the window's
 * input elements. Training mode remembers only the input shape; eval-mode forward keeps no state.
 */
public final class AvgPool2d extends Pool2d {
  private final float divisor;
  private final SavedForBackward<int[]> savedInputShape = savedForBackward();

  /**
   * @param kernelH kernel height, positive
   * @param kernelW kernel width, positive
   * @param strideH vertical stride, positive
   * @param strideW horizontal stride, positive
   * @param padH top and bottom padding, at most {@code kernelH / 2}
   * @param padW left and right padding, at most {@code kernelW / 2}
   */
  public AvgPool2d(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {
    super("AvgPool2d", kernelH, kernelW, strideH, strideW, padH, padW);
    divisor = kernelH * kernelW;
  }

  /** A square pool: {@code AvgPool2d(kernel, kernel, stride, stride, padding, padding)}. */
  public AvgPool2d(int kernel, int stride, int padding) {
    this(kernel, kernel, stride, stride, padding, padding);
  }

  @Override
  void forward(float[] x, float[] y, Windows windows) {
    forPlanes(windows, (start, end) -> forwardPlanes(x, y, windows, start, end));
    if (isTraining()) {
      savedInputShape.set(windows.inShape);
    }
  }

  private void forwardPlanes(float[] x, float[] y, Windows windows, int start, int end) {
    int h = windows.h;
    int w = windows.w;
    int oh = windows.oh;
    int ow = windows.ow;
    int[] rows = windows.rows;
    int[] cols = windows.cols;
    for (int p = start; p < end; p++) {
      int xo = p * h * w;
      int yo = p * oh * ow;
      for (int i = 0; i < oh; i++) {
        int r0 = rows[2 * i];
        int r1 = rows[2 * i + 1];
        for (int j = 0; j < ow; j++) {
          int c0 = cols[2 * j];
          int c1 = cols[2 * j + 1];
          float sum = 0f;
          for (int r = r0; r < r1; r++) {
            int row = xo + r * w;
            for (int c = c0; c < c1; c++) {
              sum += x[row + c];
            }
          }
          y[yo + i * ow + j] = sum / divisor;
        }
      }
    }
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    Windows windows = windows(savedInputShape.get());
    Tensor.checkShape("gradOutput", gradOutput, windows.outShape);
    float[] gy = gradOutput.data();
    Tensor gradInput = zeroedBuffer(GRAD_INPUT, windows.inShape);
    float[] gx = gradInput.data();
    forPlanes(windows, (start, end) -> backwardPlanes(gy, gx, windows, start, end));
    return gradInput;
  }

  private void backwardPlanes(float[] gy, float[] gx, Windows windows, int start, int end) {
    int h = windows.h;
    int w = windows.w;
    int oh = windows.oh;
    int ow = windows.ow;
    int[] rows = windows.rows;
    int[] cols = windows.cols;
    for (int p = start; p < end; p++) {
      int xo = p * h * w;
      int yo = p * oh * ow;
      for (int i = 0; i < oh; i++) {
        int r0 = rows[2 * i];
        int r1 = rows[2 * i + 1];
        for (int j = 0; j < ow; j++) {
          int c0 = cols[2 * j];
          int c1 = cols[2 * j + 1];
          float g = gy[yo + i * ow + j] / divisor;
          for (int r = r0; r < r1; r++) {
            int row = xo + r * w;
            for (int c = c0; c < c1; c++) {
              gx[row + c] += g;
            }
          }
        }
      }
    }
  }

}
