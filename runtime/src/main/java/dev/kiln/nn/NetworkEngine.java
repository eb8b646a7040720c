package dev.kiln.nn;

import dev.kiln.tensor.Tensor;

/**
 * An alternative eval-mode forward of a whole {@link SequentialModel}, chosen once per model (for example
 * the blocked-layout engine of {@code dev.kiln.simd}, present only when the JVM runs with
 * {@code --add-modules jdk.incubator.vector}): it may keep activations in its own layout from one layer to
 * the next and run layers it does not know through their own {@link Module#forward}. Its outputs equal the
 * layer-by-layer forward's to float rounding. It reads the layers' current parameters on every call (and
 * may cache derived forms keyed by {@link Parameter#version()}), and must be safe to call from many
 * threads at once.
 */
public interface NetworkEngine {
  /** The eval-mode forward of the model on {@code input} ({@code [N, ...]}, already checked). */
  Tensor forward(Tensor input);

  /** A short name for benchmarks and tests. */
  String name();

  /**
   * Waits until the code this engine has asked to have compiled for the calls made so far is compiled, at
   * most {@code timeoutNanos}; returns whether it is. The default has nothing to wait for.
   *
   * @throws InterruptedException if the calling thread is interrupted while it waits
   */
  default boolean awaitCompiled(long timeoutNanos) throws InterruptedException {
    return true;
  }

  /** Creates engines; implementations have a public no-arg constructor. */
  interface Factory {
    /** An engine for {@code model}'s layers, or {@code null} when it would not be faster than layer by layer. */
    NetworkEngine create(SequentialModel model);
  }
}
