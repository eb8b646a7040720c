package dev.kiln.samples.spark;

import dev.kiln.samples.cli.ExitCodeException;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code kiln-spark}: batch scoring with a fused Kiln network (trained by {@code kiln-cli train}) on Apache
 * Spark, in this JVM ({@code local[*]}) by default or on a cluster ({@code --master}, {@code spark-submit}).
 *
 * <p>Exit codes: 0 success; 1 a failed job or an unusable file (corrupt images, malformed weights or weights
 * that do not fit the network, a failed write); 2 bad usage (unknown option or value, a missing file or
 * directory, an existing output without {@code --overwrite}).
 */
@Command(name = "kiln-spark", mixinStandardHelpOptions = true, versionProvider = KilnSpark.Version.class,
    usageHelpWidth = 100,
    description = "Scores images on Apache Spark with a fused Kiln network trained by 'kiln-cli train'.",
    subcommands = {ScoreCommand.class, ConvertCommand.class, BenchCommand.class},
    footer = {"", "Exit codes: 0 success, 1 failed job or unusable file, 2 bad usage, missing input or "
        + "existing output.", "Run 'kiln-spark COMMAND --help' for the options of a command."})
public final class KilnSpark implements Callable<Integer> {
  /** Log4j's setting for its configuration file; kiln-spark sets it unless given (Spark starts after it). */
  private static final String LOG_CONFIG = "log4j2.configurationFile";

  @Spec
  CommandSpec spec;

  /** Runs the command line, stops the Spark session it started and exits with the command's exit code. */
  public static void main(String[] args) {
    if (System.getProperty(LOG_CONFIG) == null) {
      System.setProperty(LOG_CONFIG, "classpath:dev/kiln/samples/spark/log4j2.properties");
    }
    int code = commandLine().execute(args);
    if (SparkSession.getDefaultSession().isDefined()) {
      SparkSession.getDefaultSession().get().stop();
    }
    System.exit(code);
  }

  /** The configured command line: one-line errors for expected failures, exit code 2 for usage errors. */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new KilnSpark());
    cli.setExecutionExceptionHandler(ExitCodeException.oneLineErrors("kiln-spark"));
    return cli;
  }

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "Missing required subcommand: score, convert or bench");
  }

  /** {@code --version}: the sample's version, Java, Spark and Kiln's engine. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      Package p = KilnSpark.class.getPackage();
      String version = p.getImplementationVersion() != null ? p.getImplementationVersion() : "development";
      return new String[] {"kiln-spark " + version + ", Spark " + org.apache.spark.package$.MODULE$.SPARK_VERSION(),
          "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + "), "
              + Runtime.getRuntime().availableProcessors() + " processors, Kiln engine " + Reports.engine()};
    }
  }
}
