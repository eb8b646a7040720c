package dev.kiln.nn;

import dev.kiln.tensor.Tensor;
import java.util.Arrays;

/** Shape checks shared by the runtime layers; every failure names the expected and the actual shape. */
final class LayerShapes {
  private LayerShapes() {}

  /**
   * Checks that {@code shape} is {@code [N, C, H, W]} with {@code C == channels} (any channel count when
   * {@code channels < 0}) and returns it.
   */
  static int[] requireNchw(String what, int[] shape, int channels) {
    if (shape.length != 4 || (channels >= 0 && shape[1] != channels)) {
      throw new IllegalArgumentException(what + ": expected shape [N, " + (channels >= 0 ? channels : "C")
          + ", H, W] but got " + Arrays.toString(shape));
    }
    return shape;
  }

  /**
   * Checks that {@code t} is {@code [N, channels, height, width]} without allocating (the message is built only
   * on failure) and returns N.
   */
  static int requireSamples(String what, Tensor t, int channels, int height, int width) {
    if (t.rank() != 4 || t.dim(1) != channels || t.dim(2) != height || t.dim(3) != width) {
      throw new IllegalArgumentException(what + ": expected shape [N, " + channels + ", " + height + ", " + width
          + "] but got " + Arrays.toString(t.shape()));
    }
    return t.dim(0);
  }

  /** Checks that {@code shape} has a batch dimension ({@code [N, ...]}) and returns a copy of it. */
  static int[] requireBatch(String what, int[] shape) {
    if (shape.length < 1) {
      throw new IllegalArgumentException(what + ": expected shape [N, ...] but got " + Arrays.toString(shape));
    }
    return shape.clone();
  }

  /** The product of {@code shape[from..]}. */
  static int product(int[] shape, int from) {
    int p = 1;
    for (int i = from; i < shape.length; i++) {
      p *= shape[i];
    }
    return p;
  }
}
