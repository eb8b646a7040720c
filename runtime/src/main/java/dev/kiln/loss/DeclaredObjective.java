package dev.kiln.loss;

/**
 * A network that declares what training optimizes. Every {@code @Model} network Kiln generates implements
 * it: the R-Drop objective of its {@code @RDrop}, plain cross-entropy without one. Its deploy network
 * ({@code FooModel.Fused}) is for inference and does not. {@link Objectives#forModel} reads it from any
 * module.
 */
public interface DeclaredObjective {
  /** What one training step of this network optimizes. */
  Objective objective();
}
