package dev.kiln.testing;

import dev.kiln.nn.Parameter;
import dev.kiln.tensor.Tensor;
import java.util.SplittableRandom;

/** Random test inputs, shared by the runtime and processor tests. */
public final class TestTensors {
  private TestTensors() {}

  /** A tensor of {@code shape} with values uniform in {@code [-bound, bound)}, drawn in order from {@code r}. */
  public static Tensor uniform(SplittableRandom r, double bound, int... shape) {
    Tensor t = Tensor.zeros(shape);
    float[] d = t.data();
    for (int i = 0; i < d.length; i++) {
      d[i] = (float) (r.nextDouble() * (2 * bound) - bound);
    }
    return t;
  }

  /**
   * New values for {@code p}, uniform in {@code [-1, 1)} ({@code r.nextDouble(-1, 1)} in order), marked changed as
   * every writer must ({@link Parameter#markChanged}).
   */
  public static void redraw(Parameter p, SplittableRandom r) {
    float[] v = p.data().data();
    for (int k = 0; k < v.length; k++) {
      v[k] = (float) r.nextDouble(-1, 1);
    }
    p.markChanged();
  }
}
