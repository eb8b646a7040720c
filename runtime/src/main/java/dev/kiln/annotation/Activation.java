package dev.kiln.annotation;

/** An activation fused into a generated kernel's epilogue (applied after the bias). */
public enum Activation {
  /** Identity. */
  NONE,
  /** {@code max(0, x)}. */
  RELU,
  /**
   * {@code min(max(0, x), 6)}, PyTorch's {@code ReLU6} (ONNX {@code Clip(0, 6)}); its gradient passes where
   * {@code 0 < y < 6}. Supported on {@code @Conv2d}, not on {@code @RepConv}.
   */
  RELU6;

  /** The least value this activation outputs: minus infinity for {@link #NONE}, else 0. */
  public float lower() {
    return this == NONE ? Float.NEGATIVE_INFINITY : 0f;
  }

  /** The greatest value this activation outputs: 6 for {@link #RELU6}, else plus infinity. */
  public float upper() {
    return this == RELU6 ? 6f : Float.POSITIVE_INFINITY;
  }
}
