package dev.kiln.simd;

import dev.kiln.nn.NetworkEngine;
import dev.kiln.nn.SequentialModel;

/**
 * Creates {@link BlockedNetwork}s; loaded by name by {@code dev.kiln.nn.SequentialModel} only when the JVM
 * has {@code jdk.incubator.vector}.
 */
public final class BlockedNetworkFactory implements NetworkEngine.Factory {
  /** Needed for loading by name. */
  public BlockedNetworkFactory() {}

  @Override
  public NetworkEngine create(SequentialModel model) {
    // The plain-Java depthwise tile sums four lanes at a time: every vector of 128 bits or more has a multiple
    // of four float lanes; narrower ones leave networks to the per-layer engines.
    if (VectorShape.LANES % 4 != 0) {
      return null;
    }
    return BlockedNetwork.plan(model);
  }
}
