package dev.kiln.samples.cli;

import dev.kiln.data.Dataset;
import dev.kiln.nn.Module;
import dev.kiln.tensor.Tensor;
import dev.kiln.train.Trainer;
import java.util.Arrays;

/** Runs the eval-mode training network and its fused deploy form side by side over a data set. */
final class FusedCheck {
  /**
   * @param samples images compared
   * @param unfusedCorrect images the eval-mode training network classifies correctly
   * @param fusedCorrect images the fused network classifies correctly
   * @param maxAbsDiff the largest absolute difference between the two networks' logits
   */
  record Result(int samples, int unfusedCorrect, int fusedCorrect, double maxAbsDiff) {
    double unfusedAccuracy() {
      return (double) unfusedCorrect / samples;
    }

    double fusedAccuracy() {
      return (double) fusedCorrect / samples;
    }
  }

  private FusedCheck() {}

  /** Compares {@code model} (put into eval mode for the comparison, then restored) with {@code fused}. */
  static Result compare(Module model, Module fused, Dataset data, int batchSize) {
    int[] unfusedCorrect = {0};
    int[] fusedCorrect = {0};
    double[] maxDiff = {0};
    Trainer.forEachBatchInEvalMode(model, data, batchSize, batch -> {
      Tensor a = model.forward(batch.input());
      Tensor b = fused.forward(batch.input());
      if (!Arrays.equals(a.shape(), b.shape())) {
        throw new IllegalStateException("fused network: expected logits " + Tensor.shapeString(a.shape())
            + " but got " + Tensor.shapeString(b.shape()));
      }
      unfusedCorrect[0] += Trainer.countCorrect(a, batch.labels());
      fusedCorrect[0] += Trainer.countCorrect(b, batch.labels());
      maxDiff[0] = Math.max(maxDiff[0], a.maxAbsDifference(b));
    });
    return new Result(data.size(), unfusedCorrect[0], fusedCorrect[0], maxDiff[0]);
  }
}
