package dev.kiln.train;

/**
 * Training stopped because it diverged: a step's loss was NaN or infinite, or the weights or optimizer state
 * held a non-finite value at the end of an epoch. No checkpoint is written for the epoch in which it
 * happened, so the last checkpoint (if any) is the last good state.
 */
public final class TrainingDivergedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int epoch;
  private final long step;

  TrainingDivergedException(String message, int epoch, long step) {
    super(message);
    this.epoch = epoch;
    this.step = step;
  }

  /** The 0-based epoch in which training diverged. */
  public int epoch() {
    return epoch;
  }

  /** The global step (1-based) after which the divergence was found. */
  public long step() {
    return step;
  }
}
