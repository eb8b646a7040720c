package dev.kiln.nn;

import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A fully connected layer, {@code torch.nn.Linear}: {@code y = x W^T + b} on an input {@code [N, in]}
 * (flatten convolutional features first with {@link Flatten}). Weight {@code [out, in]}, bias {@code [out]};
 * state keys {@code weight} and {@code bias}.
 *
 * <p>Default initialization is PyTorch's, U(-1/sqrt(in), 1/sqrt(in)) for weight and bias, drawn by
 * {@link Init#uniformFanIn} from one {@code SplittableRandom(seed)}: all weights first (row-major), then
 * the bias. Eval-mode forward keeps no state and may be called from many threads at once.
 *
 * <p>The forward keeps a transposed copy of the weights ({@link PackedWeights}) so that its inner loop
 * runs over the output features, a loop HotSpot vectorizes; the copy follows the weight parameter's
 * {@link Parameter#version() version}, so code that writes the weights in place calls
 * {@link Parameter#markChanged()} afterwards (the optimizers and {@code loadStateDict} do).
 */
public final class Linear extends AbstractModule {
  /** Training buffers ({@link #buffer}): the output and the input gradient. */
  private static final int OUTPUT = 0;
  private static final int GRAD_INPUT = 1;

  private final int inFeatures;
  private final int outFeatures;
  private final Parameter weight;
  private final Parameter bias;
  /** The weights as {@code in} arrays of {@code out} floats, for the forward. */
  private final PackedWeights columns;
  private final SavedForBackward<Tensor> savedInput = savedForBackward();

  /**
   * @param inFeatures input features, positive
   * @param outFeatures output features, positive
   * @param bias whether the layer has a bias
   * @param seed the seed of the default initialization
   */
  public Linear(int inFeatures, int outFeatures, boolean bias, long seed) {
    if (inFeatures <= 0 || outFeatures <= 0) {
      throw new IllegalArgumentException(
          "inFeatures and outFeatures must be positive but were " + inFeatures + " and " + outFeatures);
    }
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    SplittableRandom random = new SplittableRandom(seed);
    Tensor w = Tensor.zeros(outFeatures, inFeatures);
    Init.uniformFanIn(w.data(), inFeatures, random);
    this.weight = registerParameter("weight", w);
    if (bias) {
      Tensor b = Tensor.zeros(outFeatures);
      Init.uniformFanIn(b.data(), inFeatures, random);
      this.bias = registerParameter("bias", b);
    } else {
      this.bias = null;
    }
    this.columns = PackedWeights.columns(weight, outFeatures, inFeatures);
  }

  /** The weight parameter, {@code [out, in]}. */
  public Parameter weight() {
    return weight;
  }

  /** The bias parameter {@code [out]}, or {@code null} when the layer has none. */
  public Parameter bias() {
    return bias;
  }

  /** Input features. */
  public int inFeatures() {
    return inFeatures;
  }

  /** Output features. */
  public int outFeatures() {
    return outFeatures;
  }

  /** {@code [N, out]} for an input shape {@code [N, in]}; throws if the input shape is wrong. */
  public int[] outputShape(int... inputShape) {
    if (inputShape.length != 2 || inputShape[1] != inFeatures) {
      throw new IllegalArgumentException(
          "input: expected shape [N, " + inFeatures + "] but got " + Arrays.toString(inputShape));
    }
    return new int[] {inputShape[0], outFeatures};
  }

  @Override
  public Tensor forward(Tensor input) {
    int n = outputShape(input.shape())[0];
    Tensor output = buffer(OUTPUT, n, outFeatures);
    float[] x = input.data();
    float[] y = output.data();
    float[][] w = columns.arrays();
    float[] b = bias == null ? null : bias.data().data();
    int rowBlocks = (n + ROWS_PER_PASS - 1) / ROWS_PER_PASS;
    int segments = segments(rowBlocks);
    if (Parallel.worthSplitting((long) n * inFeatures * outFeatures, Parallel.MIN_MACS, (long) rowBlocks * segments)) {
      Parallel.forRange(rowBlocks * segments, (start, end) -> {
        for (int item = start; item < end; item++) {
          int first = item / segments * ROWS_PER_PASS;
          int s = item % segments;
          forwardRows(x, w, b, y, first, Math.min(n, first + ROWS_PER_PASS), segmentStart(s, segments),
              segmentStart(s + 1, segments));
        }
      });
    } else {
      forwardRows(x, w, b, y, 0, n, 0, outFeatures);
    }
    saveForBackward(savedInput, input);
    return output;
  }

  private boolean parallel(int n) {
    return Parallel.worthSplitting((long) n * inFeatures * outFeatures, Parallel.MIN_MACS, n);
  }

  /**
   * Parts each block of {@link #ROWS_PER_PASS} rows splits its output features into over the threads: 1 when
   * the row blocks alone give every thread one, else enough that they do (a batch of one image streams all the
   * weights from memory, so two threads each taking half the outputs take about half the time). Each output is
   * summed the same way however the work is split.
   */
  private int segments(int rowBlocks) {
    int threads = Parallel.threads();
    if (rowBlocks >= threads) {
      return 1;
    }
    return Math.max(1, Math.min((threads + rowBlocks - 1) / rowBlocks, outFeatures / SEGMENT_ALIGN));
  }

  /** Output features per alignment step of a segment's first feature (64 bytes of floats). */
  private static final int SEGMENT_ALIGN = 16;

  /** The first output feature of segment {@code s} of {@code segments}, a multiple of {@link #SEGMENT_ALIGN}. */
  private int segmentStart(int s, int segments) {
    return s == segments ? outFeatures : (int) ((long) outFeatures * s / segments) / SEGMENT_ALIGN * SEGMENT_ALIGN;
  }

  /** Rows that share one pass over the weights in {@link #forwardRows}. */
  private static final int ROWS_PER_PASS = 8;

  /** Input features per step of that pass: 64 columns of the weights, read from cache for every row. */
  private static final int FEATURES_PER_STEP = 64;

  /**
   * {@code y[r, o] = b[o] + sum_i x[r, i] * W[o, i]} for rows {@code [start, end)} and output features
   * {@code [from, to)}, summed in float in the order of {@code i}, starting from the bias (or 0); writes every
   * one of those elements. {@code w} holds the columns of {@code W}: the sum runs as one loop over the output
   * features per input feature. Up to {@link #ROWS_PER_PASS} rows take the columns
   * {@link #FEATURES_PER_STEP} at a time, so that the weights stream from memory once for those rows rather
   * than once per row (a 1000-class layer has 4 MB of them).
   */
  private void forwardRows(float[] x, float[][] w, float[] b, float[] y, int start, int end, int from, int to) {
    float[][] acc = Scratch.get().accumulators(ROWS_PER_PASS, outFeatures);
    for (int first = start; first < end; first += ROWS_PER_PASS) {
      int rows = Math.min(ROWS_PER_PASS, end - first);
      for (int k = 0; k < rows; k++) {
        if (b == null) {
          Arrays.fill(acc[k], from, to, 0f);
        } else {
          System.arraycopy(b, from, acc[k], from, to - from);
        }
      }
      for (int i0 = 0; i0 < inFeatures; i0 += FEATURES_PER_STEP) {
        int i1 = Math.min(inFeatures, i0 + FEATURES_PER_STEP);
        for (int k = 0; k < rows; k++) {
          int xo = (first + k) * inFeatures;
          int i = i0;
          for (; i + 4 <= i1; i += 4) {
            addScaled4(acc[k], x[xo + i], w[i], x[xo + i + 1], w[i + 1], x[xo + i + 2], w[i + 2], x[xo + i + 3],
                w[i + 3], from, to);
          }
          for (; i < i1; i++) {
            addScaled(acc[k], x[xo + i], w[i], from, to);
          }
        }
      }
      for (int k = 0; k < rows; k++) {
        System.arraycopy(acc[k], from, y, (first + k) * outFeatures + from, to - from);
      }
    }
  }

  /**
   * {@link #addScaled} for four columns in turn, each element's four products added in the same order as four
   * calls would (the same float result): four streams of weights in flight and one load and store of the
   * accumulator instead of four. A loop C2 vectorizes (one array stored, every other read at one offset).
   */
  private static void addScaled4(float[] acc, float a0, float[] c0, float a1, float[] c1, float a2, float[] c2,
      float a3, float[] c3, int from, int to) {
    for (int o = from; o < to; o++) {
      float s = acc[o];
      s += a0 * c0[o];
      s += a1 * c1[o];
      s += a2 * c2[o];
      s += a3 * c3[o];
      acc[o] = s;
    }
  }

  /** {@code acc[o] += a * column[o]} for {@code from <= o < to}: a loop C2 vectorizes. */
  private static void addScaled(float[] acc, float a, float[] column, int from, int to) {
    for (int o = from; o < to; o++) {
      acc[o] += a * column[o];
    }
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    Tensor input = savedInput.get();
    int n = input.dim(0);
    Tensor.checkShape("gradOutput", gradOutput, n, outFeatures);
    float[] x = input.data();
    float[] gy = gradOutput.data();
    float[] w = weight.data().data();
    float[] gw = weight.grad().data();
    Tensor gradInput = zeroedBuffer(GRAD_INPUT, n, inFeatures);
    float[] gx = gradInput.data();
    if (parallel(n)) {
      Parallel.forRange(n, (start, end) -> inputGradRows(gy, w, gx, start, end));
      Parallel.forRange(outFeatures, (start, end) -> weightGradRows(x, gy, gw, n, start, end));
    } else {
      inputGradRows(gy, w, gx, 0, n);
      weightGradRows(x, gy, gw, n, 0, outFeatures);
    }
    if (bias != null) {
      float[] gb = bias.grad().data();
      for (int r = 0; r < n; r++) {
        int go = r * outFeatures;
        for (int o = 0; o < outFeatures; o++) {
          gb[o] += gy[go + o];
        }
      }
    }
    return gradInput;
  }

  /** {@code gx[r] = sum_o gy[r, o] * W[o]} for rows {@code [start, end)}. */
  private void inputGradRows(float[] gy, float[] w, float[] gx, int start, int end) {
    for (int r = start; r < end; r++) {
      int gxo = r * inFeatures;
      int gyo = r * outFeatures;
      for (int o = 0; o < outFeatures; o++) {
        float g = gy[gyo + o];
        int wo = o * inFeatures;
        for (int i = 0; i < inFeatures; i++) {
          gx[gxo + i] += g * w[wo + i];
        }
      }
    }
  }

  /** {@code gW[o] += sum_r gy[r, o] * x[r]} for output rows {@code [start, end)}. */
  private void weightGradRows(float[] x, float[] gy, float[] gw, int n, int start, int end) {
    for (int r = 0; r < n; r++) {
      int xo = r * inFeatures;
      int gyo = r * outFeatures;
      for (int o = start; o < end; o++) {
        float g = gy[gyo + o];
        int wo = o * inFeatures;
        for (int i = 0; i < inFeatures; i++) {
          gw[wo + i] += g * x[xo + i];
        }
      }
    }
  }

  @Override
  public String toString() {
    return "Linear(in_features=" + inFeatures + ", out_features=" + outFeatures + ", bias=" + (bias != null) + ")";
  }
}
