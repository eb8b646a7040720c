package dev.kiln.loss;

import dev.kiln.annotation.Reduction;
import dev.kiln.nn.Module;
import dev.kiln.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The two training objectives: plain cross-entropy and R-Drop. Each {@link Objective#step} puts the model
 * in training mode if it is not, runs one forward pass, computes the loss and runs one backward pass,
 * which accumulates the parameter gradients (it does not zero them or update the parameters).
 */
public final class Objectives {
  private Objectives() {}

  /**
   * The objective {@code model} declares ({@link DeclaredObjective}: a generated {@code @Model} network), or
   * cross-entropy without label smoothing for any other module.
   */
  public static Objective forModel(Module model) {
    Objects.requireNonNull(model, "model");
    return model instanceof DeclaredObjective declared ? declared.objective() : crossEntropy();
  }

  /** Cross-entropy without label smoothing. */
  public static Objective crossEntropy() {
    return crossEntropy(0.0);
  }

  /**
   * Cross-entropy (see {@link CrossEntropy}) of the model's logits {@code [N, C]}.
   *
   * @param labelSmoothing in {@code [0, 1]}
   */
  public static Objective crossEntropy(double labelSmoothing) {
    if (!(labelSmoothing >= 0.0 && labelSmoothing <= 1.0)) {
      throw new IllegalArgumentException("labelSmoothing: expected a value in [0, 1] but got " + labelSmoothing);
    }
    return new CrossEntropyObjective(labelSmoothing);
  }

  /**
   * R-Drop (see {@link RDropLoss}): the batch {@code x [N, ...]} is duplicated into {@code [x; x]}
   * ({@code [2N, ...]}), one training-mode forward pass gives logits {@code [2N, C]} whose halves z1, z2
   * saw independent dropout masks, and one backward pass propagates {@code [grad1; grad2]}. The step
   * result carries the loss and z1.
   *
   * @param alpha the weight of the KL term, {@code >= 0}; {@code 0} is allowed
   */
  public static Objective rDrop(double alpha, Reduction klReduction) {
    if (!(alpha >= 0.0 && alpha < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException("alpha: expected a finite value >= 0 but got " + alpha);
    }
    return new RDropObjective(alpha, Objects.requireNonNull(klReduction, "klReduction"));
  }

  private record CrossEntropyObjective(double labelSmoothing) implements Objective {
    @Override
    public StepResult step(Module model, Tensor input, int[] targets) {
      requireBatch(input, targets);
      trainingMode(model);
      Tensor logits = model.forward(input);
      requireLogits(logits, input.dim(0));
      CrossEntropy.Result result = CrossEntropy.compute(logits, targets, labelSmoothing);
      model.backwardParameters(result.grad());
      return new StepResult(result.loss(), logits);
    }
  }

  /**
   * R-Drop. The duplicated batch is built in an array kept from the previous step of the same size (taken
   * out of {@link #doubled} for the step, so concurrent steps on different models never share one).
   */
  private static final class RDropObjective implements Objective {
    private final double alpha;
    private final Reduction klReduction;
    private final AtomicReference<float[]> doubled = new AtomicReference<>();

    RDropObjective(double alpha, Reduction klReduction) {
      this.alpha = alpha;
      this.klReduction = klReduction;
    }

    @Override
    public StepResult step(Module model, Tensor input, int[] targets) {
      requireBatch(input, targets);
      trainingMode(model);
      int n = input.dim(0);
      float[] data = doubled.getAndSet(null);
      if (data == null || data.length != 2 * input.size()) {
        data = new float[2 * input.size()];
      }
      System.arraycopy(input.data(), 0, data, 0, input.size());
      System.arraycopy(input.data(), 0, data, input.size(), input.size());
      int[] shape = input.shape();
      shape[0] = 2 * n;
      try {
        // The model may keep the doubled batch for backward: the array goes back only after it.
        Tensor logits = model.forward(Tensor.of(data, shape));
        requireLogits(logits, 2 * n);
        int c = logits.dim(1);
        float[] z = logits.data();
        Tensor z1 = Tensor.of(Arrays.copyOfRange(z, 0, n * c), n, c);
        Tensor z2 = Tensor.of(Arrays.copyOfRange(z, n * c, 2 * n * c), n, c);
        RDropLoss.Result result = RDropLoss.compute(z1, z2, targets, alpha, klReduction);
        model.backwardParameters(concat(result.grad1(), result.grad2()));
        return new StepResult(result.loss(), z1);
      } finally {
        doubled.set(data);
      }
    }

    @Override
    public String toString() {
      return "RDropObjective[alpha=" + alpha + ", klReduction=" + klReduction + "]";
    }
  }

  private static void requireBatch(Tensor input, int[] targets) {
    Objects.requireNonNull(input, "input");
    Objects.requireNonNull(targets, "targets");
    if (input.rank() == 0 || input.dim(0) == 0) {
      throw new IllegalArgumentException(
          "input: expected a non-empty batch [N, ...] but got shape " + Tensor.shapeString(input.shape()));
    }
    if (targets.length != input.dim(0)) {
      throw new IllegalArgumentException("targets: expected " + input.dim(0) + " targets (one per row of input "
          + Tensor.shapeString(input.shape()) + ") but got " + targets.length);
    }
  }

  private static void requireLogits(Tensor logits, int rows) {
    if (logits.rank() != 2 || logits.dim(0) != rows) {
      throw new IllegalArgumentException("model output: expected logits [" + rows + ", C] but got shape "
          + Tensor.shapeString(logits.shape()));
    }
  }

  private static void trainingMode(Module model) {
    if (!model.isTraining()) {
      model.train(true);
    }
  }

  /** {@code a} and {@code b} stacked along dimension 0; the other dimensions must agree. */
  private static Tensor concat(Tensor a, Tensor b) {
    int[] shape = a.shape();
    float[] data = Arrays.copyOf(a.data(), a.size() + b.size());
    System.arraycopy(b.data(), 0, data, a.size(), b.size());
    shape[0] += b.dim(0);
    return Tensor.of(data, shape);
  }
}
