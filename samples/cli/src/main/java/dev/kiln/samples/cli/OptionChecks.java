package dev.kiln.samples.cli;

import dev.kiln.nn.Module;
import dev.kiln.nn.SequentialModel;
import dev.kiln.tensor.Tensor;
import java.util.Locale;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * Range checks of options that every command shares, done before any work: each failure is a usage error
 * (exit code 2) naming the option, the allowed range and the value.
 */
final class OptionChecks {
  /** {@code --threads} may be at most this many times the available processors. */
  static final int THREADS_PER_PROCESSOR = 4;

  /**
   * Bytes a training step keeps per float of the layers' outputs for one image: the outputs, their
   * gradients, the RepVGG branches' intermediate results and the convolutions' scratch (measured: 34 to 55
   * bytes for the sample networks).
   */
  static final int TRAINING_BYTES_PER_OUTPUT = 4 * 16;
  /** The same for an evaluation forward pass, which keeps only outputs and scratch. */
  static final int EVAL_BYTES_PER_OUTPUT = 4 * 4;

  private OptionChecks() {}

  /**
   * The thread count: {@code threads}, or the available processors when it is null.
   *
   * @throws ParameterException if it is outside {@code [1, THREADS_PER_PROCESSOR x processors]}
   */
  static int threads(CommandSpec spec, Integer threads) {
    int processors = Runtime.getRuntime().availableProcessors();
    int max = THREADS_PER_PROCESSOR * processors;
    if (threads != null && (threads < 1 || threads > max)) {
      throw new ParameterException(spec.commandLine(), "--threads must be in [1, " + max + "] (at most "
          + THREADS_PER_PROCESSOR + " x the " + processors + " available processors) but was " + threads);
    }
    return threads != null ? threads : processors;
  }

  /**
   * Checks {@code --batch-size} against the data set it cuts ({@code samples} images of the {@code what} set)
   * and against what fits: every tensor of a step below 2^31 elements and the step's buffers within the
   * heap this JVM may still use. {@code copies} is 2 for R-Drop (the batch runs twice), else 1.
   *
   * @throws ParameterException naming the limit that {@code batch} exceeds
   */
  static void batchSize(CommandSpec spec, int batch, int samples, String what, SequentialModel model,
      String networkName, int copies, boolean training) {
    if (batch > samples) {
      throw new ParameterException(spec.commandLine(), "--batch-size must be at most the " + what
          + " set size, " + samples + ", but was " + batch);
    }
    long[] outputs = outputsPerImage(model);
    long images = (long) batch * copies;
    if (images * outputs[1] > Integer.MAX_VALUE - 8) {
      throw new ParameterException(spec.commandLine(), "--batch-size " + batch + " makes a tensor of "
          + images * outputs[1] + " elements in " + networkName + ", more than 2^31 - 9; use at most "
          + (Integer.MAX_VALUE - 8) / (outputs[1] * copies));
    }
    long perImage = outputs[0] * (training ? TRAINING_BYTES_PER_OUTPUT : EVAL_BYTES_PER_OUTPUT);
    Runtime runtime = Runtime.getRuntime();
    long free = runtime.maxMemory() - (runtime.totalMemory() - runtime.freeMemory());
    if (images * perImage > free) {
      throw new ParameterException(spec.commandLine(), String.format(Locale.ROOT, "--batch-size %d needs about "
          + "%s for %s of %s (%s per image), more than the %s this JVM may still use; use at most %d or a "
          + "larger -Xmx", batch, bytes(images * perImage), training ? "a training step" : "a forward pass",
          networkName, bytes(perImage * copies), bytes(free), Math.max(1, free / (perImage * copies))));
    }
  }

  /**
   * {@code {sum, max}} of the output sizes (elements) of {@code model}'s layers for one image, the input
   * included in the max: found by running one image through the layers in evaluation mode.
   */
  private static long[] outputsPerImage(SequentialModel model) {
    int[] in = model.inputShape();
    int[] shape = new int[in.length + 1];
    shape[0] = 1;
    System.arraycopy(in, 0, shape, 1, in.length);
    Tensor x = Tensor.zeros(shape);
    long sum = 0;
    long max = x.size();
    boolean training = model.isTraining();
    model.eval();
    try {
      for (Module layer : model.layers().values()) {
        x = layer.forward(x);
        sum += x.size();
        max = Math.max(max, x.size());
      }
    } finally {
      model.train(training);
    }
    return new long[] {sum, max};
  }

  private static String bytes(long n) {
    return n >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GB", n / (double) (1L << 30))
        : n >= 1L << 20 ? String.format(Locale.ROOT, "%.1f MB", n / (double) (1L << 20))
        : String.format(Locale.ROOT, "%.0f KB", Math.ceil(n / 1024.0));
  }
}
