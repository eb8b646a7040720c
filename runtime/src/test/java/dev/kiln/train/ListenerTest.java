package dev.kiln.train;

import static com.google.common.truth.Truth.assertThat;
import static dev.kiln.train.TrainerTest.SCHEDULE;
import static dev.kiln.train.TrainerTest.TRAIN;

import dev.kiln.data.InMemoryDataset;
import dev.kiln.train.TrainerTest.Setup;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ListenerTest {
  @TempDir Path dir;

  /** Records every call as a short string. */
  static final class Recorder implements TrainingListener {
    final List<String> events = new ArrayList<>();
    final List<BatchResult> batches = new ArrayList<>();

    @Override
    public void onBegin(TrainingStart s) {
      events.add("begin " + s.startEpoch() + " " + s.batchesPerEpoch() + " " + s.samplesPerEpoch());
    }

    @Override
    public void onEpochStart(int epoch) {
      events.add("epochStart " + epoch);
    }

    @Override
    public void onBatchEnd(BatchResult b) {
      events.add("batch " + b.epoch() + "." + b.batch());
      batches.add(b);
    }

    @Override
    public void onValidation(int epoch, Evaluation v) {
      events.add("validation " + epoch);
    }

    @Override
    public void onCheckpoint(int epoch, Path file) {
      events.add("checkpoint " + epoch);
    }

    @Override
    public void onEpochEnd(EpochStats s) {
      events.add("epochEnd " + s.epoch());
    }

    @Override
    public void onEnd(TrainingHistory h) {
      events.add("end " + h.epochs().size());
    }
  }

  private static List<String> expected(int firstEpoch, int epochs, int batches, boolean validation,
      boolean checkpoint) {
    List<String> e = new ArrayList<>();
    e.add("begin " + firstEpoch + " " + batches + " 10");
    for (int epoch = firstEpoch; epoch < epochs; epoch++) {
      e.add("epochStart " + epoch);
      for (int b = 0; b < batches; b++) {
        e.add("batch " + epoch + "." + b);
      }
      if (validation) {
        e.add("validation " + epoch);
      }
      if (checkpoint) {
        e.add("checkpoint " + epoch);
      }
      e.add("epochEnd " + epoch);
    }
    e.add("end " + (epochs - firstEpoch));
    return e;
  }

  @Test
  void callOrder() throws IOException {
    InMemoryDataset ten = TRAIN.subset(0, 10);
    TrainingConfig config = TrainingConfig.of(2, 4, 1L); // batches of 4, 4, 2

    Recorder plain = new Recorder();
    Setup s = new Setup(1);
    Trainer.builder().listener(plain).build().fit(s.model, ten, s.optimizer, SCHEDULE, s.objective, config);
    assertThat(plain.events).containsExactlyElementsIn(expected(0, 2, 3, false, false)).inOrder();

    Recorder full = new Recorder();
    Recorder second = new Recorder();
    Path file = dir.resolve("c.safetensors");
    s = new Setup(1);
    Trainer.builder().listener(full).listener(second).checkpoint(file).build()
        .fit(s.model, ten, ten, s.optimizer, SCHEDULE, s.objective, config);
    assertThat(full.events).containsExactlyElementsIn(expected(0, 2, 3, true, true)).inOrder();
    assertThat(second.events).isEqualTo(full.events);

    int[] sizes = full.batches.stream().mapToInt(BatchResult::size).toArray();
    assertThat(sizes).isEqualTo(new int[] {4, 4, 2, 4, 4, 2});
    int[] done = full.batches.stream().mapToInt(BatchResult::samplesDone).toArray();
    assertThat(done).isEqualTo(new int[] {4, 8, 10, 4, 8, 10});
    long[] steps = full.batches.stream().mapToLong(BatchResult::globalStep).toArray();
    assertThat(steps).isEqualTo(new long[] {1, 2, 3, 4, 5, 6});
    for (BatchResult b : full.batches) {
      assertThat(b.learningRate()).isEqualTo(SCHEDULE.lr(b.globalStep() - 1));
      assertThat(b.correct()).isAtMost(b.size());
    }

    Recorder resumed = new Recorder();
    s = new Setup(1);
    Trainer.builder().listener(resumed).build()
        .resume(file, s.model, ten, ten, s.optimizer, SCHEDULE, s.objective, config.withEpochs(4));
    assertThat(resumed.events).containsExactlyElementsIn(expected(2, 4, 3, true, false)).inOrder();
  }

  /** A clock that advances 50 ms per reading. */
  private static final class FakeClock implements java.util.function.LongSupplier {
    long now;

    @Override
    public long getAsLong() {
      now += 50_000_000L;
      return now;
    }
  }

  /**
   * What a {@link ProgressListener} on a {@link FakeClock} prints while a network trains on the first
   * {@code samples} training images, validating on the same images when {@code validate}.
   */
  private static String progressOutput(boolean interactive, int samples, boolean validate, TrainingConfig config) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ProgressListener progress = new ProgressListener(new PrintStream(bytes, true, StandardCharsets.UTF_8),
        interactive, new FakeClock());
    Setup s = new Setup(1);
    InMemoryDataset data = TRAIN.subset(0, samples);
    Trainer trainer = Trainer.builder().listener(progress).build();
    if (validate) {
      trainer.fit(s.model, data, data, s.optimizer, SCHEDULE, s.objective, config);
    } else {
      trainer.fit(s.model, data, s.optimizer, SCHEDULE, s.objective, config);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  @Test
  void plainProgressPrintsTenthsAndASummary() {
    String out = progressOutput(false, 100, true, TrainingConfig.of(2, 5, 1L));
    String[] lines = out.split("\n");
    // per epoch: 9 progress lines (10% .. 90%) and a summary; then the final line
    assertThat(lines).hasLength(2 * 10 + 1);
    assertThat(out).doesNotContain("\r");
    for (int e = 0; e < 2; e++) {
      for (int t = 1; t <= 9; t++) {
        assertThat(lines[e * 10 + t - 1]).matches(String.format(
            "epoch %d/2 +%d%% +%d/100  loss \\d+\\.\\d{4}  acc \\d+\\.\\d{2}%%  [\\d,]+ img/s  ETA \\d+:\\d\\d",
            e + 1, t * 10, t * 10));
      }
      assertThat(lines[e * 10 + 9]).matches(String.format(
          "epoch %d/2  loss \\d+\\.\\d{4}  acc \\d+\\.\\d{2}%%  val_loss \\d+\\.\\d{4}  val_acc \\d+\\.\\d{2}%%"
              + "  [\\d,]+ img/s  \\d+\\.\\ds", e + 1));
    }
    assertThat(lines[20]).matches("trained 2 epochs in \\d+\\.\\ds");
  }

  @Test
  void interactiveProgressRedrawsOneLine() {
    String out = progressOutput(true, 40, false, TrainingConfig.of(1, 4, 1L));
    // 10 steps 50 ms apart: the first, then every other step (>= 100 ms since the last draw), and the last
    String[] lines = out.split("\n");
    assertThat(lines).hasLength(2);
    assertThat(lines[0]).contains("\repoch 1/1 [##......................]  10% 4/40  loss ");
    assertThat(lines[0]).contains("\repoch 1/1 [#######.................]  30% 12/40  loss ");
    assertThat(lines[0]).doesNotContain("20% 8/40");
    assertThat(lines[0].split("\r")).hasLength(1 + 6 + 1); // 6 draws, then the line is cleared
    assertThat(lines[0]).contains("\repoch 1/1 [########################] 100% 40/40  loss ");
    assertThat(lines[0]).contains("ETA 0:00");
    assertThat(lines[0]).endsWith("\r\u001b[K" + lines[0].substring(lines[0].lastIndexOf("epoch 1/1  loss")));
    assertThat(lines[0].substring(lines[0].lastIndexOf('\r') + 4))
        .matches("epoch 1/1  loss \\d+\\.\\d{4}  acc \\d+\\.\\d{2}%  [\\d,]+ img/s  \\d+\\.\\ds");
  }
}
