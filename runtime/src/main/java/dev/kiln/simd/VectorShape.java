package dev.kiln.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shape every kernel of this package uses, fixed at class initialization so that the JIT sees
 * a constant: {@link FloatVector#SPECIES_PREFERRED}, or 128/256 bits when the system property
 * {@code kiln.simd.bits} says so (for testing narrower machines; never wider than the machine's).
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
    int[] lanes = new int[LANES];
    for (int i = 0; i < LANES; i++) {
      lanes[i] = (i ^ d) % LANES;
    }
    return VectorShuffle.fromArray(SPECIES, lanes, 0);
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
    String bits = System.getProperty("kiln.simd.bits");
    VectorSpecies<Float> preferred = FloatVector.SPECIES_PREFERRED;
    VectorSpecies<Float> chosen = choose(bits, preferred);
    String note = note(bits, preferred, chosen);
    if (note != null) {
      System.err.println(note);
    }
    return chosen;
  }

  /**
   * The species for the value {@code bits} of {@code kiln.simd.bits} (null when unset) on a machine whose widest
   * is {@code preferred}: 128, 256 or 512 bits where the machine has vectors that wide, else {@code preferred}.
   * A species wider than the machine's is never intrinsified: every vector operation would run the Vector API's
   * Java fallback (about a hundred times slower), and no tile would ever be compiled to fast code.
   */
  static VectorSpecies<Float> choose(String bits, VectorSpecies<Float> preferred) {
    VectorSpecies<Float> asked = switch (bits == null ? "" : bits.trim()) {
      case "128" -> FloatVector.SPECIES_128;
      case "256" -> FloatVector.SPECIES_256;
      case "512" -> FloatVector.SPECIES_512;
      default -> preferred;
    };
    return asked.vectorBitSize() <= preferred.vectorBitSize() ? asked : preferred;
  }

  /** What {@link #choose()} prints when it does not take {@code bits} as given, or null. */
  static String note(String bits, VectorSpecies<Float> preferred, VectorSpecies<Float> chosen) {
    String b = bits == null ? "" : bits.trim();
    if (b.isEmpty()) {
      return null;
    }
    if (!b.equals("128") && !b.equals("256") && !b.equals("512")) {
      return "kiln: ignoring kiln.simd.bits=" + bits + " (expected 128, 256 or 512)";
    }
    if (chosen.vectorBitSize() != Integer.parseInt(b)) {
      return "kiln: kiln.simd.bits=" + b + " is wider than this machine's vectors; using "
          + preferred.vectorBitSize() + " bits";
    }
    return null;
  }
}
