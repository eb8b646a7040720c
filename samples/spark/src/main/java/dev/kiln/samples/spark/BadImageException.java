package dev.kiln.samples.spark;

/**
 * An image row that cannot be scored (missing or wrongly sized pixels), thrown inside a task; the driver finds
 * it in the failed job's causes and reports its message.
 */
final class BadImageException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  BadImageException(String message) {
    super(message);
  }
}
