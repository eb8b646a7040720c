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
    if (parallel(n)) {
      Parallel.forRange(n, (start, end) -> forwardRows(x, w, b, y, start, end));
    } else {
      forwardRows(x, w, b, y, 0, n);
    }
    saveForBackward(savedInput, input);
    return output;
  }

  private boolean parallel(int n) {
    return Parallel.worthSplitting((long) n * inFeatures * outFeatures, Parallel.MIN_MACS, n);
  }

  /**
   * {@code y[r, o] = b[o] + sum_i x[r, i] * W[o, i]} for rows {@code [start, end)}, summed in float in the
   * order of {@code i}, starting from the bias (or 0); writes every element of those rows. {@code w} holds
   * the columns of {@code W}: the sum runs as one loop over the output features per input feature.
   */
  private void forwardRows(float[] x, float[][] w, float[] b, float[] y, int start, int end) {
    float[] acc = Scratch.get().accumulators(1, outFeatures)[0];
    for (int r = start; r < end; r++) {
      if (b == null) {
        Arrays.fill(acc, 0, outFeatures, 0f);
      } else {
        System.arraycopy(b, 0, acc, 0, outFeatures);
      }
      int xo = r * inFeatures;
      for (int i = 0; i < inFeatures; i++) {
        addScaled(acc, x[xo + i], w[i], outFeatures);
      }
      System.arraycopy(acc, 0, y, r * outFeatures, outFeatures);
    }
  }

  /** {@code acc[o] += a * column[o]} for {@code o < n}: a loop C2 vectorizes. */
  private static void addScaled(float[] acc, float a, float[] column, int n) {
    for (int o = 0; o < n; o++) {
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
