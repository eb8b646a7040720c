package dev.kiln.samples.benchmark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class GflopsTest {
  @Test
  void twoFlopsPerMac() {
    // 1e9 MACs in one second = 2 GFLOP/s
    assertEquals(2.0, Gflops.of(1_000_000_000L, 1e9), 1e-12);
    assertEquals(0.5, Gflops.of(250, 1000), 1e-12);
    assertThrows(IllegalArgumentException.class, () -> Gflops.of(1, 0));
  }

  @Test
  void jmhUnits() {
    assertEquals(1500.0, Gflops.nanosPerOp(1.5, "us/op"), 1e-9);
    assertEquals(2e6, Gflops.nanosPerOp(2, "ms/op"), 1e-6);
    assertEquals(7.0, Gflops.nanosPerOp(7, "ns/op"), 1e-12);
    assertEquals(1e9, Gflops.nanosPerOp(1, "s/op"), 1e-3);
    assertEquals(500.0, Gflops.nanosPerOp(2, "ops/us"), 1e-9);
    assertEquals(1e9 / 4, Gflops.nanosPerOp(4, "ops/s"), 1e-3);
    assertThrows(IllegalArgumentException.class, () -> Gflops.nanosPerOp(1, "op/furlong"));
  }
}
