package dev.kiln.nn;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Inputs large enough to take the multi-threaded paths give bit-identical results to one thread: work is
 * split so that every output element is computed by one thread in the single-threaded order.
 */
class LayersParallelTest {

  private static Tensor random(long seed, int... shape) {
    return TestTensors.uniform(new SplittableRandom(seed), 2, shape);
  }

  /** Forward output, input gradient and parameter gradients, in that order. */
  private static List<float[]> run(Supplier<Module> factory, Tensor x, int threads) {
    int before = Parallel.threads();
    Parallel.setThreads(threads);
    try {
      Module m = factory.get();
      Tensor y = m.forward(x);
      List<float[]> out = new ArrayList<>();
      out.add(y.data());
      out.add(m.backward(random(99, y.shape())).data());
      m.namedParameters().values().forEach(p -> out.add(p.grad().data()));
      m.stateDict().values().forEach(t -> out.add(t.data()));
      return out;
    } finally {
      Parallel.setThreads(before);
    }
  }

  @Test
  void multiThreadedEqualsSingleThreaded() {
    List<Supplier<Module>> factories = List.of(
        () -> new Linear(64, 48, true, 5),
        () -> new MaxPool2d(3, 3, 2, 2, 1, 1),
        () -> new AvgPool2d(3, 3, 2, 2, 1, 1),
        () -> new BatchNorm2d(16),
        () -> {
          BatchNorm2d bn = new BatchNorm2d(16);
          bn.eval();
          return bn;
        });
    List<Tensor> inputs = List.of(random(1, 64, 64), random(2, 4, 16, 33, 31), random(3, 4, 16, 33, 31),
        random(4, 4, 16, 32, 32), random(5, 4, 16, 32, 32));
    int compared = 0;
    for (int i = 0; i < factories.size(); i++) {
      List<float[]> one = run(factories.get(i), inputs.get(i), 1);
      List<float[]> four = run(factories.get(i), inputs.get(i), 4);
      assertThat(four).hasSize(one.size());
      for (int j = 0; j < one.size(); j++) {
        assertWithMessage("layer %s, result %s", i, j).that(four.get(j)).isEqualTo(one.get(j));
        compared++;
      }
    }
    // Linear: y, gx, gw, gb, weight, bias; pools: y, gx; BN: y, gx, gw, gb and 5 state tensors (x2)
    assertThat(compared).isEqualTo(6 + 2 + 2 + 9 + 9);
  }
}
