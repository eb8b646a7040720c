package dev.kiln.loss;

import dev.kiln.tensor.Tensor;

/**
 * Negative log-likelihood of log-probabilities, as {@code torch.nn.functional.nll_loss(input, targets)}
 * (no class weights, mean reduction): {@code -mean_i input[i, targets[i]]}.
 */
public final class NllLoss {
  private NllLoss() {}

  /**
   * The mean loss and its gradient with respect to the input.
   *
   * @param loss the mean negative log-likelihood
   * @param grad {@code d loss / d input}, shape {@code [N, C]}: {@code -1/N} at each target, 0 elsewhere
   */
  public record Result(double loss, Tensor grad) {}

  /**
   * The loss of {@code input [N, C]} (log-probabilities, e.g. a log-softmax output) against class
   * indices {@code targets} (length N).
   *
   * @throws IllegalArgumentException if {@code input} is not a non-empty {@code [N, C]} matrix, the
   *     number of targets is not N, or a target is outside {@code [0, C)}
   */
  public static Result compute(Tensor input, int[] targets) {
    LossChecks.requireTargets(targets, "input", input);
    int n = input.dim(0);
    int c = input.dim(1);
    float[] x = input.data();
    Tensor grad = Tensor.zeros(n, c);
    double total = 0;
    for (int i = 0; i < n; i++) {
      total -= x[i * c + targets[i]];
      grad.data()[i * c + targets[i]] = (float) (-1.0 / n);
    }
    return new Result(total / n, grad);
  }
}
