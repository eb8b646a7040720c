package dev.kiln.loss;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.kiln.testing.NumericAssertions.assertClose;
import static dev.kiln.testing.NumericAssertions.relative;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.annotation.Reduction;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.Golden;
import dev.kiln.testing.GradCheck;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RDropLossTest {
  private static final Reduction[] ORDER = {Reduction.SUM, Reduction.BATCHMEAN, Reduction.MEAN};
  private static final double RTOL = 1e-5;

  @Test
  void matchesTheOfficialReferenceUnderAutograd() {
    Golden golden = Golden.load("/golden/loss_optim/rdrop.safetensors");
    Set<String> configs = new HashSet<>();
    int compared = 0;
    for (String p : golden.casePrefixes("rdrop")) {
      double alpha = golden.scalar(p + "alpha");
      Reduction reduction = ORDER[(int) golden.scalar(p + "reduction")];
      RDropLoss.Result r = RDropLoss.compute(golden.tensor(p + "logits1"), golden.tensor(p + "logits2"),
          golden.ints(p + "targets"), alpha, reduction);
      assertClose(p + "loss", golden.scalar(p + "loss"), r.loss(), RTOL);
      assertClose(p + "ce", golden.scalar(p + "ce"), r.crossEntropy(), RTOL);
      assertClose(p + "kl", golden.scalar(p + "kl"), r.klDivergence(), RTOL);
      assertClose(p + "grad1", golden.shape(p + "grad1"), golden.doubles(p + "grad1"), r.grad1(),
          relative(RTOL).floorOfLargest(1e-2));
      assertClose(p + "grad2", golden.shape(p + "grad2"), golden.doubles(p + "grad2"), r.grad2(),
          relative(RTOL).floorOfLargest(1e-2));
      configs.add(alpha + "/" + reduction);
      compared++;
    }
    assertThat(compared).isEqualTo(12);
    assertWithMessage("4 alphas x 3 reductions: " + configs).that(configs.size()).isEqualTo(12);
  }

  /** kl_div(input=log P, target=Q) is KL(Q||P): the loss is CE and KlDivergence composed as the reference does. */
  @Test
  void equalsCrossEntropyPlusSymmetricKlDiv() {
    SplittableRandom random = new SplittableRandom(11);
    int checks = 0;
    for (Reduction reduction : Reduction.values()) {
      int n = 5;
      int c = 4;
      Tensor z1 = gaussian(random, n, c);
      Tensor z2 = gaussian(random, n, c);
      int[] y = random.ints(n, 0, c).toArray();
      double alpha = 0.7;
      Tensor logP = LossTesting.logSoftmax(z1);
      Tensor logQ = LossTesting.logSoftmax(z2);
      double kl = (KlDivergence.compute(logP, logQ, reduction, true).loss()
          + KlDivergence.compute(logQ, logP, reduction, true).loss()) / 2;
      double ce = 0.5 * (CrossEntropy.compute(z1, y).loss() + CrossEntropy.compute(z2, y).loss());
      RDropLoss.Result r = RDropLoss.compute(z1, z2, y, alpha, reduction);
      assertClose("kl " + reduction, kl, r.klDivergence(), 1e-6);
      assertClose("ce " + reduction, ce, r.crossEntropy(), 1e-9);
      assertClose("loss " + reduction, ce + alpha * kl, r.loss(), 1e-6);
      checks++;
    }
    assertThat(checks).isEqualTo(3);
  }

  @Test
  void gradientsMatchFiniteDifferences() {
    SplittableRandom random = new SplittableRandom(3);
    int checks = 0;
    for (Reduction reduction : Reduction.values()) {
      for (double alpha : new double[] {0.0, 1.0, 4.0}) {
        int n = 3;
        int c = 5;
        float[] a = gaussian(random, n, c).data();
        float[] b = gaussian(random, n, c).data();
        int[] y = random.ints(n, 0, c).toArray();
        RDropLoss.Result r = RDropLoss.compute(Tensor.of(a, n, c), Tensor.of(b, n, c), y, alpha, reduction);
        double[] fd1 = GradCheck.centralDifferences(a, 1e-2,
            x -> RDropLoss.compute(Tensor.of(x, n, c), Tensor.of(b, n, c), y, alpha, reduction).loss());
        double[] fd2 = GradCheck.centralDifferences(b, 1e-2,
            x -> RDropLoss.compute(Tensor.of(a, n, c), Tensor.of(x, n, c), y, alpha, reduction).loss());
        assertClose("fd grad1 " + reduction + " " + alpha, new int[] {n, c}, fd1, r.grad1(),
            relative(2e-3).floorOfLargest(1e-2));
        assertClose("fd grad2 " + reduction + " " + alpha, new int[] {n, c}, fd2, r.grad2(),
            relative(2e-3).floorOfLargest(1e-2));
        checks++;
      }
    }
    assertThat(checks).isEqualTo(9);
  }

  @Test
  void identicalHalvesHaveNoKlAndSwappingHalvesSwapsGradients() {
    SplittableRandom random = new SplittableRandom(5);
    Tensor z1 = gaussian(random, 4, 3);
    Tensor z2 = gaussian(random, 4, 3);
    int[] y = {0, 2, 1, 1};
    RDropLoss.Result same = RDropLoss.compute(z1, z1.copy(), y, 2.0, Reduction.SUM);
    assertThat(same.klDivergence()).isWithin(1e-12).of(0.0);
    assertClose("same", CrossEntropy.compute(z1, y).loss(), same.loss(), 1e-9);
    RDropLoss.Result ab = RDropLoss.compute(z1, z2, y, 2.0, Reduction.BATCHMEAN);
    RDropLoss.Result ba = RDropLoss.compute(z2, z1, y, 2.0, Reduction.BATCHMEAN);
    assertClose("symmetric loss", ab.loss(), ba.loss(), 1e-12);
    for (int k = 0; k < 12; k++) {
      assertThat((double) ba.grad2().data()[k]).isWithin(1e-7).of(ab.grad1().data()[k]);
    }
  }

  @Test
  void rejectsBadShapesTargetsAndAlpha() {
    int[] y = {0, 1};
    IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
        () -> RDropLoss.compute(Tensor.zeros(2, 3, 1), Tensor.zeros(2, 3, 1), y, 1, Reduction.SUM));
    assertThat(rank.getMessage()).isEqualTo("logits1: expected rank 2 [N, C] but got shape [2, 3, 1]");
    IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class,
        () -> RDropLoss.compute(Tensor.zeros(2, 3), Tensor.zeros(2, 4), y, 1, Reduction.SUM));
    assertThat(mismatch.getMessage()).isEqualTo("logits2: expected shape [2, 3] but got [2, 4]");
    IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
        () -> RDropLoss.compute(Tensor.zeros(2, 3), Tensor.zeros(2, 3), new int[] {0}, 1, Reduction.SUM));
    assertThat(count.getMessage()).isEqualTo("targets: expected 2 targets (one per row of logits1 [2, 3]) but got 1");
    IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
        () -> RDropLoss.compute(Tensor.zeros(2, 3), Tensor.zeros(2, 3), new int[] {0, 9}, 1, Reduction.SUM));
    assertThat(range.getMessage()).isEqualTo("targets[1] = 9 is out of range: expected a class in [0, 3)");
    IllegalArgumentException alpha = assertThrows(IllegalArgumentException.class,
        () -> RDropLoss.compute(Tensor.zeros(2, 3), Tensor.zeros(2, 3), y, -1, Reduction.SUM));
    assertThat(alpha.getMessage()).isEqualTo("alpha: expected a finite value >= 0 but got -1.0");
  }

  static Tensor gaussian(SplittableRandom random, int... shape) {
    Tensor t = Tensor.zeros(shape);
    for (int k = 0; k < t.size(); k++) {
      t.data()[k] = (float) (random.nextGaussian() * 1.5);
    }
    return t;
  }
}
