package dev.kiln.samples.cli;

/**
 * An error the command reports as one line (no stack trace) before exiting with {@link #exitCode()}: {@link #USAGE}
 * for bad input from the user (a missing file or directory, inconsistent options), {@link #FAILURE} for a file
 * that exists but cannot be used (malformed, wrong model) or a failed write, or {@link #DIVERGED}.
 */
final class CliException extends ExitCodeException {
  private static final long serialVersionUID = 1L;

  /** Exit code for training that diverged (a non-finite loss or weights); the last good checkpoint is kept. */
  static final int DIVERGED = 3;

  CliException(int exitCode, String message) {
    super(exitCode, message);
  }

  CliException(int exitCode, String message, Throwable cause) {
    super(exitCode, message, cause);
  }
}
