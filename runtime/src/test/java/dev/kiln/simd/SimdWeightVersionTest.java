package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvEngine;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.ConvKernel;
import dev.kiln.nn.Fusion;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.ReferenceConv2d;
import dev.kiln.optim.AdamW;
import dev.kiln.optim.Optimizer;
import dev.kiln.optim.Sgd;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The vectorized engine's packed weights follow {@link Parameter#version()}: they are rebuilt after every
 * library write (optimizer steps, {@code loadStateDict}, fusion, {@code markChanged}) and reused, with no
 * look at the values, while no version moves. Every forward is compared with {@link ReferenceConv2d}
 * holding the same weights.
 */
class SimdWeightVersionTest {
  private static final ConvGeometry PLAIN =
      NaiveConvKernel.geometry(6, 20, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS);
  private static final ConvGeometry STRIDED =
      NaiveConvKernel.geometry(4, 12, 10, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, PaddingMode.ZEROS);
  private static final double TOLERANCE = 1e-4;
  /** A change of weights must move the output by more than this (relative), else a stale cache could hide. */
  private static final double MOVED = 1e-2;
  private final int savedThreads = Parallel.threads();

  @AfterEach
  void restoreThreads() {
    Parallel.setThreads(savedThreads);
  }

  private static ReferenceConv2d reference(ConvGeometry g, boolean bias, Activation activation) {
    return ReferenceConv2d.builder(g)
        .bias(bias)
        .activation(activation)
        .build();
  }

  /** A reference conv holding a copy of {@code kernel}'s current weights, in eval mode. */
  private static ReferenceConv2d referenceOf(ConvKernel kernel) {
    ReferenceConv2d ref = reference(kernel.geometry(), kernel.bias() != null, kernel.activation());
    ref.loadStateDict(copy(kernel.stateDict()));
    ref.eval();
    return ref;
  }

  private static Map<String, Tensor> copy(Map<String, Tensor> state) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    state.forEach((k, v) -> out.put(k, v.copy()));
    return out;
  }

  private static Tensor random(SplittableRandom r, int... shape) {
    return TestTensors.uniform(r, 1, shape);
  }

  private static void assertClose(String what, float[] actual, float[] expected) {
    assertWithMessage(what).that(SimdConvDifferentialTest.relativeError(actual, expected)).isAtMost(TOLERANCE);
  }

  private static void assertMoved(String what, float[] now, float[] before) {
    assertWithMessage(what + " moved").that(SimdConvDifferentialTest.relativeError(now, before)).isAtLeast(MOVED);
  }

  /** One sample through the engine directly. */
  private static float[] engineForward(ConvEngine engine, ConvEngine.Weights weights, ConvGeometry g, Tensor x) {
    float[] y = new float[g.outChannels() * g.outHeight() * g.outWidth()];
    engine.forward(weights, x.data(), 0, y, 0, 0, g.outChannels());
    return y;
  }

  /**
   * Eval forward of {@code kernel} on {@code x}, batch-level and per sample, against the reference with the
   * kernel's current weights; returns the batch output.
   */
  private static float[] checkEval(String what, ConvKernel kernel, Tensor x) {
    kernel.eval();
    float[] expected = referenceOf(kernel).forward(x).data();
    float[] y = kernel.forward(x).data();
    assertClose(what + ": forward", y, expected);
    int n = x.dim(0);
    int inSize = x.size() / n;
    int outSize = y.length / n;
    float[] perSample = new float[y.length];
    for (int i = 0; i < n; i++) {
      kernel.forward(x.data(), i * inSize, perSample, i * outSize);
    }
    assertClose(what + ": per-sample forward", perSample, expected);
    return y;
  }

  @Test
  void engineRepacksOnlyWhenAVersionMoves() {
    NaiveConvKernel kernel = new NaiveConvKernel(PLAIN, true, Activation.NONE, 3);
    SimdConvEngine engine = (SimdConvEngine) new SimdConvEngineFactory().create(PLAIN, true, Activation.NONE);
    Parameter w = kernel.weight();
    Parameter b = kernel.bias();
    Tensor x = random(new SplittableRandom(1), 1, PLAIN.inChannels(), PLAIN.inHeight(), PLAIN.inWidth());

    ConvEngine.Weights forward0 = engine.forwardWeights(w, b);
    ConvEngine.Weights backward0 = engine.backwardInputWeights(w);
    assertThat(engine.packCount()).isEqualTo(2);
    for (int i = 0; i < 5; i++) {
      assertThat(engine.forwardWeights(w, b)).isSameInstanceAs(forward0);
      assertThat(engine.backwardInputWeights(w)).isSameInstanceAs(backward0);
    }
    assertThat(engine.packCount()).isEqualTo(2);
    float[] y0 = engineForward(engine, forward0, PLAIN, x);
    assertClose("initial", y0, referenceOf(kernel).forward(x).data());

    // A new bias: forward repacks; the input gradient does not use the bias and keeps its packing.
    b.data().data()[3] += 1f;
    b.markChanged();
    ConvEngine.Weights forward1 = engine.forwardWeights(w, b);
    assertThat(forward1).isNotSameInstanceAs(forward0);
    assertThat(engine.forwardWeights(w, b)).isSameInstanceAs(forward1);
    assertThat(engine.backwardInputWeights(w)).isSameInstanceAs(backward0);
    assertThat(engine.packCount()).isEqualTo(3);
    float[] y1 = engineForward(engine, forward1, PLAIN, x);
    assertClose("after a bias change", y1, referenceOf(kernel).forward(x).data());
    assertMoved("after a bias change", y1, y0);

    // New weights: both repack.
    float[] wd = w.data().data();
    for (int i = 0; i < wd.length; i += 7) {
      wd[i] = -wd[i];
    }
    w.markChanged();
    ConvEngine.Weights forward2 = engine.forwardWeights(w, b);
    ConvEngine.Weights backward2 = engine.backwardInputWeights(w);
    assertThat(forward2).isNotSameInstanceAs(forward1);
    assertThat(backward2).isNotSameInstanceAs(backward0);
    assertThat(engine.packCount()).isEqualTo(5);
    float[] y2 = engineForward(engine, forward2, PLAIN, x);
    assertClose("after a weight change", y2, referenceOf(kernel).forward(x).data());
    assertMoved("after a weight change", y2, y1);

    // Another parameter at the same version is not taken for the cached one.
    Parameter other = Parameter.of("weight", w.data().copy());
    other.markChanged();
    assertThat(other.version()).isEqualTo(w.version());
    assertThat(engine.forwardWeights(other, b)).isNotSameInstanceAs(forward2);
    assertThat(engine.backwardInputWeights(other)).isNotSameInstanceAs(backward2);
    assertThat(engine.packCount()).isEqualTo(7);
  }

  /**
   * The kernel and the reference trained side by side by the same optimizer: after every step the next
   * forward and the next input gradient (both from packed weights) must use the stepped weights.
   */
  @Test
  void kernelFollowsOptimizerSteps() {
    List<Function<Map<String, Parameter>, Optimizer>> optimizers = List.of(
        p -> Sgd.builder(p, 0.1).momentum(0.9).nesterov(true).weightDecay(1e-3).build(),
        p -> AdamW.builder(p, 0.05).weightDecay(1e-2).build());
    int steps = 0;
    for (Function<Map<String, Parameter>, Optimizer> make : optimizers) {
      for (int threads = 1; threads <= 2; threads++) {
        Parallel.setThreads(threads);
        SplittableRandom r = new SplittableRandom(40 + threads);
        NaiveConvKernel kernel = new NaiveConvKernel(STRIDED, true, Activation.RELU, 11);
        assertThat(kernel.engineName()).startsWith("simd-direct-");
        ReferenceConv2d ref = referenceOf(kernel);
        Optimizer kernelOptimizer = make.apply(kernel.namedParameters());
        Optimizer refOptimizer = make.apply(ref.namedParameters());
        Tensor probe = random(r, 3, STRIDED.inChannels(), STRIDED.inHeight(), STRIDED.inWidth());
        float[] before = checkEval("initial", kernel, probe);
        for (int step = 0; step < 3; step++) {
          String what = kernelOptimizer + " threads=" + threads + " step " + step;
          kernel.train(true);
          ref.train(true);
          Tensor x = random(r, 3, STRIDED.inChannels(), STRIDED.inHeight(), STRIDED.inWidth());
          Tensor gy = random(r, 3, STRIDED.outChannels(), STRIDED.outHeight(), STRIDED.outWidth());
          assertClose(what + ": training forward", kernel.forward(x).data(), ref.forward(x).data());
          kernel.zeroGrad();
          ref.zeroGrad();
          assertClose(what + ": input gradient", kernel.backward(gy).data(), ref.backward(gy).data());
          assertClose(what + ": weight gradient", kernel.weight().grad().data(), ref.weight().grad().data());
          kernelOptimizer.step();
          refOptimizer.step();
          steps++;
        }
        assertClose("weights after the steps", kernel.weight().data().data(), ref.weight().data().data());
        assertMoved("eval output after the steps", checkEval("after the steps", kernel, probe), before);
      }
    }
    assertThat(steps).isEqualTo(2 * 2 * 3);
  }

  @Test
  void kernelFollowsLoadStateDictFusionAndMarkChanged() {
    SplittableRandom r = new SplittableRandom(7);
    NaiveConvKernel kernel = new NaiveConvKernel(PLAIN, true, Activation.NONE, 5);
    Tensor x = random(r, 2, PLAIN.inChannels(), PLAIN.inHeight(), PLAIN.inWidth());
    float[] y0 = checkEval("initial", kernel, x);

    kernel.loadStateDict(copy(new NaiveConvKernel(PLAIN, true, Activation.NONE, 6).stateDict()));
    float[] y1 = checkEval("after loadStateDict", kernel, x);
    assertMoved("after loadStateDict", y1, y0);

    Fusion.foldInto(new NaiveConvKernel(PLAIN, false, Activation.NONE, 8), null, kernel);
    float[] y2 = checkEval("after Fusion.foldInto", kernel, x);
    assertMoved("after Fusion.foldInto", y2, y1);

    float[] w = kernel.weight().data().data();
    for (int i = 0; i < w.length; i++) {
      w[i] *= -0.5f;
    }
    kernel.weight().markChanged();
    float[] y3 = checkEval("after markChanged", kernel, x);
    assertMoved("after markChanged", y3, y2);

    // A write without markChanged breaks the contract: the packed weights are reused as they are, because
    // nothing compares the values on a call. Marking the write then makes it visible.
    for (int i = 0; i < w.length; i++) {
      w[i] = 0.05f * (i % 5 - 2);
    }
    assertThat(kernel.forward(x).data()).usingExactEquality().containsExactly(y3).inOrder();
    float[] one = new float[y3.length / 2];
    kernel.forward(x.data(), 0, one, 0);
    assertThat(one).usingExactEquality().containsExactly(Arrays.copyOf(y3, one.length)).inOrder();
    kernel.weight().markChanged();
    float[] y4 = checkEval("after a late markChanged", kernel, x);
    assertMoved("after a late markChanged", y4, y3);
  }
}
