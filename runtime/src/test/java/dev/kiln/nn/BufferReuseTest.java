package dev.kiln.nn;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * {@link AbstractModule#reuseBuffers(boolean)}: the same tensors come back while the shape stays, new ones when
 * it changes, eval mode never shares them, the flag reaches every child, and every runtime layer computes
 * exactly what a fresh-allocating layer computes although its buffers hold the previous call's values.
 */
class BufferReuseTest {

  private static Tensor random(SplittableRandom r, int... shape) {
    return TestTensors.uniform(r, 2, shape);
  }

  @Test
  void sameShapeReusesNewShapeReallocatesEvalNeverShares() {
    BatchNorm2d bn = new BatchNorm2d(3);
    SplittableRandom r = new SplittableRandom(1);
    Tensor x = random(r, 4, 3, 5, 5);
    // off by default: every call allocates
    assertThat(bn.reusesBuffers()).isFalse();
    assertThat(bn.forward(x)).isNotSameInstanceAs(bn.forward(x));

    bn.reuseBuffers(true);
    Tensor y1 = bn.forward(x);
    Tensor g1 = bn.backward(random(r, 4, 3, 5, 5));
    Tensor y2 = bn.forward(random(r, 4, 3, 5, 5));
    Tensor g2 = bn.backward(random(r, 4, 3, 5, 5));
    assertThat(y2).isSameInstanceAs(y1);
    assertThat(g2).isSameInstanceAs(g1);
    assertThat(y2).isNotSameInstanceAs(g2);

    Tensor y3 = bn.forward(random(r, 2, 3, 5, 5));
    assertThat(y3).isNotSameInstanceAs(y1);
    assertThat(y3.shape()).isEqualTo(new int[] {2, 3, 5, 5});
    assertThat(bn.forward(random(r, 2, 3, 5, 5))).isSameInstanceAs(y3);

    bn.eval();
    Tensor e1 = bn.forward(x);
    Tensor e2 = bn.forward(x);
    assertThat(e1).isNotSameInstanceAs(e2);
    assertThat(e1).isNotSameInstanceAs(y3);
    assertThat(e1.data()).isEqualTo(e2.data());

    bn.train(true);
    assertThat(bn.forward(random(r, 2, 3, 5, 5))).isSameInstanceAs(y3);
    bn.reuseBuffers(false);
    assertThat(bn.forward(random(r, 2, 3, 5, 5))).isNotSameInstanceAs(y3);
  }

  /** A container registering one child before and one after reuse is switched on. */
  private static final class Container extends AbstractModule {
    final Linear first = registerModule("first", new Linear(3, 2, true, 1));
    Linear second;

    void addSecond() {
      second = registerModule("second", new Linear(2, 2, true, 2));
    }

    @Override
    public Tensor forward(Tensor input) {
      return second.forward(first.forward(input));
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
      return first.backward(second.backward(gradOutput));
    }
  }

  @Test
  void flagReachesChildrenRegisteredBeforeAndAfter() {
    Container c = new Container();
    c.reuseBuffers(true);
    c.addSecond();
    assertThat(c.first.reusesBuffers()).isTrue();
    assertThat(c.second.reusesBuffers()).isTrue();
    Tensor x = Tensor.zeros(4, 3);
    assertThat(c.forward(x)).isSameInstanceAs(c.forward(x));
    c.reuseBuffers(false);
    assertThat(c.first.reusesBuffers()).isFalse();
    assertThat(c.second.reusesBuffers()).isFalse();
    assertThat(c.forward(x)).isNotSameInstanceAs(c.forward(x));
  }

  /**
   * Three training steps (forward, backward) per layer with changing inputs and one batch-size change: a
   * reusing layer's outputs, input gradients, parameter gradients and state equal a fresh layer's bitwise.
   */
  @Test
  void everyRuntimeLayerComputesWhatAFreshLayerComputes() {
    List<Supplier<AbstractModule>> factories = List.of(
        () -> new Linear(6, 5, true, 3),
        () -> new Linear(6, 5, false, 3),
        () -> new BatchNorm2d(4),
        () -> new ReLU(),
        () -> new MaxPool2d(3, 3, 2, 2, 1, 1),
        () -> new AvgPool2d(3, 3, 2, 2, 1, 1),
        () -> new GlobalAvgPool2d(),
        () -> new Flatten(),
        () -> new Dropout(0.4, 11));
    List<int[]> sampleShapes = List.of(new int[] {6}, new int[] {6}, new int[] {4, 5, 6}, new int[] {4, 5, 6},
        new int[] {4, 7, 6}, new int[] {4, 7, 6}, new int[] {4, 5, 6}, new int[] {4, 5, 6}, new int[] {4, 5, 6});
    int[] batches = {3, 3, 2, 3};
    int compared = 0;
    for (int threads : new int[] {1, 2}) {
      int before = Parallel.threads();
      Parallel.setThreads(threads);
      try {
        for (int f = 0; f < factories.size(); f++) {
          AbstractModule reusing = factories.get(f).get();
          reusing.reuseBuffers(true);
          AbstractModule fresh = factories.get(f).get();
          SplittableRandom r = new SplittableRandom(17 + f);
          for (int step = 0; step < batches.length; step++) {
            int[] shape = prepend(batches[step], sampleShapes.get(f));
            Tensor x = random(r, shape);
            Tensor a = reusing.forward(x);
            Tensor b = fresh.forward(x);
            Tensor gy = random(r, a.shape());
            List<float[]> ra = results(reusing, a, reusing.backward(gy));
            List<float[]> rb = results(fresh, b, fresh.backward(gy));
            assertThat(ra).hasSize(rb.size());
            for (int i = 0; i < ra.size(); i++) {
              assertWithMessage("layer %s, step %s, result %s, %s threads", f, step, i, threads)
                  .that(ra.get(i)).isEqualTo(rb.get(i));
              compared++;
            }
          }
        }
      } finally {
        Parallel.setThreads(before);
      }
    }
    // per step: y, gx, then gradients and state: Linear 2+2+2, Linear without bias 2+1+1, BN 2+2+5,
    // six parameterless layers 2 each; 4 steps, 2 thread counts
    assertThat(compared).isEqualTo((6 + 4 + 9 + 6 * 2) * 4 * 2);
  }

  private static int[] prepend(int n, int[] sample) {
    int[] s = new int[sample.length + 1];
    s[0] = n;
    System.arraycopy(sample, 0, s, 1, sample.length);
    return s;
  }

  private static List<float[]> results(Module m, Tensor y, Tensor gx) {
    List<float[]> out = new ArrayList<>();
    out.add(y.data().clone());
    out.add(gx.data().clone());
    for (Parameter p : m.namedParameters().values()) {
      out.add(p.grad().data().clone());
    }
    for (Map.Entry<String, Tensor> e : m.stateDict().entrySet()) {
      out.add(e.getValue().data().clone());
    }
    return out;
  }

  @Test
  void reluGradientEqualsTheComparisonOnEveryKindOfFloat() {
    float[] special = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, 1f, -1f, Float.MAX_VALUE,
        -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
        Float.intBitsToFloat(0x7f800001), Float.intBitsToFloat(0xffc00000), Float.intBitsToFloat(0x7fffffff)};
    List<Float> ys = new ArrayList<>();
    for (float f : special) {
      ys.add(f);
    }
    for (long bits = Integer.MIN_VALUE; bits <= Integer.MAX_VALUE; bits += 65_521) {
      ys.add(Float.intBitsToFloat((int) bits));
    }
    float[] gs = {1.5f, -2.25f, -0f, Float.NaN};
    int n = ys.size() * gs.length;
    float[] y = new float[n];
    float[] g = new float[n];
    for (int i = 0; i < ys.size(); i++) {
      for (int j = 0; j < gs.length; j++) {
        y[i * gs.length + j] = ys.get(i);
        g[i * gs.length + j] = gs[j];
      }
    }
    float[] out = new float[n];
    Elementwise.reluGradient(y, g, out, 0, n);
    for (int i = 0; i < n; i++) {
      float expected = y[i] > 0f ? g[i] : 0f;
      assertWithMessage("y bits %s, g %s", Integer.toHexString(Float.floatToRawIntBits(y[i])), g[i])
          .that(Float.floatToRawIntBits(out[i])).isEqualTo(Float.floatToRawIntBits(expected));
    }
    assertThat(n).isEqualTo((special.length + 65_552) * gs.length);
  }
}
