package dev.kiln.samples.benchmark;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.kiln.nn.ConvKernel;
import dev.kiln.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;

/**
 * One ONNX Runtime session running the single-Conv model of a {@link ConvShape} with a Kiln kernel's
 * weights. The input tensor wraps a direct buffer filled once and reused by every call; the session uses
 * {@code intraOpThreads} threads, no inter-op parallelism and every graph optimization.
 */
public final class OrtConv implements AutoCloseable {
  private final OrtSession session;
  private final OnnxTensor input;
  private final OnnxTensor pinnedOutput;
  private final FloatBuffer pinnedBuffer;
  private final Map<String, OnnxTensor> inputs;
  private final Map<String, OnnxTensor> pinnedOutputs;

  private OrtConv(OrtSession session, OnnxTensor input, OnnxTensor pinnedOutput, FloatBuffer pinnedBuffer) {
    this.session = session;
    this.input = input;
    this.pinnedOutput = pinnedOutput;
    this.pinnedBuffer = pinnedBuffer;
    this.inputs = Map.of(OnnxConvModel.INPUT, input);
    this.pinnedOutputs = Map.of(OnnxConvModel.OUTPUT, pinnedOutput);
  }

  /**
   * The session options of every ONNX Runtime run in these benchmarks: {@code intraOpThreads} threads within an
   * operator, one between them, operators in sequence, every graph optimization.
   */
  static OrtSession.SessionOptions sessionOptions(int intraOpThreads) throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setIntraOpNumThreads(intraOpThreads);
    options.setInterOpNumThreads(1);
    options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    return options;
  }

  /**
   * Opens a session for {@code shape} with {@code kernel}'s weights and {@code input} ({@code [N, C, H, W]})
   * as the input of every call.
   *
   * @throws OrtException if ONNX Runtime rejects the model
   * @throws UnsatisfiedLinkError if its native library cannot be loaded on this platform
   */
  public static OrtConv open(ConvShape shape, ConvKernel kernel, Tensor input, int intraOpThreads)
      throws OrtException {
    Tensor.checkShape("input", input, shape.inputShape());
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    byte[] model = OnnxConvModel.build(shape, kernel.stateDict());
    OrtSession session;
    try (OrtSession.SessionOptions options = sessionOptions(intraOpThreads)) {
      session = env.createSession(model, options);
    }
    FloatBuffer in = direct(input.size()).put(input.data());
    in.rewind();
    OnnxTensor inTensor = OnnxTensor.createTensor(env, in, longs(shape.inputShape()));
    FloatBuffer out = direct(shape.outputShape()[0] * shape.outChannels() * shape.outHeight()
        * shape.outWidth());
    OnnxTensor outTensor = OnnxTensor.createTensor(env, out, longs(shape.outputShape()));
    return new OrtConv(session, inTensor, outTensor, out);
  }

  private static FloatBuffer direct(int floats) {
    return ByteBuffer.allocateDirect(floats * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
  }

  private static long[] longs(int[] shape) {
    return Arrays.stream(shape).asLongStream().toArray();
  }

  /**
   * One inference as an ordinary ONNX Runtime user makes it: {@code session.run}, which allocates the
   * output, then the output copied into {@code dest}.
   */
  public void run(float[] dest) throws OrtException {
    try (OrtSession.Result result = session.run(inputs)) {
      ((OnnxTensor) result.get(0)).getFloatBuffer().get(dest);
    }
  }

  /**
   * One inference into a preallocated (pinned) output tensor; the result is read from
   * {@link #pinnedOutput()} without a copy.
   */
  public void runPinned() throws OrtException {
    session.run(inputs, pinnedOutputs).close();
  }

  /** The buffer {@link #runPinned()} writes to. */
  public FloatBuffer pinnedOutput() {
    return pinnedBuffer.duplicate();
  }

  @Override
  public void close() throws OrtException {
    input.close();
    pinnedOutput.close();
    session.close();
  }
}
