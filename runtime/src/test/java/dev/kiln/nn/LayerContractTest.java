package dev.kiln.nn;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Shape validation, constructor validation, state dicts, initialization and caches of the runtime layers. */
class LayerContractTest {

  private static void assertShapeError(Module m, Tensor input, String expected) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(input));
    assertThat(e).hasMessageThat().contains("expected shape " + expected);
    assertThat(e).hasMessageThat().contains("but got " + Tensor.shapeString(input.shape()));
  }

  @Test
  void forwardRejectsWrongShapesNamingBoth() {
    assertShapeError(new Linear(5, 3, true, 0), Tensor.zeros(2, 4), "[N, 5]");
    assertShapeError(new Linear(5, 3, true, 0), Tensor.zeros(2, 5, 1, 1), "[N, 5]");
    assertShapeError(new Linear(5, 3, true, 0), Tensor.zeros(5), "[N, 5]");
    assertShapeError(new ReLU(), Tensor.scalar(1f), "[N, ...]");
    assertShapeError(new Flatten(), Tensor.zeros(4), "[N, d1, ...]");
    assertShapeError(new GlobalAvgPool2d(), Tensor.zeros(2, 3, 4), "[N, C, H, W]");
    assertShapeError(new MaxPool2d(2, 2, 0), Tensor.zeros(2, 3, 4), "[N, C, H, W]");
    assertShapeError(new AvgPool2d(2, 2, 0), Tensor.zeros(1, 2, 3, 4, 5), "[N, C, H, W]");
    assertShapeError(new BatchNorm2d(3), Tensor.zeros(2, 4, 5, 5), "[N, 3, H, W]");
    assertShapeError(new BatchNorm2d(3), Tensor.zeros(2, 3, 5), "[N, 3, H, W]");
    assertShapeError(new Dropout(0.5, 0), Tensor.scalar(1f), "[N, ...]");
  }

  @Test
  void poolsRejectInputsSmallerThanTheKernel() {
    for (Module m : List.of(new MaxPool2d(3, 3, 1, 1, 0, 0), new AvgPool2d(3, 3, 1, 1, 0, 0))) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> m.forward(Tensor.zeros(1, 1, 2, 5)));
      assertThat(e).hasMessageThat().contains("[1, 1, 2, 5]");
      assertThat(e).hasMessageThat().contains("too small");
    }
    // the smallest valid input gives a 1 x 1 output
    assertThat(new MaxPool2d(3, 2, 1).outputShape(1, 1, 1, 1)).isEqualTo(new int[] {1, 1, 1, 1});
    assertThat(new AvgPool2d(3, 2, 0).outputShape(2, 4, 3, 4)).isEqualTo(new int[] {2, 4, 1, 1});
  }

  @Test
  void poolOutputShapesFollowTheFloorFormula() {
    int compared = 0;
    SplittableRandom r = new SplittableRandom(3);
    for (int t = 0; t < 200; t++) {
      int kh = 1 + r.nextInt(5);
      int kw = 1 + r.nextInt(5);
      int sh = 1 + r.nextInt(3);
      int sw = 1 + r.nextInt(3);
      int ph = r.nextInt(kh / 2 + 1);
      int pw = r.nextInt(kw / 2 + 1);
      int h = kh + r.nextInt(6);
      int w = kw + r.nextInt(6);
      int[] expected = {2, 3, (h + 2 * ph - kh) / sh + 1, (w + 2 * pw - kw) / sw + 1};
      assertThat(new MaxPool2d(kh, kw, sh, sw, ph, pw).forward(Tensor.zeros(2, 3, h, w)).shape()).isEqualTo(expected);
      assertThat(new AvgPool2d(kh, kw, sh, sw, ph, pw).forward(Tensor.zeros(2, 3, h, w)).shape()).isEqualTo(expected);
      compared++;
    }
    assertThat(compared).isEqualTo(200);
  }

  @Test
  void constructorsRejectBadConfigurations() {
    List<Supplier<Module>> bad = List.of(
        () -> new Linear(0, 3, true, 0),
        () -> new Linear(3, -1, false, 0),
        () -> new BatchNorm2d(0),
        () -> new MaxPool2d(0, 2, 1, 1, 0, 0),
        () -> new MaxPool2d(2, 2, 0, 1, 0, 0),
        () -> new MaxPool2d(3, 3, 1, 1, 2, 1), // padding > kernel / 2
        () -> new MaxPool2d(2, 2, 1, 1, 1, 2),
        () -> new AvgPool2d(3, 3, 1, 1, -1, 0),
        () -> new AvgPool2d(2, 4, 1, 1, 1, 3),
        () -> new AvgPool2d(1, 1, 1, 1, 1, 0));
    for (Supplier<Module> s : bad) {
      assertThrows(IllegalArgumentException.class, s::get);
    }
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new MaxPool2d(3, 3, 1, 1, 2, 1));
    assertThat(e).hasMessageThat().contains("half the kernel size (1, 1) but was (2, 1)");
    // the limit itself is fine, as in PyTorch
    new MaxPool2d(3, 3, 1, 1, 1, 1);
    new AvgPool2d(4, 5, 1, 1, 2, 2);
  }

  @Test
  void backwardNeedsATrainingForwardAndAMatchingGradient() {
    List<Module> modules = List.of(new Linear(4, 2, true, 0), new ReLU(), new Flatten(), new GlobalAvgPool2d(),
        new MaxPool2d(2, 2, 0), new AvgPool2d(2, 2, 0), new Dropout(0.5, 0));
    Tensor linearInput = Tensor.zeros(3, 4);
    Tensor imageInput = Tensor.zeros(3, 4, 2, 2);
    for (Module m : modules) {
      assertThrows(IllegalStateException.class, () -> m.backward(Tensor.zeros(1)));
      Tensor x = m instanceof Linear ? linearInput : imageInput;
      Tensor y = m.forward(x);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> m.backward(Tensor.zeros(7, 1)));
      assertThat(e).hasMessageThat().contains(Tensor.shapeString(y.shape()));
      assertThat(e).hasMessageThat().contains("[7, 1]");
      assertThat(m.backward(Tensor.zeros(y.shape())).shape()).isEqualTo(x.shape());
      // switching to eval drops the cache; an eval forward does not create one
      m.eval();
      m.forward(x);
      assertThrows(IllegalStateException.class, () -> m.backward(Tensor.zeros(y.shape())));
    }
  }

  @Test
  void linearStateAndInitialization() {
    Linear l = new Linear(5, 3, true, 123);
    assertThat(l.stateDict().keySet()).containsExactly("weight", "bias").inOrder();
    assertThat(l.weight().data().shape()).isEqualTo(new int[] {3, 5});
    assertThat(l.bias().data().shape()).isEqualTo(new int[] {3});
    assertThat(l.namedParameters().keySet()).containsExactly("weight", "bias").inOrder();
    double bound = 1 / Math.sqrt(5);
    for (float v : l.weight().data().data()) {
      assertThat((double) Math.abs(v)).isAtMost(bound);
    }
    for (float v : l.bias().data().data()) {
      assertThat((double) Math.abs(v)).isAtMost(bound);
    }
    // documented order: all weights, then the bias, from one SplittableRandom(seed)
    SplittableRandom r = new SplittableRandom(123);
    float[] w = new float[15];
    float[] b = new float[3];
    Init.uniformFanIn(w, 5, r);
    Init.uniformFanIn(b, 5, r);
    assertThat(l.weight().data().data()).isEqualTo(w);
    assertThat(l.bias().data().data()).isEqualTo(b);
    assertThat(new Linear(5, 3, true, 123).weight().data().data()).isEqualTo(w);
    assertThat(new Linear(5, 3, true, 124).weight().data().data()).isNotEqualTo(w);
    Linear noBias = new Linear(5, 3, false, 123);
    assertThat(noBias.bias()).isNull();
    assertThat(noBias.stateDict().keySet()).containsExactly("weight");
    assertThat(noBias.weight().data().data()).isEqualTo(w);
  }

  @Test
  void batchNormStateAndAccessors() {
    BatchNorm2d bn = new BatchNorm2d(4);
    assertThat(bn.stateDict().keySet())
        .containsExactly("weight", "bias", "running_mean", "running_var", "num_batches_tracked").inOrder();
    assertThat(bn.namedParameters().keySet()).containsExactly("weight", "bias").inOrder();
    assertThat(bn.stateDict().get("num_batches_tracked").shape()).isEqualTo(new int[0]);
    assertThat(bn.weight().data().data()).isEqualTo(new float[] {1, 1, 1, 1});
    assertThat(bn.bias().data().data()).isEqualTo(new float[4]);
    assertThat(bn.runningMean().data()).isEqualTo(new float[4]);
    assertThat(bn.runningVar().data()).isEqualTo(new float[] {1, 1, 1, 1});
    assertThat(bn.eps()).isEqualTo(1e-5);
    assertThat(bn.momentum()).isEqualTo(0.1);
    assertThat(bn.numFeatures()).isEqualTo(4);
    assertThat(bn.isTraining()).isTrue();

    Map<String, Tensor> state = new LinkedHashMap<>();
    state.put("weight", Tensor.of(new float[] {1, 2, 3, 4}, 4));
    state.put("bias", Tensor.zeros(4));
    state.put("running_mean", Tensor.zeros(4));
    state.put("running_var", Tensor.zeros(4));
    state.put("num_batches_tracked", Tensor.zeros(1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bn.loadStateDict(state));
    assertThat(e).hasMessageThat().contains("num_batches_tracked");
    state.put("num_batches_tracked", Tensor.scalar(9f));
    bn.loadStateDict(state);
    assertThat(bn.weight().data().data()).isEqualTo(new float[] {1, 2, 3, 4});
    assertThat(bn.numBatchesTracked().data()[0]).isEqualTo(9f);
  }

  @Test
  void batchNormCountsBatchesOnlyInTrainingAndNeedsTwoValuesPerChannel() {
    BatchNorm2d bn = new BatchNorm2d(2);
    Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 1, 2);
    bn.forward(x);
    bn.forward(x);
    assertThat(bn.numBatchesTracked().data()[0]).isEqualTo(2f);
    // channel 0 holds 1, 2, 5, 6: mean 3.5, squared deviations 17, unbiased variance 17/3
    assertThat((double) bn.runningMean().data()[0]).isWithin(1e-6).of(3.5 * (1 - 0.9 * 0.9));
    assertThat((double) bn.runningVar().data()[0]).isWithin(1e-5).of(0.81 + 17.0 / 3 * (1 - 0.81));
    bn.eval();
    float[] before = bn.runningMean().data().clone();
    bn.forward(x);
    assertThat(bn.numBatchesTracked().data()[0]).isEqualTo(2f);
    assertThat(bn.runningMean().data()).isEqualTo(before);
    // eval mode allows backward of the affine map
    assertThat(bn.backward(Tensor.zeros(2, 2, 1, 2)).shape()).isEqualTo(new int[] {2, 2, 1, 2});

    bn.train(true);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> bn.forward(Tensor.zeros(1, 2, 1, 1)));
    assertThat(e).hasMessageThat().contains("more than 1 value per channel");
    assertThat(e).hasMessageThat().contains("[1, 2, 1, 1]");
    bn.eval();
    assertThat(bn.forward(Tensor.zeros(1, 2, 1, 1)).shape()).isEqualTo(new int[] {1, 2, 1, 1});
  }

  @Test
  void parameterlessLayersHaveNoState() {
    for (Module m : List.of(new ReLU(), new Flatten(), new GlobalAvgPool2d(), new MaxPool2d(2, 2, 0),
        new AvgPool2d(2, 2, 0), new Dropout(0.1, 0))) {
      assertThat(m.stateDict()).isEmpty();
      assertThat(m.namedParameters()).isEmpty();
      m.loadStateDict(Map.of());
      assertThat(m.toString()).contains(m.getClass().getSimpleName());
    }
  }

  @Test
  void flattenSharesDataAndReshapesGradient() {
    Flatten f = new Flatten();
    Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 2, 2, 1);
    Tensor y = f.forward(x);
    assertThat(y.shape()).isEqualTo(new int[] {2, 4});
    assertThat(y.data()).isSameInstanceAs(x.data());
    assertThat(f.backward(Tensor.zeros(2, 4)).shape()).isEqualTo(new int[] {2, 2, 2, 1});
  }
}
