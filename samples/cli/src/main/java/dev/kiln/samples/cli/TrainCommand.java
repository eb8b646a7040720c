package dev.kiln.samples.cli;

import dev.kiln.io.AtomicFile;
import dev.kiln.io.Json;
import dev.kiln.io.SafeTensors;
import dev.kiln.loss.Objective;
import dev.kiln.loss.Objectives;
import dev.kiln.nn.Dropout;
import dev.kiln.nn.Module;
import dev.kiln.nn.SequentialModel;
import dev.kiln.optim.LrSchedule;
import dev.kiln.optim.Sgd;
import dev.kiln.runtime.Parallel;
import dev.kiln.train.EpochStats;
import dev.kiln.train.Evaluation;
import dev.kiln.train.RunMismatchException;
import dev.kiln.train.Trainer;
import dev.kiln.train.TrainingConfig;
import dev.kiln.train.TrainingDivergedException;
import dev.kiln.train.TrainingHistory;
import dev.kiln.train.TrainingListener;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code kiln-cli train}: trains the sample network with the recipe of {@code tools/recipe/repvgg_recipe.py},
 * evaluates it, fuses it, checks the fused network against it, and writes the weights, a JSON report and an
 * SVG chart.
 */
@Command(name = "train",
    description = {"Train the sample RepVGG network, fuse it, and write weights, report and chart.", "",
        "Recipe of tools/recipe/repvgg_recipe.py: SGD with Nesterov momentum 0.9, weight decay 5e-4 on weights "
            + "only, one-cycle learning rate, batches of 64, plain cross-entropy (R-Drop with --rdrop-alpha). After "
            + "training the network is evaluated "
            + "on the test set (eval mode), fused into the deploy network (RepVGG branches and BatchNorm "
            + "folded into single convolutions), and the fused logits are compared with the trained "
            + "network's. Progress goes to standard error, the summary to standard output.", ""})
final class TrainCommand extends Subcommand {
  @Option(names = "--dataset", paramLabel = "NAME", defaultValue = "digits", converter = DatasetName.Names.class,
      completionCandidates = DatasetName.Names.class,
      description = "Data set: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}). digits is bundled (8x8, "
          + "1500 train / 297 test); fashion-mnist reads IDX files from --data.")
  DatasetName dataset;

  @Option(names = "--data", paramLabel = "DIR",
      description = "Directory of the Fashion-MNIST IDX files (default: /usr/share/datasets/fashion-mnist).")
  Path data;

  @Option(names = "--epochs", paramLabel = "N",
      description = "Epochs in the run (default: 10 for digits, 3 for fashion-mnist).")
  Integer epochs;

  @Option(names = "--batch-size", paramLabel = "N", defaultValue = "64",
      description = "Training batch size, at most the training set size and what fits in the heap; the last "
          + "partial batch is kept (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--lr", paramLabel = "X", defaultValue = "0.05",
      description = "Peak learning rate of the one-cycle schedule (default: ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--rdrop-alpha", paramLabel = "A",
      description = "R-Drop KL weight (KL summed over the batch); 0 trains with plain cross-entropy "
          + "(default: " + Recipe.DEFAULT_RDROP_ALPHA + "; the networks' @RDrop alpha is "
          + Recipe.NETWORK_RDROP_ALPHA + ").")
  Double rdropAlpha;

  @Option(names = "--kl-reduction", paramLabel = "R", converter = KlReduction.Names.class,
      completionCandidates = KlReduction.Names.class,
      description = "R-Drop KL reduction over the batch: ${COMPLETION-CANDIDATES} (default: sum, the networks' "
          + "@RDrop). With full batches of B images, alpha A with sum is the loss of alpha B*A with batchmean.")
  KlReduction klReduction;

  @Option(names = "--dropout-at", paramLabel = "WHERE", defaultValue = "head", converter = DropoutAt.Names.class,
      completionCandidates = DropoutAt.Names.class,
      description = "Where the network has dropout: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}). head: "
          + "before the classifier only (DigitsNet, FashionNet); blocks: after every RepVGG block as well "
          + "(DigitsNetBlockDropout, FashionNetBlockDropout).")
  DropoutAt dropoutAt;

  @Option(names = "--dropout", paramLabel = "P",
      description = "Drop probability of every dropout layer, in [0, 1) (default: the networks' @Dropout p, "
          + Recipe.DEFAULT_DROPOUT + ").")
  Double dropout;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
      description = "Seed of the initial weights, the shuffling and the dropout masks (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--threads", paramLabel = "T",
      description = "Worker threads, at most " + OptionChecks.THREADS_PER_PROCESSOR + " x the available "
          + "processors (default: the available processors). Results are reproducible for a "
          + "given thread count.")
  Integer threads;

  @Option(names = "--out", paramLabel = "FILE", defaultValue = "model.safetensors",
      description = "Where to write the trained weights (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--report", paramLabel = "FILE", defaultValue = "report.json",
      description = "Where to write the JSON report (default: ${DEFAULT-VALUE}).")
  Path report;

  @Option(names = "--plot", paramLabel = "FILE", defaultValue = "curve.svg",
      description = "Where to write the SVG training chart (default: ${DEFAULT-VALUE}).")
  Path plot;

  @Option(names = "--checkpoint", paramLabel = "FILE",
      description = "Checkpoint written after every epoch (default: next to --out, e.g. model.ckpt.safetensors).")
  Path checkpoint;

  @Option(names = "--resume",
      description = "Continue the run from --checkpoint; ends with the same weights as an uninterrupted run "
          + "with the same options and --threads.")
  boolean resume;

  @Option(names = "--stop-after-epoch", paramLabel = "K",
      description = "Stop after epoch K of the --epochs run (the schedule stays that of the full run); "
          + "continue later with --resume.")
  Integer stopAfterEpoch;

  @Option(names = "--train-samples", paramLabel = "N",
      description = "Train on the first N training images only (default: all), for quick trials.")
  Integer trainSamples;

  @Option(names = "--final-test-only",
      description = "Evaluate the test set once, after training, instead of after every epoch (the report's "
          + "history then has no per-epoch test figures).")
  boolean finalTestOnly;

  @Option(names = {"-q", "--quiet"}, description = "No progress output.")
  boolean quiet;

  @Mixin
  OutputFiles.Options outputOptions;

  @Override
  public Integer call() throws IOException {
    int totalEpochs = epochs != null ? epochs : dataset.defaultEpochs();
    validate(totalEpochs);
    int threadCount = OptionChecks.threads(spec, threads);
    Parallel.setThreads(threadCount);
    Path checkpointFile = checkpoint != null ? checkpoint : defaultCheckpoint(out);
    OutputFiles.of(outputOptions).add("--out", out).add("--report", report).add("--plot", plot)
        .add("--checkpoint", checkpointFile).check();
    if (resume) {
      InputFiles.requireFile("--resume: checkpoint", checkpointFile);
    }
    PrintWriter stdout = spec.commandLine().getOut();

    DatasetName.Split split = dataset.load(data);
    if (trainSamples != null) {
      if (trainSamples > split.train().size()) {
        throw usage("--train-samples must be at most " + split.train().size() + " for " + dataset + " but was "
            + trainSamples);
      }
      split = split.withTrainSamples(trainSamples);
    }
    SequentialModel model = newNetwork(dataset, dropoutAt, dropout, seed);
    double dropoutP = dropout != null ? dropout : Recipe.DEFAULT_DROPOUT;
    String network = dataset.networkName(dropoutAt);
    double alpha = rdropAlpha != null ? rdropAlpha : Recipe.DEFAULT_RDROP_ALPHA;
    KlReduction reduction = klReduction != null ? klReduction : KlReduction.SUM;
    Objective objective = objective(alpha, reduction);
    OptionChecks.batchSize(spec, batchSize, split.train().size(), "training", model, network, alpha == 0 ? 1 : 2,
        true);
    Sgd optimizer = Recipe.optimizer(model, lr);
    int stepsPerEpoch = Recipe.stepsPerEpoch(split.train().size(), batchSize);
    LrSchedule schedule = Recipe.schedule(lr, totalEpochs, stepsPerEpoch);
    int runEpochs = stopAfterEpoch != null ? stopAfterEpoch : totalEpochs;
    TrainingConfig config = withResultOptions(TrainingConfig.of(runEpochs, batchSize, seed), totalEpochs, alpha,
        reduction, dropoutP, split.train().size()).withEvalBatchSize(Recipe.EVAL_BATCH_SIZE);

    stdout.printf(Locale.ROOT, "kiln-cli %s: %s (%,d train / %,d test images), %s (dropout %s), %s, %d epochs%s, "
            + "batch %d, lr %s, seed %d, %d thread%s%n", KilnCli.version(), dataset, split.train().size(),
        split.test().size(), network, dropoutP,
        alpha == 0 ? "cross-entropy" : "R-Drop alpha " + alpha + " (KL " + reduction.cliName() + ")", totalEpochs,
        runEpochs < totalEpochs ? " (stopping after " + runEpochs + ")" : "", batchSize, lr, seed, threadCount,
        threadCount == 1 ? "" : "s");
    stdout.flush();

    RunRecorder recorder = new RunRecorder();
    Trainer.Builder builder = Trainer.builder().listener(recorder).checkpoint(checkpointFile);
    if (quiet) {
      PrintWriter err = spec.commandLine().getErr();
      builder.listener(new TrainingListener() {
        @Override
        public void onNotice(String message) {
          err.println("note: " + message);
          err.flush();
        }
      });
    } else {
      builder.progress();
    }
    Trainer trainer = builder.build();
    int startEpoch = resume ? readCheckpointEpoch(checkpointFile) : 0;
    long start = System.nanoTime();
    TrainingHistory history;
    try {
      if (finalTestOnly) {
        history = resume
            ? trainer.resume(checkpointFile, model, split.train(), optimizer, schedule, objective, config)
            : trainer.fit(model, split.train(), optimizer, schedule, objective, config);
      } else {
        history = resume
            ? trainer.resume(checkpointFile, model, split.train(), split.test(), optimizer, schedule, objective, config)
            : trainer.fit(model, split.train(), split.test(), optimizer, schedule, objective, config);
      }
    } catch (IOException e) {
      throw new CliException(CliException.FAILURE, "--resume: cannot use " + e.getMessage(), e);
    } catch (RunMismatchException e) {
      throw new CliException(CliException.USAGE, "--resume: " + e.getMessage(), e);
    } catch (TrainingDivergedException e) {
      throw new CliException(CliException.DIVERGED, e.getMessage() + "; try a smaller --lr", e);
    }
    double trainSeconds = (System.nanoTime() - start) / 1e9;

    Evaluation unfused = Trainer.evaluate(model, split.test(), Recipe.EVAL_BATCH_SIZE);
    SequentialModel fused = dataset.fuse(model);
    FusedCheck.Result check = FusedCheck.compare(model, fused, split.test(), Recipe.EVAL_BATCH_SIZE);
    Evaluation fusedEval = Trainer.evaluate(fused, split.test(), Recipe.EVAL_BATCH_SIZE); // timed, after warm-up

    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put(ModelFile.DATASET, dataset.cliName());
    metadata.put("model", network);
    metadata.put("seed", Long.toString(seed));
    metadata.put("epochs", Integer.toString(totalEpochs));
    metadata.put("epochs_completed", Integer.toString(startEpoch + history.epochs().size()));
    metadata.put("train_samples", Integer.toString(split.train().size()));
    metadata.put("dropout_at", dropoutAt.cliName());
    metadata.put("dropout", Double.toString(dropoutP));
    metadata.put("rdrop_alpha", Double.toString(alpha));
    metadata.put("kl_reduction", reduction.cliName());
    metadata.put("kiln_version", KilnCli.version());
    metadata.put("test_accuracy", Double.toString(check.unfusedAccuracy()));
    metadata.put("fused_test_accuracy", Double.toString(check.fusedAccuracy()));
    write(out, () -> SafeTensors.save(out, model, metadata));

    Map<String, Object> json = report(network, dropoutP, reduction, totalEpochs, startEpoch, history, alpha,
        threadCount, split, unfused, check, fusedEval, trainSeconds, recorder, checkpointFile);
    write(report, () -> AtomicFile.writeString(report, Json.writeIndented(json)));
    write(plot, () -> AtomicFile.writeString(plot, chart(network, startEpoch, history, alpha, check, recorder)
        .render()));

    stdout.printf(Locale.ROOT, "test accuracy %.4f (eval mode); fused %.4f (%d/%d); max |logit difference| %.3g%n",
        check.unfusedAccuracy(), check.fusedAccuracy(), check.fusedCorrect(), check.samples(), check.maxAbsDiff());
    if (recorder.images() > 0) {
      stdout.printf(Locale.ROOT, "trained in %.1fs (%,.0f images/s); fused inference %,.0f images/s%n",
          trainSeconds, recorder.images() / recorder.stepSeconds(), fusedEval.imagesPerSecond());
    } else {
      stdout.printf(Locale.ROOT, "nothing left to train: %s already holds %d epoch%s; fused inference %,.0f "
          + "images/s%n", checkpointFile, startEpoch, startEpoch == 1 ? "" : "s", fusedEval.imagesPerSecond());
    }
    stdout.printf("wrote %s, %s, %s (checkpoint %s)%n", out, report, plot, checkpointFile);
    stdout.flush();
    return 0;
  }

  /**
   * The options that change a run's result, recorded in its checkpoints under their names: a resume must
   * repeat each of them (else it is refused, naming the option and both values). A new option that changes
   * the result is one more line here. {@code --threads} is not among them: a resume may change it.
   */
  private TrainingConfig withResultOptions(TrainingConfig config, int totalEpochs, double alpha,
      KlReduction reduction, double dropoutP, int trainSize) {
    return config
        .withSetting("--dataset", dataset.cliName())
        .withSetting("--dropout-at", dropoutAt.cliName())
        .withSetting("--dropout", dropoutP)
        .withSetting("--epochs", totalEpochs)
        .withSetting("--batch-size", batchSize)
        .withSetting("--lr", lr)
        .withSetting("--rdrop-alpha", alpha)
        .withSetting("--kl-reduction", reduction.cliName())
        .withSetting("--seed", seed)
        .withSetting("--train-samples", trainSize);
  }

  private void validate(int totalEpochs) {
    if (totalEpochs < 1) {
      throw usage("--epochs must be >= 1 but was " + totalEpochs);
    }
    if (batchSize < 1) {
      throw usage("--batch-size must be >= 1 but was " + batchSize);
    }
    if (!(lr > 0 && Double.isFinite(lr))) {
      throw usage("--lr must be a finite number > 0 but was " + lr);
    }
    if (rdropAlpha != null && !(rdropAlpha >= 0 && Double.isFinite(rdropAlpha))) {
      throw usage("--rdrop-alpha must be a finite number >= 0 but was " + rdropAlpha);
    }
    if (dropout != null && !(dropout >= 0 && dropout < 1)) {
      throw usage("--dropout must be in [0, 1) but was " + dropout);
    }
    if (trainSamples != null && trainSamples < 1) {
      throw usage("--train-samples must be >= 1 but was " + trainSamples);
    }
    if (stopAfterEpoch != null && (stopAfterEpoch < 1 || stopAfterEpoch > totalEpochs)) {
      throw usage("--stop-after-epoch must be in [1, " + totalEpochs + "] but was " + stopAfterEpoch);
    }
  }

  /**
   * The training network of {@code dataset} with dropout at {@code dropoutAt}, initialized from {@code seed},
   * every dropout layer set to drop probability {@code dropout} (null: the annotations' p).
   */
  static SequentialModel newNetwork(DatasetName dataset, DropoutAt dropoutAt, Double dropout, long seed) {
    SequentialModel model = dataset.newModel(dropoutAt, seed);
    if (dropout != null) {
      for (Module layer : model.layers().values()) {
        if (layer instanceof Dropout d) {
          d.setP(dropout);
        }
      }
    }
    return model;
  }

  /** The training objective: plain cross-entropy for alpha 0, otherwise R-Drop with that alpha and reduction. */
  static Objective objective(double alpha, KlReduction reduction) {
    return alpha == 0 ? Objectives.crossEntropy() : Objectives.rDrop(alpha, reduction.reduction());
  }

  /** {@code model.safetensors} -> {@code model.ckpt.safetensors}; other names get {@code .ckpt.safetensors} appended. */
  static Path defaultCheckpoint(Path out) {
    String name = out.getFileName().toString();
    String base = name.endsWith(".safetensors") ? name.substring(0, name.length() - ".safetensors".length()) : name;
    Path sibling = Paths.get(base + ".ckpt.safetensors");
    return out.getParent() == null ? sibling : out.getParent().resolve(sibling);
  }

  private static int readCheckpointEpoch(Path file) {
    try {
      return Integer.parseInt(dev.kiln.train.Checkpoint.readMetadata(file).get("epoch"));
    } catch (IOException e) {
      throw new CliException(CliException.FAILURE, "--resume: cannot use " + e.getMessage(), e);
    }
  }

  private Map<String, Object> report(String network, double dropoutP, KlReduction reduction, int totalEpochs,
      int startEpoch, TrainingHistory history, double alpha, int threadCount, DatasetName.Split split,
      Evaluation unfused, FusedCheck.Result check, Evaluation fusedEval, double trainSeconds, RunRecorder recorder,
      Path checkpointFile) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("dataset", dataset.cliName());
    r.put("model", network);
    r.put("dropout_at", dropoutAt.cliName());
    r.put("dropout", dropoutP);
    r.put("kiln_version", KilnCli.version());
    r.put("epochs", totalEpochs);
    r.put("epochs_completed", startEpoch + history.epochs().size());
    r.put("resumed_from_epoch", resume ? startEpoch : null);
    r.put("batch_size", batchSize);
    r.put("lr", lr);
    r.put("rdrop_alpha", alpha);
    r.put("kl_reduction", reduction.cliName());
    r.put("seed", seed);
    r.put("threads", threadCount);
    r.put("train_samples", split.train().size());
    r.put("test_samples", split.test().size());
    r.put("epoch_test", !finalTestOnly);
    r.put("test_accuracy", check.unfusedAccuracy());
    r.put("test_loss", unfused.loss());
    r.put("fused_test_accuracy", check.fusedAccuracy());
    r.put("fused_test_correct", check.fusedCorrect());
    r.put("fused_max_abs_diff", check.maxAbsDiff());
    r.put("train_seconds", trainSeconds);
    r.put("train_step_seconds", recorder.stepSeconds());
    r.put("train_images_per_second", recorder.images() > 0 ? recorder.images() / recorder.stepSeconds() : null);
    r.put("eval_images_per_second", fusedEval.imagesPerSecond());
    r.put("eval_batch_size", Recipe.EVAL_BATCH_SIZE);
    List<Object> epochsList = new ArrayList<>();
    for (EpochStats s : history.epochs()) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("epoch", s.epoch() + 1);
      e.put("train_loss", s.trainLoss());
      e.put("train_accuracy", s.trainAccuracy());
      e.put("test_loss", s.validationLoss());
      e.put("test_accuracy", s.validationAccuracy());
      e.put("images_per_second", s.imagesPerSecond());
      e.put("seconds", s.seconds());
      epochsList.add(e);
    }
    r.put("history", epochsList);
    Map<String, Object> curve = new LinkedHashMap<>();
    curve.put("every_batches", recorder.window());
    List<Object> points = new ArrayList<>();
    for (double[] p : recorder.lossPoints()) {
      points.add(new double[] {Math.round(p[0] * 1e4) / 1e4, p[1]});
    }
    curve.put("points", points);
    r.put("loss_curve", curve);
    Map<String, Object> files = new LinkedHashMap<>();
    files.put("model", out.toString());
    files.put("checkpoint", checkpointFile.toString());
    files.put("plot", plot.toString());
    r.put("files", files);
    return r;
  }

  private SvgChart chart(String network, int startEpoch, TrainingHistory history, double alpha,
      FusedCheck.Result check, RunRecorder recorder) {
    int n = history.epochs().size();
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = history.epochs().get(i).epoch() + 1;
    }
    String title = String.format(Locale.ROOT, "%s on %s, %s, seed %d: test accuracy %.2f%%", network,
        dataset, alpha == 0 ? "cross-entropy" : "R-Drop \u03b1=" + alpha, seed, 100 * check.fusedAccuracy());
    return new SvgChart(title, startEpoch, startEpoch + Math.max(n, 1), recorder.lossPoints(), x,
        history.trainAccuracy(), history.validationAccuracy());
  }

  /** An action that writes one output file. */
  @FunctionalInterface
  private interface FileAction {
    void run() throws IOException;
  }

  private static void write(Path file, FileAction action) {
    try {
      action.run();
    } catch (IOException e) {
      throw new CliException(CliException.FAILURE, "cannot write " + file + ": " + describe(e), e);
    }
  }

  /** An I/O failure in words: the message, with what kind of failure it was when the message alone does not say. */
  static String describe(IOException e) {
    String message = e.getMessage();
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied: " + message;
    } else if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file or directory: " + message;
    } else if (e instanceof java.nio.file.FileSystemException f && f.getReason() == null) {
      return e.getClass().getSimpleName() + ": " + message;
    }
    return message == null ? e.toString() : message;
  }
}
