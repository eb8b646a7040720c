package dev.kiln.samples.cli;

import dev.kiln.train.BatchResult;
import dev.kiln.train.TrainingListener;
import dev.kiln.train.TrainingStart;
import java.util.ArrayList;
import java.util.List;

/**
 * Records what the report and the chart need while training: the training loss averaged over windows of
 * {@link #window()} batches (about {@value #POINTS} points over the run), and the time spent in training
 * steps (validation and checkpoints excluded) with the number of images those steps trained on.
 */
final class RunRecorder implements TrainingListener {
  /** Roughly how many loss points the whole run yields. */
  static final int POINTS = 100;

  private final List<double[]> lossPoints = new ArrayList<>();
  private int window = 1;
  private double lossSum;
  private int lossSamples;
  private int batchesInWindow;
  private long epochStart;
  private long stepNanos;
  private long images;

  @Override
  public void onBegin(TrainingStart start) {
    long batches = (long) start.batchesPerEpoch() * Math.max(0, start.config().epochs() - start.startEpoch());
    window = (int) Math.max(1, Math.round(batches / (double) POINTS));
  }

  @Override
  public void onEpochStart(int epoch) {
    epochStart = System.nanoTime();
    lossSum = 0;
    lossSamples = 0;
    batchesInWindow = 0;
  }

  @Override
  public void onBatchEnd(BatchResult b) {
    images += b.size();
    lossSum += b.loss() * b.size();
    lossSamples += b.size();
    batchesInWindow++;
    boolean lastOfEpoch = b.samplesDone() >= b.samplesPerEpoch();
    if (lastOfEpoch) {
      stepNanos += System.nanoTime() - epochStart;
    }
    if (batchesInWindow == window || lastOfEpoch) {
      double x = b.epoch() + (b.batch() + 1) / (double) b.batchesPerEpoch();
      lossPoints.add(new double[] {x, lossSum / lossSamples});
      lossSum = 0;
      lossSamples = 0;
      batchesInWindow = 0;
    }
  }

  /** Batches per loss point (the last point of an epoch may average fewer). */
  int window() {
    return window;
  }

  /** {@code {epoch, mean loss}} points; epoch is fractional, the end of the window. */
  List<double[]> lossPoints() {
    return lossPoints;
  }

  /** Seconds spent in training steps. */
  double stepSeconds() {
    return stepNanos / 1e9;
  }

  /** Training images processed (each R-Drop image counted once). */
  long images() {
    return images;
  }
}
