package dev.kiln.samples.cli;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.io.SafeTensors;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/**
 * The command line end to end, in process and on one thread: training on the bundled digits, the report,
 * weights and chart it writes, {@code eval} on those weights, exact resumption, and the error paths.
 */
class KilnCliTest {
  @TempDir
  static Path dir;

  private static Path trainDir;
  private static Run trained;
  private static Map<String, Object> report;

  /** One invocation's exit code and output. */
  record Run(int exitCode, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = KilnCli.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
        .execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  /** {@code train} on one thread, quietly, writing its files into {@code into}; then {@code more}. */
  static String[] trainArgs(Path into, String... more) {
    String[] base = {"train", "-q", "--threads", "1", "--out", into.resolve("model.safetensors").toString(),
        "--report", into.resolve("report.json").toString(), "--plot", into.resolve("curve.svg").toString()};
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  @BeforeAll
  static void trainTwoEpochs() throws IOException {
    trainDir = dir.resolve("digits run");
    // plain cross-entropy here (the default, half the cost of R-Drop); the resume test trains with R-Drop
    trained = run(trainArgs(trainDir, "--epochs", "2", "--rdrop-alpha", "0"));
    assertWithMessage(trained.err()).that(trained.exitCode()).isEqualTo(0);
    report = JsonParser.parseObject(Files.readString(trainDir.resolve("report.json")));
  }

  @Test
  void reportHasTheRunsSettingsAndResults() {
    assertThat(report.keySet()).containsAtLeast("dataset", "epochs", "rdrop_alpha", "seed", "test_accuracy",
        "fused_test_accuracy", "fused_max_abs_diff", "train_seconds", "train_images_per_second",
        "eval_images_per_second", "threads", "history", "batch_size", "lr");
    assertThat(report.get("dataset")).isEqualTo("digits");
    assertThat(report.get("model")).isEqualTo("DigitsNet");
    assertThat(report.get("epochs")).isEqualTo(2.0);
    assertThat(report.get("rdrop_alpha")).isEqualTo(0.0);
    assertThat(report.get("seed")).isEqualTo(1.0);
    assertThat(report.get("threads")).isEqualTo(1.0);
    assertThat(report.get("batch_size")).isEqualTo(64.0);
    assertThat(report.get("lr")).isEqualTo(0.05);
    assertThat(report.get("train_samples")).isEqualTo(1500.0);
    assertThat(report.get("test_samples")).isEqualTo(297.0);
    assertThat(report.get("kiln_version")).isEqualTo(KilnCli.version());
    assertThat(KilnCli.version()).isNotEqualTo("unknown");

    double accuracy = (Double) report.get("test_accuracy");
    double fused = (Double) report.get("fused_test_accuracy");
    assertThat(accuracy).isGreaterThan(0.5); // chance is 0.1; two epochs reach about 0.8
    assertThat(Math.abs(fused - accuracy)).isAtMost(1.0 / 297 + 1e-12);
    assertThat(fused).isEqualTo((Double) report.get("fused_test_correct") / 297);
    double diff = (Double) report.get("fused_max_abs_diff");
    assertThat(diff).isAtLeast(0.0);
    assertThat(diff).isLessThan(1e-4);
    assertThat((Double) report.get("train_seconds")).isGreaterThan(0.0);
    assertThat((Double) report.get("train_images_per_second")).isGreaterThan(0.0);
    assertThat((Double) report.get("eval_images_per_second")).isGreaterThan(0.0);

    @SuppressWarnings("unchecked")
    List<Map<String, Object>> history = (List<Map<String, Object>>) report.get("history");
    assertThat(history).hasSize(2);
    for (int e = 0; e < 2; e++) {
      Map<String, Object> h = history.get(e);
      assertThat(h.get("epoch")).isEqualTo(e + 1.0);
      assertThat(h.keySet()).containsAtLeast("train_loss", "train_accuracy", "test_loss", "test_accuracy");
      assertThat((Double) h.get("train_loss")).isGreaterThan(0.0);
      assertThat((Double) h.get("train_accuracy")).isAtMost(1.0);
    }
    // the last epoch's validation is the unfused eval-mode accuracy
    assertThat(history.get(1).get("test_accuracy")).isEqualTo(accuracy);
    assertThat((Double) history.get(1).get("train_loss")).isLessThan((Double) history.get(0).get("train_loss"));

    @SuppressWarnings("unchecked")
    Map<String, Object> curve = (Map<String, Object>) report.get("loss_curve");
    @SuppressWarnings("unchecked")
    List<List<Double>> points = (List<List<Double>>) curve.get("points");
    // 2 epochs x 24 batches = 48 batches: one point per batch, ending at epoch 2
    assertThat(curve.get("every_batches")).isEqualTo(1.0);
    assertThat(points).hasSize(48);
    assertThat(points.get(47).get(0)).isEqualTo(2.0);

    assertThat(trained.out()).contains("test accuracy");
    assertThat(trained.err()).isEmpty();
  }

  @Test
  void weightsFileHoldsTheTrainingFormStateDictAndMetadata() throws IOException {
    Path model = trainDir.resolve("model.safetensors");
    SafeTensors.Contents contents = SafeTensors.readWithMetadata(model);
    Map<String, Tensor> tensors = contents.tensors();
    assertThat(tensors.keySet()).isEqualTo(new DigitsNetModel(0).stateDict().keySet());
    assertThat(tensors).containsKey("stage2.rbr_identity.running_var");
    // 2 epochs of 24 batches, each BN tracking once per batch
    assertThat(tensors.get("stage0.rbr_dense.bn.num_batches_tracked").data()[0]).isEqualTo(48f);
    Map<String, String> meta = contents.metadata();
    assertThat(meta).containsEntry("dataset", "digits");
    assertThat(meta).containsEntry("seed", "1");
    assertThat(meta).containsEntry("epochs", "2");
    assertThat(meta).containsEntry("rdrop_alpha", "0.0");
    assertThat(meta).containsEntry("kiln_version", KilnCli.version());
    // num_batches_tracked is stored as I64, everything else as F32
    String header = header(model);
    Matcher m = Pattern.compile("\"([^\"]+)\":\\{\"dtype\":\"(\\w+)\"").matcher(header);
    int i64 = 0;
    int f32 = 0;
    while (m.find()) {
      if (m.group(1).endsWith("num_batches_tracked")) {
        assertThat(m.group(2)).isEqualTo("I64");
        i64++;
      } else {
        assertThat(m.group(2)).isEqualTo("F32");
        f32++;
      }
    }
    assertThat(i64).isEqualTo(9);
    assertThat(i64 + f32).isEqualTo(tensors.size());
    assertThat(Files.isRegularFile(trainDir.resolve("model.ckpt.safetensors"))).isTrue();
  }

  private static String header(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    long n = 0;
    for (int i = 7; i >= 0; i--) {
      n = (n << 8) | (bytes[i] & 0xff);
    }
    return new String(bytes, 8, (int) n, StandardCharsets.UTF_8).replace(" ", "");
  }

  @Test
  void chartIsWellFormedSvgWithSeriesAxesAndLegend() throws Exception {
    Path svg = trainDir.resolve("curve.svg");
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setNamespaceAware(true);
    Document doc = factory.newDocumentBuilder().parse(svg.toFile());
    assertThat(doc.getDocumentElement().getLocalName()).isEqualTo("svg");
    assertThat(doc.getDocumentElement().getNamespaceURI()).isEqualTo("http://www.w3.org/2000/svg");
    assertThat(doc.getElementsByTagNameNS("*", "polyline").getLength()).isEqualTo(3);
    String text = doc.getDocumentElement().getTextContent();
    assertThat(text).contains("training loss");
    assertThat(text).contains("test accuracy");
    assertThat(text).contains("epoch");
    assertThat(text).contains("DigitsNet on digits, cross-entropy, seed 1");
  }

  @Test
  void evalReproducesTheFusedTestAccuracy() {
    Run eval = run("eval", "--model", trainDir.resolve("model.safetensors").toString(), "--threads", "1");
    assertWithMessage(eval.err()).that(eval.exitCode()).isEqualTo(0);
    long correct = Math.round((Double) report.get("fused_test_correct"));
    assertThat(eval.out()).contains("(" + correct + "/297)");
    assertThat(eval.out()).contains(String.format(java.util.Locale.ROOT, "accuracy %.4f", correct / 297.0));
    assertThat(eval.out()).contains("fused DigitsNet on digits");
  }

  @Test
  void resumeAfterOneEpochEqualsTheUninterruptedRun() throws IOException {
    Path whole = dir.resolve("whole");
    Path parts = dir.resolve("parts");
    String[] small = {"--epochs", "2", "--train-samples", "256", "--seed", "5",
        "--rdrop-alpha", String.valueOf(Recipe.NETWORK_RDROP_ALPHA)};
    assertThat(run(trainArgs(whole, small)).exitCode()).isEqualTo(0);
    Run first = run(trainArgs(parts, concat(small, "--stop-after-epoch", "1")));
    assertWithMessage(first.err()).that(first.exitCode()).isEqualTo(0);
    Map<String, Tensor> afterOne = SafeTensors.read(parts.resolve("model.safetensors"));
    Run second = run(trainArgs(parts, concat(small, "--resume")));
    assertWithMessage(second.err()).that(second.exitCode()).isEqualTo(0);

    Map<String, Tensor> expected = SafeTensors.read(whole.resolve("model.safetensors"));
    Map<String, Tensor> actual = SafeTensors.read(parts.resolve("model.safetensors"));
    assertThat(actual.keySet()).isEqualTo(expected.keySet());
    int compared = 0;
    boolean changedInSecondEpoch = false;
    for (String key : expected.keySet()) {
      assertWithMessage(key).that(actual.get(key).shape()).isEqualTo(expected.get(key).shape());
      assertWithMessage(key).that(actual.get(key).data()).isEqualTo(expected.get(key).data());
      changedInSecondEpoch |= !java.util.Arrays.equals(afterOne.get(key).data(), expected.get(key).data());
      compared++;
    }
    assertThat(compared).isEqualTo(55);
    assertThat(changedInSecondEpoch).isTrue();
    Map<String, Object> resumed = JsonParser.parseObject(Files.readString(parts.resolve("report.json")));
    assertThat(resumed.get("resumed_from_epoch")).isEqualTo(1.0);
    assertThat(resumed.get("rdrop_alpha")).isEqualTo(Recipe.NETWORK_RDROP_ALPHA);
    assertThat(second.out()).contains("R-Drop alpha " + Recipe.NETWORK_RDROP_ALPHA);
    assertThat(resumed.get("epochs_completed")).isEqualTo(2.0);
    assertThat((List<?>) resumed.get("history")).hasSize(1);
    Map<String, Object> uninterrupted = JsonParser.parseObject(Files.readString(whole.resolve("report.json")));
    assertThat(resumed.get("fused_test_accuracy")).isEqualTo(uninterrupted.get("fused_test_accuracy"));
  }

  /** A resume must repeat every option that changes the result; --threads may change, with a note. */
  @Test
  void resumeRefusesEveryOptionThatChangesTheResultNamingBothValues() throws IOException {
    Path parts = dir.resolve("resume-checks");
    String[] small = {"--epochs", "2", "--train-samples", "128", "--seed", "5", "--rdrop-alpha", "0"};
    Run first = run(trainArgs(parts, concat(small, "--stop-after-epoch", "1")));
    assertWithMessage(first.err()).that(first.exitCode()).isEqualTo(0);
    Path checkpoint = parts.resolve("model.ckpt.safetensors");
    Path fashion = tinyFashionMnist(dir.resolve("tiny-fashion"), 128);
    String[][] changed = {
      {"--lr", "0.1"}, {"--epochs", "3"}, {"--rdrop-alpha", "0.03"}, {"--seed", "6"}, {"--batch-size", "32"},
      {"--train-samples", "100"}, {"--dataset", "fashion-mnist", "--data", fashion.toString()},
      {"--kl-reduction", "batchmean"}, {"--dropout", "0.5"}, {"--dropout-at", "blocks"},
    };
    String[] expected = {
      "with --lr 0.05 but this run has 0.1", "with --epochs 2 but this run has 3",
      "with --rdrop-alpha 0.0 but this run has 0.03", "with --seed 5 but this run has 6",
      "with --batch-size 64 but this run has 32", "with --train-samples 128 but this run has 100",
      "with --dataset digits but this run has fashion-mnist", "with --kl-reduction sum but this run has batchmean",
      "with --dropout 0.3 but this run has 0.5", "with --dropout-at head but this run has blocks",
    };
    for (int i = 0; i < changed.length; i++) {
      String[] args = trainArgs(parts, concat(replaced(small, changed[i]), "--resume"));
      Run r = run(args);
      assertWithMessage(String.join(" ", args)).that(r.exitCode()).isEqualTo(2);
      assertWithMessage(String.join(" ", args)).that(r.err()).isEqualTo("kiln-cli: error: --resume: " + checkpoint
          + " was written by a run " + expected[i] + System.lineSeparator());
    }
    // the thread count may change: the run goes on and says that the last bits will differ
    Run otherThreads = run(replaced(trainArgs(parts, concat(small, "--resume")), "--threads", "2"));
    assertWithMessage(otherThreads.err()).that(otherThreads.exitCode()).isEqualTo(0);
    assertThat(otherThreads.err()).isEqualTo("note: resuming with 2 threads where the checkpoint's run had 1 thread: "
        + "the result will differ from an uninterrupted run in the last bits" + System.lineSeparator());
    // resuming the finished run trains nothing and says so (no "NaN images/s")
    Run finished = run(replaced(trainArgs(parts, concat(small, "--resume")), "--threads", "2"));
    assertWithMessage(finished.err()).that(finished.exitCode()).isEqualTo(0);
    assertThat(finished.out()).contains("nothing left to train: " + checkpoint + " already holds 2 epochs; fused "
        + "inference ");
    assertThat(finished.out()).doesNotContain("NaN");
    Map<String, Object> report = JsonParser.parseObject(Files.readString(parts.resolve("report.json")));
    assertThat(report.get("train_images_per_second")).isNull();
    assertThat(report.get("epochs_completed")).isEqualTo(2.0);
  }

  @Test
  void resumeRefusesACheckpointThatDoesNotRecordTheRunsOptions() throws IOException {
    Path old = dir.resolve("old-checkpoint");
    Map<String, String> meta = Map.of("format", "kiln-checkpoint-1", "epoch", "1", "global_step", "24", "seed", "1",
        "batch_size", "64", "drop_last", "false", "train_samples", "1500");
    Path file = old.resolve("model.ckpt.safetensors");
    Files.createDirectories(old);
    dev.kiln.train.Checkpoint.of(new DigitsNetModel(1).stateDict(), Map.of(), meta).write(file);
    Run r = run(trainArgs(old, "--resume"));
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("kiln-cli: error: --resume: cannot use " + file + ": the checkpoint does not "
        + "record settings, train_data, threads, arithmetic, which a resume needs to check that this run repeats "
        + "the one that wrote it (a checkpoint of an earlier version of Kiln?); it cannot be resumed"
        + System.lineSeparator());
  }

  /** {@code args} with the values of the options in {@code pairs} replaced (or appended). */
  private static String[] replaced(String[] args, String... pairs) {
    java.util.List<String> all = new java.util.ArrayList<>(java.util.Arrays.asList(args));
    for (int p = 0; p < pairs.length; p += 2) {
      int at = all.indexOf(pairs[p]);
      if (at >= 0) {
        all.set(at + 1, pairs[p + 1]);
      } else {
        all.add(pairs[p]);
        all.add(pairs[p + 1]);
      }
    }
    return all.toArray(new String[0]);
  }

  /** A Fashion-MNIST directory of {@code n} training and 16 test images of 28 x 28 (plain IDX files). */
  static Path tinyFashionMnist(Path into, int n) throws IOException {
    Files.createDirectories(into);
    writeIdx(into.resolve("train-images-idx3-ubyte"), new int[] {n, 28, 28}, n * 784);
    writeIdx(into.resolve("train-labels-idx1-ubyte"), new int[] {n}, n);
    writeIdx(into.resolve("t10k-images-idx3-ubyte"), new int[] {16, 28, 28}, 16 * 784);
    writeIdx(into.resolve("t10k-labels-idx1-ubyte"), new int[] {16}, 16);
    return into;
  }

  /** An unsigned-byte IDX file with the given dimensions and {@code bytes} values {@code i % 10}. */
  static void writeIdx(Path file, int[] dims, int bytes) throws IOException {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + 4 * dims.length + bytes);
    b.put((byte) 0).put((byte) 0).put((byte) 8).put((byte) dims.length);
    for (int d : dims) {
      b.putInt(d);
    }
    for (int i = 0; i < bytes; i++) {
      b.put((byte) (i % 10));
    }
    Files.write(file, b.array());
  }

  static String[] concat(String[] a, String... b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  /** Runs {@code args}, which must fail with exit code 2 and an error containing {@code expected}, no stack trace. */
  static Run assertUsageError(String[] args, String expected) {
    Run r = run(args);
    assertWithMessage(String.join(" ", args)).that(r.exitCode()).isEqualTo(2);
    assertWithMessage(String.join(" ", args)).that(r.err()).contains(expected);
    assertWithMessage(String.join(" ", args)).that(r.err()).doesNotContain("\tat ");
    return r;
  }

  @Test
  void badArgumentsExitWithCodeTwoAndAMessage() {
    String[][] cases = {
      {"train", "--no-such-flag"}, {"train", "--dataset", "mnist"}, {"train", "--epochs", "0"},
      {"train", "--epochs", "x"}, {"train", "--rdrop-alpha", "-1"}, {"train", "--lr", "0"},
      {"train", "--batch-size", "0"}, {"train", "--threads", "0"}, {"train", "--stop-after-epoch", "11"},
      {"train", "--train-samples", "2000"}, {"eval"}, {"eval", "--model", "m", "--threads", "0"}, {},
      {"frobnicate"},
    };
    String[] expected = {
      "Unknown option: '--no-such-flag'", "unknown data set 'mnist', expected one of: digits, fashion-mnist",
      "--epochs must be >= 1 but was 0", "Invalid value for option '--epochs'",
      "--rdrop-alpha must be a finite number >= 0 but was -1.0", "--lr must be a finite number > 0",
      "--batch-size must be >= 1", "--threads must be in [1, ", "--stop-after-epoch must be in [1, 10] but was 11",
      "--train-samples must be at most 1500 for digits", "Missing required option: '--model=FILE'",
      "--threads must be in [1, ", "Missing required subcommand", "Unmatched argument at index 0: 'frobnicate'",
    };
    assertThat(cases.length).isEqualTo(expected.length);
    for (int i = 0; i < cases.length; i++) {
      Run r = assertUsageError(cases[i], expected[i]);
      String command = cases[i].length > 0 && !cases[i][0].equals("frobnicate") ? "kiln-cli " + cases[i][0] : "kiln-cli";
      assertWithMessage(String.join(" ", cases[i])).that(r.err())
          .endsWith(" (see '" + command + " --help')" + System.lineSeparator());
      assertWithMessage(String.join(" ", cases[i])).that(r.err().lines().count()).isEqualTo(1L);
    }
  }

  /** Values that used to overflow, exhaust memory or run for minutes are usage errors before any work. */
  @Test
  void outOfRangeValuesAreRefusedUpFront() throws IOException {
    int processors = Runtime.getRuntime().availableProcessors();
    String threads = "--threads must be in [1, " + 4 * processors + "] (at most 4 x the " + processors
        + " available processors) but was ";
    String[][] cases = {
      {"train", "--threads", "2147483647"}, {"train", "--threads", "1000"},
      {"train", "--batch-size", "2147483647"}, {"train", "--train-samples", "100", "--batch-size", "101"},
      {"eval", "--model", trainDir.resolve("model.safetensors").toString(), "--batch-size", "1000"},
      {"eval", "--model", trainDir.resolve("model.safetensors").toString(), "--threads", "-1"},
    };
    String[] expected = {
      threads + "2147483647", threads + "1000",
      "--batch-size must be at most the training set size, 1500, but was 2147483647",
      "--batch-size must be at most the training set size, 100, but was 101",
      "--batch-size must be at most the test set size, 297, but was 1000", threads + "-1",
    };
    for (int i = 0; i < cases.length; i++) {
      String[] args = cases[i][0].equals("train")
          ? replaced(trainArgs(dir.resolve("range")), java.util.Arrays.copyOfRange(cases[i], 1, cases[i].length))
          : cases[i];
      Run r = run(args);
      assertWithMessage(String.join(" ", args)).that(r.exitCode()).isEqualTo(2);
      assertWithMessage(String.join(" ", args)).that(r.err()).contains(expected[i]);
    }
    assertThat(Files.exists(dir.resolve("range"))).isFalse();
    assertThat(Recipe.stepsPerEpoch(1500, Integer.MAX_VALUE)).isEqualTo(1);
  }

  /** A batch within the training set that would not fit in the heap (when the real data set is installed). */
  @Test
  void aBatchThatDoesNotFitTheHeapIsRefusedUpFront() {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isDirectory(DatasetName.DEFAULT_FASHION_DIR), "Fashion-MNIST not installed");
    Run r = run(trainArgs(dir.resolve("heap"), "--dataset", "fashion-mnist", "--batch-size", "60000"));
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("--batch-size 60000 needs about ");
    assertThat(r.err()).contains(" for a training step of FashionNet (");
    assertThat(r.err()).contains("this JVM may still use; use at most ");
  }

  @Test
  void fashionMnistImagesOfAnotherSizeAreRefused() throws IOException {
    Path other = Files.createDirectories(dir.resolve("fashion-32"));
    writeIdx(other.resolve("train-images-idx3-ubyte"), new int[] {8, 32, 32}, 8 * 1024);
    writeIdx(other.resolve("train-labels-idx1-ubyte"), new int[] {8}, 8);
    writeIdx(other.resolve("t10k-images-idx3-ubyte"), new int[] {2, 32, 32}, 2 * 1024);
    writeIdx(other.resolve("t10k-labels-idx1-ubyte"), new int[] {2}, 2);
    Run r = run(trainArgs(dir.resolve("x32"), "--dataset", "fashion-mnist", "--data", other.toString()));
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("kiln-cli: error: the training images in " + other + " are 32 x 32, but "
        + "fashion-mnist images are 28 x 28 (FashionNet takes no other size)" + System.lineSeparator());
  }

  @Test
  void missingDataIsOneClearLineWithExitCodeTwo() throws IOException {
    Run noDir = run(trainArgs(dir.resolve("x"), "--dataset", "fashion-mnist", "--data",
        dir.resolve("nowhere").toString()));
    assertThat(noDir.exitCode()).isEqualTo(2);
    assertThat(noDir.err()).isEqualTo("kiln-cli: error: data directory " + dir.resolve("nowhere")
        + " does not exist; --data DIR must hold the Fashion-MNIST IDX files (train-images-idx3-ubyte.gz, "
        + "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)" + System.lineSeparator());
    Path empty = Files.createDirectories(dir.resolve("empty"));
    Run noFiles = run(trainArgs(dir.resolve("x"), "--dataset", "fashion-mnist", "--data", empty.toString()));
    assertThat(noFiles.exitCode()).isEqualTo(2);
    assertThat(noFiles.err()).startsWith("kiln-cli: error: cannot load fashion-mnist from " + empty
        + ": neither " + empty.resolve("train-images-idx3-ubyte.gz"));
    assertThat(noFiles.err().lines().count()).isEqualTo(1);
    Run noCheckpoint = run(trainArgs(dir.resolve("fresh"), "--resume"));
    assertThat(noCheckpoint.exitCode()).isEqualTo(2);
    assertThat(noCheckpoint.err()).isEqualTo("kiln-cli: error: --resume: checkpoint " + dir.resolve("fresh")
        .resolve("model.ckpt.safetensors") + " does not exist" + System.lineSeparator());
    Path notDirectory = Files.writeString(dir.resolve("data-file"), "x");
    Run fileAsData = run(trainArgs(dir.resolve("x"), "--dataset", "fashion-mnist", "--data", notDirectory.toString()));
    assertThat(fileAsData.exitCode()).isEqualTo(2);
    assertThat(fileAsData.err()).startsWith("kiln-cli: error: data directory " + notDirectory
        + " is a file, not a directory; --data DIR must hold");
  }

  /** A file that exists but cannot be used is exit code 1, as the README says; a missing one is 2. */
  @Test
  void malformedDataIsExitCodeOneAndADirectoryAsModelIsSaidToBeOne() throws IOException {
    Path fashion = tinyFashionMnist(dir.resolve("bad-labels"), 8);
    Path labels = fashion.resolve("train-labels-idx1-ubyte");
    byte[] bytes = Files.readAllBytes(labels);
    bytes[bytes.length - 1] = 10; // one label out of range
    Files.write(labels, bytes);
    Run malformed = run(trainArgs(dir.resolve("y"), "--dataset", "fashion-mnist", "--data", fashion.toString()));
    assertThat(malformed.exitCode()).isEqualTo(1);
    assertThat(malformed.err()).isEqualTo("kiln-cli: error: cannot load fashion-mnist from " + fashion + ": " + labels
        + ": label 10 at index 7 is outside [0, 10)" + System.lineSeparator());

    Run directory = run("eval", "--model", dir.toString());
    assertThat(directory.exitCode()).isEqualTo(2);
    assertThat(directory.err()).isEqualTo("kiln-cli: error: model file " + dir + " is a directory, not a file"
        + System.lineSeparator());
    Run device = run("eval", "--model", "/dev/null");
    assertThat(device.exitCode()).isEqualTo(2);
    assertThat(device.err()).isEqualTo("kiln-cli: error: model file /dev/null is a character device, not a file"
        + System.lineSeparator());
  }

  @Test
  void evalErrorsAreOneLineWithNonZeroExitCode() throws IOException {
    Run missing = run("eval", "--model", dir.resolve("absent.safetensors").toString());
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err()).isEqualTo("kiln-cli: error: model file " + dir.resolve("absent.safetensors")
        + " does not exist" + System.lineSeparator());

    Path garbage = dir.resolve("garbage.safetensors");
    Files.write(garbage, new byte[] {1, 2, 3});
    Run malformed = run("eval", "--model", garbage.toString());
    assertThat(malformed.exitCode()).isEqualTo(1);
    assertThat(malformed.err()).startsWith("kiln-cli: error: cannot read model file " + garbage + ": ");
    assertThat(malformed.err().lines().count()).isEqualTo(1);

    Map<String, Tensor> state = new java.util.LinkedHashMap<>(new DigitsNetModel(0).stateDict());
    state.remove("fc.bias");
    Path partial = dir.resolve("partial.safetensors");
    SafeTensors.write(partial, state, Map.of());
    Run wrongKeys = run("eval", "--model", partial.toString());
    assertThat(wrongKeys.exitCode()).isEqualTo(1);
    assertThat(wrongKeys.err()).startsWith("kiln-cli: error: " + partial + " does not fit DigitsNet: ");
    assertThat(wrongKeys.err()).contains("fc.bias");
    assertThat(wrongKeys.err().lines().count()).isEqualTo(1);

    Run otherDataset = run("eval", "--model", trainDir.resolve("model.safetensors").toString(), "--dataset",
        "fashion-mnist");
    assertThat(otherDataset.exitCode()).isEqualTo(2);
    assertThat(otherDataset.err()).contains("holds weights trained on digits but --dataset is fashion-mnist");
  }

  @Test
  void outputsThatAreNotRegularFilesOrNameOneFileTwiceAreRefusedBeforeTraining()
      throws IOException, InterruptedException {
    Path outputs = Files.createDirectories(dir.resolve("outputs"));
    Path pipe = outputs.resolve("pipe");
    assertThat(new ProcessBuilder("mkfifo", pipe.toString()).start().waitFor()).isEqualTo(0);
    Path directory = Files.createDirectories(outputs.resolve("curve.svg"));
    Path target = Files.writeString(outputs.resolve("target.json"), "keep");
    Path link = Files.createSymbolicLink(outputs.resolve("link.json"), target);
    Path real = Files.createDirectories(outputs.resolve("real"));
    Path alias = Files.createSymbolicLink(outputs.resolve("alias"), real);
    String m = outputs.resolve("m.safetensors").toString();
    String[][] cases = {
      {"--out", pipe.toString()},
      {"--out", m, "--plot", directory.toString()},
      {"--out", m, "--report", link.toString()},
      {"--out", m, "--report", outputs.resolve("sub/../m.safetensors").toString()},
      {"--out", real.resolve("a.safetensors").toString(), "--checkpoint", alias.resolve("a.safetensors").toString()},
      {"--out", m, "--report", outputs.resolve("r.json").toString(), "--plot", outputs.resolve("r.json").toString()},
      {"--out", m, "--plot", outputs.resolve("target.json/curve.svg").toString()},
    };
    String[] expected = {
      "--out " + pipe + ": exists and is not a regular file (a named pipe); refusing to replace it",
      "--plot " + directory + ": exists and is not a regular file (a directory); refusing to replace it",
      "--report " + link + " is a symbolic link; pass --follow-links to write to the file it points to",
      "--out " + m + " and --report " + outputs.resolve("sub/../m.safetensors") + " name the same file",
      "--out " + real.resolve("a.safetensors") + " and --checkpoint " + alias.resolve("a.safetensors")
          + " name the same file (" + real.toRealPath().resolve("a.safetensors") + ")",
      "--report " + outputs.resolve("r.json") + " and --plot " + outputs.resolve("r.json") + " name the same file",
      "--plot " + outputs.resolve("target.json/curve.svg") + ": " + target + " is not a directory",
    };
    for (int i = 0; i < cases.length; i++) {
      String[] args = concat(new String[] {"train", "-q", "--epochs", "1", "--threads", "1"}, cases[i]);
      Run r = run(args);
      assertWithMessage(String.join(" ", args)).that(r.exitCode()).isEqualTo(2);
      assertWithMessage(String.join(" ", args)).that(r.err())
          .isEqualTo("kiln-cli: error: " + expected[i] + System.lineSeparator());
      assertThat(r.out()).isEmpty(); // refused before training started
    }
    assertThat(Files.isRegularFile(pipe)).isFalse();
    assertThat(Files.isDirectory(directory)).isTrue();
    assertThat(Files.readString(target)).isEqualTo("keep");
    try (java.util.stream.Stream<Path> files = Files.list(outputs)) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
          .containsExactly("alias", "curve.svg", "link.json", "pipe", "real", "target.json").inOrder();
    }

    // asked to, it writes through the link: the file it points to is replaced, the link stays
    Path small = Files.createDirectories(dir.resolve("follow"));
    Run followed = run("train", "-q", "--threads", "1", "--epochs", "1", "--train-samples", "64", "--rdrop-alpha",
        "0", "--out", small.resolve("m.safetensors").toString(), "--plot", small.resolve("c.svg").toString(),
        "--report", link.toString(), "--follow-links");
    assertWithMessage(followed.err()).that(followed.exitCode()).isEqualTo(0);
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(JsonParser.parseObject(Files.readString(target)).get("epochs")).isEqualTo(1.0);
  }

  @Test
  void divergingTrainingStopsWithExitCodeThreeAndWritesNoWeights() throws IOException {
    Path into = dir.resolve("diverged");
    Run r = run(trainArgs(into, "--lr", "1e308", "--epochs", "1", "--train-samples", "128", "--rdrop-alpha", "0"));
    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.err()).isEqualTo("kiln-cli: error: training diverged in epoch 1: the loss of step 2 is NaN; no "
        + "checkpoint was written before it (" + into.resolve("model.ckpt.safetensors") + "); try a smaller --lr"
        + System.lineSeparator());
    assertThat(Files.exists(into.resolve("model.safetensors"))).isFalse();
    assertThat(Files.exists(into.resolve("report.json"))).isFalse();
  }

  @Test
  void evalOfNonFiniteWeightsNamesTheFirstNonFiniteTensor() throws IOException {
    Map<String, Tensor> state = new DigitsNetModel(0).stateDict();
    state.get("stage1.rbr_1x1.conv.weight").data()[7] = Float.NaN;
    state.get("fc.weight").data()[0] = Float.POSITIVE_INFINITY;
    Path file = dir.resolve("nan.safetensors");
    java.util.Set<String> int64 = new java.util.LinkedHashSet<>();
    state.keySet().stream().filter(k -> k.endsWith("num_batches_tracked")).forEach(int64::add);
    SafeTensors.write(file, state, Map.of("dataset", "digits"), int64);
    Run r = run("eval", "--model", file.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("kiln-cli: error: " + file + ": tensor \"stage1.rbr_1x1.conv.weight\" holds NaN at "
        + "element 7 of 512; weights that are not finite cannot be evaluated" + System.lineSeparator());
  }

  @Test
  void evalRefusesHostileWeightsInOneLineBeforeAllocatingThem() throws IOException {
    long n = Integer.MAX_VALUE - 8; // a sparse file: 2^31 - 9 I8 elements, 8 GB as floats
    Path huge = sparseSafetensors("huge.safetensors",
        "{\"fc.weight\":{\"dtype\":\"I8\",\"shape\":[" + n + "],\"data_offsets\":[0," + n + "]}}", n);
    Run r = run("eval", "--model", huge.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err()).isEqualTo("kiln-cli: error: " + huge + " does not fit DigitsNet: tensor \"fc.weight\": "
        + "shape [2147483639] but expected [10, 64]" + System.lineSeparator());
  }

  /** A safetensors file with header {@code json} and {@code dataBytes} of data that takes no disk space. */
  private static Path sparseSafetensors(String name, String json, long dataBytes) throws IOException {
    String header = json + " ".repeat((8 - json.length() % 8) % 8);
    Path file = dir.resolve(name);
    try (java.io.RandomAccessFile out = new java.io.RandomAccessFile(file.toFile(), "rw")) {
      out.write(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(header.length())
          .array());
      out.write(header.getBytes(StandardCharsets.US_ASCII));
      out.setLength(8L + header.length() + dataBytes);
    }
    return file;
  }

  @Test
  void helpListsEveryFlagAndVersionPrintsTheVersion() {
    Run root = run("--help");
    assertThat(root.exitCode()).isEqualTo(0);
    assertThat(root.out()).contains("train");
    assertThat(root.out()).contains("eval");
    assertThat(root.out()).contains("--version");
    Run train = run("train", "--help");
    assertThat(train.exitCode()).isEqualTo(0);
    String[] trainFlags = {"--dataset", "--data", "--epochs", "--batch-size", "--lr", "--rdrop-alpha", "--seed",
        "--threads", "--out", "--report", "--plot", "--checkpoint", "--resume", "--stop-after-epoch",
        "--train-samples", "--quiet", "--follow-links", "--help", "--version"};
    for (String flag : trainFlags) {
      assertWithMessage(flag).that(train.out()).contains(flag);
    }
    assertThat(train.out()).contains("digits, fashion-mnist");
    // The recipe it describes is the default's: plain cross-entropy, R-Drop only with --rdrop-alpha.
    assertThat(train.out().replaceAll("\\s+", " ")).contains("batches of 64, plain cross-entropy (R-Drop with "
        + "--rdrop-alpha)");
    Run eval = run("eval", "--help");
    assertThat(eval.exitCode()).isEqualTo(0);
    for (String flag : new String[] {"--model", "--dataset", "--data", "--threads", "--batch-size", "--help"}) {
      assertWithMessage(flag).that(eval.out()).contains(flag);
    }
    Run version = run("--version");
    assertThat(version.exitCode()).isEqualTo(0);
    assertThat(version.out()).startsWith("kiln-cli " + KilnCli.version());
  }
}
