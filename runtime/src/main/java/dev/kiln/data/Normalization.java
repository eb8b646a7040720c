package dev.kiln.data;

/**
 * Per-pixel standardization {@code (x - mean) / std}, applied after pixels are scaled to {@code [0, 1]}
 * (as {@code torchvision.transforms.Normalize} after {@code ToTensor}).
 *
 * @param mean subtracted from every pixel
 * @param std every pixel is divided by it; finite and positive
 */
public record Normalization(float mean, float std) {
  /** Leaves pixels in {@code [0, 1]}. */
  public static final Normalization NONE = new Normalization(0f, 1f);

  /** Mean and standard deviation of the Fashion-MNIST training images. */
  public static final Normalization FASHION_MNIST = new Normalization(0.2860f, 0.3530f);

  /** Mean and standard deviation of the MNIST training images. */
  public static final Normalization MNIST = new Normalization(0.1307f, 0.3081f);

  /**
   * @throws IllegalArgumentException if {@code mean} is not finite or {@code std} is not finite and positive
   */
  public Normalization {
    if (!Float.isFinite(mean)) {
      throw new IllegalArgumentException("mean must be finite but was " + mean);
    }
    if (!(std > 0f) || !Float.isFinite(std)) {
      throw new IllegalArgumentException("std must be finite and positive but was " + std);
    }
  }

  /** Whether this is the identity. */
  public boolean isIdentity() {
    return mean == 0f && std == 1f;
  }

  /** Normalizes {@code values} in place. */
  public void apply(float[] values) {
    if (isIdentity()) {
      return;
    }
    for (int i = 0; i < values.length; i++) {
      values[i] = (values[i] - mean) / std;
    }
  }
}
