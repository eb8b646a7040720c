package dev.kiln.optim;

import dev.kiln.tensor.Tensor;
import java.util.Map;

/**
 * Updates a fixed set of named parameters from their accumulated gradients, step for step as the
 * PyTorch optimizer of the same name.
 */
public interface Optimizer {
  /**
   * Applies one update to every parameter from its current gradient, in place, and calls
   * {@link dev.kiln.nn.Parameter#markChanged()} on each.
   */
  void step();

  /** Sets every parameter gradient to zero. */
  void zeroGrad();

  /** The learning rate the next {@link #step()} uses. */
  double learningRate();

  /** Sets the learning rate (schedules call this before each step). */
  void setLearningRate(double lr);

  /**
   * The optimizer's state (e.g. momentum buffers, step counts) as named tensors, for checkpoints. Keys
   * are stable, e.g. {@code momentum_buffer.<param>}; live tensors, not copies.
   */
  Map<String, Tensor> state();

  /** Restores state written by {@link #state()}; strict like {@code Module.loadStateDict}. */
  void loadState(Map<String, Tensor> state);
}
