package dev.kiln.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shape every kernel of this package uses, fixed at class initialization so that the JIT sees
 * a constant: {@link FloatVector#SPECIES_PREFERRED}, or 256/512 bits when the system property
 * {@code kiln.simd.bits} says so (for testing narrower machines).
 */
final class VectorShape {
  static final VectorSpecies<Float> SPECIES = choose();
  /** Floats per vector. */
  static final int LANES = SPECIES.length();

  private VectorShape() {}

  /**
   * Shuffles pairing lane {@code i} with lane {@code i ^ d} for {@code d} = 1, 2, 4, 8 (those under
   * {@link #LANES}), for {@link #sumLanes}.
   */
  private static final VectorShuffle<Float> PAIR1 = pairs(1);
  private static final VectorShuffle<Float> PAIR2 = pairs(2);
  private static final VectorShuffle<Float> PAIR4 = pairs(4);
  private static final VectorShuffle<Float> PAIR8 = pairs(8);

  private static VectorShuffle<Float> pairs(int d) {
    return VectorShuffle.fromOp(SPECIES, i -> (i ^ d) % LANES);
  }

  /**
   * The sum of {@code v}'s lanes in a fixed order on every JDK and in every compiler tier: lanes {@code i} and
   * {@code i + LANES / 2} first, then those sums pairwise the same way, down to one. Not
   * {@code reduceLanes(ADD)}, whose order the Vector API leaves open: JDK 17 adds in lane order whether the JIT
   * compiled the reduction or not, but Temurin 25's C2 adds in another order than its interpreter and C1, so a
   * gradient summed partly before and partly after compilation (or by two threads at different stages)
   * differed in the last bits from run to run. Adding in lane order by hand took 1.6-2.7x as long as JDK 17's
   * reduction; this takes four shuffles and four additions for 16 lanes.
   */
  static float sumLanes(FloatVector v) {
    if (LANES >= 16) {
      v = v.add(v.rearrange(PAIR8));
    }
    if (LANES >= 8) {
      v = v.add(v.rearrange(PAIR4));
    }
    if (LANES >= 4) {
      v = v.add(v.rearrange(PAIR2));
    }
    if (LANES >= 2) {
      v = v.add(v.rearrange(PAIR1));
    }
    return v.lane(0);
  }

  /** Vectors (blocks of {@link #LANES}) that hold {@code n} floats, the last one possibly partial. */
  static int blocks(int n) {
    return (n + LANES - 1) / LANES;
  }

  private static VectorSpecies<Float> choose() {
    String bits = System.getProperty("kiln.simd.bits", "").trim();
    switch (bits) {
      case "128":
        return FloatVector.SPECIES_128;
      case "256":
        return FloatVector.SPECIES_256;
      case "512":
        return FloatVector.SPECIES_512;
      default:
        return FloatVector.SPECIES_PREFERRED;
    }
  }
}
