package dev.kiln.nn;

import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import java.util.Arrays;

/**
 * Batch normalization over the channels of {@code [N, C, H, W]}, {@code torch.nn.BatchNorm2d(C)} with eps
 * {@code 1e-5}, momentum {@code 0.1}, affine parameters and running statistics.
 *
 * <p>Training mode normalizes with the batch mean and biased variance over {@code N, H, W} (accumulated in
 * double), then updates {@code running_mean} and {@code running_var} (the latter with the unbiased variance) by
 * {@code running = (1 - momentum) * running + momentum * batch} and adds 1 to {@code num_batches_tracked}.
 * Eval mode applies the affine map given by the running statistics. State keys, in PyTorch's order:
 * {@code weight}, {@code bias}, {@code running_mean}, {@code running_var}, {@code num_batches_tracked} (a
 * scalar, shape {@code []}, stored as float).
 *
 * <p>Backward works after a forward in either mode: after a training-mode forward it differentiates through
 * the batch statistics; after an eval-mode forward it differentiates the affine map (the running statistics
 * are constants). The most recent forward's input (not a copy) and per-channel mean and inverse standard
 * deviation are remembered for this; concurrent eval-mode forwards stay correct, but a backward then refers
 * to whichever of them finished last.
 */
public final class BatchNorm2d extends AbstractModule {
  private static final double EPS = 1e-5;
  private static final double MOMENTUM = 0.1;
  /** Training buffers ({@link #buffer}): the output and the input gradient. */
  private static final int OUTPUT = 0;
  private static final int GRAD_INPUT = 1;

  private final int numFeatures;
  /** The per-plane reductions (vectorized when the JVM has the Vector API). */
  private final PlaneLoops planeLoops = PlaneLoops.get();
  private final Parameter weight;
  private final Parameter bias;
  private final Tensor runningMean;
  private final Tensor runningVar;
  private final Tensor numBatchesTracked;
  private final SavedForBackward<Saved> saved = savedForBackward();
  /** The per-channel arrays of training-mode forwards when buffers are reused. */
  private Scratch scratch;
  /** The input gradient's per-channel coefficients of the running backward ({@link #coefficients()}). */
  private float[][] coefficients;

  /** What backward needs from the forward it follows; written as one reference. */
  private static final class Saved {
    final Tensor input;
    final boolean training;
    final double[] mean;
    final double[] invStd;

    Saved(Tensor input, boolean training, double[] mean, double[] invStd) {
      this.input = input;
      this.training = training;
      this.mean = mean;
      this.invStd = invStd;
    }
  }

  /**
   * A batch norm with weight 1, bias 0, running mean 0, running variance 1 and no batches tracked.
   *
   * @param numFeatures the channel count {@code C}, positive
   */
  public BatchNorm2d(int numFeatures) {
    if (numFeatures <= 0) {
      throw new IllegalArgumentException("numFeatures must be positive but was " + numFeatures);
    }
    this.numFeatures = numFeatures;
    this.weight = registerParameter("weight", Tensor.zeros(numFeatures).fill(1f));
    this.bias = registerParameter("bias", Tensor.zeros(numFeatures));
    this.runningMean = registerBuffer("running_mean", Tensor.zeros(numFeatures));
    this.runningVar = registerBuffer("running_var", Tensor.zeros(numFeatures).fill(1f));
    this.numBatchesTracked = registerBuffer("num_batches_tracked", Tensor.scalar(0f));
  }

  /** The scale {@code gamma}, {@code [C]}. */
  public Parameter weight() {
    return weight;
  }

  /** The shift {@code beta}, {@code [C]}. */
  public Parameter bias() {
    return bias;
  }

  /** The running mean, {@code [C]} (live). */
  public Tensor runningMean() {
    return runningMean;
  }

  /** The running (unbiased) variance, {@code [C]} (live). */
  public Tensor runningVar() {
    return runningVar;
  }

  /** The number of training-mode forwards, a scalar tensor (live). */
  public Tensor numBatchesTracked() {
    return numBatchesTracked;
  }

  /** The channel count. */
  public int numFeatures() {
    return numFeatures;
  }

  /** The variance epsilon, {@code 1e-5}. */
  public double eps() {
    return EPS;
  }

  /** The running-statistics momentum, {@code 0.1}. */
  public double momentum() {
    return MOMENTUM;
  }

  /**
   * The scale of channel {@code c} in eval mode, {@code gamma / sqrt(running_var + eps)} in double: what
   * folding this batch norm into the preceding convolution multiplies its kernel by.
   */
  public double foldedScale(int c) {
    return weight.data().data()[c] / Math.sqrt((double) runningVar.data()[c] + EPS);
  }

  /** The shift of channel {@code c} in eval mode, {@code beta - running_mean * foldedScale(c)} in double. */
  public double foldedShift(int c) {
    return bias.data().data()[c] - runningMean.data()[c] * foldedScale(c);
  }

  /** The input shape {@code [N, C, H, W]} itself; throws unless the channel count is {@code C}. */
  public int[] outputShape(int... inputShape) {
    return LayerShapes.requireNchw("input", inputShape, numFeatures).clone();
  }

  @Override
  public Tensor forward(Tensor input) {
    float[][] map = affine(input); // validates the shape
    int[] shape = input.shape();
    int n = shape[0];
    int area = shape[2] * shape[3];
    float[] scale = map[0];
    float[] shift = map[1];
    Tensor output = buffer(OUTPUT, shape);
    float[] x = input.data();
    float[] y = output.data();
    forChannels(input.size(), (start, end) -> {
      for (int c = start; c < end; c++) {
        float a = scale[c];
        float beta = shift[c];
        for (int i = 0; i < n; i++) {
          int off = (i * numFeatures + c) * area;
          for (int k = off; k < off + area; k++) {
            y[k] = x[k] * a + beta;
          }
        }
      }
    });
    return output;
  }

  /**
   * Everything {@link #forward} does except writing the output: in training mode the batch statistics and
   * the running statistics and {@code num_batches_tracked} updates; the state {@link #backward} needs; and
   * the per-channel map {@code forward} applies, {@code y = x * scale[c] + shift[c]} with
   * {@code scale = (float) (gamma * invStd)} and {@code shift = (float) (beta - mean * gamma * invStd)}.
   * For {@link RepVggBlock}, which applies its branches' maps in one pass.
   *
   * @return {@code {scale, shift}}, each of length C (reused between training-mode calls when buffers are
   *     reused, so valid until the next call)
   */
  float[][] affine(Tensor input) {
    return affine(input, null);
  }

  /**
   * As {@link #affine(Tensor)}, with each plane's moments already taken ({@code null}: take them here). The
   * result is the same to the bit: the planes' moments are merged in the same order.
   */
  float[][] affine(Tensor input, PlaneMoments moments) {
    int[] shape = outputShape(input.shape());
    int n = shape[0];
    int area = shape[2] * shape[3];
    boolean training = isTraining();
    Scratch work = training && reusesBuffers() ? reusedScratch() : new Scratch(numFeatures);
    double[] mean = work.mean;
    double[] invStd = work.invStd;
    if (training) {
      long count = (long) n * area;
      if (count <= 1) {
        throw new IllegalArgumentException("input: expected more than 1 value per channel when training but got shape "
            + Arrays.toString(shape));
      }
      double[] var = work.var;
      float[] x = input.data();
      if (moments == null) {
        forChannels(input.size(), (start, end) -> batchStatistics(x, n, area, mean, var, start, end));
      } else {
        moments.merge(n, area, mean, var);
      }
      float[] rm = runningMean.data();
      float[] rv = runningVar.data();
      for (int c = 0; c < numFeatures; c++) {
        invStd[c] = 1.0 / Math.sqrt(var[c] + EPS);
        double unbiased = var[c] * count / (count - 1);
        rm[c] = (float) ((1 - MOMENTUM) * rm[c] + MOMENTUM * mean[c]);
        rv[c] = (float) ((1 - MOMENTUM) * rv[c] + MOMENTUM * unbiased);
      }
      numBatchesTracked.data()[0] += 1f;
    } else {
      float[] rm = runningMean.data();
      float[] rv = runningVar.data();
      for (int c = 0; c < numFeatures; c++) {
        mean[c] = rm[c];
        invStd[c] = 1.0 / Math.sqrt(rv[c] + EPS);
      }
    }
    float[] w = weight.data().data();
    float[] b = bias.data().data();
    float[][] map = work.map;
    for (int c = 0; c < numFeatures; c++) {
      double alpha = w[c] * invStd[c];
      map[0][c] = (float) alpha;
      map[1][c] = (float) (b[c] - mean[c] * alpha);
    }
    saved.set(new Saved(input, training, mean, invStd));
    return map;
  }

  /** Per-channel working arrays of one forward. */
  private static final class Scratch {
    final double[] mean;
    final double[] var;
    final double[] invStd;
    /** {@code {scale, shift}}. */
    final float[][] map;

    Scratch(int channels) {
      mean = new double[channels];
      var = new double[channels];
      invStd = new double[channels];
      map = new float[2][channels];
    }
  }

  private Scratch reusedScratch() {
    if (scratch == null) {
      scratch = new Scratch(numFeatures);
    }
    return scratch;
  }

  private void forChannels(int elements, Parallel.RangeBody body) {
    if (Parallel.worthSplitting(elements, Parallel.MIN_ELEMENTS, numFeatures)) {
      Parallel.forRange(numFeatures, body);
    } else {
      body.run(0, numFeatures);
    }
  }

  /**
   * Per-channel mean and biased variance, in double, for channels {@code [start, end)}: each {@code H x W}
   * plane's mean and sum of squared deviations (two passes over the plane while it is in cache), merged
   * plane by plane with Chan et al.'s pairwise update, so memory is read once and no sum of squares is
   * ever subtracted from another.
   */
  private void batchStatistics(float[] x, int n, int area, double[] mean, double[] var, int start, int end) {
    PlaneLoops sums = planeLoops;
    double[] moment = new double[2];
    double[] acc = new double[2];
    for (int c = start; c < end; c++) {
      acc[0] = 0;
      acc[1] = 0;
      for (int i = 0; i < n; i++) {
        PlaneMoments.of(sums, x, (i * numFeatures + c) * area, area, moment);
        PlaneMoments.add(acc, i, area, moment[0], moment[1]);
      }
      mean[c] = acc[0];
      var[c] = acc[1] / ((double) n * area);
    }
  }

  /**
   * With {@code xhat = (x - mean) * invStd}: {@code gb += sum(gy)}, {@code gw += sum(gy * xhat)}, and
   * {@code gx = w * invStd * (gy - mean(gy) - xhat * mean(gy * xhat))} after a training-mode forward, or
   * {@code gx = w * invStd * gy} after an eval-mode forward.
   */
  @Override
  public Tensor backward(Tensor gradOutput) {
    return backward(gradOutput, true);
  }

  /** {@code gw} and {@code gb} only (the sums pass), no input gradient. */
  @Override
  public void backwardParameters(Tensor gradOutput) {
    backward(gradOutput, false);
  }

  private Tensor backward(Tensor gradOutput, boolean inputGradient) {
    return backward(gradOutput, inputGradient, null);
  }

  /**
   * One plane's {@code sum(gy)} and {@code sum(gy * (x - mean))} into {@code work[0]} and {@code work[1]},
   * with the saved input {@code x} of the last forward, exactly as {@link #backward} takes them: for a caller
   * that has the output gradient's plane in cache ({@link RepVggBlock}). Summed per channel in sample order,
   * they are what {@link #beginBackward} takes.
   */
  void planeGradientSums(float[] gy, int off, int area, int c, double[] work) {
    Saved s = saved.get();
    planeLoops.gradientSums(gy, s.input.data(), off, off + area, s.mean[c], work);
  }

  /**
   * The backward pass; {@code given} holds {@code sum(gy)} and {@code sum(gy * (x - mean))} per channel when
   * the caller took them ({@link #planeGradientSums}, in sample order), else null.
   */
  Tensor backward(Tensor gradOutput, boolean inputGradient, double[][] given) {
    Saved s = checkBackward(gradOutput);
    int[] shape = s.input.shape();
    int n = shape[0];
    int area = shape[2] * shape[3];
    float[] x = s.input.data();
    float[] gy = gradOutput.data();
    Tensor gradInput = inputGradient ? buffer(GRAD_INPUT, shape) : null;
    float[] gx = inputGradient ? gradInput.data() : null;
    float[][] k = coefficients();
    forChannels(gy.length, (start, end) -> {
      double[] sums = new double[2];
      for (int c = start; c < end; c++) {
        double sumGy = 0;
        double dot = 0;
        if (given != null) {
          sumGy = given[0][c];
          dot = given[1][c];
        } else {
          for (int i = 0; i < n; i++) {
            int off = (i * numFeatures + c) * area;
            planeLoops.gradientSums(gy, x, off, off + area, s.mean[c], sums);
            sumGy += sums[0];
            dot += sums[1];
          }
        }
        channelBackward(s, k, c, sumGy, dot, (double) n * area);
        for (int i = 0; gx != null && i < n; i++) {
          inputGradientPlane(s, k, gy, gx, (i * numFeatures + c) * area, area, c);
        }
      }
    });
    return gradInput;
  }

  /**
   * The first half of a backward pass whose input gradient its caller computes sample by sample
   * ({@link RepVggBlock}): adds the parameter gradients from the per-channel sums {@code given} (as
   * {@link #backward} takes them) and prepares the per-channel coefficients of {@link #inputGradient}.
   *
   * @return the input gradient buffer, to be filled by {@link #inputGradient} (null without one)
   */
  Tensor beginBackward(Tensor gradOutput, boolean inputGradient, double[][] given) {
    Saved s = checkBackward(gradOutput);
    int[] shape = s.input.shape();
    double count = (double) shape[0] * shape[2] * shape[3];
    float[][] k = coefficients();
    for (int c = 0; c < numFeatures; c++) {
      channelBackward(s, k, c, given[0][c], given[1][c], count);
    }
    return inputGradient ? buffer(GRAD_INPUT, shape) : null;
  }

  /**
   * After {@link #beginBackward}: the input gradient of samples {@code [start, end)}, every channel, into
   * {@code gx}; the same floats as {@link #backward}.
   */
  void inputGradient(float[] gy, float[] gx, int start, int end) {
    Saved s = saved.get();
    float[][] k = coefficients;
    int area = s.input.dim(2) * s.input.dim(3);
    for (int i = start; i < end; i++) {
      for (int c = 0; c < numFeatures; c++) {
        inputGradientPlane(s, k, gy, gx, (i * numFeatures + c) * area, area, c);
      }
    }
  }

  private Saved checkBackward(Tensor gradOutput) {
    Saved s = saved.orNull();
    if (s == null) {
      throw new IllegalStateException("backward needs a forward first");
    }
    Tensor.checkShape("gradOutput", gradOutput, s.input.shape());
    return s;
  }

  /** The per-channel coefficients of the input gradient, {@code {meanGy, mean, k2, scale}}. */
  private float[][] coefficients() {
    if (coefficients == null) {
      coefficients = new float[4][numFeatures];
    }
    return coefficients;
  }

  /**
   * Channel {@code c}'s parameter gradients from its sums, {@code gb += sum(gy)} and
   * {@code gw += sum(gy * (x - mean)) * invStd}, and its input-gradient coefficients into {@code k}.
   */
  private void channelBackward(Saved s, float[][] k, int c, double sumGy, double dot, double count) {
    double invStd = s.invStd[c];
    bias.grad().data()[c] += (float) sumGy;
    weight.grad().data()[c] += (float) (dot * invStd);
    k[0][c] = (float) (sumGy / count);
    k[1][c] = (float) s.mean[c];
    k[2][c] = (float) (dot * invStd * invStd / count);
    k[3][c] = (float) (weight.data().data()[c] * invStd);
  }

  /**
   * One plane of the input gradient: {@code w * invStd * (gy - mean(gy) - xhat * mean(gy * xhat))} after a
   * training-mode forward, {@code w * invStd * gy} after an eval-mode forward.
   */
  private void inputGradientPlane(Saved s, float[][] k, float[] gy, float[] gx, int off, int area, int c) {
    float scale = k[3][c];
    if (s.training) {
      planeLoops.normalizedGradient(gy, s.input.data(), gx, off, off + area, k[0][c], k[1][c], k[2][c], scale);
    } else {
      for (int j = off; j < off + area; j++) {
        gx[j] = gy[j] * scale;
      }
    }
  }

  @Override
  public String toString() {
    return "BatchNorm2d(" + numFeatures + ", eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)";
  }
}
