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
  private static boolean fits(ConvGeometry g) {
    long paddedH = (long) g.inHeight() + g.padTop() + g.padBottom() + g.strideH() + 1;
    long paddedW = (long) g.inWidth() + g.padLeft() + g.padRight() + g.strideW() + Lanes.V;
    long input = g.inChannels() * paddedH * paddedW;
    long output = (long) g.outChannels() * (g.outHeight() + 1) * (paddedW + Lanes.V);
    long weights = (long) g.outChannels() * g.inChannelsPerGroup() * g.kernelH() * g.kernelW();
    long limit = 1L << 28;
    return input < limit && output < limit && weights * DirectConv.OB < limit;
  }
}
