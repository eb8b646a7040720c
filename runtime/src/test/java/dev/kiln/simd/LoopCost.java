package dev.kiln.simd;

import java.util.Arrays;
import java.util.Locale;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A benchmark program (not a test): what a pointwise tile's reduction loop costs, part by part. Each variant is
 * one loop over {@code RS} input channels (blocks of {@code B} lanes, as the pointwise tiles walk them) on data
 * that stays in the caches, with the same multiply-adds per step as a tile and something taken away or changed:
 * the weight loads, the broadcasts of the input, the tile's shape. Variants run interleaved in one JVM, round
 * after round; each prints its median rate and the median of its time over the first variant's in the same
 * round. The loops are called through an interface from several call sites' worth of variants, so that C2
 * compiles each one alone as it compiles a tile (called directly from {@code main}, they were inlined into its
 * compiled loop and ran up to 20% slower there, which misled a first version of this program).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp runtime/target/classes:runtime/target/test-classes \
 *   dev.kiln.simd.LoopCost [RS] [ROUNDS]
 * </pre>
 *
 * On the AMD EPYC Zen 1 of the twenty-fourth session (AVX2, JDK 17) the 3x3 loop ran at 0.85-0.93 of the rate of
 * multiply-adds in registers, and a 6x2 loop (tried as the tiles of six-block pointwise chunks, not kept) at the
 * same rate: see {@code bench-results/pointwise-loop-s24-avx2-2026-12-05.txt}.
 */
public final class LoopCost {
  private static final VectorSpecies<Float> S = VectorShape.SPECIES;
  private static final int B = VectorShape.LANES;
  private static final float[] SINK = new float[4 * 64];

  private LoopCost() {}

  /** One variant: its name, multiply-adds per reduction step, and the loop. */
  private interface Loop {
    void run(float[] x, float[] w, int rs);
  }

  public static void main(String[] a) {
    int rs = a.length > 0 ? Integer.parseInt(a[0]) : 512;
    int rounds = a.length > 1 ? Integer.parseInt(a[1]) : 15;
    int bs = 64 * B; // the distance between the input's channel blocks (64 pixels of B lanes)
    float[] x = filled(Math.max((rs / B) * bs, rs * 4 * B) + 64);
    float[] w = filled(rs * 12 * B + 64);
    String[] names = {"3x3 tile loop", "3x3 weights in registers", "3x3 broadcasts in registers",
        "3x3 input pre-broadcast", "4x3 (spills)", "3x4 variable distance", "6x2 weights one by one",
        "12x1 weights single-use",
        "multiply-adds only"};
    int[] macs = {9, 9, 9, 9, 12, 12, 12, 12, 10};
    Loop[] loops = {
        (xs, ws, n) -> tile3x3(xs, ws, n, bs), (xs, ws, n) -> weightsInRegisters(xs, ws, n, bs),
        (xs, ws, n) -> broadcastsInRegisters(xs, ws, n), (xs, ws, n) -> preBroadcast(xs, ws, n),
        (xs, ws, n) -> tile4x3(xs, ws, n, bs), (xs, ws, n) -> tile3x4(xs, ws, n, bs, B),
        (xs, ws, n) -> tile6x2(xs, ws, n, bs),
        (xs, ws, n) -> tile12x1(xs, ws, n, bs), (xs, ws, n) -> registersOnly(ws, n)};
    int calls = 25_600_000 / rs;
    double[][] rate = new double[loops.length][rounds];
    double[][] time = new double[loops.length][rounds];
    for (int round = -3; round < rounds; round++) {
      for (int v = 0; v < loops.length; v++) {
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
          loops[v].run(x, w, rs);
        }
        long t = System.nanoTime() - t0;
        if (round >= 0) {
          time[v][round] = t;
          rate[v][round] = (double) calls * rs * macs[v] * B / t;
        }
      }
    }
    System.out.printf(Locale.ROOT, "%d input channels, %d lanes, %d rounds%n", rs, B, rounds);
    for (int v = 0; v < loops.length; v++) {
      double[] ratio = new double[rounds];
      for (int round = 0; round < rounds; round++) {
        ratio[round] = (time[v][round] / macs[v]) / (time[0][round] / macs[0]);
      }
      double[] r = rate[v].clone();
      Arrays.sort(r);
      Arrays.sort(ratio);
      System.out.printf(Locale.ROOT,
          "%-28s %6.2f G multiply-adds/s (median)  time per multiply-add %.3f of the first's%n", names[v],
          r[rounds / 2], ratio[rounds / 2]);
    }
  }

  /** The 3x3 pointwise tile's loop: 3 weight loads, 3 broadcasts of the input, 9 multiply-adds per step. */
  static void tile3x3(float[] x, float[] w, int rs, int bs) {
    FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00, a20 = a00,
        a21 = a00, a22 = a00;
    int q = 0;
    int xc = 0;
    for (int c = rs / B; c > 0; c--, xc += bs) {
      for (int l = 0; l < B; l++, q += 3 * B) {
        int p = xc + l;
        FloatVector w0 = FloatVector.fromArray(S, w, q);
        FloatVector w1 = FloatVector.fromArray(S, w, q + B);
        FloatVector w2 = FloatVector.fromArray(S, w, q + 2 * B);
        FloatVector v0 = FloatVector.broadcast(S, x[p]);
        a00 = w0.fma(v0, a00);
        a01 = w1.fma(v0, a01);
        a02 = w2.fma(v0, a02);
        FloatVector v1 = FloatVector.broadcast(S, x[p + B]);
        a10 = w0.fma(v1, a10);
        a11 = w1.fma(v1, a11);
        a12 = w2.fma(v1, a12);
        FloatVector v2 = FloatVector.broadcast(S, x[p + 2 * B]);
        a20 = w0.fma(v2, a20);
        a21 = w1.fma(v2, a21);
        a22 = w2.fma(v2, a22);
      }
    }
    a00.add(a01).add(a02).add(a10).add(a11).add(a12).add(a20).add(a21).add(a22).intoArray(SINK, 0);
  }

  /** As {@link #tile3x3}, the weights loaded once before the loop. */
  static void weightsInRegisters(float[] x, float[] w, int rs, int bs) {
    FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00, a20 = a00,
        a21 = a00, a22 = a00;
    FloatVector w0 = FloatVector.fromArray(S, w, 0);
    FloatVector w1 = FloatVector.fromArray(S, w, B);
    FloatVector w2 = FloatVector.fromArray(S, w, 2 * B);
    int xc = 0;
    for (int c = rs / B; c > 0; c--, xc += bs) {
      for (int l = 0; l < B; l++) {
        int p = xc + l;
        FloatVector v0 = FloatVector.broadcast(S, x[p]);
        a00 = w0.fma(v0, a00);
        a01 = w1.fma(v0, a01);
        a02 = w2.fma(v0, a02);
        FloatVector v1 = FloatVector.broadcast(S, x[p + B]);
        a10 = w0.fma(v1, a10);
        a11 = w1.fma(v1, a11);
        a12 = w2.fma(v1, a12);
        FloatVector v2 = FloatVector.broadcast(S, x[p + 2 * B]);
        a20 = w0.fma(v2, a20);
        a21 = w1.fma(v2, a21);
        a22 = w2.fma(v2, a22);
      }
    }
    a00.add(a01).add(a02).add(a10).add(a11).add(a12).add(a20).add(a21).add(a22).intoArray(SINK, 0);
  }

  /** As {@link #tile3x3}, the three broadcasts made once before the loop. */
  static void broadcastsInRegisters(float[] x, float[] w, int rs) {
    FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00, a20 = a00,
        a21 = a00, a22 = a00;
    FloatVector v0 = FloatVector.broadcast(S, x[0]);
    FloatVector v1 = FloatVector.broadcast(S, x[1]);
    FloatVector v2 = FloatVector.broadcast(S, x[2]);
    int q = 0;
    for (int c = rs / B; c > 0; c--) {
      for (int l = 0; l < B; l++, q += 3 * B) {
        FloatVector w0 = FloatVector.fromArray(S, w, q);
        FloatVector w1 = FloatVector.fromArray(S, w, q + B);
        FloatVector w2 = FloatVector.fromArray(S, w, q + 2 * B);
        a00 = w0.fma(v0, a00);
        a01 = w1.fma(v0, a01);
        a02 = w2.fma(v0, a02);
        a10 = w0.fma(v1, a10);
        a11 = w1.fma(v1, a11);
        a12 = w2.fma(v1, a12);
        a20 = w0.fma(v2, a20);
        a21 = w1.fma(v2, a21);
        a22 = w2.fma(v2, a22);
      }
    }
    a00.add(a01).add(a02).add(a10).add(a11).add(a12).add(a20).add(a21).add(a22).intoArray(SINK, 0);
  }

  /** As {@link #tile3x3}, the input stored with each value already in every lane: vector loads, no broadcasts. */
  static void preBroadcast(float[] x, float[] w, int rs) {
    FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00, a20 = a00,
        a21 = a00, a22 = a00;
    int q = 0;
    int p = 0;
    for (int c = rs / B; c > 0; c--) {
      for (int l = 0; l < B; l++, q += 3 * B, p += 3 * B) {
        FloatVector w0 = FloatVector.fromArray(S, w, q);
        FloatVector w1 = FloatVector.fromArray(S, w, q + B);
        FloatVector w2 = FloatVector.fromArray(S, w, q + 2 * B);
        FloatVector v0 = FloatVector.fromArray(S, x, p);
        a00 = w0.fma(v0, a00);
        a01 = w1.fma(v0, a01);
        a02 = w2.fma(v0, a02);
        FloatVector v1 = FloatVector.fromArray(S, x, p + B);
        a10 = w0.fma(v1, a10);
        a11 = w1.fma(v1, a11);
        a12 = w2.fma(v1, a12);
        FloatVector v2 = FloatVector.fromArray(S, x, p + 2 * B);
        a20 = w0.fma(v2, a20);
        a21 = w1.fma(v2, a21);
        a22 = w2.fma(v2, a22);
      }
    }
    a00.add(a01).add(a02).add(a10).add(a11).add(a12).add(a20).add(a21).add(a22).intoArray(SINK, 0);
  }

  /** 4 blocks x 3 pixels: 4 weight loads, 3 broadcasts, 12 multiply-adds (on AVX2, C2 spills an accumulator). */
  static void tile4x3(float[] x, float[] w, int rs, int bs) {
    FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00,
        a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00;
    int q = 0;
    int xc = 0;
    for (int c = rs / B; c > 0; c--, xc += bs) {
      for (int l = 0; l < B; l++, q += 4 * B) {
        int p = xc + l;
        FloatVector v0 = FloatVector.broadcast(S, x[p]);
        FloatVector v1 = FloatVector.broadcast(S, x[p + B]);
        FloatVector v2 = FloatVector.broadcast(S, x[p + 2 * B]);
        FloatVector w0 = FloatVector.fromArray(S, w, q);
        a00 = w0.fma(v0, a00);
        a10 = w0.fma(v1, a10);
        a20 = w0.fma(v2, a20);
        FloatVector w1 = FloatVector.fromArray(S, w, q + B);
        a01 = w1.fma(v0, a01);
        a11 = w1.fma(v1, a11);
        a21 = w1.fma(v2, a21);
        FloatVector w2 = FloatVector.fromArray(S, w, q + 2 * B);
        a02 = w2.fma(v0, a02);
        a12 = w2.fma(v1, a12);
        a22 = w2.fma(v2, a22);
        FloatVector w3 = FloatVector.fromArray(S, w, q + 3 * B);
        a03 = w3.fma(v0, a03);
        a13 = w3.fma(v1, a13);
        a23 = w3.fma(v2, a23);
      }
    }
    a00.add(a01).add(a02).add(a03).add(a10).add(a11).add(a12).add(a13).add(a20).add(a21).add(a22).add(a23)
        .intoArray(SINK, 0);
  }

  /** 3 blocks x 4 pixels, the pixel distance a variable (one broadcast live): 12 + 3 + 1 registers. */
  static void tile3x4(float[] x, float[] w, int rs, int bs, int sx) {
    FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00, a20 = a00,
        a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
    int q = 0;
    int xc = 0;
    for (int c = rs / B; c > 0; c--, xc += bs) {
      for (int l = 0; l < B; l++, q += 3 * B) {
        int p = xc + l;
        FloatVector w0 = FloatVector.fromArray(S, w, q);
        FloatVector w1 = FloatVector.fromArray(S, w, q + B);
        FloatVector w2 = FloatVector.fromArray(S, w, q + 2 * B);
        FloatVector v0 = FloatVector.broadcast(S, x[p]);
        a00 = w0.fma(v0, a00);
        a01 = w1.fma(v0, a01);
        a02 = w2.fma(v0, a02);
        FloatVector v1 = FloatVector.broadcast(S, x[p + sx]);
        a10 = w0.fma(v1, a10);
        a11 = w1.fma(v1, a11);
        a12 = w2.fma(v1, a12);
        FloatVector v2 = FloatVector.broadcast(S, x[p + 2 * sx]);
        a20 = w0.fma(v2, a20);
        a21 = w1.fma(v2, a21);
        a22 = w2.fma(v2, a22);
        FloatVector v3 = FloatVector.broadcast(S, x[p + 3 * sx]);
        a30 = w0.fma(v3, a30);
        a31 = w1.fma(v3, a31);
        a32 = w2.fma(v3, a32);
      }
    }
    a00.add(a01).add(a02).add(a10).add(a11).add(a12).add(a20).add(a21).add(a22).add(a30).add(a31).add(a32)
        .intoArray(SINK, 0);
  }

  /** 6 blocks x 2 pixels: both broadcasts, then each block's weights (12 + 2 + 2; tried as tiles, not kept). */
  static void tile6x2(float[] x, float[] w, int rs, int bs) {
    FloatVector a00 = FloatVector.zero(S), a01 = a00, a02 = a00, a03 = a00, a04 = a00, a05 = a00, a10 = a00,
        a11 = a00, a12 = a00, a13 = a00, a14 = a00, a15 = a00;
    int q = 0;
    int xc = 0;
    for (int c = rs / B; c > 0; c--, xc += bs) {
      for (int l = 0; l < B; l++, q += 6 * B) {
        int p = xc + l;
        FloatVector v0 = FloatVector.broadcast(S, x[p]);
        FloatVector v1 = FloatVector.broadcast(S, x[p + B]);
        FloatVector w0 = FloatVector.fromArray(S, w, q);
        a00 = w0.fma(v0, a00);
        a10 = w0.fma(v1, a10);
        FloatVector w1 = FloatVector.fromArray(S, w, q + B);
        a01 = w1.fma(v0, a01);
        a11 = w1.fma(v1, a11);
        FloatVector w2 = FloatVector.fromArray(S, w, q + 2 * B);
        a02 = w2.fma(v0, a02);
        a12 = w2.fma(v1, a12);
        FloatVector w3 = FloatVector.fromArray(S, w, q + 3 * B);
        a03 = w3.fma(v0, a03);
        a13 = w3.fma(v1, a13);
        FloatVector w4 = FloatVector.fromArray(S, w, q + 4 * B);
        a04 = w4.fma(v0, a04);
        a14 = w4.fma(v1, a14);
        FloatVector w5 = FloatVector.fromArray(S, w, q + 5 * B);
        a05 = w5.fma(v0, a05);
        a15 = w5.fma(v1, a15);
      }
    }
    a00.add(a01).add(a02).add(a03).add(a04).add(a05).add(a10).add(a11).add(a12).add(a13).add(a14).add(a15)
        .intoArray(SINK, 0);
  }

  /** 12 blocks x 1 pixel: one broadcast, 12 weight loads each used once (C2 folds them into the multiply-adds). */
  static void tile12x1(float[] x, float[] w, int rs, int bs) {
    FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0,
        a9 = a0, a10 = a0, a11 = a0;
    int q = 0;
    int xc = 0;
    for (int c = rs / B; c > 0; c--, xc += bs) {
      for (int l = 0; l < B; l++, q += 12 * B) {
        FloatVector v = FloatVector.broadcast(S, x[xc + l]);
        a0 = FloatVector.fromArray(S, w, q).fma(v, a0);
        a1 = FloatVector.fromArray(S, w, q + B).fma(v, a1);
        a2 = FloatVector.fromArray(S, w, q + 2 * B).fma(v, a2);
        a3 = FloatVector.fromArray(S, w, q + 3 * B).fma(v, a3);
        a4 = FloatVector.fromArray(S, w, q + 4 * B).fma(v, a4);
        a5 = FloatVector.fromArray(S, w, q + 5 * B).fma(v, a5);
        a6 = FloatVector.fromArray(S, w, q + 6 * B).fma(v, a6);
        a7 = FloatVector.fromArray(S, w, q + 7 * B).fma(v, a7);
        a8 = FloatVector.fromArray(S, w, q + 8 * B).fma(v, a8);
        a9 = FloatVector.fromArray(S, w, q + 9 * B).fma(v, a9);
        a10 = FloatVector.fromArray(S, w, q + 10 * B).fma(v, a10);
        a11 = FloatVector.fromArray(S, w, q + 11 * B).fma(v, a11);
      }
    }
    a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11).intoArray(SINK, 0);
  }

  /** Ten independent multiply-add chains in registers, the same step count: the core's own rate. */
  static void registersOnly(float[] w, int rs) {
    FloatVector m = FloatVector.fromArray(S, w, 0);
    FloatVector v = FloatVector.fromArray(S, w, B);
    FloatVector a0 = v, a1 = v, a2 = v, a3 = v, a4 = v, a5 = v, a6 = v, a7 = v, a8 = v, a9 = v;
    for (int c = rs / B; c > 0; c--) {
      for (int l = 0; l < B; l++) {
        a0 = m.fma(v, a0);
        a1 = m.fma(v, a1);
        a2 = m.fma(v, a2);
        a3 = m.fma(v, a3);
        a4 = m.fma(v, a4);
        a5 = m.fma(v, a5);
        a6 = m.fma(v, a6);
        a7 = m.fma(v, a7);
        a8 = m.fma(v, a8);
        a9 = m.fma(v, a9);
      }
    }
    a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).intoArray(SINK, 0);
  }

  private static float[] filled(int size) {
    float[] f = new float[size];
    for (int i = 0; i < size; i++) {
      f[i] = (i % 13) * 0.001f;
    }
    return f;
  }
}
