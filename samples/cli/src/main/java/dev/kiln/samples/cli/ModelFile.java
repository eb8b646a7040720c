package dev.kiln.samples.cli;

import dev.kiln.io.SafeTensors;
import dev.kiln.nn.Module;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The weights file {@code train} writes and {@code eval} reads: the training-form state dict (PyTorch key
 * names, {@code num_batches_tracked} as I64) in safetensors format, with string metadata describing the run.
 */
final class ModelFile {
  /** Metadata key naming the data set the weights were trained on. */
  static final String DATASET = "dataset";

  private ModelFile() {}

  /** Writes {@code model}'s state dict and {@code metadata} to {@code path}, creating parent directories. */
  static void save(Path path, Module model, Map<String, String> metadata) throws IOException {
    Map<String, Tensor> state = model.stateDict();
    Set<String> int64 = new LinkedHashSet<>();
    for (String key : state.keySet()) {
      if (key.endsWith("num_batches_tracked")) {
        int64.add(key);
      }
    }
    createParent(path);
    SafeTensors.write(path, state, metadata, int64);
  }

  /**
   * Reads a weights file.
   *
   * @throws CliException exit code 2 if the file does not exist, 1 if it cannot be read as safetensors
   */
  static SafeTensors.Contents read(Path path) {
    if (!Files.isRegularFile(path)) {
      throw new CliException(CliException.USAGE, "model file " + path + " does not exist");
    }
    try {
      return SafeTensors.readWithMetadata(path);
    } catch (IOException e) {
      throw new CliException(CliException.FAILURE, "cannot read model file " + path + ": " + e.getMessage(), e);
    }
  }

  /** Creates {@code path}'s parent directory if it has one. */
  static void createParent(Path path) throws IOException {
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
  }
}
