package dev.kiln.loss;

import dev.kiln.annotation.Reduction;
import dev.kiln.tensor.Tensor;
import java.util.Objects;

/**
 * Kullback-Leibler divergence as {@code torch.nn.functional.kl_div(input, target, reduction, log_target)}:
 * {@code input} holds log-probabilities {@code log q}, {@code target} holds probabilities {@code p} (or
 * {@code log p} when {@code logTarget}), and the pointwise loss is {@code p * (log p - log q)}, which summed
 * over the classes is {@code KL(p || q)}. As in PyTorch a target probability of exactly 0 contributes 0.
 *
 * <p>Reductions: {@link Reduction#SUM} sums every element, {@link Reduction#BATCHMEAN} divides that sum by
 * the size of dimension 0 (the mathematical KL per sample), {@link Reduction#MEAN} divides it by the
 * number of elements (PyTorch's {@code 'mean'}).
 *
 * <p>Gradients are returned for both arguments, as autograd computes them when neither is detached (R-Drop
 * needs that): {@code d/d input = -p}, and {@code d/d target = exp(t) * (t - input + 1)} for a log-space
 * target {@code t}, or {@code log p + 1 - input} for a probability target (NaN where {@code p == 0}, as in
 * PyTorch), each times the reduction's scale.
 */
public final class KlDivergence {
  private KlDivergence() {}

  /**
   * The reduced loss and the gradients with respect to both arguments (each the shape of the input).
   *
   * @param loss the reduced divergence
   * @param gradInput {@code d loss / d input}
   * @param gradTarget {@code d loss / d target}, in the space the target was given in
   */
  public record Result(double loss, Tensor gradInput, Tensor gradTarget) {}

  /**
   * Computes {@code kl_div(input, target, reduction, log_target=logTarget)}.
   *
   * @param input log-probabilities, any shape of rank >= 1
   * @param target probabilities, or log-probabilities when {@code logTarget}; the shape of {@code input}
   * @throws IllegalArgumentException if {@code input} has rank 0 or no elements, or the shapes differ
   */
  public static Result compute(Tensor input, Tensor target, Reduction reduction, boolean logTarget) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(reduction, "reduction");
    if (input.rank() == 0 || input.size() == 0) {
      throw new IllegalArgumentException("input: expected rank >= 1 and at least one element but got shape "
          + Tensor.shapeString(input.shape()));
    }
    Tensor.checkShape("target", target, input.shape());
    double scale = scale(reduction, input.dim(0), input.size());
    float[] x = input.data();
    float[] t = target.data();
    Tensor gradInput = Tensor.zeros(input.shape());
    Tensor gradTarget = Tensor.zeros(input.shape());
    float[] gx = gradInput.data();
    float[] gt = gradTarget.data();
    double total = 0;
    for (int k = 0; k < x.length; k++) {
      double xk = x[k];
      double tk = t[k];
      if (logTarget) {
        double p = Math.exp(tk);
        total += p * (tk - xk);
        gx[k] = (float) (-p * scale);
        gt[k] = (float) (p * (tk - xk + 1.0) * scale);
      } else {
        total += (tk == 0.0 ? 0.0 : tk * Math.log(tk)) - tk * xk;
        gx[k] = (float) (-tk * scale);
        gt[k] = (float) (tk == 0.0 ? Double.NaN : (Math.log(tk) + 1.0 - xk) * scale);
      }
    }
    return new Result(total * scale, gradInput, gradTarget);
  }

  /** The factor a summed loss is multiplied by under {@code reduction}. */
  static double scale(Reduction reduction, int batch, int elements) {
    return switch (reduction) {
      case SUM -> 1.0;
      case BATCHMEAN -> 1.0 / batch;
      case MEAN -> 1.0 / elements;
    };
  }
}
