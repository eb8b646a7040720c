package dev.kiln.samples.cli;

import dev.kiln.io.ReadOptions;
import dev.kiln.io.SafeTensors;
import dev.kiln.nn.Module;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The weights file {@code train} writes ({@code SafeTensors.save}) and {@code eval} reads: the training-form state
 * dict (PyTorch key names, {@code num_batches_tracked} as I64) in safetensors format, with string metadata
 * describing the run.
 */
final class ModelFile {
  /** Metadata key naming the data set the weights were trained on. */
  static final String DATASET = "dataset";

  private ModelFile() {}

  /**
   * Reads a weights file's metadata (checking its header, reading no tensor).
   *
   * @throws CliException exit code 2 if the file does not exist or is not a file, 1 if it cannot be read as
   *     safetensors
   */
  static Map<String, String> readMetadata(Path path) {
    InputFiles.requireFile("model file", path);
    try {
      return SafeTensors.readMetadata(path, ReadOptions.defaults());
    } catch (IOException e) {
      throw new CliException(CliException.FAILURE, "cannot read model file " + e.getMessage(), e);
    }
  }

  /**
   * Reads the state dict of {@code network} (named {@code networkName} in messages) from a weights file: the
   * file must hold exactly its keys and shapes, which is checked before any tensor is allocated.
   *
   * @throws CliException exit code 1 if the file holds other tensors or cannot be read
   */
  static Map<String, Tensor> readState(Path path, Module network, String networkName) {
    ReadOptions expecting = ReadOptions.defaults().expectingShapesOf(network.stateDict());
    try {
      SafeTensors.readMetadata(path, expecting);
    } catch (IOException e) {
      throw new CliException(CliException.FAILURE, path + " does not fit " + networkName + ": "
          + withoutPath(path, e.getMessage()), e);
    }
    try {
      return SafeTensors.read(path, expecting);
    } catch (IOException e) {
      throw new CliException(CliException.FAILURE, "cannot read model file " + e.getMessage(), e);
    }
  }

  /** A reader's message without the file name it starts with. */
  private static String withoutPath(Path path, String message) {
    String prefix = path + ": ";
    return message.startsWith(prefix) ? message.substring(prefix.length()) : message;
  }

}
