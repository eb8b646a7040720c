package dev.kiln.optim;

import java.util.Objects;

/**
 * The learning-rate schedules, each equal to the PyTorch scheduler of the same kind stepped once after
 * every optimizer step: {@code lr(k)} is the rate PyTorch's optimizer uses for its {@code k}-th update
 * (0-based). A negative step is an {@link IllegalArgumentException}.
 */
public final class LrSchedules {
  private LrSchedules() {}

  /** The same rate at every step. */
  public static LrSchedule constant(double lr) {
    requireRate("lr", lr);
    return new Constant(lr);
  }

  /**
   * {@code StepLR}: {@code lr * gamma^floor(step / stepSize)}.
   *
   * @param stepSize steps between decays, {@code >= 1}
   */
  public static LrSchedule step(double lr, long stepSize, double gamma) {
    requireRate("lr", lr);
    requirePositive("stepSize", stepSize);
    requireRate("gamma", gamma);
    return new Step(lr, stepSize, gamma);
  }

  /**
   * {@code CosineAnnealingLR} with {@code T_max = totalSteps} and {@code eta_min = minLr}:
   * {@code minLr + (lr - minLr) * (1 + cos(pi * step / totalSteps)) / 2}. From {@code totalSteps} on it
   * stays at {@code minLr} (PyTorch's would rise again).
   */
  public static LrSchedule cosine(double lr, long totalSteps, double minLr) {
    requireRate("lr", lr);
    requirePositive("totalSteps", totalSteps);
    requireRate("minLr", minLr);
    return new Cosine(lr, totalSteps, minLr);
  }

  /** {@link #oneCycle(double, long, double, double, double)} with PyTorch's defaults 0.3, 25 and 1e4. */
  public static LrSchedule oneCycle(double maxLr, long totalSteps) {
    return oneCycle(maxLr, totalSteps, 0.3, 25.0, 1e4);
  }

  /**
   * {@code OneCycleLR} with {@code anneal_strategy='cos'} and {@code three_phase=False}: cosine from
   * {@code maxLr / divFactor} up to {@code maxLr} until step {@code pctStart * totalSteps - 1}, then cosine
   * down to {@code maxLr / divFactor / finalDivFactor} at step {@code totalSteps - 1} (PyTorch's phase
   * boundaries). Momentum cycling is not part of a learning-rate schedule. From {@code totalSteps} on it
   * stays at the final rate (PyTorch raises an error). Where PyTorch would divide by zero
   * ({@code pctStart * totalSteps == 1}) the first phase ends at its peak, {@code maxLr}.
   *
   * @param pctStart the fraction of the run spent increasing, in {@code [0, 1]}
   * @param divFactor the initial rate is {@code maxLr / divFactor}, {@code > 0}
   * @param finalDivFactor the final rate is the initial rate over {@code finalDivFactor}, {@code > 0}
   */
  public static LrSchedule oneCycle(double maxLr, long totalSteps, double pctStart, double divFactor,
      double finalDivFactor) {
    requireRate("maxLr", maxLr);
    requirePositive("totalSteps", totalSteps);
    if (!(pctStart >= 0.0 && pctStart <= 1.0)) {
      throw new IllegalArgumentException("pctStart: expected a value in [0, 1] but got " + pctStart);
    }
    requireFactor("divFactor", divFactor);
    requireFactor("finalDivFactor", finalDivFactor);
    return new OneCycle(maxLr, totalSteps, pctStart, divFactor, finalDivFactor);
  }

  /**
   * A linear warmup handing off to {@code after}, like PyTorch's
   * {@code SequentialLR([LinearLR(start_factor, total_iters=warmupSteps), after], milestones=[warmupSteps])}:
   * for {@code step < warmupSteps} the rate is
   * {@code after.lr(0) * (startFactor + (1 - startFactor) * step / warmupSteps)}, then
   * {@code after.lr(step - warmupSteps)} (so {@code after} starts from its own step 0 and should be sized
   * for the remaining steps).
   *
   * @param warmupSteps {@code >= 0}; 0 is {@code after} itself
   * @param startFactor in {@code (0, 1]}, the fraction of the base rate used at step 0
   */
  public static LrSchedule linearWarmup(LrSchedule after, long warmupSteps, double startFactor) {
    Objects.requireNonNull(after, "after");
    if (warmupSteps < 0) {
      throw new IllegalArgumentException("warmupSteps: expected a value >= 0 but got " + warmupSteps);
    }
    if (!(startFactor > 0.0 && startFactor <= 1.0)) {
      throw new IllegalArgumentException("startFactor: expected a value in (0, 1] but got " + startFactor);
    }
    return new LinearWarmup(after, warmupSteps, startFactor);
  }

  private record Constant(double lr) implements LrSchedule {
    @Override
    public double lr(long step) {
      requireStep(step);
      return lr;
    }
  }

  private record Step(double lr, long stepSize, double gamma) implements LrSchedule {
    @Override
    public double lr(long step) {
      requireStep(step);
      return lr * Math.pow(gamma, step / stepSize);
    }
  }

  private record Cosine(double lr, long totalSteps, double minLr) implements LrSchedule {
    @Override
    public double lr(long step) {
      requireStep(step);
      if (step >= totalSteps) {
        return minLr;
      }
      return minLr + (lr - minLr) * (1.0 + Math.cos(Math.PI * step / totalSteps)) / 2.0;
    }
  }

  private record OneCycle(double maxLr, long totalSteps, double pctStart, double divFactor, double finalDivFactor)
      implements LrSchedule {
    @Override
    public double lr(long step) {
      requireStep(step);
      double initialLr = maxLr / divFactor;
      double minLr = initialLr / finalDivFactor;
      double warmupEnd = pctStart * totalSteps - 1.0;
      double end = totalSteps - 1.0;
      double s = Math.min(step, totalSteps - 1);
      if (s <= warmupEnd) {
        return annealCos(initialLr, maxLr, warmupEnd == 0 ? 1.0 : s / warmupEnd);
      }
      return annealCos(maxLr, minLr, (s - warmupEnd) / (end - warmupEnd));
    }

    private static double annealCos(double start, double end, double pct) {
      return end + (start - end) / 2.0 * (Math.cos(Math.PI * pct) + 1.0);
    }
  }

  private record LinearWarmup(LrSchedule after, long warmupSteps, double startFactor) implements LrSchedule {
    @Override
    public double lr(long step) {
      requireStep(step);
      if (step >= warmupSteps) {
        return after.lr(step - warmupSteps);
      }
      return after.lr(0) * (startFactor + (1.0 - startFactor) * step / warmupSteps);
    }
  }

  private static void requireStep(long step) {
    if (step < 0) {
      throw new IllegalArgumentException("step: expected a value >= 0 but got " + step);
    }
  }

  private static void requireRate(String what, double value) {
    if (!(value >= 0.0 && value < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException(what + ": expected a finite value >= 0 but got " + value);
    }
  }

  private static void requireFactor(String what, double value) {
    if (!(value > 0.0 && value < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException(what + ": expected a finite value > 0 but got " + value);
    }
  }

  private static void requirePositive(String what, long value) {
    if (value < 1) {
      throw new IllegalArgumentException(what + ": expected a value >= 1 but got " + value);
    }
  }
}
