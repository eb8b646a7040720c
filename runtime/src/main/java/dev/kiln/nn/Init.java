package dev.kiln.nn;

import dev.kiln.runtime.ThreadScope;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Parameter initialization with PyTorch's defaults, drawn from a seeded generator, and the way to skip it
 * for a network whose weights are loaded next ({@link #skipped}).
 */
public final class Init {
  /** Where the calling thread is inside {@link #skipped}. */
  private static final ThreadScope SKIPPING = new ThreadScope();

  private Init() {}

  /**
   * Runs {@code constructor} with random initialization skipped: every parameter it creates stays zero
   * (BatchNorm's weight stays one, as always). For a network whose weights are loaded right after (a
   * state dict, a checkpoint) this saves drawing millions of random numbers, like PyTorch's
   * {@code torch.nn.utils.skip_init}. Applies to the calling thread only, for the duration of the call.
   */
  public static <T> T skipped(Supplier<T> constructor) {
    return SKIPPING.call(constructor);
  }

  /** Whether the calling thread is inside {@link #skipped}. */
  public static boolean isSkipping() {
    return SKIPPING.active();
  }

  /**
   * Fills {@code values} with U(-1/sqrt(fanIn), 1/sqrt(fanIn)): PyTorch's default for conv and linear
   * weights ({@code kaiming_uniform_(a=sqrt(5))}) and biases; leaves them as they are inside
   * {@link #skipped}.
   */
  public static void uniformFanIn(float[] values, int fanIn, SplittableRandom random) {
    if (isSkipping()) {
      return;
    }
    double bound = fanIn > 0 ? 1.0 / Math.sqrt(fanIn) : 0.0;
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) ((random.nextDouble() * 2.0 - 1.0) * bound);
    }
  }
}
