package dev.kiln.samples.benchmark;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.palantir.javapoet.JavaFile;
import dev.kiln.annotation.Conv2d;
import dev.kiln.processor.KilnProcessor;
import java.io.File;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/** The compile-time benchmark's layer mix and one in-process measurement of each configuration. */
class CompileTimeBenchmarkTest {
  @Test
  void mixIsDistinctAndStartsWithTheSuite() {
    List<CompileTimeLayers.Layer> mix = CompileTimeLayers.mix(300);
    assertThat(mix.size()).isEqualTo(300);
    Set<String> names = new HashSet<>();
    Set<String> annotations = new HashSet<>();
    for (CompileTimeLayers.Layer layer : mix) {
      names.add(layer.name());
      annotations.add(layer.annotation());
    }
    assertWithMessage("names").that(names.size()).isEqualTo(300);
    assertWithMessage("annotations").that(annotations.size()).isEqualTo(300);
    assertThat(mix.get(0).name()).isEqualTo("L000_Tiny");
    assertThat(mix.get(10).name()).isEqualTo("L010_C64At56");
    assertThat(mix.get(1).annotation())
        .isEqualTo("inChannels = 2, outChannels = 4, kernelSize = 3, padding = \"1\", groups = 2, height = 9, "
            + "width = 9");
    assertThat(mix.get(7).annotation())
        .isEqualTo("inChannels = 3, outChannels = 48, kernelSize = 3, stride = 2, padding = \"1\", height = 224, "
            + "width = 224");
    assertWithMessage("a prefix of the mix does not depend on its length").that(CompileTimeLayers.mix(40))
        .isEqualTo(mix.subList(0, 40));
    assertWithMessage("circular padding")
        .that(mix.stream().anyMatch(l -> l.annotation().contains("PaddingMode.CIRCULAR"))).isTrue();
    assertWithMessage("dilation").that(mix.stream().anyMatch(l -> l.annotation().contains("dilation = 2"))).isTrue();
    assertWithMessage("7x7").that(mix.stream().anyMatch(l -> l.annotation().contains("kernelSize = 7"))).isTrue();
    assertThrows(IllegalArgumentException.class, () -> CompileTimeLayers.mix(0));
  }

  @Test
  void compilesEveryConfigurationInProcess(@TempDir Path work) throws Exception {
    int layers = 16; // the suite plus one of each family up to depthwise, circular padding included
    Path source = work.resolve("src").resolve(CompileTimeBenchmark.PACKAGE).resolve("Layers.java");
    Files.createDirectories(source.getParent());
    Files.writeString(source, CompileTimeLayers.source(CompileTimeBenchmark.PACKAGE, CompileTimeBenchmark.CLASS_NAME,
        CompileTimeLayers.mix(layers)), StandardCharsets.UTF_8);
    String runtime = location(Conv2d.class);
    String processorPath = String.join(File.pathSeparator, location(KilnProcessor.class), location(JavaFile.class),
        runtime);
    CompileTimeBenchmark.Bench bench = new CompileTimeBenchmark.Bench(source, work, runtime, processorPath, layers);
    for (CompileTimeBenchmark.Config config : CompileTimeBenchmark.Config.values()) {
      CompileTimeBenchmark.Sample sample = bench.warm(config); // throws unless it generated one kernel per layer
      assertWithMessage(config + ": " + sample).that(sample.wallSeconds() > 0 && sample.cpuSeconds() > 0).isTrue();
      assertWithMessage(config + ": " + sample).that(sample.processorCpuSeconds() > 0).isEqualTo(config.processes());
    }
    CompileTimeBenchmark.Output output = bench.lastKilnOutput;
    assertThat(output.sourceFiles()).isEqualTo(layers);
    assertThat(output.classFiles()).isEqualTo(layers);
    assertWithMessage("lines: " + output.sourceLines()).that(output.sourceLines() > 50L * layers).isTrue();

    // A cold javac in a child JVM, with the processor path: checks its output and reports its CPU times.
    CompileTimeBenchmark.Sample child = bench.coldChild(CompileTimeBenchmark.Config.KILN);
    assertWithMessage("child: " + child).that(child.mainCpuSeconds()).isGreaterThan(0.0);
    assertWithMessage("child: " + child).that(child.cpuSeconds()).isAtLeast(child.mainCpuSeconds());
    assertWithMessage("child: " + child).that(child.wallSeconds()).isGreaterThan(0.0);
  }

  @Test
  void childReportIsParsedStrictly() {
    CompileTimeBenchmark.Sample s =
        CompileTimeBenchmark.ColdJavac.parse("wall=2500000000 main=1250000000 process=3000000000\n");
    assertThat(s.wallSeconds()).isWithin(1e-12).of(2.5);
    assertThat(s.mainCpuSeconds()).isWithin(1e-12).of(1.25);
    assertThat(s.cpuSeconds()).isWithin(1e-12).of(3.0);
    assertThat(Double.isNaN(s.processorCpuSeconds())).isTrue();
    assertThrows(IllegalArgumentException.class, () -> CompileTimeBenchmark.ColdJavac.parse("wall=1 main=2"));
    assertThrows(IllegalArgumentException.class, () -> CompileTimeBenchmark.ColdJavac.parse("javac: error"));
  }

  private static String location(Class<?> type) throws URISyntaxException {
    return Paths.get(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }

  @Test
  void commandLinesOfTheTwoTimers() {
    ParseResult defaults = CompileTimeBenchmark.commandLine().parseArgs();
    List<CompileTimeBenchmark.Mode> modes = defaults.commandSpec().findOption("--modes").getValue();
    assertThat(modes).containsExactly(CompileTimeBenchmark.Mode.COLD, CompileTimeBenchmark.Mode.WARM).inOrder();
    int layers = defaults.commandSpec().findOption("--layers").getValue();
    assertThat(layers).isEqualTo(100);
    ParseResult chosen = CompileTimeBenchmark.commandLine().parseArgs("--modes", "warm", "--layers", "7", "--keep",
        "out");
    assertThat(chosen.matchedOptionValue("--modes", List.of())).isEqualTo(List.of(CompileTimeBenchmark.Mode.WARM));
    assertThat(chosen.matchedOptionValue("--keep", (Path) null)).isEqualTo(Path.of("out"));
    assertThrows(ParameterException.class, () -> CompileTimeBenchmark.commandLine().parseArgs("--modes", "hot"));

    ParseResult timer = TrainingStepTimer.commandLine().parseArgs("--threads", "2", "4", "--modes", "rdrop");
    assertThat(timer.matchedOptionValue("--threads", List.of())).isEqualTo(List.of(2, 4));
    assertThat(timer.matchedOptionValue("--modes", List.of())).isEqualTo(List.of(TrainingStepTimer.Mode.RDROP));
    List<Integer> threads = TrainingStepTimer.commandLine().parseArgs().commandSpec().findOption("--threads")
        .getValue();
    assertThat(threads).containsExactly(1, 2).inOrder();
    assertThrows(ParameterException.class, () -> TrainingStepTimer.commandLine().parseArgs("--runs"));
  }
}
