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
    int w = windows.w;
    forWindows(windows, (k, plane, r0, r1, c0, c1) -> {
      float sum = 0f;
      for (int r = r0; r < r1; r++) {
        for (int c = c0; c < c1; c++) {
          sum += x[plane + r * w + c];
        }
      }
      y[k] = sum / divisor;
    });
    saveForBackward(savedInputShape, windows.inShape);
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    Windows windows = windows(savedInputShape.get());
    Tensor.checkShape("gradOutput", gradOutput, windows.outShape);
    float[] gy = gradOutput.data();
    Tensor gradInput = zeroedBuffer(GRAD_INPUT, windows.inShape);
    float[] gx = gradInput.data();
    int w = windows.w;
    forWindows(windows, (k, plane, r0, r1, c0, c1) -> {
      float g = gy[k] / divisor;
      for (int r = r0; r < r1; r++) {
        for (int c = c0; c < c1; c++) {
          gx[plane + r * w + c] += g;
        }
      }
    });
    return gradInput;
  }
}
