package dev.kiln.loss;

import dev.kiln.tensor.Tensor;
import java.util.Objects;

/** Shape and value checks shared by the losses; every message names what was expected and what was found. */
final class LossChecks {
  private LossChecks() {}

  /** Checks that {@code t} is a non-empty {@code [N, C]} matrix; returns it. */
  static Tensor requireMatrix(String what, Tensor t) {
    Objects.requireNonNull(t, what);
    if (t.rank() != 2) {
      throw new IllegalArgumentException(
          what + ": expected rank 2 [N, C] but got shape " + Tensor.shapeString(t.shape()));
    }
    if (t.dim(0) == 0 || t.dim(1) == 0) {
      throw new IllegalArgumentException(
          what + ": expected N >= 1 and C >= 1 but got shape " + Tensor.shapeString(t.shape()));
    }
    return t;
  }

  /**
   * Checks that {@code matrix} is a non-empty {@code [N, C]} matrix ({@link #requireMatrix}), that there is
   * one target per row and that each lies in {@code [0, C)}.
   */
  static void requireTargets(int[] targets, String what, Tensor matrix) {
    requireMatrix(what, matrix);
    Objects.requireNonNull(targets, "targets");
    int n = matrix.dim(0);
    int c = matrix.dim(1);
    if (targets.length != n) {
      throw new IllegalArgumentException("targets: expected " + n + " targets (one per row of " + what
          + " " + Tensor.shapeString(matrix.shape()) + ") but got " + targets.length);
    }
    for (int i = 0; i < n; i++) {
      if (targets[i] < 0 || targets[i] >= c) {
        throw new IllegalArgumentException(
            "targets[" + i + "] = " + targets[i] + " is out of range: expected a class in [0, " + c + ")");
      }
    }
  }

  /**
   * Writes {@code log_softmax} of row {@code row} of the {@code [N, C]} matrix into {@code out}, in double,
   * shifted by the row maximum so large logits neither overflow nor lose the small terms.
   */
  static void logSoftmaxRow(float[] logits, int row, int c, double[] out) {
    int off = row * c;
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < c; j++) {
      max = Math.max(max, logits[off + j]);
    }
    double sum = 0;
    for (int j = 0; j < c; j++) {
      sum += Math.exp(logits[off + j] - max);
    }
    double logSumExp = max + Math.log(sum);
    for (int j = 0; j < c; j++) {
      out[j] = logits[off + j] - logSumExp;
    }
  }
}
