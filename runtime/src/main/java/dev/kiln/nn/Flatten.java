package dev.kiln.nn;

import dev.kiln.tensor.Tensor;
import java.util.Arrays;

/**
 * {@code torch.nn.Flatten()} (start_dim 1): {@code [N, d1, d2, ...] -> [N, d1*d2*...]}. The output shares
 * the input's data, like PyTorch's view; backward reshapes the gradient back to the input shape.
 */
public final class Flatten extends AbstractModule {
  private final SavedForBackward<int[]> savedInputShape = savedForBackward();

  /** A flatten layer; it has no parameters and no state. */
  public Flatten() {}

  /** {@code [N, prod(rest)]} for an input shape of rank at least 2. */
  public int[] outputShape(int... inputShape) {
    if (inputShape.length < 2) {
      throw new IllegalArgumentException(
          "input: expected shape [N, d1, ...] (rank >= 2) but got " + Arrays.toString(inputShape));
    }
    return new int[] {inputShape[0], LayerShapes.product(inputShape, 1)};
  }

  @Override
  public Tensor forward(Tensor input) {
    int[] shape = input.shape();
    int[] outputShape = outputShape(shape);
    saveForBackward(savedInputShape, shape);
    return input.reshape(outputShape);
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    int[] shape = savedInputShape.get();
    Tensor.checkShape("gradOutput", gradOutput, outputShape(shape));
    return gradOutput.reshape(shape);
  }

  @Override
  public String toString() {
    return "Flatten(start_dim=1, end_dim=-1)";
  }
}
