package dev.kiln.samples.spark;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.Locale;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code kiln-spark bench}: the scoring job run several times in one Spark session, each run timed from its
 * submission to its last prediction written.
 */
@Command(name = "bench",
    description = {"Time the scoring job: --runs runs in one Spark session (the JVM and session stay up).", "",
        "Each run is the whole job of 'score': read the images, score them, write the predictions (to a "
            + "fresh directory under --output, deleted at the end). The first runs include the JIT warming "
            + "up.", ""})
final class BenchCommand extends ScoringCommand {
  @Option(names = "--runs", paramLabel = "N", defaultValue = "5",
      description = "Runs of the job (default: ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--output", paramLabel = "PATH",
      description = "A new directory for the runs' predictions, deleted at the end (default: a temporary "
          + "directory).")
  String output;

  @Mixin
  SparkOptions spark;

  @Override
  void validate() {
    if (runs < 1) {
      throw new ParameterException(spec.commandLine(), "--runs must be >= 1 but was " + runs);
    }
  }

  @Override
  public Integer call() throws IOException {
    ModelArtifact artifact = validateAndReadModel();
    SparkSession session = spark.session("kiln-spark bench");
    ImageSource fallback = Reports.defaultSource(artifact.network());
    String base = output != null ? output : Files.createTempDirectory("kiln-spark-bench").toString();
    if (output != null) {
      Path path = new Path(output);
      if (path.getFileSystem(session.sparkContext().hadoopConfiguration()).exists(path)) {
        throw new JobException(JobException.USAGE, "--output " + output + " already exists; bench writes a new "
            + "directory there and deletes it at the end");
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    out.printf("bench: %s, %s; %s%n", artifact, input.describe(fallback), Reports.setup(session, model));
    double[] rates = new double[runs];
    try {
      for (int r = 0; r < runs; r++) {
        long cpuBefore = processCpuNanos();
        ScoringJob.Result result = ScoringJob.run(session, artifact, () -> input.read(session, fallback),
            base + "/run-" + r, model.jobOptions(false));
        double cpuSeconds = (processCpuNanos() - cpuBefore) / 1e9;
        rates[r] = result.imagesPerSecond();
        out.printf(Locale.ROOT, "run %d: %,d images in %.3f s: %,.0f images/s; accuracy %.4f; engine %s; this "
                + "JVM's CPU time %.2f s (with counting the predictions)%n", r + 1, result.images(), result.seconds(),
            rates[r], result.accuracy(), Reports.engines(result), cpuSeconds);
        out.flush();
      }
    } finally {
      Path path = new Path(base);
      FileSystem fs = path.getFileSystem(session.sparkContext().hadoopConfiguration());
      fs.delete(path, true);
    }
    double[] sorted = rates.clone();
    Arrays.sort(sorted);
    out.printf(Locale.ROOT, "median %,.0f images/s, best %,.0f images/s over %d runs%n", sorted[runs / 2],
        sorted[runs - 1], runs);
    out.flush();
    return 0;
  }

  /**
   * The CPU time of this JVM's threads so far: in local mode the tasks run here, so a run's CPU time next to
   * its wall time tells a busy machine (the two far apart at one core) from a slow job.
   */
  private static long processCpuNanos() {
    java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
  }
}
