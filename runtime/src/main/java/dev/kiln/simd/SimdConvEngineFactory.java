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
    return new SimdConvEngine(geometry, activation == Activation.RELU);
  }
}
