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
  private int[] savedInputShape;

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
  public Tensor forward(Tensor input) {
    int[] inShape = input.shape();
    int[] outShape = outputShape(inShape);
    Tensor output = buffer(OUTPUT, outShape);
    int h = inShape[2];
    int w = inShape[3];
    int oh = outShape[2];
    int ow = outShape[3];
    int[] rows = rowWindows(h, oh);
    int[] cols = colWindows(w, ow);
    float[] x = input.data();
    float[] y = output.data();
    int planes = inShape[0] * inShape[1];
    forPlanes(planes, output.size(), (start, end) -> forwardPlanes(x, y, h, w, oh, ow, rows, cols, start, end));
    if (isTraining()) {
      savedInputShape = inShape;
    }
    return output;
  }

  private void forwardPlanes(float[] x, float[] y, int h, int w, int oh, int ow, int[] rows, int[] cols,
      int start, int end) {
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
    int[] inShape = savedInputShape;
    if (inShape == null) {
      throw new IllegalStateException("backward needs a training-mode forward first");
    }
    int[] outShape = outputShape(inShape);
    Tensor.checkShape("gradOutput", gradOutput, outShape);
    int h = inShape[2];
    int w = inShape[3];
    int oh = outShape[2];
    int ow = outShape[3];
    int[] rows = rowWindows(h, oh);
    int[] cols = colWindows(w, ow);
    float[] gy = gradOutput.data();
    Tensor gradInput = zeroedBuffer(GRAD_INPUT, inShape);
    float[] gx = gradInput.data();
    int planes = inShape[0] * inShape[1];
    forPlanes(planes, gy.length, (start, end) -> backwardPlanes(gy, gx, h, w, oh, ow, rows, cols, start, end));
    return gradInput;
  }

  private void backwardPlanes(float[] gy, float[] gx, int h, int w, int oh, int ow, int[] rows, int[] cols,
      int start, int end) {
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

  @Override
  public void train(boolean on) {
    super.train(on);
    savedInputShape = null;
  }
}
