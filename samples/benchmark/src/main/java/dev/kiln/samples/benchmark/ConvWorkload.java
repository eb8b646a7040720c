package dev.kiln.samples.benchmark;

import dev.kiln.nn.ConvKernel;
import dev.kiln.tensor.Tensor;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The JMH state every engine's benchmark shares: one {@link ConvShape} (a JMH parameter over the whole
 * suite by default, {@code -p shape=C64_64_56,TINY} to pick), its generated Kiln kernel with the suite
 * weights, a seeded input batch and a preallocated output batch. The other engines take their weights
 * from {@link #kernel} and check their output against {@link #expected} once, before timing starts.
 */
@State(Scope.Thread)
public class ConvWorkload {
  /** Seed of the input batch. */
  public static final long INPUT_SEED = 7L;

  /** Largest tolerated difference between an engine's output and the Kiln kernel's. */
  public static final float TOLERANCE = 1e-3f;

  @Param
  public ConvShape shape;

  public ConvKernel kernel;
  public Tensor input;
  public Tensor output;
  private Tensor expected;

  @Setup
  public void setUp() {
    kernel = shape.newKernel();
    input = shape.randomInput(INPUT_SEED);
    output = Tensor.zeros(shape.outputShape());
  }

  /** The Kiln kernel's output for {@link #input}, computed once. */
  public Tensor expected() {
    if (expected == null) {
      expected = kernel.forward(input);
    }
    return expected;
  }

  /**
   * Fails the run when {@code actual} differs from the Kiln output by more than {@link #TOLERANCE}: a
   * benchmark of a wrong model is worthless.
   */
  public void check(String engine, float[] actual) {
    double diff = expected().maxAbsDifference(Tensor.of(actual, expected().shape()));
    if (!(diff <= TOLERANCE)) {
      throw new IllegalStateException(engine + " output differs from Kiln's by " + diff + " for "
          + shape + " (" + shape.describe() + ")");
    }
  }
}
