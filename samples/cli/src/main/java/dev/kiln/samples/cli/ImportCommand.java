package dev.kiln.samples.cli;

import dev.kiln.io.AtomicFile;
import dev.kiln.io.SafeTensors;
import dev.kiln.processor.onnx.ImportedNetwork;
import dev.kiln.processor.onnx.ModelSourceWriter;
import dev.kiln.processor.onnx.OnnxImporter;
import dev.kiln.processor.onnx.OnnxReader;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.lang.model.SourceVersion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kiln-cli import}: reads a sequential ONNX network and writes the {@code @Model} interface that declares
 * it (Java source, compiled by the Kiln processor like any hand-written network) and its weights as safetensors
 * under that model's state-dict keys. Existing files are not replaced unless {@code --force} is given, and never
 * anything but a regular file ({@link OutputFiles}).
 */
@Command(name = "import",
    description = {"Import an ONNX network as a Kiln @Model interface and safetensors weights.", "",
        "Writes DIR/<package path>/NAME.java and the weights (default DIR/NAME.safetensors). Compile the source "
            + "with the Kiln processor; 'new NAMEModel().loadStateDict(SafeTensors.read(weights))' then computes "
            + "what the ONNX graph does. Sequential graphs of Conv, BatchNormalization, Relu, Clip(0, 6), MaxPool, "
            + "AveragePool, GlobalAveragePool, Flatten/Reshape, Gemm, MatMul+Add, Dropout and Identity are "
            + "covered; anything else is an error naming the first node Kiln cannot import.", ""})
final class ImportCommand extends Subcommand {
  @Parameters(index = "0", paramLabel = "MODEL.onnx", description = "The ONNX file (external data beside it).")
  Path onnx;

  @Option(names = "--package", paramLabel = "PKG", required = true,
      description = "Package of the generated interface, e.g. com.example.nets.")
  String packageName;

  @Option(names = "--name", paramLabel = "NAME", required = true,
      description = "Simple name of the interface; the processor then generates NAMEModel.")
  String name;

  @Option(names = "--out", paramLabel = "DIR", defaultValue = ".",
      description = "Source root the interface is written under (default: the current directory).")
  Path out;

  @Option(names = "--weights", paramLabel = "FILE",
      description = "Weights file (default: DIR/NAME.safetensors).")
  Path weights;

  @Option(names = "--force", description = "Replace existing output files (regular files only).")
  boolean force;

  @Mixin
  OutputFiles.Options outputOptions;

  @Override
  public Integer call() throws IOException {
    if (!SourceVersion.isName(packageName) || packageName.startsWith("java.")) {
      throw usage("--package '" + packageName + "' is not a package name");
    }
    if (!SourceVersion.isIdentifier(name) || SourceVersion.isKeyword(name)) {
      throw usage("--name '" + name + "' is not a Java identifier");
    }
    if (!Files.isRegularFile(onnx)) {
      throw new CliException(CliException.USAGE, "ONNX file " + onnx + " does not exist");
    }
    Path source = out.resolve(packageName.replace('.', '/')).resolve(name + ".java");
    Path weightsFile = weights != null ? weights : out.resolve(name + ".safetensors");
    for (Path p : List.of(source, weightsFile)) {
      if (!force && Files.exists(p)) {
        throw new CliException(CliException.USAGE, p + " exists; pass --force to replace it");
      }
    }
    OutputFiles.of(outputOptions).add("--out", source).add("--weights", weightsFile).check();
    ImportedNetwork network;
    try {
      network = OnnxImporter.importModel(OnnxReader.read(onnx));
    } catch (IOException e) {
      String message = e.getMessage().startsWith(onnx.toString()) ? e.getMessage() : onnx + ": " + e.getMessage();
      throw new CliException(CliException.FAILURE, "cannot import " + message, e);
    }
    String text = ModelSourceWriter.write(network, packageName, name, onnx.getFileName().toString(),
        weightsFile.getFileName().toString());
    AtomicFile.writeString(source, text);
    writeWeights(weightsFile, network.weights());

    PrintWriter pw = spec.commandLine().getOut();
    pw.printf("%s: %d layers, input %s, %d tensors%n", onnx, network.layers().size(),
        java.util.Arrays.toString(network.input()), network.weights().size());
    pw.printf("wrote %s (interface %s.%s; the processor generates %sModel)%n", source, packageName, name, name);
    pw.printf("wrote %s%n", weightsFile);
    pw.flush();
    return 0;
  }

  /** The weights as safetensors ({@code num_batches_tracked} as I64, as PyTorch stores it), atomically. */
  private static void writeWeights(Path target, Map<String, Tensor> tensors) throws IOException {
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("kiln_version", KilnCli.version());
    SafeTensors.write(target, tensors, metadata, SafeTensors.pytorchInt64Keys(tensors.keySet()));
  }
}
