package dev.kiln.samples.benchmark;

import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** The generated Kiln kernels, eval-mode forward, allocation-free. */
public class KilnConvBenchmark extends ConvBenchmarkSettings {
  /** The size of Kiln's shared pool ({@link Parallel#setThreads}). */
  @State(Scope.Benchmark)
  public static class Threads {
    @Param({"1", "2"})
    public int threads;

    @Setup
    public void setUp() {
      Parallel.setThreads(threads);
    }
  }

  /** {@code ConvKernel.forward(Tensor, Tensor)} into a preallocated output, split over the pool. */
  @Benchmark
  public Tensor forward(ConvWorkload w, Threads t) {
    w.kernel.forward(w.input, w.output);
    return w.output;
  }

  /**
   * The per-sample entry point {@code forward(float[], int, float[], int)}, called once per sample of the
   * batch on the calling thread (no pool, so no thread parameter).
   */
  @Benchmark
  public float[] forwardSample(ConvWorkload w) {
    float[] x = w.input.data();
    float[] y = w.output.data();
    int n = w.shape.batch();
    int inSize = x.length / n;
    int outSize = y.length / n;
    for (int i = 0; i < n; i++) {
      w.kernel.forward(x, i * inSize, y, i * outSize);
    }
    return y;
  }
}
