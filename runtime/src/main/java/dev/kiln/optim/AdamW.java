package dev.kiln.optim;

import dev.kiln.nn.Parameter;
import dev.kiln.tensor.Tensor;
import java.util.Map;

/**
 * Adam with decoupled weight decay, step for step as {@code torch.optim.AdamW} (PyTorch 1.13): at step
 * {@code t} (1-based), for each parameter {@code w} with gradient {@code g},
 *
 * <pre>
 * w = w * (1 - lr * weight_decay)
 * m = beta1 * m + (1 - beta1) * g
 * v = beta2 * v + (1 - beta2) * g * g
 * vmax = max(vmax, v)                              (amsgrad; then v below is vmax)
 * w = w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 *
 * Every parameter is updated on every step. State: {@code step}, {@code exp_avg.<param>},
 * {@code exp_avg_sq.<param>} and, with amsgrad, {@code max_exp_avg_sq.<param>}. Arithmetic is done in
 * double per element and stored as float.
 */
public final class AdamW extends AbstractOptimizer {
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final boolean amsgrad;
  private final Tensor[] expAvg;
  private final Tensor[] expAvgSq;
  private final Tensor[] maxExpAvgSq;

  private AdamW(Builder b) {
    super(b);
    requireUnit("beta1", b.beta1);
    requireUnit("beta2", b.beta2);
    requireNonNegative("eps", b.eps);
    beta1 = b.beta1;
    beta2 = b.beta2;
    eps = b.eps;
    amsgrad = b.amsgrad;
    expAvg = addState("exp_avg");
    expAvgSq = addState("exp_avg_sq");
    maxExpAvgSq = amsgrad ? addState("max_exp_avg_sq") : null;
  }

  /**
   * A builder for AdamW over {@code parameters} (e.g. {@code module.namedParameters()}; names are used for
   * state keys and {@link Builder#noWeightDecay}) with learning rate {@code lr}.
   */
  public static Builder builder(Map<String, Parameter> parameters, double lr) {
    return new Builder(parameters, lr);
  }

  @Override
  public void step() {
    long t = steps() + 1;
    double lr = learningRate();
    double stepSize = lr / (1.0 - Math.pow(beta1, t));
    double bias2Sqrt = Math.sqrt(1.0 - Math.pow(beta2, t));
    for (int i = 0; i < params.size(); i++) {
      float[] w = params.get(i).data().data();
      float[] g = params.get(i).grad().data();
      float[] m = expAvg[i].data();
      float[] v = expAvgSq[i].data();
      float[] vmax = amsgrad ? maxExpAvgSq[i].data() : null;
      double keep = 1.0 - lr * weightDecay[i];
      for (int k = 0; k < w.length; k++) {
        double decayed = (float) (w[k] * keep);
        m[k] = (float) (beta1 * m[k] + (1.0 - beta1) * g[k]);
        v[k] = (float) (beta2 * v[k] + (1.0 - beta2) * g[k] * g[k]);
        double second = v[k];
        if (vmax != null) {
          vmax[k] = Math.max(vmax[k], v[k]);
          second = vmax[k];
        }
        double denom = Math.sqrt(second) / bias2Sqrt + eps;
        w[k] = (float) (decayed - stepSize * m[k] / denom);
      }
    }
    countStep();
  }

  @Override
  public String toString() {
    return "AdamW{lr=" + learningRate() + ", betas=(" + beta1 + ", " + beta2 + "), eps=" + eps + ", amsgrad="
        + amsgrad + ", parameters=" + names + ", steps=" + steps() + "}";
  }

  /** Options for {@link AdamW}; the defaults are PyTorch's. */
  public static final class Builder extends OptimizerBuilder<Builder> {
    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double eps = 1e-8;
    private boolean amsgrad;

    private Builder(Map<String, Parameter> parameters, double lr) {
      super(parameters, lr, 0.01);
    }

    /** Decay rates of the first and second moment averages, default {@code (0.9, 0.999)}, each in [0, 1). */
    public Builder betas(double beta1, double beta2) {
      this.beta1 = beta1;
      this.beta2 = beta2;
      return this;
    }

    /** Added to the denominator, default 1e-8. */
    public Builder eps(double eps) {
      this.eps = eps;
      return this;
    }

    /** Use the maximum of past second moments (AMSGrad), default false. */
    public Builder amsgrad(boolean amsgrad) {
      this.amsgrad = amsgrad;
      return this;
    }

    /**
     * The optimizer.
     *
     * @throws IllegalArgumentException if there are no parameters, a beta is outside [0, 1), or another
     *     value is negative or not finite
     */
    public AdamW build() {
      return new AdamW(this);
    }
  }
}
