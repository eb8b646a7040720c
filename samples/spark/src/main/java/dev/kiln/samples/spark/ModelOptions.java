package dev.kiln.samples.spark;

import dev.kiln.samples.cli.CliValue;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code --model}, {@code --dataset}, {@code --batch-size}, {@code --kiln-threads}: what scores and how. */
final class ModelOptions {
  /** Images per forward pass when not given: {@code kiln-cli eval}'s batch. */
  static final int DEFAULT_BATCH_SIZE = 256;

  @Option(names = "--model", paramLabel = "FILE", required = true,
      description = "Weights written by 'kiln-cli train' (safetensors), read on the driver and broadcast.")
  Path file;

  @Option(names = "--dataset", paramLabel = "NAME", converter = NetworkConverter.class,
      description = "The network's data set: digits (DigitsNet) or fashion-mnist (FashionNet) (default: the "
          + "one recorded in the weights file).")
  Network network;

  @Option(names = "--batch-size", paramLabel = "N", defaultValue = "" + DEFAULT_BATCH_SIZE,
      description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--kiln-threads", paramLabel = "T", defaultValue = "1",
      description = "Threads of Kiln's pool in each executor JVM (default: ${DEFAULT-VALUE}: Spark's "
          + "concurrent tasks provide the parallelism).")
  int kilnThreads;

  /** Checks the numbers given. */
  void validate(CommandLine commandLine) {
    if (batchSize < 1) {
      throw new ParameterException(commandLine, "--batch-size must be >= 1 but was " + batchSize);
    }
    if (kilnThreads < 1) {
      throw new ParameterException(commandLine, "--kiln-threads must be >= 1 but was " + kilnThreads);
    }
  }

  /** The job options for these values. */
  ScoringJob.Options jobOptions(boolean overwrite) {
    return new ScoringJob.Options(batchSize, kilnThreads, overwrite);
  }

  /** Converts {@code --dataset} values. */
  static final class NetworkConverter extends CliValue.Names<Network> {
    NetworkConverter() {
      super(Network.class, "data set");
    }
  }
}
