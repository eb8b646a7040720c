package dev.kiln.simd;

import jdk.incubator.vector.FloatVector;
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
