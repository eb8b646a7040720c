package dev.kiln.samples.benchmark;

import static com.google.common.truth.Truth.assertThat;

import dev.kiln.io.SafeTensors;
import dev.kiln.nn.SequentialModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@link InProcessAB}: two class loaders of the same build run the same network and agree; misuse is exit 2. */
class InProcessABTest {
  @Test
  void twoLoadersOfOneBuildRunTheNetworkAndAgree(@TempDir Path dir) throws Exception {
    SequentialModel model = BenchNetwork.MOBILENET_V1_160.create();
    SafeTensors.write(dir.resolve(BenchNetwork.MOBILENET_V1_160.file + ".safetensors"), model.stateDict(), Map.of());
    String classPath = System.getProperty("java.class.path");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = System.out;
    int code;
    System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      code = new CommandLine(new InProcessAB()).execute("--a", classPath, "--b", classPath, "--dir", dir.toString(),
          "--net", "MOBILENET_V1_160", "--warm-up", "0", "--rounds", "3", "--slice-ms", "1");
    } finally {
      System.setOut(out);
    }
    String json = bytes.toString(StandardCharsets.UTF_8).trim();
    assertThat(code).isEqualTo(0);
    assertThat(json).startsWith("{\"net\":\"MOBILENET_V1_160\",\"batch\":1,\"threads\":1,\"rounds\":3,");
    assertThat(json).contains("\"same_output\":true");
    double ratio = Double.parseDouble(json.replaceAll(".*\"b_over_a\":([0-9.]+),.*", "$1"));
    assertThat(ratio).isGreaterThan(0.0);
  }

  @Test
  void misuseIsAParameterError() {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CommandLine line = new CommandLine(new InProcessAB());
    line.setErr(new java.io.PrintWriter(err, true, StandardCharsets.UTF_8));
    assertThat(line.execute("--a", "x", "--b", "y", "--batch", "0")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--batch, --threads, --rounds and --slice-ms must be positive");
    assertThat(new CommandLine(new InProcessAB()).execute("--b", "y")).isEqualTo(2);
  }
}
