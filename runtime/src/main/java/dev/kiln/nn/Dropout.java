package dev.kiln.nn;

import dev.kiln.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Inverted dropout, {@code torch.nn.Dropout(p)}: in training mode every element is zeroed independently with
 * probability {@code p} and the kept ones are scaled by {@code 1 / (1 - p)}; in eval mode (and for
 * {@code p == 0}) the layer is the identity and returns its input.
 *
 * <p>Randomness is deterministic: the mask comes from a {@link SplittableRandom} seeded with the constructor's
 * seed (or the last {@link #setSeed}); each training-mode forward consumes one {@code nextDouble()} per element
 * in row-major order, and an element is dropped when its draw is below {@code p}. So two layers with the same
 * seed give the same masks for the same sequence of input sizes, and two halves of one batch get independent
 * masks. Training mode remembers the mask as one bit per element; backward multiplies by the same mask and
 * scale. Training-mode forward is not thread-safe; eval-mode forward keeps no state.
 *
 * <p>The probability starts as the constructor's (in a generated network, the {@code @Dropout(p)} value) and
 * can be changed with {@link #setP}, as PyTorch's {@code module.p = ...}, for example to sweep it without
 * declaring one network per value.
 */
public final class Dropout extends AbstractModule {
  /** Training buffers ({@link #buffer}): the output and the input gradient. */
  private static final int OUTPUT = 0;
  private static final int GRAD_INPUT = 1;

  private double p;
  private float scale;
  private SplittableRandom random;
  private final SavedForBackward<int[]> savedShape = savedForBackward();
  private final SavedForBackward<long[]> savedKeep = savedForBackward();
  private float savedScale;

  /**
   * @param p the drop probability, in {@code [0, 1)}
   * @param seed the seed of the mask stream
   */
  public Dropout(double p, long seed) {
    setP(p);
    this.random = new SplittableRandom(seed);
  }

  /** The drop probability. */
  public double p() {
    return p;
  }

  /**
   * Sets the drop probability of the following training-mode forward passes. The mask stream is unchanged,
   * and a backward pass uses the mask and scale of its own forward pass.
   *
   * @param p the drop probability, in {@code [0, 1)}
   * @throws IllegalArgumentException if {@code p} is outside {@code [0, 1)} (the probability is then unchanged)
   */
  public void setP(double p) {
    if (!(p >= 0.0 && p < 1.0)) {
      throw new IllegalArgumentException("dropout probability must be in [0, 1) but was " + p);
    }
    this.p = p;
    this.scale = 1f / (float) (1.0 - p);
  }

  /** Restarts the mask stream from {@code seed}, as if the layer had just been constructed with it. */
  public void setSeed(long seed) {
    random = new SplittableRandom(seed);
  }

  /** The input shape itself; throws for a tensor without a batch dimension. */
  public int[] outputShape(int... inputShape) {
    return LayerShapes.requireBatch("input", inputShape);
  }

  @Override
  public Tensor forward(Tensor input) {
    int[] shape = outputShape(input.shape());
    if (!isTraining()) {
      return input;
    }
    savedShape.set(shape);
    if (p == 0.0) {
      savedKeep.clear();
      return input;
    }
    float[] x = input.data();
    Tensor output = buffer(OUTPUT, shape);
    float[] y = output.data();
    int words = (x.length + 63) >>> 6;
    long[] old = savedKeep.orNull();
    long[] keep = reusesBuffers() && old != null && old.length == words ? old : new long[words];
    Arrays.fill(keep, 0L);
    SplittableRandom r = random;
    double p = this.p;
    float scale = this.scale;
    for (int i = 0; i < x.length; i++) {
      if (r.nextDouble() >= p) {
        keep[i >>> 6] |= 1L << i;
        y[i] = x[i] * scale;
      } else {
        y[i] = 0f;
      }
    }
    savedKeep.set(keep);
    savedScale = scale;
    return output;
  }

  @Override
  public Tensor backward(Tensor gradOutput) {
    int[] shape = savedShape.get();
    Tensor.checkShape("gradOutput", gradOutput, shape);
    long[] keep = savedKeep.orNull();
    if (keep == null) {
      return gradOutput;
    }
    float[] gy = gradOutput.data();
    Tensor gradInput = buffer(GRAD_INPUT, shape);
    float[] gx = gradInput.data();
    float scale = savedScale;
    for (int i = 0; i < gy.length; i++) {
      gx[i] = (keep[i >>> 6] & (1L << i)) != 0 ? gy[i] * scale : 0f;
    }
    return gradInput;
  }

  @Override
  public String toString() {
    return "Dropout(p=" + p + ")";
  }
}
