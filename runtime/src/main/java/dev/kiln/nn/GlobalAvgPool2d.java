package dev.kiln.nn;

import dev.kiln.tensor.Tensor;

/**
 * Global average pooling, {@code torch.nn.AdaptiveAvgPool2d(1)}: {@code [N, C, H, W] -> [N, C, 1, 1]}, each
 * output the mean of its {@code H x W} plane (summed in double). Backward spreads {@code gy / (H * W)} over
 * the plane. Eval-mode forward keeps no state.
 */
public final class GlobalAvgPool2d extends AbstractModule {
  /** Training buffers ({@link #buffer}): the output and the input gradient. */
  private static final int OUTPUT = 0;
  private static final int GRAD_INPUT = 1;

  private final SavedForBackward<int[]> savedInputShape = savedForBackward();

  /** A global average pool; it has no parameters and no state. */
  public GlobalAvgPool2d() {}

  /** {@code [N, C, 1, 1]} for an input shape {@code [N, C, H, W]}. */
  public int[] outputShape(int... inputShape) {
    int[] s = LayerShapes.requireNchw("input", inputShape, -1);
    if (s[2] == 0 || s[3] == 0) {
      throw new IllegalArgumentException(
          "input: expected a non-empty plane [N, C, H >= 1, W >= 1] but got " + Tensor.shapeString(s));
    }
    return new int[] {s[0], s[1], 1, 1};
  }

  @Override
  public Tensor forward(Tensor input) {
    int[] shape = input.shape();
    Tensor output = buffer(OUTPUT, outputShape(shape));
    int planes = shape[0] * shape[1];
    int area = shape[2] * shape[3];
    float[] x = input.data();
    float[] y = output.data();
    for (int p = 0; p < planes; p++) {
      double sum = 0;
      int off = p * area;
      for (int i = 0; i < area; i++) {
        sum += x[off + i];
      }
      y[p] = (float) (sum / area);
    }
    saveForBackward(savedInputShape, shape);
    return output;
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    int[] shape = savedInputShape.get();
    Tensor.checkShape("gradOutput", gradOutput, shape[0], shape[1], 1, 1);
    int planes = shape[0] * shape[1];
    int area = shape[2] * shape[3];
    float[] gy = gradOutput.data();
    Tensor gradInput = buffer(GRAD_INPUT, shape);
    float[] gx = gradInput.data();
    for (int p = 0; p < planes; p++) {
      float g = gy[p] / area;
      int off = p * area;
      for (int i = 0; i < area; i++) {
        gx[off + i] = g;
      }
    }
    return gradInput;
  }

  @Override
  public String toString() {
    return "GlobalAvgPool2d()";
  }
}
