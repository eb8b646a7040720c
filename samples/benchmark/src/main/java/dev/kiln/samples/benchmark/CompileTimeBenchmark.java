package dev.kiln.samples.benchmark;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.MalformedURLException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import javax.annotation.processing.Completion;
import javax.annotation.processing.ProcessingEnvironment;
import javax.annotation.processing.Processor;
import javax.annotation.processing.RoundEnvironment;
import javax.lang.model.SourceVersion;
import javax.lang.model.element.AnnotationMirror;
import javax.lang.model.element.Element;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.TypeElement;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * How much {@code javac} time the Kiln processor adds: generates one source file with {@code --layers}
 * distinct {@code @Conv2d} interfaces ({@link CompileTimeLayers}) and compiles it without annotation
 * processing ({@code -proc:none}), with the Kiln processor but without compiling its output
 * ({@code -proc:only}: processing plus parsing the generated files), and with the Kiln processor (what a user
 * build does). Each configuration runs
 * <ul>
 *   <li>cold: as a {@code javac} process (wall time, and its CPU time from {@code /proc/self/stat}'s
 *       children fields, JIT compiler and GC threads included), and once more in a fresh JVM started like
 *       {@code javac} ({@link ColdJavac}) for the CPU time of the compiling thread alone, which is about the
 *       wall time on an idle machine (the JIT compiles on the other core) and varies less with load;
 *   <li>in-process through {@code javax.tools} after warm-up: wall time, the compiling thread's CPU time, the
 *       process's CPU time, and the thread's CPU time inside the processor's {@code init} and {@code process}.
 * </ul>
 * Prints medians and the time Kiln adds. Like a Maven build ({@code annotationProcessorPaths}), the processor
 * is loaded from the processor path in a fresh class loader for every compilation: in-process, only javac
 * itself is warm.
 *
 * <pre>
 * java -cp samples/benchmark/target/kiln-benchmarks.jar dev.kiln.samples.benchmark.CompileTimeBenchmark \
 *     [--layers 100] [--runs 5] [--warmup 3] [--modes cold warm] [--keep DIR]
 *     [--processor-path PATH] [--class-path PATH]
 * </pre>
 *
 * <p>The processor path (kiln-processor, JavaPoet, kiln-runtime) and the class path (kiln-runtime) default
 * to {@code kiln-processor-path.txt} and {@code kiln-class-path.txt}, which the module's build writes next
 * to its jars.
 */
@Command(name = "CompileTimeBenchmark", mixinStandardHelpOptions = true,
    description = "Times javac with and without the Kiln processor on one file of @Conv2d layers.")
public final class CompileTimeBenchmark implements Callable<Integer> {
  /** Where the compilations run. */
  enum Mode {
    /** A {@code javac} process per compilation. */
    COLD,
    /** In this JVM through {@code javax.tools}, after warm-up rounds. */
    WARM
  }

  @Option(names = "--layers", paramLabel = "N", defaultValue = "100", description = "@Conv2d layers in the file (default: ${DEFAULT-VALUE})")
  private int layers;

  @Option(names = "--runs", paramLabel = "N", defaultValue = "5", description = "timed runs per configuration (default: ${DEFAULT-VALUE})")
  private int runs;

  @Option(names = "--warmup", paramLabel = "N", defaultValue = "3", description = "warm-up rounds in-process (default: ${DEFAULT-VALUE})")
  private int warmup;

  @Option(names = "--modes", arity = "1..*", paramLabel = "MODE", defaultValue = "cold warm", split = " ",
      description = "cold, warm or both (default: ${DEFAULT-VALUE})")
  private List<Mode> modes;

  @Option(names = "--keep", paramLabel = "DIR", description = "keep the source and the last Kiln run's output here")
  private Path keep;

  @Option(names = "--processor-path", paramLabel = "PATH",
      description = "kiln-processor, JavaPoet and kiln-runtime (default: kiln-processor-path.txt beside the jar)")
  private String processorPath;

  @Option(names = "--class-path", paramLabel = "PATH",
      description = "kiln-runtime (default: kiln-class-path.txt beside the jar)")
  private String classPath;

  private CompileTimeBenchmark() {}

  static final String PACKAGE = "bench";
  static final String CLASS_NAME = "Layers";
  static final String PROCESSOR_CLASS = "dev.kiln.processor.KilnProcessor";

  /** One way of compiling the file. */
  enum Config {
    NONE("-proc:none"),
    PROC_ONLY("Kiln -proc:only"),
    KILN("Kiln");

    final String label;

    Config(String label) {
      this.label = label;
    }

    boolean processes() {
      return this != NONE;
    }
  }

  /**
   * One timed compilation; {@code NaN} where a number was not measured.
   *
   * @param wallSeconds elapsed time
   * @param cpuSeconds CPU time of the whole JVM (JIT compiler and GC threads included)
   * @param mainCpuSeconds CPU time of the thread that ran javac
   * @param processorCpuSeconds CPU time of that thread inside the processor's {@code init} and {@code process}
   */
  record Sample(double wallSeconds, double cpuSeconds, double mainCpuSeconds, double processorCpuSeconds) {}

  /** What a Kiln compilation produced. */
  record Output(int sourceFiles, long sourceLines, long sourceBytes, int classFiles, long classBytes) {}

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line, as {@link #main} runs it. */
  static CommandLine commandLine() {
    return new CommandLine(new CompileTimeBenchmark()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  @Override
  public Integer call() throws IOException, InterruptedException {
    if (runs < 1) {
      throw new ParameterException(new CommandLine(this), "--runs: expected at least 1 but got " + runs);
    }
    boolean cold = modes.contains(Mode.COLD);
    boolean warm = modes.contains(Mode.WARM);
    if (processorPath == null) {
      processorPath = pathFile("kiln-processor-path.txt");
    }
    if (classPath == null) {
      classPath = pathFile("kiln-class-path.txt");
    }

    Path work = keep != null ? Files.createDirectories(keep) : Files.createTempDirectory("kiln-compile-bench");
    Path source = work.resolve("src").resolve(PACKAGE).resolve(CLASS_NAME + ".java");
    Files.createDirectories(source.getParent());
    List<CompileTimeLayers.Layer> mix = CompileTimeLayers.mix(layers);
    String text = CompileTimeLayers.source(PACKAGE, CLASS_NAME, mix);
    Files.writeString(source, text, StandardCharsets.UTF_8);
    Bench bench = new Bench(source, work, classPath, processorPath, layers);

    System.out.printf(Locale.ROOT, "Kiln compile time: %d @Conv2d layers in one file (%s, %d lines)%n", layers,
        PACKAGE + "/" + CLASS_NAME + ".java", text.lines().count());
    System.out.printf(Locale.ROOT, "javac %s, %d CPUs; %d runs per configuration%s; medians%n",
        System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), runs,
        warm ? " (in-process after " + warmup + " warm-up rounds)" : "");
    System.out.println("processor path: " + processorPath);

    Map<Config, List<Sample>> coldSamples = new EnumMap<>(Config.class);
    Map<Config, List<Sample>> childSamples = new EnumMap<>(Config.class);
    Map<Config, List<Sample>> warmSamples = new EnumMap<>(Config.class);
    if (cold) {
      for (int r = 0; r < runs; r++) {
        for (Config config : Config.values()) {
          coldSamples.computeIfAbsent(config, c -> new ArrayList<>()).add(bench.cold(config));
          childSamples.computeIfAbsent(config, c -> new ArrayList<>()).add(bench.coldChild(config));
        }
      }
    }
    if (warm) {
      for (int r = 0; r < warmup; r++) {
        for (Config config : Config.values()) {
          bench.warm(config);
        }
      }
      for (int r = 0; r < runs; r++) {
        for (Config config : Config.values()) {
          warmSamples.computeIfAbsent(config, c -> new ArrayList<>()).add(bench.warm(config));
        }
      }
    }
    Output output = bench.lastKilnOutput;
    System.out.printf(Locale.ROOT, "generated: %d sources, %,d lines, %,d bytes (%.0f lines, %.1f KB per layer); "
            + "%d class files, %,d bytes%n", output.sourceFiles(), output.sourceLines(), output.sourceBytes(),
        (double) output.sourceLines() / layers, output.sourceBytes() / 1024.0 / layers, output.classFiles(),
        output.classBytes());
    System.out.println();
    System.out.print(table(coldSamples, childSamples, warmSamples, layers));
    if (keep != null) {
      System.out.println("\nsource, generated files and classes of the last Kiln run kept in " + keep);
    } else {
      deleteTree(work);
    }
    return 0;
  }

  /** Reads a path list the build wrote next to this class's jar (or classes directory). */
  static String pathFile(String name) throws IOException {
    Path file = ownLocation().getParent().resolve(name);
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException(file + " not found: build the module with "
          + "'mvn -o -pl samples/benchmark -am package -DskipTests' or pass --processor-path and --class-path");
    }
    return Files.readString(file, StandardCharsets.UTF_8).trim();
  }

  /** This class's jar or classes directory. */
  static Path ownLocation() {
    try {
      return Paths.get(CompileTimeBenchmark.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The child of {@link Bench#coldChild}: runs javac in this fresh JVM with the given arguments and prints
   * one line, {@code wall=<ns> main=<ns> process=<ns>}, to standard output (javac's own output goes to
   * standard error).
   */
  public static final class ColdJavac {
    private ColdJavac() {}

    public static void main(String[] args) {
      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      com.sun.management.OperatingSystemMXBean os =
          (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      long t0 = System.nanoTime();
      long main0 = threads.getCurrentThreadCpuTime();
      int exit = ToolProvider.getSystemJavaCompiler().run(null, System.err, System.err, args);
      long main = threads.getCurrentThreadCpuTime() - main0;
      long wall = System.nanoTime() - t0;
      if (exit != 0) {
        System.exit(exit);
      }
      System.out.println("wall=" + wall + " main=" + main + " process=" + os.getProcessCpuTime());
    }

    static Sample parse(String line) {
      Map<String, Double> values = new java.util.HashMap<>();
      for (String field : line.trim().split(" ")) {
        int eq = field.indexOf('=');
        if (eq < 0) {
          throw new IllegalArgumentException("child report: " + line);
        }
        values.put(field.substring(0, eq), Long.parseLong(field.substring(eq + 1)) / 1e9);
      }
      if (!values.keySet().equals(Set.of("wall", "main", "process"))) {
        throw new IllegalArgumentException("child report: " + line);
      }
      return new Sample(values.get("wall"), values.get("process"), values.get("main"), Double.NaN);
    }
  }

  /** The compilations of one source file, each into fresh output directories. */
  static final class Bench {
    private final Path source;
    private final Path work;
    private final String classPath;
    private final String processorPath;
    private final int layers;
    private final Path javac;
    private final Path java;
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private int counter;
    Output lastKilnOutput;

    Bench(Path source, Path work, String classPath, String processorPath, int layers) {
      this.source = source;
      this.work = work;
      this.classPath = classPath;
      this.processorPath = processorPath;
      this.layers = layers;
      this.javac = Paths.get(System.getProperty("java.home"), "bin", "javac");
      this.java = Paths.get(System.getProperty("java.home"), "bin", "java");
    }

    /** Fresh {@code classes} and {@code generated} directories for one compilation. */
    private Path[] outputDirs() throws IOException {
      Path run = work.resolve("run" + (counter++ % 2));
      deleteTree(run);
      Path classes = Files.createDirectories(run.resolve("classes"));
      Path generated = Files.createDirectories(run.resolve("generated"));
      return new Path[] {classes, generated};
    }

    /** The options both ways share ({@code -g} as Maven passes it by default). */
    private List<String> options(Config config, Path[] dirs) {
      List<String> options = new ArrayList<>(List.of("--release", "17", "-g", "-encoding", "UTF-8",
          "-d", dirs[0].toString(), "-s", dirs[1].toString(), "-classpath", classPath));
      switch (config) {
        case NONE -> options.add("-proc:none");
        case PROC_ONLY -> options.add("-proc:only");
        case KILN -> { }
        default -> throw new AssertionError(config);
      }
      return options;
    }

    /** The compiler's arguments for one run: the options, the processor path if it processes, the source. */
    List<String> arguments(Config config, Path[] dirs) {
      List<String> args = new ArrayList<>(options(config, dirs));
      if (config.processes()) {
        args.add("-processorpath");
        args.add(processorPath);
      }
      args.add(source.toString());
      return args;
    }

    /** One {@code javac} process. */
    Sample cold(Config config) throws IOException, InterruptedException {
      Path[] dirs = outputDirs();
      List<String> command = new ArrayList<>();
      command.add(javac.toString());
      command.addAll(arguments(config, dirs));
      Path log = work.resolve("javac.log");
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      long children0 = childrenCpuTicks();
      long t0 = System.nanoTime();
      Process process = builder.start();
      int exit = process.waitFor();
      long wall = System.nanoTime() - t0;
      long children = childrenCpuTicks() - children0;
      if (exit != 0) {
        throw new IllegalStateException("javac (" + config.label + ") exited with " + exit + ":\n"
            + Files.readString(log));
      }
      check(config, dirs);
      return new Sample(wall / 1e9, children0 < 0 ? Double.NaN : children / (double) CLOCK_TICKS, Double.NaN,
          Double.NaN);
    }

    /**
     * One cold javac in a {@code java} process started as the {@code javac} launcher starts it
     * ({@code --add-modules ALL-DEFAULT -Xms8m}), through {@link ColdJavac}, which reports the CPU time of the
     * thread that compiled: on an idle machine the JIT compiler threads run beside it, so this is close to
     * the wall time there, and it depends little on other load.
     */
    Sample coldChild(Config config) throws IOException, InterruptedException {
      Path[] dirs = outputDirs();
      List<String> command = new ArrayList<>(List.of(java.toString(), "--add-modules", "ALL-DEFAULT", "-Xms8m",
          "-cp", ownLocation().toString(), ColdJavac.class.getName()));
      command.addAll(arguments(config, dirs));
      Path log = work.resolve("javac.log");
      Path report = work.resolve("child.txt");
      Process process = new ProcessBuilder(command).redirectError(log.toFile()).redirectOutput(report.toFile())
          .start();
      int exit = process.waitFor();
      if (exit != 0) {
        throw new IllegalStateException("javac (" + config.label + ", child) exited with " + exit + ":\n"
            + Files.readString(log));
      }
      check(config, dirs);
      return ColdJavac.parse(Files.readString(report, StandardCharsets.UTF_8));
    }

    /** One in-process compilation through {@code javax.tools}. */
    Sample warm(Config config) throws IOException {
      Path[] dirs = outputDirs();
      JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
      DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
      long process0 = os.getProcessCpuTime();
      long cpu0 = threads.getCurrentThreadCpuTime();
      long t0 = System.nanoTime();
      TimedProcessor timed = null;
      boolean ok;
      try (StandardJavaFileManager files =
               compiler.getStandardFileManager(diagnostics, Locale.ROOT, StandardCharsets.UTF_8);
           URLClassLoader loader = new URLClassLoader(urls(processorPath), ClassLoader.getPlatformClassLoader())) {
        JavaCompiler.CompilationTask task = compiler.getTask(null, files, diagnostics, options(config, dirs), null,
            files.getJavaFileObjects(source.toFile()));
        if (config.processes()) {
          timed = new TimedProcessor(newProcessor(loader), threads);
          task.setProcessors(List.of(timed));
        }
        ok = task.call();
      }
      long wall = System.nanoTime() - t0;
      long cpu = threads.getCurrentThreadCpuTime() - cpu0;
      long processCpu = os.getProcessCpuTime() - process0;
      if (!ok || !diagnostics.getDiagnostics().stream().allMatch(d -> d.getKind() != Diagnostic.Kind.ERROR)) {
        throw new IllegalStateException("javac (" + config.label + ", in-process) failed: "
            + diagnostics.getDiagnostics());
      }
      check(config, dirs);
      return new Sample(wall / 1e9, processCpu / 1e9, cpu / 1e9, timed == null ? Double.NaN : timed.nanos / 1e9);
    }

    /** Checks that the compilation generated one kernel per layer, and counts what it wrote. */
    private void check(Config config, Path[] dirs) throws IOException {
      Output output = output(dirs[0], dirs[1]);
      int expectedSources = config.processes() ? layers : 0;
      if (output.sourceFiles() != expectedSources) {
        throw new IllegalStateException(config.label + ": expected " + expectedSources
            + " generated sources but found " + output.sourceFiles());
      }
      int expectedClasses = config == Config.KILN ? layers : 0;
      if (output.classFiles() != expectedClasses) {
        throw new IllegalStateException(config.label + ": expected " + expectedClasses
            + " generated classes but found " + output.classFiles());
      }
      if (config == Config.KILN) {
        lastKilnOutput = output;
      }
    }
  }

  /** Counts the generated sources and the class files that are not the benchmark file's own. */
  static Output output(Path classes, Path generated) throws IOException {
    int sources = 0;
    long lines = 0;
    long bytes = 0;
    for (Path p : files(generated, ".java")) {
      byte[] content = Files.readAllBytes(p);
      sources++;
      bytes += content.length;
      for (byte b : content) {
        if (b == '\n') {
          lines++;
        }
      }
    }
    int classFiles = 0;
    long classBytes = 0;
    for (Path p : files(classes, ".class")) {
      String name = p.getFileName().toString();
      if (!name.equals(CLASS_NAME + ".class") && !name.startsWith(CLASS_NAME + "$")) {
        classFiles++;
        classBytes += Files.size(p);
      }
    }
    return new Output(sources, lines, bytes, classFiles, classBytes);
  }

  private static List<Path> files(Path root, String suffix) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.filter(p -> p.toString().endsWith(suffix)).toList();
    }
  }

  private static URL[] urls(String path) {
    return Arrays.stream(path.split(File.pathSeparator)).filter(s -> !s.isEmpty()).map(s -> {
      try {
        return Paths.get(s).toUri().toURL();
      } catch (MalformedURLException e) {
        throw new IllegalArgumentException(s, e);
      }
    }).toArray(URL[]::new);
  }

  private static Processor newProcessor(ClassLoader loader) {
    try {
      return (Processor) loader.loadClass(PROCESSOR_CLASS).getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(PROCESSOR_CLASS + " not loadable from the processor path", e);
    }
  }

  /** Linux's {@code USER_HZ}: the unit of the CPU times in {@code /proc}. */
  static final int CLOCK_TICKS = 100;

  /**
   * The CPU time (user + system, in clock ticks) of this process's waited-for children, from
   * {@code /proc/self/stat} (fields 16 and 17); -1 where that file does not exist.
   */
  static long childrenCpuTicks() {
    Path stat = Paths.get("/proc/self/stat");
    if (!Files.isReadable(stat)) {
      return -1;
    }
    try {
      String s = Files.readString(stat);
      // The command name (field 2) is in parentheses and may contain spaces: split after it.
      String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split(" ");
      // f[0] is field 3 (state), so field n is f[n - 3]: cutime is field 16, cstime field 17.
      return Long.parseLong(f[16 - 3]) + Long.parseLong(f[17 - 3]);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Delegates to a processor and sums the compiling thread's CPU time spent inside it. */
  static final class TimedProcessor implements Processor {
    private final Processor delegate;
    private final ThreadMXBean threads;
    long nanos;

    TimedProcessor(Processor delegate, ThreadMXBean threads) {
      this.delegate = delegate;
      this.threads = threads;
    }

    @Override
    public Set<String> getSupportedOptions() {
      return delegate.getSupportedOptions();
    }

    @Override
    public Set<String> getSupportedAnnotationTypes() {
      return delegate.getSupportedAnnotationTypes();
    }

    @Override
    public SourceVersion getSupportedSourceVersion() {
      return delegate.getSupportedSourceVersion();
    }

    @Override
    public void init(ProcessingEnvironment env) {
      long t0 = threads.getCurrentThreadCpuTime();
      delegate.init(env);
      nanos += threads.getCurrentThreadCpuTime() - t0;
    }

    @Override
    public boolean process(Set<? extends TypeElement> annotations, RoundEnvironment round) {
      long t0 = threads.getCurrentThreadCpuTime();
      boolean claimed = delegate.process(annotations, round);
      nanos += threads.getCurrentThreadCpuTime() - t0;
      return claimed;
    }

    @Override
    public Iterable<? extends Completion> getCompletions(Element element, AnnotationMirror annotation,
        ExecutableElement member, String userText) {
      return delegate.getCompletions(element, annotation, member, userText);
    }
  }

  /** The median of one field; {@code NaN} without samples. */
  static double median(List<Sample> samples, java.util.function.ToDoubleFunction<Sample> field) {
    if (samples == null || samples.isEmpty()) {
      return Double.NaN;
    }
    double[] v = samples.stream().mapToDouble(field).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  /**
   * The result table: one row per configuration and the time Kiln adds to {@code -proc:none}. Cold: wall and
   * CPU time of the {@code javac} process, CPU time of javac's thread in the same cold JVM. In-process: wall,
   * CPU of the compiling thread and of the whole process, and the part of the thread's CPU spent in the
   * processor.
   */
  static String table(Map<Config, List<Sample>> cold, Map<Config, List<Sample>> child,
      Map<Config, List<Sample>> warm, int layers) {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "%-22s | %-26s | %-47s%n", "", "cold javac process",
        "in-process javac (warm JIT, fresh processor loader)"));
    out.append(String.format(Locale.ROOT, "%-22s | %7s %7s %10s | %7s %10s %11s %13s%n", "configuration",
        "wall s", "CPU s", "main thr s", "wall s", "thread CPU", "process CPU", "processor CPU"));
    double[][] rows = new double[Config.values().length][];
    for (Config config : Config.values()) {
      double[] row = {
          median(cold.get(config), Sample::wallSeconds),
          median(cold.get(config), Sample::cpuSeconds),
          median(child.get(config), Sample::mainCpuSeconds),
          median(warm.get(config), Sample::wallSeconds),
          median(warm.get(config), Sample::mainCpuSeconds),
          median(warm.get(config), Sample::cpuSeconds),
          median(warm.get(config), Sample::processorCpuSeconds)};
      rows[config.ordinal()] = row;
      out.append(row(config.label, row));
    }
    double[] added = new double[7];
    double[] perLayer = new double[7];
    for (int i = 0; i < added.length; i++) {
      added[i] = rows[Config.KILN.ordinal()][i] - (i == 6 ? 0 : rows[Config.NONE.ordinal()][i]);
      perLayer[i] = added[i] * 1e3 / layers;
    }
    out.append(row("added by Kiln (s)", added));
    out.append(row("added per layer (ms)", perLayer));
    return out.toString();
  }

  private static String row(String label, double[] v) {
    return String.format(Locale.ROOT, "%-22s | %7s %7s %10s | %7s %10s %11s %13s%n", label, fmt(v[0]), fmt(v[1]),
        fmt(v[2]), fmt(v[3]), fmt(v[4]), fmt(v[5]), fmt(v[6]));
  }

  private static String fmt(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
