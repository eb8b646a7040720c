package dev.kiln.runtime;

/**
 * Derived seeds: one seed per layer, epoch or stream from one user seed, such that nearby seeds and indices
 * give unrelated streams.
 */
public final class Seeds {
  private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

  private Seeds() {}

  /**
   * SplitMix64's output for state {@code seed + (index + 1) * 0x9E3779B97F4A7C15}: its finalizer (Stafford's
   * mix 13) over the seed advanced {@code index + 1} steps.
   */
  public static long mix(long seed, long index) {
    long z = seed + GOLDEN_GAMMA * (index + 1L);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
