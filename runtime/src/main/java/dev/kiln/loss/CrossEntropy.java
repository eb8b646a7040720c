package dev.kiln.loss;

import dev.kiln.tensor.Tensor;

/**
 * Cross-entropy over logits, as {@code torch.nn.functional.cross_entropy(logits, targets,
 * label_smoothing=eps)} with the default mean reduction: a fused, numerically stable log-softmax and
 * negative log-likelihood, computed in double. With label smoothing the target distribution is
 * {@code (1 - eps) * onehot(y) + eps / C}, so the per-sample loss is
 * {@code -(1 - eps) * log p[y] - eps / C * sum_c log p[c]}.
 */
public final class CrossEntropy {
  private CrossEntropy() {}

  /**
   * The mean loss over the batch and its gradient with respect to the logits.
   *
   * @param loss the mean cross-entropy
   * @param grad {@code d loss / d logits}, shape {@code [N, C]}
   */
  public record Result(double loss, Tensor grad) {}

  /** Cross-entropy without label smoothing; see {@link #compute(Tensor, int[], double)}. */
  public static Result compute(Tensor logits, int[] targets) {
    return compute(logits, targets, 0.0);
  }

  /**
   * Cross-entropy of {@code logits [N, C]} against class indices {@code targets} (length N), averaged
   * over the batch.
   *
   * @param labelSmoothing in {@code [0, 1]}, as PyTorch's {@code label_smoothing}
   * @throws IllegalArgumentException if {@code logits} is not a non-empty {@code [N, C]} matrix, the
   *     number of targets is not N, a target is outside {@code [0, C)}, or {@code labelSmoothing} is
   *     outside {@code [0, 1]}
   */
  public static Result compute(Tensor logits, int[] targets, double labelSmoothing) {
    LossChecks.requireTargets(targets, "logits", logits);
    if (!(labelSmoothing >= 0.0 && labelSmoothing <= 1.0)) {
      throw new IllegalArgumentException("labelSmoothing: expected a value in [0, 1] but got " + labelSmoothing);
    }
    int n = logits.dim(0);
    int c = logits.dim(1);
    float[] z = logits.data();
    Tensor grad = Tensor.zeros(n, c);
    float[] g = grad.data();
    double[] logp = new double[c];
    double smooth = labelSmoothing / c;
    double total = 0;
    for (int i = 0; i < n; i++) {
      LossChecks.logSoftmaxRow(z, i, c, logp);
      int y = targets[i];
      double sumLogp = 0;
      for (int j = 0; j < c; j++) {
        sumLogp += logp[j];
        double target = smooth + (j == y ? 1.0 - labelSmoothing : 0.0);
        g[i * c + j] = (float) ((Math.exp(logp[j]) - target) / n);
      }
      total += -(1.0 - labelSmoothing) * logp[y] - smooth * sumLogp;
    }
    return new Result(total / n, grad);
  }

  /**
   * The summed (not averaged) cross-entropy of {@code logits [N, C]} against {@code targets}, without the
   * gradient: for evaluation, where batches of different sizes are added up.
   *
   * @throws IllegalArgumentException as {@link #compute(Tensor, int[], double)}
   */
  public static double sum(Tensor logits, int[] targets) {
    LossChecks.requireTargets(targets, "logits", logits);
    int n = logits.dim(0);
    int c = logits.dim(1);
    float[] z = logits.data();
    double[] logp = new double[c];
    double total = 0;
    for (int i = 0; i < n; i++) {
      LossChecks.logSoftmaxRow(z, i, c, logp);
      total -= logp[targets[i]];
    }
    return total;
  }
}
