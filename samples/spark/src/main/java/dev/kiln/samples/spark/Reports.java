package dev.kiln.samples.spark;

import java.io.PrintWriter;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;

/** What the commands print about a scoring run. */
final class Reports {
  private Reports() {}

  /** The input a model's data set is read from when {@code --input} is not given. */
  static ImageSource defaultSource(Network network) {
    return network == Network.DIGITS ? ImageSource.DIGITS : ImageSource.IDX;
  }

  /** The lines {@code score} prints: accuracy, throughput and where the predictions are. */
  static void printResult(PrintWriter out, ScoringJob.Result result, ModelArtifact artifact, String input,
      SparkSession spark, ModelOptions model) {
    String accuracy = result.labeled() == 0 ? "no labels"
        : String.format(Locale.ROOT, "accuracy %.4f (%,d/%,d labeled)", result.accuracy(), result.correct(),
            result.labeled());
    out.printf(Locale.ROOT, "scored %,d images of %s with fused %s: %s%n", result.images(), input,
        artifact, accuracy);
    out.printf(Locale.ROOT, "%.3f s from submission to the last prediction written: %,.0f images/s (%s, "
        + "engine %s)%n", result.seconds(), result.imagesPerSecond(), setup(spark, model), engines(result));
    out.printf("predictions: %s%n", result.output());
  }

  /** The master, batch size and Kiln threads, e.g. for benchmark lines. */
  static String setup(SparkSession spark, ModelOptions model) {
    return String.format(Locale.ROOT, "master %s, batch %d, Kiln pool %d thread%s per JVM",
        spark.sparkContext().master(), model.batchSize, model.kilnThreads, model.kilnThreads == 1 ? "" : "s");
  }

  /** The engines the tasks' forwards ran, e.g. {@code simd-blocked-512}, or {@code none} if no task ran. */
  static String engines(ScoringJob.Result result) {
    return result.engines().isEmpty() ? "none" : String.join(" and ", result.engines());
  }

  /**
   * Which convolution engine Kiln uses in this JVM ({@code scalar} without {@code --add-modules
   * jdk.incubator.vector}).
   */
  static String engine() {
    return ExecutorModels.engine(Network.DIGITS.fuse(Network.DIGITS.newModel()));
  }
}
