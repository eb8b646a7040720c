package dev.kiln.samples.benchmark;

import dev.kiln.nn.ReferenceConv2d;
import dev.kiln.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The run-time {@link ReferenceConv2d} in eval mode with the Kiln kernel's weights: the general loop nest
 * the generated kernels replace. Single-threaded; allocates its output (it has no into-variant).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ReferenceConvBenchmark {
  /** The reference layer for the workload's shape. */
  @State(Scope.Thread)
  public static class Reference {
    public ReferenceConv2d layer;

    @Setup
    public void setUp(ConvWorkload w) {
      layer = w.shape.newReference(w.kernel);
      w.check("ReferenceConv2d", layer.forward(w.input).data());
    }
  }

  @Benchmark
  public Tensor forward(ConvWorkload w, Reference r) {
    return r.layer.forward(w.input);
  }
}
