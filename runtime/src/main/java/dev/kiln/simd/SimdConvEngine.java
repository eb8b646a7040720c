package dev.kiln.simd;

import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvEngine;
import dev.kiln.nn.ConvGeometry;
import java.util.Arrays;

/**
 * The vectorized engine: forward by {@link DirectConv}; for stride 1, the input gradient as a direct
 * convolution of the output gradient with the flipped, transposed weights over the padded input plane,
 * folded back through the padding (stride > 1 keeps the generated loops); the weight gradient by
 * {@link WeightGradient}.
 *
 * <p>Packed weights are cached together with a copy of the arrays they came from and rebuilt when those
 * arrays change (optimizers and {@code loadStateDict} write them in place): every batch-level call pays
 * one comparison of the weights, which fails at the first changed value. A rebuild publishes a new
 * immutable {@link Prepared} through a volatile field, so concurrent eval-mode callers are safe.
 * Scratch buffers are per thread and per engine; steady-state forward allocates nothing.
 */
final class SimdConvEngine implements ConvEngine {
  private final String name;
  private final ConvGeometry g;
  private final DirectConv forward;
  /** The input gradient's convolution, or null when not vectorized. */
  private final DirectConv transposed;
  private final WeightGradient weightGradient;
  private final ThreadLocal<float[]> gradPadded;
  private volatile Prepared forwardCache;
  private volatile Prepared backwardCache;

  /** Packed weights with the arrays they were packed from. */
  private static final class Prepared implements Weights {
    final float[] w;
    final float[] b;
    final DirectConv.Packed packed;

    Prepared(float[] w, float[] b, DirectConv.Packed packed) {
      this.w = w;
      this.b = b;
      this.packed = packed;
    }

    boolean matches(float[] w, float[] b) {
      return Arrays.equals(this.w, w) && Arrays.equals(this.b, b);
    }
  }

  SimdConvEngine(ConvGeometry g, boolean relu) {
    this.g = g;
    this.forward = new DirectConv(g, relu);
    this.name = "simd-direct-" + Lanes.V * 32;
    if (g.strideH() == 1 && g.strideW() == 1) {
      int padH = g.dilationH() * (g.kernelH() - 1);
      int padW = g.dilationW() * (g.kernelW() - 1);
      int paddedH = g.inHeight() + g.padTop() + g.padBottom();
      int paddedW = g.inWidth() + g.padLeft() + g.padRight();
      ConvGeometry t = new ConvGeometry(g.outChannels(), g.outHeight(), g.outWidth(), g.inChannels(), paddedH,
          paddedW, g.kernelH(), g.kernelW(), 1, 1, g.dilationH(), g.dilationW(), padH, padH, padW, padW,
          g.groups(), PaddingMode.ZEROS);
      this.transposed = new DirectConv(t, false);
      int size = g.inChannels() * paddedH * paddedW;
      this.gradPadded = ThreadLocal.withInitial(() -> new float[size]);
    } else {
      this.transposed = null;
      this.gradPadded = null;
    }
    this.weightGradient = new WeightGradient(g);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int channelBlock() {
    return forward.channelBlock();
  }

  @Override
  public Weights forwardWeights(float[] w, float[] b) {
    Prepared p = forwardCache;
    if (p != null && p.matches(w, b)) {
      return p;
    }
    p = new Prepared(w.clone(), b == null ? null : b.clone(), forward.pack(w, b));
    forwardCache = p;
    return p;
  }

  @Override
  public void forward(Weights weights, float[] x, int xOff, float[] y, int yOff, int ocStart, int ocEnd) {
    forward.forward(((Prepared) weights).packed, x, xOff, y, yOff, ocStart, ocEnd);
  }

  @Override
  public boolean hasBackwardInput() {
    return transposed != null;
  }

  @Override
  public Weights backwardInputWeights(float[] w) {
    Prepared p = backwardCache;
    if (p != null && p.matches(w, null)) {
      return p;
    }
    p = new Prepared(w.clone(), null, transposed.pack(flipTranspose(w), null));
    backwardCache = p;
    return p;
  }

  /** {@code w [out, in/g, kH, kW]} as the weight {@code [in, out/g, kH, kW]} of the transposed convolution. */
  private float[] flipTranspose(float[] w) {
    int icpg = g.inChannelsPerGroup();
    int ocpg = g.outChannelsPerGroup();
    int kh = g.kernelH();
    int kw = g.kernelW();
    int taps = kh * kw;
    float[] t = new float[w.length];
    for (int oc = 0; oc < g.outChannels(); oc++) {
      int grp = oc / ocpg;
      int j = oc - grp * ocpg;
      for (int c = 0; c < icpg; c++) {
        int ic = grp * icpg + c;
        int src = (oc * icpg + c) * taps;
        int dst = (ic * ocpg + j) * taps;
        for (int i = 0; i < taps; i++) {
          t[dst + taps - 1 - i] = w[src + i];
        }
      }
    }
    return t;
  }

  @Override
  public void backwardInput(Weights weights, float[] gy, int gyOff, float[] gx, int gxOff) {
    float[] gp = gradPadded.get();
    transposed.forward(((Prepared) weights).packed, gy, gyOff, gp, 0, 0, g.inChannels());
    PaddedLayout layout = forward.layout;
    int h = g.inHeight();
    int w = g.inWidth();
    int hp = layout.paddedH;
    int wp = layout.paddedW;
    int padLeft = g.padLeft();
    for (int c = 0; c < g.inChannels(); c++) {
      int dst0 = gxOff + c * h * w;
      int src0 = c * hp * wp;
      for (int r = 0; r < hp; r++) {
        int sr = layout.rowSource(r);
        if (sr < 0) {
          continue;
        }
        int dst = dst0 + sr * w;
        int src = src0 + r * wp;
        for (int col = 0; col < w; col++) {
          gx[dst + col] += gp[src + padLeft + col];
        }
        for (int col = 0; col < wp; col++) {
          if (col >= padLeft && col < padLeft + w) {
            continue;
          }
          int sc = layout.colSource(col);
          if (sc >= 0) {
            gx[dst + sc] += gp[src + col];
          }
        }
      }
    }
  }

  @Override
  public boolean hasBackwardWeight() {
    return true;
  }

  @Override
  public void backwardWeight(float[] x, int xOff, float[] gy, int gyOff, float[] gw, float[] gb) {
    weightGradient.accumulate(x, xOff, gy, gyOff, gw, gb);
  }
}
