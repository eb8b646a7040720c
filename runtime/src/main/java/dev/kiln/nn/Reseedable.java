package dev.kiln.nn;

/**
 * A module (or objective) that draws random numbers while training, e.g. {@code Dropout} masks, and lets
 * the training loop reset its generator.
 *
 * <p>{@link dev.kiln.train.Trainer} calls {@link #reseed(long)} on the model (and on the objective) at the
 * start of every epoch with a seed derived from the run's seed and the epoch number. After that call the
 * module's random draws must depend only on that seed and on the calls made since, so an epoch's
 * randomness does not depend on earlier epochs: a run resumed from a checkpoint at an epoch boundary
 * draws exactly what an uninterrupted run draws, and no generator state has to be saved. A network
 * forwards the call to each random child with a distinct seed derived from the one it receives (for
 * example mixed with the child's position).
 */
public interface Reseedable {
  /** Resets every random generator of this object from {@code seed}. */
  void reseed(long seed);
}
