package dev.kiln.loss;

import static com.google.common.truth.Truth.assertThat;
import static dev.kiln.testing.NumericAssertions.assertClose;
import static dev.kiln.testing.NumericAssertions.relative;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.annotation.Reduction;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.Golden;
import dev.kiln.testing.GradCheck;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KlDivergenceTest {
  private static final Reduction[] ORDER = {Reduction.SUM, Reduction.BATCHMEAN, Reduction.MEAN};

  @Test
  void matchesPyTorchKlDivForEveryReductionAndTargetSpace() {
    Golden golden = Golden.load("/golden/loss_optim/kl.safetensors");
    Map<Reduction, Integer> perReduction = new EnumMap<>(Reduction.class);
    int logTargets = 0;
    int nanTargetGrads = 0;
    for (String p : golden.casePrefixes("kl")) {
      Reduction reduction = ORDER[(int) golden.scalar(p + "reduction")];
      boolean logTarget = golden.flag(p + "log_target");
      KlDivergence.Result r = KlDivergence.compute(golden.tensor(p + "input"), golden.tensor(p + "target"),
          reduction, logTarget);
      assertClose(p + "loss", golden.scalar(p + "loss"), r.loss(), 1e-5);
      assertClose(p + "grad_input", golden.shape(p + "grad_input"), golden.doubles(p + "grad_input"),
          r.gradInput(), relative(1e-5).floorOfLargest(1e-2));
      assertClose(p + "grad_target", golden.shape(p + "grad_target"), golden.doubles(p + "grad_target"),
          r.gradTarget(), relative(1e-5).floorOfLargest(1e-2));
      perReduction.merge(reduction, 1, Integer::sum);
      logTargets += logTarget ? 1 : 0;
      nanTargetGrads += Double.isNaN(golden.doubles(p + "grad_target")[0]) ? 1 : 0;
    }
    assertThat(perReduction).isEqualTo(Map.of(Reduction.SUM, 4, Reduction.BATCHMEAN, 4, Reduction.MEAN, 4));
    assertThat(logTargets).isEqualTo(6);
    assertThat(nanTargetGrads).isEqualTo(4);
  }

  @Test
  void gradientsMatchFiniteDifferences() {
    float[] input = {-1.2f, -0.8f, -1.4f, -0.3f, -2.1f, -1.9f};
    float[] logTarget = {-0.9f, -1.6f, -0.9f, -2.2f, -0.4f, -1.5f};
    int checks = 0;
    for (Reduction reduction : Reduction.values()) {
      KlDivergence.Result r = KlDivergence.compute(Tensor.of(input, 2, 3), Tensor.of(logTarget, 2, 3), reduction, true);
      double[] fdInput = GradCheck.centralDifferences(input, 1e-2,
          x -> KlDivergence.compute(Tensor.of(x, 2, 3), Tensor.of(logTarget, 2, 3), reduction, true).loss());
      double[] fdTarget = GradCheck.centralDifferences(logTarget, 1e-2,
          t -> KlDivergence.compute(Tensor.of(input, 2, 3), Tensor.of(t, 2, 3), reduction, true).loss());
      assertClose("fd input " + reduction, new int[] {2, 3}, fdInput, r.gradInput(),
          relative(1e-3).floorOfLargest(1e-2));
      assertClose("fd target " + reduction, new int[] {2, 3}, fdTarget, r.gradTarget(),
          relative(1e-3).floorOfLargest(1e-2));
      checks += 2;
    }
    assertThat(checks).isEqualTo(6);
  }

  @Test
  void rejectsMismatchedShapes() {
    IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
        () -> KlDivergence.compute(Tensor.zeros(2, 3), Tensor.zeros(3, 2), Reduction.SUM, false));
    assertThat(shape.getMessage()).isEqualTo("target: expected shape [2, 3] but got [3, 2]");
    IllegalArgumentException scalar = assertThrows(IllegalArgumentException.class,
        () -> KlDivergence.compute(Tensor.scalar(1f), Tensor.scalar(1f), Reduction.SUM, false));
    assertThat(scalar.getMessage()).isEqualTo("input: expected rank >= 1 and at least one element but got shape []");
  }
}
