package dev.kiln.simd;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.Parameter;
import dev.kiln.tensor.Tensor;
import java.util.Arrays;

/**
 * A benchmark program (not a test): one convolution layer used on its own, timed three ways in one JVM, the
 * variants interleaved round after round: the direct engine ({@link DirectConv}), the blocked tiles with the
 * conversions a lone layer needs ({@link LoneBlockedConv} as a layer's engine runs it: NCHW into padded
 * planes, {@link BlockedConv}, channel blocks back to NCHW), and the blocked tiles alone. Prints whether the two give the
 * same bits and the median of 15 rounds of 150 ms each, 1 thread. This is what {@link
 * LoneBlockedConv#MIN_REDUCTION} was chosen by.
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
    dev.kiln.runtime.Parallel.setThreads(1);
    int cin = Integer.parseInt(a[0]), cout = Integer.parseInt(a[1]), hw = Integer.parseInt(a[2]);
    int k = Integer.parseInt(a[3]), s = Integer.parseInt(a[4]);
    int pad = k / 2;
    ConvGeometry g = ConvGeometry.builder().inChannels(cin).outChannels(cout).inputSize(hw, hw).kernel(k, k)
        .stride(s, s).padding(pad, pad, pad, pad).groups(1).paddingMode(PaddingMode.ZEROS).build();
    float[] w = new float[cout * cin * k * k];
    float[] b = new float[cout];
    java.util.SplittableRandom r = new java.util.SplittableRandom(1);
    for (int i = 0; i < w.length; i++) w[i] = (float) r.nextDouble(-0.1, 0.1);
    for (int i = 0; i < b.length; i++) b[i] = (float) r.nextDouble(-0.1, 0.1);
    float[] x = new float[cin * hw * hw];
    for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
    SimdConvEngine direct = new SimdConvEngine(g, true, false, null);
    Parameter wp = Parameter.of("w", Tensor.of(w, cout, cin, k, k));
    Parameter bp = Parameter.of("b", Tensor.of(b, cout));
    var dw = direct.forwardWeights(wp, bp);
    int outSize = cout * g.outHeight() * g.outWidth();
    float[] y1 = new float[outSize];
    float[] y2 = new float[outSize];
    int[] halo = BlockedConv.requiredHalo(g);
    BlockedLayout in = BlockedLayout.planes(cin, hw, hw, halo[0], halo[1], halo[2], halo[3]);
    BlockedLayout out = BlockedLayout.blocked(cout, g.outHeight(), g.outWidth(), 0, 0, 0, 0);
    BlockedConv bc = new BlockedConv(g, Activation.RELU, in, out);
    float[] xb = new float[in.sampleSize];
    float[] yb = new float[out.sampleSize];
    in.fromNchw(x, 0, xb, 0);
    Runnable dr = () -> direct.forward(dw, x, 0, y1, 0, 0, cout);
    // LoneBlockedConv's forward as a layer's engine runs it (the threshold of terms not applied).
    SimdConvEngine lone = new SimdConvEngine(g, true, false, new LoneBlockedConv(g, Activation.RELU));
    var lw = lone.forwardWeights(wp, bp);
    Runnable br = () -> lone.forward(lw, x, 0, y2, 0, 0, cout);
    Runnable conv = () -> bc.run(wp, bp, xb, 0, yb, 0, 1, 1, 0, bc.items(1));
    for (int i = 0; i < 300; i++) { dr.run(); br.run(); }
    System.out.println("same bits: " + Arrays.equals(y1, y2) + " maxdiff " + maxDiff(y1, y2));
    double[][] t = new double[3][15];
    Runnable[] rs = {dr, br, conv};
    for (int round = 0; round < 15; round++) {
      for (int v = 0; v < 3; v++) {
        long t0 = System.nanoTime(); int n = 0;
        while (System.nanoTime() - t0 < 150_000_000L) { rs[v].run(); n++; }
        t[v][round] = (System.nanoTime() - t0) / 1e3 / n;
      }
    }
    for (int v = 0; v < 3; v++) Arrays.sort(t[v]);
    System.out.printf(java.util.Locale.ROOT, "%d->%d %dx%d k%d s%d: direct %.1f us, blocked+conversions %.1f us, blocked conv alone %.1f us%n",
        cin, cout, hw, hw, k, s, t[0][7], t[1][7], t[2][7]);
  }

  static double maxDiff(float[] a, float[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  }
}
