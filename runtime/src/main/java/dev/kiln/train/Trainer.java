package dev.kiln.train;

import dev.kiln.data.Batch;
import dev.kiln.data.BatchIterator;
import dev.kiln.data.Batches;
import dev.kiln.data.Dataset;
import dev.kiln.io.Json;
import dev.kiln.loss.CrossEntropy;
import dev.kiln.loss.Objective;
import dev.kiln.nn.Module;
import dev.kiln.nn.Reseedable;
import dev.kiln.optim.LrSchedule;
import dev.kiln.optim.Optimizer;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The training loop: epochs of shuffled mini-batches, a validation pass after each epoch, optional
 * checkpoints, and listeners for progress.
 *
 * <p>Each step: {@code optimizer.setLearningRate(schedule.lr(globalStep))}, {@code optimizer.zeroGrad()},
 * {@code objective.step(model, input, labels)} (forward, loss, backward), {@code optimizer.step()}. Training
 * accuracy is counted from the logits the objective returns. After each epoch the model is evaluated on
 * the validation set in evaluation mode (batched forward, mean cross-entropy and argmax accuracy) and put
 * back into training mode.
 *
 * <p><b>Determinism.</b> A run is a function of the initial weights, the data, the configuration and the
 * {@linkplain dev.kiln.runtime.Parallel thread count}. Epoch {@code e} visits the training set in the order
 * {@code Batches.permutation(size, seed, e)}, and at its start a {@link Reseedable} model (and objective)
 * is reseeded with {@link #epochSeed(long, int)} (objective: {@link #objectiveSeed(long, int)}). Nothing
 * random carries over from one epoch to the next, which is what makes {@link #resume} exact: a run of
 * three epochs and a run of one epoch resumed for two more end with bitwise identical weights.
 *
 * <p><b>Checkpoints.</b> With {@link Builder#checkpoint(Path)} the trainer writes a {@link Checkpoint} after
 * every epoch, atomically, replacing the previous one only once the new one is complete.
 *
 * <p><b>Divergence.</b> A step whose loss is NaN or infinite, or an epoch that ends with a non-finite value
 * in the model's state or the optimizer's, stops training with a {@link TrainingDivergedException} (epochs
 * are 1-based in its message); no checkpoint is written for that epoch, so the last one is the last good
 * state.
 */
public final class Trainer {
  private final List<TrainingListener> listeners;
  private final Path checkpointFile;

  private Trainer(Builder builder) {
    this.listeners = List.copyOf(builder.listeners);
    this.checkpointFile = builder.checkpointFile;
  }

  /** A builder for a trainer without listeners or checkpoints. */
  public static Builder builder() {
    return new Builder();
  }

  /** Configures a {@link Trainer}. */
  public static final class Builder {
    private final List<TrainingListener> listeners = new ArrayList<>();
    private Path checkpointFile;

    private Builder() {}

    /** Adds a listener; listeners are called in the order they were added. */
    public Builder listener(TrainingListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /** Adds {@link ProgressListener#stderr()}: a progress bar on a terminal, periodic lines otherwise. */
    public Builder progress() {
      return listener(ProgressListener.stderr());
    }

    /** Writes a checkpoint to {@code file} after every epoch (replacing the previous one). */
    public Builder checkpoint(Path file) {
      this.checkpointFile = Objects.requireNonNull(file, "file");
      return this;
    }

    /** The trainer. */
    public Trainer build() {
      return new Trainer(this);
    }
  }

  /**
   * Trains {@code model} for {@code epochs} epochs of batches of {@code batchSize}, validating after each;
   * equivalent to {@link #fit(Module, Dataset, Dataset, Optimizer, LrSchedule, Objective, TrainingConfig)}
   * with {@link TrainingConfig#of(int, int, long)}.
   */
  public TrainingHistory fit(Module model, Dataset train, Dataset validation, int epochs, int batchSize,
      Optimizer optimizer, LrSchedule schedule, Objective objective, long seed) {
    return fit(model, train, validation, optimizer, schedule, objective, TrainingConfig.of(epochs, batchSize, seed));
  }

  /**
   * Trains {@code model} from epoch 0 for {@code config.epochs()} epochs, validating on {@code validation}
   * after each.
   *
   * @throws IllegalArgumentException if the data sets' sample shapes differ, or the training set yields no batch
   * @throws UncheckedIOException if a checkpoint cannot be written (the previous checkpoint is then intact)
   */
  public TrainingHistory fit(Module model, Dataset train, Dataset validation, Optimizer optimizer,
      LrSchedule schedule, Objective objective, TrainingConfig config) {
    return run(model, train, Objects.requireNonNull(validation, "validation"), optimizer, schedule, objective,
        config, 0, 0L, null, null, 0);
  }

  /** Trains as {@link #fit(Module, Dataset, Dataset, Optimizer, LrSchedule, Objective, TrainingConfig)} without validation. */
  public TrainingHistory fit(Module model, Dataset train, Optimizer optimizer, LrSchedule schedule,
      Objective objective, TrainingConfig config) {
    return run(model, train, null, optimizer, schedule, objective, config, 0, 0L, null, null, 0);
  }

  /**
   * Continues the run that wrote {@code checkpoint}: loads the model and optimizer state from it and trains
   * from the epoch after the checkpoint up to {@code config.epochs()} (the total count, not the count of
   * further epochs). {@code model}, {@code optimizer}, {@code schedule}, {@code objective} and the data must
   * be built as for the original run; the weights the model starts with do not matter. The returned
   * history holds the resumed epochs only.
   *
   * @throws IOException if the checkpoint cannot be read, is not a Kiln checkpoint, or its tensors are not
   *     exactly the model's state dict and the optimizer's state with their shapes (checked before they are
   *     allocated)
   * @throws IOException also if the checkpoint does not record what the comparison below needs
   * @throws RunMismatchException if the checkpoint was written by another run (naming the first
   *     difference and both values): other {@linkplain TrainingConfig#settings() settings}, seed, batch size,
   *     {@code dropLast} or training data (size or content); or if it is past {@code config.epochs()}. A
   *     different thread count or arithmetic path is allowed: the listeners are told
   *     ({@link TrainingListener#onNotice}) that the result will differ from an uninterrupted run in the last
   *     bits
   */
  public TrainingHistory resume(Path checkpoint, Module model, Dataset train, Dataset validation,
      Optimizer optimizer, LrSchedule schedule, Objective objective, TrainingConfig config) throws IOException {
    return resumeFrom(checkpoint, model, train, Objects.requireNonNull(validation, "validation"), optimizer,
        schedule, objective, config);
  }

  /** Resumes as {@link #resume(Path, Module, Dataset, Dataset, Optimizer, LrSchedule, Objective, TrainingConfig)} without validation. */
  public TrainingHistory resume(Path checkpoint, Module model, Dataset train, Optimizer optimizer,
      LrSchedule schedule, Objective objective, TrainingConfig config) throws IOException {
    return resumeFrom(checkpoint, model, train, null, optimizer, schedule, objective, config);
  }

  private TrainingHistory resumeFrom(Path file, Module model, Dataset train, Dataset validation,
      Optimizer optimizer, LrSchedule schedule, Objective objective, TrainingConfig config) throws IOException {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(optimizer, "optimizer");
    Map<String, String> recorded = Checkpoint.readMetadata(file);
    RunIdentity identity = RunIdentity.of(config, train);
    identity.requireSameRun(file, recorded);
    int epoch = Integer.parseInt(recorded.get("epoch"));
    if (epoch > config.epochs()) {
      throw new RunMismatchException(file + " was written after epoch " + epoch + ", past the configured "
          + config.epochs() + " epochs");
    }
    Checkpoint checkpoint = Checkpoint.read(file, model.stateDict(), optimizer.state());
    model.loadStateDict(checkpoint.modelState());
    optimizer.loadState(checkpoint.optimizerState());
    return run(model, train, validation, optimizer, schedule, objective, config, checkpoint.epoch(),
        checkpoint.globalStep(), identity, identity.environmentNotice(recorded),
        checkpointFile != null && file.toAbsolutePath().normalize().equals(checkpointFile.toAbsolutePath().normalize())
            ? checkpoint.epoch() : 0);
  }

  /**
   * Trains from {@code startEpoch}; {@code identity} is the run's (null: computed here if checkpoints are
   * written), {@code notice} a message for the listeners before the first epoch (or null), and
   * {@code keptEpochs} the epochs in the checkpoint file as it is now (0 if there is none of this run).
   */
  private TrainingHistory run(Module model, Dataset train, Dataset validation, Optimizer optimizer,
      LrSchedule schedule, Objective objective, TrainingConfig config, int startEpoch, long startStep,
      RunIdentity identity, String notice, int keptEpochs) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(train, "train");
    Objects.requireNonNull(optimizer, "optimizer");
    Objects.requireNonNull(schedule, "schedule");
    Objects.requireNonNull(objective, "objective");
    Objects.requireNonNull(config, "config");
    if (validation != null && !Arrays.equals(train.sampleShape(), validation.sampleShape())) {
      throw new IllegalArgumentException("validation samples: expected shape "
          + Tensor.shapeString(train.sampleShape()) + " but got " + Tensor.shapeString(validation.sampleShape()));
    }
    Batches batches = Batches.shuffled(train, config.batchSize(), config.seed()).dropLast(config.dropLast());
    int batchesPerEpoch = batches.batchesPerEpoch();
    if (batchesPerEpoch == 0) {
      throw new IllegalArgumentException("the training set of " + train.size()
          + " samples yields no batch of size " + config.batchSize() + (config.dropLast() ? " with dropLast" : ""));
    }
    int samplesPerEpoch = batches.samplesPerEpoch();
    TrainingStart start = new TrainingStart(config, startEpoch, startStep, samplesPerEpoch, batchesPerEpoch,
        validation == null ? 0 : validation.size());
    listeners.forEach(l -> l.onBegin(start));
    if (notice != null) {
      listeners.forEach(l -> l.onNotice(notice));
    }
    RunIdentity runIdentity = identity != null || checkpointFile == null ? identity : RunIdentity.of(config, train);

    model.train(true);
    List<EpochStats> history = new ArrayList<>();
    long step = startStep;
    int lastCheckpoint = keptEpochs; // epochs in the checkpoint file that is there now; 0: none
    for (int epoch = startEpoch; epoch < config.epochs(); epoch++) {
      long epochStart = System.nanoTime();
      int e = epoch;
      listeners.forEach(l -> l.onEpochStart(e));
      if (model instanceof Reseedable) {
        ((Reseedable) model).reseed(epochSeed(config.seed(), epoch));
      }
      if (objective instanceof Reseedable) {
        ((Reseedable) objective).reseed(objectiveSeed(config.seed(), epoch));
      }
      double lossSum = 0;
      long correct = 0;
      int seen = 0;
      BatchIterator it = batches.epoch(epoch);
      while (it.hasNext()) {
        Batch batch = it.next();
        double lr = schedule.lr(step);
        optimizer.setLearningRate(lr);
        optimizer.zeroGrad();
        Objective.StepResult result = objective.step(model, batch.input(), batch.labels());
        if (!Double.isFinite(result.loss())) {
          throw diverged(epoch, step + 1, lastCheckpoint, "the loss of step " + (step + 1) + " is " + result.loss());
        }
        optimizer.step();
        step++;
        int batchCorrect = countCorrect(result.logits(), batch.labels(), "objective logits");
        lossSum += result.loss() * batch.size();
        correct += batchCorrect;
        seen += batch.size();
        BatchResult done = new BatchResult(epoch, batch.index(), batchesPerEpoch, step, batch.size(),
            result.loss(), batchCorrect, lr, seen, samplesPerEpoch);
        listeners.forEach(l -> l.onBatchEnd(done));
      }
      double trainSeconds = (System.nanoTime() - epochStart) / 1e9;
      Evaluation eval = null;
      if (validation != null) {
        eval = evaluate(model, validation, config.evalBatchSize());
        model.train(true);
        Evaluation v = eval;
        listeners.forEach(l -> l.onValidation(e, v));
      }
      double trainLoss = lossSum / seen;
      double trainAccuracy = (double) correct / seen;
      String nonFinite = nonFinite(model, optimizer);
      if (nonFinite != null) {
        throw diverged(epoch, step, lastCheckpoint, "after its last step " + nonFinite);
      }
      if (checkpointFile != null) {
        writeCheckpoint(model, optimizer, config, runIdentity, epoch, step, trainLoss, trainAccuracy, eval);
        listeners.forEach(l -> l.onCheckpoint(e, checkpointFile));
        lastCheckpoint = epoch + 1;
      }
      EpochStats stats = new EpochStats(epoch, step, trainLoss, trainAccuracy,
          eval == null ? Double.NaN : eval.loss(), eval == null ? Double.NaN : eval.accuracy(),
          trainSeconds > 0 ? seen / trainSeconds : Double.NaN, (System.nanoTime() - epochStart) / 1e9);
      history.add(stats);
      listeners.forEach(l -> l.onEpochEnd(stats));
    }
    TrainingHistory result = TrainingHistory.of(history);
    listeners.forEach(l -> l.onEnd(result));
    return result;
  }

  private void writeCheckpoint(Module model, Optimizer optimizer, TrainingConfig config, RunIdentity identity,
      int epoch, long step, double trainLoss, double trainAccuracy, Evaluation eval) {
    int next = epoch + 1;
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("format", Checkpoint.FORMAT);
    metadata.put("epoch", Integer.toString(next));
    metadata.put("global_step", Long.toString(step));
    metadata.putAll(identity.metadata());
    metadata.put("config", config.toJson());
    metadata.put("rng_state", rngState(config.seed(), next));
    metadata.put("train_loss", Double.toString(trainLoss));
    metadata.put("train_accuracy", Double.toString(trainAccuracy));
    if (eval != null) {
      metadata.put("validation_loss", Double.toString(eval.loss()));
      metadata.put("validation_accuracy", Double.toString(eval.accuracy()));
    }
    try {
      Checkpoint.of(model.stateDict(), optimizer.state(), metadata).write(checkpointFile);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint " + checkpointFile + " after epoch " + next + ": "
          + e.getMessage(), e);
    }
  }

  /** The first non-finite value of the model's state or the optimizer's, described; null if there is none. */
  private static String nonFinite(Module model, Optimizer optimizer) {
    String inModel = FiniteCheck.firstNonFinite(model.stateDict());
    return inModel != null ? "the model's " + inModel : optimizer.state().isEmpty() ? null
        : prefixed("the optimizer's ", FiniteCheck.firstNonFinite(optimizer.state()));
  }

  private static String prefixed(String prefix, String s) {
    return s == null ? null : prefix + s;
  }

  private TrainingDivergedException diverged(int epoch, long step, int lastCheckpoint, String what) {
    String kept = checkpointFile == null ? "no checkpoint file was set"
        : lastCheckpoint == 0 ? "no checkpoint was written before it (" + checkpointFile + ")"
        : "the last good checkpoint, after epoch " + lastCheckpoint + ", is kept in " + checkpointFile;
    return new TrainingDivergedException("training diverged in epoch " + (epoch + 1) + ": " + what + "; " + kept,
        epoch, step);
  }

  /** What the next epoch's randomness derives from, as JSON (for reference: a resume recomputes it). */
  private static String rngState(long seed, int nextEpoch) {
    Map<String, Object> state = new LinkedHashMap<>();
    state.put("scheme", "reseed-per-epoch");
    state.put("seed", seed);
    state.put("next_epoch", nextEpoch);
    state.put("shuffle", "Batches.permutation(train_samples, seed, epoch)");
    state.put("model_seed", epochSeed(seed, nextEpoch));
    state.put("objective_seed", objectiveSeed(seed, nextEpoch));
    return Json.write(state);
  }

  /**
   * Runs {@code model} over {@code data} in evaluation mode, in order, {@code batchSize} samples per forward
   * pass, and restores the model's previous mode.
   *
   * @throws IllegalArgumentException if the model's output is not {@code [batch, classes]} or a label is not a
   *     valid class index for it
   */
  public static Evaluation evaluate(Module model, Dataset data, int batchSize) {
    Objects.requireNonNull(model, "model");
    long start = System.nanoTime();
    double[] lossSum = {0};
    long[] correct = {0};
    forEachBatchInEvalMode(model, data, batchSize, batch -> {
      Tensor logits = model.forward(batch.input());
      correct[0] += countCorrect(logits, batch.labels(), "model output");
      lossSum[0] += CrossEntropy.sum(logits, batch.labels());
    });
    int n = data.size();
    return new Evaluation(n == 0 ? Double.NaN : lossSum[0] / n, n == 0 ? Double.NaN : (double) correct[0] / n, n,
        (System.nanoTime() - start) / 1e9);
  }

  /**
   * Passes the batches of {@code data} to {@code action} in order, {@code batchSize} samples each (the last
   * one possibly smaller), with {@code model} in evaluation mode, and restores the model's previous mode
   * afterwards, also when {@code action} throws.
   *
   * @throws IllegalArgumentException if {@code batchSize} is not positive
   */
  public static void forEachBatchInEvalMode(Module model, Dataset data, int batchSize, Consumer<Batch> action) {
    boolean wasTraining = model.isTraining();
    model.eval();
    try {
      BatchIterator it = Batches.sequential(data, batchSize).epoch(0);
      while (it.hasNext()) {
        action.accept(it.next());
      }
    } finally {
      model.train(wasTraining);
    }
  }

  private static void checkLogits(Tensor logits, int[] labels, String what) {
    if (logits.rank() != 2 || logits.dim(0) != labels.length) {
      throw new IllegalArgumentException(what + ": expected shape [" + labels.length + ", classes] but got "
          + Tensor.shapeString(logits.shape()));
    }
    int classes = logits.dim(1);
    for (int label : labels) {
      if (label < 0 || label >= classes) {
        throw new IllegalArgumentException(
            what + ": label " + label + " is not a class index of logits " + Tensor.shapeString(logits.shape()));
      }
    }
  }

  /**
   * Rows of {@code logits [N, C]} whose largest value (the first on ties, as {@code torch.argmax}) is at the
   * label.
   *
   * @throws IllegalArgumentException if the shapes do not match or a label is not a class index
   */
  public static int countCorrect(Tensor logits, int[] labels) {
    return countCorrect(logits, labels, "logits");
  }

  private static int countCorrect(Tensor logits, int[] labels, String what) {
    checkLogits(logits, labels, what);
    int classes = logits.dim(1);
    float[] z = logits.data();
    int correct = 0;
    for (int i = 0; i < labels.length; i++) {
      int base = i * classes;
      int best = 0;
      for (int c = 1; c < classes; c++) {
        if (z[base + c] > z[base + best]) {
          best = c;
        }
      }
      if (best == labels[i]) {
        correct++;
      }
    }
    return correct;
  }

  /** The seed a {@link Reseedable} model receives at the start of {@code epoch} of a run seeded {@code seed}. */
  public static long epochSeed(long seed, int epoch) {
    return mix(seed, 0x6D6F64656CL, epoch); // "model"
  }

  /** The seed a {@link Reseedable} objective receives at the start of {@code epoch}. */
  public static long objectiveSeed(long seed, int epoch) {
    return mix(seed, 0x6F626A656374L, epoch); // "object"
  }

  /** SplitMix64's finalizer over (seed, stream, epoch). */
  private static long mix(long seed, long stream, int epoch) {
    return dev.kiln.runtime.Seeds.mix(seed ^ (stream * 0xD1B54A32D192ED03L), epoch);
  }

  @Override
  public String toString() {
    return "Trainer{listeners=" + listeners + ", checkpoint=" + checkpointFile + "}";
  }
}
