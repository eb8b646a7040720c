package dev.kiln.samples.benchmark;

import dev.kiln.nn.ReferenceConv2d;
import dev.kiln.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The run-time {@link ReferenceConv2d} in eval mode with the Kiln kernel's weights: the general loop nest
 * the generated kernels replace. Single-threaded; allocates its output (it has no into-variant).
 */
public class ReferenceConvBenchmark extends ConvBenchmarkSettings {
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
