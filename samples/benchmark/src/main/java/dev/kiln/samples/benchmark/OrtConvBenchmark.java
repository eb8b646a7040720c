package dev.kiln.samples.benchmark;

import ai.onnxruntime.OrtException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * ONNX Runtime (CPU execution provider) running a one-node Conv model with the Kiln kernel's weights,
 * built in memory by {@link OnnxConvModel}. Every call goes through the Java API, so its per-call
 * overhead (JNI, output allocation, copying the result out) is part of the time.
 */
public class OrtConvBenchmark extends ConvBenchmarkSettings {
  /** A session for the workload's shape. */
  @State(Scope.Thread)
  public static class Session {
    /** ONNX Runtime intra-op threads; 1 by default, {@code -p threads=1,2} to compare with Kiln's pool. */
    @Param({"1"})
    public int threads;

    public OrtConv conv;
    public float[] result;

    @Setup
    public void setUp(ConvWorkload w) throws OrtException {
      conv = OrtConv.open(w.shape, w.kernel, w.input, threads);
      result = new float[w.output.size()];
      conv.run(result);
      w.check("ONNX Runtime", result);
      conv.runPinned();
      float[] pinned = new float[result.length];
      conv.pinnedOutput().get(pinned);
      w.check("ONNX Runtime (pinned output)", pinned);
    }

    @TearDown
    public void tearDown() throws OrtException {
      conv.close();
    }
  }

  /** {@code session.run} (allocates the output tensor) and the output copied into a Java array. */
  @Benchmark
  public float[] run(Session s) throws OrtException {
    s.conv.run(s.result);
    return s.result;
  }

  /** {@code session.run} into a preallocated output tensor: the closest match to Kiln's forward(in, out). */
  @Benchmark
  public OrtConv runPinned(Session s) throws OrtException {
    s.conv.runPinned();
    return s.conv;
  }
}
