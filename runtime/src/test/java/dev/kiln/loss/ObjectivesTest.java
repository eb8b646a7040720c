package dev.kiln.loss;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.kiln.testing.NumericAssertions.assertClose;
import static dev.kiln.testing.NumericAssertions.relative;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.annotation.Reduction;
import dev.kiln.nn.AbstractModule;
import dev.kiln.nn.Parameter;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.GradCheck;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ObjectivesTest {
  private static final int N = 3;
  private static final int F = 4;
  private static final int C = 3;

  /**
   * A linear layer behind a deterministic fake dropout: in training mode row {@code r} keeps feature
   * {@code f} unless {@code (5r + 3f + 1) % 4 == 0}, scaled by 4/3; so rows r and r + N of a duplicated
   * batch see different masks, as real dropout would give.
   */
  static class DropLinear extends AbstractModule {
    final Parameter weight;
    final Parameter bias;
    int forwards;
    int backwards;
    Tensor lastInput;
    Tensor lastOutput;
    Tensor lastGradOutput;

    DropLinear(long seed) {
      SplittableRandom random = new SplittableRandom(seed);
      weight = registerParameter("weight", RDropLossTest.gaussian(random, C, F));
      bias = registerParameter("bias", RDropLossTest.gaussian(random, C));
    }

    double mask(int r, int f) {
      return !isTraining() ? 1.0 : (5 * r + 3 * f + 1) % 4 == 0 ? 0.0 : 4.0 / 3.0;
    }

    @Override
    public Tensor forward(Tensor input) {
      forwards++;
      int rows = input.dim(0);
      float[] x = input.data();
      float[] w = weight.data().data();
      Tensor out = Tensor.zeros(rows, C);
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < C; c++) {
          double acc = bias.data().data()[c];
          for (int f = 0; f < F; f++) {
            acc += w[c * F + f] * x[r * F + f] * mask(r, f);
          }
          out.data()[r * C + c] = (float) acc;
        }
      }
      lastInput = input.copy();
      lastOutput = out.copy();
      return out;
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
      backwards++;
      lastGradOutput = gradOutput.copy();
      int rows = lastInput.dim(0);
      float[] x = lastInput.data();
      float[] g = gradOutput.data();
      float[] w = weight.data().data();
      Tensor gradInput = Tensor.zeros(rows, F);
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < C; c++) {
          double gc = g[r * C + c];
          bias.grad().data()[c] += (float) gc;
          for (int f = 0; f < F; f++) {
            weight.grad().data()[c * F + f] += (float) (gc * x[r * F + f] * mask(r, f));
            gradInput.data()[r * F + f] += (float) (gc * w[c * F + f] * mask(r, f));
          }
        }
      }
      return gradInput;
    }
  }

  private static Tensor batch() {
    return RDropLossTest.gaussian(new SplittableRandom(42), N, F);
  }

  private static final int[] TARGETS = {2, 0, 1};

  /** Checks every parameter gradient the objective accumulated against central differences of its loss. */
  private static void checkGradients(String what, Objective objective) {
    DropLinear model = new DropLinear(9);
    Tensor x = batch();
    objective.step(model, x, TARGETS);
    for (Parameter p : model.namedParameters().values()) {
      Tensor analytic = p.grad().copy();
      double[] fd = GradCheck.centralDifferences(p.data().data(), 1e-2, v -> {
        DropLinear probe = new DropLinear(9);
        probe.loadStateDict(model.stateDict());
        return objective.step(probe, x, TARGETS).loss();
      });
      assertClose(what + " " + p.name(), p.data().shape(), fd, analytic, relative(2e-3).floorOfLargest(1e-2));
    }
  }

  @Test
  void crossEntropyObjectiveBackpropagatesTheLossGradient() {
    int checked = 0;
    for (double ls : new double[] {0.0, 0.2}) {
      checkGradients("ce ls=" + ls, Objectives.crossEntropy(ls));
      checked++;
    }
    DropLinear model = new DropLinear(1);
    Objective.StepResult result = Objectives.crossEntropy().step(model, batch(), TARGETS);
    assertThat(model.forwards).isEqualTo(1);
    assertThat(model.backwards).isEqualTo(1);
    assertThat(result.logits().data()).isEqualTo(model.lastOutput.data());
    assertClose("loss", CrossEntropy.compute(model.lastOutput, TARGETS).loss(), result.loss(), 1e-12);
    assertThat(model.lastGradOutput.data()).isEqualTo(CrossEntropy.compute(model.lastOutput, TARGETS).grad().data());
    assertThat(checked).isEqualTo(2);
  }

  @Test
  void rDropObjectiveGradientsMatchFiniteDifferences() {
    int checked = 0;
    for (Reduction reduction : new Reduction[] {Reduction.SUM, Reduction.BATCHMEAN}) {
      for (double alpha : new double[] {0.0, 1.0, 5.0}) {
        checkGradients("rdrop " + reduction + " alpha=" + alpha, Objectives.rDrop(alpha, reduction));
        checked++;
      }
    }
    assertThat(checked).isEqualTo(6);
  }

  @Test
  void rDropRunsOneForwardOnTheDuplicatedBatchAndOneBackward() {
    DropLinear model = new DropLinear(2);
    Tensor x = batch();
    Objective.StepResult result = Objectives.rDrop(1.0, Reduction.SUM).step(model, x, TARGETS);
    assertThat(model.forwards).isEqualTo(1);
    assertThat(model.backwards).isEqualTo(1);
    assertThat(model.lastInput.shape()).isEqualTo(new int[] {2 * N, F});
    float[] twice = Arrays.copyOf(x.data(), 2 * x.size());
    System.arraycopy(x.data(), 0, twice, x.size(), x.size());
    assertThat(model.lastInput.data()).isEqualTo(twice);

    float[] out = model.lastOutput.data();
    Tensor z1 = Tensor.of(Arrays.copyOfRange(out, 0, N * C), N, C);
    Tensor z2 = Tensor.of(Arrays.copyOfRange(out, N * C, 2 * N * C), N, C);
    assertWithMessage("the halves must see different masks").that(Arrays.equals(z1.data(), z2.data())).isFalse();
    assertThat(result.logits().shape()).isEqualTo(new int[] {N, C});
    assertThat(result.logits().data()).isEqualTo(z1.data());

    RDropLoss.Result expected = RDropLoss.compute(z1, z2, TARGETS, 1.0, Reduction.SUM);
    assertClose("loss", expected.loss(), result.loss(), 1e-12);
    float[] grad = Arrays.copyOf(expected.grad1().data(), 2 * N * C);
    System.arraycopy(expected.grad2().data(), 0, grad, N * C, N * C);
    assertThat(model.lastGradOutput.shape()).isEqualTo(new int[] {2 * N, C});
    assertThat(model.lastGradOutput.data()).isEqualTo(grad);
  }

  @Test
  void rDropWithAlphaZeroIsTheAverageCrossEntropyOfBothHalves() {
    DropLinear model = new DropLinear(4);
    Objective.StepResult result = Objectives.rDrop(0.0, Reduction.SUM).step(model, batch(), TARGETS);
    float[] out = model.lastOutput.data();
    double ce1 = CrossEntropy.compute(Tensor.of(Arrays.copyOfRange(out, 0, N * C), N, C), TARGETS).loss();
    double ce2 = CrossEntropy.compute(Tensor.of(Arrays.copyOfRange(out, N * C, 2 * N * C), N, C), TARGETS).loss();
    assertClose("alpha 0", 0.5 * (ce1 + ce2), result.loss(), 1e-12);
  }

  @Test
  void stepPutsAModelInEvalModeBackIntoTraining() {
    DropLinear model = new DropLinear(5);
    model.eval();
    Objectives.crossEntropy().step(model, batch(), TARGETS);
    assertThat(model.isTraining()).isTrue();
    model.eval();
    Objectives.rDrop(1.0, Reduction.BATCHMEAN).step(model, batch(), TARGETS);
    assertThat(model.isTraining()).isTrue();
  }

  @Test
  void rejectsMismatchedBatchesOutputsAndOptions() {
    DropLinear model = new DropLinear(6);
    IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
        () -> Objectives.rDrop(1, Reduction.SUM).step(model, batch(), new int[] {0, 1}));
    assertThat(count.getMessage()).isEqualTo("targets: expected 3 targets (one per row of input [3, 4]) but got 2");
    assertWithMessage("nothing runs before the batch is checked").that(model.forwards).isEqualTo(0);
    DropLinear flat = new DropLinear(7) {
      @Override
      public Tensor forward(Tensor input) {
        return super.forward(input).reshape(input.dim(0) * C);
      }
    };
    IllegalArgumentException output = assertThrows(IllegalArgumentException.class,
        () -> Objectives.rDrop(1, Reduction.SUM).step(flat, batch(), TARGETS));
    assertThat(output.getMessage()).isEqualTo("model output: expected logits [6, C] but got shape [18]");
    IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
        () -> Objectives.crossEntropy().step(model, batch(), new int[] {0, 1, 3}));
    assertThat(range.getMessage()).isEqualTo("targets[2] = 3 is out of range: expected a class in [0, 3)");
    assertThrows(IllegalArgumentException.class, () -> Objectives.rDrop(-0.5, Reduction.SUM));
    assertThrows(IllegalArgumentException.class, () -> Objectives.crossEntropy(-0.1));
  }
}
