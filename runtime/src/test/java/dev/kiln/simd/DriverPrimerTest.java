package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.GlobalAvgPool2d;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Module;
import dev.kiln.nn.SequentialModel;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

/**
 * {@link DriverPrimer}: its layers take every path of the driver loop with three kernel classes at each kernel
 * call, and in a fresh JVM a network's driver loop is not thrown out of compiled code as its tiles become hot.
 */
class DriverPrimerTest {
  @Test
  void primingTakesEveryPathWithThreeKernelClassesAtEveryKernelCall() {
    int rounds = 64;
    DriverPrimer.Calls calls = DriverPrimer.run(rounds);
    String[] kinds = {"convolution", "depthwise", "depthwise 3x3"};
    for (int k = 0; k < 3; k++) {
      for (int c = 0; c < 3; c++) {
        assertWithMessage(kinds[k] + " kernels of class " + c).that(calls.byKindAndClass()[k][c]).isGreaterThan(0L);
      }
    }
    // Depthwise layers in plain Java every eighth round: two samples of one channel block, 4 + 2 + 4 output
    // rows (3x3 at stride 1, at stride 2, 5x5).
    assertThat(calls.plainItems()).isEqualTo(rounds / 8 * 2 * (4 + 2 + 4));
  }

  /** The first priming in a JVM runs; every later call returns at once. */
  @Test
  void primesOncePerJvm() {
    DriverPrimer.prime();
    assertThat(DriverPrimer.prime()).isFalse();
  }

  /**
   * A child JVM runs a small MobileNet-like network (depthwise 3x3 layers at strides 1 and 2, pointwise layers)
   * until every tile is hot, under a flight recording: the priming is asked for by the first forward, not
   * before it; no uncommon trap of a changed branch or receiver class (in two such JVMs in a row, see below)
   * fires in the driver loop ({@code BlockedConv} and what the JIT inlines from it), and C2 compiles each of the
   * driver's methods ({@code BlockedConv.run} and its paths per run of rows) at most once plus once per loop (an
   * on-stack-replacement entry; once each here, against 3-4 times for {@code run} when it held every path's loops).
   * Without the priming ({@code -Dkiln.simd.primeDriver=false}) this network's loop was thrown
   * out 12-13 times (a new depthwise tile or pointwise tile class at a kernel call, a depthwise tile's first
   * hot call) and compiled 9-10 times.
   */
  @Test
  void theDriverLoopIsNotThrownOutAsTilesBecomeHot() throws Exception {
    String out = FreshJvm.run(DriverPrimerTest.class);
    List<String> traps = traps(out);
    // Whether a trap fires can depend on when the background compiler finishes relative to the forwards: where the
    // first child JVM saw any, a second runs, and the test fails if that one sees any too (a trap the code causes
    // every time fails both).
    if (!traps.isEmpty()) {
      String second = FreshJvm.run(DriverPrimerTest.class);
      assertWithMessage("first run:\n" + out + "\nsecond run:\n" + second).that(traps(second)).isEmpty();
      out = second;
    }
    java.util.Map<String, Integer> compiles = new java.util.TreeMap<>();
    boolean idle = false;
    for (String line : out.split("\n")) {
      if (line.startsWith("C2 ")) {
        String[] f = line.trim().split(" ");
        compiles.put(f[1], Integer.parseInt(f[2]));
      } else if (line.startsWith("IDLE ")) {
        idle = Boolean.parseBoolean(line.substring(5).trim());
      }
    }
    assertWithMessage(out).that(idle).isTrue();
    // The priming waits for the first forward (during it, it took processor time and C2's queue from it).
    assertWithMessage(out).that(out).contains("PRIMING BEFORE FIRST FORWARD false");
    assertWithMessage(out).that(out).contains("PRIMING AFTER FIRST FORWARD true");
    assertWithMessage(out).that(compiles.keySet()).isEqualTo(DRIVER_LOOPS.keySet());
    int total = 0;
    for (var e : DRIVER_LOOPS.entrySet()) {
      // The method itself and an on-stack-replacement entry into each of its loops, at most.
      assertWithMessage(out).that(compiles.get(e.getKey())).isAtMost(1 + e.getValue());
      total += compiles.get(e.getKey());
    }
    assertWithMessage(out).that(total).isAtLeast(1);
  }

  /** The uncommon traps the child JVM reported ({@code TRAP} lines). */
  private static List<String> traps(String out) {
    List<String> traps = new ArrayList<>();
    for (String line : out.split("\n")) {
      if (line.startsWith("TRAP ")) {
        traps.add(line);
      }
    }
    return traps;
  }

  /** The driver's methods ({@code BlockedConv.run} and the paths it calls per run of rows) and their loops. */
  private static final java.util.Map<String, Integer> DRIVER_LOOPS =
      java.util.Map.of("run", 1, "depthwiseRows", 2, "chunkRows", 2, "groupRows", 2, "runTiles", 1,
          "groupThroughChunks", 1, "firstTileRows", 3);

  /** The child JVM of {@link #theDriverLoopIsNotThrownOutAsTilesBecomeHot}. */
  public static void main(String[] args) throws Exception {
    Path file = Files.createTempFile("kiln-driver", ".jfr");
    try (Recording recording = new Recording()) {
      recording.enable("jdk.Deoptimization");
      recording.enable("jdk.Compilation").withThreshold(java.time.Duration.ZERO);
      recording.start();
      Net net = new Net();
      net.eval();
      Tensor x = TestTensors.uniform(new SplittableRandom(5), 1, 1, 3, 36, 36);
      System.out.println("PRIMING BEFORE FIRST FORWARD " + TileWarmer.primeRequested());
      net.forward(x);
      System.out.println("PRIMING AFTER FIRST FORWARD " + TileWarmer.primeRequested());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      boolean idle = false;
      while (!idle && System.nanoTime() < deadline) {
        net.forward(x);
        idle = TileWarmer.awaitIdle(0);
      }
      for (int i = 0; i < 200; i++) {
        net.forward(x);
      }
      recording.stop();
      recording.dump(file);
      System.out.println("IDLE " + idle);
    }
    java.util.Map<String, Integer> compiles = new java.util.TreeMap<>();
    for (String method : DRIVER_LOOPS.keySet()) {
      compiles.put(method, 0);
    }
    for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
      if (e.getEventType().getName().equals("jdk.Compilation")) {
        RecordedMethod m = e.getValue("method");
        if (e.getInt("compileLevel") == 4 && m.getType().getName().equals(BlockedConv.class.getName())
            && compiles.containsKey(m.getName())) {
          compiles.merge(m.getName(), 1, Integer::sum);
        }
      } else if (e.getEventType().getName().equals("jdk.Deoptimization")) {
        RecordedMethod m = e.getValue("method");
        String reason = e.getString("reason");
        if (m.getType().getName().startsWith(BlockedConv.class.getName())
            && (reason.contains("unstable") || reason.contains("class_check") || reason.contains("bimorphic"))) {
          System.out.println("TRAP " + reason + " " + m.getType().getName() + "." + m.getName() + " line "
              + e.getInt("lineNumber"));
        }
      }
    }
    Files.deleteIfExists(file);
    compiles.forEach((method, n) -> System.out.println("C2 " + method + " " + n));
  }

  /**
   * Stem, three depthwise 3x3 + pointwise pairs (the middle one at stride 2), pooling and a classifier; the last two
   * pointwise layers on rows of 9 pixels, in row groups ({@link BlockedConv#rowGroups}).
   */
  static final class Net extends SequentialModel {
    Net() {
      super(new int[] {3, 36, 36}, new int[] {10});
      add("stem", conv(3, 16, 36, 36, 3, 2, 1, 1, 1));
      add("dw1", conv(16, 16, 18, 18, 3, 1, 1, 16, 2));
      add("pw1", conv(16, 32, 18, 18, 1, 1, 0, 1, 3));
      add("dw2", conv(32, 32, 18, 18, 3, 2, 1, 32, 4));
      add("pw2", conv(32, 64, 9, 9, 1, 1, 0, 1, 5));
      add("dw3", conv(64, 64, 9, 9, 3, 1, 1, 64, 6));
      add("pw3", conv(64, 64, 9, 9, 1, 1, 0, 1, 7));
      add("gap", new GlobalAvgPool2d());
      add("flatten", new Flatten());
      add("fc", new Linear(64, 10, true, 8));
    }

    private static Module conv(int in, int out, int h, int w, int k, int s, int p, int groups, long seed) {
      return new NaiveConvKernel(NaiveConvKernel.geometry(in, out, h, w, k, k, s, s, 1, 1, p, p, p, p, groups,
          PaddingMode.ZEROS), true, Activation.RELU, seed);
    }
  }
}
