package dev.kiln.samples.cli;

import dev.kiln.nn.SequentialModel;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import dev.kiln.train.Evaluation;
import dev.kiln.train.FiniteCheck;
import dev.kiln.train.Trainer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kiln-cli eval}: loads saved weights (strictly), fuses the network and reports its test accuracy. */
@Command(name = "eval",
    description = {"Evaluate saved weights with the fused network.", "",
        "Loads weights written by 'train' into a new network (every key and shape must match), fuses it into "
            + "the deploy network and reports the fused network's test accuracy and throughput.", ""})
final class EvalCommand extends Subcommand {
  @Option(names = "--model", paramLabel = "FILE", required = true,
      description = "Weights file written by 'kiln-cli train' (safetensors).")
  Path model;

  @Option(names = "--dataset", paramLabel = "NAME", converter = DatasetName.Names.class,
      completionCandidates = DatasetName.Names.class,
      description = "Data set: ${COMPLETION-CANDIDATES} (default: the one recorded in the weights file, else digits).")
  DatasetName dataset;

  @Option(names = "--data", paramLabel = "DIR",
      description = "Directory of the Fashion-MNIST IDX files (default: /usr/share/datasets/fashion-mnist).")
  Path data;

  @Option(names = "--threads", paramLabel = "T",
      description = "Worker threads, at most " + OptionChecks.THREADS_PER_PROCESSOR + " x the available "
          + "processors (default: the available processors).")
  Integer threads;

  @Option(names = "--batch-size", paramLabel = "N",
      description = "Images per forward pass, at most the test set size (default: " + Recipe.EVAL_BATCH_SIZE
          + ", or the test set size if smaller).")
  Integer batchSize;

  @Override
  public Integer call() {
    if (batchSize != null && batchSize < 1) {
      throw usage("--batch-size must be >= 1 but was " + batchSize);
    }
    int threadCount = OptionChecks.threads(spec, threads);
    Parallel.setThreads(threadCount);
    Map<String, String> metadata = ModelFile.readMetadata(model);
    String recorded = metadata.get(ModelFile.DATASET);
    DatasetName recordedDataset = recorded == null ? null : CliValue.byCliName(DatasetName.class, recorded);
    if (dataset != null && recordedDataset != null && dataset != recordedDataset) {
      throw new CliException(CliException.USAGE, model + " holds weights trained on " + recordedDataset
          + " but --dataset is " + dataset);
    }
    DatasetName which = dataset != null ? dataset : recordedDataset != null ? recordedDataset : DatasetName.DIGITS;

    SequentialModel network = which.newModel(0);
    Map<String, Tensor> state = ModelFile.readState(model, network, which.networkName());
    String nonFinite = FiniteCheck.firstNonFinite(state);
    if (nonFinite != null) {
      throw new CliException(CliException.FAILURE, model + ": " + nonFinite + "; weights that are not finite "
          + "cannot be evaluated");
    }
    network.loadStateDict(state);
    network.eval();
    DatasetName.Split split = which.load(data);
    int batch = batchSize != null ? batchSize : Math.min(Recipe.EVAL_BATCH_SIZE, split.test().size());
    OptionChecks.batchSize(spec, batch, split.test().size(), "test", network, which.networkName(), 1, false);
    SequentialModel fused = which.fuse(network);
    Trainer.evaluate(fused, split.test(), batch); // warm-up
    Evaluation eval = Trainer.evaluate(fused, split.test(), batch);
    int correct = (int) Math.round(eval.accuracy() * eval.samples());

    PrintWriter out = spec.commandLine().getOut();
    out.printf(Locale.ROOT, "%s: fused %s on %s test set: accuracy %.4f (%d/%d), loss %.4f, %,.0f images/s "
            + "(batch %d, %d thread%s)%n", model, which.networkName(), which, eval.accuracy(), correct,
        eval.samples(), eval.loss(), eval.imagesPerSecond(), batch, threadCount, threadCount == 1 ? "" : "s");
    out.flush();
    return 0;
  }
}
