package dev.kiln.samples.spark;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.io.SafeTensors;
import dev.kiln.nn.Module;
import dev.kiln.runtime.Parallel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The fused network is built once per JVM, by the first of the tasks that need it, and shared by all of them;
 * the tasks set Kiln's pool to {@code --kiln-threads}.
 */
class ExecutorModelsTest {
  @Test
  void concurrentFirstCallsBuildTheNetworkOnce() throws Exception {
    ModelArtifact artifact = ModelArtifact.read(distinctWeights("concurrent"), null);
    int before = ExecutorModels.loads();
    int threads = 8;
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<Module>> calls = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        Callable<Module> call = () -> {
          start.await();
          return ExecutorModels.fused(artifact, 1);
        };
        calls.add(pool.submit(call));
      }
      start.countDown();
      Set<Module> distinct = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
      for (Future<Module> f : calls) {
        distinct.add(f.get());
      }
      assertThat(distinct).hasSize(1);
    } finally {
      pool.shutdown();
    }
    assertThat(ExecutorModels.loads() - before).isEqualTo(1);
  }

  @Test
  void aJobsTasksShareOneNetworkPerJvm() throws IOException {
    Path weights = distinctWeights("job");
    int before = ExecutorModels.loads();
    Fixtures.Run first = Fixtures.spark("score", "--model", weights.toString(), "--split", "all",
        "--partitions", "6", "--output", Fixtures.newDir("shared").resolve("scores").toString());
    assertWithMessage(first.err()).that(first.exitCode()).isEqualTo(0);
    assertThat(ExecutorModels.loads() - before).isEqualTo(1);

    Fixtures.Run second = Fixtures.spark("score", "--model", weights.toString(), "--partitions", "3",
        "--output", Fixtures.newDir("shared").resolve("scores").toString());
    assertWithMessage(second.err()).that(second.exitCode()).isEqualTo(0);
    assertThat(ExecutorModels.loads() - before).isEqualTo(1); // the same bytes: still the first job's network
  }

  @Test
  void tasksSetKilnsPoolToKilnThreads() {
    String weights = Fixtures.digitsWeights().toString();
    try {
      Fixtures.Run two = Fixtures.spark("score", "--model", weights, "--kiln-threads", "2", "--output",
          Fixtures.newDir("threads").resolve("scores").toString());
      assertWithMessage(two.err()).that(two.exitCode()).isEqualTo(0);
      assertThat(Parallel.threads()).isEqualTo(2);
      assertThat(two.out()).contains("Kiln pool 2 threads per JVM");

      Fixtures.Run one = Fixtures.spark("score", "--model", weights, "--output",
          Fixtures.newDir("threads").resolve("scores").toString());
      assertWithMessage(one.err()).that(one.exitCode()).isEqualTo(0);
      assertThat(Parallel.threads()).isEqualTo(1);
      assertThat(one.out()).contains("Kiln pool 1 thread per JVM");
    } finally {
      Parallel.setThreads(1);
    }
  }

  /** The digits weights with a metadata entry of their own: the same network, bytes no other test uses. */
  private static Path distinctWeights(String tag) throws IOException {
    SafeTensors.Contents contents = SafeTensors.readWithMetadata(Fixtures.digitsWeights());
    Map<String, String> metadata = new LinkedHashMap<>(contents.metadata());
    metadata.put("test", tag);
    Set<String> int64 = new LinkedHashSet<>();
    for (String key : contents.tensors().keySet()) {
      if (key.endsWith("num_batches_tracked")) {
        int64.add(key);
      }
    }
    Path file = Fixtures.newDir("weights-" + tag).resolve("model.safetensors");
    SafeTensors.write(file, contents.tensors(), metadata, int64);
    return file;
  }
}
