package dev.kiln.simd;

import dev.kiln.annotation.Activation;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.Parameter;
import dev.kiln.runtime.Parallel;

/**
 * One convolution on its own (NCHW in, NCHW out) through the blocked-layout tiles: the input is copied into
 * padded planes (row copies, no transposition), the tiles write a blocked output, and that is transposed back
 * into NCHW. Used for eval-mode forwards of a kernel outside a network engine; the copies cost a few percent
 * of a layer with many multiply-adds per output and are what ONNX Runtime does around a single convolution too.
 * Buffers are per calling thread. Thread-safe.
 */
final class BlockedSingle {
  private final BlockedConv conv;
  private final BlockedLayout in;
  private final BlockedLayout out;
  private final int inSample;
  private final int outSample;
  private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

  /** A calling thread's buffers and its reusable split over the pool. */
  private final class Scratch implements Parallel.RangeBody {
    float[] xp = new float[0];
    float[] yb = new float[0];
    int batch;
    Parameter weight;
    Parameter bias;

    void ensure(int n) {
      if (xp.length < n * in.sampleSize) {
        xp = new float[n * in.sampleSize];
        yb = new float[n * out.sampleSize];
      }
    }

    @Override
    public void run(int start, int end) {
      conv.run(weight, bias, xp, 0, yb, 0, batch, start, end);
    }
  }

  /** Whether a single convolution of this geometry runs here: not depthwise (its input would need a transposition). */
  static boolean supports(ConvGeometry g) {
    return !BlockedConv.isDepthwise(g) && BlockedConv.supports(g, false);
  }

  BlockedSingle(ConvGeometry g, Activation activation) {
    int[] halo = BlockedConv.requiredHalo(g);
    this.in = BlockedLayout.planes(g.inChannels(), g.inHeight(), g.inWidth(), halo[0], halo[1], halo[2], halo[3]);
    this.out = BlockedLayout.blocked(g.outChannels(), g.outHeight(), g.outWidth(), 0, 0, 0, 0);
    this.conv = new BlockedConv(g, activation, in, out);
    this.inSample = g.inChannels() * g.inHeight() * g.inWidth();
    this.outSample = g.outChannels() * g.outHeight() * g.outWidth();
  }

  /** The eval forward of {@code n} samples from {@code x} (NCHW) into {@code y} (NCHW). */
  void forward(Parameter weight, Parameter bias, float[] x, float[] y, int n) {
    Scratch s = scratch.get();
    s.ensure(n);
    for (int i = 0; i < n; i++) {
      in.fromNchw(x, i * inSample, s.xp, i * in.sampleSize);
    }
    int items = conv.items(n);
    s.weight = weight;
    s.bias = bias;
    s.batch = n;
    try {
      if (conv.splits(n)) {
        Parallel.forRange(items, s);
      } else {
        s.run(0, items);
      }
    } finally {
      s.weight = null;
      s.bias = null;
    }
    for (int i = 0; i < n; i++) {
      out.toNchw(s.yb, i * out.sampleSize, y, i * outSample);
    }
  }
}
