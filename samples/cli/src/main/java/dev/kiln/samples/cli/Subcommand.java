package dev.kiln.samples.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What every {@code kiln-cli} subcommand has: {@code --help} and {@code --version}, its options listed in the
 * order they are declared, 100 columns of help (picocli applies this class's {@code @Command} attributes before
 * the subclass's own), and the spec picocli injects.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = KilnCli.Version.class, sortOptions = false,
    usageHelpWidth = 100)
abstract class Subcommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  /** A usage error of this command (exit code 2): {@code message}, pointing to the command's {@code --help}. */
  ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
