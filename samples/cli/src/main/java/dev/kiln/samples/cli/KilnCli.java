package dev.kiln.samples.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code kiln-cli}: trains the sample RepVGG network on the bundled digits or on Fashion-MNIST, checks that
 * the fused deploy network computes what the trained one does, and evaluates saved weights.
 *
 * <p>Exit codes: 0 success, 1 a file that cannot be used (malformed weights, weights that do not fit the
 * network, a failed write), 2 bad usage (unknown option or value, a missing file or directory), 3 training
 * diverged.
 */
@Command(name = "kiln-cli", mixinStandardHelpOptions = true, versionProvider = KilnCli.Version.class,
    usageHelpWidth = 100,
    description = "Trains and evaluates Kiln's sample RepVGG network (compile-time generated kernels) and imports "
        + "ONNX networks as @Model interfaces.",
    subcommands = {TrainCommand.class, EvalCommand.class, ImportCommand.class},
    footer = {"", "Exit codes: 0 success, 1 unusable file or failed write, 2 bad usage or missing input,",
        "3 training diverged (the last good checkpoint is kept).",
        "Run 'kiln-cli COMMAND --help' for the options of a command."})
public final class KilnCli implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  /** Runs the command line and exits with its exit code. */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /**
   * The configured command line: one-line errors for expected failures; a usage error (an unknown option, a
   * value that does not parse or is out of range) is one line that points to the command's {@code --help},
   * with exit code 2.
   */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new KilnCli());
    cli.setParameterExceptionHandler((e, args) -> {
      CommandLine command = e.getCommandLine();
      command.getErr().println("kiln-cli: error: " + e.getMessage().replace('\n', ' ').strip() + " (see '"
          + command.getCommandSpec().qualifiedName() + " --help')");
      command.getErr().flush();
      return CliException.USAGE;
    });
    cli.setExecutionExceptionHandler(ExitCodeException.oneLineErrors("kiln-cli"));
    return cli;
  }

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "Missing required subcommand: train, eval or import");
  }

  /** The Kiln version this jar was built from. */
  static String version() {
    try (InputStream in = KilnCli.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** {@code --version}: the Kiln version, Java and the thread count. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"kiln-cli " + version(),
          "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + "), "
              + Runtime.getRuntime().availableProcessors() + " processors"};
    }
  }
}
