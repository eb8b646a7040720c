package dev.kiln.samples.benchmark;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.kiln.io.SafeTensors;
import dev.kiln.nn.Init;
import dev.kiln.nn.SequentialModel;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A whole network's cold start in a JVM that has run nothing else, as a service's first request would see it:
 * Kiln's construct (random initialization skipped: {@code Init.skipped}) + load weights + fuse + first forward,
 * or ONNX Runtime's session creation + first run, on an input of the network's shape (a fixed pattern); then,
 * untimed, the output for PyTorch's reference input checked against PyTorch's (the files of {@code
 * tools/bench/networks.py}). Prints one JSON line, with the processor time each thread of the process had used
 * when the first result was there (Linux only: read from {@code /proc/self/task}; empty elsewhere).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp samples/benchmark/target/kiln-benchmarks.jar \
 *   dev.kiln.samples.benchmark.ColdStart DIR REPVGG_A0|MOBILENET_V1|MOBILENET_V1_160 KILN|ORT THREADS BATCH
 * </pre>
 *
 * <p>Unlike the other benchmark programs this one reads its five arguments by position instead of through
 * picocli, and {@link NetworkBench}'s cold-start figures differ from its own for that reason: picocli's start-up
 * (reflection over the options, proxies, lambdas) generates about a hundred classes at run time, which makes the
 * JIT compile the bytecode library it generates them with (one of its methods took C2 about 0.5 s on the AMD
 * EPYC Zen 1) and warms up parts of the JDK that Kiln's first forward then finds warm. This program measures
 * the cold start of the network, not of a command-line parser.
 */
public final class ColdStart {
  private ColdStart() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 5) {
      System.err.println("usage: ColdStart DIR REPVGG_A0|MOBILENET_V1|MOBILENET_V1_160 KILN|ORT THREADS BATCH");
      System.exit(2);
    }
    Path dir = Path.of(args[0]);
    BenchNetwork net = BenchNetwork.named(args[1]);
    String engine = args[2];
    int threads = positive(args[3]);
    int batch = positive(args[4]);
    if (net == null || !(engine.equals("KILN") || engine.equals("ORT")) || threads < 1 || batch < 1) {
      System.err.println("ColdStart: expected DIR REPVGG_A0|MOBILENET_V1|MOBILENET_V1_160 KILN|ORT THREADS BATCH "
          + "(positive numbers) but got " + String.join(" ", args));
      System.exit(2);
    }
    String file = net.file;
    Path reference = dir.resolve(file + "-n" + batch + ".safetensors");
    if (!Files.isRegularFile(reference)) {
      System.err.println("ColdStart: no " + reference
          + " (tools/bench/networks.py writes the networks and their references for N = 1 and 8)");
      System.exit(2);
    }
    int size = net.size;
    long[] shape = {batch, 3, size, size};
    float[] input = pattern(batch * 3 * size * size);

    long t0 = System.nanoTime();
    double[] phases;
    float[] first;
    Runner runner;
    if (engine.equals("KILN")) {
      Parallel.setThreads(threads);
      // Random initialization skipped, as for any network whose weights are loaded next (NetworkBench does the same).
      SequentialModel model = Init.skipped(net::create);
      long t1 = System.nanoTime();
      SafeTensors.load(dir.resolve(file + ".safetensors"), model);
      model.eval();
      long t2 = System.nanoTime();
      SequentialModel fused = net.fuse(model);
      long t3 = System.nanoTime();
      Tensor x = Tensor.of(input, batch, 3, size, size);
      first = fused.forward(x).data();
      long t4 = System.nanoTime();
      phases = new double[] {(t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, (t4 - t3) / 1e6, (t4 - t0) / 1e6};
      runner = in -> fused.forward(Tensor.of(in, batch, 3, size, size)).data();
    } else {
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      OrtSession.SessionOptions options = OrtConv.sessionOptions(threads);
      OrtSession session = env.createSession(dir.resolve(file + ".onnx").toString(), options);
      long t1 = System.nanoTime();
      first = ort(env, session, input, shape);
      long t2 = System.nanoTime();
      phases = new double[] {(t1 - t0) / 1e6, 0, 0, (t2 - t1) / 1e6, (t2 - t0) / 1e6};
      runner = in -> ort(env, session, in, shape);
    }
    Map<String, Long> cpu = threadCpuMillis();
    if (first.length != batch * 1000) {
      throw new IllegalStateException("first output has " + first.length + " values, not " + batch * 1000);
    }

    Map<String, Tensor> pytorch = SafeTensors.read(reference);
    float[] out = runner.run(pytorch.get("input").data());
    float[] expected = pytorch.get("output").data();
    double maxDiff = 0;
    double maxAbs = 0;
    for (int i = 0; i < expected.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(out[i] - expected[i]));
      maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
    }
    if (!(maxDiff <= 1e-3 * Math.max(1, maxAbs))) {
      System.err.printf(Locale.ROOT, "%s %s: output differs from PyTorch's by %g (max |y| %g)%n", net, engine,
          maxDiff, maxAbs);
      System.exit(1);
    }
    StringBuilder cpuJson = new StringBuilder();
    for (Map.Entry<String, Long> e : cpu.entrySet()) {
      cpuJson.append(cpuJson.length() == 0 ? "" : ",").append('"').append(e.getKey()).append("\":")
          .append(e.getValue());
    }
    System.out.printf(Locale.ROOT, "{\"net\":\"%s\",\"engine\":\"%s\",\"batch\":%d,\"threads\":%d,"
        + "\"construct_or_session_ms\":%.1f,\"load_ms\":%.1f,\"fuse_ms\":%.1f,\"first_call_ms\":%.1f,"
        + "\"first_result_ms\":%.1f,\"max_abs_diff\":%.3g,\"cpu_ms_by_thread\":{%s}}%n", net, engine, batch, threads,
        phases[0], phases[1], phases[2], phases[3], phases[4], maxDiff, cpuJson);
    System.exit(0); // the pool's and ONNX Runtime's threads need not wind down
  }

  /** One forward of the network on an input (its output's values). */
  private interface Runner {
    float[] run(float[] input) throws Exception;
  }

  /** {@code text} as a positive int, or 0 if it is not one. */
  private static int positive(String text) {
    try {
      return Math.max(0, Integer.parseInt(text));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Values in [-1, 1) that are not all alike (a first result on zeros could skip nothing, but looks odd). */
  /** A fixed input of {@code n} values in [-1, 1) (ColdStart's and InProcessAB's). */
  static float[] pattern(int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (i * 37 % 101) / 50.5f - 1f;
    }
    return x;
  }

  private static float[] ort(OrtEnvironment env, OrtSession session, float[] input, long[] shape) throws OrtException {
    FloatBuffer buffer = ByteBuffer.allocateDirect(input.length * Float.BYTES).order(ByteOrder.nativeOrder())
        .asFloatBuffer();
    buffer.put(input).rewind();
    try (OnnxTensor tensor = OnnxTensor.createTensor(env, buffer, shape);
        OrtSession.Result result = session.run(Map.of("input", tensor))) {
      FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
      float[] values = new float[out.remaining()];
      out.get(values);
      return values;
    }
  }

  /**
   * Processor time (user + system, ms, in steps of 10) used so far by the threads of this process that used any,
   * by thread name with trailing digits folded ({@code C2 CompilerThre}, {@code java} for the main thread, ...):
   * from {@code /proc/self/task}, empty where there is none.
   */
  static Map<String, Long> threadCpuMillis() {
    Map<String, Long> byName = new TreeMap<>();
    java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
    if (tasks == null) {
      return byName;
    }
    long hz = 100; // USER_HZ on Linux
    for (java.io.File task : tasks) {
      try {
        String stat = Files.readString(task.toPath().resolve("stat"));
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        String name = stat.substring(open + 1, close).replaceAll("[0-9]+$", "#").trim();
        String[] fields = stat.substring(close + 2).split(" ");
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime
        if (ticks > 0) {
          byName.merge(name, ticks * 1000 / hz, Long::sum);
        }
      } catch (IOException | RuntimeException e) {
        // a thread that ended meanwhile
      }
    }
    return byName;
  }
}
