package dev.kiln.loss;

import dev.kiln.nn.Module;
import dev.kiln.tensor.Tensor;

/**
 * What one training step optimizes: runs the model forward in training mode, computes the loss, and runs
 * backward so that every parameter gradient is accumulated. Plain cross-entropy and R-Drop are the two
 * implementations; a {@code @Model} with {@code @RDrop} reports the R-Drop objective.
 */
public interface Objective {
  /** The result of one step: the loss and the logits of the (first copy of the) batch, for accuracy. */
  record StepResult(double loss, Tensor logits) {}

  /** Forward, loss, backward on one batch; does not zero gradients or update parameters. */
  StepResult step(Module model, Tensor input, int[] targets);
}
