package dev.kiln.samples.spark;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shaded jar as a user runs it, {@code java -jar kiln-spark.jar score}, in its own JVM with Spark in it:
 * no flag but {@code --add-modules} (the manifest opens what Spark needs), a success, and a corrupt input that
 * exits 1 with one line on standard error and no output.
 */
class JarIT {
  private static final Path JAR = Paths.get(System.getProperty("kiln.spark.jar", "target/kiln-spark.jar"));

  /** A finished process: exit code, standard output, standard error without the JDK's incubator notice. */
  record Result(int exitCode, String out, List<String> errLines) {}

  @Test
  void scoresTheBundledDigitsInItsOwnJvm() throws Exception {
    Path out = Fixtures.newDir("jar").resolve("scores");
    Result r = run("score", "--model", Fixtures.digitsWeights().toString(), "--master", "local[2]", "--output",
        out.toString());
    assertWithMessage(String.join("\n", r.errLines())).that(r.exitCode()).isEqualTo(0);
    assertThat(r.out()).containsMatch("scored 297 images of digits \\(test\\) with fused DigitsNet weights "
        + "\\(sha256 [0-9a-f]{12}\\): accuracy 0\\.\\d{4} \\(\\d+/297 labeled\\)");
    assertThat(r.out()).contains("master local[2], batch 256, Kiln pool 1 thread per JVM, engine simd");
    assertThat(r.errLines()).isEmpty();
    assertThat(Files.exists(out.resolve("_SUCCESS"))).isTrue();
  }

  @Test
  void corruptInputExitsOneWithOneLineAndNoOutput() throws Exception {
    Path dir = Fixtures.newDir("jar-corrupt");
    Path images = dir.resolve("images");
    Files.createDirectories(images);
    Files.write(images.resolve("part-00000.parquet"), "PAR1 but not really".getBytes(StandardCharsets.US_ASCII));
    Path out = dir.resolve("scores");
    Result r = run("score", "--model", Fixtures.digitsWeights().toString(), "--input", "parquet", "--data",
        images.toString(), "--output", out.toString());
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.errLines()).hasSize(1);
    assertThat(r.errLines().get(0)).startsWith("kiln-spark: error: cannot read Parquet images " + images + ": ");
    assertThat(r.out()).isEmpty();
    assertThat(Files.exists(out)).isFalse();
  }

  private static Result run(String... args) throws IOException, InterruptedException {
    assertWithMessage("build the jar first (mvn package)").that(Files.isRegularFile(JAR)).isTrue();
    List<String> command = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java")
        .toString(), "--add-modules", "jdk.incubator.vector", "-jar", JAR.toString()));
    command.addAll(List.of(args));
    Path stdout = Files.createTempFile(Fixtures.dir(), "out", ".txt");
    Path stderr = Files.createTempFile(Fixtures.dir(), "err", ".txt");
    ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process p = pb.start();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("kiln-spark did not finish in 300 s: " + Files.readString(stderr));
    }
    // The JDK's own warnings, not the job's: the incubator module, and from JDK 24 on the four-line notice that
    // Spark's code calls sun.misc.Unsafe's memory methods (JEP 498).
    List<String> err = Files.readAllLines(stderr).stream()
        .filter(line -> !line.equals("WARNING: Using incubator modules: jdk.incubator.vector"))
        .filter(line -> !(line.startsWith("WARNING: ") && (line.contains("sun.misc.Unsafe")
            || line.startsWith("WARNING: Please consider reporting this to the maintainers of class "
                + "org.apache.spark"))))
        .toList();
    return new Result(p.exitValue(), Files.readString(stdout), err);
  }
}
