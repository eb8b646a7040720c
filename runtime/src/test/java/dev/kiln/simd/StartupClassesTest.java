package dev.kiln.simd;

import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.io.SafeTensors;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.GlobalAvgPool2d;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Module;
import dev.kiln.nn.SequentialModel;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing of the runtime generates a class at run time on the way to a network's first result: no lambda or
 * method reference is made between constructing a network and its first forward's output. Each such class costs
 * about 0.75 ms in a fresh JVM (a few ms for a new shape), and the bytecode library that makes them gets hot
 * enough for the JIT to compile it while the first tile waits for the compiler; about 50 were made there before
 * (a MobileNet v1's first result 585 against 664 ms without them, medians of eight fresh JVMs on the AMD EPYC
 * Zen 1, {@code bench-results/startup-and-tiles-s22-avx2-2026-12-04.txt}).
 */
class StartupClassesTest {
  private static final String FIRST = "FIRST RESULT";

  @Test
  void noLambdaOfTheRuntimeBeforeTheFirstResult(@TempDir Path dir) throws Exception {
    DriverPrimerTest.Net trained = new DriverPrimerTest.Net();
    Path weights = dir.resolve("net.safetensors");
    SafeTensors.write(weights, trained.stateDict(), Map.of());

    String out = FreshJvm.run(StartupClassesTest.class, List.of("-Xlog:class+load=info:stdout"), weights.toString());
    List<String> generated = new ArrayList<>();
    int kilnClasses = 0;
    boolean first = false;
    for (String line : out.split("\n")) {
      if (line.startsWith(FIRST)) {
        first = true;
        break;
      }
      int at = line.indexOf("] dev.kiln.");
      if (at < 0) {
        continue;
      }
      String name = line.substring(at + 2, line.indexOf(' ', at + 2));
      kilnClasses++;
      int lambda = name.indexOf("$$Lambda");
      if (lambda >= 0 && !isTestClass(name.substring(0, lambda))) {
        generated.add(name);
      }
    }
    assertWithMessage(out).that(first).isTrue();
    // The split paths ran: a Winograd layer, three samples layer by layer, two in parts.
    assertWithMessage(out).that(out).contains(PATHS + " winograd=true parts3=1 parts2=2");
    // The log is read right: the runtime's own classes were loaded on the way.
    assertWithMessage(out).that(kilnClasses).isGreaterThan(20);
    assertWithMessage("classes generated for the runtime's lambdas").that(generated).isEmpty();
  }

  /** Whether {@code name} is a class of the tests (their own lambdas do not count). */
  private static boolean isTestClass(String name) throws ClassNotFoundException {
    Class<?> c = Class.forName(name, false, StartupClassesTest.class.getClassLoader());
    return c.getProtectionDomain().getCodeSource().getLocation().getPath().contains("test-classes");
  }

  /**
   * The child JVM: construct, load the weights, first forward (eval mode); then, on two threads, the first
   * forwards of a network whose work the pool splits: three samples layer by layer (the input's conversion, a
   * layer in Winograd's form, the pooling and the classifier split over the threads) and two in parts, one per
   * thread; then what those forwards ran, and the marker line.
   */
  public static void main(String[] args) throws Exception {
    DriverPrimerTest.Net net = new DriverPrimerTest.Net();
    SafeTensors.load(Path.of(args[0]), net);
    net.eval();
    Tensor y = net.forward(TestTensors.uniform(new SplittableRandom(3), 1, 1, 3, 36, 36));
    Parallel.setThreads(2);
    SplitNet split = new SplitNet();
    split.eval();
    Tensor three = TestTensors.uniform(new SplittableRandom(4), 1, 3, 3, 96, 96);
    Tensor y3 = split.forward(three);
    SplitNet parts = new SplitNet();
    parts.eval();
    Tensor two = TestTensors.uniform(new SplittableRandom(5), 1, 2, 3, 96, 96);
    Tensor y2 = parts.forward(two);
    BlockedNetwork engine = (BlockedNetwork) split.networkEngine();
    boolean winograd = false;
    for (TileWarmer.Tile t : engine.tiles()) {
      winograd |= t.key.startsWith("winograd");
    }
    System.out.println(PATHS + " winograd=" + winograd + " parts3=" + engine.batchParts(three) + " parts2="
        + ((BlockedNetwork) parts.networkEngine()).batchParts(two));
    System.out.println(FIRST + " " + (y.size() + y3.size() + y2.size()));
    System.exit(0);
  }

  private static final String PATHS = "PATHS";

  /**
   * A network whose first forwards take the pool's split paths on two threads: a 3x96x96 input (three samples:
   * 83K elements to convert, over {@link Parallel#MIN_ELEMENTS}), a 64->64 3x3 layer in Winograd's form, pooling
   * over 48x48 maps and a 64->1000 classifier (three samples: 192K multiply-adds, over {@link Parallel#MIN_MACS}).
   */
  static final class SplitNet extends SequentialModel {
    SplitNet() {
      super(new int[] {3, 96, 96}, new int[] {1000});
      add("stem", conv(3, 64, 96, 96, 2, 11));
      add("body", conv(64, 64, 48, 48, 1, 12));
      add("gap", new GlobalAvgPool2d());
      add("flatten", new Flatten());
      add("fc", new Linear(64, 1000, true, 13));
    }

    private static Module conv(int in, int out, int h, int w, int s, long seed) {
      return new NaiveConvKernel(NaiveConvKernel.geometry(in, out, h, w, 3, 3, s, s, 1, 1, 1, 1, 1, 1, 1,
          PaddingMode.ZEROS), true, Activation.RELU, seed);
    }
  }
}
