package dev.kiln.samples.cli;

import dev.kiln.io.AtomicFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The files a command writes, checked before it does any work: each must be a regular file or not exist
 * yet, not a symbolic link unless {@code --follow-links} is given, in a directory (or where one can be
 * created), and no two of them may be the same file, however they are spelled. Every problem is a one-line
 * usage error (exit code 2). The files are then written through {@link AtomicFile} (a temporary file in the
 * same directory, renamed over the target), so nothing else is ever replaced.
 *
 * <p>A command mixes in {@link Options} for {@code --follow-links} and, before its work, calls
 * {@code OutputFiles.of(options).add("--out", out).add("--report", report).check()}.
 */
final class OutputFiles {
  /** The {@code --follow-links} option, to mix into every command that writes files. */
  static final class Options {
    @Option(names = "--follow-links",
        description = "Write through symbolic links at output paths (replacing the files they point to); "
            + "without it an output path that is a symbolic link is refused.")
    boolean followLinks;
  }

  /** One output: the option that names it and the path as given. */
  private record Output(String option, Path path) {}

  private final boolean followLinks;
  private final List<Output> outputs = new ArrayList<>();

  private OutputFiles(boolean followLinks) {
    this.followLinks = followLinks;
  }

  /** An empty set of outputs, links followed if {@code options} says so. */
  static OutputFiles of(Options options) {
    return new OutputFiles(options.followLinks);
  }

  /** Adds the file {@code option} names ({@code path} null: the option writes nothing). */
  OutputFiles add(String option, Path path) {
    if (path != null) {
      outputs.add(new Output(option, path));
    }
    return this;
  }

  /**
   * Checks every output and that no two are the same file.
   *
   * @throws CliException exit code 2 naming the option and the path for the first problem found
   */
  void check() {
    List<Path> identities = new ArrayList<>();
    for (Output output : outputs) {
      Path identity = identity(output, followLinks);
      int same = identities.indexOf(identity);
      if (same >= 0) {
        Output first = outputs.get(same);
        throw usage(first.option() + " " + first.path() + " and " + output.option() + " " + output.path()
            + " name the same file" + (identity.equals(output.path().toAbsolutePath().normalize()) ? ""
                : " (" + identity + ")"));
      }
      identities.add(identity);
    }
  }

  /** The file {@code output} writes, links resolved: the same path for the same file. */
  private static Path identity(Output output, boolean followLinks) {
    Path path = output.path();
    if (Files.isSymbolicLink(path) && !followLinks) {
      throw usage(output.option() + " " + path + " is a symbolic link; pass --follow-links to write to the file "
          + "it points to");
    }
    Path target;
    try {
      target = AtomicFile.writableTarget(path);
    } catch (IOException e) {
      throw usage(output.option() + " " + e.getMessage());
    }
    Path parent = target.getParent();
    Path existing = parent;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing != null && !Files.isDirectory(existing)) {
      throw usage(output.option() + " " + path + ": " + existing + " is not a directory");
    }
    try {
      if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        return target.toRealPath();
      }
      return existing == null ? target : existing.toRealPath().resolve(existing.relativize(target)).normalize();
    } catch (IOException e) {
      throw usage(output.option() + " " + path + ": " + e.getMessage());
    }
  }

  private static CliException usage(String message) {
    return new CliException(CliException.USAGE, message);
  }
}
