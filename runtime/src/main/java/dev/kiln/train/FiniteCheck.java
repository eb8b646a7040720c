package dev.kiln.train;

import dev.kiln.tensor.Tensor;
import java.util.Map;

/** Finds NaN and infinite values in named tensors (weights, optimizer state), for clear messages. */
public final class FiniteCheck {
  private FiniteCheck() {}

  /**
   * The first non-finite value of {@code tensors}, in map order, described as {@code tensor "fc.weight"
   * holds NaN at element 3 of 640}; null if every value is finite.
   */
  public static String firstNonFinite(Map<String, Tensor> tensors) {
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      float[] data = e.getValue().data();
      for (int i = 0; i < data.length; i++) {
        if (!Float.isFinite(data[i])) {
          return "tensor \"" + e.getKey() + "\" holds " + data[i] + " at element " + i + " of " + data.length;
        }
      }
    }
    return null;
  }
}
