package dev.kiln.nn;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.testing.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * When the scalar path uses {@link Math#fma} ({@link FusedMultiplyAdd}): the property decides where it says true
 * or false, else HotSpot's {@code UseFMA}, checked in fresh JVMs with the option on and off.
 */
class FusedMultiplyAddTest {
  @Test
  void thePropertyDecidesWhereItSaysTrueOrFalse() {
    assertThat(FusedMultiplyAdd.fromProperty("true")).isTrue();
    assertThat(FusedMultiplyAdd.fromProperty("TRUE")).isTrue();
    assertThat(FusedMultiplyAdd.fromProperty("false")).isFalse();
    assertThat(FusedMultiplyAdd.fromProperty("False")).isFalse();
    assertThat(FusedMultiplyAdd.fromProperty(null)).isNull();
    assertThat(FusedMultiplyAdd.fromProperty("auto")).isNull();
    assertThat(FusedMultiplyAdd.fromProperty("")).isNull();
  }

  /**
   * A fresh JVM with {@code -XX:-UseFMA} answers false; with {@code +UseFMA} as the processor allows; the scalar
   * arithmetic's name (recorded in checkpoints) says which.
   */
  @Test
  void followsTheJvmsOption() throws Exception {
    assertThat(childAnswer("-XX:-UseFMA")).isEqualTo("false scalar");
    assertThat(childAnswer("-Dkiln.scalar.fma=true", "-XX:-UseFMA")).isEqualTo("true scalar-fma");
    String on = childAnswer("-XX:+UseFMA");
    if (processorHasFma()) {
      assertWithMessage("the processor lists fma in /proc/cpuinfo").that(on).isEqualTo("true scalar-fma");
    }
    assertThat(on).isAnyOf("true scalar-fma", "false scalar");
  }

  /**
   * Prints {@link FusedMultiplyAdd#fast()} and the scalar arithmetic's name (run by {@link #followsTheJvmsOption}
   * in a fresh JVM, without the vector module).
   */
  public static void main(String[] args) {
    System.out.println(FusedMultiplyAdd.fast() + " " + ScalarPlaneLoops.INSTANCE);
  }

  /** The last line {@link #main} prints in a fresh JVM (without the vector module) with these options. */
  private static String childAnswer(String... options) throws Exception {
    List<String> jvm = new ArrayList<>(List.of("-XX:+IgnoreUnrecognizedVMOptions"));
    jvm.addAll(List.of(options));
    String[] lines = ChildJvm.run(jvm, FusedMultiplyAddTest.class).trim().split("\\R");
    return lines[lines.length - 1];
  }

  /** Whether Linux says an x86-64 processor has FMA (false where it cannot say). */
  private static boolean processorHasFma() throws IOException {
    Path info = Path.of("/proc/cpuinfo");
    String arch = System.getProperty("os.arch");
    if (!Files.isReadable(info) || !(arch.equals("amd64") || arch.equals("x86_64"))) {
      return false;
    }
    for (String line : Files.readAllLines(info)) {
      if (line.startsWith("flags")) {
        return List.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+")).contains("fma");
      }
    }
    return false;
  }
}
