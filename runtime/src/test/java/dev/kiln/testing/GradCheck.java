package dev.kiln.testing;

import dev.kiln.nn.Module;
import dev.kiln.nn.Parameter;
import dev.kiln.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import java.util.function.ToDoubleFunction;

/**
 * Finite-difference check of a {@link Module}'s backward: the loss is a fixed random projection
 * {@code L = sum(r * forward(x))} accumulated in double, so {@code backward(r)} must return {@code dL/dx} and
 * accumulate {@code dL/dp} for every parameter. Every input and parameter element is checked with a central
 * difference {@code (L(v + h) - L(v - h)) / (2h)}, using the step actually representable in float. Layers
 * compute in float, so the default step ({@code 1e-2}) and tolerance ({@code |a - n| <= 2e-4 + 2e-3 * max(|a|,
 * |n|)}) are sized for float round-off; keep inputs away from kinks (ReLU at 0, max-pool ties).
 *
 * <pre>{@code
 * int checked = GradCheck.of(module).check(input);   // throws AssertionError listing mismatches
 * }</pre>
 */
public final class GradCheck {
  private final Module module;
  private double step = 1e-2;
  private double rtol = 2e-3;
  private double atol = 2e-4;
  private long seed = 1;
  private Runnable beforeForward = () -> {};

  private GradCheck(Module module) {
    this.module = module;
  }

  /** A check of {@code module} in its current training/eval mode. */
  public static GradCheck of(Module module) {
    return new GradCheck(module);
  }

  /** The finite-difference step {@code h}. */
  public GradCheck step(double h) {
    this.step = h;
    return this;
  }

  /** Passes when {@code |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|)}. */
  public GradCheck tolerance(double rtol, double atol) {
    this.rtol = rtol;
    this.atol = atol;
    return this;
  }

  /** The seed of the projection {@code r}. */
  public GradCheck seed(long s) {
    this.seed = s;
    return this;
  }

  /** Runs before every forward, e.g. to reset a dropout layer's seed so every pass uses one mask. */
  public GradCheck beforeForward(Runnable hook) {
    this.beforeForward = hook;
    return this;
  }

  /**
   * Checks the input gradient and every parameter gradient at {@code input} (not modified).
   *
   * @return the number of derivatives compared
   * @throws AssertionError listing the first mismatches
   */
  public int check(Tensor input) {
    Tensor x = input.copy();
    beforeForward.run();
    Tensor y = module.forward(x);
    SplittableRandom random = new SplittableRandom(seed);
    float[] r = new float[y.size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = (float) (random.nextDouble() * 2 - 1);
    }
    Tensor projection = Tensor.of(r, y.shape());
    module.zeroGrad();
    Tensor gx = module.backward(projection.copy());
    if (!gx.hasShape(x.shape())) {
      throw new AssertionError("input gradient has shape " + Tensor.shapeString(gx.shape()) + " but input has "
          + Tensor.shapeString(x.shape()));
    }
    Map<String, float[]> analytic = new LinkedHashMap<>();
    analytic.put("input", gx.data().clone());
    Map<String, float[]> values = new LinkedHashMap<>();
    Map<String, Runnable> written = new LinkedHashMap<>();
    values.put("input", x.data());
    written.put("input", () -> {});
    for (Map.Entry<String, Parameter> e : module.namedParameters().entrySet()) {
      analytic.put(e.getKey(), e.getValue().grad().data().clone());
      values.put(e.getKey(), e.getValue().data().data());
      written.put(e.getKey(), e.getValue()::markChanged);
    }
    List<String> failures = new ArrayList<>();
    int compared = 0;
    for (Map.Entry<String, float[]> e : values.entrySet()) {
      float[] v = e.getValue();
      float[] a = analytic.get(e.getKey());
      Runnable changed = written.get(e.getKey());
      for (int i = 0; i < v.length; i++) {
        double numeric = centralDifference(v, i, step, changed, () -> loss(x, r));
        double diff = Math.abs(a[i] - numeric);
        if (!(diff <= atol + rtol * Math.max(Math.abs(a[i]), Math.abs(numeric)))) {
          failures.add(e.getKey() + "[" + i + "]: analytic " + a[i] + " numeric " + numeric);
        }
        compared++;
      }
    }
    if (!failures.isEmpty()) {
      throw new AssertionError(module + ": " + failures.size() + " of " + compared + " derivatives differ: "
          + failures.subList(0, Math.min(10, failures.size())));
    }
    return compared;
  }

  /**
   * Central differences of {@code f} with respect to every element of {@code x} (restored afterwards), step
   * {@code h}.
   */
  public static double[] centralDifferences(float[] x, double h, ToDoubleFunction<float[]> f) {
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = centralDifference(x, i, h, () -> {}, () -> f.applyAsDouble(x));
    }
    return out;
  }

  /**
   * {@code (L(v + h) - L(v - h)) / (step)} for element {@code i} of {@code v} (restored afterwards), with the
   * step actually representable in float, so the rounding of {@code v + h} does not bias the quotient;
   * {@code changed} runs after each write of {@code v}.
   */
  private static double centralDifference(float[] v, int i, double h, Runnable changed, DoubleSupplier loss) {
    float original = v[i];
    float plus = (float) (original + h);
    float minus = (float) (original - h);
    v[i] = plus;
    changed.run();
    double lossPlus = loss.getAsDouble();
    v[i] = minus;
    changed.run();
    double lossMinus = loss.getAsDouble();
    v[i] = original;
    changed.run();
    return (lossPlus - lossMinus) / ((double) plus - (double) minus);
  }

  private double loss(Tensor x, float[] r) {
    beforeForward.run();
    float[] y = module.forward(x).data();
    double sum = 0;
    for (int i = 0; i < y.length; i++) {
      sum += (double) r[i] * y[i];
    }
    return sum;
  }
}
