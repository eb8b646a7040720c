package dev.kiln.optim;

/** A learning rate as a function of the optimizer step (0-based), for a run of known length. */
@FunctionalInterface
public interface LrSchedule {
  /** The learning rate for step {@code step} (0-based: the rate used by the first update is {@code lr(0)}). */
  double lr(long step);
}
