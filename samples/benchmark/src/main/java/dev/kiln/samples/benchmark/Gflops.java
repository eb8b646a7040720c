package dev.kiln.samples.benchmark;

import java.util.Locale;

/** Throughput arithmetic: a convolution does 2 flops (a multiply and an add) per multiply-add. */
public final class Gflops {
  private Gflops() {}

  /** GFLOP/s of {@code macs} multiply-adds done in {@code nanos} nanoseconds. */
  public static double of(long macs, double nanos) {
    if (!(nanos > 0)) {
      throw new IllegalArgumentException("time must be positive but was " + nanos + " ns");
    }
    return 2.0 * macs / nanos;
  }

  /**
   * Nanoseconds per operation from a JMH score and its unit: average-time units ({@code ns/op},
   * {@code us/op}, {@code ms/op}, {@code s/op}) or throughput units ({@code ops/ns} ... {@code ops/s}).
   */
  public static double nanosPerOp(double score, String unit) {
    String u = unit.trim().toLowerCase(Locale.ROOT);
    if (u.endsWith("/op")) {
      return score * nanosPer(u.substring(0, u.length() - 3));
    }
    if (u.startsWith("ops/")) {
      return nanosPer(u.substring(4)) / score;
    }
    throw new IllegalArgumentException("unknown JMH score unit '" + unit + "'");
  }

  private static double nanosPer(String timeUnit) {
    switch (timeUnit) {
      case "ns":
        return 1.0;
      case "us":
        return 1e3;
      case "ms":
        return 1e6;
      case "s":
        return 1e9;
      case "min":
        return 60e9;
      default:
        throw new IllegalArgumentException("unknown time unit '" + timeUnit + "'");
    }
  }
}
