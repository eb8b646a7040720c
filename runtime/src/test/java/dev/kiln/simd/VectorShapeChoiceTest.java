package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * {@code kiln.simd.bits}: a width the machine has is taken, a wider one falls back to the machine's widest with a
 * note (a species the hardware lacks is never intrinsified: with 512 bits on an AVX2 machine no tile ever became
 * fast), and anything else is ignored with a note; unset means the machine's widest, silently.
 */
class VectorShapeChoiceTest {
  @Test
  void takesWidthsTheMachineHasAndFallsBackFromWiderOnes() {
    // An AVX2 machine: 256 bits at most.
    var avx2 = FloatVector.SPECIES_256;
    assertThat(VectorShape.choose(null, avx2)).isEqualTo(avx2);
    assertThat(VectorShape.choose("128", avx2)).isEqualTo(FloatVector.SPECIES_128);
    assertThat(VectorShape.choose(" 256 ", avx2)).isEqualTo(avx2);
    assertThat(VectorShape.choose("512", avx2)).isEqualTo(avx2);
    assertThat(VectorShape.choose("1024", avx2)).isEqualTo(avx2);
    // An AVX-512 machine.
    var avx512 = FloatVector.SPECIES_512;
    assertThat(VectorShape.choose("256", avx512)).isEqualTo(FloatVector.SPECIES_256);
    assertThat(VectorShape.choose("512", avx512)).isEqualTo(avx512);
    assertThat(VectorShape.choose("", avx512)).isEqualTo(avx512);
  }

  @Test
  void notesWhatItDoesNotTakeAsGiven() {
    var avx2 = FloatVector.SPECIES_256;
    assertThat(VectorShape.note(null, avx2, avx2)).isNull();
    assertThat(VectorShape.note("", avx2, avx2)).isNull();
    assertThat(VectorShape.note("128", avx2, FloatVector.SPECIES_128)).isNull();
    assertThat(VectorShape.note("512", avx2, VectorShape.choose("512", avx2)))
        .isEqualTo("kiln: kiln.simd.bits=512 is wider than this machine's vectors; using 256 bits");
    assertThat(VectorShape.note("wide", avx2, VectorShape.choose("wide", avx2)))
        .isEqualTo("kiln: ignoring kiln.simd.bits=wide (expected 128, 256 or 512)");
  }
}
