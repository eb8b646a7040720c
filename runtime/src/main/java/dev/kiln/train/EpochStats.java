package dev.kiln.train;

/**
 * The summary of one epoch. Validation values are {@code NaN} when the run has no validation set.
 *
 * @param epoch 0-based epoch
 * @param globalStep steps done at the end of the epoch
 * @param trainLoss loss averaged over the epoch's samples (each batch's loss weighted by its size)
 * @param trainAccuracy fraction of training samples classified correctly by the training-mode logits
 * @param validationLoss mean cross-entropy on the validation set in evaluation mode
 * @param validationAccuracy accuracy on the validation set in evaluation mode
 * @param imagesPerSecond training samples per second (training steps only, validation excluded)
 * @param seconds wall-clock time of the whole epoch, validation and checkpoint included
 */
public record EpochStats(
    int epoch, long globalStep, double trainLoss, double trainAccuracy, double validationLoss,
    double validationAccuracy, double imagesPerSecond, double seconds) {}
