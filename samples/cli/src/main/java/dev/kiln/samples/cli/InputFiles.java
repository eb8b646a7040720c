package dev.kiln.samples.cli;

import dev.kiln.io.AtomicFile;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks of the files and directories a command reads, before it reads them: a missing one, or one of
 * another kind (a directory where a file is expected, a device, a pipe), is a one-line usage error (exit
 * code 2) that says what the path is. A file that exists but cannot be used is reported by its reader
 * (exit code 1).
 */
final class InputFiles {
  private InputFiles() {}

  /**
   * {@code path} must be a regular file (links followed); {@code what} names it in the message, e.g.
   * {@code "model file"}.
   *
   * @throws CliException exit code 2 if it does not exist or is not a regular file
   */
  static void requireFile(String what, Path path) {
    if (!Files.exists(path)) {
      throw new CliException(CliException.USAGE, what + " " + path + " does not exist");
    }
    if (!Files.isRegularFile(path)) {
      throw new CliException(CliException.USAGE, what + " " + path + " is " + AtomicFile.kind(path) + ", not a file");
    }
  }

  /**
   * {@code path} must be a directory (links followed); {@code hint} ends the message when it does not exist.
   *
   * @throws CliException exit code 2 if it does not exist or is not a directory
   */
  static void requireDirectory(String what, Path path, String hint) {
    if (!Files.exists(path)) {
      throw new CliException(CliException.USAGE, what + " " + path + " does not exist" + hint);
    }
    if (!Files.isDirectory(path)) {
      throw new CliException(CliException.USAGE, what + " " + path + " is "
          + (Files.isRegularFile(path) ? "a file" : AtomicFile.kind(path)) + ", not a directory" + hint);
    }
  }
}
