package dev.kiln.samples.cli;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.kiln.samples.cli.KilnCliTest.assertUsageError;
import static dev.kiln.samples.cli.KilnCliTest.concat;
import static dev.kiln.samples.cli.KilnCliTest.run;
import static dev.kiln.samples.cli.KilnCliTest.trainArgs;

import dev.kiln.io.SafeTensors;
import dev.kiln.nn.Dropout;
import dev.kiln.nn.Module;
import dev.kiln.nn.SequentialModel;
import dev.kiln.samples.cli.KilnCliTest.Run;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code train} options of the R-Drop study: {@code --kl-reduction}, {@code --dropout-at}, {@code --dropout}
 * and {@code --final-test-only}, in process on one thread on small digits runs.
 */
class StudyOptionsTest {
  @TempDir
  static Path dir;

  private static Path train(String name, String... options) {
    Path into = dir.resolve(name);
    Run run = run(trainArgs(into, concat(new String[] {"--epochs", "1"}, options)));
    assertWithMessage(name + ": " + run.err()).that(run.exitCode()).isEqualTo(0);
    return into;
  }

  private static Map<String, Object> report(Path run) throws IOException {
    return JsonParser.parseObject(Files.readString(run.resolve("report.json")));
  }

  private static boolean sameWeights(Path a, Path b) throws IOException {
    Map<String, Tensor> x = SafeTensors.read(a.resolve("model.safetensors"));
    Map<String, Tensor> y = SafeTensors.read(b.resolve("model.safetensors"));
    assertThat(x.keySet()).isEqualTo(y.keySet());
    for (String key : x.keySet()) {
      if (!Arrays.equals(x.get(key).data(), y.get(key).data())) {
        return false;
      }
    }
    return true;
  }

  /**
   * 256 samples are four full batches of 64, where alpha A summed over the batch is the loss of alpha 64 A
   * averaged over it: the weights are bitwise equal, and differ from alpha A averaged.
   */
  @Test
  void klReductionReachesTheObjectiveAndSumIsBatchMeanTimesTheBatchSize() throws IOException {
    String[] data = {"--train-samples", "256", "--seed", "3"};
    Path sum = train("sum", concat(data, "--kl-reduction", "sum", "--rdrop-alpha", "0.015625"));
    Path mean = train("batchmean", concat(data, "--kl-reduction", "batchmean", "--rdrop-alpha", "1"));
    Path meanSmall = train("batchmean-small", concat(data, "--kl-reduction", "batchmean", "--rdrop-alpha",
        "0.015625"));
    assertThat(sameWeights(sum, mean)).isTrue();
    assertThat(sameWeights(sum, meanSmall)).isFalse();
    assertThat(report(sum).get("kl_reduction")).isEqualTo("sum");
    assertThat(report(mean).get("kl_reduction")).isEqualTo("batchmean");
    assertThat(report(mean).get("rdrop_alpha")).isEqualTo(1.0);
    Map<String, String> metadata = SafeTensors.readWithMetadata(mean.resolve("model.safetensors")).metadata();
    assertThat(metadata).containsEntry("kl_reduction", "batchmean");
    assertThat(metadata).containsEntry("rdrop_alpha", "1.0");
  }

  @Test
  void blockDropoutNetworkTrainsFusesAndRecordsItsOptions() throws IOException {
    Path run = train("blocks", "--train-samples", "128", "--dropout-at", "blocks", "--dropout", "0.5",
        "--rdrop-alpha", "0", "--final-test-only");
    Map<String, Object> report = report(run);
    assertThat(report.get("model")).isEqualTo("DigitsNetBlockDropout");
    assertThat(report.get("dropout_at")).isEqualTo("blocks");
    assertThat(report.get("dropout")).isEqualTo(0.5);
    assertThat(report.get("train_samples")).isEqualTo(128.0);
    assertThat(report.get("epoch_test")).isEqualTo(false);
    assertThat((Double) report.get("fused_max_abs_diff")).isLessThan(1e-4);
    assertThat((Double) report.get("test_accuracy")).isAtLeast(0.0);
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> history = (List<Map<String, Object>>) report.get("history");
    assertThat(history).hasSize(1);
    assertThat(history.get(0).get("test_accuracy")).isNull(); // no per-epoch test pass
    assertThat((Double) history.get(0).get("train_accuracy")).isAtLeast(0.0);

    Map<String, String> metadata = SafeTensors.readWithMetadata(run.resolve("model.safetensors")).metadata();
    assertThat(metadata).containsEntry("model", "DigitsNetBlockDropout");
    assertThat(metadata).containsEntry("dropout_at", "blocks");
    assertThat(metadata).containsEntry("dropout", "0.5");
    assertThat(metadata).containsEntry("train_samples", "128");
    assertThat(metadata).containsEntry("kl_reduction", "sum");

    Run eval = run("eval", "--model", run.resolve("model.safetensors").toString(),
        "--threads", "1");
    assertWithMessage(eval.err()).that(eval.exitCode()).isEqualTo(0);
  }

  @Test
  void dropoutSetsEveryDropoutLayer() {
    int checked = 0;
    for (DatasetName d : DatasetName.values()) {
      for (DropoutAt at : DropoutAt.values()) {
        for (Double p : new Double[] {null, 0.0, 0.5}) {
          SequentialModel model = TrainCommand.newNetwork(d, at, p, 1);
          List<Double> ps = new ArrayList<>();
          for (Module layer : model.layers().values()) {
            if (layer instanceof Dropout drop) {
              ps.add(drop.p());
            }
          }
          Double expected = p != null ? p : Recipe.DEFAULT_DROPOUT;
          assertWithMessage(d + "/" + at.cliName() + " p " + p).that(ps)
              .containsExactlyElementsIn(java.util.Collections.nCopies(at == DropoutAt.BLOCKS ? 5 : 1, expected));
          checked++;
        }
      }
    }
    assertThat(checked).isEqualTo(12);
  }

  @Test
  void badStudyOptionsExitWithCodeTwoAndAMessage() {
    String[][] cases = {
      {"train", "--dropout", "1"}, {"train", "--dropout", "-0.1"}, {"train", "--dropout", "NaN"},
      {"train", "--dropout-at", "tail"}, {"train", "--kl-reduction", "mean"},
    };
    String[] expected = {
      "--dropout must be in [0, 1) but was 1.0", "--dropout must be in [0, 1) but was -0.1",
      "--dropout must be in [0, 1) but was NaN",
      "unknown dropout placement 'tail', expected one of: head, blocks",
      "unknown KL reduction 'mean', expected one of: sum, batchmean",
    };
    assertThat(cases.length).isEqualTo(expected.length);
    for (int i = 0; i < cases.length; i++) {
      assertUsageError(cases[i], expected[i]);
    }
  }

  @Test
  void helpListsTheStudyOptions() {
    Run help = run("train", "--help");
    assertThat(help.exitCode()).isEqualTo(0);
    for (String flag : new String[] {"--kl-reduction", "--dropout-at", "--dropout", "--final-test-only"}) {
      assertWithMessage(flag).that(help.out()).contains(flag);
    }
    assertThat(help.out()).contains("sum, batchmean");
    assertThat(help.out()).contains("head, blocks");
  }
}
