package dev.kiln.simd;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * For a test class that runs many tile sizes: layers use their tiles without waiting for the JIT to compile
 * them (waiting for each would take minutes, and results do not depend on it), and wait again afterwards.
 */
final class TilesNotAwaited implements BeforeAllCallback, AfterAllCallback {
  @Override
  public void beforeAll(ExtensionContext context) {
    TileWarmer.setWaiting(false);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    TileWarmer.setWaiting(true);
  }
}
