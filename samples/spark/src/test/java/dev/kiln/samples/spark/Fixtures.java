package dev.kiln.samples.spark;

import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.samples.cli.KilnCli;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;

/**
 * What the Spark tests share within their JVM: one local Spark session (starting one takes seconds), weights
 * trained by {@code kiln-cli train} on the bundled digits and on small generated IDX files, and running the two
 * command lines in process.
 */
final class Fixtures {
  /** One invocation's exit code and output. */
  record Run(int exitCode, String out, String err) {}

  private static SparkSession spark;
  private static Path dir;
  private static Path digitsWeights;
  private static Path idxDir;
  private static Path idxWeights;

  private Fixtures() {}

  /** The shared {@code local[2]} session. */
  static synchronized SparkSession spark() {
    if (spark == null) {
      spark = SparkSession.builder().master("local[2]").appName("kiln-spark tests")
          .config("spark.ui.enabled", "false")
          .config("spark.ui.showConsoleProgress", "false")
          .config("spark.driver.host", "127.0.0.1")
          .config("spark.driver.bindAddress", "127.0.0.1")
          .config("spark.network.timeout", "7d") // a busy host may stall the JVM for minutes
          .getOrCreate();
    }
    return spark;
  }

  /** A directory for this JVM's files, deleted when it exits. */
  static synchronized Path dir() {
    if (dir == null) {
      try {
        dir = Files.createTempDirectory("kiln-spark-test");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Path d = dir;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteRecursively(d)));
    }
    return dir;
  }

  /** A new directory under {@link #dir()}. */
  static Path newDir(String prefix) {
    try {
      return Files.createTempDirectory(dir(), prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Weights trained by {@code kiln-cli train} on 300 digits for one epoch (plain cross-entropy, 1 thread). */
  static synchronized Path digitsWeights() {
    if (digitsWeights == null) {
      Path out = newDir("digits-model");
      Run run = cli("train", "-q", "--threads", "1", "--epochs", "1", "--train-samples", "300",
          "--rdrop-alpha", "0", "--out", out.resolve("model.safetensors").toString(),
          "--report", out.resolve("report.json").toString(), "--plot", out.resolve("curve.svg").toString());
      assertWithMessage(run.err()).that(run.exitCode()).isEqualTo(0);
      digitsWeights = out.resolve("model.safetensors");
    }
    return digitsWeights;
  }

  /**
   * A directory of Fashion-MNIST-style IDX files (28x28, 64 training images gzip-compressed, 40 test images
   * plain) with random pixels and labels.
   */
  static synchronized Path idxDir() {
    if (idxDir == null) {
      Path d = newDir("idx");
      Random random = new Random(14);
      writeIdx(d, "train", 64, random, true);
      writeIdx(d, "t10k", 40, random, false);
      idxDir = d;
    }
    return idxDir;
  }

  /** FashionNet weights trained by {@code kiln-cli train} for one epoch on {@link #idxDir()}. */
  static synchronized Path idxWeights() {
    if (idxWeights == null) {
      Path out = newDir("fashion-model");
      Run run = cli("train", "-q", "--threads", "1", "--epochs", "1", "--dataset", "fashion-mnist",
          "--data", idxDir().toString(), "--rdrop-alpha", "0",
          "--out", out.resolve("model.safetensors").toString(),
          "--report", out.resolve("report.json").toString(), "--plot", out.resolve("curve.svg").toString());
      assertWithMessage(run.err()).that(run.exitCode()).isEqualTo(0);
      idxWeights = out.resolve("model.safetensors");
    }
    return idxWeights;
  }

  /** Runs {@code kiln-spark} in process, on the shared session. */
  static Run spark(String... args) {
    spark();
    return run(KilnSpark.commandLine(), args);
  }

  /** Runs {@code kiln-cli} in process. */
  static Run cli(String... args) {
    return run(KilnCli.commandLine(), args);
  }

  private static Run run(CommandLine commandLine, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = commandLine.setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  /** Writes {@code prefix-images-idx3-ubyte} and {@code prefix-labels-idx1-ubyte} ({@code .gz} if asked). */
  static void writeIdx(Path dir, String prefix, int count, Random random, boolean gzip) {
    ByteBuffer images = ByteBuffer.allocate(16 + count * 28 * 28);
    images.putInt(0x00000803).putInt(count).putInt(28).putInt(28);
    byte[] pixels = new byte[count * 28 * 28];
    random.nextBytes(pixels);
    images.put(pixels);
    ByteBuffer labels = ByteBuffer.allocate(8 + count);
    labels.putInt(0x00000801).putInt(count);
    for (int i = 0; i < count; i++) {
      labels.put((byte) random.nextInt(10));
    }
    String suffix = gzip ? ".gz" : "";
    write(dir.resolve(prefix + "-images-idx3-ubyte" + suffix), images.array(), gzip);
    write(dir.resolve(prefix + "-labels-idx1-ubyte" + suffix), labels.array(), gzip);
  }

  private static void write(Path file, byte[] bytes, boolean gzip) {
    try {
      if (!gzip) {
        Files.write(file, bytes);
        return;
      }
      ByteArrayOutputStream compressed = new ByteArrayOutputStream();
      try (OutputStream out = new GZIPOutputStream(compressed)) {
        out.write(bytes);
      }
      Files.write(file, compressed.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteRecursively(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort at exit
    }
  }
}
