package dev.kiln.train;

/**
 * What {@link TrainingListener#onBegin} learns about a run.
 *
 * @param config the run's configuration
 * @param startEpoch the first epoch this call trains (0-based; above 0 when resuming)
 * @param startStep the global step count at that point
 * @param samplesPerEpoch training samples visited per epoch
 * @param batchesPerEpoch training steps per epoch
 * @param validationSamples size of the validation set (0 without validation)
 */
public record TrainingStart(
    TrainingConfig config, int startEpoch, long startStep, int samplesPerEpoch, int batchesPerEpoch,
    int validationSamples) {}
