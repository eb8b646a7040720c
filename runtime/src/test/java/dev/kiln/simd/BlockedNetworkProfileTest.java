package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The per-stage times of {@code kiln.blocked.profile}: what each line says (the sum of the first eight calls, or of
 * all where fewer ran), past the arrays' first growth.
 */
class BlockedNetworkProfileTest {
  @Test
  void linesGiveEachStagesMedianOfTheLastHalfItsFirstCallAndItsFirstEight() {
    BlockedNetwork.Profile p = new BlockedNetwork.Profile(List.of("conv a", "pool", "fc"));
    // Stage 0: 200 calls (more than the arrays start with), 1,000,000 ns first, then 1,000 ns each except the
    // last 100, which take 3,000 ns: the last half is those 100, median 3.0 us.
    p.add(0, 1_000_000);
    for (int i = 1; i < 200; i++) {
      p.add(0, i < 100 ? 1_000 : 3_000);
    }
    // Stage 2: three calls, 5, 9 and 7 us: the last half is the last two (9 and 7), median the upper (9 us).
    p.add(2, 5_000);
    p.add(2, 9_000);
    p.add(2, 7_000);

    List<String> lines = p.lines();

    assertThat(lines).hasSize(2); // stage 1 never ran
    assertThat(lines.get(0)).startsWith("conv a#0 ");
    // The first eight: 1,000 us and seven of 1 us.
    assertThat(lines.get(0))
        .endsWith("median of the last half       3.0 us (first    1000.0 us, first eight    1007.0 us)");
    assertThat(lines.get(1)).startsWith("fc#2 ");
    assertThat(lines.get(1))
        .endsWith("median of the last half       9.0 us (first       5.0 us, first eight      21.0 us)");
  }
}
