package dev.kiln.train;

import dev.kiln.io.Json;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a training run is: how long, in batches of what size, from which seed, and any further settings that
 * change its result. Everything random in a run (the per-epoch shuffle and the per-epoch reseeding of
 * {@link dev.kiln.nn.Reseedable} models) is derived from {@code seed} and the epoch number.
 *
 * <p><b>Settings</b> name what else the result depends on that the trainer cannot see: the learning rate,
 * the objective's weights, the data set, a model variant. A command line records each option that changes
 * the result with {@link #withSetting(String, Object)}, under the option's name; checkpoints store them,
 * and {@link Trainer#resume} refuses a checkpoint whose settings differ, naming the setting and both values.
 *
 * @param epochs total number of epochs (a resumed run continues up to this many)
 * @param batchSize samples per training step
 * @param seed the run's seed
 * @param dropLast whether a last training batch smaller than {@code batchSize} is dropped
 * @param evalBatchSize samples per forward pass during validation
 * @param settings further settings that change the result, by name, in the order they were added
 *     (unmodifiable; values as text)
 */
public record TrainingConfig(int epochs, int batchSize, long seed, boolean dropLast, int evalBatchSize,
    Map<String, String> settings) {
  /** @throws IllegalArgumentException if epochs is negative or a batch size is not positive */
  public TrainingConfig {
    if (epochs < 0) {
      throw new IllegalArgumentException("epochs must be >= 0 but was " + epochs);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1 but was " + batchSize);
    }
    if (evalBatchSize < 1) {
      throw new IllegalArgumentException("evalBatchSize must be >= 1 but was " + evalBatchSize);
    }
    settings = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(settings, "settings")));
  }

  /** A configuration without settings. */
  public TrainingConfig(int epochs, int batchSize, long seed, boolean dropLast, int evalBatchSize) {
    this(epochs, batchSize, seed, dropLast, evalBatchSize, Map.of());
  }

  /** {@code epochs} epochs of {@code batchSize}, keeping the last partial batch, validating in batches of 256 (at least {@code batchSize}). */
  public static TrainingConfig of(int epochs, int batchSize, long seed) {
    return new TrainingConfig(epochs, batchSize, seed, false, Math.max(batchSize, 256));
  }

  /** A copy with another epoch count. */
  public TrainingConfig withEpochs(int epochs) {
    return new TrainingConfig(epochs, batchSize, seed, dropLast, evalBatchSize, settings);
  }

  /** A copy with another {@code dropLast}. */
  public TrainingConfig withDropLast(boolean dropLast) {
    return new TrainingConfig(epochs, batchSize, seed, dropLast, evalBatchSize, settings);
  }

  /** A copy with another validation batch size. */
  public TrainingConfig withEvalBatchSize(int evalBatchSize) {
    return new TrainingConfig(epochs, batchSize, seed, dropLast, evalBatchSize, settings);
  }

  /**
   * A copy with the setting {@code name} set to {@code String.valueOf(value)} (replacing an earlier value,
   * keeping its place).
   */
  public TrainingConfig withSetting(String name, Object value) {
    Map<String, String> more = new LinkedHashMap<>(settings);
    more.put(Objects.requireNonNull(name, "name"), String.valueOf(value));
    return new TrainingConfig(epochs, batchSize, seed, dropLast, evalBatchSize, more);
  }

  /** This configuration as a JSON object, as stored in checkpoint metadata. */
  public String toJson() {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("epochs", epochs);
    json.put("batch_size", batchSize);
    json.put("seed", seed);
    json.put("drop_last", dropLast);
    json.put("eval_batch_size", evalBatchSize);
    json.put("settings", settings);
    return Json.write(json);
  }
}
