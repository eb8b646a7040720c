package dev.kiln.simd;

import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.io.SafeTensors;
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
    // The log is read right: the runtime's own classes were loaded on the way.
    assertWithMessage(out).that(kilnClasses).isGreaterThan(20);
    assertWithMessage("classes generated for the runtime's lambdas").that(generated).isEmpty();
  }

  /** Whether {@code name} is a class of the tests (their own lambdas do not count). */
  private static boolean isTestClass(String name) throws ClassNotFoundException {
    Class<?> c = Class.forName(name, false, StartupClassesTest.class.getClassLoader());
    return c.getProtectionDomain().getCodeSource().getLocation().getPath().contains("test-classes");
  }

  /** The child JVM: construct, load the weights, first forward (eval mode), then the marker line. */
  public static void main(String[] args) throws Exception {
    DriverPrimerTest.Net net = new DriverPrimerTest.Net();
    SafeTensors.load(Path.of(args[0]), net);
    net.eval();
    Tensor y = net.forward(TestTensors.uniform(new SplittableRandom(3), 1, 1, 3, 40, 40));
    System.out.println(FIRST + " " + y.size());
    System.exit(0);
  }
}
