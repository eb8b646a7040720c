package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a test class's {@code main} in a fresh JVM with the Vector API (and this JVM's vector width, if set). */
final class FreshJvm {
  private FreshJvm() {}

  /** The output (standard output and error) of {@code main}'s class run in a fresh JVM; asserts it exited 0. */
  static String run(Class<?> main) throws Exception {
    return run(main, List.of());
  }

  /** {@link #run(Class)} with these JVM options and program arguments. */
  static String run(Class<?> main, List<String> jvmOptions, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--add-modules");
    command.add("jdk.incubator.vector");
    String bits = System.getProperty("kiln.simd.bits");
    if (bits != null) {
      command.add("-Dkiln.simd.bits=" + bits);
    }
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main.getName());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertWithMessage(out).that(p.exitValue()).isEqualTo(0);
    return out;
  }
}
