package dev.kiln.testing;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a test class's {@code main} in a fresh JVM of this JDK, on this JVM's class path. */
public final class ChildJvm {
  private ChildJvm() {}

  /**
   * The output (standard output and error) of {@code main}'s class run in a fresh JVM with {@code jvmOptions} and
   * the program arguments {@code args}; asserts it finished within five minutes and exited 0.
   */
  public static String run(List<String> jvmOptions, Class<?> main, String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
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
