package dev.kiln.simd;

import dev.kiln.nn.Scratch;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector loops of a blocked network's head: the per-lane sums of global average pooling over blocked
 * channel blocks, and a fully connected layer over weights packed by blocks of output features. Each lane of
 * a vector is one channel or one output feature, summed in the same order and with the same float operations
 * as the plain Java loops they stand in for ({@code GlobalAvgPool2d}, {@code Linear}), so the results are the
 * same bits.
 */
final class HeadKernels {
  private static final VectorSpecies<Float> S = VectorShape.SPECIES;
  private static final int B = VectorShape.LANES;

  private HeadKernels() {}

  /**
   * For {@code count} channel blocks starting at {@code x[base]}, {@code blockStride} apart: each lane's sum
   * over the block's {@code height x width} pixels ({@code x[block + first + h * rowStride + w * B + lane]}),
   * added in float in row-major pixel order starting from {@code 0f}, into {@code sums[k * B + lane]}. Four
   * blocks at a time, so that four chains of additions run side by side. One flat loop over the pixels: with
   * a loop over rows around one over columns, JDK 17's C2 kept the running sums as objects (10 times the
   * time, and every few hundred milliseconds calls 40 times slower still).
   */
  static void blockSums(float[] x, int base, int blockStride, int count, int first, int height, int width,
      int rowStride, float[] sums) {
    int pixels = height * width;
    int skip = rowStride - width * B;
    int k = 0;
    for (; k + 4 <= count; k += 4) {
      FloatVector s0 = FloatVector.zero(S);
      FloatVector s1 = FloatVector.zero(S);
      FloatVector s2 = FloatVector.zero(S);
      FloatVector s3 = FloatVector.zero(S);
      int p = base + k * blockStride + first;
      int w = 0;
      for (int q = 0; q < pixels; q++) {
        s0 = s0.add(FloatVector.fromArray(S, x, p));
        s1 = s1.add(FloatVector.fromArray(S, x, p + blockStride));
        s2 = s2.add(FloatVector.fromArray(S, x, p + 2 * blockStride));
        s3 = s3.add(FloatVector.fromArray(S, x, p + 3 * blockStride));
        p += B;
        if (++w == width) {
          w = 0;
          p += skip;
        }
      }
      s0.intoArray(sums, k * B);
      s1.intoArray(sums, (k + 1) * B);
      s2.intoArray(sums, (k + 2) * B);
      s3.intoArray(sums, (k + 3) * B);
    }
    for (; k < count; k++) {
      FloatVector s0 = FloatVector.zero(S);
      int p = base + k * blockStride + first;
      int w = 0;
      for (int q = 0; q < pixels; q++) {
        s0 = s0.add(FloatVector.fromArray(S, x, p));
        p += B;
        if (++w == width) {
          w = 0;
          p += skip;
        }
      }
      s0.intoArray(sums, k * B);
    }
  }

  /**
   * {@link #blockSums} in plain Java, the same sums in the same order: what a network's pooling runs until the
   * vector kernel is compiled (interpreted, a vector loop is a hundred times slower).
   */
  static void blockSumsPlain(float[] x, int base, int blockStride, int count, int first, int height, int width,
      int rowStride, float[] sums) {
    for (int k = 0; k < count; k++) {
      for (int lane = 0; lane < B; lane++) {
        sums[k * B + lane] = laneSum(x, base + k * blockStride + first + lane, height, width, rowStride);
      }
    }
  }

  /**
   * One lane's sum over a block's pixels from {@code x[first]}, from {@code 0f} in row-major order. A method of its
   * own, called once per lane (RepVGG-A0: 1,280 calls a sample), so that C1 compiles it from its calls within a
   * network's first forward: as loops inside {@link #blockSumsPlain}, called once per forward, it ran interpreted
   * there (JFR: 13 interpreted samples in eight cold starts).
   */
  private static float laneSum(float[] x, int first, int height, int width, int rowStride) {
    float s = 0f;
    for (int h = 0; h < height; h++) {
      int row = first + h * rowStride;
      for (int w = 0; w < width; w++) {
        s += x[row + w * B];
      }
    }
    return s;
  }

  /**
   * {@code y[r, o]} = {@code bias[o]} (0 if {@code bias} is null) plus {@code x[r, i] * W[o, i]} for {@code i}
   * in order, each product rounded to float and then added, for rows {@code r < rows}: what {@link #linear} and
   * {@code Linear}'s own loop compute, to the bit, in plain Java from {@code W [out, in]} as the layer holds it
   * (row-major). A network's first forward runs this while the vector kernel compiles: it needs neither that
   * kernel's packed copy nor the layer's transposed one (4 MB for a 1000-class head, fresh memory that a first
   * forward would fault in), and the warmer compiles it beforehand ({@link TileWarmer#linearPlain}). Four
   * outputs at a time (the rest one at a time), each its own running sum: one sum's additions wait for each other
   * (C2 does not reorder a float sum), four do not, and each output still adds its products in order.
   */
  static void linearPlain(float[] x, int in, float[] w, float[] bias, int out, float[] y, int rows) {
    for (int r = 0; r < rows; r++) {
      int xr = r * in;
      int o = 0;
      for (; o + 4 <= out; o += 4) {
        float s0 = bias == null ? 0f : bias[o];
        float s1 = bias == null ? 0f : bias[o + 1];
        float s2 = bias == null ? 0f : bias[o + 2];
        float s3 = bias == null ? 0f : bias[o + 3];
        int w0 = o * in;
        int w1 = w0 + in;
        int w2 = w1 + in;
        int w3 = w2 + in;
        for (int i = 0; i < in; i++) {
          float xi = x[xr + i];
          s0 += xi * w[w0 + i];
          s1 += xi * w[w1 + i];
          s2 += xi * w[w2 + i];
          s3 += xi * w[w3 + i];
        }
        int yo = r * out + o;
        y[yo] = s0;
        y[yo + 1] = s1;
        y[yo + 2] = s2;
        y[yo + 3] = s3;
      }
      for (; o < out; o++) {
        float s = bias == null ? 0f : bias[o];
        int wo = o * in;
        for (int i = 0; i < in; i++) {
          s += x[xr + i] * w[wo + i];
        }
        y[r * out + o] = s;
      }
    }
  }

  /**
   * A fully connected layer for rows {@code [r0, r1)} of {@code x} ({@code in} features each) and output
   * blocks {@code [b0, b1)}: {@code y[r * out + o]} = the bias {@code bias[o]} (or {@code 0f} when
   * {@code bias} is null) plus {@code x[r, i] * W[o, i]} for {@code i} in order, each product rounded to float
   * and then added, as {@code Linear}'s loop does. {@code w} holds {@code W} packed by blocks of {@code B}
   * output features, {@code w[(block * in + i) * B + lane] = W[block * B + lane, i]} (zero past {@code out});
   * {@code bias} is padded to whole blocks. Rows go four at a time ({@link #fourRows}), the rest one at a time
   * ({@link #byRow}).
   */
  static void linear(float[] x, int in, float[] w, float[] bias, int out, float[] y, int r0, int r1, int b0, int b1) {
    float[] tail = out % B == 0 || b1 * B <= out ? null : Scratch.get().accumulators(1, B)[0];
    int grouped = r0 + (r1 - r0) / ROWS * ROWS;
    fourRows(x, in, w, bias, out, y, r0, grouped, b0, b1, tail);
    byRow(x, in, w, bias, out, y, grouped, r1, b0, b1, tail);
  }

  /** Rows per pass of {@link #fourRows}. */
  static final int ROWS = 4;

  /**
   * Rows {@code [r0, r1)}, a multiple of {@link #ROWS}: two output blocks of four rows per pass, so that each weight
   * vector loaded serves four rows (an odd last block row by row). Row by row, the next rows read each block's
   * weights again from the level-2 cache (a four-block pass's weights are 320 KB for 1,280 inputs), where a
   * 64-byte load takes two cycles: RepVGG-A0's classifier at N=8 took 585 us this way against 376 four rows a
   * pass, ONNX Runtime's 419 (AMD EPYC Zen 4). Each output is the same products added in the same order.
   */
  private static void fourRows(float[] x, int in, float[] w, float[] bias, int out, float[] y, int r0, int r1,
      int b0, int b1, float[] tail) {
    int ob = b0;
    for (; ob + 2 <= b1; ob += 2) {
      for (int r = r0; r < r1; r += ROWS) {
        twoBlocksFourRows(x, in, w, bias, out, y, r, ob, tail);
      }
    }
    if (ob < b1) {
      for (int r = r0; r < r1; r++) {
        oneRow(x, in, w, bias, out, y, r, ob, tail);
      }
    }
  }

  /**
   * Rows {@code [r0, r1)} one at a time: four output blocks share each broadcast input, so four streams of
   * weights run side by side (four chains of additions) and each is read front to back once per row.
   */
  private static void byRow(float[] x, int in, float[] w, float[] bias, int out, float[] y, int r0, int r1, int b0,
      int b1, float[] tail) {
    int ob = b0;
    for (; ob + 4 <= b1; ob += 4) {
      int w0 = ob * in * B;
      int w1 = w0 + in * B;
      int w2 = w1 + in * B;
      int w3 = w2 + in * B;
      for (int r = r0; r < r1; r++) {
        FloatVector a0 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, ob * B);
        FloatVector a1 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, (ob + 1) * B);
        FloatVector a2 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, (ob + 2) * B);
        FloatVector a3 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, (ob + 3) * B);
        int xr = r * in;
        for (int i = 0; i < in; i++) {
          FloatVector v = FloatVector.broadcast(S, x[xr + i]);
          int q = i * B;
          a0 = a0.add(FloatVector.fromArray(S, w, w0 + q).mul(v));
          a1 = a1.add(FloatVector.fromArray(S, w, w1 + q).mul(v));
          a2 = a2.add(FloatVector.fromArray(S, w, w2 + q).mul(v));
          a3 = a3.add(FloatVector.fromArray(S, w, w3 + q).mul(v));
        }
        store(a0, y, r * out, ob * B, out, tail);
        store(a1, y, r * out, (ob + 1) * B, out, tail);
        store(a2, y, r * out, (ob + 2) * B, out, tail);
        store(a3, y, r * out, (ob + 3) * B, out, tail);
      }
    }
    for (; ob < b1; ob++) {
      for (int r = r0; r < r1; r++) {
        oneRow(x, in, w, bias, out, y, r, ob, tail);
      }
    }
  }

  /** Output blocks {@code ob} and {@code ob + 1} of rows {@code r..r+3}. */
  private static void twoBlocksFourRows(float[] x, int in, float[] w, float[] bias, int out, float[] y, int r,
      int ob, float[] tail) {
    FloatVector c0 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, ob * B);
    FloatVector c1 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, (ob + 1) * B);
    FloatVector a00 = c0;
    FloatVector a01 = c1;
    FloatVector a10 = c0;
    FloatVector a11 = c1;
    FloatVector a20 = c0;
    FloatVector a21 = c1;
    FloatVector a30 = c0;
    FloatVector a31 = c1;
    int w0 = ob * in * B;
    int w1 = w0 + in * B;
    int x0 = r * in;
    for (int i = 0; i < in; i++) {
      FloatVector u0 = FloatVector.fromArray(S, w, w0 + i * B);
      FloatVector u1 = FloatVector.fromArray(S, w, w1 + i * B);
      FloatVector v = FloatVector.broadcast(S, x[x0 + i]);
      a00 = a00.add(u0.mul(v));
      a01 = a01.add(u1.mul(v));
      v = FloatVector.broadcast(S, x[x0 + in + i]);
      a10 = a10.add(u0.mul(v));
      a11 = a11.add(u1.mul(v));
      v = FloatVector.broadcast(S, x[x0 + 2 * in + i]);
      a20 = a20.add(u0.mul(v));
      a21 = a21.add(u1.mul(v));
      v = FloatVector.broadcast(S, x[x0 + 3 * in + i]);
      a30 = a30.add(u0.mul(v));
      a31 = a31.add(u1.mul(v));
    }
    store(a00, y, r * out, ob * B, out, tail);
    store(a01, y, r * out, (ob + 1) * B, out, tail);
    store(a10, y, (r + 1) * out, ob * B, out, tail);
    store(a11, y, (r + 1) * out, (ob + 1) * B, out, tail);
    store(a20, y, (r + 2) * out, ob * B, out, tail);
    store(a21, y, (r + 2) * out, (ob + 1) * B, out, tail);
    store(a30, y, (r + 3) * out, ob * B, out, tail);
    store(a31, y, (r + 3) * out, (ob + 1) * B, out, tail);
  }

  /** Output block {@code ob} of row {@code r}. */
  private static void oneRow(float[] x, int in, float[] w, float[] bias, int out, float[] y, int r, int ob,
      float[] tail) {
    FloatVector a0 = bias == null ? FloatVector.zero(S) : FloatVector.fromArray(S, bias, ob * B);
    int w0 = ob * in * B;
    int xr = r * in;
    for (int i = 0; i < in; i++) {
      a0 = a0.add(FloatVector.fromArray(S, w, w0 + i * B).mul(FloatVector.broadcast(S, x[xr + i])));
    }
    store(a0, y, r * out, ob * B, out, tail);
  }

  /**
   * {@code W [out, in]} (row-major) packed for {@link #linear}: {@code [block][i][lane]}, the lanes past
   * {@code out} zero.
   */
  static float[] packLinear(float[] weight, int out, int in) {
    int blocks = VectorShape.blocks(out);
    float[] packed = new float[Math.multiplyExact(blocks * B, in)];
    for (int o = 0; o < out; o++) {
      int dst = (o / B) * in * B + o % B;
      int src = o * in;
      for (int i = 0; i < in; i++) {
        packed[dst + i * B] = weight[src + i];
      }
    }
    return packed;
  }

  /** A bias of {@code out} features padded with zeros to whole blocks for {@link #linear}. */
  static float[] packBias(float[] bias, int out) {
    float[] padded = new float[VectorShape.blocks(out) * B];
    System.arraycopy(bias, 0, padded, 0, out);
    return padded;
  }

  /**
   * The lanes of {@code a} that are output features ({@code o < out}) into {@code y[row + o]}; a partial
   * last block goes through {@code tail}, the thread's scratch (a masked store compiled slowly: under load
   * its warm-up took seconds).
   */
  private static void store(FloatVector a, float[] y, int row, int o, int out, float[] tail) {
    if (o + B <= out) {
      a.intoArray(y, row + o);
    } else {
      a.intoArray(tail, 0);
      System.arraycopy(tail, 0, y, row + o, out - o);
    }
  }
}
