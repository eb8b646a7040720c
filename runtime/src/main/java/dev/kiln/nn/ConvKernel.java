package dev.kiln.nn;

import dev.kiln.annotation.Activation;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The base of every generated convolution kernel. The generated subclass supplies the shape as
 * compile-time constants and the per-sample loops ({@link #forwardSample}, {@link #backwardInputSample},
 * {@link #backwardWeightSample}); this class owns the parameters, the batch-level {@link Module} API,
 * shape checks, training caches and the split of work over the shared thread pool.
 *
 * <p>When the JVM has the incubating Vector API ({@code --add-modules jdk.incubator.vector}) and the
 * system property {@code kiln.simd} is not {@code false}, the constructor also picks a vectorized
 * {@link ConvEngine} that replaces the generated loops where it has a faster path ({@link #engineName()}
 * tells which runs); results agree with the generated loops to float rounding.
 *
 * <p>Eval-mode forward keeps no state, so one kernel may be called from many threads at once.
 */
public abstract class ConvKernel extends AbstractModule {
  /** Training buffers ({@link #buffer}): the output, the ReLU-masked output gradient, the input gradient. */
  private static final int OUTPUT = 0;
  private static final int MASKED_GRAD = 1;
  static final int GRAD_INPUT = 2;
  /** Per-chunk partial weight (even) and bias (odd) gradients start at this slot. */
  static final int PARTIAL_GRADS = 3;

  private final ConvGeometry geometry;
  final int[] inShape;
  private final int[] outShape;
  final int inSize;
  final int outSize;
  private final long macsPerSample;
  /** Samples per tile of {@link #backward}: both gradients of a tile are computed before the next. */
  static final int BACKWARD_TILE = 4;
  private final Activation activation;
  private final Parameter weightParam;
  private final Parameter biasParam;
  /** The weights, {@code [out, in/groups, kH, kW]}, read by the generated loops. */
  protected final float[] w;
  /** The bias, {@code [out]}, or {@code null}. */
  protected final float[] b;
  /** The engine, created on first use ({@link #engine()}): {@link #NO_ENGINE} for the generated loops. */
  private volatile Object engine;
  private static final Object NO_ENGINE = new Object();
  private final boolean hasBias;
  /** Whether the vectorized engine may be used: the {@code kiln.simd} property at construction. */
  private final boolean vectorized;
  /** The fused ReLU's gradient mask (vectorized when the JVM has the Vector API). */
  private final PlaneLoops planeLoops = PlaneLoops.get();
  private final SavedForBackward<Tensor> savedInput = savedForBackward();
  private final SavedForBackward<Tensor> savedOutput = savedForBackward();
  /** Each calling thread's {@link ForwardSplit} (eval-mode forwards may run on many threads at once). */
  private final ThreadLocal<ForwardSplit> forwardSplits = new ThreadLocal<>() {
    @Override
    protected ForwardSplit initialValue() {
      return new ForwardSplit();
    }
  };

  /**
   * Whether the generated forward loops use fused multiply-adds ({@link Math#fma}, which HotSpot's C2 vectorizes
   * into the processor's vector FMA) rather than separate multiplies and adds: where the JVM has the instruction
   * (HotSpot's {@code UseFMA}), unless the system property {@code kiln.scalar.fma} says {@code true} or
   * {@code false}; decided once per JVM, so the JIT compiles one form of each loop. Elsewhere {@code Math.fma} is
   * computed in software, a thousand times slower.
   */
  protected static boolean fusedMultiplyAdd() {
    return FusedMultiplyAdd.fast();
  }

  /**
   * @param geometry the convolution's fixed geometry
   * @param bias whether there is a bias parameter
   * @param activation the fused activation
   * @param seed the seed of PyTorch-style default initialization
   */
  protected ConvKernel(ConvGeometry geometry, boolean bias, Activation activation, long seed) {
    this.geometry = geometry;
    this.inShape = new int[] {geometry.inChannels(), geometry.inHeight(), geometry.inWidth()};
    this.outShape = new int[] {geometry.outChannels(), geometry.outHeight(), geometry.outWidth()};
    int[] weightShape = {geometry.outChannels(), geometry.inChannelsPerGroup(), geometry.kernelH(),
        geometry.kernelW()};
    this.inSize = inShape[0] * inShape[1] * inShape[2];
    this.outSize = outShape[0] * outShape[1] * outShape[2];
    this.activation = activation;
    int fanIn = weightShape[1] * weightShape[2] * weightShape[3];
    this.macsPerSample = (long) outSize * fanIn;
    SplittableRandom random = new SplittableRandom(seed);
    Tensor weight = Tensor.zeros(weightShape);
    Init.uniformFanIn(weight.data(), fanIn, random);
    this.weightParam = registerParameter("weight", weight);
    this.w = weight.data();
    if (bias) {
      Tensor bt = Tensor.zeros(weightShape[0]);
      Init.uniformFanIn(bt.data(), fanIn, random);
      this.biasParam = registerParameter("bias", bt);
      this.b = bt.data();
    } else {
      this.biasParam = null;
      this.b = null;
    }
    this.hasBias = bias;
    this.vectorized = Accelerators.enabled();
    // Building an engine plans its loops; most kernels of a network that is fused for deployment are never
    // run on it, so it is built on first use. The blocked-layout tiles this geometry will need are handed to
    // the background warmer now, so that they are compiled by the time the network first runs.
    Accelerators.prepareConv(geometry);
  }

  /**
   * The weight parameter, {@code [out, in/groups, kH, kW]}. Code that writes its values (or the bias's) in
   * place calls {@link Parameter#markChanged()} afterwards: a vectorized engine keeps a packed copy of the
   * weights and repacks only when a parameter's {@link Parameter#version() version} moves.
   */
  public final Parameter weight() {
    return weightParam;
  }

  /** The bias parameter, or {@code null} when the layer has none. */
  public final Parameter bias() {
    return biasParam;
  }

  /** The fixed geometry this kernel was generated for. */
  public final ConvGeometry geometry() {
    return geometry;
  }

  /** {@code {C, H, W}} of one input sample. */
  public final int[] inputShape() {
    return inShape.clone();
  }

  /** {@code {C, H, W}} of one output sample. */
  public final int[] outputShape() {
    return outShape.clone();
  }

  /** Multiply-adds per sample (for GFLOP/s figures: 2 flops each). */
  public final long macsPerSample() {
    return macsPerSample;
  }

  /** The fused activation. */
  public final Activation activation() {
    return activation;
  }

  /**
   * Which implementation runs this kernel: {@code "scalar"} for the generated loops, otherwise the name
   * of the vectorized engine picked at construction (see {@link ConvEngine}; disabled by the system
   * property {@code kiln.simd=false}, available with {@code --add-modules jdk.incubator.vector}).
   */
  public final String engineName() {
    ConvEngine engine = engine();
    return engine == null ? "scalar" : engine.name();
  }

  /** The vectorized engine of this geometry, built on first use, or {@code null} for the generated loops. */
  ConvEngine engine() {
    Object e = engine;
    if (e == null) {
      synchronized (this) {
        e = engine;
        if (e == null) {
          ConvEngine created = vectorized ? Accelerators.convEngine(geometry, hasBias, activation) : null;
          e = created == null ? NO_ENGINE : created;
          engine = e;
        }
      }
    }
    return e == NO_ENGINE ? null : (ConvEngine) e;
  }

  /**
   * Forward over output channels {@code [ocStart, ocEnd)} of one sample: writes (not adds) the output,
   * bias and activation included. Allocates nothing.
   */
  protected abstract void forwardSample(float[] x, int xOff, float[] y, int yOff, int ocStart, int ocEnd);

  /**
   * Units other than output channels in which one sample splits over threads, or 0 (the default) to split it by
   * output channels, as {@link ConvEngine#splitUnits} says for an engine: the generated forward with output channels
   * in the vector lanes, whose loops run over the output channels, splits by output pixels, since a channel range
   * would shorten every loop and leave its calls as many (MobileNet v1's 512->512 14x14 layer took longer on two
   * threads than on one that way).
   */
  protected int splitUnits() {
    return 0;
  }

  /**
   * Forward over units {@code [start, end)} ({@link #splitUnits}; output pixels, row-major) of one sample, every
   * output channel: writes (not adds) those outputs, bias and activation included, each the same products in the
   * same order as {@link #forwardSample}. Allocates nothing.
   */
  protected void forwardUnits(float[] x, int xOff, float[] y, int yOff, int start, int end) {
    throw new UnsupportedOperationException("this kernel splits by output channels");
  }

  /**
   * Adds the input gradient of one sample to {@code gx} from the (already activation-masked) output
   * gradient {@code gy}.
   */
  protected abstract void backwardInputSample(float[] gy, int gyOff, float[] gx, int gxOff);

  /** Adds one sample's weight gradient to {@code gw} and bias gradient to {@code gb} (if any). */
  protected abstract void backwardWeightSample(float[] x, int xOff, float[] gy, int gyOff, float[] gw,
      float[] gb);

  /**
   * The allocation-free per-sample entry point for callers that own their buffers: reads one sample
   * {@code [C, H, W]} at {@code x[xOff..]} and writes one output sample at {@code y[yOff..]}. Runs on the
   * calling thread; keeps no state.
   *
   * @throws IllegalArgumentException if a sample does not fit in its array at the given offset
   */
  public final void forward(float[] x, int xOff, float[] y, int yOff) {
    ConvEngine engine = engine();
    if (xOff < 0 || xOff > x.length - inSize) {
      throw new IllegalArgumentException("input: expected " + inSize + " values " + Arrays.toString(inShape)
          + " at offset " + xOff + " but the array has " + x.length);
    }
    if (yOff < 0 || yOff > y.length - outSize) {
      throw new IllegalArgumentException("output: expected " + outSize + " values " + Arrays.toString(outShape)
          + " at offset " + yOff + " but the array has " + y.length);
    }
    if (engine != null) {
      engine.forward(engine.forwardWeights(weightParam, biasParam), x, xOff, y, yOff, 0, outShape[0]);
    } else {
      forwardSample(x, xOff, y, yOff, 0, outShape[0]);
    }
  }

  private void forwardRange(ConvEngine.Weights pw, float[] x, int xOff, float[] y, int yOff, int ocStart,
      int ocEnd) {
    ConvEngine engine = engine();
    if (pw != null) {
      engine.forward(pw, x, xOff, y, yOff, ocStart, ocEnd);
    } else {
      forwardSample(x, xOff, y, yOff, ocStart, ocEnd);
    }
  }

  /**
   * For a block that runs this conv sample by sample ({@link RepVggBlock}): the weights for
   * {@link #forwardOne}, null on the generated scalar path.
   */
  ConvEngine.Weights forwardWeights() {
    ConvEngine engine = engine();
    return engine == null ? null : engine.forwardWeights(weightParam, biasParam);
  }

  /** This layer's output buffer for {@code n} samples (what {@link #forward(Tensor)} returns). */
  Tensor outputBuffer(int n) {
    return buffer(OUTPUT, n, outShape[0], outShape[1], outShape[2]);
  }

  /** Sample {@code i} of {@code x} into sample {@code i} of {@code y}, all output channels. */
  void forwardOne(ConvEngine.Weights pw, float[] x, int i, float[] y) {
    forwardRange(pw, x, i * inSize, y, i * outSize, 0, outShape[0]);
  }

  /** After {@link #forwardOne} over a batch: what a training-mode {@link #forward(Tensor)} keeps for backward. */
  void saveForBackward(Tensor input, Tensor output) {
    if (isTraining()) {
      savedInput.set(input);
      savedOutput.set(output);
    }
  }

  /** Checks {@code [N, C, H, W]} against one sample's shape without allocating; returns N. */
  private static int checkBatch(String what, Tensor t, int[] sample) {
    return LayerShapes.requireSamples(what, t, sample[0], sample[1], sample[2]);
  }

  @Override
  public final Tensor forward(Tensor input) {
    int n = checkBatch("input", input, inShape);
    Tensor output = buffer(OUTPUT, n, outShape[0], outShape[1], outShape[2]);
    forwardInto(input, output, n);
    return output;
  }

  /** Forward into a caller-owned output tensor {@code [N, C, H, W]}; allocates nothing in eval mode. */
  public final void forward(Tensor input, Tensor output) {
    int n = checkBatch("input", input, inShape);
    int m = checkBatch("output", output, outShape);
    if (m != n) {
      throw new IllegalArgumentException("output: expected shape [" + n + ", " + outShape[0] + ", " + outShape[1]
          + ", " + outShape[2] + "] but got " + Arrays.toString(output.shape()));
    }
    forwardInto(input, output, n);
  }

  private void forwardInto(Tensor input, Tensor output, int n) {
    ConvEngine engine = engine();
    float[] x = input.data();
    float[] y = output.data();
    int outC = outShape[0];
    ConvEngine.Weights pw = engine == null ? null : engine.forwardWeights(weightParam, biasParam);
    int threads = Parallel.threads();
    if (!Parallel.worthSplitting(macsPerSample * n, Parallel.MIN_MACS)) {
      for (int i = 0; i < n; i++) {
        forwardRange(pw, x, i * inSize, y, i * outSize, 0, outC);
      }
    } else {
      ForwardSplit split = forwardSplits.get();
      split.pw = pw;
      split.x = x;
      split.y = y;
      try {
        if (n >= threads) {
          split.sample = -1;
          Parallel.forRange(n, split);
        } else {
          // Each sample over the pool: by the kernel's or engine's own units where it names some, else by blocks of
          // output channels (ForwardSplit's block 0 means units).
          int units = engine == null ? splitUnits() : engine.splitUnits();
          int block = units > 0 ? 0 : engine == null ? 1 : engine.channelBlock();
          int ranges = units > 0 ? units : (outC + block - 1) / block;
          split.block = block;
          for (int i = 0; i < n; i++) {
            split.sample = i;
            Parallel.forRange(ranges, split);
          }
        }
      } finally {
        split.x = null;
        split.y = null;
      }
    }
    saveForBackward(input, output);
  }

  /**
   * One thread's split of a forward over the pool, reused from call to call so that a parallel forward
   * allocates nothing (a capturing lambda would be a new object per call): samples {@code [start, end)} when
   * {@code sample} is -1, else output-channel blocks {@code [start, end)} of sample {@code sample}, or when
   * {@code block} is 0 its units {@code [start, end)} ({@link #splitUnits}, {@link ConvEngine#splitUnits}).
   */
  private final class ForwardSplit implements Parallel.RangeBody {
    ConvEngine.Weights pw;
    float[] x;
    float[] y;
    int sample;
    int block;

    @Override
    public void run(int start, int end) {
      if (sample < 0) {
        for (int i = start; i < end; i++) {
          forwardRange(pw, x, i * inSize, y, i * outSize, 0, outShape[0]);
        }
      } else if (block == 0) {
        if (pw == null) {
          forwardUnits(x, sample * inSize, y, sample * outSize, start, end);
        } else {
          engine().forwardUnits(pw, x, sample * inSize, y, sample * outSize, start, end);
        }
      } else {
        forwardRange(pw, x, sample * inSize, y, sample * outSize, start * block,
            Math.min(outShape[0], end * block));
      }
    }
  }

  @Override
  public final Tensor backward(Tensor gradOutput) {
    return backward(gradOutput, true);
  }

  /** The weight and bias gradients only: no input gradient is computed. */
  @Override
  public final void backwardParameters(Tensor gradOutput) {
    backward(gradOutput, false);
  }

  /** Both gradients, or ({@code inputGradient} false) only the parameters' (and returns null). */
  private Tensor backward(Tensor gradOutput, boolean inputGradient) {
    int n = savedInput.get().dim(0);
    int m = checkBatch("gradOutput", gradOutput, outShape);
    if (m != n) {
      throw new IllegalArgumentException("gradOutput: expected shape [" + n + ", " + outShape[0] + ", "
          + outShape[1] + ", " + outShape[2] + "] but got " + Arrays.toString(gradOutput.shape()));
    }
    float[] gy = gradOutput.data();
    if (activation != Activation.NONE) {
      float[] y = savedOutput.get().data();
      float[] masked = buffer(MASKED_GRAD, n, outShape[0], outShape[1], outShape[2]).data();
      if (activation == Activation.RELU) {
        Elementwise.reluGradient(planeLoops, y, gy, masked);
      } else {
        Elementwise.relu6Gradient(y, gy, masked);
      }
      gy = masked;
    }
    ConvBackwardTiles tiles = backwardTiles(gy, inputGradient, splitsBackward(n) ? Parallel.chunkCount(n) : 1);
    if (tiles.chunks() == 1) {
      tiles.run(0, 0, n);
    } else {
      Parallel.forChunks(n, tiles::run);
    }
    return tiles.finish();
  }

  /** Whether {@link #backward} splits a batch of {@code n} samples over the pool. */
  boolean splitsBackward(int n) {
    return Parallel.worthSplitting(macsPerSample * n, Parallel.MIN_MACS, n);
  }

  /**
   * A backward pass that its caller drives in tiles of samples ({@link RepVggBlock} computes each tile's
   * output gradient right before this conv reads it): {@code gy} is the (already activation-masked) output
   * gradient of the whole saved batch, filled in by the caller at least up to the tile it hands over. With
   * {@code chunks > 1} each chunk of {@link Parallel#forChunks} adds its weight and bias gradients to a
   * partial of its own, added to the parameters' gradients in chunk order by {@link ConvBackwardTiles#finish()}; with 1
   * they are added directly. The caller is responsible for the saved batch size matching {@code gy}.
   */
  ConvBackwardTiles backwardTiles(float[] gy, boolean inputGradient, int chunks) {
    return new ConvBackwardTiles(this, savedInput.get(), gy, inputGradient, chunks);
  }
}
