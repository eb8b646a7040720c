package dev.kiln.nn;

import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;

/**
 * Average pooling, {@code torch.nn.AvgPool2d(kernel_size, stride, padding)} with {@code ceil_mode=False} and
 * {@code count_include_pad=True}, on {@code [N, C, H, W]}: zero padding, and every window is divided by
 * {@code kernelH * kernelW}. Backward spreads each output gradient, divided the same way, over the window's
 * input elements. Training mode remembers only the input shape; eval-mode forward keeps no state.
 */
public final class AvgPool2d extends AbstractModule {
  /** Below this many window reads per call, work stays on the calling thread. */
  private static final long PARALLEL_THRESHOLD = 1L << 16;
  /** Training buffers ({@link #buffer}): the output and the input gradient. */
  private static final int OUTPUT = 0;
  private static final int GRAD_INPUT = 1;

  private final Pool2dGeometry geometry;
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
    geometry = new Pool2dGeometry("AvgPool2d", kernelH, kernelW, strideH, strideW, padH, padW);
    divisor = kernelH * kernelW;
  }

  /** A square pool: {@code AvgPool2d(kernel, kernel, stride, stride, padding, padding)}. */
  public AvgPool2d(int kernel, int stride, int padding) {
    this(kernel, kernel, stride, stride, padding, padding);
  }

  /** {@code [N, C, outH, outW]} for an input shape {@code [N, C, H, W]}; throws if the input is too small. */
  public int[] outputShape(int... inputShape) {
    return geometry.outputShape(inputShape);
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
    int[] rows = geometry.rowWindows(h, oh);
    int[] cols = geometry.colWindows(w, ow);
    float[] x = input.data();
    float[] y = output.data();
    int planes = inShape[0] * inShape[1];
    if (parallel(planes, output.size())) {
      Parallel.forRange(planes, (start, end) -> forwardPlanes(x, y, h, w, oh, ow, rows, cols, start, end));
    } else {
      forwardPlanes(x, y, h, w, oh, ow, rows, cols, 0, planes);
    }
    if (isTraining()) {
      savedInputShape = inShape;
    }
    return output;
  }

  private boolean parallel(int planes, int outputs) {
    long work = (long) outputs * geometry.kernelH * geometry.kernelW;
    return Parallel.threads() > 1 && planes > 1 && work >= PARALLEL_THRESHOLD;
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
    int[] rows = geometry.rowWindows(h, oh);
    int[] cols = geometry.colWindows(w, ow);
    float[] gy = gradOutput.data();
    Tensor gradInput = zeroedBuffer(GRAD_INPUT, inShape);
    float[] gx = gradInput.data();
    int planes = inShape[0] * inShape[1];
    if (parallel(planes, gy.length)) {
      Parallel.forRange(planes, (start, end) -> backwardPlanes(gy, gx, h, w, oh, ow, rows, cols, start, end));
    } else {
      backwardPlanes(gy, gx, h, w, oh, ow, rows, cols, 0, planes);
    }
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

  /** Kernel height. */
  public int kernelH() {
    return geometry.kernelH;
  }

  /** Kernel width. */
  public int kernelW() {
    return geometry.kernelW;
  }

  /** Vertical stride. */
  public int strideH() {
    return geometry.strideH;
  }

  /** Horizontal stride. */
  public int strideW() {
    return geometry.strideW;
  }

  /** Top and bottom padding. */
  public int padH() {
    return geometry.padH;
  }

  /** Left and right padding. */
  public int padW() {
    return geometry.padW;
  }

  @Override
  public String toString() {
    return "AvgPool2d(" + geometry + ")";
  }
}
