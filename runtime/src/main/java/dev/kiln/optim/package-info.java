/**
 * Optimizers that update parameters in place from their gradients ({@code Sgd} with momentum, Nesterov and
 * weight decay; {@code AdamW}) and learning-rate schedules ({@code LrSchedules}: step, cosine, one-cycle,
 * linear warm-up). Match PyTorch 1.13.
 */
package dev.kiln.optim;
