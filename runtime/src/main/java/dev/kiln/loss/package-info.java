/**
 * What training optimizes: the losses with their gradients ({@code CrossEntropy} with label smoothing,
 * {@code NllLoss}, {@code KlDivergence}, {@code RDropLoss}) and the objectives that run one
 * forward-loss-backward step on a module ({@code Objective}, {@code Objectives}; a generated network
 * declares its own through {@code DeclaredObjective}). Matches PyTorch 1.13.
 */
package dev.kiln.loss;
