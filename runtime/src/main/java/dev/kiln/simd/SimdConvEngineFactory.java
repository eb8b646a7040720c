package dev.kiln.simd;

import dev.kiln.annotation.Activation;
import dev.kiln.nn.ConvEngine;
import dev.kiln.nn.ConvGeometry;

/**
 * Creates {@link SimdConvEngine}s; loaded by name by {@code dev.kiln.nn.ConvKernel} only when the JVM
 * has {@code jdk.incubator.vector}.
 */
public final class SimdConvEngineFactory implements ConvEngine.Factory {
  /** Needed for loading by name. */
  public SimdConvEngineFactory() {}

  @Override
  public ConvEngine create(ConvGeometry geometry, boolean bias, Activation activation) {
    if (!fits(geometry)) {
      return null;
    }
    return new SimdConvEngine(geometry, activation != Activation.NONE, activation == Activation.RELU6);
  }

  @Override
  public void prepare(ConvGeometry geometry) {
    if (PREPARE) {
      BlockedConv.requestTiles(geometry);
    }
  }

  /** Experiment switch. */
  private static final boolean PREPARE = !"false".equals(System.getProperty("kiln.simd.prepare"));

  /** Whether the padded buffers (at most a few times input and output) stay far below 2^31 floats. */
  private static boolean fits(ConvGeometry geometry) {
    long paddedH = (long) geometry.inHeight() + geometry.padTop() + geometry.padBottom() + geometry.strideH() + 1;
    long paddedW = (long) geometry.inWidth() + geometry.padLeft() + geometry.padRight() + geometry.strideW() + VectorShape.LANES;
    long input = geometry.inChannels() * paddedH * paddedW;
    long output = (long) geometry.outChannels() * (geometry.outHeight() + 1) * (paddedW + VectorShape.LANES);
    long weights = (long) geometry.outChannels() * geometry.inChannelsPerGroup() * geometry.kernelH() * geometry.kernelW();
    long limit = 1L << 28;
    return input < limit && output < limit && weights * DirectConv.OB < limit;
  }
}
