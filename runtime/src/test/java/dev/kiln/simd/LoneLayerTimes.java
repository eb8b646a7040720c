package dev.kiln.simd;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvEngine;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.Parameter;
import dev.kiln.runtime.Parallel;
import dev.kiln.testing.TestTensors;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A benchmark program (not a test): one convolution layer used on its own, timed three ways in one JVM, the
 * variants interleaved round after round: the direct engine ({@link DirectConv}), the blocked tiles with the
 * conversions a lone layer needs ({@link LoneBlockedConv} as a layer's engine runs it: NCHW into padded
 * planes, or into channel blocks for a 1x1 layer that {@link LoneBlockedConv#readsChannelBlocks}, {@link
 * BlockedConv}, channel blocks back to NCHW), and the blocked tiles alone on the same input layout. Prints whether
 * the first two give the same bits and the median of 15 rounds of 150 ms each, 1 thread. This is what {@link
 * LoneBlockedConv#MIN_REDUCTION} and {@link LoneBlockedConv#MIN_POINTWISE_CHANNELS} were chosen by.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp runtime/target/classes:runtime/target/test-classes \
 *   dev.kiln.simd.LoneLayerTimes CIN COUT SIZE KERNEL STRIDE
 * </pre>
 */
public final class LoneLayerTimes {
  private LoneLayerTimes() {}

  public static void main(String[] a) {
    if (a.length != 5) {
      System.err.println("usage: LoneLayerTimes CIN COUT SIZE KERNEL STRIDE");
      System.exit(2);
    }
    TileWarmer.setWaiting(false);
    Parallel.setThreads(1);
    int cin = Integer.parseInt(a[0]);
    int cout = Integer.parseInt(a[1]);
    int size = Integer.parseInt(a[2]);
    int k = Integer.parseInt(a[3]);
    int stride = Integer.parseInt(a[4]);
    int pad = k / 2;
    ConvGeometry g = NaiveConvKernel.geometry(cin, cout, size, size, k, k, stride, stride, 1, 1, pad, pad, pad, pad, 1,
        PaddingMode.ZEROS);
    SplittableRandom r = new SplittableRandom(1);
    Parameter weight = Parameter.of("weight", TestTensors.uniform(r, 0.1, cout, cin, k, k));
    Parameter bias = Parameter.of("bias", TestTensors.uniform(r, 0.1, cout));
    float[] x = TestTensors.uniform(r, 1, cin, size, size).data();
    int outSize = cout * g.outHeight() * g.outWidth();
    float[] direct = new float[outSize];
    float[] lone = new float[outSize];

    SimdConvEngine directEngine = new SimdConvEngine(g, true, false, null);
    ConvEngine.Weights dw = directEngine.forwardWeights(weight, bias);
    // LoneBlockedConv's forward as a layer's engine runs it (the threshold of terms not applied).
    LoneBlockedConv loneForm = new LoneBlockedConv(g, Activation.RELU, LoneBlockedConv.readsChannelBlocks(g));
    SimdConvEngine loneEngine = new SimdConvEngine(g, true, false, loneForm);
    ConvEngine.Weights lw = loneEngine.forwardWeights(weight, bias);
    // The tiles alone, on an input already in the layout the lone form converts it to.
    BlockedLayout in = loneForm.inputLayout();
    BlockedLayout out = loneForm.outputLayout();
    BlockedConv tiles = new BlockedConv(g, Activation.RELU, in, out);
    float[] xb = new float[in.sampleSize];
    float[] yb = new float[out.sampleSize];
    in.fromNchw(x, 0, xb, 0);

    Runnable[] ways = {
        () -> directEngine.forward(dw, x, 0, direct, 0, 0, cout),
        () -> loneEngine.forward(lw, x, 0, lone, 0, 0, cout),
        () -> tiles.run(weight, bias, xb, 0, yb, 0, 1, 1, 0, tiles.items(1)),
    };
    for (int i = 0; i < 300; i++) {
      for (Runnable way : ways) {
        way.run();
      }
    }
    System.out.println("same bits: " + Arrays.equals(direct, lone));
    int rounds = 15;
    double[][] micros = new double[ways.length][rounds];
    for (int round = 0; round < rounds; round++) {
      for (int v = 0; v < ways.length; v++) {
        long t0 = System.nanoTime();
        long now;
        int calls = 0;
        do {
          ways[v].run();
          calls++;
          now = System.nanoTime();
        } while (now - t0 < 150_000_000L);
        micros[v][round] = (now - t0) / 1e3 / calls;
      }
    }
    for (double[] m : micros) {
      Arrays.sort(m);
    }
    System.out.printf(Locale.ROOT,
        "%d->%d %dx%d k%d s%d: direct %.1f us, blocked+conversions %.1f us, blocked conv alone %.1f us%n", cin, cout,
        size, size, k, stride, micros[0][rounds / 2], micros[1][rounds / 2], micros[2][rounds / 2]);
  }
}
