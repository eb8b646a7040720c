package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Eval-mode forward of one engine-backed kernel from many threads at once, with per-thread scratch. */
class SimdConcurrencyTest {
  private static final int THREADS = 4;
  private static final int ROUNDS = 30;

  @Test
  void concurrentEvalForwardsMatchSequentialOnes() throws Exception {
    int saved = Parallel.threads();
    Parallel.setThreads(1);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      NaiveConvKernel kernel = new NaiveConvKernel(
          NaiveConvKernel.geometry(12, 16, 11, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.REFLECT), true,
          Activation.RELU, 5);
      assertThat(kernel.engineName()).startsWith("simd-direct-");
      kernel.eval();
      List<Tensor> inputs = new ArrayList<>();
      List<float[]> expected = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        Tensor x = Tensor.zeros(2, 12, 11, 13);
        for (int i = 0; i < x.size(); i++) {
          x.data()[i] = (float) Math.sin(i * 0.1 + t);
        }
        inputs.add(x);
        expected.add(kernel.forward(x).data());
      }
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        Tensor x = inputs.get(t);
        float[] want = expected.get(t);
        results.add(pool.submit(() -> {
          int same = 0;
          Tensor out = Tensor.zeros(2, 16, 11, 13);
          for (int r = 0; r < ROUNDS; r++) {
            kernel.forward(x, out);
            if (java.util.Arrays.equals(out.data(), want)) {
              same++;
            }
          }
          return same;
        }));
      }
      for (Future<Integer> f : results) {
        assertThat(f.get()).isEqualTo(ROUNDS);
      }
    } finally {
      pool.shutdownNow();
      Parallel.setThreads(saved);
    }
  }
}
