package dev.kiln.loss;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.kiln.testing.NumericAssertions.assertClose;
import static dev.kiln.testing.NumericAssertions.relative;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.tensor.Tensor;
import dev.kiln.testing.Golden;
import dev.kiln.testing.GradCheck;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CrossEntropyTest {
  private static final double RTOL = 1e-5;

  @Test
  void matchesPyTorchCrossEntropyWithAndWithoutLabelSmoothing() {
    Golden golden = Golden.load("/golden/loss_optim/ce.safetensors");
    int compared = 0;
    int smoothed = 0;
    for (String p : golden.casePrefixes("ce")) {
      double ls = golden.scalar(p + "label_smoothing");
      CrossEntropy.Result r = CrossEntropy.compute(golden.tensor(p + "logits"), golden.ints(p + "targets"), ls);
      assertClose(p + "loss", golden.scalar(p + "loss"), r.loss(), RTOL);
      assertClose(p + "grad", golden.shape(p + "grad"), golden.doubles(p + "grad"), r.grad(),
          relative(RTOL).floorOfLargest(1e-2));
      compared++;
      smoothed += ls > 0 ? 1 : 0;
    }
    assertThat(compared).isEqualTo(8);
    assertThat(smoothed).isEqualTo(6);
  }

  /** The summed loss (evaluation) is N times PyTorch's mean loss on the cases without label smoothing. */
  @Test
  void sumIsTheBatchTimesPyTorchsMean() {
    Golden golden = Golden.load("/golden/loss_optim/ce.safetensors");
    int compared = 0;
    for (String p : golden.casePrefixes("ce")) {
      if (golden.scalar(p + "label_smoothing") != 0) {
        continue;
      }
      Tensor logits = golden.tensor(p + "logits");
      assertClose(p + "sum", golden.scalar(p + "loss") * logits.dim(0),
          CrossEntropy.sum(logits, golden.ints(p + "targets")), RTOL);
      compared++;
    }
    assertThat(compared).isEqualTo(2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CrossEntropy.sum(Tensor.zeros(2, 3), new int[] {0, 3}));
    assertWithMessage(e.getMessage()).that(e.getMessage().contains("targets[1] = 3 is out of range")).isTrue();
  }

  @Test
  void defaultIsNoSmoothingAndAgreesWithNllOfLogSoftmax() {
    Golden golden = Golden.load("/golden/loss_optim/ce.safetensors");
    Tensor logits = golden.tensor("ce.0.logits");
    int[] targets = golden.ints("ce.0.targets");
    assertThat(golden.scalar("ce.0.label_smoothing")).isEqualTo(0.0);
    CrossEntropy.Result r = CrossEntropy.compute(logits, targets);
    assertClose("ce vs nll(log_softmax)", NllLoss.compute(LossTesting.logSoftmax(logits), targets).loss(), r.loss(),
        1e-6);
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    SplittableRandom random = new SplittableRandom(7);
    int cases = 0;
    for (double ls : new double[] {0.0, 0.15, 1.0}) {
      int n = 3 + cases;
      int c = 4;
      float[] z = new float[n * c];
      for (int k = 0; k < z.length; k++) {
        z[k] = (float) (random.nextGaussian() * 2);
      }
      int[] y = random.ints(n, 0, c).toArray();
      Tensor grad = CrossEntropy.compute(Tensor.of(z, n, c), y, ls).grad();
      double[] fd = GradCheck.centralDifferences(z, 1e-2, x -> CrossEntropy.compute(Tensor.of(x, n, c), y, ls).loss());
      assertClose("fd ls=" + ls, new int[] {n, c}, fd, grad, relative(1e-3).floorOfLargest(1e-2));
      cases++;
    }
    assertThat(cases).isEqualTo(3);
  }

  @Test
  void hugeLogitsStayFinite() {
    Tensor logits = Tensor.of(new float[] {1e30f, -1e30f, 0f, 3e38f, 3e38f, -3e38f}, 2, 3);
    CrossEntropy.Result r = CrossEntropy.compute(logits, new int[] {1, 0});
    assertWithMessage("loss " + r.loss()).that(Double.isFinite(r.loss())).isTrue();
    for (float g : r.grad().data()) {
      assertWithMessage("grad " + r.grad()).that(Float.isFinite(g)).isTrue();
    }
  }

  @Test
  void rejectsBadShapesTargetsAndSmoothing() {
    IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
        () -> CrossEntropy.compute(Tensor.zeros(2, 3, 4), new int[] {0, 0}));
    assertThat(rank.getMessage()).isEqualTo("logits: expected rank 2 [N, C] but got shape [2, 3, 4]");
    IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
        () -> CrossEntropy.compute(Tensor.zeros(2, 3), new int[] {0}));
    assertThat(count.getMessage()).isEqualTo("targets: expected 2 targets (one per row of logits [2, 3]) but got 1");
    IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
        () -> CrossEntropy.compute(Tensor.zeros(2, 3), new int[] {0, 3}));
    assertThat(range.getMessage()).isEqualTo("targets[1] = 3 is out of range: expected a class in [0, 3)");
    IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
        () -> CrossEntropy.compute(Tensor.zeros(2, 3), new int[] {-1, 0}));
    assertThat(negative.getMessage()).isEqualTo("targets[0] = -1 is out of range: expected a class in [0, 3)");
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
        () -> CrossEntropy.compute(Tensor.zeros(0, 3), new int[0]));
    assertThat(empty.getMessage()).isEqualTo("logits: expected N >= 1 and C >= 1 but got shape [0, 3]");
    IllegalArgumentException smoothing = assertThrows(IllegalArgumentException.class,
        () -> CrossEntropy.compute(Tensor.zeros(2, 3), new int[] {0, 0}, 1.5));
    assertThat(smoothing.getMessage()).isEqualTo("labelSmoothing: expected a value in [0, 1] but got 1.5");
  }
}
