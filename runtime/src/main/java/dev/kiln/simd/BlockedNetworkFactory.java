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
    return BlockedNetwork.plan(model);
  }
}
