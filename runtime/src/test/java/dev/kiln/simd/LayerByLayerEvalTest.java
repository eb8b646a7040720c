package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;

import dev.kiln.annotation.Activation;
import dev.kiln.nn.AbstractModule;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.SequentialModel;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.NumericAssertions;
import dev.kiln.testing.TestTensors;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The eval-mode forward of a {@link SequentialModel} that runs its layers one by one (no network engine: here
 * because {@code kiln.simd=false} when the engine is first asked for, as on the scalar path) writes the
 * convolutions' outputs into the tensors of its previous call: it returns what the allocating layer-by-layer
 * forward returns, bit for bit, never hands out or overwrites a tensor it returned, writes each convolution's
 * output into the same tensor while the batch size stays (not with buffer reuse off), and gives concurrent
 * calls their own tensors.
 */
class LayerByLayerEvalTest {
  /** A model whose last layer is a convolution (its output is returned, so it is never kept). */
  static final class ConvLast extends SequentialModel {
    ConvLast(long seed) {
      super(new int[] {3, 12, 11}, new int[] {5, 6, 6});
      add("a", BlockedNetworkTest.Net.conv(3, 8, 12, 11, 3, 1, 1, 1, Activation.RELU, seed));
      add("b", BlockedNetworkTest.Net.conv(8, 5, 12, 11, 3, 2, 1, 1, Activation.NONE, seed + 1));
    }
  }

  /** A model whose last layer returns a view of the last convolution's output. */
  static final class FlattenLast extends SequentialModel {
    FlattenLast(long seed) {
      super(new int[] {3, 12, 11}, new int[] {8 * 12 * 11});
      add("a", BlockedNetworkTest.Net.conv(3, 8, 12, 11, 3, 1, 1, 1, Activation.RELU, seed));
      add("flatten", new Flatten());
    }
  }

  /**
   * {@code create} in eval mode, with the network engine looked up while {@code kiln.simd} is false (the
   * convolutions keep their vectorized engine, which allocates nothing per call, unlike the test's naive loops).
   */
  private static <M extends SequentialModel> M layerByLayer(Supplier<M> create) {
    M model = create.get();
    model.eval();
    String before = System.getProperty("kiln.simd");
    System.setProperty("kiln.simd", "false");
    try {
      assertThat(model.networkEngine()).isNull();
      return model;
    } finally {
      if (before == null) {
        System.clearProperty("kiln.simd");
      } else {
        System.setProperty("kiln.simd", before);
      }
    }
  }

  private static void assertSameBits(Tensor expected, Tensor actual) {
    assertThat(actual.shape()).isEqualTo(expected.shape());
    NumericAssertions.assertSameBits("forward against the layer-by-layer forward", expected.data(), actual.data());
  }

  @Test
  void returnsFreshTensorsEqualToTheLayerByLayerForward() {
    List<Supplier<SequentialModel>> models = List.of(() -> new BlockedNetworkTest.Net(3), () -> new ConvLast(4),
        () -> new FlattenLast(5));
    SplittableRandom r = new SplittableRandom(21);
    int compared = 0;
    for (Supplier<SequentialModel> create : models) {
      SequentialModel model = layerByLayer(create);
      int[] in = model.inputShape();
      List<Tensor> inputs = new ArrayList<>();
      List<Tensor> results = new ArrayList<>();
      for (int n : new int[] {2, 2, 1, 2}) { // the same batch size again, then another, then back
        Tensor x = TestTensors.uniform(r, 1, n, in[0], in[1], in[2]);
        Tensor y = model.forward(x);
        assertSameBits(model.forwardLayers(x), y);
        inputs.add(x);
        results.add(y);
        compared++;
      }
      // Every earlier result is still what its input gives: later calls wrote elsewhere.
      for (int i = 0; i < results.size(); i++) {
        assertSameBits(model.forwardLayers(inputs.get(i)), results.get(i));
        for (int j = 0; j < i; j++) {
          assertThat(results.get(i).data()).isNotSameInstanceAs(results.get(j).data());
        }
      }
    }
    assertThat(compared).isEqualTo(12);
  }

  /** Passes its input on and records the array behind it. */
  static final class Probe extends AbstractModule {
    final List<float[]> seen = new ArrayList<>();

    @Override
    public Tensor forward(Tensor input) {
      seen.add(input.data());
      return input;
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
      return gradOutput;
    }
  }

  /** Two convolutions with a {@link Probe} on the first one's output. */
  static final class Probed extends SequentialModel {
    final Probe probe = new Probe();

    Probed(long seed) {
      super(new int[] {3, 12, 11}, new int[] {5, 6, 6});
      add("a", BlockedNetworkTest.Net.conv(3, 8, 12, 11, 3, 1, 1, 1, Activation.RELU, seed));
      add("probe", probe);
      add("b", BlockedNetworkTest.Net.conv(8, 5, 12, 11, 3, 2, 1, 1, Activation.NONE, seed + 1));
    }
  }

  @Test
  void convolutionsWriteIntoTheirPreviousOutput() {
    Probed model = layerByLayer(() -> new Probed(6));
    SplittableRandom r = new SplittableRandom(22);
    List<float[]> seen = model.probe.seen;
    int[] batches = {2, 2, 2, 1, 1};
    for (int n : batches) {
      Tensor x = TestTensors.uniform(r, 1, n, 3, 12, 11);
      Tensor y = model.forward(x);
      assertSameBits(model.forwardLayers(x), y); // forwardLayers (allocating) also passes the probe
      seen.remove(seen.size() - 1);
    }
    assertThat(seen).hasSize(batches.length);
    assertThat(seen.get(1)).isSameInstanceAs(seen.get(0));
    assertThat(seen.get(2)).isSameInstanceAs(seen.get(0));
    assertThat(seen.get(3)).isNotSameInstanceAs(seen.get(0)); // another batch size
    assertThat(seen.get(4)).isSameInstanceAs(seen.get(3));

    model.reuseBuffers(false);
    seen.clear();
    Tensor x = TestTensors.uniform(r, 1, 1, 3, 12, 11);
    model.forward(x);
    model.forward(x);
    assertThat(seen).hasSize(2);
    assertThat(seen.get(1)).isNotSameInstanceAs(seen.get(0));
  }

  @Test
  void concurrentCallsDoNotShareTensors() throws Exception {
    BlockedNetworkTest.Net model = layerByLayer(() -> new BlockedNetworkTest.Net(7));
    SplittableRandom r = new SplittableRandom(23);
    int threads = 4;
    List<Tensor> inputs = new ArrayList<>();
    List<Tensor> expected = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      Tensor x = TestTensors.uniform(r, 1, 2, 3, 19, 17);
      inputs.add(x);
      expected.add(model.forwardLayers(x));
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Integer>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int i = t;
        done.add(pool.submit(() -> {
          int calls = 0;
          for (; calls < 200; calls++) {
            assertSameBits(expected.get(i), model.forward(inputs.get(i)));
          }
          return calls;
        }));
      }
      int calls = 0;
      for (Future<Integer> f : done) {
        calls += f.get();
      }
      assertThat(calls).isEqualTo(threads * 200);
    } finally {
      pool.shutdownNow();
    }
  }
}
