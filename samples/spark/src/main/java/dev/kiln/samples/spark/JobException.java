package dev.kiln.samples.spark;

import dev.kiln.samples.cli.ExitCodeException;

/**
 * An error {@code kiln-spark} reports as one line (no stack trace) before exiting with {@link #exitCode()}:
 * {@link #FAILURE} for a failed job or an unusable file (corrupt input, malformed weights, a failed write),
 * {@link #USAGE} for bad usage (a missing file, an existing output without {@code --overwrite}).
 */
final class JobException extends ExitCodeException {
  private static final long serialVersionUID = 1L;

  JobException(int exitCode, String message) {
    super(exitCode, message);
  }

  JobException(int exitCode, String message, Throwable cause) {
    super(exitCode, message, cause);
  }
}
