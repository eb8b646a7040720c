package dev.kiln.samples.benchmark;

import dev.kiln.io.SafeTensors;
import dev.kiln.nn.Init;
import dev.kiln.nn.SequentialModel;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Two builds of Kiln side by side in one JVM: each class path (a benchmark jar, or a list of jars and folders) is
 * loaded by its own class loader, builds the same fused network, and the two run in turn, slice after slice, so
 * that a machine whose speed swings from minute to minute (the AVX2 machine of {@code bench-results}) swings both
 * alike. Prints per round both medians and their ratio, then one JSON line with the median ratio (B over A) and
 * its quartiles. Each side must contain this class (benchmark jars from the commit that added it on).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp samples/benchmark/target/kiln-benchmarks.jar \
 *   dev.kiln.samples.benchmark.InProcessAB --a OLD.jar --b NEW.jar --dir bench-networks --net MOBILENET_V1
 * </pre>
 *
 * System properties the runtime reads once (such as {@code kiln.simd.broadcastsFirst}) apply to both sides alike;
 * {@code --b-property NAME=VALUE} sets one on B's side only, for the property's first read there (B's side is
 * loaded and built after A's, with the property set meanwhile, then cleared).
 */
@Command(name = "in-process-ab", mixinStandardHelpOptions = true,
    description = "Two builds of Kiln (class paths A and B) running the same network in turn in one JVM.")
public final class InProcessAB implements Callable<Integer> {
  @Option(names = "--a", required = true, description = "class path of side A (jars and folders, separated as in -cp)")
  String a;

  @Option(names = "--b", required = true, description = "class path of side B")
  String b;

  @Option(names = "--b-property", description = "NAME=VALUE: a system property set while B's side loads and builds")
  List<String> bProperties = new ArrayList<>();

  @Option(names = "--net", description = "REPVGG_A0, MOBILENET_V1 or MOBILENET_V1_160 (default: ${DEFAULT-VALUE})")
  BenchNetwork net = BenchNetwork.MOBILENET_V1;

  @Option(names = "--batch", description = "samples per call (default: ${DEFAULT-VALUE})")
  int batch = 1;

  @Option(names = "--threads", description = "threads of each side's pool (default: ${DEFAULT-VALUE})")
  int threads = 1;

  @Option(names = "--dir", description = "folder written by tools/bench/networks.py (default: ${DEFAULT-VALUE})")
  Path dir = Path.of("bench-networks");

  @Option(names = "--warm-up", description = "seconds of both sides in turn before measuring (default: ${DEFAULT-VALUE})")
  double warmUpSeconds = 8;

  @Option(names = "--rounds", description = "rounds of one slice per side (default: ${DEFAULT-VALUE})")
  int rounds = 20;

  @Option(names = "--slice-ms", description = "milliseconds of calls per slice (default: ${DEFAULT-VALUE})")
  int sliceMs = 700;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(new CommandLine(new InProcessAB()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (batch < 1 || threads < 1 || rounds < 1 || sliceMs < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--batch, --threads, --rounds and --slice-ms must be positive");
    }
    Supplier<float[]> sideA = side(a, List.of());
    Supplier<float[]> sideB = side(b, bProperties);
    boolean same = Arrays.equals(sideA.get(), sideB.get());
    long end = System.nanoTime() + (long) (warmUpSeconds * 1e9);
    while (System.nanoTime() < end) {
      sideA.get();
      sideB.get();
    }
    double[] ratio = new double[rounds];
    double[] medA = new double[rounds];
    double[] medB = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      // Alternate which side goes first, so that neither always follows the other.
      boolean aFirst = r % 2 == 0;
      double first = sliceMedian(aFirst ? sideA : sideB);
      double second = sliceMedian(aFirst ? sideB : sideA);
      medA[r] = aFirst ? first : second;
      medB[r] = aFirst ? second : first;
      ratio[r] = medB[r] / medA[r];
      System.err.printf(Locale.ROOT, "round %d: A %.2f ms, B %.2f ms, B/A %.3f%n", r + 1, medA[r], medB[r], ratio[r]);
    }
    Arrays.sort(ratio);
    Arrays.sort(medA);
    Arrays.sort(medB);
    System.out.printf(Locale.ROOT, "{\"net\":\"%s\",\"batch\":%d,\"threads\":%d,\"rounds\":%d,\"same_output\":%s,"
        + "\"a_median_ms\":%.3f,\"b_median_ms\":%.3f,\"b_over_a\":%.3f,\"b_over_a_q1\":%.3f,\"b_over_a_q3\":%.3f}%n",
        net, batch, threads, rounds, same, medA[rounds / 2], medB[rounds / 2], ratio[rounds / 2], ratio[rounds / 4],
        ratio[(3 * rounds) / 4]);
    return 0;
  }

  /** The median time of the calls of one slice. */
  private double sliceMedian(Supplier<float[]> side) {
    double[] t = new double[256];
    int n = 0;
    long start = System.nanoTime();
    while (n < t.length && (n == 0 || System.nanoTime() - start < sliceMs * 1_000_000L)) {
      long t0 = System.nanoTime();
      side.get();
      t[n++] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(t, 0, n);
    return t[n / 2];
  }

  /** Loads a class path in a class loader of its own and builds this network there. */
  @SuppressWarnings("unchecked")
  private Supplier<float[]> side(String classPath, List<String> properties) throws Exception {
    List<URL> urls = new ArrayList<>();
    for (String entry : classPath.split(File.pathSeparator)) {
      if (!entry.isEmpty()) {
        urls.add(url(entry));
      }
    }
    ClassLoader loader = new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader());
    List<String> set = new ArrayList<>();
    try {
      for (String p : properties) {
        int eq = p.indexOf('=');
        if (eq < 1) {
          throw new CommandLine.ParameterException(spec.commandLine(), "--b-property wants NAME=VALUE, not " + p);
        }
        System.setProperty(p.substring(0, eq), p.substring(eq + 1));
        set.add(p.substring(0, eq));
      }
      Class<?> side = Class.forName(Side.class.getName(), true, loader);
      return (Supplier<float[]>) side.getMethod("create", String.class, String.class, int.class, int.class)
          .invoke(null, dir.toString(), net.name(), batch, threads);
    } finally {
      for (String name : set) {
        System.clearProperty(name);
      }
    }
  }

  private static URL url(String entry) throws MalformedURLException {
    return new File(entry).toURI().toURL();
  }

  /** One side: this class as its own class loader loads it, building the network with that loader's Kiln. */
  public static final class Side implements Supplier<float[]> {
    private final SequentialModel model;
    private final Tensor input;

    private Side(SequentialModel model, Tensor input) {
      this.model = model;
      this.input = input;
    }

    /** The fused network {@code net} with the weights in {@code dir}, on a fixed input of {@code batch} samples. */
    public static Supplier<float[]> create(String dir, String net, int batch, int threads) throws Exception {
      BenchNetwork network = BenchNetwork.named(net);
      Parallel.setThreads(threads);
      SequentialModel model = Init.skipped(network::create);
      SafeTensors.load(Path.of(dir).resolve(network.file + ".safetensors"), model);
      model.eval();
      SequentialModel fused = network.fuse(model);
      int size = network.size;
      return new Side(fused, Tensor.of(ColdStart.pattern(batch * 3 * size * size), batch, 3, size, size));
    }

    @Override
    public float[] get() {
      return model.forward(input).data();
    }
  }
}
