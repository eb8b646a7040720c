package dev.kiln.samples.benchmark;

import static com.google.common.truth.Truth.assertThat;

import org.junit.jupiter.api.Test;

/** {@link NetworkBench#coreRoundTripNanos}: a time per round trip, not a total or a rate. */
class CoreRoundTripTest {
  @Test
  void roundTripIsNanosecondsPerRound() throws Exception {
    double one = NetworkBench.coreRoundTripNanos(20_000);
    // A round trip takes at least a few nanoseconds (two cache-line hand-offs) and, per round, far less than
    // the whole measurement (20,000 rounds) would if it were returned as a total.
    assertThat(one).isGreaterThan(1.0);
    assertThat(one).isLessThan(1e6);
    double more = NetworkBench.coreRoundTripNanos(80_000);
    assertThat(more).isGreaterThan(1.0);
    assertThat(more).isLessThan(1e6);
  }
}
