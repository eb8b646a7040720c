package dev.kiln.simd;

/**
 * How many vector values a tile kernel ({@link BlockedKernels}) may keep live before the JIT has to spill them
 * to the stack, and so which tiles the blocked engine uses: how wide a convolution tile of {@code m} output
 * blocks can be ({@link #maxPixels}), and whether a pointwise tile's loop takes two input lanes per iteration
 * or one ({@link #pointwiseLanes}).
 *
 * <p>A tile's loop body holds its {@code m x t} accumulators, the {@code m} weight vectors of each reduction
 * step it takes, and broadcasts of its {@code t} input values per step. How many of the broadcasts are live at
 * once depends on the compiler's instruction scheduling: JDK 17's C2 interleaves them with the multiply-adds
 * (one or two live at a time), Temurin 25's C2 loads all of a body's broadcasts before its first multiply-add.
 * On the AMD EPYC Zen 5 (AVX-512, 32 registers) this was measured on, 25's C2 thus spilled the accumulators of
 * the pointwise 3x7 tile taking two lanes per iteration (21 accumulators, 6 weight vectors, 14 broadcasts) on
 * every iteration and ran it at 60-65 G multiply-adds/s against 110-115 on JDK 17, and ran the 2x14
 * convolution tile (28 accumulators, 2 weights, 14 broadcasts) at 89-95 against 110; within the budget it counts
 * here, both compilers run the tiles at the same speed.
 */
final class TileBudget {
  /** Vector registers: 32 with 512-bit vectors (AVX-512), else 16 (AVX2). */
  static final int REGISTERS = VectorShape.LANES >= 16 ? 32 : 16;

  /**
   * Whether the running JIT is taken to load a loop body's broadcasts before its multiply-adds: on any JDK after
   * 17 (measured on Temurin 25; the JDKs in between were not), not on JDK 17. The system property
   * {@code kiln.simd.broadcastsFirst} ({@code true} or {@code false}) overrides it, read once.
   */
  static final boolean BROADCASTS_FIRST =
      broadcastsFirst(System.getProperty("kiln.simd.broadcastsFirst"), Runtime.version().feature());

  private TileBudget() {}

  static boolean broadcastsFirst(String property, int feature) {
    if ("true".equals(property) || "false".equals(property)) {
      return Boolean.parseBoolean(property);
    }
    return feature > 17;
  }

  /**
   * Whether a loop body with these live vectors fits {@code registers}: the accumulators, the weight vectors and
   * either all its broadcasts ({@code broadcastsFirst}) or one.
   */
  static boolean fits(int accumulators, int weights, int broadcasts, int registers, boolean broadcastsFirst) {
    return accumulators + weights + (broadcastsFirst ? broadcasts : 1) <= registers;
  }

  /** The widest convolution tile of {@code m} blocks (one reduction step per iteration) within the budget. */
  static int maxPixels(int m, int registers, boolean broadcastsFirst) {
    int t = BlockedKernels.MAX_PIXELS[m];
    while (t > 1 && !fits(m * t, m, t, registers, broadcastsFirst)) {
      t--;
    }
    return t;
  }

  /** {@link #maxPixels(int, int, boolean)} for this JVM. */
  static int maxPixels(int m) {
    return maxPixels(m, REGISTERS, BROADCASTS_FIRST);
  }

  /**
   * Input lanes per iteration of the pointwise tile of {@code m} blocks by {@code t} pixels: two (half the loop
   * overhead; on JDK 17 MobileNet v1's pointwise layers took 1.5% less time with the 3x7 tile taking two) when
   * two steps' weights and broadcasts fit the budget, else one.
   */
  static int pointwiseLanes(int m, int t, int registers, boolean broadcastsFirst) {
    return fits(m * t, 2 * m, 2 * t, registers, broadcastsFirst) ? 2 : 1;
  }

  /** {@link #pointwiseLanes(int, int, int, boolean)} for this JVM. */
  static int pointwiseLanes(int m, int t) {
    return pointwiseLanes(m, t, REGISTERS, BROADCASTS_FIRST);
  }

  /**
   * Whether {@link BlockedKernels} has the pointwise tile of {@code m x t} taking {@code lanes} lanes per
   * iteration: when 16 or 32 registers, with or without broadcasts first, choose it.
   */
  static boolean hasPointwise(int m, int t, int lanes) {
    for (int registers = 16; registers <= 32; registers += 16) {
      for (int first = 0; first < 2; first++) {
        if (pointwiseLanes(m, t, registers, first == 1) == lanes) {
          return true;
        }
      }
    }
    return false;
  }
}
