package dev.kiln.samples.repconv;

import dev.kiln.annotation.RepConv;
import dev.kiln.nn.Parameter;
import dev.kiln.optim.Sgd;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A RepVGG block from training to deployment. The {@code @RepConv} interface below makes the Kiln processor
 * generate {@code RepConvDemo_Block16Block} (the training form: 3x3 + 1x1 + identity branches, each with a
 * BatchNorm) and {@code RepConvDemo_Block16Kernel} (the deploy form: one fused 3x3 convolution with ReLU).
 *
 * <p>The demo trains the block a few SGD steps to imitate a fixed "teacher" block (mean squared error), switches
 * it to eval mode, fuses it, checks that the fused kernel computes the same function, and times both forms.
 */
public final class RepConvDemo {
  /** 16 -> 16 channels, 3x3, stride 1, on 32x32 inputs; BatchNorm in every branch and ReLU after the sum. */
  @RepConv(inChannels = 16, outChannels = 16, kernelSize = 3, height = 32, width = 32)
  public interface Block16 {}

  private static final int C = RepConvDemo_Block16Block.IN_C;
  private static final int H = RepConvDemo_Block16Block.IN_H;
  private static final int W = RepConvDemo_Block16Block.IN_W;

  private RepConvDemo() {}

  public static void main(String[] args) {
    int steps = 20;
    int batch = 8;
    long seed = 1;
    double lr = 0.05;
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--steps" -> steps = Integer.parseInt(value(args, ++i));
          case "--batch" -> batch = Integer.parseInt(value(args, ++i));
          case "--seed" -> seed = Long.parseLong(value(args, ++i));
          case "--lr" -> lr = Double.parseDouble(value(args, ++i));
          case "--threads" -> Parallel.setThreads(Integer.parseInt(value(args, ++i)));
          case "--help", "-h" -> {
            System.out.println("usage: java -jar kiln-repconv.jar [--steps N (20)] [--batch N (8, at least 2)]"
                + " [--seed S (1)] [--lr LR (0.05)] [--threads T (all cores)]");
            return;
          }
          default -> fail("unknown option " + args[i]);
        }
      }
    } catch (NumberFormatException e) {
      fail("not a number: " + e.getMessage());
    }
    if (steps < 1 || batch < 2) {
      fail("--steps must be >= 1 and --batch >= 2 (BatchNorm needs more than one value per channel)");
    }
    run(steps, batch, seed, lr);
  }

  private static String value(String[] args, int i) {
    if (i >= args.length) {
      fail("option " + args[i - 1] + " needs a value");
    }
    return args[i];
  }

  private static void fail(String message) {
    System.err.println(message + " (try --help)");
    System.exit(2);
  }

  static void run(int steps, int batch, long seed, double lr) {
    SplittableRandom random = new SplittableRandom(seed);
    RepConvDemo_Block16Block block = new RepConvDemo_Block16Block(seed);
    System.out.println("== RepVGG block, training form (" + RepConvDemo_Block16Block.class.getSimpleName() + ")");
    System.out.println("input [N, " + C + ", " + H + ", " + W + "] -> output [N, " + RepConvDemo_Block16Block.OUT_C
        + ", " + RepConvDemo_Block16Block.OUT_H + ", " + RepConvDemo_Block16Block.OUT_W + "]; branches: 3x3 conv+BN, "
        + "1x1 conv+BN" + (RepConvDemo_Block16Block.HAS_IDENTITY ? ", identity BN" : "") + "; ReLU after the sum");
    System.out.println("parameters: " + count(block.namedParameters()) + " in " + block.namedParameters().size()
        + " tensors; state dict: " + String.join(", ", block.stateDict().keySet()));

    // A fixed teacher (another block, different seed, eval mode) gives a learnable target.
    RepConvDemo_Block16Block teacher = new RepConvDemo_Block16Block(seed + 1000);
    teacher.eval();
    Sgd sgd = Sgd.builder(block.namedParameters(), lr).momentum(0.9).build();
    System.out.println();
    System.out.println("== Training " + steps + " SGD steps (lr " + lr + ", momentum 0.9, batch " + batch
        + ", MSE to a teacher block)");
    for (int step = 1; step <= steps; step++) {
      Tensor x = randomInput(batch, random);
      Tensor target = teacher.forward(x);
      sgd.zeroGrad();
      Tensor y = block.forward(x);
      float[] yd = y.data();
      float[] td = target.data();
      float[] grad = new float[yd.length];
      double loss = 0;
      for (int i = 0; i < yd.length; i++) {
        double d = yd[i] - td[i];
        loss += d * d;
        grad[i] = (float) (2 * d / yd.length);
      }
      loss /= yd.length;
      block.backward(Tensor.of(grad, y.shape()));
      sgd.step();
      if (step == 1 || step == steps || step % Math.max(1, steps / 5) == 0) {
        System.out.printf(Locale.ROOT, "step %3d  loss %.6f%n", step, loss);
      }
    }

    // Deploy: eval mode (BatchNorm uses its running statistics), then fold everything into one 3x3 conv.
    block.eval();
    RepConvDemo_Block16Kernel kernel = block.fuse();
    Tensor x = randomInput(batch, random);
    Tensor evalOut = block.forward(x);
    Tensor fusedOut = kernel.forward(x);
    double maxDiff = 0;
    double maxAbs = 0;
    for (int i = 0; i < evalOut.size(); i++) {
      maxDiff = Math.max(maxDiff, Math.abs((double) evalOut.data()[i] - fusedOut.data()[i]));
      maxAbs = Math.max(maxAbs, Math.abs(evalOut.data()[i]));
    }
    System.out.println();
    System.out.println("== Fused deploy form (" + RepConvDemo_Block16Kernel.class.getSimpleName() + ")");
    System.out.println("one 3x3 conv with bias and ReLU: weight " + Arrays.toString(kernel.weight().data().shape())
        + ", " + count(kernel.namedParameters()) + " parameters");
    System.out.printf(Locale.ROOT, "max |eval block - fused kernel| = %.3g  (outputs up to %.3f)%n", maxDiff, maxAbs);

    // Timing: eval-mode forward calls of the two forms, interleaved so both see the same machine load.
    int runs = 31;
    double[] micros = medianMicrosPerImage(() -> block.forward(x), () -> kernel.forward(x), batch, runs);
    System.out.println();
    System.out.println("== Inference time (batch " + batch + ", " + Parallel.threads() + " threads, median of " + runs
        + " interleaved calls each)");
    System.out.printf(Locale.ROOT, "training-form block (eval): %9.1f us/image%n", micros[0]);
    System.out.printf(Locale.ROOT, "fused kernel:               %9.1f us/image  (speedup %.2fx)%n", micros[1],
        micros[0] / micros[1]);
  }

  private static Tensor randomInput(int batch, SplittableRandom random) {
    Tensor x = Tensor.zeros(batch, C, H, W);
    float[] d = x.data();
    for (int i = 0; i < d.length; i++) {
      d[i] = (float) (random.nextDouble() * 2 - 1);
    }
    return x;
  }

  private static long count(Map<String, Parameter> parameters) {
    return parameters.values().stream().mapToLong(p -> p.data().size()).sum();
  }

  /**
   * Warms both calls up (at least 20 calls and half a second each, so the JIT has compiled them), then times
   * {@code runs} alternating calls of each and returns the two medians in microseconds per image.
   */
  private static double[] medianMicrosPerImage(Runnable a, Runnable b, int batch, int runs) {
    for (Runnable r : new Runnable[] {a, b}) {
      long until = System.nanoTime() + 500_000_000L;
      for (int i = 0; i < 20 || System.nanoTime() < until; i++) {
        r.run();
      }
    }
    long[] na = new long[runs];
    long[] nb = new long[runs];
    for (int i = 0; i < runs; i++) {
      na[i] = time(a);
      nb[i] = time(b);
    }
    Arrays.sort(na);
    Arrays.sort(nb);
    return new double[] {na[runs / 2] / 1000.0 / batch, nb[runs / 2] / 1000.0 / batch};
  }

  private static long time(Runnable r) {
    long start = System.nanoTime();
    r.run();
    return System.nanoTime() - start;
  }
}
