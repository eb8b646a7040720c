package dev.kiln.optim;

import dev.kiln.nn.Parameter;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * The options every optimizer's builder has: the named parameters, the learning rate, the weight decay and
 * the parameters exempt from it. The optimizers' own builders ({@link Sgd.Builder}, {@link AdamW.Builder})
 * add theirs.
 *
 * @param <B> the concrete builder, returned by every setter
 */
public abstract class OptimizerBuilder<B extends OptimizerBuilder<B>> {
  final Map<String, Parameter> parameters;
  final double lr;
  double weightDecay;
  Predicate<String> noWeightDecay = name -> false;

  OptimizerBuilder(Map<String, Parameter> parameters, double lr, double defaultWeightDecay) {
    this.parameters = Objects.requireNonNull(parameters, "parameters");
    this.lr = lr;
    this.weightDecay = defaultWeightDecay;
  }

  /**
   * Weight decay, applied as the optimizer defines it: SGD adds {@code weight_decay * w} to the gradient
   * (default 0), AdamW shrinks the weights by {@code lr * weight_decay} (decoupled, default 0.01).
   */
  public final B weightDecay(double weightDecay) {
    this.weightDecay = weightDecay;
    return self();
  }

  /**
   * Parameters whose name matches get no weight decay (a second PyTorch parameter group with
   * {@code weight_decay=0}), e.g. {@code name -> name.endsWith("bias")}.
   */
  public final B noWeightDecay(Predicate<String> names) {
    this.noWeightDecay = Objects.requireNonNull(names, "names");
    return self();
  }

  @SuppressWarnings("unchecked")
  final B self() {
    return (B) this;
  }
}
