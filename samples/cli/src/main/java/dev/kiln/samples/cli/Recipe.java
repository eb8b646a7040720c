package dev.kiln.samples.cli;

import dev.kiln.nn.Module;
import dev.kiln.nn.Parameter;
import dev.kiln.optim.LrSchedule;
import dev.kiln.optim.LrSchedules;
import dev.kiln.optim.Sgd;
import java.util.Map;

/**
 * The training recipe of {@code tools/recipe/repvgg_recipe.py}: SGD with Nesterov momentum 0.9 and weight
 * decay 5e-4 on the weights with more than one dimension (none on BatchNorm parameters and biases), a
 * one-cycle learning rate (cosine, 30% warm-up, start at max/25, end at max/25/1e4, no momentum cycling)
 * stepped once per batch, batches of 64 with the last partial batch kept.
 */
final class Recipe {
  /**
   * {@code kiln-cli train}'s R-Drop weight when {@code --rdrop-alpha} is not given: 0, plain cross-entropy. In
   * the R-Drop study (the README) R-Drop helped in no cell, and plain training given the same number of
   * forward passes beat it in every one; a run that wants R-Drop says so with {@code --rdrop-alpha}.
   */
  static final double DEFAULT_RDROP_ALPHA = 0.0;
  /**
   * The R-Drop weight the sample networks are annotated with (their {@code objective()}), the {@code @RDrop}
   * default: with the KL summed over batches of 64, a batch-mean weight of 0.25, the largest weight of the
   * study that stayed within noise of plain training everywhere.
   */
  static final double NETWORK_RDROP_ALPHA = 0.00390625;
  /** The drop probability of the sample networks' {@code @Dropout} layers. */
  static final double DEFAULT_DROPOUT = 0.3;
  static final int DEFAULT_BATCH_SIZE = 64;
  static final double DEFAULT_LR = 0.05;
  static final double MOMENTUM = 0.9;
  static final double WEIGHT_DECAY = 5e-4;
  static final double PCT_START = 0.3;
  static final double DIV_FACTOR = 25.0;
  static final double FINAL_DIV_FACTOR = 1e4;
  /** Samples per forward pass when evaluating. */
  static final int EVAL_BATCH_SIZE = 256;

  private Recipe() {}

  /** SGD over {@code model}'s parameters, decaying only those with rank above 1. */
  static Sgd optimizer(Module model, double lr) {
    Map<String, Parameter> params = model.namedParameters();
    return Sgd.builder(params, lr)
        .momentum(MOMENTUM)
        .nesterov(true)
        .weightDecay(WEIGHT_DECAY)
        .noWeightDecay(name -> params.get(name).data().rank() <= 1)
        .build();
  }

  /** The one-cycle schedule over the whole run, {@code epochs * stepsPerEpoch} steps. */
  static LrSchedule schedule(double maxLr, int epochs, int stepsPerEpoch) {
    return LrSchedules.oneCycle(maxLr, (long) epochs * stepsPerEpoch, PCT_START, DIV_FACTOR, FINAL_DIV_FACTOR);
  }

  /** Optimizer steps per epoch with the last partial batch kept. */
  static int stepsPerEpoch(int samples, int batchSize) {
    return (int) ((samples + (long) batchSize - 1) / batchSize);
  }
}
