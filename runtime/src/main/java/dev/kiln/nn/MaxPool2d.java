package dev.kiln.nn;

import dev.kiln.tensor.Tensor;

/**
 * Max pooling, {@code torch.nn.MaxPool2d(kernel_size, stride, padding)} with dilation 1 and
 * {@code ceil_mode=False}, on {@code [N, C, H, W]}. Padding counts as {@code -inf}; within a window the first
 * maximum in row-major scan order wins (a NaN wins over numbers), as PyTorch's CPU kernel does. Backward adds
 * each output gradient to its window's argmax. Training mode remembers one {@code int} argmax per output
 * element; eval-mode forward keeps no state.
 */
public final class MaxPool2d extends Pool2d {
  private final SavedForBackward<int[]> savedInputShape = savedForBackward();
  private final SavedForBackward<int[]> savedArgmax = savedForBackward();

  /**
   * @param kernelH kernel height, positive
   * @param kernelW kernel width, positive
   * @param strideH vertical stride, positive
   * @param strideW horizontal stride, positive
   * @param padH top and bottom padding, at most {@code kernelH / 2}
   * @param padW left and right padding, at most {@code kernelW / 2}
   */
  public MaxPool2d(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {
    super("MaxPool2d", kernelH, kernelW, strideH, strideW, padH, padW);
  }

  /** A square pool: {@code MaxPool2d(kernel, kernel, stride, stride, padding, padding)}. */
  public MaxPool2d(int kernel, int stride, int padding) {
    this(kernel, kernel, stride, stride, padding, padding);
  }

  @Override
  void forward(float[] x, float[] y, Windows windows) {
    int[] old = savedArgmax.orNull();
    int[] argmax = !isTraining() ? null
        : reusesBuffers() && old != null && old.length == y.length ? old : new int[y.length];
    forPlanes(windows, (start, end) -> forwardPlanes(x, y, argmax, windows, start, end));
    if (argmax != null) {
      savedInputShape.set(windows.inShape);
      savedArgmax.set(argmax);
    }
  }

  private static void forwardPlanes(float[] x, float[] y, int[] argmax, Windows windows, int start, int end) {
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
          float max = Float.NEGATIVE_INFINITY;
          int index = xo + r0 * w + c0;
          for (int r = r0; r < r1; r++) {
            int row = xo + r * w;
            for (int c = c0; c < c1; c++) {
              float v = x[row + c];
              if (v > max || v != v) {
                max = v;
                index = row + c;
              }
            }
          }
          int k = yo + i * ow + j;
          y[k] = max;
          if (argmax != null) {
            argmax[k] = index;
          }
        }
      }
    }
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    int[] inShape = savedInputShape.get();
    int[] argmax = savedArgmax.get();
    Tensor.checkShape("gradOutput", gradOutput, outputShape(inShape));
    float[] gy = gradOutput.data();
    Tensor gradInput = zeroedBuffer(GRAD_INPUT, inShape);
    float[] gx = gradInput.data();
    for (int k = 0; k < gy.length; k++) {
      gx[argmax[k]] += gy[k];
    }
    return gradInput;
  }

}
