package dev.kiln.processor.writing;

import dev.kiln.annotation.Activation;

/** The generated Java expression of a convolution's activation, for the loops C2 vectorizes. */
final class ActivationCode {
  private ActivationCode() {}

  /**
   * {@code value} through {@code activation}: {@code Math.max(v, 0f)} for ReLU, clamped to {@code [0, 6]} for
   * ReLU6 (NaN stays NaN in both, as in PyTorch), {@code value} itself without one.
   */
  static String apply(Activation activation, String value) {
    return switch (activation) {
      case RELU -> "Math.max(" + value + ", 0f)";
      case RELU6 -> "Math.min(Math.max(" + value + ", 0f), 6f)";
      case NONE -> value;
    };
  }
}
