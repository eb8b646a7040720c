package dev.kiln.samples.spark;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.data.Digits;
import dev.kiln.data.IdxDataset;
import dev.kiln.data.InMemoryDataset;
import dev.kiln.io.SafeTensors;
import dev.kiln.nn.Module;
import dev.kiln.samples.cli.DigitsNetModel;
import dev.kiln.samples.cli.FashionNetModel;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The scoring job in local mode against the single-JVM fused network: the same prediction for every image,
 * the same accuracy as {@code kiln-cli eval}, from every input format.
 */
class ScoringTest {
  /** One image's expected prediction. */
  record Prediction(long index, int label, int predicted, float probability) {}

  @Test
  void predictionsEqualTheSingleJvmFusedNetworkImageForImage() throws IOException {
    Path out = Fixtures.newDir("scores").resolve("all");
    Fixtures.Run run = Fixtures.spark("score", "--model", Fixtures.digitsWeights().toString(), "--split", "all",
        "--partitions", "5", "--batch-size", "100", "--output", out.toString());
    assertWithMessage(run.err()).that(run.exitCode()).isEqualTo(0);

    List<Prediction> expected = reference(digitsNetwork(Fixtures.digitsWeights()), Digits.all());
    assertThat(expected).hasSize(1797);
    assertThat(read(out)).containsExactlyElementsIn(expected).inOrder();
  }

  @Test
  void accuracyEqualsKilnCliEvalOnTheSameWeights() {
    String weights = Fixtures.digitsWeights().toString();
    Fixtures.Run eval = Fixtures.cli("eval", "--model", weights, "--threads", "1");
    assertWithMessage(eval.err()).that(eval.exitCode()).isEqualTo(0);
    Fixtures.Run score = Fixtures.spark("score", "--model", weights,
        "--output", Fixtures.newDir("scores").resolve("test").toString());
    assertWithMessage(score.err()).that(score.exitCode()).isEqualTo(0);

    Matcher cli = Pattern.compile("accuracy (0\\.\\d{4}) \\((\\d+)/297\\)").matcher(eval.out());
    assertWithMessage(eval.out()).that(cli.find()).isTrue();
    Matcher spark = Pattern.compile("scored 297 images of digits \\(test\\) with fused DigitsNet weights .*: "
        + "accuracy (0\\.\\d{4}) \\((\\d+)/297 labeled\\)").matcher(score.out());
    assertWithMessage(score.out()).that(spark.find()).isTrue();
    assertThat(spark.group(2)).isEqualTo(cli.group(2));
    assertThat(spark.group(1)).isEqualTo(cli.group(1));
    assertThat(Integer.parseInt(cli.group(2))).isGreaterThan(29); // trained: better than chance
  }

  @Test
  void parquetImagesWrittenByConvertScoreLikeTheBundledDigits() throws IOException {
    Path dir = Fixtures.newDir("parquet");
    Fixtures.Run convert = Fixtures.spark("convert", "--input", "digits", "--split", "all", "--partitions", "3",
        "--output", dir.resolve("images").toString());
    assertWithMessage(convert.err()).that(convert.exitCode()).isEqualTo(0);
    assertThat(convert.out()).contains("wrote 1,797 images of digits (all)");
    assertThat(Fixtures.spark().read().parquet(dir.resolve("images").toString()).schema())
        .isEqualTo(Images.SCHEMA.asNullable());

    Fixtures.Run score = Fixtures.spark("score", "--model", Fixtures.digitsWeights().toString(), "--input",
        "parquet", "--data", dir.resolve("images").toString(), "--output", dir.resolve("scores").toString());
    assertWithMessage(score.err()).that(score.exitCode()).isEqualTo(0);
    assertThat(read(dir.resolve("scores")))
        .containsExactlyElementsIn(reference(digitsNetwork(Fixtures.digitsWeights()), Digits.all())).inOrder();
  }

  @Test
  void fashionIdxFilesScoreLikeTheSingleJvmNetworkAndKilnCliEval() throws IOException {
    String weights = Fixtures.idxWeights().toString();
    String data = Fixtures.idxDir().toString();
    Path out = Fixtures.newDir("idx-scores");
    Fixtures.Run all = Fixtures.spark("score", "--model", weights, "--data", data, "--split", "all",
        "--output", out.resolve("all").toString());
    assertWithMessage(all.err()).that(all.exitCode()).isEqualTo(0);
    InMemoryDataset train = IdxDataset.fashionMnist(Fixtures.idxDir(), true);
    InMemoryDataset test = IdxDataset.fashionMnist(Fixtures.idxDir(), false);
    Module network = fashionNetwork(Fixtures.idxWeights());
    List<Prediction> expected = new java.util.ArrayList<>(reference(network, train));
    for (Prediction p : reference(network, test)) {
      expected.add(new Prediction(p.index() + train.size(), p.label(), p.predicted(), p.probability()));
    }
    assertThat(read(out.resolve("all"))).containsExactlyElementsIn(expected).inOrder();

    Fixtures.Run eval = Fixtures.cli("eval", "--model", weights, "--data", data, "--threads", "1");
    assertWithMessage(eval.err()).that(eval.exitCode()).isEqualTo(0);
    Fixtures.Run score = Fixtures.spark("score", "--model", weights, "--input", "idx", "--data", data,
        "--output", out.resolve("test").toString());
    assertWithMessage(score.err()).that(score.exitCode()).isEqualTo(0);
    Matcher cli = Pattern.compile("\\((\\d+)/40\\)").matcher(eval.out());
    Matcher spark = Pattern.compile("\\((\\d+)/40 labeled\\)").matcher(score.out());
    assertWithMessage(eval.out()).that(cli.find()).isTrue();
    assertWithMessage(score.out()).that(spark.find()).isTrue();
    assertThat(spark.group(1)).isEqualTo(cli.group(1));
  }

  /** The predictions a job wrote, by index. */
  static List<Prediction> read(Path output) {
    return Fixtures.spark().read().parquet(output.toString()).orderBy(Images.INDEX).collectAsList().stream()
        .map(ScoringTest::prediction).toList();
  }

  private static Prediction prediction(Row r) {
    return new Prediction(r.getLong(0), r.getInt(1), r.getInt(2), r.getFloat(3));
  }

  static Module digitsNetwork(Path weights) throws IOException {
    return fused(new DigitsNetModel(), DigitsNetModel::fuse, weights);
  }

  static Module fashionNetwork(Path weights) throws IOException {
    return fused(new FashionNetModel(), FashionNetModel::fuse, weights);
  }

  /** {@code model} with the weights loaded, in eval mode, fused by {@code fuse}, the fused network in eval mode. */
  private static <M extends Module> Module fused(M model, Function<M, Module> fuse, Path weights)
      throws IOException {
    model.loadStateDict(SafeTensors.read(weights));
    model.eval();
    Module fused = fuse.apply(model);
    fused.eval();
    return fused;
  }

  /** Every image of {@code data} through {@code fused}, one at a time: class and softmax probability. */
  static List<Prediction> reference(Module fused, InMemoryDataset data) {
    int[] shape = data.sampleShape();
    float[] x = new float[shape[0] * shape[1] * shape[2]];
    List<Prediction> out = new java.util.ArrayList<>();
    for (int i = 0; i < data.size(); i++) {
      data.copySample(i, x, 0);
      float[] z = fused.forward(Tensor.of(x.clone(), 1, shape[0], shape[1], shape[2])).data();
      int best = 0;
      for (int c = 1; c < z.length; c++) {
        best = z[c] > z[best] ? c : best;
      }
      double sum = 0;
      for (float v : z) {
        sum += Math.exp((double) v - z[best]);
      }
      out.add(new Prediction(i, data.label(i), best, (float) (1 / sum)));
    }
    return out;
  }
}
