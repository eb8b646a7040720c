package dev.kiln.samples.spark;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.io.SafeTensors;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

/**
 * What goes wrong: corrupt inputs fail the job with one line and the documented exit code and leave no output
 * (no {@code _SUCCESS} marker anywhere), an existing output is kept unless {@code --overwrite} is given and the
 * job succeeds, and unusable weights or options are reported before any job starts.
 */
class FailureTest {
  @Test
  void truncatedIdxFileFailsWithOneLineAndWritesNothing() throws IOException {
    Path data = Fixtures.newDir("truncated-idx");
    try (Stream<Path> files = Files.list(Fixtures.idxDir())) {
      for (Path f : files.toList()) {
        Files.copy(f, data.resolve(f.getFileName()));
      }
    }
    Path images = data.resolve("t10k-images-idx3-ubyte");
    byte[] bytes = Files.readAllBytes(images);
    Files.write(images, java.util.Arrays.copyOf(bytes, bytes.length - 100));
    Path out = Fixtures.newDir("out").resolve("scores");

    Fixtures.Run run = Fixtures.spark("score", "--model", Fixtures.idxWeights().toString(), "--data",
        data.toString(), "--output", out.toString());

    assertFailure(run, 1, "kiln-spark: error: cannot read the IDX images in " + data + ": " + images
        + ": truncated: the header declares 31360 pixel bytes but the file holds only 31260");
    assertNothingWritten(out);
  }

  @Test
  void corruptParquetFileFailsWithOneLineAndWritesNothing() throws IOException {
    Path images = Fixtures.newDir("corrupt-parquet").resolve("images");
    Files.createDirectories(images);
    Files.write(images.resolve("part-00000.parquet"), "not a parquet file, just some bytes".getBytes());

    Fixtures.Run run = assertParquetScoringFails(images.toString(), "kiln-spark: error: ");

    assertThat(run.err()).contains("part-00000.parquet");
    assertThat(run.err()).contains("is not a Parquet file");
  }

  @Test
  void wrongSizedImageFailsTheRunningJobAndLeavesNoSuccessMarker() {
    Path dir = Fixtures.newDir("bad-image");
    String images = writeImages(dir, 7, new byte[10]);

    assertParquetScoringFails(images,
        "kiln-spark: error: scoring failed: image 7 has 10 bytes of pixels but DigitsNet takes 8x8 = 64");
  }

  @Test
  void labelOutsideTheClassesFailsTheJob() {
    Path dir = Fixtures.newDir("bad-label");
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      rows.add(RowFactory.create((long) i, i == 11 ? 10 : i % 10, new byte[64]));
    }
    String images = dir.resolve("images").toString();
    Fixtures.spark().createDataFrame(rows, Images.SCHEMA).repartition(2).write().parquet(images);

    assertParquetScoringFails(images,
        "kiln-spark: error: scoring failed: image 11: label 10 is not a class of DigitsNet (0..9)");
  }

  @Test
  void parquetWithoutImageColumnsIsRejectedBeforeTheJob() {
    Path dir = Fixtures.newDir("not-images");
    String data = dir.resolve("table").toString();
    Fixtures.spark().range(5).toDF("id").write().parquet(data);

    Fixtures.Run run = scoreParquet(data, dir.resolve("scores").toString());

    assertFailure(run, 1, "kiln-spark: error: " + data + " does not hold images (columns index: long, label: "
        + "int, pixels: binary): no column 'index' (long); no column 'pixels' (binary)");
  }

  @Test
  void existingOutputIsKeptUnlessOverwriteIsGiven() throws IOException {
    Path out = Fixtures.newDir("existing").resolve("scores");
    Files.createDirectories(out);
    Files.writeString(out.resolve("keep.txt"), "earlier results");

    Fixtures.Run refused = Fixtures.spark("score", "--model", Fixtures.digitsWeights().toString(), "--output",
        out.toString());
    assertFailure(refused, 2, "kiln-spark: error: output " + out + " already exists; give --overwrite to "
        + "replace it");
    assertThat(listing(out)).containsExactly("keep.txt");

    Fixtures.Run replaced = Fixtures.spark("score", "--model", Fixtures.digitsWeights().toString(), "--output",
        out.toString(), "--overwrite");
    assertWithMessage(replaced.err()).that(replaced.exitCode()).isEqualTo(0);
    assertThat(listing(out)).contains("_SUCCESS");
    assertThat(listing(out)).doesNotContain("keep.txt");
    assertThat(ScoringTest.read(out)).hasSize(297);
    assertThat(listing(out.getParent())).containsExactly("scores"); // no staging or replaced directory left
  }

  @Test
  void failedJobWithOverwriteKeepsTheExistingOutput() throws IOException {
    Path dir = Fixtures.newDir("overwrite-fails");
    String images = writeImages(dir, 3, new byte[63]);
    Path out = dir.resolve("scores");
    Files.createDirectories(out);
    Files.writeString(out.resolve("keep.txt"), "earlier results");

    Fixtures.Run run = scoreParquet(images, out.toString(), "--overwrite");

    assertFailure(run, 1,
        "kiln-spark: error: scoring failed: image 3 has 63 bytes of pixels but DigitsNet takes 8x8 = 64");
    assertThat(listing(out)).containsExactly("keep.txt");
    assertThat(Files.readString(out.resolve("keep.txt"))).isEqualTo("earlier results");
    assertThat(listing(dir)).containsExactly("images", "scores");
  }

  @Test
  void unusableWeightsAreReportedBeforeAnyJob() throws IOException {
    Path dir = Fixtures.newDir("weights");
    String out = dir.resolve("scores").toString();

    Path missing = dir.resolve("missing.safetensors");
    assertFailure(Fixtures.spark("score", "--model", missing.toString(), "--output", out), 2,
        "kiln-spark: error: model file " + missing + " does not exist");

    Path garbage = dir.resolve("garbage.safetensors");
    Files.write(garbage, new byte[] {1, 2, 3});
    Fixtures.Run malformed = Fixtures.spark("score", "--model", garbage.toString(), "--output", out);
    assertFailure(malformed, 1, "kiln-spark: error: cannot read model file " + garbage + ": ");

    Path other = dir.resolve("other.safetensors");
    SafeTensors.write(other, Map.of("weight", Tensor.zeros(3)), Map.of("dataset", "digits"));
    Fixtures.Run misfit = Fixtures.spark("score", "--model", other.toString(), "--output", out);
    assertFailure(misfit, 1, "kiln-spark: error: " + other + " does not fit DigitsNet: ");

    Path fashion = dir.resolve("fashion.safetensors");
    Files.copy(Fixtures.idxWeights(), fashion, StandardCopyOption.REPLACE_EXISTING);
    assertFailure(Fixtures.spark("score", "--model", fashion.toString(), "--dataset", "digits", "--output", out),
        2, "kiln-spark: error: " + fashion + " holds weights trained on fashion-mnist but --dataset is digits");
    assertThat(listing(dir)).containsExactly("garbage.safetensors", "other.safetensors", "fashion.safetensors");
  }

  @Test
  void badOptionsAndMissingInputsAreUsageErrors() {
    Path dir = Fixtures.newDir("usage");
    String weights = Fixtures.digitsWeights().toString();
    String out = dir.resolve("scores").toString();

    Fixtures.Run batch = Fixtures.spark("score", "--model", weights, "--output", out, "--batch-size", "0");
    assertThat(batch.exitCode()).isEqualTo(2);
    assertThat(batch.err()).startsWith("--batch-size must be >= 1 but was 0");

    Fixtures.Run input = Fixtures.spark("score", "--model", weights, "--output", out, "--input", "csv");
    assertThat(input.exitCode()).isEqualTo(2);
    assertThat(input.err()).contains("unknown input 'csv', expected digits, idx or parquet");

    Path nowhere = dir.resolve("nowhere");
    assertFailure(Fixtures.spark("score", "--model", weights, "--input", "idx", "--data", nowhere.toString(),
        "--output", out), 2, "kiln-spark: error: data directory " + nowhere + " does not exist; ");
    assertFailure(Fixtures.spark("score", "--model", weights, "--input", "parquet", "--data", nowhere.toString(),
        "--output", out), 2, "kiln-spark: error: input " + nowhere + " does not exist");
    assertThat(listing(dir)).isEmpty();
  }

  /** Writes 20 digits-sized images as Parquet in two files, image {@code badIndex} with {@code badPixels}. */
  private static String writeImages(Path dir, int badIndex, byte[] badPixels) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      rows.add(RowFactory.create((long) i, i % 10, i == badIndex ? badPixels : new byte[64]));
    }
    String images = dir.resolve("images").toString();
    Fixtures.spark().createDataFrame(rows, Images.SCHEMA).repartition(2).write().parquet(images);
    return images;
  }

  /** One line on standard error starting with {@code prefix}, nothing on standard output, the exit code. */
  private static void assertFailure(Fixtures.Run run, int exitCode, String prefix) {
    assertWithMessage(run.err()).that(run.exitCode()).isEqualTo(exitCode);
    assertThat(run.err()).startsWith(prefix);
    assertWithMessage(run.err()).that(run.err().strip().lines().count()).isEqualTo(1);
    assertThat(run.out()).isEmpty();
  }

  /**
   * {@code score} on the Parquet images at {@code images} into a new output fails as {@link #assertFailure} checks
   * (exit code 1, one line starting with {@code prefix}) and leaves nothing written.
   */
  private static Fixtures.Run assertParquetScoringFails(String images, String prefix) {
    Path out = Fixtures.newDir("out").resolve("scores");
    Fixtures.Run run = scoreParquet(images, out.toString());
    assertFailure(run, 1, prefix);
    assertNothingWritten(out);
    return run;
  }

  /** {@code out} does not exist, and its directory holds nothing (no {@code _SUCCESS}, no staging directory). */
  private static void assertNothingWritten(Path out) {
    assertThat(Files.exists(out)).isFalse();
    assertThat(listing(out.getParent())).isEmpty();
  }

  private static List<String> listing(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** {@code score} with the digits weights on the Parquet images at {@code data}; then {@code more} options. */
  private static Fixtures.Run scoreParquet(String data, String output, String... more) {
    String[] args = {"score", "--model", Fixtures.digitsWeights().toString(), "--input", "parquet", "--data", data,
        "--output", output};
    String[] all = java.util.Arrays.copyOf(args, args.length + more.length);
    System.arraycopy(more, 0, all, args.length, more.length);
    return Fixtures.spark(all);
  }
}
