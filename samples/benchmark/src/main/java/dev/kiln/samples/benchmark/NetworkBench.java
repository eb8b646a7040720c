package dev.kiln.samples.benchmark;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.kiln.io.SafeTensors;
import dev.kiln.nn.ConvKernel;
import dev.kiln.nn.Init;
import dev.kiln.nn.Module;
import dev.kiln.nn.SequentialModel;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Times one whole network in one engine, in this fresh JVM: the cold start to the first result, then
 * back-to-back calls for {@code --seconds}, reporting the median of every 1-second window, the steady
 * median (the median of the last third of the calls), and when the windows settle. One JSON line goes to
 * standard output (and is appended to {@code --append} if given).
 *
 * <p>Kiln: construct the {@code @Model} network, load the training-form weights, fuse, first forward of
 * the fused network. ONNX Runtime: create the session from the deploy-form ONNX file, first run. Both read
 * the files written by {@code tools/bench/networks.py} (default folder {@code bench-networks/}) and check
 * their first output against PyTorch's before timing.
 */
@Command(name = "network-bench", mixinStandardHelpOptions = true,
    description = "Cold start and steady latency of a whole network (Kiln or ONNX Runtime) in this JVM.")
public final class NetworkBench implements Callable<Integer> {
  enum Engine { KILN, KILN_EVAL, ORT }

  @Option(names = "--net", description = "REPVGG_A0, MOBILENET_V1 or MOBILENET_V1_160 (default: ${DEFAULT-VALUE})")
  BenchNetwork net = BenchNetwork.REPVGG_A0;

  @Option(names = "--engine", description = "KILN (fused), KILN_EVAL (unfused eval mode) or ORT (default: ${DEFAULT-VALUE})")
  Engine engine = Engine.KILN;

  @Option(names = "--batch", description = "1 or 8 (default: ${DEFAULT-VALUE})")
  int batch = 1;

  @Option(names = "--threads", description = "threads of the engine (default: ${DEFAULT-VALUE})")
  int threads = 1;

  @Option(names = "--seconds", description = "seconds of back-to-back calls after the first (default: ${DEFAULT-VALUE})")
  double seconds = 30;

  @Option(names = "--dir", description = "folder written by tools/bench/networks.py (default: ${DEFAULT-VALUE})")
  Path dir = Path.of("bench-networks");

  @Option(names = "--append", description = "also append the JSON line to this file")
  Path append;

  @Option(names = "--tag", description = "free text recorded in the JSON line")
  String tag = "";

  /** Kiln's construct, load and fuse times as JSON members, or empty. */
  private String phases = "";

  public static void main(String[] args) {
    System.exit(new CommandLine(new NetworkBench()).execute(args));
  }

  /** One engine's network behind one call. */
  private interface Runner {
    void run(float[] dest) throws Exception;
  }

  @Override
  public Integer call() throws Exception {
    if (alternate > 0 && engine == Engine.ORT) {
      System.err.println("--alternate needs a Kiln engine");
      return 2;
    }
    if (warmUpSeconds > 0 && engine == Engine.ORT) {
      System.err.println("--warm-up needs a Kiln engine");
      return 2;
    }
    long start = System.nanoTime();
    long jvmStartMillis = ManagementFactory.getRuntimeMXBean().getUptime();
    Map<String, Tensor> reference = SafeTensors.read(dir.resolve(net.file + "-n" + batch + ".safetensors"));
    Tensor input = reference.get("input");
    Tensor expected = reference.get("output");
    long referenceRead = System.nanoTime();
    float[] out = new float[expected.size()];
    Runner runner = engine == Engine.ORT ? ort(input, expected.shape()) : kiln(input, engine == Engine.KILN);
    runner.run(out);
    long first = System.nanoTime();
    double firstResultMillis = (first - referenceRead) / 1e6;
    double maxDiff = maxAbsDiff(out, expected.data());
    double maxAbs = maxAbsDiff(expected.data(), new float[out.length]);
    if (!(maxDiff <= 1e-3 * Math.max(1, maxAbs))) {
      System.err.printf(Locale.ROOT, "%s %s: output differs from PyTorch's by %g (max |y| %g)%n", net, engine,
          maxDiff, maxAbs);
      return 1;
    }
    if (warmUpSeconds > 0 && kilnNetwork instanceof SequentialModel model) {
      long w0 = System.nanoTime();
      boolean complete = model.warmUp(input, Duration.ofMillis((long) (warmUpSeconds * 1000)));
      long w1 = System.nanoTime();
      phases += String.format(Locale.ROOT, "\"warm_up_ms\":%.1f,\"warm_up_complete\":%b,", (w1 - w0) / 1e6, complete);
      // The windows count from the end of the warm-up.
      first = w1;
    }
    List<long[]> calls = new ArrayList<>();
    long end = first + (long) (seconds * 1e9);
    long t = first;
    while (t < end) {
      long s = System.nanoTime();
      runner.run(out);
      t = System.nanoTime();
      calls.add(new long[] {s - first, t - s});
      if (layerNanos != null && t - first > nextDump) {
        dumpLayers(nextDump, calls.size() - lastCalls);
        lastCalls = calls.size();
        nextDump += 2_000_000_000L;
      }
    }
    if (alternate > 0) {
      alternateWithOrt(runner, input, expected, out);
    }
    // After the alternation, whose session is the profiled one when the engine is Kiln's (ended before it, that
    // session's profile file stayed empty).
    if (ortProfile != null && ortSession != null) {
      System.err.println("ONNX Runtime profile: " + ortSession.endProfiling());
    }
    handOffNanos = Parallel.handOffNanos();
    roundTripNanos = coreRoundTripNanos(200_000);
    String line = report(jvmStartMillis, firstResultMillis, (referenceRead - start) / 1e6, maxDiff,
        calls);
    System.out.println(line);
    if (append != null) {
      Files.writeString(append, line + System.lineSeparator(), java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
    }
    return 0;
  }

  @Option(names = "--alternate", description = "Kiln: afterwards, this many rounds of 1-second slices of Kiln and "
      + "ONNX Runtime alternating in this process (after 2 s of ONNX Runtime calls), each slice's median recorded "
      + "(default: none)")
  int alternate;

  /** {@link #coreRoundTripNanos}, measured after the timed calls. */
  private double roundTripNanos = Double.NaN;
  /** Kiln's pool's {@code Parallel.handOffNanos()} after the timed calls (-1: one thread, or not measured). */
  private long handOffNanos = -1;

  /**
   * The mean time (ns) for a value to go from this thread to another and back, over {@code rounds} round trips
   * of two threads spinning on one shared word: where the machine placed the two threads. On this project's
   * 2-processor virtual machine it was 56-128 ns when they shared a level-3 cache and 340-480 ns when they did
   * not, changing from one minute to the next; a layer split over two threads moves cache lines between them,
   * so 2-thread figures are read with it. NaN with one processor (two spinning threads would take turns at the
   * scheduler's pace).
   */
  static double coreRoundTripNanos(int rounds) throws InterruptedException {
    if (Runtime.getRuntime().availableProcessors() < 2) {
      return Double.NaN;
    }
    AtomicLong word = new AtomicLong();
    Thread echo = new Thread(() -> {
      for (long i = 1; i <= rounds; i++) {
        while (word.get() != 2 * i - 1) {
          Thread.onSpinWait();
        }
        word.set(2 * i);
      }
    }, "round-trip");
    echo.setDaemon(true);
    echo.start();
    long start = System.nanoTime();
    for (long i = 1; i <= rounds; i++) {
      word.set(2 * i - 1);
      while (word.get() != 2 * i) {
        Thread.onSpinWait();
      }
    }
    long elapsed = System.nanoTime() - start;
    echo.join();
    return (double) elapsed / rounds;
  }

  /** The alternating rounds' members of the JSON line, or empty. */
  private String alternation = "";

  /**
   * Times {@code kiln} and an ONNX Runtime session of the same network in turns, one second each, for
   * {@link #alternate} rounds: a phase of the machine then slows both alike, and the per-round ratio shows the
   * engines' difference rather than the machine's (separate processes minutes apart differed by up to a third).
   */
  private void alternateWithOrt(Runner kiln, Tensor input, Tensor expected, float[] out) throws Exception {
    Runner ort = ort(input, expected.shape());
    float[] ortOut = new float[out.length];
    ort.run(ortOut);
    double maxDiff = maxAbsDiff(ortOut, expected.data());
    long warm = System.nanoTime() + 2_000_000_000L;
    while (System.nanoTime() < warm) {
      ort.run(ortOut);
    }
    double[] kilnMs = new double[alternate];
    double[] ortMs = new double[alternate];
    double[] speed = new double[alternate];
    for (int r = 0; r < alternate; r++) {
      // The engine that goes first changes from round to round.
      boolean kilnFirst = r % 2 == 0;
      double a = slice(kilnFirst ? kiln : ort, kilnFirst ? out : ortOut);
      double b = slice(kilnFirst ? ort : kiln, kilnFirst ? ortOut : out);
      kilnMs[r] = kilnFirst ? a : b;
      ortMs[r] = kilnFirst ? b : a;
      speed[r] = ortMs[r] / kilnMs[r];
    }
    alternation = String.format(Locale.ROOT, "\"alternate_kiln_ms\":%s,\"alternate_ort_ms\":%s,"
        + "\"alternate_speed_median\":%.3f,\"alternate_ort_max_abs_diff\":%.3g,", json(kilnMs, "%.3f"), json(ortMs, "%.3f"),
        median(speed), maxDiff);
    System.err.printf(Locale.ROOT, "alternating with ONNX Runtime: Kiln speed %.3fx ORT's (median of %d rounds; "
        + "per round %s)%n", median(speed), alternate, json(speed, "%.3f"));
  }

  /** The median latency (ms) of one second of back-to-back calls. */
  private static double slice(Runner runner, float[] out) throws Exception {
    List<Double> ms = new ArrayList<>();
    long end = System.nanoTime() + 1_000_000_000L;
    while (System.nanoTime() < end) {
      long s = System.nanoTime();
      runner.run(out);
      ms.add((System.nanoTime() - s) / 1e6);
    }
    return median(ms.stream().mapToDouble(Double::doubleValue).toArray());
  }

  /** The largest {@code |a[i] - b[i]|}. */
  private static double maxAbsDiff(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }

  /** {@code values} as a JSON array, each number formatted with {@code format}. */
  private static String json(double[] values, String format) {
    StringBuilder b = new StringBuilder("[");
    for (double v : values) {
      b.append(b.length() == 1 ? "" : ",").append(String.format(Locale.ROOT, format, v));
    }
    return b.append(']').toString();
  }

  private long nextDump = 2_000_000_000L;
  private long[] lastDump;
  private int lastCalls;

  private void dumpLayers(long at, int count) {
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "ms/call before %.0f s (%d calls):", at / 1e9,
        count));
    for (int i = 0; i < layerNanos.length; i++) {
      long d = layerNanos[i] - (lastDump == null ? 0 : lastDump[i]);
      b.append(String.format(Locale.ROOT, " %s=%.2f", layerNames.get(i), d / 1e6 / count));
    }
    lastDump = layerNanos.clone();
    System.err.println(b);
  }

  @Option(names = "--skip-init", negatable = true, description = "Kiln: construct and fuse inside Init.skipped "
      + "(no random initialization of weights that are loaded or computed next; default: ${DEFAULT-VALUE})")
  boolean skipInit = true;

  @Option(names = "--setups", description = "Kiln: construct, load and fuse this many times (timing each; the last is used)")
  int setups = 1;

  private Runner kiln(Tensor input, boolean fused) throws IOException {
    for (int i = 1; i < setups; i++) {
      long a = System.nanoTime();
      SequentialModel m = net.create();
      long b = System.nanoTime();
      SafeTensors.load(dir.resolve(net.file + ".safetensors"), m);
      m.eval();
      long c = System.nanoTime();
      if (fused) {
        net.fuse(m);
      }
      long d = System.nanoTime();
      System.err.printf(Locale.ROOT, "setup %d: construct %.1f ms, load %.1f ms, fuse %.1f ms%n", i, (b - a) / 1e6,
          (c - b) / 1e6, (d - c) / 1e6);
    }
    long t0 = System.nanoTime();
    Parallel.setThreads(threads);
    SequentialModel model = skipInit ? Init.skipped(net::create) : net.create();
    long t1 = System.nanoTime();
    SafeTensors.load(dir.resolve(net.file + ".safetensors"), model);
    model.eval();
    long t2 = System.nanoTime();
    Module network = fused ? (skipInit ? Init.skipped(() -> net.fuse(model)) : net.fuse(model)) : model;
    kilnNetwork = network;
    long t3 = System.nanoTime();
    phases = String.format(Locale.ROOT, "\"construct_ms\":%.1f,\"load_ms\":%.1f,\"fuse_ms\":%.1f,", (t1 - t0) / 1e6,
        (t2 - t1) / 1e6, (t3 - t2) / 1e6);
    if (perLayer && network instanceof SequentialModel seq) {
      List<Module> layers = new ArrayList<>(seq.layers().values());
      layerNames = new ArrayList<>(seq.layers().keySet());
      layerNanos = new long[layers.size()];
      // The convolutions write into outputs kept from call to call, as the model's own eval forward does: a new
      // feature map per layer and call (8 MB per RepVGG-A0 forward) put the collector's page faults into the
      // timings (the scalar stem at 6-12 ms per call instead of 1-1.5).
      Tensor[] outputs = new Tensor[layers.size()];
      return dest -> {
        Tensor x = input;
        for (int i = 0; i < layers.size(); i++) {
          long s = System.nanoTime();
          if (layers.get(i) instanceof ConvKernel conv && x.rank() == 4) {
            if (outputs[i] == null) {
              int[] sample = conv.outputShape();
              outputs[i] = Tensor.zeros(x.dim(0), sample[0], sample[1], sample[2]);
            }
            conv.forward(x, outputs[i]);
            x = outputs[i];
          } else {
            x = layers.get(i).forward(x);
          }
          layerNanos[i] += System.nanoTime() - s;
        }
        System.arraycopy(x.data(), 0, dest, 0, dest.length);
      };
    }
    return dest -> System.arraycopy(network.forward(input).data(), 0, dest, 0, dest.length);
  }

  @Option(names = "--warm-up", description = "Kiln: after the first result, SequentialModel.warmUp for at most this "
      + "many seconds (reported as warm_up_ms); the timed calls start after it (default: none)")
  double warmUpSeconds;

  /** The Kiln network being timed. */
  private Module kilnNetwork;

  @Option(names = "--ort-profile", description = "ONNX Runtime: write its profile (JSON) with this file prefix (with a "
      + "Kiln engine and --alternate, the alternating session's: per-layer times in the same minutes as Kiln's, whose "
      + "per-stage profile -Dkiln.blocked.profile=true gives)")
  String ortProfile;

  @Option(names = "--per-layer", description = "time each layer of the Kiln network; print a table per window")
  boolean perLayer;

  private OrtSession ortSession;
  private List<String> layerNames;
  private long[] layerNanos;

  private Runner ort(Tensor input, int[] outShape) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    OrtSession.SessionOptions options = OrtConv.sessionOptions(threads);
    if (ortProfile != null) {
      options.enableProfiling(ortProfile);
    }
    OrtSession session = env.createSession(dir.resolve(net.file + ".onnx").toString(), options);
    ortSession = session;
    FloatBuffer buffer = ByteBuffer.allocateDirect(input.size() * Float.BYTES).order(ByteOrder.nativeOrder())
        .asFloatBuffer();
    buffer.put(input.data()).rewind();
    OnnxTensor tensor = OnnxTensor.createTensor(env, buffer,
        Arrays.stream(input.shape()).asLongStream().toArray());
    Map<String, OnnxTensor> inputs = Map.of("input", tensor);
    return dest -> {
      try (OrtSession.Result result = session.run(inputs)) {
        ((OnnxTensor) result.get(0)).getFloatBuffer().get(dest);
      }
    };
  }

  private String report(long jvmUptimeAtMain, double firstMillis, double readMillis, double maxDiff,
      List<long[]> calls) {
    double[] latencies = calls.stream().mapToDouble(c -> c[1] / 1e6).toArray();
    int n = latencies.length;
    double steady = median(Arrays.copyOfRange(latencies, n - Math.max(1, n / 3), n));
    List<Double> windows = new ArrayList<>();
    List<Double> current = new ArrayList<>();
    long windowEnd = 1_000_000_000L;
    for (long[] c : calls) {
      while (c[0] >= windowEnd) {
        windows.add(current.isEmpty() ? Double.NaN : median(current.stream().mapToDouble(d -> d).toArray()));
        current.clear();
        windowEnd += 1_000_000_000L;
      }
      current.add(c[1] / 1e6);
    }
    // The first second from which every later full window's median is within 1.25x of the steady median.
    int settled = windows.size();
    while (settled > 0 && windows.get(settled - 1) <= 1.25 * steady) {
      settled--;
    }
    double worstAfter2 = 0;
    for (int i = 2; i < windows.size(); i++) {
      worstAfter2 = Math.max(worstAfter2, windows.get(i));
    }
    String w = json(windows.stream().mapToDouble(Double::doubleValue).toArray(), "%.2f");
    return String.format(Locale.ROOT, "{\"net\":\"%s\",\"engine\":\"%s\",\"batch\":%d,\"threads\":%d,"
            + "\"tag\":\"%s\",%s\"jvm_ms_before_main\":%d,\"read_reference_ms\":%.1f,\"first_result_ms\":%.1f,"
            + "\"max_abs_diff\":%.3g,\"calls\":%d,\"first_call_ms\":%.2f,\"steady_median_ms\":%.3f,"
            + "\"min_ms\":%.3f,\"settled_after_s\":%d,\"worst_window_after_2s_ms\":%.3f,\"worst_over_steady\":%.3f,"
            + "\"window_medians_ms\":%s,\"core_round_trip_ns\":%s,\"hand_off_ns\":%d,\"java\":\"%s\",\"cpu\":\"%s\"}",
        net, engine, batch, threads, tag, phases + alternation, jvmUptimeAtMain, readMillis, firstMillis, maxDiff, n, latencies[0],
        steady, Arrays.stream(latencies).min().orElse(0), settled, worstAfter2, worstAfter2 / steady, w,
        Double.isNaN(roundTripNanos) ? "null" : String.format(Locale.ROOT, "%.0f", roundTripNanos), handOffNanos,
        System.getProperty("java.version"), cpu());
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v.length == 0 ? Double.NaN : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static String cpu() {
    try {
      for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (l.startsWith("model name")) {
          return l.substring(l.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return System.getProperty("os.arch");
  }
}
