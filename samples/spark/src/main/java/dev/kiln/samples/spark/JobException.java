package dev.kiln.samples.spark;

/** An error {@code kiln-spark} reports as one line (no stack trace) before exiting with {@link #exitCode()}. */
final class JobException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Exit code for a failed job or an unusable file: corrupt input, malformed weights, a failed write. */
  static final int FAILURE = 1;
  /** Exit code for bad usage: a missing file, an existing output without {@code --overwrite}. */
  static final int USAGE = 2;

  private final int exitCode;

  JobException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  JobException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }
}
