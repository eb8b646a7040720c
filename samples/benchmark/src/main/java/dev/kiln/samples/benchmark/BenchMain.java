package dev.kiln.samples.benchmark;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * Runs JMH with the usual command line (the same options as {@code org.openjdk.jmh.Main}) and then prints
 * a table of microseconds and GFLOP/s per shape, engine and thread count. Run it with
 * {@code java -cp kiln-benchmarks.jar dev.kiln.samples.benchmark.BenchMain [JMH options]}.
 */
public final class BenchMain {
  private BenchMain() {}

  public static void main(String[] args) throws RunnerException {
    CommandLineOptions options;
    try {
      options = new CommandLineOptions(args);
    } catch (CommandLineOptionException e) {
      System.err.println("Error parsing command line: " + e.getMessage());
      System.exit(1);
      return;
    }
    Collection<RunResult> results = new Runner(options).run();
    System.out.println();
    System.out.print(table(results));
  }

  /**
   * One row per convolution run: benchmark, shape, threads, microseconds per call, GFLOP/s. Runs without a
   * {@code shape} parameter (e.g. {@code TrainingStepBenchmark}) are left out; JMH prints their scores.
   */
  static String table(Collection<RunResult> results) {
    List<RunResult> sorted = new ArrayList<>();
    for (RunResult r : results) {
      if (r.getParams().getParam("shape") != null) {
        sorted.add(r);
      }
    }
    sorted.sort(Comparator.comparing((RunResult r) -> ConvShape.valueOf(r.getParams().getParam("shape")))
        .thenComparing(r -> r.getParams().getBenchmark())
        .thenComparing(r -> String.valueOf(r.getParams().getParam("threads"))));
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%-18s %-34s %-7s %12s %9s%n",
        "shape", "benchmark", "threads", "us/call", "GFLOP/s"));
    for (RunResult r : sorted) {
      ConvShape shape = ConvShape.valueOf(r.getParams().getParam("shape"));
      Result<?> primary = r.getPrimaryResult();
      double nanos = Gflops.nanosPerOp(primary.getScore(), primary.getScoreUnit());
      String benchmark = r.getParams().getBenchmark();
      String threads = r.getParams().getParam("threads");
      out.append(String.format(Locale.ROOT, "%-18s %-34s %-7s %12.2f %9.2f%n", shape,
          benchmark.substring(benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1) + 1),
          threads == null ? "1" : threads, nanos / 1e3, Gflops.of(shape.macs(), nanos)));
    }
    return out.toString();
  }
}
