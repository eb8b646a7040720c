package dev.kiln.samples.spark;

import dev.kiln.nn.ConvKernel;
import dev.kiln.nn.Module;
import dev.kiln.nn.SequentialModel;
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
    out.printf(Locale.ROOT, "%.3f s from submission to the last prediction written: %,.0f images/s (%s)%n",
        result.seconds(), result.imagesPerSecond(), setup(spark, model));
    out.printf("predictions: %s%n", result.output());
  }

  /** The master, batch size, Kiln threads and the driver's engine, e.g. for benchmark lines. */
  static String setup(SparkSession spark, ModelOptions model) {
    return String.format(Locale.ROOT, "master %s, batch %d, Kiln pool %d thread%s per JVM, engine %s",
        spark.sparkContext().master(), model.batchSize, model.kilnThreads, model.kilnThreads == 1 ? "" : "s",
        engine());
  }

  /**
   * Which convolution engine Kiln uses in this JVM ({@code scalar} without {@code --add-modules
   * jdk.incubator.vector}); in local mode the tasks run in this JVM too.
   */
  static String engine() {
    Module digits = Network.DIGITS.fuse(Network.DIGITS.newModel());
    for (Module layer : ((SequentialModel) digits).layers().values()) {
      if (layer instanceof ConvKernel kernel) {
        return kernel.engineName();
      }
    }
    return "unknown";
  }
}
