package dev.kiln.nn;

import dev.kiln.annotation.Activation;

/**
 * An alternative implementation of one fixed convolution's per-sample loops, chosen by {@link ConvKernel}
 * at construction (for example the vectorized engine of {@code dev.kiln.simd}, present only when the JVM
 * runs with {@code --add-modules jdk.incubator.vector}). The kernel keeps the parameters, the batch API
 * and the split of work over threads; an engine only computes.
 *
 * <p>Engines may keep the weights in their own layout. Optimizers and {@code loadStateDict} write the
 * weight arrays in place, so the kernel asks for {@link #forwardWeights}/{@link #backwardInputWeights}
 * once per call and passes the {@link Parameter}s themselves: an engine decides whether its prepared
 * weights are current from the parameters' identity and {@link Parameter#version() versions}, in constant
 * time, and keeps no copy of the plain arrays to compare with. This relies on the contract of
 * {@link Parameter}: code that writes {@code parameter.data()} in place calls
 * {@link Parameter#markChanged()} afterwards (the optimizers, {@code loadStateDict} and every other writer
 * in the library do); a write without it is not seen. An engine reads the version <em>before</em> the
 * values it prepares, so a write racing with the preparation leaves a stale version behind and is picked
 * up by the next call. All methods must be safe to call from many threads at once.
 */
public interface ConvEngine {
  /** Weights prepared for an engine: immutable once returned. */
  interface Weights {}

  /** Creates engines; implementations have a public no-arg constructor. */
  interface Factory {
    /**
     * An engine for {@code geometry} with a bias iff {@code bias}, applying {@code activation} after the
     * bias in forward, or {@code null} when this factory has nothing better than the generated loops.
     */
    ConvEngine create(ConvGeometry geometry, boolean bias, Activation activation);

    /**
     * Called when a kernel of {@code geometry} is constructed, before any engine is created: a chance to
     * start preparing (for example compiling) the code it will run. Must return quickly.
     */
    default void prepare(ConvGeometry geometry) {}
  }

  /** A short name for benchmarks and tests, e.g. {@code "simd-direct-512"}. */
  String name();

  /**
   * Output channels are best split over threads in multiples of this (a hint: {@link #forward} accepts
   * any range).
   */
  int channelBlock();

  /**
   * Units (other than output channels) in which one sample is best split over threads, or 0 to split it by
   * output channels ({@link #channelBlock}): {@link #forwardUnits} computes every output channel of a range of
   * them. Where a range of output channels would shorten every loop of a form whose loops run over the output
   * channels and make each thread transform the whole input.
   */
  default int splitUnits() {
    return 0;
  }

  /**
   * Forward over units {@code [start, end)} ({@link #splitUnits}) of one sample, every output channel: writes those
   * outputs, each the same products in the same order as {@link #forward}.
   */
  default void forwardUnits(Weights weights, float[] x, int xOff, float[] y, int yOff, int start, int end) {
    throw new UnsupportedOperationException(name() + " splits by output channels");
  }

  /**
   * The weights {@code [out, in/groups, kH, kW]} and the bias {@code [out]} (or {@code null}) prepared for
   * {@link #forward}: the same object as last time while both parameters are the same and their versions
   * did not change.
   */
  Weights forwardWeights(Parameter weight, Parameter bias);

  /**
   * Forward over output channels {@code [ocStart, ocEnd)} of one sample: writes (not adds) the output,
   * bias and activation included.
   */
  void forward(Weights weights, float[] x, int xOff, float[] y, int yOff, int ocStart, int ocEnd);

  /** Whether {@link #backwardInput} is implemented for this geometry. */
  boolean hasBackwardInput();

  /** The weights prepared for {@link #backwardInput}, cached like {@link #forwardWeights}. */
  Weights backwardInputWeights(Parameter weight);

  /**
   * Writes one sample's input gradient to {@code gx[gxOff..]} (overwriting it) from the (activation-masked)
   * output gradient.
   */
  void backwardInput(Weights weights, float[] gy, int gyOff, float[] gx, int gxOff);

  /** Whether {@link #backwardWeight} is implemented for this geometry. */
  boolean hasBackwardWeight();

  /**
   * Adds the weight gradient of samples {@code [from, to)} to {@code gw} and their bias gradient to
   * {@code gb} (if not null): sample {@code i}'s input starts at {@code x[i * xStride]}, its (activation-masked)
   * output gradient at {@code gy[i * gyStride]}.
   */
  void backwardWeight(float[] x, int xStride, float[] gy, int gyStride, int from, int to, float[] gw, float[] gb);
}
