package dev.kiln.runtime;

import static com.google.common.truth.Truth.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link Seeds#mix} is SplitMix64: the JDK's {@link SplittableRandom} gives the same numbers. */
class SeedsTest {
  @Test
  void mixIsSplitMix64AdvancedIndexPlusOneSteps() {
    int checked = 0;
    for (long seed : new long[] {0L, 1L, 42L, -7L, Long.MAX_VALUE}) {
      SplittableRandom reference = new SplittableRandom(seed);
      for (int index = 0; index < 50; index++) {
        assertThat(Seeds.mix(seed, index)).isEqualTo(reference.nextLong());
        checked++;
      }
    }
    assertThat(checked).isEqualTo(250);
  }
}
