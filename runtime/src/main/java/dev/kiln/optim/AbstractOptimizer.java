package dev.kiln.optim;

import dev.kiln.nn.AbstractModule;
import dev.kiln.nn.Parameter;
import dev.kiln.tensor.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What every optimizer shares: the named parameters in order, which of them get weight decay, the learning
 * rate, and the state map with its step counter ({@code step}, a scalar).
 */
abstract class AbstractOptimizer implements Optimizer {
  /** The parameters' names, in the order of the map given to the constructor. */
  final List<String> names;
  /** The parameters, parallel to {@link #names}. */
  final List<Parameter> params;
  /** Per parameter: the weight decay to apply (0 for names excluded from decay). */
  final double[] weightDecay;
  private final Map<String, Tensor> state = new LinkedHashMap<>();
  private final Tensor stepTensor = Tensor.scalar(0f);
  private double lr;
  private long steps;

  AbstractOptimizer(OptimizerBuilder<?> options) {
    Map<String, Parameter> parameters = options.parameters;
    double lr = options.lr;
    double weightDecay = options.weightDecay;
    if (parameters.isEmpty()) {
      throw new IllegalArgumentException("parameters: expected at least one parameter but got none");
    }
    requireNonNegative("lr", lr);
    requireNonNegative("weightDecay", weightDecay);
    this.names = List.copyOf(parameters.keySet());
    this.params = List.copyOf(parameters.values());
    this.weightDecay = new double[names.size()];
    for (int i = 0; i < names.size(); i++) {
      this.weightDecay[i] = options.noWeightDecay.test(names.get(i)) ? 0.0 : weightDecay;
    }
    this.lr = lr;
    state.put("step", stepTensor);
  }

  /** Adds a zero state tensor {@code prefix + "." + name} shaped like each parameter; returns them in order. */
  final Tensor[] addState(String prefix) {
    Tensor[] out = new Tensor[params.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = Tensor.zeros(params.get(i).data().shape());
      state.put(prefix + "." + names.get(i), out[i]);
    }
    return out;
  }

  /** The number of completed steps. */
  final long steps() {
    return steps;
  }

  /**
   * Ends a step: {@link Parameter#markChanged() marks} every parameter changed (the step wrote them in
   * place) and counts the step.
   */
  final void countStep() {
    for (Parameter p : params) {
      p.markChanged();
    }
    steps++;
    stepTensor.data()[0] = steps;
  }

  @Override
  public final void zeroGrad() {
    for (Parameter p : params) {
      p.zeroGrad();
    }
  }

  @Override
  public final double learningRate() {
    return lr;
  }

  @Override
  public final void setLearningRate(double lr) {
    requireNonNegative("lr", lr);
    this.lr = lr;
  }

  @Override
  public final Map<String, Tensor> state() {
    return Collections.unmodifiableMap(state);
  }

  /**
   * {@inheritDoc} The keys are {@code step} (a scalar holding the number of completed steps) and one tensor
   * per parameter and kind of buffer, e.g. {@code exp_avg.<param>}.
   */
  @Override
  public final void loadState(Map<String, Tensor> source) {
    Objects.requireNonNull(source, "state");
    Tensor step = source.get("step");
    if (step != null && step.size() == 1) {
      float v = step.data()[0];
      if (!(v >= 0 && v == Math.rint(v))) {
        throw new IllegalArgumentException("step: expected a whole number >= 0 but got " + v);
      }
    }
    AbstractModule.loadStrict(state, source);
    steps = (long) stepTensor.data()[0];
  }

  static void requireNonNegative(String what, double value) {
    if (!(value >= 0.0 && value < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException(what + ": expected a finite value >= 0 but got " + value);
    }
  }

  static void requireUnit(String what, double value) {
    if (!(value >= 0.0 && value < 1.0)) {
      throw new IllegalArgumentException(what + ": expected a value in [0, 1) but got " + value);
    }
  }
}
