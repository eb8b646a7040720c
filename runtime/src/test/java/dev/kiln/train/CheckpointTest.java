package dev.kiln.train;

import static com.google.common.truth.Truth.assertThat;
import static dev.kiln.train.TrainerTest.SCHEDULE;
import static dev.kiln.train.TrainerTest.TRAIN;
import static dev.kiln.train.TrainerTest.VALIDATION;
import static dev.kiln.train.TrainerTest.assertSameState;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.data.Dataset;
import dev.kiln.data.InMemoryDataset;
import dev.kiln.io.AtomicFile;
import dev.kiln.io.SafeTensors;
import dev.kiln.tensor.Tensor;
import dev.kiln.train.TrainerTest.Setup;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.concurrent.TimeUnit;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
  @TempDir Path dir;

  private static final TrainingConfig THREE_EPOCHS = TrainingConfig.of(3, 32, 7L);

  private static TrainingHistory fit(Path checkpoint, Setup s, TrainingConfig config) {
    return Trainer.builder().checkpoint(checkpoint).build()
        .fit(s.model, TRAIN, VALIDATION, s.optimizer, SCHEDULE, s.objective, config);
  }

  @Test
  void resumeReachesExactlyTheWeightsOfAnUninterruptedRun() throws IOException {
    Setup full = new Setup(1);
    TrainingHistory fullHistory = fit(dir.resolve("full.safetensors"), full, THREE_EPOCHS);

    Path file = dir.resolve("part.safetensors");
    fit(file, new Setup(1), THREE_EPOCHS.withEpochs(1));
    Setup resumed = new Setup(12345); // other initial weights: all state must come from the checkpoint
    TrainingHistory rest = Trainer.builder().checkpoint(file).build()
        .resume(file, resumed.model, TRAIN, VALIDATION, resumed.optimizer, SCHEDULE, resumed.objective, THREE_EPOCHS);

    assertSameState(full.model.stateDict(), resumed.model.stateDict());
    assertSameState(full.optimizer.state(), resumed.optimizer.state());
    assertThat(rest.epochs()).hasSize(2);
    for (int e = 1; e < 3; e++) {
      EpochStats a = fullHistory.epochs().get(e);
      EpochStats b = rest.epochs().get(e - 1);
      assertThat(b.epoch()).isEqualTo(e);
      assertThat(b.globalStep()).isEqualTo(a.globalStep());
      assertThat(b.trainLoss()).isEqualTo(a.trainLoss());
      assertThat(b.validationAccuracy()).isEqualTo(a.validationAccuracy());
    }
    // and the resumed run's last checkpoint equals the full run's
    Checkpoint c1 = Checkpoint.read(dir.resolve("full.safetensors"));
    Checkpoint c2 = Checkpoint.read(file);
    assertSameState(c1.modelState(), c2.modelState());
    assertThat(c2.epoch()).isEqualTo(3);
    assertThat(c2.globalStep()).isEqualTo(c1.globalStep());
  }

  @Test
  void resumingOneEpochAtATimeIsAlsoExact() throws IOException {
    Setup full = new Setup(4);
    fit(dir.resolve("full.safetensors"), full, THREE_EPOCHS);
    Path file = dir.resolve("steps.safetensors");
    fit(file, new Setup(4), THREE_EPOCHS.withEpochs(1));
    for (int epochs = 2; epochs <= 3; epochs++) {
      Setup s = new Setup(99);
      Trainer.builder().checkpoint(file).build()
          .resume(file, s.model, TRAIN, VALIDATION, s.optimizer, SCHEDULE, s.objective, THREE_EPOCHS.withEpochs(epochs));
      if (epochs == 3) {
        assertSameState(full.model.stateDict(), s.model.stateDict());
      }
    }
  }

  @Test
  void checkpointHoldsStateAndMetadata() throws IOException {
    Path file = dir.resolve("ckpt.safetensors");
    Setup s = new Setup(1);
    fit(file, s, THREE_EPOCHS.withEpochs(2));
    SafeTensors.Contents raw = SafeTensors.readWithMetadata(file);
    assertThat(raw.tensors().keySet())
        .containsExactly("model.weight", "model.bias", "optim.momentum_buffer.weight", "optim.momentum_buffer.bias")
        .inOrder();
    Map<String, String> m = raw.metadata();
    assertThat(m.get("format")).isEqualTo("kiln-checkpoint-2");
    assertThat(m.get("epoch")).isEqualTo("2");
    assertThat(m.get("global_step")).isEqualTo("26"); // 13 batches (12 x 32 + 16) per epoch
    assertThat(m.get("seed")).isEqualTo("7");
    assertThat(m.get("batch_size")).isEqualTo("32");
    assertThat(m.get("drop_last")).isEqualTo("false");
    assertThat(m.get("train_samples")).isEqualTo("400");
    assertThat(m.get("config"))
        .isEqualTo("{\"epochs\":2,\"batch_size\":32,\"seed\":7,\"drop_last\":false,\"eval_batch_size\":256,"
            + "\"settings\":{}}");
    assertThat(m.get("settings")).isEqualTo("{}");
    assertThat(m.get("train_data")).isEqualTo(RunIdentity.fingerprint(TRAIN));
    assertThat(m.get("train_data")).startsWith("400 samples, crc32c ");
    assertThat(m.get("threads")).isEqualTo(Integer.toString(dev.kiln.runtime.Parallel.threads()));
    assertThat(m.get("arithmetic")).isEqualTo(dev.kiln.nn.PlaneLoops.get().toString());
    assertThat(m.get("rng_state")).contains("\"next_epoch\":2");
    assertThat(m.get("rng_state")).contains("\"model_seed\":" + Trainer.epochSeed(7L, 2) + ",");
    assertThat(m).containsKey("validation_accuracy");

    Checkpoint c = Checkpoint.read(file);
    assertSameState(s.model.stateDict(), c.modelState());
    assertSameState(s.optimizer.state(), c.optimizerState());
    assertThat(c.epoch()).isEqualTo(2);
    assertThat(c.globalStep()).isEqualTo(26L);
    assertThat(c.seed()).isEqualTo(7L);
  }

  @Test
  void failedWriteLeavesThePreviousCheckpointIntact() throws IOException {
    Path file = dir.resolve("ckpt.safetensors");
    Setup s = new Setup(1);
    fit(file, s, THREE_EPOCHS.withEpochs(1));
    byte[] before = Files.readAllBytes(file);

    IOException e = assertThrows(IOException.class, () -> AtomicFile.write(file, out -> {
      out.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3})); // a partial file, then the disk fills up
      throw new IOException("No space left on device");
    }));
    assertThat(e).hasMessageThat().isEqualTo("No space left on device");
    assertThrows(IllegalStateException.class, () -> AtomicFile.write(file, out -> {
      out.write(java.nio.ByteBuffer.wrap(new byte[] {4, 5}));
      throw new IllegalStateException("crash");
    }));
    assertThat(Files.readAllBytes(file)).isEqualTo(before);
    assertThat(Checkpoint.read(file).epoch()).isEqualTo(1);
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("ckpt.safetensors");
    }

    // the trainer reports a failing checkpoint write and keeps the old file: here the target is a directory
    Path blocked = dir.resolve("blocked");
    Files.createDirectories(blocked.resolve("child"));
    UncheckedIOException u = assertThrows(UncheckedIOException.class, () -> fit(blocked, new Setup(1),
        THREE_EPOCHS.withEpochs(1)));
    assertThat(u).hasMessageThat().isEqualTo("cannot write checkpoint " + blocked + " after epoch 1: " + blocked
        + ": exists and is not a regular file (a directory); refusing to replace it");
    assertThat(u).hasCauseThat().isInstanceOf(java.nio.file.FileSystemException.class);
    assertThat(Files.isDirectory(blocked.resolve("child"))).isTrue();
  }

  @Test
  void aCheckpointWriteGoesThroughOneTemporaryFile() throws IOException, InterruptedException {
    Path file = dir.resolve("ckpt.safetensors");
    Checkpoint checkpoint = Checkpoint.of(Map.of("w", Tensor.of(new float[] {1, 2}, 2)), Map.of(), meta(1));
    List<String> created = new java.util.ArrayList<>();
    try (WatchService watcher = dir.getFileSystem().newWatchService()) {
      dir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE);
      checkpoint.write(file);
      WatchKey key;
      while ((key = watcher.poll(500, TimeUnit.MILLISECONDS)) != null) {
        for (WatchEvent<?> event : key.pollEvents()) {
          assertThat(event.kind()).isEqualTo(StandardWatchEventKinds.ENTRY_CREATE);
          created.add(event.context().toString());
        }
        key.reset();
      }
    }
    assertThat(created.stream().filter(name -> name.endsWith(".tmp")).count()).isEqualTo(1);
    assertThat(created).contains("ckpt.safetensors");
    assertThat(Checkpoint.read(file).epoch()).isEqualTo(1);
  }

  @Test
  void writeReplacesAnExistingCheckpoint() throws IOException {
    Path file = dir.resolve("ckpt.safetensors");
    Checkpoint.of(Map.of("w", Tensor.of(new float[] {1, 2}, 2)), Map.of(), meta(1)).write(file);
    Checkpoint.of(Map.of("w", Tensor.of(new float[] {3, 4}, 2)), Map.of(), meta(2)).write(file);
    Checkpoint c = Checkpoint.read(file);
    assertThat(c.epoch()).isEqualTo(2);
    assertThat(c.modelState().get("w").data()).usingExactEquality().containsExactly(3f, 4f).inOrder();
  }

  @Test
  void batchNormCountersAreStoredAsInt64() throws IOException {
    Path file = dir.resolve("bn.safetensors");
    Map<String, Tensor> model = new java.util.LinkedHashMap<>();
    model.put("bn.running_mean", Tensor.of(new float[] {0.5f}, 1));
    model.put("bn.num_batches_tracked", Tensor.scalar(12345f));
    Checkpoint.of(model, Map.of(), meta(1)).write(file);
    byte[] bytes = Files.readAllBytes(file);
    String header = new String(bytes, 8, (int) java.nio.ByteBuffer.wrap(bytes, 0, 8)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(header.replace(" ", "")).contains("\"model.bn.num_batches_tracked\":{\"dtype\":\"I64\"");
    assertThat(header.replace(" ", "")).contains("\"model.bn.running_mean\":{\"dtype\":\"F32\"");
    Checkpoint c = Checkpoint.read(file);
    assertThat(c.modelState().get("bn.num_batches_tracked").data()[0]).isEqualTo(12345f);
    assertThat(c.modelState().get("bn.num_batches_tracked").shape()).isEmpty();
  }

  private static Map<String, String> meta(int epoch) {
    return Map.of("format", Checkpoint.FORMAT, "epoch", Integer.toString(epoch), "global_step", "5", "seed", "-3",
        "batch_size", "8", "drop_last", "true", "train_samples", "100");
  }

  @Test
  void resumeRejectsAMismatchedRun() throws IOException {
    Path file = dir.resolve("ckpt.safetensors");
    fit(file, new Setup(1), THREE_EPOCHS.withEpochs(2));
    Trainer trainer = Trainer.builder().build();
    record Mismatch(TrainingConfig config, String message) {}
    List<Mismatch> cases = List.of(
        new Mismatch(TrainingConfig.of(3, 32, 8L), "with seed 7 but this run has 8"),
        new Mismatch(TrainingConfig.of(3, 16, 7L), "with batch size 32 but this run has 16"),
        new Mismatch(THREE_EPOCHS.withDropLast(true), "with dropLast false but this run has true"),
        new Mismatch(THREE_EPOCHS.withEpochs(1), "was written after epoch 2, past the configured 1 epochs"));
    for (Mismatch m : cases) {
      Setup s = new Setup(1);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> trainer.resume(file, s.model, TRAIN, s.optimizer, SCHEDULE, s.objective, m.config()));
      assertThat(e).hasMessageThat().contains(m.message());
    }
    Setup s = new Setup(1);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> trainer.resume(file, s.model,
        TRAIN.subset(0, 399), s.optimizer, SCHEDULE, s.objective, THREE_EPOCHS));
    assertThat(e).hasMessageThat().contains("with training set size 400 but this run has 399");
    // a model that does not fit the saved state: refused before the tensors are allocated
    TestParts.SoftmaxRegression other = new TestParts.SoftmaxRegression(64, 5, 0, 1);
    IOException io = assertThrows(IOException.class, () -> trainer.resume(file, other, TRAIN,
        new TestParts.MomentumSgd(other, 0.9), SCHEDULE, s.objective, THREE_EPOCHS));
    assertThat(io).hasMessageThat().isEqualTo(file + ": tensor \"model.weight\": shape [10, 64] but expected [5, 64]");
    // resuming a finished run trains nothing
    assertThat(trainer.resume(file, s.model, TRAIN, s.optimizer, SCHEDULE, s.objective, THREE_EPOCHS.withEpochs(2))
        .epochs()).isEmpty();
  }

  /** A resume must repeat every setting that changes the result; it names the first that differs. */
  @Test
  void resumeRefusesOtherSettingsOrDataNamingBothValues() throws IOException {
    Path file = dir.resolve("settings.safetensors");
    TrainingConfig config = THREE_EPOCHS.withSetting("--dataset", "digits").withSetting("--lr", 0.2);
    fit(file, new Setup(1), config.withEpochs(1));
    Trainer trainer = Trainer.builder().build();
    record Mismatch(TrainingConfig config, Dataset data, String message) {}
    InMemoryDataset otherValues = TRAIN.normalized(new dev.kiln.data.Normalization(0.5f, 1f));
    List<Mismatch> cases = List.of(
        new Mismatch(config.withSetting("--lr", 0.1), TRAIN, "with --lr 0.2 but this run has 0.1"),
        new Mismatch(config.withSetting("--dataset", "fashion-mnist"), TRAIN,
            "with --dataset digits but this run has fashion-mnist"),
        new Mismatch(config.withSetting("--variant", "wide"), TRAIN,
            "without --variant but this run has --variant wide"),
        new Mismatch(THREE_EPOCHS.withSetting("--dataset", "digits"), TRAIN, "with --lr 0.2 but this run has no --lr"),
        new Mismatch(config, otherValues, "with training data " + RunIdentity.fingerprint(TRAIN)
            + " but this run has " + RunIdentity.fingerprint(otherValues)));
    for (Mismatch m : cases) {
      Setup s = new Setup(1);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> trainer.resume(file, s.model, m.data(), s.optimizer, SCHEDULE, s.objective, m.config()));
      assertThat(e).hasMessageThat().isEqualTo(file + " was written by a run " + m.message());
    }
    assertThat(RunIdentity.fingerprint(otherValues)).isNotEqualTo(RunIdentity.fingerprint(TRAIN));
    Setup s = new Setup(1);
    assertThat(trainer.resume(file, s.model, TRAIN, s.optimizer, SCHEDULE, s.objective, config).epochs()).hasSize(2);
  }

  @Test
  void resumeRefusesACheckpointThatDoesNotRecordWhatTheCheckNeeds() throws IOException {
    Path file = dir.resolve("old.safetensors");
    Setup s = new Setup(1);
    Map<String, String> earlier = new java.util.LinkedHashMap<>(meta(1));
    earlier.put("format", "kiln-checkpoint-1");
    earlier.put("batch_size", "32");
    earlier.put("seed", "7");
    earlier.put("drop_last", "false");
    earlier.put("train_samples", "400");
    Checkpoint.of(s.model.stateDict(), s.optimizer.state(), earlier).write(file);
    IOException e = assertThrows(IOException.class, () -> Trainer.builder().build()
        .resume(file, s.model, TRAIN, s.optimizer, SCHEDULE, s.objective, THREE_EPOCHS));
    assertThat(e).hasMessageThat().isEqualTo(file + ": the checkpoint does not record settings, train_data, "
        + "threads, arithmetic, which a resume needs to check that this run repeats the one that wrote it (a "
        + "checkpoint of an earlier version of Kiln?); it cannot be resumed");
    assertThat(Checkpoint.read(file).epoch()).isEqualTo(1); // its weights can still be read
  }

  /** Another thread count may resume a run, with a notice that the last bits will differ. */
  @Test
  void resumeOnAnotherThreadCountSaysTheResultWillDifferInTheLastBits() throws IOException {
    Path file = dir.resolve("threads.safetensors");
    int threads = dev.kiln.runtime.Parallel.threads();
    List<String> notices = new java.util.ArrayList<>();
    TrainingListener listener = new TrainingListener() {
      @Override
      public void onNotice(String message) {
        notices.add(message);
      }
    };
    try {
      dev.kiln.runtime.Parallel.setThreads(1);
      fit(file, new Setup(1), THREE_EPOCHS.withEpochs(1));
      Setup same = new Setup(1);
      Trainer.builder().listener(listener).build()
          .resume(file, same.model, TRAIN, same.optimizer, SCHEDULE, same.objective, THREE_EPOCHS.withEpochs(1));
      assertThat(notices).isEmpty();
      dev.kiln.runtime.Parallel.setThreads(3);
      Setup s = new Setup(1);
      Trainer.builder().listener(listener).build()
          .resume(file, s.model, TRAIN, s.optimizer, SCHEDULE, s.objective, THREE_EPOCHS.withEpochs(2));
    } finally {
      dev.kiln.runtime.Parallel.setThreads(threads);
    }
    assertThat(notices).containsExactly("resuming with 3 threads where the checkpoint's run had 1 thread: the "
        + "result will differ from an uninterrupted run in the last bits");
  }

  @Test
  void readRejectsFilesThatAreNotCheckpoints() throws IOException {
    Path plain = dir.resolve("weights.safetensors");
    SafeTensors.write(plain, Map.of("weight", Tensor.zeros(2)), Map.of());
    IOException e = assertThrows(IOException.class, () -> Checkpoint.read(plain));
    assertThat(e).hasMessageThat().contains("not a Kiln checkpoint: metadata format is missing");

    Path stray = dir.resolve("stray.safetensors");
    SafeTensors.write(stray, Map.of("weight", Tensor.zeros(2)), meta(1));
    e = assertThrows(IOException.class, () -> Checkpoint.read(stray));
    assertThat(e).hasMessageThat().contains("tensor \"weight\" has neither prefix \"model.\" nor \"optim.\"");

    Path badEpoch = dir.resolve("bad.safetensors");
    Map<String, String> meta = new java.util.HashMap<>(meta(1));
    meta.put("epoch", "-1");
    SafeTensors.write(badEpoch, Map.of("model.w", Tensor.zeros(2)), meta);
    e = assertThrows(IOException.class, () -> Checkpoint.read(badEpoch));
    assertThat(e).hasMessageThat().contains("checkpoint metadata \"epoch\" has invalid value \"-1\"");

    meta.remove("epoch");
    SafeTensors.write(badEpoch, Map.of("model.w", Tensor.zeros(2)), meta);
    e = assertThrows(IOException.class, () -> Checkpoint.read(badEpoch));
    assertThat(e).hasMessageThat().contains("checkpoint metadata lacks \"epoch\"");
  }

  /** Only ASCII digits: Long.parseLong would read other scripts' digits and a plus sign. */
  @Test
  void readRejectsNumbersOtherThanAsciiDigits() throws IOException {
    Path file = dir.resolve("digits.safetensors");
    int cases = 0;
    for (String value : new String[] {"\u0663", "+3", "3\u0660", "", "-", " 3", "3 ", "\uff13"}) {
      Map<String, String> meta = new java.util.HashMap<>(meta(1));
      meta.put("epoch", value);
      SafeTensors.write(file, Map.of("model.w", Tensor.zeros(2)), meta);
      IOException e = assertThrows(IOException.class, () -> Checkpoint.read(file), value);
      assertThat(e).hasMessageThat().contains("checkpoint metadata \"epoch\" has invalid value ");
      cases++;
    }
    assertThat(cases).isEqualTo(8);
    Map<String, String> meta = new java.util.HashMap<>(meta(1));
    meta.put("seed", "-42");
    SafeTensors.write(file, Map.of("model.w", Tensor.zeros(2)), meta);
    assertThat(Checkpoint.read(file).seed()).isEqualTo(-42);
  }

  /** Names and values from the file are shortened in messages, so a hostile file cannot make a huge one. */
  @Test
  void messagesShortenWhatTheFileHolds() throws IOException {
    String longName = "x".repeat(1_000_000);
    Path stray = dir.resolve("long-name.safetensors");
    SafeTensors.write(stray, Map.of(longName, Tensor.zeros(2)), meta(1));
    IOException e = assertThrows(IOException.class, () -> Checkpoint.read(stray));
    assertThat(e).hasMessageThat().contains("tensor \"" + "x".repeat(200) + "...\" has neither prefix");
    assertThat(e.getMessage().length()).isLessThan(600);

    Path badValue = dir.resolve("long-value.safetensors");
    Map<String, String> meta = new java.util.HashMap<>(meta(1));
    meta.put("epoch", "9".repeat(1_000_000));
    SafeTensors.write(badValue, Map.of("model.w", Tensor.zeros(2)), meta);
    e = assertThrows(IOException.class, () -> Checkpoint.read(badValue));
    assertThat(e).hasMessageThat().contains("has invalid value \"" + "9".repeat(200) + "...\"");
    assertThat(e.getMessage().length()).isLessThan(600);

    Path badFormat = dir.resolve("long-format.safetensors");
    meta = new java.util.HashMap<>(meta(1));
    meta.put("format", "f".repeat(1_000_000));
    SafeTensors.write(badFormat, Map.of("model.w", Tensor.zeros(2)), meta);
    e = assertThrows(IOException.class, () -> Checkpoint.read(badFormat));
    assertThat(e).hasMessageThat().contains("metadata format is \"" + "f".repeat(200) + "...\"");
    assertThat(e.getMessage().length()).isLessThan(600);
  }
}
