package dev.kiln.nn;

import static com.google.common.truth.Truth.assertThat;

import dev.kiln.tensor.Tensor;
import dev.kiln.testing.GradCheck;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Finite-difference checks of every layer's backward (input and parameter gradients). */
class LayersGradCheckTest {

  private static Tensor normal(long seed, double scale, double shift, int... shape) {
    SplittableRandom r = new SplittableRandom(seed);
    Tensor t = Tensor.zeros(shape);
    float[] d = t.data();
    for (int i = 0; i < d.length; i++) {
      // sum of uniforms: smooth enough for a check, no extreme outliers
      d[i] = (float) (shift + scale * (r.nextDouble() + r.nextDouble() + r.nextDouble() - 1.5));
    }
    return t;
  }

  /** Distinct values at least 0.1 apart in random order, so max-pool windows have no near-ties. */
  private static Tensor distinct(long seed, int... shape) {
    Tensor t = Tensor.zeros(shape);
    float[] d = t.data();
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < d.length; i++) {
      d[i] = i;
    }
    for (int i = d.length - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      float v = d[i];
      d[i] = d[j];
      d[j] = v;
    }
    for (int i = 0; i < d.length; i++) {
      d[i] = (d[i] - d.length / 2f) * 0.1f;
    }
    return t;
  }

  private static int params(Module m) {
    return m.namedParameters().values().stream().mapToInt(p -> p.data().size()).sum();
  }

  private static void check(Module m, Tensor x) {
    int compared = GradCheck.of(m).check(x);
    assertThat(compared).isEqualTo(x.size() + params(m));
  }

  @Test
  void linear() {
    check(new Linear(6, 4, true, 1), normal(1, 1, 0, 3, 6));
    check(new Linear(5, 3, false, 2), normal(2, 1, 0, 2, 5));
    check(new Linear(1, 7, true, 3), normal(3, 1, 0, 4, 1));
  }

  @Test
  void reluAwayFromZero() {
    Tensor x = normal(4, 2, 0, 2, 3, 4, 5);
    for (int i = 0; i < x.size(); i++) {
      float v = x.data()[i];
      if (Math.abs(v) < 0.1f) {
        x.data()[i] = v < 0 ? v - 0.1f : v + 0.1f;
      }
    }
    check(new ReLU(), x);
    check(new ReLU(), normal(5, 2, 0.5, 3, 7).reshape(3, 7));
  }

  @Test
  void flattenAndGlobalAvgPool() {
    check(new Flatten(), normal(6, 1, 0, 2, 3, 2, 2));
    check(new GlobalAvgPool2d(), normal(7, 1, 0, 2, 3, 4, 5));
    check(new GlobalAvgPool2d(), normal(8, 1, 0, 1, 2, 1, 3));
  }

  /** The pool configurations both pools are checked with: kH, kW, sH, sW, pH, pW, then the input's N, C, H, W. */
  private static final int[][] POOL_CONFIGS = {
      {2, 2, 2, 2, 0, 0, 2, 2, 6, 6},
      {3, 3, 2, 2, 1, 1, 1, 2, 7, 8},
      {3, 3, 1, 1, 1, 1, 1, 1, 5, 6},
      {2, 3, 1, 2, 1, 1, 2, 1, 5, 7},
  };

  private interface PoolCheck {
    void check(int index, int[] config);
  }

  /** Runs {@code check} on each of {@link #POOL_CONFIGS} and then on {@code last}, with its index; how many ran. */
  private static int forEachPoolConfig(int[] last, PoolCheck check) {
    List<int[]> configs = new ArrayList<>(List.of(POOL_CONFIGS));
    configs.add(last);
    for (int i = 0; i < configs.size(); i++) {
      check.check(i, configs.get(i));
    }
    return configs.size();
  }

  @Test
  void maxPoolWithoutNearTies() {
    int count = forEachPoolConfig(new int[] {3, 1, 2, 1, 1, 0, 1, 3, 6, 3}, (i, c) ->
        check(new MaxPool2d(c[0], c[1], c[2], c[3], c[4], c[5]), distinct(i, c[6], c[7], c[8], c[9])));
    assertThat(count).isEqualTo(5);
  }

  @Test
  void avgPool() {
    int count = forEachPoolConfig(new int[] {4, 2, 3, 1, 2, 0, 1, 2, 9, 4}, (i, c) ->
        check(new AvgPool2d(c[0], c[1], c[2], c[3], c[4], c[5]), normal(10 + i, 1, 0, c[6], c[7], c[8], c[9])));
    assertThat(count).isEqualTo(5);
  }

  private static BatchNorm2d batchNorm(int c, long seed) {
    BatchNorm2d bn = new BatchNorm2d(c);
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < c; i++) {
      bn.weight().data().data()[i] = (float) (0.5 + r.nextDouble());
      bn.bias().data().data()[i] = (float) (r.nextDouble() - 0.5);
      bn.runningMean().data()[i] = (float) (r.nextDouble() - 0.5);
      bn.runningVar().data()[i] = (float) (0.5 + r.nextDouble());
    }
    return bn;
  }

  @Test
  void batchNormTraining() {
    check(batchNorm(2, 20), normal(20, 2, 0.7, 3, 2, 3, 4));
    check(batchNorm(3, 21), normal(21, 1, -0.3, 2, 3, 1, 5));
    check(batchNorm(2, 22), normal(22, 1, 0, 1, 2, 2, 2));
  }

  @Test
  void batchNormEval() {
    BatchNorm2d bn = batchNorm(3, 23);
    bn.eval();
    check(bn, normal(23, 2, 0.5, 2, 3, 3, 2));
  }

  @Test
  void dropoutWithOneMask() {
    Dropout d = new Dropout(0.4, 99);
    int compared = GradCheck.of(d).beforeForward(() -> d.setSeed(5)).check(normal(24, 1, 0, 4, 3, 2, 2));
    assertThat(compared).isEqualTo(48);
    check(new Dropout(0.0, 1), normal(25, 1, 0, 2, 5));
  }
}
