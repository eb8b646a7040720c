package dev.kiln.simd;

import dev.kiln.testing.ChildJvm;
import java.util.ArrayList;
import java.util.List;

/** Runs a test class's {@code main} in a fresh JVM with the Vector API (and this JVM's vector width, if set). */
final class FreshJvm {
  private FreshJvm() {}

  /** The output (standard output and error) of {@code main}'s class run in a fresh JVM; asserts it exited 0. */
  static String run(Class<?> main) throws Exception {
    return run(main, List.of());
  }

  /** {@link #run(Class)} with these JVM options and program arguments. */
  static String run(Class<?> main, List<String> jvmOptions, String... args) throws Exception {
    List<String> options = new ArrayList<>(List.of("--add-modules", "jdk.incubator.vector"));
    String bits = System.getProperty("kiln.simd.bits");
    if (bits != null) {
      options.add("-Dkiln.simd.bits=" + bits);
    }
    options.addAll(jvmOptions);
    return ChildJvm.run(options, main, args);
  }
}
