package dev.kiln.train;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.data.Dataset;
import dev.kiln.data.Digits;
import dev.kiln.data.InMemoryDataset;
import dev.kiln.nn.AbstractModule;
import dev.kiln.nn.Module;
import dev.kiln.optim.LrSchedule;
import dev.kiln.tensor.Tensor;
import dev.kiln.train.TestParts.CrossEntropy;
import dev.kiln.train.TestParts.MomentumSgd;
import dev.kiln.train.TestParts.SoftmaxRegression;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainerTest {
  static final InMemoryDataset TRAIN = Digits.train().subset(0, 400);
  static final InMemoryDataset VALIDATION = Digits.test();
  static final LrSchedule SCHEDULE = step -> 0.2 * Math.pow(0.995, step);

  /** One model + optimizer + objective, built the same way every time. */
  static final class Setup {
    final SoftmaxRegression model;
    final MomentumSgd optimizer;
    final CrossEntropy objective;
    final List<String> log = new ArrayList<>();

    Setup(long initSeed) {
      model = new SoftmaxRegression(64, 10, 0.2, initSeed);
      optimizer = new MomentumSgd(model, 0.9);
      objective = new CrossEntropy(optimizer.log);
    }
  }

  static void assertSameState(Map<String, Tensor> a, Map<String, Tensor> b) {
    assertThat(b.keySet()).containsExactlyElementsIn(a.keySet()).inOrder();
    for (String k : a.keySet()) {
      assertThat(b.get(k).shape()).isEqualTo(a.get(k).shape());
      float[] x = a.get(k).data();
      float[] y = b.get(k).data();
      for (int i = 0; i < x.length; i++) {
        if (Float.floatToRawIntBits(x[i]) != Float.floatToRawIntBits(y[i])) {
          throw new AssertionError(k + "[" + i + "]: " + x[i] + " != " + y[i]);
        }
      }
    }
  }

  private static TrainingHistory train(Setup s, TrainingConfig config) {
    return Trainer.builder().build().fit(s.model, TRAIN, VALIDATION, s.optimizer, SCHEDULE, s.objective, config);
  }

  @Test
  void sameSeedSameWeights() {
    TrainingConfig config = TrainingConfig.of(3, 32, 7L);
    Setup a = new Setup(1);
    Setup b = new Setup(1);
    TrainingHistory ha = train(a, config);
    TrainingHistory hb = train(b, config);
    assertSameState(a.model.stateDict(), b.model.stateDict());
    assertSameState(a.optimizer.state(), b.optimizer.state());
    assertThat(hb.trainLoss()).isEqualTo(ha.trainLoss());
    assertThat(hb.validationAccuracy()).isEqualTo(ha.validationAccuracy());

    Setup c = new Setup(1);
    train(c, TrainingConfig.of(3, 32, 8L));
    assertThat(c.model.weight.data().data()).isNotEqualTo(a.model.weight.data().data());
  }

  @Test
  void learnsDigits() {
    SoftmaxRegression model = new SoftmaxRegression(64, 10, 0.0, 3);
    MomentumSgd optimizer = new MomentumSgd(model, 0.9);
    TrainingHistory h = Trainer.builder().build().fit(model, Digits.train(), VALIDATION, 6, 32, optimizer,
        step -> 0.05, new CrossEntropy(new ArrayList<>()), 11L);
    assertThat(h.epochs()).hasSize(6);
    EpochStats last = h.last().orElseThrow();
    // torch.nn.Linear + SGD(lr=0.05, momentum=0.9), same split, 6 epochs: train 0.96, test 0.90
    assertThat(last.validationAccuracy()).isGreaterThan(0.85);
    assertThat(last.trainAccuracy()).isGreaterThan(0.93);
    assertThat(h.trainLoss()[5]).isLessThan(h.trainLoss()[0]);
    assertThat(last.globalStep()).isEqualTo(6 * 47);
    assertThat(last.imagesPerSecond()).isGreaterThan(0.0);
    assertThat(last.seconds()).isGreaterThan(0.0);
    // the history's validation numbers are those of evaluate() on the final model
    Evaluation again = Trainer.evaluate(model, VALIDATION, 100);
    assertThat(again.accuracy()).isEqualTo(last.validationAccuracy());
    assertThat(again.loss()).isWithin(1e-12).of(last.validationLoss());
  }

  @Test
  void eachStepSetsLrZeroesStepsObjectiveThenUpdates() {
    Setup s = new Setup(1);
    InMemoryDataset small = TRAIN.subset(0, 50);
    Trainer.builder().build().fit(s.model, small, s.optimizer, SCHEDULE, s.objective, TrainingConfig.of(2, 16, 3L));
    List<String> expected = new ArrayList<>();
    for (int step = 0; step < 8; step++) { // 4 batches (16, 16, 16, 2) per epoch
      expected.add("lr=" + SCHEDULE.lr(step));
      expected.add("zeroGrad");
      expected.add("objective");
      expected.add("step");
    }
    assertThat(s.optimizer.log).containsExactlyElementsIn(expected).inOrder();
  }

  @Test
  void reseedsTheModelFromSeedAndEpoch() {
    List<Long> seeds = new ArrayList<>();
    SoftmaxRegression model = new SoftmaxRegression(64, 10, 0.2, 1) {
      @Override
      public void reseed(long seed) {
        seeds.add(seed);
        super.reseed(seed);
      }
    };
    MomentumSgd optimizer = new MomentumSgd(model, 0.0);
    Trainer.builder().build().fit(model, TRAIN.subset(0, 20), optimizer, SCHEDULE, new CrossEntropy(optimizer.log),
        TrainingConfig.of(3, 8, 99L));
    assertThat(seeds).containsExactly(Trainer.epochSeed(99L, 0), Trainer.epochSeed(99L, 1), Trainer.epochSeed(99L, 2))
        .inOrder();
    assertThat(seeds.get(0)).isNotEqualTo(seeds.get(1));
    assertThat(Trainer.epochSeed(99L, 0)).isNotEqualTo(Trainer.epochSeed(98L, 0));
    assertThat(Trainer.epochSeed(99L, 0)).isNotEqualTo(Trainer.objectiveSeed(99L, 0));
  }

  @Test
  void validatesInEvalModeAndReturnsToTraining() {
    Setup s = new Setup(1);
    List<Boolean> trainingAtValidation = new ArrayList<>();
    Trainer trainer = Trainer.builder().listener(new TrainingListener() {
      @Override
      public void onValidation(int epoch, Evaluation validation) {
        trainingAtValidation.add(s.model.isTraining());
        assertThat(validation.samples()).isEqualTo(297);
      }
    }).build();
    trainer.fit(s.model, TRAIN.subset(0, 64), VALIDATION, s.optimizer, SCHEDULE, s.objective,
        TrainingConfig.of(2, 32, 1L).withEvalBatchSize(100));
    assertThat(s.model.evalForwards).isEqualTo(2 * 3); // ceil(297 / 100) per epoch
    assertThat(s.model.trainForwards).isEqualTo(2 * 2);
    assertThat(trainingAtValidation).containsExactly(true, true);
    assertThat(s.model.isTraining()).isTrue();
  }

  /** Returns fixed logits per sample: sample i of the data set below holds the value i. */
  static final class TableModel extends AbstractModule {
    final float[][] table;

    TableModel(float[][] table) {
      this.table = table;
    }

    @Override
    public Tensor forward(Tensor input) {
      int n = input.dim(0);
      int c = table[0].length;
      float[] z = new float[n * c];
      for (int i = 0; i < n; i++) {
        System.arraycopy(table[(int) input.data()[i]], 0, z, i * c, c);
      }
      return Tensor.of(z, n, c);
    }

    @Override
    public Tensor backward(Tensor gradOutput) {
      throw new UnsupportedOperationException();
    }
  }

  @Test
  void evaluateComputesCrossEntropyAndArgmaxAccuracy() {
    float[][] logits = {{2, 1, 0}, {0, 0, 0}, {1, 3, 2}, {-1, 5, 5}};
    int[] labels = {0, 0, 2, 2};
    Dataset data = InMemoryDataset.of(new float[] {0, 1, 2, 3}, labels, 3, 1);
    TableModel model = new TableModel(logits);
    double expectedLoss = 0;
    for (int i = 0; i < 4; i++) {
      double sum = 0;
      for (float z : logits[i]) {
        sum += Math.exp(z);
      }
      expectedLoss += Math.log(sum) - logits[i][labels[i]];
    }
    expectedLoss /= 4;
    for (int batch : new int[] {1, 3, 4, 10}) {
      Evaluation e = Trainer.evaluate(model, data, batch);
      // correct: row 0 (argmax 0), row 1 (tie -> first index 0); wrong: row 2 (argmax 1), row 3 (tie -> 1)
      assertThat(e.accuracy()).isEqualTo(0.5);
      assertThat(e.loss()).isWithin(1e-9).of(expectedLoss);
      assertThat(e.samples()).isEqualTo(4);
      assertThat(model.isTraining()).isTrue();
    }
    model.eval();
    Trainer.evaluate(model, data, 2);
    assertThat(model.isTraining()).isFalse();
  }

  @Test
  void rejectsInconsistentInputs() {
    Setup s = new Setup(1);
    Trainer trainer = Trainer.builder().build();
    InMemoryDataset wrongShape = InMemoryDataset.of(new float[4 * 3], new int[] {0, 1, 2}, 10, 2, 2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> trainer.fit(s.model, TRAIN, wrongShape, s.optimizer, SCHEDULE, s.objective, TrainingConfig.of(1, 8, 1)));
    assertThat(e).hasMessageThat().isEqualTo("validation samples: expected shape [1, 8, 8] but got [2, 2]");
    e = assertThrows(IllegalArgumentException.class, () -> trainer.fit(s.model, TRAIN.subset(0, 5), s.optimizer,
        SCHEDULE, s.objective, TrainingConfig.of(1, 8, 1).withDropLast(true)));
    assertThat(e).hasMessageThat().isEqualTo("the training set of 5 samples yields no batch of size 8 with dropLast");
    Module wrongOutput = new TableModel(new float[][] {{1, 2}});
    e = assertThrows(IllegalArgumentException.class,
        () -> Trainer.evaluate(wrongOutput, InMemoryDataset.of(new float[] {0, 0}, new int[] {1, 3}, 4, 1), 2));
    assertThat(e).hasMessageThat().isEqualTo("model output: label 3 is not a class index of logits [2, 2]");
    e = assertThrows(IllegalArgumentException.class, () -> TrainingConfig.of(1, 0, 1));
    assertThat(e).hasMessageThat().isEqualTo("batchSize must be >= 1 but was 0");
  }

  @Test
  void historyHoldsEveryEpoch() {
    Setup s = new Setup(2);
    TrainingHistory h = train(s, TrainingConfig.of(2, 64, 5L));
    assertThat(h.epochs()).hasSize(2);
    assertThat(h.epochs().get(0).epoch()).isEqualTo(0);
    assertThat(h.epochs().get(1).epoch()).isEqualTo(1);
    assertThat(h.epochs().get(1).globalStep()).isEqualTo(14); // 7 batches of 64 over 400 samples
    for (EpochStats e : h.epochs()) {
      assertThat(e.trainLoss()).isGreaterThan(0.0);
      assertThat(e.trainAccuracy()).isAtLeast(0.0);
      assertThat(e.trainAccuracy()).isAtMost(1.0);
      assertThat(e.validationAccuracy()).isAtLeast(0.0);
    }
    assertThat(h.totalSeconds()).isWithin(1e-12).of(h.seconds()[0] + h.seconds()[1]);
    TrainingHistory noValidation = Trainer.builder().build().fit(s.model, TRAIN, s.optimizer, SCHEDULE, s.objective,
        TrainingConfig.of(1, 64, 5L));
    assertThat(noValidation.validationAccuracy()[0]).isNaN();
  }
}
