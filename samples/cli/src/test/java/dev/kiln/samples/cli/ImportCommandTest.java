package dev.kiln.samples.cli;

import static com.google.common.truth.Truth.assertThat;

import dev.kiln.io.SafeTensors;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln-cli import} on the ONNX test files of the processor module ({@code tools/import/onnx_files.py}):
 * the files it writes and its errors. That the written source compiles and computes what PyTorch does is
 * {@code dev.kiln.processor.onnx.OnnxImportTest}'s job (same reader, importer and writer).
 */
class ImportCommandTest {
  @TempDir
  Path dir;

  static Path onnx(String name) {
    return Path.of(System.getProperty("basedir", ".")).resolve("../../processor/src/test/resources/onnx")
        .resolve(name).normalize();
  }

  @Test
  void writesTheInterfaceAndTheWeights() throws IOException {
    KilnCliTest.Run run = KilnCliTest.run("import", onnx("digits-deploy.onnx").toString(), "--package",
        "com.example.nets", "--name", "Digits", "--out", dir.toString());
    assertThat(run.err()).isEmpty();
    assertThat(run.exitCode()).isEqualTo(0);
    Path source = dir.resolve("com/example/nets/Digits.java");
    String text = Files.readString(source, StandardCharsets.UTF_8);
    assertThat(text).startsWith("package com.example.nets;");
    assertThat(text).contains("@Model(\n    input = {1, 8, 8}\n)\npublic interface Digits {");
    assertThat(text).contains("activation = Activation.RELU");
    Map<String, Tensor> weights = SafeTensors.read(dir.resolve("Digits.safetensors"));
    assertThat(weights.keySet()).containsExactly("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
        "conv3.weight", "conv3.bias", "conv4.weight", "conv4.bias", "fc1.weight", "fc1.bias").inOrder();
    assertThat(weights.get("conv4.weight").shape()).isEqualTo(new int[] {64, 32, 3, 3});
    assertThat(run.out()).contains("7 layers, input [1, 8, 8], 10 tensors");
  }

  @Test
  void refusesToReplaceFilesWithoutForce() throws IOException {
    Path source = dir.resolve("p/Net.java");
    Files.createDirectories(source.getParent());
    Files.writeString(source, "keep me");
    KilnCliTest.Run run = KilnCliTest.run("import", onnx("external.onnx").toString(), "--package", "p", "--name",
        "Net", "--out", dir.toString());
    assertThat(run.exitCode()).isEqualTo(CliException.USAGE);
    assertThat(run.err()).isEqualTo("kiln-cli: error: " + source + " exists; pass --force to replace it\n");
    assertThat(Files.readString(source)).isEqualTo("keep me");
    assertThat(Files.exists(dir.resolve("Net.safetensors"))).isFalse();
    KilnCliTest.Run forced = KilnCliTest.run("import", onnx("external.onnx").toString(), "--package", "p",
        "--name", "Net", "--out", dir.toString(), "--force");
    assertThat(forced.exitCode()).isEqualTo(0);
    assertThat(Files.readString(source)).contains("public interface Net {");
    assertThat(SafeTensors.read(dir.resolve("Net.safetensors"))).containsKey("conv1.weight");
  }

  /**
   * Even with {@code --force}, only regular files are replaced: a directory or a symbolic link at an output
   * path, or both outputs naming one file, is a one-line usage error and nothing is written.
   */
  @Test
  void replacesOnlyRegularFilesEvenWithForce() throws IOException {
    Path weights = dir.resolve("weights");
    Files.createDirectories(weights);
    KilnCliTest.Run directory = KilnCliTest.run("import", onnx("external.onnx").toString(), "--package", "p",
        "--name", "Net", "--out", dir.toString(), "--weights", weights.toString(), "--force");
    assertThat(directory.exitCode()).isEqualTo(CliException.USAGE);
    assertThat(directory.err())
        .contains("--weights " + weights + ": exists and is not a regular file (a directory)");
    assertThat(directory.err().strip()).doesNotContain("\n");
    assertThat(Files.isDirectory(weights)).isTrue();

    Path kept = dir.resolve("kept.safetensors");
    Files.writeString(kept, "keep me");
    Path link = Files.createSymbolicLink(dir.resolve("link.safetensors"), kept);
    KilnCliTest.Run linked = KilnCliTest.run("import", onnx("external.onnx").toString(), "--package", "p",
        "--name", "Net", "--out", dir.toString(), "--weights", link.toString(), "--force");
    assertThat(linked.exitCode()).isEqualTo(CliException.USAGE);
    assertThat(linked.err()).contains("is a symbolic link; pass --follow-links");
    assertThat(Files.readString(kept)).isEqualTo("keep me");

    Path source = dir.resolve("p/Net.java");
    KilnCliTest.Run same = KilnCliTest.run("import", onnx("external.onnx").toString(), "--package", "p",
        "--name", "Net", "--out", dir.toString(), "--weights", source.toString());
    assertThat(same.exitCode()).isEqualTo(CliException.USAGE);
    assertThat(same.err()).contains("name the same file");
    assertThat(Files.exists(source)).isFalse();
  }

  @Test
  void unsupportedGraphIsOneLineAndExitCodeOne() {
    KilnCliTest.Run run = KilnCliTest.run("import", onnx("branching.onnx").toString(), "--package", "p", "--name",
        "Net", "--out", dir.toString());
    assertThat(run.exitCode()).isEqualTo(CliException.FAILURE);
    assertThat(run.err()).startsWith("kiln-cli: error: cannot import " + onnx("branching.onnx") + ": node 0 ");
    assertThat(run.err()).contains("the graph branches; Kiln imports sequential graphs only");
    assertThat(run.err().strip()).doesNotContain("\n");
    assertThat(dir.toFile().list()).isEmpty();
  }

  @Test
  void malformedFileIsOneLineAndExitCodeOne() throws IOException {
    Path bad = dir.resolve("bad.onnx");
    Files.write(bad, new byte[] {0x3a, (byte) 0xff, (byte) 0xff, 0x01});
    KilnCliTest.Run run = KilnCliTest.run("import", bad.toString(), "--package", "p", "--name", "Net", "--out",
        dir.resolve("out").toString());
    assertThat(run.exitCode()).isEqualTo(CliException.FAILURE);
    assertThat(run.err()).isEqualTo("kiln-cli: error: cannot import " + bad
        + ": ModelProto at byte 4: declared length 32767 exceeds the 0 bytes that remain\n");
  }

  @Test
  void usageErrors() {
    assertThat(KilnCliTest.run("import", dir.resolve("missing.onnx").toString(), "--package", "p", "--name", "N")
        .exitCode()).isEqualTo(CliException.USAGE);
    KilnCliTest.Run badName = KilnCliTest.run("import", onnx("external.onnx").toString(), "--package", "p",
        "--name", "class", "--out", dir.toString());
    assertThat(badName.exitCode()).isEqualTo(CliException.USAGE);
    assertThat(badName.err()).contains("--name 'class' is not a Java identifier");
    KilnCliTest.Run badPackage = KilnCliTest.run("import", onnx("external.onnx").toString(), "--package", "a..b",
        "--name", "N", "--out", dir.toString());
    assertThat(badPackage.exitCode()).isEqualTo(CliException.USAGE);
    assertThat(badPackage.err()).contains("--package 'a..b' is not a package name");
  }
}
