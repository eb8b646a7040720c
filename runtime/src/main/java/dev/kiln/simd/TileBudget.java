package dev.kiln.simd;

/**
 * How many vector values a tile kernel ({@link BlockedKernels}) may keep live before the JIT has to spill them
 * to the stack, and so which tiles the blocked engine uses: how wide a convolution tile of {@code m} output
 * blocks can be ({@link #maxPixels}), and whether a pointwise tile's loop takes two input lanes per iteration
 * or one ({@link #pointwiseLanes}).
 *
 * <p>A tile's loop body holds its {@code m x t} accumulators, the {@code m} weight vectors of each reduction
 * step it takes, and broadcasts of its {@code t} input values per step. How many of the broadcasts are live at
 * once depends on the compiler's instruction scheduling: JDK 17's C2 interleaves them with the multiply-adds,
 * Temurin 25's C2 loads all of a body's broadcasts before its first multiply-add. How JDK 17 interleaves them
 * depends on the tile's pixel distance ({@link #liveBroadcasts}): where the distance is a constant (the
 * stride-1 and stride-2 convolution tiles, the pointwise tiles) every input address is the same register plus a
 * constant, and C2 loads the next broadcast before the multiply-adds of the one before (two live); where it
 * is a variable, C2 computes each address into the same scratch register just before its broadcast (one
 * live). On the AMD EPYC Zen 1 (AVX2, 16 registers) this was found on, the 3x4 tiles of constant distance
 * (12 accumulators, 3 weights, 2 broadcasts: 17) spilled an accumulator to the stack on every step and ran a
 * 192->192 14x14 convolution at 12.7 G multiply-adds/s against 15.1 with the 3x4 tile of variable distance,
 * and a 3x3 convolution tile of constant distance, within this budget, at 13.6 (one layer's loops, tiles
 * interleaved in one JVM, best of 8 rounds).
 * On the AMD EPYC Zen 5 (AVX-512, 32 registers), loading every broadcast first, Temurin 25's C2 spilled the
 * accumulators of the pointwise 3x7 tile taking two lanes per iteration (21 accumulators, 6 weight vectors, 14
 * broadcasts) on
 * every iteration and ran it at 60-65 G multiply-adds/s against 110-115 on JDK 17, and ran the 2x14
 * convolution tile (28 accumulators, 2 weights, 14 broadcasts) at 89-95 against 110; within the budget it counts
 * here, both compilers run the tiles at the same speed.
 */
final class TileBudget {
  /** Vector registers: 32 with 512-bit vectors (AVX-512), else 16 (AVX2). */
  static final int REGISTERS = VectorShape.LANES >= 16 ? 32 : 16;

  /**
   * Whether the direct engine's widest kernels run split into narrower passes: {@code DirectConv}'s 8 channels x
   * 3 vectors (24 accumulators, 3 input vectors, weight broadcasts) as passes of 2 channels x 6 vectors (or 5,
   * {@code DirectConv.SPLIT_VECTORS}), 8 x 2 as two of 4 x 2, {@code WeightGradient}'s 8 columns x 2 vectors (16
   * accumulators) as two of 4 columns. They fit 32 registers; with AVX2's 16, C2 kept most accumulators on the
   * stack, and the single-layer suite ran at 0.41-0.51x of ONNX Runtime on an AMD EPYC Zen 1 (0.62-0.82x in
   * halves of 4 x 3). Those halves still took all 16 registers, and C2 kept two accumulators on the stack (on the
   * Zen 3, the 64->64 56x56 1x1 layer 0.48x, the 3->48 224x224 stride-2 stem 0.60x); in passes of 2 x 6, 0.89x and
   * 0.95x. A pass computes the same multiply-adds in the same order, so the same bits.
   */
  static final boolean SPLIT_DIRECT_KERNELS = REGISTERS < 32;

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
   * How many of a loop body's {@code broadcasts} are live at once: all of them where the JIT loads them
   * first ({@code broadcastsFirst}); else two where the tile's pixels are a constant distance apart
   * ({@code constantDistance}), one where the distance is a variable (see the class comment).
   */
  static int liveBroadcasts(int broadcasts, boolean broadcastsFirst, boolean constantDistance) {
    return broadcastsFirst ? broadcasts : Math.min(broadcasts, constantDistance ? 2 : 1);
  }

  /**
   * Whether a loop body with these live vectors fits {@code registers}: the accumulators, the weight vectors and
   * its {@link #liveBroadcasts live broadcasts}.
   */
  static boolean fits(int accumulators, int weights, int broadcasts, int registers, boolean broadcastsFirst,
      boolean constantDistance) {
    return accumulators + weights + liveBroadcasts(broadcasts, broadcastsFirst, constantDistance) <= registers;
  }

  /**
   * The widest convolution tile of {@code m} blocks (one reduction step per iteration) within the budget, its
   * pixels a constant distance apart or not.
   */
  static int maxPixels(int m, int registers, boolean broadcastsFirst, boolean constantDistance) {
    int t = BlockedKernels.MAX_PIXELS[m];
    while (t > 1 && !fits(m * t, m, t, registers, broadcastsFirst, constantDistance)) {
      t--;
    }
    return t;
  }

  /** {@link #maxPixels(int, int, boolean, boolean)} for this JVM. */
  static int maxPixels(int m, boolean constantDistance) {
    return maxPixels(m, REGISTERS, BROADCASTS_FIRST, constantDistance);
  }

  /**
   * Whether a convolution chunk of {@code m} blocks that could use the tiles of constant pixel distance gets
   * wider tiles of variable distance instead: where the budget holds more pixels of those (AVX2's 16
   * registers on JDK 17: 3x4 against 3x3). With 32 registers the constant-distance tiles are as wide.
   */
  static boolean variableDistanceWider(int m, int registers, boolean broadcastsFirst) {
    return maxPixels(m, registers, broadcastsFirst, false) > maxPixels(m, registers, broadcastsFirst, true);
  }

  /** {@link #variableDistanceWider(int, int, boolean)} for this JVM. */
  static boolean variableDistanceWider(int m) {
    return variableDistanceWider(m, REGISTERS, BROADCASTS_FIRST);
  }

  /**
   * Input lanes per iteration of the pointwise tile (pixels a constant distance apart) of {@code m} blocks by
   * {@code t} pixels: two (half the loop
   * overhead; on JDK 17 MobileNet v1's pointwise layers took 1.5% less time with the 3x7 tile taking two) when
   * two steps' weights and broadcasts fit the budget less {@link #twoLaneSpare} registers, else one.
   */
  static int pointwiseLanes(int m, int t, int registers, boolean broadcastsFirst) {
    return fits(m * t, 2 * m, 2 * t, registers - twoLaneSpare(registers), broadcastsFirst, true) ? 2 : 1;
  }

  /**
   * Registers a two-lane pointwise loop must leave free: one of AVX2's 16, none of AVX-512's 32. With 16, the
   * two-lane 2x5 tile that filled the budget exactly (10 accumulators, 4 weight vectors, 2 broadcasts) kept an
   * accumulator on the stack, a store and a load on every iteration in that accumulator's chain of multiply-adds
   * ({@code tools/bench/c2_disasm.py} on the tile as MobileNet v1 compiled it, AMD EPYC Zen 3, JDK 17), and ran a
   * 512->384 14x14 layer's loops at 0.73-0.85 of the one-lane 2x5 tile's speed (which has no spill); the two-lane
   * 2x4 tile, two registers under, ran 1.10x faster than the one-lane one. With 32, full-budget two-lane tiles ran
   * at full speed on the Zen 5 (see the class comment).
   */
  static int twoLaneSpare(int registers) {
    return registers < 32 ? 1 : 0;
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
