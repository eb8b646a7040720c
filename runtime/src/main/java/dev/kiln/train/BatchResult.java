package dev.kiln.train;

/**
 * What {@link TrainingListener#onBatchEnd} learns about one training step.
 *
 * @param epoch 0-based epoch
 * @param batch 0-based batch index within the epoch
 * @param batchesPerEpoch batches in this epoch
 * @param globalStep steps done so far in the whole run, this one included
 * @param size samples in this batch
 * @param loss the objective's loss on this batch
 * @param correct samples of this batch whose largest logit is at the label
 * @param learningRate the learning rate this step used
 * @param samplesDone samples processed so far in this epoch, this batch included
 * @param samplesPerEpoch samples the epoch visits in total
 */
public record BatchResult(
    int epoch, int batch, int batchesPerEpoch, long globalStep, int size, double loss, int correct,
    double learningRate, int samplesDone, int samplesPerEpoch) {}
