package dev.kiln.samples.spark;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What every {@code kiln-spark} subcommand has: {@code --help} and {@code --version}, its options listed in the
 * order they are declared, 100 columns of help (picocli applies this class's {@code @Command} attributes before
 * the subclass's own), and the spec picocli injects.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = KilnSpark.Version.class, sortOptions = false,
    usageHelpWidth = 100)
abstract class SparkCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;
}
