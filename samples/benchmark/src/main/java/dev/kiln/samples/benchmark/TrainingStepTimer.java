package dev.kiln.samples.benchmark;

import dev.kiln.runtime.Parallel;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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
public final class TrainingStepTimer {
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
    List<Integer> threads = new ArrayList<>(List.of(1, 2));
    List<String> modes = new ArrayList<>(List.of("plain", "rdrop"));
    int warmup = 30;
    int runs = 60;
    double seconds = 8;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--threads" -> {
          threads.clear();
          while (i + 1 < args.length && !args[i + 1].startsWith("--")) {
            threads.add(Integer.parseInt(args[++i]));
          }
        }
        case "--modes" -> {
          modes.clear();
          while (i + 1 < args.length && !args[i + 1].startsWith("--")) {
            modes.add(args[++i]);
          }
        }
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--seconds" -> seconds = Double.parseDouble(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + " (expected --threads, --modes, --warmup, --runs, --seconds)");
      }
    }
    System.out.println(header());
    for (int t : threads) {
      for (String mode : modes) {
        if (!mode.equals("plain") && !mode.equals("rdrop")) {
          throw new IllegalArgumentException("--modes: expected plain or rdrop but got " + mode);
        }
        Row row = time(mode, t, warmup, runs, seconds);
        System.out.println(format(row));
      }
    }
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
