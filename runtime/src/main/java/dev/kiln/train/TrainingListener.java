package dev.kiln.train;

import java.nio.file.Path;

/**
 * Hooks into a training run; every method does nothing by default. For each run the calls come in this
 * order: {@code onBegin}; {@code onNotice} if there is something to tell; then per epoch {@code onEpochStart}, one {@code onBatchEnd} per step,
 * {@code onValidation} (only with a validation set), {@code onCheckpoint} (only with a checkpoint file),
 * {@code onEpochEnd}; finally {@code onEnd}. Listeners run on the training thread, in the order they were
 * added; an exception from a listener stops the run.
 */
public interface TrainingListener {
  /** Before the first epoch of this call. */
  default void onBegin(TrainingStart start) {}

  /**
   * Something the user should know about the run, after {@code onBegin}: for example that a resume runs on
   * another thread count than the run that wrote the checkpoint.
   */
  default void onNotice(String message) {}

  /** Before the first step of {@code epoch} (0-based). */
  default void onEpochStart(int epoch) {}

  /** After each training step (optimizer update done). */
  default void onBatchEnd(BatchResult batch) {}

  /** After validating at the end of {@code epoch}; the model is back in training mode. */
  default void onValidation(int epoch, Evaluation validation) {}

  /** After the checkpoint for {@code epoch} was written to {@code file}. */
  default void onCheckpoint(int epoch, Path file) {}

  /** After each epoch. */
  default void onEpochEnd(EpochStats stats) {}

  /** After the last epoch. */
  default void onEnd(TrainingHistory history) {}
}
