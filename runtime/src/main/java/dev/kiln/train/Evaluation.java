package dev.kiln.train;

/**
 * The result of running a model over a data set in evaluation mode.
 *
 * @param loss mean cross-entropy of the logits against the labels
 * @param accuracy fraction of samples whose largest logit is at the label (ties: the first index)
 * @param samples the number of samples evaluated
 * @param seconds wall-clock time
 */
public record Evaluation(double loss, double accuracy, int samples, double seconds) {
  /** Samples per second. */
  public double imagesPerSecond() {
    return seconds > 0 ? samples / seconds : Double.NaN;
  }
}
