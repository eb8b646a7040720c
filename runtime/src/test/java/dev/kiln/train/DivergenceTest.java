package dev.kiln.train;

import static com.google.common.truth.Truth.assertThat;
import static dev.kiln.train.TrainerTest.SCHEDULE;
import static dev.kiln.train.TrainerTest.TRAIN;
import static dev.kiln.train.TrainerTest.VALIDATION;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.optim.LrSchedule;
import dev.kiln.optim.Optimizer;
import dev.kiln.tensor.Tensor;
import dev.kiln.train.TrainerTest.Setup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Training that diverges stops with a clear message and keeps the last good checkpoint. */
class DivergenceTest {
  /** 400 samples in batches of 32: 13 steps per epoch. */
  private static final TrainingConfig THREE_EPOCHS = TrainingConfig.of(3, 32, 7L);

  @TempDir Path dir;

  @Test
  void aNonFiniteLossStopsTrainingAndKeepsTheLastGoodCheckpoint() throws IOException {
    Path file = dir.resolve("ckpt.safetensors");
    Setup first = new Setup(1);
    Trainer.builder().checkpoint(file).build()
        .fit(first.model, TRAIN, VALIDATION, first.optimizer, SCHEDULE, first.objective, THREE_EPOCHS.withEpochs(1));
    byte[] good = Files.readAllBytes(file);

    LrSchedule explodes = step -> step < 13 ? SCHEDULE.lr(step) : 1e300; // from the first step of epoch 2
    Setup s = new Setup(1);
    TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> Trainer.builder()
        .checkpoint(file).build()
        .resume(file, s.model, TRAIN, VALIDATION, s.optimizer, explodes, s.objective, THREE_EPOCHS));
    // step 14 makes the weights infinite; the loss of step 15 is the first that is not finite
    assertThat(e).hasMessageThat().isEqualTo("training diverged in epoch 2: the loss of step 15 is NaN; the last "
        + "good checkpoint, after epoch 1, is kept in " + file);
    assertThat(e.epoch()).isEqualTo(1);
    assertThat(e.step()).isEqualTo(15);
    assertThat(Files.readAllBytes(file)).isEqualTo(good);
  }

  @Test
  void nonFiniteWeightsAtTheEndOfAnEpochStopTrainingBeforeTheCheckpoint() {
    Path file = dir.resolve("never.safetensors");
    Setup s = new Setup(1);
    Optimizer poisoning = new Optimizer() {
      private int steps;

      @Override
      public void step() {
        s.optimizer.step();
        if (++steps == 13) { // the last step of epoch 1, after its (finite) loss was computed
          s.model.namedParameters().get("weight").data().data()[5] = Float.POSITIVE_INFINITY;
        }
      }

      @Override
      public void zeroGrad() {
        s.optimizer.zeroGrad();
      }

      @Override
      public double learningRate() {
        return s.optimizer.learningRate();
      }

      @Override
      public void setLearningRate(double lr) {
        s.optimizer.setLearningRate(lr);
      }

      @Override
      public Map<String, Tensor> state() {
        return s.optimizer.state();
      }

      @Override
      public void loadState(Map<String, Tensor> state) {
        s.optimizer.loadState(state);
      }
    };
    TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> Trainer.builder()
        .checkpoint(file).build().fit(s.model, TRAIN, VALIDATION, poisoning, SCHEDULE, s.objective, THREE_EPOCHS));
    assertThat(e).hasMessageThat().isEqualTo("training diverged in epoch 1: after its last step the model's tensor "
        + "\"weight\" holds Infinity at element 5 of 640; no checkpoint was written before it (" + file + ")");
    assertThat(Files.exists(file)).isFalse();
  }

  @Test
  void firstNonFiniteNamesTheTensorTheValueAndItsPlace() {
    Map<String, Tensor> state = new java.util.LinkedHashMap<>();
    state.put("a", Tensor.of(new float[] {1, Float.MAX_VALUE}, 2));
    state.put("b", Tensor.of(new float[] {0, Float.NaN, Float.NEGATIVE_INFINITY}, 3));
    assertThat(FiniteCheck.firstNonFinite(state)).isEqualTo("tensor \"b\" holds NaN at element 1 of 3");
    state.remove("b");
    assertThat(FiniteCheck.firstNonFinite(state)).isNull();
  }
}
