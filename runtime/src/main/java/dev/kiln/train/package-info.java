/**
 * The training loop: {@code Trainer} (epochs of seeded batches, evaluation, listeners, atomic checkpoints
 * with exact resume that refuses a checkpoint of a different run, {@code RunIdentity}), its configuration,
 * history, the events listeners receive, and the stop on non-finite values ({@code FiniteCheck},
 * {@code TrainingDivergedException}).
 */
package dev.kiln.train;
