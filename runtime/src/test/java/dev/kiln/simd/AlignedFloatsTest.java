package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** {@link AlignedFloats}: the first aligned index, rounding to lines, G1's region size, the large arrays and when. */
class AlignedFloatsTest {
  private static final long MB = 1L << 20;

  @Test
  void firstAlignedElementFollowsTheHeader() {
    // 16 bytes of array header: element 12 is 48 bytes in, 64 from the array's start.
    assertThat(AlignedFloats.FIRST).isEqualTo(12);
    assertThat(AlignedFloats.ceilLines(0)).isEqualTo(0);
    assertThat(AlignedFloats.ceilLines(1)).isEqualTo(16);
    assertThat(AlignedFloats.ceilLines(16)).isEqualTo(16);
    assertThat(AlignedFloats.ceilLines(17)).isEqualTo(32);
  }

  /**
   * Small shares come from one region-sized array, each from a line's start, none overlapping the next, a new array
   * once it is full; large ones get arrays of their own.
   */
  @Test
  void smallSharesShareARegionLargeOnesDoNot() {
    long region = AlignedFloats.regionFloats(Runtime.getRuntime().maxMemory());
    AlignedFloats.Share first = AlignedFloats.share(100);
    AlignedFloats.Share second = AlignedFloats.share(1);
    assertThat((long) first.array().length).isEqualTo(region);
    assertThat(first.base() % AlignedFloats.LINE).isEqualTo(AlignedFloats.FIRST);
    if (second.array() == first.array()) { // else the first share filled the shared array
      assertThat(second.base()).isEqualTo(first.base() + 112);
    } else {
      assertThat(second.base()).isEqualTo(AlignedFloats.FIRST);
    }
    int count = 0;
    AlignedFloats.Share last = second;
    int big = (int) (region / 2) - 1;
    for (int i = 0; i < 3; i++) {
      AlignedFloats.Share s = AlignedFloats.share(big);
      assertThat(s.base() % AlignedFloats.LINE).isEqualTo(AlignedFloats.FIRST);
      assertThat((long) s.base() + big).isAtMost(s.array().length);
      if (s.array() == last.array()) {
        assertThat(s.base()).isAtLeast(last.base() + 1);
      } else {
        count++;
        assertThat(s.base()).isEqualTo(AlignedFloats.FIRST);
      }
      last = s;
    }
    assertThat(count).isAtLeast(2); // two shares of almost half a region do not fit one region with others
    AlignedFloats.Share own = AlignedFloats.share((int) (region / 2));
    assertThat(own.base()).isEqualTo(AlignedFloats.FIRST);
    assertThat((long) own.array().length).isEqualTo(region);
  }

  /** G1's own choice (OpenJDK 17): heap / 2,048 rounded up to a power of two, 1 to 32 MB. */
  @Test
  void regionsAsG1SizesThem() {
    assertThat(AlignedFloats.regionFloats(256 * MB)).isEqualTo(MB / 4);
    assertThat(AlignedFloats.regionFloats(2048 * MB)).isEqualTo(MB / 4);
    assertThat(AlignedFloats.regionFloats(2049 * MB)).isEqualTo(2 * MB / 4);
    assertThat(AlignedFloats.regionFloats(6320816128L)).isEqualTo(4 * MB / 4); // a 24 GB machine's default heap
    assertThat(AlignedFloats.regionFloats(16384 * MB)).isEqualTo(8 * MB / 4);
    assertThat(AlignedFloats.regionFloats(1L << 40)).isEqualTo(32 * MB / 4);
  }

  @Test
  void largeArraysFillARegionAndHoldTheirFloats() {
    long region = AlignedFloats.regionFloats(Runtime.getRuntime().maxMemory());
    assertThat((long) AlignedFloats.large(10).length).isEqualTo(region);
    assertThat((long) AlignedFloats.large(region).length).isEqualTo(region + AlignedFloats.FIRST);
    assertThat((long) AlignedFloats.lined(region / 16).length).isEqualTo(region);
    assertThat(AlignedFloats.lined(region / 16 - 1).length).isEqualTo(AlignedFloats.FIRST + region / 16 - 1);
    assertThat(AlignedFloats.lined(100).length).isEqualTo(112);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AlignedFloats.large(Integer.MAX_VALUE));
    assertThat(e).hasMessageThat().isEqualTo("2147483647 floats do not fit one array");
  }
}
