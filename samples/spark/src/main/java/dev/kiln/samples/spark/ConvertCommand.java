package dev.kiln.samples.spark;

import java.io.PrintWriter;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code kiln-spark convert}: writes images as Parquet, the second input format of {@code score}. */
@Command(name = "convert",
    description = {"Write images as Parquet: index (long), label (int), pixels (binary, one byte per pixel, "
        + "row-major).", "",
        "Reads the bundled digits or IDX files (--input digits or idx); writes one file per partition. "
            + "'score --input parquet --data PATH' reads them back.", ""})
final class ConvertCommand extends SparkCommand {
  @Mixin
  InputOptions input;

  @Option(names = "--output", paramLabel = "PATH", required = true,
      description = "Where to write the Parquet images (a directory; any Hadoop path).")
  String output;

  @Option(names = "--overwrite", description = "Replace an existing output (only once the job succeeded).")
  boolean overwrite;

  @Mixin
  SparkOptions spark;

  @Override
  public Integer call() {
    input.validate(spec.commandLine());
    SparkSession session = spark.session("kiln-spark convert");
    long start = System.nanoTime();
    OutputPath out = OutputPath.prepare(session, output, overwrite);
    out.writeParquet(() -> input.read(session, ImageSource.DIGITS), "conversion");
    long images = session.read().parquet(out.target()).count();
    PrintWriter stdout = spec.commandLine().getOut();
    stdout.printf(Locale.ROOT, "wrote %,d images of %s to %s in %.1f s%n", images,
        input.describe(ImageSource.DIGITS), out.target(), (System.nanoTime() - start) / 1e9);
    stdout.flush();
    return 0;
  }
}
