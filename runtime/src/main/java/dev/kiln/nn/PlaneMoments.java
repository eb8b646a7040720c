package dev.kiln.nn;

/**
 * Each {@code H x W} plane's mean and sum of squared deviations for {@link BatchNorm2d}'s batch statistics,
 * taken by the layer that writes the planes while they are in cache ({@link RepVggBlock}'s branches). Merged
 * per channel in sample order, they give the same statistics, to the bit, as {@link BatchNorm2d} taking them
 * itself.
 */
final class PlaneMoments {
  private final int channels;
  /** Mean and squared deviations of plane {@code (sample, c)} at {@code 2 * (sample * channels + c)}. */
  private double[] moments = new double[0];

  PlaneMoments(int channels) {
    this.channels = channels;
  }

  /** Room for {@code n} samples. */
  PlaneMoments resize(int n) {
    if (moments.length != 2 * n * channels) {
      moments = new double[2 * n * channels];
    }
    return this;
  }

  /** Takes the moments of every channel's plane of sample {@code sample}, which starts at {@code x[off]}. */
  void record(PlaneLoops sums, float[] x, int off, int sample, int area, double[] work) {
    for (int c = 0; c < channels; c++) {
      of(sums, x, off + c * area, area, work);
      int k = 2 * (sample * channels + c);
      moments[k] = work[0];
      moments[k + 1] = work[1];
    }
  }

  /** Per-channel mean and biased variance of {@code n} samples. */
  void merge(int n, int area, double[] mean, double[] var) {
    double[] acc = new double[2];
    for (int c = 0; c < channels; c++) {
      acc[0] = 0;
      acc[1] = 0;
      for (int i = 0; i < n; i++) {
        int k = 2 * (i * channels + c);
        add(acc, i, area, moments[k], moments[k + 1]);
      }
      mean[c] = acc[0];
      var[c] = acc[1] / ((double) n * area);
    }
  }

  /** One plane's mean and sum of squared deviations into {@code out[0]}, {@code out[1]} (two passes over the plane). */
  static void of(PlaneLoops sums, float[] x, int off, int area, double[] out) {
    double mean = sums.sum(x, off, off + area) / area;
    out[0] = mean;
    out[1] = sums.squaredDeviations(x, off, off + area, mean);
  }

  /**
   * Merges plane {@code i} (count {@code area}) into the moments {@code acc = {mean, m2}} of planes
   * {@code 0..i-1} (Chan et al.'s pairwise update: the delta is weighted by {@code area * i / (i + 1)}).
   */
  static void add(double[] acc, int i, int area, double planeMean, double planeM2) {
    double delta = planeMean - acc[0];
    acc[0] += delta / (i + 1);
    acc[1] += planeM2 + delta * delta * area * i / (i + 1);
  }
}
