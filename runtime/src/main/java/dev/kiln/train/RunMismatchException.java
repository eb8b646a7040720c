package dev.kiln.train;

/**
 * {@link Trainer#resume} was given a checkpoint that another run wrote (other settings, seed, batch size or
 * training data), or one past the configured epochs; the message names what differs and both values.
 */
public final class RunMismatchException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** An exception with {@code message}. */
  public RunMismatchException(String message) {
    super(message);
  }
}
