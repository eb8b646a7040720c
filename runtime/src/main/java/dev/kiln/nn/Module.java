package dev.kiln.nn;

import dev.kiln.tensor.Tensor;
import java.util.Map;

/**
 * The module contract, as PyTorch users know it: batch-first {@code forward}, an explicit {@code backward},
 * training and evaluation modes, named parameters and a state dict with PyTorch's key names.
 */
public interface Module {
  /** Runs the layer on a batch {@code [N, ...]}; in training mode it also remembers what backward needs. */
  Tensor forward(Tensor input);

  /**
   * After a training-mode {@link #forward}: returns the gradient with respect to the input and adds the
   * parameter gradients to each {@link Parameter#grad()}.
   */
  Tensor backward(Tensor gradOutput);

  /**
   * {@link #backward} for a caller that does not need the input gradient (the first layer of a network,
   * whose input is data): adds the parameter gradients to each {@link Parameter#grad()} and may skip the
   * input gradient's work. The default runs {@code backward} and drops its result.
   */
  default void backwardParameters(Tensor gradOutput) {
    backward(gradOutput);
  }

  /** Switches training mode on or off. New modules are in training mode. */
  void train(boolean on);

  /** Equivalent to {@code train(false)}. */
  default void eval() {
    train(false);
  }

  /** Whether the module is in training mode. */
  boolean isTraining();

  /** Learnable parameters by state-dict name, in insertion order. */
  Map<String, Parameter> namedParameters();

  /** Parameters and buffers by PyTorch key name, in insertion order. The tensors are live, not copies. */
  Map<String, Tensor> stateDict();

  /**
   * Copies every entry of {@code state} into this module. Strict: a missing, unexpected or wrongly shaped
   * key is an {@link IllegalArgumentException} naming the key (and both shapes). The values are copied into
   * the live tensors, and every parameter is then {@link Parameter#markChanged() marked changed}.
   */
  void loadStateDict(Map<String, Tensor> state);

  /** Sets every parameter gradient to zero. */
  void zeroGrad();
}
