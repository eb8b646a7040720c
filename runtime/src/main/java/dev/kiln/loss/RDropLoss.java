package dev.kiln.loss;

import dev.kiln.annotation.Reduction;
import dev.kiln.tensor.Tensor;
import java.util.Objects;

/**
 * The R-Drop loss (Liang et al., 2021) over the logits of the two copies of a batch:
 *
 * <pre>
 * loss = 0.5 * (CE(z1, y) + CE(z2, y)) + alpha * (KL(Q || P) + KL(P || Q)) / 2,   P = softmax(z1), Q = softmax(z2)
 * </pre>
 *
 * CE is the mean cross-entropy over the batch; each KL is summed over the classes and then reduced over the
 * batch by {@code klReduction}: {@link Reduction#SUM} (the reference implementation's default),
 * {@link Reduction#BATCHMEAN} (divided by N) or {@link Reduction#MEAN} (divided by N * C, PyTorch's
 * {@code kl_div} {@code 'mean'}).
 *
 * <p>This is the official implementation's formula: {@code kl_div(log_softmax(z1), softmax(z2))} is
 * {@code KL(Q || P)} and {@code kl_div(log_softmax(z2), softmax(z1))} is {@code KL(P || Q)}, reduced and
 * averaged. Nothing is detached: the gradients flow into both logits through both KL terms, as autograd
 * computes them for that code. Everything is computed in double.
 */
public final class RDropLoss {
  private RDropLoss() {}

  /**
   * The loss, its parts, and the gradients with respect to both logits.
   *
   * @param loss {@code crossEntropy + alpha * klDivergence}
   * @param grad1 {@code d loss / d logits1}, shape {@code [N, C]}
   * @param grad2 {@code d loss / d logits2}, shape {@code [N, C]}
   * @param crossEntropy {@code 0.5 * (CE(z1, y) + CE(z2, y))}
   * @param klDivergence {@code (KL(Q || P) + KL(P || Q)) / 2}, reduced, before the factor alpha
   */
  public record Result(double loss, Tensor grad1, Tensor grad2, double crossEntropy, double klDivergence) {}

  /**
   * Computes the R-Drop loss of {@code logits1} and {@code logits2} (both {@code [N, C]}) against
   * {@code targets} (length N).
   *
   * @param alpha the weight of the KL term, {@code >= 0} ({@code 0} gives the averaged cross-entropy)
   * @throws IllegalArgumentException if {@code logits1} is not a non-empty {@code [N, C]} matrix,
   *     {@code logits2} has another shape, the number of targets is not N, a target is outside
   *     {@code [0, C)}, or {@code alpha} is negative or not finite
   */
  public static Result compute(Tensor logits1, Tensor logits2, int[] targets, double alpha, Reduction klReduction) {
    LossChecks.requireMatrix("logits1", logits1);
    Tensor.checkShape("logits2", logits2, logits1.shape());
    LossChecks.requireTargets(targets, "logits1", logits1);
    if (!(alpha >= 0.0 && alpha < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException("alpha: expected a finite value >= 0 but got " + alpha);
    }
    Objects.requireNonNull(klReduction, "klReduction");
    int n = logits1.dim(0);
    int c = logits1.dim(1);
    double klScale = KlDivergence.scale(klReduction, n, n * c);
    double ceFactor = 0.5 / n;
    double klFactor = 0.5 * alpha * klScale;
    Tensor grad1 = Tensor.zeros(n, c);
    Tensor grad2 = Tensor.zeros(n, c);
    double[] logP = new double[c];
    double[] logQ = new double[c];
    double[] p = new double[c];
    double[] q = new double[c];
    double ceSum = 0;
    double klSum = 0;
    for (int i = 0; i < n; i++) {
      LossChecks.logSoftmaxRow(logits1.data(), i, c, logP);
      LossChecks.logSoftmaxRow(logits2.data(), i, c, logQ);
      int y = targets[i];
      ceSum -= logP[y] + logQ[y];
      // S = KL(Q||P) + KL(P||Q) = sum_c (Q_c - P_c) * D_c with D = log Q - log P.
      double s = 0;
      double meanDUnderP = 0;
      double meanDUnderQ = 0;
      for (int j = 0; j < c; j++) {
        p[j] = Math.exp(logP[j]);
        q[j] = Math.exp(logQ[j]);
        double d = logQ[j] - logP[j];
        s += (q[j] - p[j]) * d;
        meanDUnderP += p[j] * d;
        meanDUnderQ += q[j] * d;
      }
      klSum += s;
      // dS/dz1_k = -P_k (D_k - E_P[D]) + (P_k - Q_k);  dS/dz2_k = Q_k (D_k - E_Q[D]) + (Q_k - P_k).
      for (int j = 0; j < c; j++) {
        double d = logQ[j] - logP[j];
        double onehot = j == y ? 1.0 : 0.0;
        double dS1 = -p[j] * (d - meanDUnderP) + (p[j] - q[j]);
        double dS2 = q[j] * (d - meanDUnderQ) + (q[j] - p[j]);
        grad1.data()[i * c + j] = (float) (ceFactor * (p[j] - onehot) + klFactor * dS1);
        grad2.data()[i * c + j] = (float) (ceFactor * (q[j] - onehot) + klFactor * dS2);
      }
    }
    double crossEntropy = 0.5 * ceSum / n;
    double klDivergence = 0.5 * klSum * klScale;
    return new Result(crossEntropy + alpha * klDivergence, grad1, grad2, crossEntropy, klDivergence);
  }
}
