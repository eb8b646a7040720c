package dev.kiln.samples.cli;

/** An error the command reports as one line (no stack trace) before exiting with {@link #exitCode()}. */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Exit code for bad input from the user: a missing file or directory, inconsistent options. */
  static final int USAGE = 2;
  /** Exit code for a file that exists but cannot be used (malformed, wrong model), or a failed write. */
  static final int FAILURE = 1;
  /** Exit code for training that diverged (a non-finite loss or weights); the last good checkpoint is kept. */
  static final int DIVERGED = 3;

  private final int exitCode;

  CliException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  CliException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  int exitCode() {
    return exitCode;
  }
}
