package dev.kiln.samples.benchmark;

import dev.kiln.runtime.Parallel;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Times training steps of the sample network the way {@code tools/bench/pytorch_train_bench.py} does, for a
 * like-for-like table next to the JMH benchmark ({@link TrainingStepBenchmark}): per thread count and R-Drop
 * off/on, warm-up steps, then single steps for at least {@code --runs} steps and {@code --seconds} seconds;
 * prints the median and fastest step as images per second, and the process CPU time per step (all threads,
 * JIT and GC included), which a loaded machine inflates much less than the wall time.
 *
 * <pre>
 * java -cp kiln-benchmarks.jar dev.kiln.samples.benchmark.TrainingStepTimer [--threads 1 2] [--modes plain rdrop]
 *     [--warmup 30] [--runs 60] [--seconds 8]
 * </pre>
 */
@Command(name = "TrainingStepTimer", mixinStandardHelpOptions = true,
    description = "Times training steps of the sample network (batch " + TrainingWorkload.BATCH + ").")
public final class TrainingStepTimer implements Callable<Integer> {
  /** With or without R-Drop. */
  enum Mode {
    PLAIN,
    RDROP
  }

  @Option(names = "--threads", arity = "1..*", paramLabel = "T", defaultValue = "1 2", split = " ",
      description = "thread counts (default: ${DEFAULT-VALUE})")
  private List<Integer> threads;

  @Option(names = "--modes", arity = "1..*", paramLabel = "MODE", defaultValue = "plain rdrop", split = " ",
      description = "plain, rdrop or both (default: ${DEFAULT-VALUE})")
  private List<Mode> modes;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "30", description = "untimed steps first (default: ${DEFAULT-VALUE})")
  private int warmup;

  @Option(names = "--runs", paramLabel = "N", defaultValue = "60", description = "at least this many timed steps (default: ${DEFAULT-VALUE})")
  private int runs;

  @Option(names = "--seconds", paramLabel = "S", defaultValue = "8", description = "and at least this many seconds (default: ${DEFAULT-VALUE})")
  private double seconds;

  private TrainingStepTimer() {}

  /** One configuration's result. */
  record Row(String mode, int threads, int steps, double medianMs, double minMs, double cpuMsPerStep) {
    double imagesPerSecond() {
      return TrainingWorkload.BATCH * 1e3 / medianMs;
    }

    double bestImagesPerSecond() {
      return TrainingWorkload.BATCH * 1e3 / minMs;
    }

    double imagesPerCpuSecond() {
      return TrainingWorkload.BATCH * 1e3 / cpuMsPerStep;
    }
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line, as {@link #main} runs it. */
  static CommandLine commandLine() {
    return new CommandLine(new TrainingStepTimer()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  @Override
  public Integer call() {
    System.out.println(header());
    for (int t : threads) {
      for (Mode mode : modes) {
        System.out.println(format(time(mode.name().toLowerCase(Locale.ROOT), t, warmup, runs, seconds)));
      }
    }
    return 0;
  }

  /** Times one configuration. */
  static Row time(String mode, int threads, int warmup, int runs, double seconds) {
    Parallel.setThreads(threads);
    TrainingWorkload workload = new TrainingWorkload(mode.equals("rdrop"), 1L);
    for (int i = 0; i < warmup; i++) {
      workload.step();
    }
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    List<Long> samples = new ArrayList<>();
    long cpu0 = os.getProcessCpuTime();
    long start = System.nanoTime();
    while (samples.size() < runs || System.nanoTime() - start < seconds * 1e9) {
      long t0 = System.nanoTime();
      workload.step();
      samples.add(System.nanoTime() - t0);
    }
    long cpu = os.getProcessCpuTime() - cpu0;
    long[] sorted = samples.stream().mapToLong(Long::longValue).sorted().toArray();
    double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
        : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2.0;
    return new Row(mode, threads, sorted.length, median / 1e6, sorted[0] / 1e6, cpu / 1e6 / sorted.length);
  }

  static String header() {
    return String.format(Locale.ROOT, "%-6s %7s %10s %8s %9s %9s %10s %11s %6s", "mode", "threads", "median ms",
        "min ms", "images/s", "best i/s", "cpu ms", "images/cpu-s", "steps");
  }

  static String format(Row r) {
    return String.format(Locale.ROOT, "%-6s %7d %10.2f %8.2f %9.0f %9.0f %10.2f %11.0f %6d", r.mode(), r.threads(),
        r.medianMs(), r.minMs(), r.imagesPerSecond(), r.bestImagesPerSecond(), r.cpuMsPerStep(),
        r.imagesPerCpuSecond(), r.steps());
  }
}
