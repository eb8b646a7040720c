package dev.kiln.samples.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    assertEquals(300, mix.size());
    Set<String> names = new HashSet<>();
    Set<String> annotations = new HashSet<>();
    for (CompileTimeLayers.Layer layer : mix) {
      names.add(layer.name());
      annotations.add(layer.annotation());
    }
    assertEquals(300, names.size(), "names");
    assertEquals(300, annotations.size(), "annotations");
    assertEquals("L000_Tiny", mix.get(0).name());
    assertEquals("L010_C64At56", mix.get(10).name());
    assertEquals("inChannels = 2, outChannels = 4, kernelSize = 3, padding = \"1\", groups = 2, height = 9, width = 9",
        mix.get(1).annotation());
    assertEquals("inChannels = 3, outChannels = 48, kernelSize = 3, stride = 2, padding = \"1\", height = 224, "
        + "width = 224", mix.get(7).annotation());
    assertEquals(mix.subList(0, 40), CompileTimeLayers.mix(40), "a prefix of the mix does not depend on its length");
    assertTrue(mix.stream().anyMatch(l -> l.annotation().contains("PaddingMode.CIRCULAR")), "circular padding");
    assertTrue(mix.stream().anyMatch(l -> l.annotation().contains("dilation = 2")), "dilation");
    assertTrue(mix.stream().anyMatch(l -> l.annotation().contains("kernelSize = 7")), "7x7");
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
      assertTrue(sample.wallSeconds() > 0 && sample.cpuSeconds() > 0, config + ": " + sample);
      assertEquals(config.processes(), sample.processorCpuSeconds() > 0, config + ": " + sample);
    }
    CompileTimeBenchmark.Output output = bench.lastKilnOutput;
    assertEquals(layers, output.sourceFiles());
    assertEquals(layers, output.classFiles());
    assertTrue(output.sourceLines() > 50L * layers, "lines: " + output.sourceLines());

    // A cold javac in a child JVM, with the processor path: checks its output and reports its CPU times.
    CompileTimeBenchmark.Sample child = bench.coldChild(CompileTimeBenchmark.Config.KILN);
    assertTrue(child.mainCpuSeconds() > 0 && child.cpuSeconds() >= child.mainCpuSeconds()
        && child.wallSeconds() > 0, "child: " + child);
  }

  @Test
  void childReportIsParsedStrictly() {
    CompileTimeBenchmark.Sample s =
        CompileTimeBenchmark.ColdJavac.parse("wall=2500000000 main=1250000000 process=3000000000\n");
    assertEquals(2.5, s.wallSeconds(), 1e-12);
    assertEquals(1.25, s.mainCpuSeconds(), 1e-12);
    assertEquals(3.0, s.cpuSeconds(), 1e-12);
    assertTrue(Double.isNaN(s.processorCpuSeconds()));
    assertThrows(IllegalArgumentException.class, () -> CompileTimeBenchmark.ColdJavac.parse("wall=1 main=2"));
    assertThrows(IllegalArgumentException.class, () -> CompileTimeBenchmark.ColdJavac.parse("javac: error"));
  }

  private static String location(Class<?> type) throws URISyntaxException {
    return Paths.get(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }

  @Test
  void commandLinesOfTheTwoTimers() {
    ParseResult defaults = CompileTimeBenchmark.commandLine().parseArgs();
    assertEquals(List.of(CompileTimeBenchmark.Mode.COLD, CompileTimeBenchmark.Mode.WARM),
        defaults.commandSpec().findOption("--modes").getValue());
    assertEquals(100, (int) defaults.commandSpec().findOption("--layers").getValue());
    ParseResult chosen = CompileTimeBenchmark.commandLine().parseArgs("--modes", "warm", "--layers", "7", "--keep",
        "out");
    assertEquals(List.of(CompileTimeBenchmark.Mode.WARM), chosen.matchedOptionValue("--modes", List.of()));
    assertEquals(Path.of("out"), chosen.matchedOptionValue("--keep", null));
    assertThrows(ParameterException.class, () -> CompileTimeBenchmark.commandLine().parseArgs("--modes", "hot"));

    ParseResult timer = TrainingStepTimer.commandLine().parseArgs("--threads", "2", "4", "--modes", "rdrop");
    assertEquals(List.of(2, 4), timer.matchedOptionValue("--threads", List.of()));
    assertEquals(List.of(TrainingStepTimer.Mode.RDROP), timer.matchedOptionValue("--modes", List.of()));
    assertEquals(List.of(1, 2), TrainingStepTimer.commandLine().parseArgs().commandSpec().findOption("--threads")
        .getValue());
    assertThrows(ParameterException.class, () -> TrainingStepTimer.commandLine().parseArgs("--runs"));
  }
}
