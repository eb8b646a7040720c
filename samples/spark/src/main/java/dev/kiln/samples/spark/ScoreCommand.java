package dev.kiln.samples.spark;

import java.io.PrintWriter;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code kiln-spark score}: scores images with a fused network and writes the predictions as Parquet. */
@Command(name = "score",
    description = {"Score images with the fused network on Spark; write the predictions as Parquet.", "",
        "The weights are read and checked on the driver, broadcast, and fused once per executor JVM; each task "
            + "scores its partition in batches. The output holds one row per image: index, label, predicted, "
            + "probability (the predicted class's softmax). It is written next to --output and moved into "
            + "place when the job succeeded.", ""})
final class ScoreCommand extends ScoringCommand {
  @Option(names = "--output", paramLabel = "PATH", required = true,
      description = "Where to write the predictions (a Parquet directory; any Hadoop path).")
  String output;

  @Option(names = "--overwrite", description = "Replace an existing output (only once the job succeeded).")
  boolean overwrite;

  @Mixin
  SparkOptions spark;

  @Override
  public Integer call() {
    ModelArtifact artifact = validateAndReadModel();
    SparkSession session = spark.session("kiln-spark score");
    ImageSource fallback = Reports.defaultSource(artifact.network());
    ScoringJob.Result result = ScoringJob.run(session, artifact, () -> input.read(session, fallback), output,
        model.jobOptions(overwrite));
    PrintWriter out = spec.commandLine().getOut();
    Reports.printResult(out, result, artifact, input.describe(fallback), session, model);
    out.flush();
    return 0;
  }
}
