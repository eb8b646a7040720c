package dev.kiln.simd;

import dev.kiln.nn.ConvEngine;
import dev.kiln.nn.ConvGeometry;
import java.util.Arrays;

/**
 * The vectorized engine: forward by {@link DirectConv}, the input gradient by {@link InputGradient}
 * (direct convolutions of the output gradient, one per stride phase), the weight gradient by
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
  private final InputGradient inputGradient;
  private final WeightGradient weightGradient;
  private volatile Prepared forwardCache;
  private volatile Prepared backwardCache;

  /** Packed weights with the arrays they were packed from. */
  private static final class Prepared implements Weights {
    final float[] w;
    final float[] b;
    /** The packed weights of forward, or of each input-gradient phase. */
    final DirectConv.Packed[] packed;

    Prepared(float[] w, float[] b, DirectConv.Packed... packed) {
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
    this.inputGradient = new InputGradient(g, forward.layout);
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
    forward.forward(((Prepared) weights).packed[0], x, xOff, y, yOff, ocStart, ocEnd);
  }

  @Override
  public boolean hasBackwardInput() {
    return true;
  }

  @Override
  public Weights backwardInputWeights(float[] w) {
    Prepared p = backwardCache;
    if (p != null && p.matches(w, null)) {
      return p;
    }
    p = new Prepared(w.clone(), null, inputGradient.pack(w));
    backwardCache = p;
    return p;
  }

  @Override
  public void backwardInput(Weights weights, float[] gy, int gyOff, float[] gx, int gxOff) {
    inputGradient.accumulate(((Prepared) weights).packed, gy, gyOff, gx, gxOff);
  }

  @Override
  public boolean hasBackwardWeight() {
    return true;
  }

  @Override
  public void backwardWeight(float[] x, int xStride, float[] gy, int gyStride, int from, int to, float[] gw,
      float[] gb) {
    weightGradient.accumulate(x, xStride, gy, gyStride, from, to, gw, gb);
  }
}
