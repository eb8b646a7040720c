package dev.kiln.samples.benchmark;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class GflopsTest {
  @Test
  void twoFlopsPerMac() {
    // 1e9 MACs in one second = 2 GFLOP/s
    assertThat(Gflops.of(1_000_000_000L, 1e9)).isWithin(1e-12).of(2.0);
    assertThat(Gflops.of(250, 1000)).isWithin(1e-12).of(0.5);
    assertThrows(IllegalArgumentException.class, () -> Gflops.of(1, 0));
  }

  @Test
  void jmhUnits() {
    assertThat(Gflops.nanosPerOp(1.5, "us/op")).isWithin(1e-9).of(1500.0);
    assertThat(Gflops.nanosPerOp(2, "ms/op")).isWithin(1e-6).of(2e6);
    assertThat(Gflops.nanosPerOp(7, "ns/op")).isWithin(1e-12).of(7.0);
    assertThat(Gflops.nanosPerOp(1, "s/op")).isWithin(1e-3).of(1e9);
    assertThat(Gflops.nanosPerOp(2, "ops/us")).isWithin(1e-9).of(500.0);
    assertThat(Gflops.nanosPerOp(4, "ops/s")).isWithin(1e-3).of(1e9 / 4);
    assertThrows(IllegalArgumentException.class, () -> Gflops.nanosPerOp(1, "op/furlong"));
  }
}
