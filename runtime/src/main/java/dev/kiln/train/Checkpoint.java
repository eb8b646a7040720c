package dev.kiln.train;

import dev.kiln.io.Json;
import dev.kiln.io.ReadOptions;
import dev.kiln.io.SafeTensors;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A training checkpoint: one safetensors file holding the model state dict (keys prefixed
 * {@value #MODEL_PREFIX}), the optimizer state (prefixed {@value #OPTIMIZER_PREFIX}) and string metadata:
 * {@code format}, {@code epoch} (epochs completed), {@code global_step}, {@code seed}, {@code batch_size},
 * {@code drop_last}, {@code train_samples}, {@code train_data} (the training data's size and CRC-32C),
 * {@code settings} (JSON: the {@linkplain TrainingConfig#settings() settings}), {@code threads},
 * {@code arithmetic} (the arithmetic path: {@code scalar} or {@code simd-<bits>}), {@code config} (JSON) and
 * {@code rng_state} (JSON). Tensors are F32 except BatchNorm's {@code num_batches_tracked}, which is I64 as in PyTorch.
 *
 * <p>There is no generator state to save: the trainer derives the shuffle order of an epoch and the seed it
 * passes to {@link dev.kiln.nn.Reseedable} models from the run's seed and the epoch number alone, so a run
 * resumed at an epoch boundary replays exactly what the uninterrupted run does. {@code rng_state}
 * records those derived seeds for the next epoch for reference.
 */
public final class Checkpoint {
  /** Prefix of the model's state-dict keys. */
  public static final String MODEL_PREFIX = "model.";
  /** Prefix of the optimizer's state keys. */
  public static final String OPTIMIZER_PREFIX = "optim.";
  /** The {@code format} metadata value this version writes. */
  public static final String FORMAT = "kiln-checkpoint-2";
  /** The format of earlier versions, still read (but not resumed: it lacks what a resume compares). */
  private static final String FORMAT_1 = "kiln-checkpoint-1";

  private final Map<String, Tensor> modelState;
  private final Map<String, Tensor> optimizerState;
  private final Map<String, String> metadata;

  private Checkpoint(Map<String, Tensor> modelState, Map<String, Tensor> optimizerState,
      Map<String, String> metadata) {
    this.modelState = Collections.unmodifiableMap(new LinkedHashMap<>(modelState));
    this.optimizerState = Collections.unmodifiableMap(new LinkedHashMap<>(optimizerState));
    this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
  }

  /** A checkpoint of the given states (keys without prefixes) and metadata. */
  public static Checkpoint of(Map<String, Tensor> modelState, Map<String, Tensor> optimizerState,
      Map<String, String> metadata) {
    return new Checkpoint(Objects.requireNonNull(modelState, "modelState"),
        Objects.requireNonNull(optimizerState, "optimizerState"), Objects.requireNonNull(metadata, "metadata"));
  }

  /**
   * Reads a checkpoint file (within {@link ReadOptions#DEFAULT_MAX_BYTES}).
   *
   * @throws IOException if the file is not a readable safetensors file, is not a Kiln checkpoint, or holds a
   *     key with neither prefix
   */
  public static Checkpoint read(Path file) throws IOException {
    return read(file, SafeTensors.readWithMetadata(file));
  }

  /**
   * Reads a checkpoint that must hold exactly the tensors of {@code modelState} and {@code optimizerState}
   * (keys without prefixes), with their shapes; anything else is refused before tensor data is allocated.
   *
   * @throws IOException if the file is not a readable Kiln checkpoint or holds other tensors or shapes
   */
  public static Checkpoint read(Path file, Map<String, Tensor> modelState, Map<String, Tensor> optimizerState)
      throws IOException {
    Map<String, Tensor> expected = new LinkedHashMap<>();
    modelState.forEach((k, v) -> expected.put(MODEL_PREFIX + k, v));
    optimizerState.forEach((k, v) -> expected.put(OPTIMIZER_PREFIX + k, v));
    readMetadata(file);
    return read(file, SafeTensors.readWithMetadata(file, ReadOptions.defaults().expectingShapesOf(expected)));
  }

  /**
   * Reads and checks a checkpoint's metadata only (the header is validated; no tensor data is read).
   *
   * @throws IOException if the file is not a readable safetensors file or not a Kiln checkpoint
   */
  public static Map<String, String> readMetadata(Path file) throws IOException {
    Map<String, String> metadata = SafeTensors.readMetadata(file, ReadOptions.defaults());
    checkMetadata(file, metadata);
    return metadata;
  }

  private static Checkpoint read(Path file, SafeTensors.Contents contents) throws IOException {
    checkMetadata(file, contents.metadata());
    Map<String, Tensor> model = new LinkedHashMap<>();
    Map<String, Tensor> optimizer = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : contents.tensors().entrySet()) {
      String key = e.getKey();
      if (key.startsWith(MODEL_PREFIX)) {
        model.put(key.substring(MODEL_PREFIX.length()), e.getValue());
      } else if (key.startsWith(OPTIMIZER_PREFIX)) {
        optimizer.put(key.substring(OPTIMIZER_PREFIX.length()), e.getValue());
      } else {
        throw new IOException(file + ": tensor " + Json.quoteBrief(key) + " has neither prefix \"" + MODEL_PREFIX
            + "\" nor \"" + OPTIMIZER_PREFIX + "\"");
      }
    }
    return new Checkpoint(model, optimizer, contents.metadata());
  }

  private static void checkMetadata(Path file, Map<String, String> metadata) throws IOException {
    String format = metadata.get("format");
    if (!FORMAT.equals(format) && !FORMAT_1.equals(format)) {
      throw new IOException(file + ": not a Kiln checkpoint: metadata format is "
          + (format == null ? "missing" : Json.quoteBrief(format)) + ", expected \"" + FORMAT + "\"");
    }
    for (String key : new String[] {"epoch", "global_step", "seed", "batch_size", "drop_last", "train_samples"}) {
      required(file, metadata, key);
    }
  }

  /**
   * Writes this checkpoint to {@code file} atomically (see {@link SafeTensors#write(Path, Map, Map, Set)}): one
   * temporary file in the same directory, forced to disk once, then renamed over {@code file}. If anything
   * fails, {@code file} keeps its previous content and the temporary file is removed. Creates the parent
   * directory if needed.
   */
  public void write(Path file) throws IOException {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    modelState.forEach((k, v) -> tensors.put(MODEL_PREFIX + k, v));
    optimizerState.forEach((k, v) -> tensors.put(OPTIMIZER_PREFIX + k, v));
    // BatchNorm's step counters stored as PyTorch stores them.
    SafeTensors.write(file, tensors, metadata, SafeTensors.pytorchInt64Keys(tensors.keySet()));
  }

  /** The model state dict (keys without the prefix). */
  public Map<String, Tensor> modelState() {
    return modelState;
  }

  /** The optimizer state (keys without the prefix). */
  public Map<String, Tensor> optimizerState() {
    return optimizerState;
  }

  /** All metadata. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** Epochs completed when this checkpoint was written (the 0-based epoch a resumed run starts with). */
  public int epoch() {
    return Integer.parseInt(metadata.get("epoch"));
  }

  /** Optimizer steps done when this checkpoint was written. */
  public long globalStep() {
    return Long.parseLong(metadata.get("global_step"));
  }

  /** The run's seed. */
  public long seed() {
    return Long.parseLong(metadata.get("seed"));
  }

  /** The run's training batch size. */
  public int batchSize() {
    return Integer.parseInt(metadata.get("batch_size"));
  }

  /** Whether the run dropped the last partial batch. */
  public boolean dropLast() {
    return Boolean.parseBoolean(metadata.get("drop_last"));
  }

  /** The size of the training set the run used. */
  public int trainSamples() {
    return Integer.parseInt(metadata.get("train_samples"));
  }

  private static void required(Path file, Map<String, String> metadata, String key) throws IOException {
    String value = metadata.get(key);
    if (value == null) {
      throw new IOException(file + ": checkpoint metadata lacks \"" + key + "\"");
    }
    try {
      if (!key.equals("drop_last") && !asciiInteger(value)) {
        throw new NumberFormatException("not an integer in ASCII digits");
      }
      boolean valid;
      switch (key) {
        case "drop_last":
          valid = value.equals("true") || value.equals("false");
          break;
        case "seed":
          Long.parseLong(value);
          valid = true;
          break;
        case "global_step":
          valid = Long.parseLong(value) >= 0;
          break;
        default:
          valid = Integer.parseInt(value) >= 0;
      }
      if (!valid) {
        throw new NumberFormatException("out of range");
      }
    } catch (NumberFormatException e) {
      throw new IOException(file + ": checkpoint metadata \"" + key + "\" has invalid value "
          + Json.quoteBrief(value), e);
    }
  }

  /**
   * Whether {@code value} is an optional minus and ASCII digits only: {@code Long.parseLong} also takes other
   * scripts' digits and a plus sign, which a checkpoint Kiln wrote never holds.
   */
  private static boolean asciiInteger(String value) {
    int start = value.startsWith("-") ? 1 : 0;
    if (value.length() == start) {
      return false;
    }
    for (int i = start; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "Checkpoint{epoch=" + metadata.get("epoch") + ", global_step=" + metadata.get("global_step")
        + ", model=" + modelState.keySet() + ", optimizer=" + optimizerState.keySet() + "}";
  }
}
