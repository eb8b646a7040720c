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
    int w = windows.w;
    forWindows(windows, (k, plane, r0, r1, c0, c1) -> {
      float max = Float.NEGATIVE_INFINITY;
      int index = plane + r0 * w + c0;
      for (int r = r0; r < r1; r++) {
        for (int c = c0; c < c1; c++) {
          float v = x[plane + r * w + c];
          if (v > max || v != v) {
            max = v;
            index = plane + r * w + c;
          }
        }
      }
      y[k] = max;
      if (argmax != null) {
        argmax[k] = index;
      }
    });
    if (argmax != null) {
      savedInputShape.set(windows.inShape);
      savedArgmax.set(argmax);
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
