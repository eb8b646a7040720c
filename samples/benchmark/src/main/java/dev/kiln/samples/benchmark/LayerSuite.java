package dev.kiln.samples.benchmark;

import dev.kiln.nn.ConvKernel;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The single-convolution suite ({@link ConvShape}) with every case in this one JVM, one after another in
 * the suite's order or in reverse, so that what one layer leaves in the JIT's profiles can slow the next (as
 * a network's layers do); JMH instead forks a fresh JVM per case. For each case: the Kiln kernel's eval
 * forward into a preallocated output and ONNX Runtime's {@code session.run} into a preallocated output
 * tensor (so that neither engine allocates per call and the garbage collector stays out of the timings; 1
 * intra-op thread each, or {@code --threads}), checked equal, then timed alternately in rounds of
 * {@code --millis}; prints the median microseconds per call of each and their ratio.
 */
@Command(name = "layer-suite", mixinStandardHelpOptions = true,
    description = "The single-convolution suite in one JVM, Kiln against ONNX Runtime.")
public final class LayerSuite implements Callable<Integer> {
  @Option(names = "--reverse", description = "run the suite in reverse order")
  boolean reverse;

  @Option(names = "--threads", description = "threads of both engines (default: ${DEFAULT-VALUE})")
  int threads = 1;

  @Option(names = "--rounds", description = "alternating timing rounds per case (default: ${DEFAULT-VALUE})")
  int rounds = 7;

  @Option(names = "--millis", description = "length of one engine's round (default: ${DEFAULT-VALUE})")
  int millis = 300;

  @Option(names = "--shapes", split = ",", description = "only these shapes")
  List<ConvShape> shapes;

  public static void main(String[] args) {
    System.exit(new CommandLine(new LayerSuite()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    List<ConvShape> order = new ArrayList<>(shapes == null ? Arrays.asList(ConvShape.values()) : shapes);
    if (reverse) {
      java.util.Collections.reverse(order);
    }
    Parallel.setThreads(threads);
    System.out.printf(Locale.ROOT, "%-18s %12s %12s %8s  %s%n", "shape", "Kiln us", "ORT us", "Kiln/ORT",
        "engine");
    double logSum = 0;
    double worst = Double.POSITIVE_INFINITY;
    for (ConvShape shape : order) {
      ConvKernel kernel = shape.newKernel();
      kernel.eval();
      Tensor input = shape.randomInput(ConvWorkload.INPUT_SEED);
      Tensor output = Tensor.zeros(shape.outputShape());
      float[] ortOut = new float[output.size()];
      try (OrtConv ort = OrtConv.open(shape, kernel, input, threads)) {
        kernel.forward(input, output);
        ort.run(ortOut);
        double diff = output.maxAbsDifference(Tensor.of(ortOut, output.shape()));
        if (!(diff <= ConvWorkload.TOLERANCE)) {
          throw new IllegalStateException(shape + ": Kiln and ONNX Runtime differ by " + diff);
        }
        List<Double> kiln = new ArrayList<>();
        List<Double> onnx = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
          kiln.addAll(time(() -> kernel.forward(input, output)));
          onnx.addAll(time(ort::runPinned));
        }
        double k = median(kiln);
        double o = median(onnx);
        double ratio = o / k;
        logSum += Math.log(ratio);
        worst = Math.min(worst, ratio);
        System.out.printf(Locale.ROOT, "%-18s %12.1f %12.1f %7.2fx  %s%n", shape, k, o, ratio, kernel.engineName());
      }
    }
    System.out.printf(Locale.ROOT, "Kiln speed / ORT speed: minimum %.2fx, geometric mean %.2fx (%s order, %d thread%s)%n",
        worst, Math.exp(logSum / order.size()), reverse ? "reverse" : "suite", threads, threads == 1 ? "" : "s");
    return 0;
  }

  /** A call to time. */
  private interface Call {
    void run() throws Exception;
  }

  /** Microseconds of each call made during one round. */
  private List<Double> time(Call call) throws Exception {
    List<Double> us = new ArrayList<>();
    long end = System.nanoTime() + millis * 1_000_000L;
    while (System.nanoTime() < end) {
      long s = System.nanoTime();
      call.run();
      us.add((System.nanoTime() - s) / 1e3);
    }
    return us;
  }

  private static double median(List<Double> values) {
    List<Double> v = new ArrayList<>(values);
    java.util.Collections.sort(v);
    return v.get(v.size() / 2);
  }
}
