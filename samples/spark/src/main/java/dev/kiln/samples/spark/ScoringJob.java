package dev.kiln.samples.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.CollectionAccumulator;

/**
 * The batch scoring job: images in, one prediction per image out as Parquet ({@link PartitionScorer#SCHEMA}),
 * the weights broadcast once and fused once per executor JVM.
 */
final class ScoringJob {
  /**
   * @param batchSize images per forward pass
   * @param kilnThreads Kiln's pool size in each executor JVM (Spark's tasks provide the parallelism)
   * @param overwrite whether an existing output is replaced
   */
  record Options(int batchSize, int kilnThreads, boolean overwrite) {}

  /**
   * @param images images scored
   * @param labeled images with a label
   * @param correct labeled images whose prediction is the label
   * @param seconds from the job's start to its last prediction written (output in place)
   * @param output the output's qualified path
   * @param engines the convolution engines of the JVMs that ran tasks ({@code scalar} where the vector module
   *     was missing)
   */
  record Result(long images, long labeled, long correct, double seconds, String output, Set<String> engines) {
    double accuracy() {
      return labeled == 0 ? Double.NaN : (double) correct / labeled;
    }

    double imagesPerSecond() {
      return images / seconds;
    }
  }

  private ScoringJob() {}

  /**
   * Reads the images {@code input} supplies, scores them with {@code model} and writes the predictions to
   * {@code output}; then counts them (not timed).
   *
   * @throws JobException exit code 2 if the output exists without {@code overwrite} or the input is missing,
   *     1 if the job failed (the message is the cause's, on one line); the output is then left as it was
   */
  static Result run(SparkSession spark, ModelArtifact model, Supplier<Dataset<Row>> input, String output,
      Options options) {
    long start = System.nanoTime();
    OutputPath out = OutputPath.prepare(spark, output, options.overwrite());
    Broadcast<ModelArtifact> broadcast = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(model);
    CollectionAccumulator<String> engines = spark.sparkContext().collectionAccumulator("kiln engines");
    try {
      out.writeParquet(() -> input.get().mapPartitions(
          new PartitionScorer(broadcast, options.batchSize(), options.kilnThreads(), engines),
          Encoders.row(PartitionScorer.SCHEMA)), "scoring");
    } finally {
      broadcast.destroy();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Row counts = spark.read().parquet(out.target())
        .agg(count(lit(1)), count(col(Images.LABEL)),
            sum(when(col(Images.LABEL).equalTo(col(PartitionScorer.PREDICTED)), 1L).otherwise(0L)))
        .first();
    List<String> engineList = engines.value();
    return new Result(counts.getLong(0), counts.getLong(1), counts.isNullAt(2) ? 0 : counts.getLong(2), seconds,
        out.target(), new TreeSet<>(engineList));
  }
}
