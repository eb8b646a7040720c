package dev.kiln.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The conversions between NCHW planes and a blocked layout ({@link BlockedLayout#fromNchw},
 * {@link BlockedLayout#toNchw(float[], int, float[], int, int, int)}) sixteen pixels of one full channel block at a
 * time, as a 16x16 transpose in registers: sixteen vector loads (one per channel from the planes, or one per
 * pixel from the block), four butterfly stages, sixteen vector stores. Element by element, the conversions move
 * one float per load and store, scattered over sixteen planes; on the AMD EPYC Zen 4 (JDK 17, one layer's 16 and
 * 32 channels of 14x14, in a loop) the transposes took 0.26 ns a float into the blocked layout against 0.57, and
 * 0.28 against 0.34-0.54 back. Only with 16-lane vectors (AVX-512); the system property
 * {@code kiln.simd.transposes=false} turns them off. A copy either way, so the same bits.
 *
 * <p>Stage {@code d} (8, 4, 2, 1) swaps, in each pair of rows {@code i} and {@code i + d} with {@code i & d == 0},
 * the lanes {@code c + d} of row {@code i} with the lanes {@code c} of row {@code i + d} ({@code c & d == 0}):
 * after the four stages row {@code r} holds column {@code r}. A swap is one permutation of a blend of the two rows
 * and two blends back.
 */
final class BlockTranspose {
  private static final VectorSpecies<Float> S = VectorShape.SPECIES;
  private static final int B = VectorShape.LANES;

  /** Whether the conversions use the transposes: 16 lanes, and not turned off. */
  static final boolean AVAILABLE = B == 16 && !"false".equals(System.getProperty("kiln.simd.transposes"));

  private static final VectorShuffle<Float> SWAP1 = swap(1);
  private static final VectorShuffle<Float> SWAP2 = swap(2);
  private static final VectorShuffle<Float> SWAP4 = swap(4);
  private static final VectorShuffle<Float> SWAP8 = swap(8);
  private static final VectorMask<Float> HIGH1 = high(1);
  private static final VectorMask<Float> HIGH2 = high(2);
  private static final VectorMask<Float> HIGH4 = high(4);
  private static final VectorMask<Float> HIGH8 = high(8);

  /** The compiled transposes ({@link TileWarmer#transposes}): until the tile is hot the conversions go element by element. */
  static final TileWarmer.Tile TILE = TileWarmer.transposes();

  private BlockTranspose() {}

  /**
   * Lane {@code c} takes lane {@code c ^ d}; taken modulo the lanes so that the class also initializes with
   * narrower vectors, where the transposes are not used ({@link #AVAILABLE}).
   */
  private static VectorShuffle<Float> swap(int d) {
    int[] lanes = new int[B];
    for (int c = 0; c < B; c++) {
      lanes[c] = (c ^ d) % B;
    }
    return VectorShuffle.fromArray(S, lanes, 0);
  }

  /** The lanes {@code c} with {@code c & d != 0}. */
  private static VectorMask<Float> high(int d) {
    boolean[] set = new boolean[B];
    for (int c = 0; c < B; c++) {
      set[c] = (c & d) != 0;
    }
    return VectorMask.fromArray(S, set, 0);
  }

  /** Whether {@code layout}'s conversions can use the transposes: blocked, 16 lanes, at least 16 pixels. */
  static boolean fits(BlockedLayout layout) {
    return AVAILABLE && layout.blocked && layout.height * layout.width >= B;
  }

  /** Whether {@code layout}'s conversions use the transposes now: they {@link #fits fit} and are compiled. */
  static boolean ready(BlockedLayout layout) {
    return fits(layout) && TILE.hot();
  }

  /**
   * Queues the transposes for warming, for a layer used alone that converts {@code in} from NCHW and {@code out}
   * back for every sample, weighed by the floats it converts (a float took about as long as 15 multiply-adds at the
   * register rate element by element, half of that by transposes), where either layout fits them.
   */
  static void request(BlockedLayout in, BlockedLayout out) {
    if (fits(in) || fits(out)) {
      long floats = (long) in.channels * in.height * in.width + (long) out.channels * out.height * out.width;
      TileWarmer.request(TILE, false, 8 * floats);
    }
  }

  /**
   * {@code count} runs of 16 interior pixels of one full channel block, from pixel {@code first} (row-major, in
   * the planes' order): between the 16 planes {@code plane} floats apart at {@code planes[planesOff..]} and the block
   * at {@code block[blockOff..]}, whose pixel {@code p} is at {@code pixels[p]} from there. {@code toPlanes} says the
   * direction. A call with {@code count == 0} does nothing (the warm-up's empty calls). Only where
   * {@link #AVAILABLE}: the runs are 16 lanes wide.
   */
  static void runs(float[] planes, int planesOff, int plane, float[] block, int blockOff, int[] pixels, int first,
      int count, boolean toPlanes) {
    for (int i = 0, p = first; i < count; i++, p += B) {
      if (toPlanes) {
        run(block, blockOff, plane, planes, planesOff + p, pixels, p, true);
      } else {
        run(planes, planesOff + p, plane, block, blockOff, pixels, p, false);
      }
    }
  }

  /**
   * One run of the 16 pixels {@code p..p+15}: into the block from the planes ({@code a} the planes, channel
   * {@code k}'s pixels at {@code a[at + k * stride..]}; {@code b} the block, pixel {@code p + k} at
   * {@code b[base + pixels[p + k]..]}), or with {@code toPlanes} from the block into the planes ({@code a} the block,
   * pixel {@code p + k} at {@code a[at + pixels[p + k]..]}; {@code b} the planes, channel {@code k} at
   * {@code b[base + k * stride..]}).
   */
  private static void run(float[] a, int at, int stride, float[] b, int base, int[] pixels, int p, boolean toPlanes) {
    // Loads: from the planes (one channel's 16 pixels each), or from the block (one pixel's 16 channels each).
    FloatVector r0 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p] : at);
    FloatVector r1 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p + 1] : at + stride);
    FloatVector r2 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p + 2] : at + 2 * stride);
    FloatVector r3 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p + 3] : at + 3 * stride);
    FloatVector r4 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p + 4] : at + 4 * stride);
    FloatVector r5 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p + 5] : at + 5 * stride);
    FloatVector r6 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p + 6] : at + 6 * stride);
    FloatVector r7 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p + 7] : at + 7 * stride);
    FloatVector r8 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p + 8] : at + 8 * stride);
    FloatVector r9 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p + 9] : at + 9 * stride);
    FloatVector r10 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p + 10] : at + 10 * stride);
    FloatVector r11 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p + 11] : at + 11 * stride);
    FloatVector r12 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p + 12] : at + 12 * stride);
    FloatVector r13 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p + 13] : at + 13 * stride);
    FloatVector r14 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p + 14] : at + 14 * stride);
    FloatVector r15 = FloatVector.fromArray(S, a, toPlanes ? at + pixels[p + 15] : at + 15 * stride);
    // Stage 8: rows i and i + 8 (lo and hi). q, the blend of hi with lo's lanes c & 8 != 0, permuted by c ^ 8, holds
    // at lane c lo's lane c + 8 (c & 8 == 0) or hi's lane c - 8 (else): the lanes that move, where they go. Each
    // row takes its own lanes that stay and q's others. The helpers this was first written with (a load, a store,
    // a swap) took C2's inlining budget for the whole method: it stopped inlining the vector operations and ran
    // ten times slower (3.3 ns a float).
    FloatVector q;
    q = r8.blend(r0, HIGH8).rearrange(SWAP8); r0 = r0.blend(q, HIGH8); r8 = q.blend(r8, HIGH8);
    q = r9.blend(r1, HIGH8).rearrange(SWAP8); r1 = r1.blend(q, HIGH8); r9 = q.blend(r9, HIGH8);
    q = r10.blend(r2, HIGH8).rearrange(SWAP8); r2 = r2.blend(q, HIGH8); r10 = q.blend(r10, HIGH8);
    q = r11.blend(r3, HIGH8).rearrange(SWAP8); r3 = r3.blend(q, HIGH8); r11 = q.blend(r11, HIGH8);
    q = r12.blend(r4, HIGH8).rearrange(SWAP8); r4 = r4.blend(q, HIGH8); r12 = q.blend(r12, HIGH8);
    q = r13.blend(r5, HIGH8).rearrange(SWAP8); r5 = r5.blend(q, HIGH8); r13 = q.blend(r13, HIGH8);
    q = r14.blend(r6, HIGH8).rearrange(SWAP8); r6 = r6.blend(q, HIGH8); r14 = q.blend(r14, HIGH8);
    q = r15.blend(r7, HIGH8).rearrange(SWAP8); r7 = r7.blend(q, HIGH8); r15 = q.blend(r15, HIGH8);
    // Stage 4: rows i and i + 4.
    q = r4.blend(r0, HIGH4).rearrange(SWAP4); r0 = r0.blend(q, HIGH4); r4 = q.blend(r4, HIGH4);
    q = r5.blend(r1, HIGH4).rearrange(SWAP4); r1 = r1.blend(q, HIGH4); r5 = q.blend(r5, HIGH4);
    q = r6.blend(r2, HIGH4).rearrange(SWAP4); r2 = r2.blend(q, HIGH4); r6 = q.blend(r6, HIGH4);
    q = r7.blend(r3, HIGH4).rearrange(SWAP4); r3 = r3.blend(q, HIGH4); r7 = q.blend(r7, HIGH4);
    q = r12.blend(r8, HIGH4).rearrange(SWAP4); r8 = r8.blend(q, HIGH4); r12 = q.blend(r12, HIGH4);
    q = r13.blend(r9, HIGH4).rearrange(SWAP4); r9 = r9.blend(q, HIGH4); r13 = q.blend(r13, HIGH4);
    q = r14.blend(r10, HIGH4).rearrange(SWAP4); r10 = r10.blend(q, HIGH4); r14 = q.blend(r14, HIGH4);
    q = r15.blend(r11, HIGH4).rearrange(SWAP4); r11 = r11.blend(q, HIGH4); r15 = q.blend(r15, HIGH4);
    // Stage 2: rows i and i + 2.
    q = r2.blend(r0, HIGH2).rearrange(SWAP2); r0 = r0.blend(q, HIGH2); r2 = q.blend(r2, HIGH2);
    q = r3.blend(r1, HIGH2).rearrange(SWAP2); r1 = r1.blend(q, HIGH2); r3 = q.blend(r3, HIGH2);
    q = r6.blend(r4, HIGH2).rearrange(SWAP2); r4 = r4.blend(q, HIGH2); r6 = q.blend(r6, HIGH2);
    q = r7.blend(r5, HIGH2).rearrange(SWAP2); r5 = r5.blend(q, HIGH2); r7 = q.blend(r7, HIGH2);
    q = r10.blend(r8, HIGH2).rearrange(SWAP2); r8 = r8.blend(q, HIGH2); r10 = q.blend(r10, HIGH2);
    q = r11.blend(r9, HIGH2).rearrange(SWAP2); r9 = r9.blend(q, HIGH2); r11 = q.blend(r11, HIGH2);
    q = r14.blend(r12, HIGH2).rearrange(SWAP2); r12 = r12.blend(q, HIGH2); r14 = q.blend(r14, HIGH2);
    q = r15.blend(r13, HIGH2).rearrange(SWAP2); r13 = r13.blend(q, HIGH2); r15 = q.blend(r15, HIGH2);
    // Stage 1: rows i and i + 1.
    q = r1.blend(r0, HIGH1).rearrange(SWAP1); r0 = r0.blend(q, HIGH1); r1 = q.blend(r1, HIGH1);
    q = r3.blend(r2, HIGH1).rearrange(SWAP1); r2 = r2.blend(q, HIGH1); r3 = q.blend(r3, HIGH1);
    q = r5.blend(r4, HIGH1).rearrange(SWAP1); r4 = r4.blend(q, HIGH1); r5 = q.blend(r5, HIGH1);
    q = r7.blend(r6, HIGH1).rearrange(SWAP1); r6 = r6.blend(q, HIGH1); r7 = q.blend(r7, HIGH1);
    q = r9.blend(r8, HIGH1).rearrange(SWAP1); r8 = r8.blend(q, HIGH1); r9 = q.blend(r9, HIGH1);
    q = r11.blend(r10, HIGH1).rearrange(SWAP1); r10 = r10.blend(q, HIGH1); r11 = q.blend(r11, HIGH1);
    q = r13.blend(r12, HIGH1).rearrange(SWAP1); r12 = r12.blend(q, HIGH1); r13 = q.blend(r13, HIGH1);
    q = r15.blend(r14, HIGH1).rearrange(SWAP1); r14 = r14.blend(q, HIGH1); r15 = q.blend(r15, HIGH1);
    // Stores: into the block (one pixel's 16 channels each), or into the planes (one channel's 16 pixels each).
    r0.intoArray(b, toPlanes ? base : base + pixels[p]);
    r1.intoArray(b, toPlanes ? base + stride : base + pixels[p + 1]);
    r2.intoArray(b, toPlanes ? base + 2 * stride : base + pixels[p + 2]);
    r3.intoArray(b, toPlanes ? base + 3 * stride : base + pixels[p + 3]);
    r4.intoArray(b, toPlanes ? base + 4 * stride : base + pixels[p + 4]);
    r5.intoArray(b, toPlanes ? base + 5 * stride : base + pixels[p + 5]);
    r6.intoArray(b, toPlanes ? base + 6 * stride : base + pixels[p + 6]);
    r7.intoArray(b, toPlanes ? base + 7 * stride : base + pixels[p + 7]);
    r8.intoArray(b, toPlanes ? base + 8 * stride : base + pixels[p + 8]);
    r9.intoArray(b, toPlanes ? base + 9 * stride : base + pixels[p + 9]);
    r10.intoArray(b, toPlanes ? base + 10 * stride : base + pixels[p + 10]);
    r11.intoArray(b, toPlanes ? base + 11 * stride : base + pixels[p + 11]);
    r12.intoArray(b, toPlanes ? base + 12 * stride : base + pixels[p + 12]);
    r13.intoArray(b, toPlanes ? base + 13 * stride : base + pixels[p + 13]);
    r14.intoArray(b, toPlanes ? base + 14 * stride : base + pixels[p + 14]);
    r15.intoArray(b, toPlanes ? base + 15 * stride : base + pixels[p + 15]);
  }
}
