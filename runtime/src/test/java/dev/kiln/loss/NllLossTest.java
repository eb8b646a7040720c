package dev.kiln.loss;

import static com.google.common.truth.Truth.assertThat;
import static dev.kiln.testing.NumericAssertions.assertClose;
import static dev.kiln.testing.NumericAssertions.relative;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.tensor.Tensor;
import dev.kiln.testing.Golden;
import dev.kiln.testing.GradCheck;
import org.junit.jupiter.api.Test;

class NllLossTest {
  @Test
  void matchesPyTorchNllLoss() {
    Golden golden = Golden.load("/golden/loss_optim/nll.safetensors");
    int compared = 0;
    for (String p : golden.casePrefixes("nll")) {
      NllLoss.Result r = NllLoss.compute(golden.tensor(p + "input"), golden.ints(p + "targets"));
      assertClose(p + "loss", golden.scalar(p + "loss"), r.loss(), 1e-5);
      assertClose(p + "grad", golden.shape(p + "grad"), golden.doubles(p + "grad"), r.grad(),
          relative(1e-5).floorOfLargest(1e-2));
      compared++;
    }
    assertThat(compared).isEqualTo(3);
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    float[] x = {-0.5f, -1.2f, -2f, -0.1f, -3f, -0.7f};
    int[] y = {2, 0};
    Tensor grad = NllLoss.compute(Tensor.of(x, 2, 3), y).grad();
    double[] fd = GradCheck.centralDifferences(x, 1e-2, v -> NllLoss.compute(Tensor.of(v, 2, 3), y).loss());
    assertClose("fd", new int[] {2, 3}, fd, grad, relative(1e-4).floorOfLargest(1e-2));
  }

  @Test
  void rejectsBadShapesAndTargets() {
    IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
        () -> NllLoss.compute(Tensor.zeros(6), new int[] {0}));
    assertThat(rank.getMessage()).isEqualTo("input: expected rank 2 [N, C] but got shape [6]");
    IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
        () -> NllLoss.compute(Tensor.zeros(2, 3), new int[] {0, 1, 2}));
    assertThat(count.getMessage()).isEqualTo("targets: expected 2 targets (one per row of input [2, 3]) but got 3");
    IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
        () -> NllLoss.compute(Tensor.zeros(2, 3), new int[] {5, 0}));
    assertThat(range.getMessage()).isEqualTo("targets[0] = 5 is out of range: expected a class in [0, 3)");
  }
}
