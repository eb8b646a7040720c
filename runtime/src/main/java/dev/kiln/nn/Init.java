package dev.kiln.nn;

import java.util.SplittableRandom;

/** Parameter initialization with PyTorch's defaults, drawn from a seeded generator. */
public final class Init {
  private Init() {}

  /**
   * Fills {@code values} with U(-1/sqrt(fanIn), 1/sqrt(fanIn)): PyTorch's default for conv and linear
   * weights ({@code kaiming_uniform_(a=sqrt(5))}) and biases.
   */
  public static void uniformFanIn(float[] values, int fanIn, SplittableRandom random) {
    double bound = fanIn > 0 ? 1.0 / Math.sqrt(fanIn) : 0.0;
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) ((random.nextDouble() * 2.0 - 1.0) * bound);
    }
  }
}
