package dev.kiln.nn;

import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import java.util.Arrays;

/**
 * What {@link MaxPool2d} and {@link AvgPool2d} share: kernel, stride and symmetric zero/-inf padding with
 * PyTorch's rules (dilation 1, {@code ceil_mode=False}): {@code out = floor((in + 2 * pad - kernel) / stride) + 1},
 * {@code pad <= kernel / 2}; the output shape, each output's window, and the split of planes over threads.
 */
public abstract sealed class Pool2d extends AbstractModule permits MaxPool2d, AvgPool2d {
  /** Training buffers ({@link #buffer}): the output and the input gradient. */
  static final int OUTPUT = 0;
  static final int GRAD_INPUT = 1;

  final int kernelH;
  final int kernelW;
  final int strideH;
  final int strideW;
  final int padH;
  final int padW;

  Pool2d(String layer, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {
    if (kernelH <= 0 || kernelW <= 0) {
      throw new IllegalArgumentException(layer + ": kernel size must be positive but was (" + kernelH + ", "
          + kernelW + ")");
    }
    if (strideH <= 0 || strideW <= 0) {
      throw new IllegalArgumentException(layer + ": stride must be positive but was (" + strideH + ", "
          + strideW + ")");
    }
    if (padH < 0 || padW < 0 || padH > kernelH / 2 || padW > kernelW / 2) {
      throw new IllegalArgumentException(layer + ": padding must be between 0 and half the kernel size ("
          + kernelH / 2 + ", " + kernelW / 2 + ") but was (" + padH + ", " + padW + ")");
    }
    this.kernelH = kernelH;
    this.kernelW = kernelW;
    this.strideH = strideH;
    this.strideW = strideW;
    this.padH = padH;
    this.padW = padW;
  }

  /** {@code [N, C, outH, outW]} for an input shape {@code [N, C, H, W]}; throws if the input is too small. */
  public final int[] outputShape(int... inputShape) {
    int[] s = LayerShapes.requireNchw("input", inputShape, -1);
    int oh = ConvGeometry.outSize(s[2], padH, padH, kernelH, strideH, 1);
    int ow = ConvGeometry.outSize(s[3], padW, padW, kernelW, strideW, 1);
    if (oh <= 0 || ow <= 0) {
      throw new IllegalArgumentException("input: shape " + Arrays.toString(s) + " gives output size " + oh + "x"
          + ow + " with kernel (" + kernelH + ", " + kernelW + "), stride (" + strideH + ", " + strideW
          + "), padding (" + padH + ", " + padW + "): the input is too small");
    }
    return new int[] {s[0], s[1], oh, ow};
  }

  @Override
  public final Tensor forward(Tensor input) {
    Windows windows = windows(input.shape());
    Tensor output = buffer(OUTPUT, windows.outShape);
    forward(input.data(), output.data(), windows);
    return output;
  }

  /** Pools {@code x} into {@code y} (the layer's output); in training mode, saves what backward needs. */
  abstract void forward(float[] x, float[] y, Windows windows);

  /** The windows of an input shape {@code [N, C, H, W]} (checked as {@link #outputShape} does). */
  final Windows windows(int[] inShape) {
    int[] outShape = outputShape(inShape);
    return new Windows(inShape, outShape, span(inShape[2], outShape[2], kernelH, strideH, padH),
        span(inShape[3], outShape[3], kernelW, strideW, padW));
  }

  /**
   * One input shape's pooling windows: {@code planes = N * C} planes of {@code h x w} pooled to
   * {@code oh x ow}; {@code rows} holds the first (inclusive) and last (exclusive) input row of each output
   * row's window, clipped to the input, as {@code [start0, end0, start1, end1, ...]}, and {@code cols} the
   * same for columns.
   */
  static final class Windows {
    final int[] inShape;
    final int[] outShape;
    final int planes;
    final int h;
    final int w;
    final int oh;
    final int ow;
    final int[] rows;
    final int[] cols;

    private Windows(int[] inShape, int[] outShape, int[] rows, int[] cols) {
      this.inShape = inShape;
      this.outShape = outShape;
      this.planes = inShape[0] * inShape[1];
      this.h = inShape[2];
      this.w = inShape[3];
      this.oh = outShape[2];
      this.ow = outShape[3];
      this.rows = rows;
      this.cols = cols;
    }

    /** The number of outputs. */
    int outputs() {
      return planes * oh * ow;
    }
  }

  private static int[] span(int in, int out, int kernel, int stride, int pad) {
    int[] w = new int[2 * out];
    for (int o = 0; o < out; o++) {
      int start = o * stride - pad;
      w[2 * o] = Math.max(start, 0);
      w[2 * o + 1] = Math.min(start + kernel, in);
    }
    return w;
  }

  /** What a pool does with one window. */
  interface WindowBody {
    /**
     * Output {@code k} (its index in the batch) over input rows {@code [r0, r1)} and columns {@code [c0, c1)}
     * of the plane that starts at {@code plane} in the input (rows of {@link Windows#w} floats).
     */
    void window(int k, int plane, int r0, int r1, int c0, int c1);
  }

  /**
   * Runs {@code body} on every window of {@code windows}, plane by plane in output order, the planes split over
   * Kiln's threads when the call reads at least {@link Parallel#MIN_ELEMENTS} window elements.
   */
  final void forWindows(Windows windows, WindowBody body) {
    Parallel.RangeBody planes = (start, end) -> {
      int planeSize = windows.h * windows.w;
      int k = start * windows.oh * windows.ow;
      for (int p = start; p < end; p++) {
        for (int i = 0; i < windows.oh; i++) {
          int r0 = windows.rows[2 * i];
          int r1 = windows.rows[2 * i + 1];
          for (int j = 0; j < windows.ow; j++) {
            body.window(k++, p * planeSize, r0, r1, windows.cols[2 * j], windows.cols[2 * j + 1]);
          }
        }
      }
    };
    long work = (long) windows.outputs() * kernelH * kernelW;
    if (Parallel.worthSplitting(work, Parallel.MIN_ELEMENTS, windows.planes)) {
      Parallel.forRange(windows.planes, planes);
    } else {
      planes.run(0, windows.planes);
    }
  }

  /** Kernel height. */
  public final int kernelH() {
    return kernelH;
  }

  /** Kernel width. */
  public final int kernelW() {
    return kernelW;
  }

  /** Vertical stride. */
  public final int strideH() {
    return strideH;
  }

  /** Horizontal stride. */
  public final int strideW() {
    return strideW;
  }

  /** Top and bottom padding. */
  public final int padH() {
    return padH;
  }

  /** Left and right padding. */
  public final int padW() {
    return padW;
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "(kernel_size=(" + kernelH + ", " + kernelW + "), stride=(" + strideH
        + ", " + strideW + "), padding=(" + padH + ", " + padW + "))";
  }
}
