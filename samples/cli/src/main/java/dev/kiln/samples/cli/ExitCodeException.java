package dev.kiln.samples.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import picocli.CommandLine.IExecutionExceptionHandler;

/**
 * An error a sample's command reports as one line (no stack trace) before exiting with {@link #exitCode()}:
 * {@code kiln-cli}'s {@link CliException} and {@code kiln-spark}'s {@code JobException}.
 */
public abstract class ExitCodeException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Exit code for a file that exists but cannot be used (malformed, wrong model), a failed job or write. */
  public static final int FAILURE = 1;
  /** Exit code for bad usage: a missing file or directory, inconsistent options, an existing output. */
  public static final int USAGE = 2;

  private final int exitCode;

  protected ExitCodeException(int exitCode, String message) {
    super(message);
    this.exitCode = exitCode;
  }

  protected ExitCodeException(int exitCode, String message, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  /** The process's exit code for this error. */
  public int exitCode() {
    return exitCode;
  }

  /**
   * The execution exception handler of {@code program}'s command line: an {@code ExitCodeException} is the line
   * {@code program: error: message} on standard error and its exit code, an I/O error the same line and
   * {@link #FAILURE}; anything else is a bug and propagates with its stack trace.
   */
  public static IExecutionExceptionHandler oneLineErrors(String program) {
    return (e, commandLine, parseResult) -> {
      if (e instanceof ExitCodeException x) {
        commandLine.getErr().println(program + ": error: " + x.getMessage());
        return x.exitCode();
      }
      if (e instanceof IOException || e instanceof UncheckedIOException) {
        commandLine.getErr().println(program + ": error: " + e.getMessage());
        return FAILURE;
      }
      throw e;
    };
  }
}
