package dev.kiln.nn;

import dev.kiln.tensor.Tensor;

/**
 * {@code torch.nn.ReLU}: {@code y = max(x, 0)} element-wise on any batch {@code [N, ...]} (NaN stays NaN).
 * The gradient passes where the output is positive and is 0 elsewhere, including at {@code x == 0}, as in
 * PyTorch. Training mode remembers the output (not a copy); eval-mode forward keeps no state.
 */
public final class ReLU extends AbstractModule {
  /** Training buffers ({@link #buffer}): the output and the input gradient. */
  private static final int OUTPUT = 0;
  private static final int GRAD_INPUT = 1;

  private final SavedForBackward<Tensor> savedOutput = savedForBackward();
  /** The gradient mask (vectorized when the JVM has the Vector API). */
  private final PlaneLoops planeLoops = PlaneLoops.get();

  /** A ReLU; it has no parameters and no state. */
  public ReLU() {}

  /** The input shape itself; throws for a tensor without a batch dimension. */
  public int[] outputShape(int... inputShape) {
    return LayerShapes.requireBatch("input", inputShape);
  }

  @Override
  public Tensor forward(Tensor input) {
    Tensor output = buffer(OUTPUT, outputShape(input.shape()));
    float[] x = input.data();
    float[] y = output.data();
    for (int i = 0; i < x.length; i++) {
      y[i] = Math.max(x[i], 0f); // 0 for -0 and negatives, NaN stays NaN, as v <= 0 ? 0 : v
    }
    saveForBackward(savedOutput, output);
    return output;
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    Tensor output = savedOutput.get();
    Tensor.checkShape("gradOutput", gradOutput, output.shape());
    float[] y = output.data();
    float[] gy = gradOutput.data();
    Tensor gradInput = buffer(GRAD_INPUT, output.shape());
    float[] gx = gradInput.data();
    Elementwise.reluGradient(planeLoops, y, gy, gx);
    return gradInput;
  }

  @Override
  public String toString() {
    return "ReLU()";
  }
}
