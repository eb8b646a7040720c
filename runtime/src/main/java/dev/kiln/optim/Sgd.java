package dev.kiln.optim;

import dev.kiln.nn.Parameter;
import dev.kiln.tensor.Tensor;
import java.util.Map;

/**
 * Stochastic gradient descent, step for step as {@code torch.optim.SGD}: for each parameter {@code w} with
 * gradient {@code g},
 *
 * <pre>
 * d = g + weight_decay * w
 * if momentum != 0:
 *   buf = d                                        (first step)
 *   buf = momentum * buf + (1 - dampening) * d     (later steps)
 *   d = nesterov ? d + momentum * buf : buf
 * w = w - lr * d
 * </pre>
 *
 * Every parameter is updated on every step (a zero gradient is a gradient, unlike PyTorch's {@code None}).
 * State: {@code step} and, with momentum, {@code momentum_buffer.<param>}. Arithmetic is done in double
 * per element and stored as float.
 */
public final class Sgd extends AbstractOptimizer {
  private final double momentum;
  private final double dampening;
  private final boolean nesterov;
  private final Tensor[] momentumBuffers;

  private Sgd(Builder b) {
    super(b);
    requireNonNegative("momentum", b.momentum);
    requireNonNegative("dampening", b.dampening);
    if (b.nesterov && (b.momentum <= 0 || b.dampening != 0)) {
      throw new IllegalArgumentException("nesterov: expected momentum > 0 and dampening == 0 but got momentum="
          + b.momentum + ", dampening=" + b.dampening);
    }
    momentum = b.momentum;
    dampening = b.dampening;
    nesterov = b.nesterov;
    momentumBuffers = momentum != 0 ? addState("momentum_buffer") : null;
  }

  /**
   * A builder for SGD over {@code parameters} (e.g. {@code module.namedParameters()}; names are used for
   * state keys and {@link Builder#noWeightDecay}) with learning rate {@code lr}.
   */
  public static Builder builder(Map<String, Parameter> parameters, double lr) {
    return new Builder(parameters, lr);
  }

  @Override
  public void step() {
    boolean first = steps() == 0;
    double lr = learningRate();
    for (int i = 0; i < params.size(); i++) {
      float[] w = params.get(i).data().data();
      float[] g = params.get(i).grad().data();
      float[] buf = momentumBuffers != null ? momentumBuffers[i].data() : null;
      double decay = weightDecay[i];
      for (int k = 0; k < w.length; k++) {
        double d = g[k] + decay * w[k];
        if (buf != null) {
          double b = first ? d : momentum * buf[k] + (1.0 - dampening) * d;
          buf[k] = (float) b;
          d = nesterov ? d + momentum * buf[k] : buf[k];
        }
        w[k] = (float) (w[k] - lr * d);
      }
    }
    countStep();
  }

  @Override
  public String toString() {
    return "Sgd{lr=" + learningRate() + ", momentum=" + momentum + ", dampening=" + dampening + ", nesterov="
        + nesterov + ", parameters=" + names + ", steps=" + steps() + "}";
  }

  /** Options for {@link Sgd}; the defaults are PyTorch's. */
  public static final class Builder extends OptimizerBuilder<Builder> {
    private double momentum;
    private double dampening;
    private boolean nesterov;

    private Builder(Map<String, Parameter> parameters, double lr) {
      super(parameters, lr, 0);
    }

    /** Momentum factor, default 0. */
    public Builder momentum(double momentum) {
      this.momentum = momentum;
      return this;
    }

    /** Dampening for momentum, default 0. */
    public Builder dampening(double dampening) {
      this.dampening = dampening;
      return this;
    }

    /** Nesterov momentum (needs momentum > 0 and dampening 0), default false. */
    public Builder nesterov(boolean nesterov) {
      this.nesterov = nesterov;
      return this;
    }

    /**
     * The optimizer.
     *
     * @throws IllegalArgumentException if there are no parameters, a value is negative or not finite, or
     *     nesterov is set without momentum or with dampening
     */
    public Sgd build() {
      return new Sgd(this);
    }
  }
}
