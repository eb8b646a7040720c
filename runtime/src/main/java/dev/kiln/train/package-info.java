/**
 * The training loop: {@code Trainer} (epochs of seeded batches, evaluation, listeners, atomic checkpoints
 * with exact resume), its configuration, history and the events listeners receive.
 */
package dev.kiln.train;
