package dev.kiln.simd;

import dev.kiln.annotation.Activation;
import dev.kiln.nn.ConvEngine;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.Parameter;
import dev.kiln.runtime.Parallel;
import java.util.concurrent.atomic.AtomicLong;
import jdk.incubator.vector.FloatVector;

/**
 * The vectorized engine: forward by {@link DirectConv}, the input gradient by {@link InputGradient}
 * (direct convolutions of the output gradient, one per stride phase), the weight gradient by
 * {@link WeightGradient}, or {@link DotWeightGradient} for layers with few (input channel, tap) columns and
 * large output planes.
 *
 * <p>Packed weights are cached with the parameters and the {@link Parameter#version() versions} they were
 * packed at, and rebuilt when a version moves (optimizers and {@code loadStateDict} write the weights in
 * place and then call {@link Parameter#markChanged()}): a call costs two version reads, whatever the size
 * of the layer. The versions are read before the values, so a concurrent write leaves a stale version and
 * a repack on the next call. A rebuild publishes a new immutable {@link Prepared} through a volatile
 * field, so concurrent eval-mode callers are safe. Scratch buffers are per thread and per engine;
 * steady-state forward allocates nothing.
 */
final class SimdConvEngine implements ConvEngine {
  private final String name;
  private final ConvGeometry geometry;
  private final DirectConv forward;
  /**
   * The forward in Winograd's form or by the blocked engine's tiles where it takes one ({@link LoneForward}), else
   * null: the direct engine's.
   */
  private final LoneForward lone;
  private final InputGradient inputGradient;
  /** The weight gradient vectorized over output channels, when {@link #dotWeightGradient} is null. */
  private final WeightGradient weightGradient;
  /** The weight gradient as dot products over positions where that suits the layer better, else null. */
  private final DotWeightGradient dotWeightGradient;
  private final boolean relu6;
  private final Activation activation;
  private volatile Prepared forwardCache;
  private volatile Prepared backwardCache;
  /** How many times weights were packed (forward and backward), for tests. */
  private final AtomicLong packs = new AtomicLong();

  /** Packed weights with the parameters and versions they were packed from. */
  private static final class Prepared implements Weights {
    final Parameter weight;
    final long weightVersion;
    final Parameter bias;
    final long biasVersion;
    /** The packed weights of forward, or of each input-gradient phase. */
    final DirectConv.Packed[] packed;

    Prepared(Parameter weight, long weightVersion, Parameter bias, long biasVersion,
        DirectConv.Packed... packed) {
      this.weight = weight;
      this.weightVersion = weightVersion;
      this.bias = bias;
      this.biasVersion = biasVersion;
      this.packed = packed;
    }

    boolean matches(Parameter weight, long weightVersion, Parameter bias, long biasVersion) {
      return this.weight == weight && this.weightVersion == weightVersion && this.bias == bias
          && this.biasVersion == biasVersion;
    }
  }

  /** The version of {@code p}, or 0 for an absent bias. */
  private static long version(Parameter p) {
    return p == null ? 0L : p.version();
  }

  SimdConvEngine(ConvGeometry geometry, boolean relu) {
    this(geometry, relu, false);
  }

  /** With {@code relu6} the kernels' ReLU floor is followed by the clamp at 6 on the planes written. */
  SimdConvEngine(ConvGeometry geometry, boolean relu, boolean relu6) {
    this(geometry, relu, relu6, null, true);
  }

  /** With the forward of {@code lone} where not null, else the direct engine's. */
  SimdConvEngine(ConvGeometry geometry, boolean relu, boolean relu6, LoneForward lone) {
    this(geometry, relu, relu6, lone, false);
  }

  /**
   * With {@code chooseLone}, the forward of the form a layer used alone takes ({@link LoneForward#forLayer}) unless
   * the direct engine runs it through panels and prefers them ({@link DirectConv#prefersPanels}); else {@code lone}'s.
   */
  private SimdConvEngine(ConvGeometry geometry, boolean relu, boolean relu6, LoneForward lone, boolean chooseLone) {
    this.geometry = geometry;
    this.relu6 = relu6;
    this.activation = activation(relu, relu6);
    this.forward = new DirectConv(geometry, relu);
    this.lone = !chooseLone ? lone : forward.prefersPanels() ? null : LoneForward.forLayer(geometry, activation);
    this.name = "simd-" + (this.lone != null ? this.lone.kind() : "direct") + "-" + VectorShape.LANES * 32;
    // The input gradient needs the padding's rows and columns only, whichever layout the forward reads.
    this.inputGradient = new InputGradient(geometry, forward.natural);
    this.dotWeightGradient = DotWeightGradient.forLayer(geometry);
    this.weightGradient = dotWeightGradient == null ? new WeightGradient(geometry) : null;
  }

  private static Activation activation(boolean relu, boolean relu6) {
    return relu6 ? Activation.RELU6 : relu ? Activation.RELU : Activation.NONE;
  }

  @Override
  public String name() {
    return name;
  }

  /**
   * All channels at once for a lone forward, which splits a sample over the pool itself ({@link LoneForward}), and
   * for a 1x1 layer through panels, which splits its positions ({@code DirectConv.PanelSplit}); else whole kernel
   * blocks, as many as make one range per thread. Each call of the direct engine prepares the
   * whole input (padded or wrapped copies, a 1x1 layer's panels) for the channels it computes, so ranges of one
   * block each (the pool's finer pieces) prepared it once per block: on the Zen 3 with 2 threads, the 64->64
   * 56x56 1x1 layer took 633 us that way against 365 on one thread.
   */
  @Override
  public int channelBlock() {
    if (lone != null || forward.panels) {
      return geometry.outChannels();
    }
    int unit = forward.channelBlock();
    int units = (geometry.outChannels() + unit - 1) / unit;
    int threads = Math.max(1, Parallel.threads());
    return (units + threads - 1) / threads * unit;
  }

  @Override
  public Weights forwardWeights(Parameter weight, Parameter bias) {
    long wv = weight.version();
    long bv = version(bias);
    Prepared p = forwardCache;
    if (p != null && p.matches(weight, wv, bias, bv)) {
      return p;
    }
    if (lone != null) {
      // A lone forward packs or transforms its own weights when it runs (by the parameters' versions).
      p = new Prepared(weight, wv, bias, bv);
    } else {
      packs.incrementAndGet();
      float[] b = bias == null ? null : bias.data().data();
      p = new Prepared(weight, wv, bias, bv, forward.pack(weight.data().data(), b));
    }
    forwardCache = p;
    return p;
  }

  @Override
  public void forward(Weights weights, float[] x, int xOff, float[] y, int yOff, int ocStart, int ocEnd) {
    if (lone != null) {
      Prepared p = (Prepared) weights;
      lone.forward(p.weight, p.bias, x, xOff, y, yOff, ocStart, ocEnd);
      return;
    }
    forward.forward(((Prepared) weights).packed[0], x, xOff, y, yOff, ocStart, ocEnd);
    if (relu6) {
      int plane = geometry.outHeight() * geometry.outWidth();
      clampAbove(y, yOff + ocStart * plane, yOff + ocEnd * plane, 6f);
    }
  }

  /** {@code y[i] = min(y[i], ceiling)} over {@code [from, to)} (NaN stays NaN, as in {@link Math#min}). */
  static void clampAbove(float[] y, int from, int to, float ceiling) {
    int i = from;
    for (int end = to - VectorShape.LANES; i <= end; i += VectorShape.LANES) {
      FloatVector.fromArray(VectorShape.SPECIES, y, i).min(ceiling).intoArray(y, i);
    }
    for (; i < to; i++) {
      y[i] = Math.min(y[i], ceiling);
    }
  }

  @Override
  public boolean hasBackwardInput() {
    return true;
  }

  @Override
  public Weights backwardInputWeights(Parameter weight) {
    long wv = weight.version();
    Prepared p = backwardCache;
    if (p != null && p.matches(weight, wv, null, 0L)) {
      return p;
    }
    packs.incrementAndGet();
    p = new Prepared(weight, wv, null, 0L, inputGradient.pack(weight.data().data()));
    backwardCache = p;
    return p;
  }

  /** How many times this engine packed weights so far (forward and input gradient together). */
  long packCount() {
    return packs.get();
  }

  @Override
  public void backwardInput(Weights weights, float[] gy, int gyOff, float[] gx, int gxOff) {
    inputGradient.write(((Prepared) weights).packed, gy, gyOff, gx, gxOff);
  }

  @Override
  public boolean hasBackwardWeight() {
    return true;
  }

  @Override
  public void backwardWeight(float[] x, int xStride, float[] gy, int gyStride, int from, int to, float[] gw,
      float[] gb) {
    if (dotWeightGradient != null) {
      dotWeightGradient.accumulate(x, xStride, gy, gyStride, from, to, gw, gb);
    } else {
      weightGradient.accumulate(x, xStride, gy, gyStride, from, to, gw, gb);
    }
  }
}
