package dev.kiln.simd;

/**
 * Float arrays whose vectors start on 64-byte boundaries, where the JVM lets us know that: the weights and buffers
 * that tiles read a vector at a time ({@link #share} for layers' weights, {@link #lined} for buffers whose data
 * start at {@link #FIRST}).
 *
 * <p>A 64-byte vector load that spans two cache lines takes two accesses, and an array's 16-lane vectors at offsets
 * that are multiples of 16 span two lines each unless the array's element 0 sits on a line's boundary (or 16, 32 or
 * 48 bytes further, for all of them). One 3x7 pointwise tile alone, its weights at each of eight offsets in one
 * array (Intel Xeon, Sapphire Rapids class, JDK 17, 512 steps): 103 G multiply-adds/s at seven of them, 111 at the
 * one that starts a line; in MobileNet v1 every 1x1 layer took 8-17% less time with its weights on line boundaries
 * than off them; a depthwise 3x3 tile over a 14x14 block took 529 ns with its input and output on lines against 661
 * off them (bench-results {@code alignment-s51-spr-2026-12-07.txt}).
 *
 * <p>Java does not say where an array lies, but HotSpot's G1 (the default collector) allocates an array of at least
 * half a heap region at the start of a region of its own and keeps it at a region's start, and its elements start
 * after the 16-byte array header (with compressed class pointers, the default): its element {@link #FIRST} and every
 * 16th after it start a line. An array that is not that large lies wherever the allocation left off (8-byte steps),
 * where one offset is as good as another: arrays from here use {@link #FIRST} in every case. With other headers
 * (compact object headers, {@code -XX:+UseCompactObjectHeaders}; no compressed class pointers) or collectors the
 * vectors land where they would without this class.
 */
final class AlignedFloats {
  private AlignedFloats() {}

  /** Floats per 64-byte line. */
  static final int LINE = 16;

  /**
   * The first element on a line's boundary in an array that starts one: after the 16-byte array header. Every
   * buffer from {@link #lined} holds its data from here (a network's feature maps, Winograd scratch, a lone layer's
   * blocked input and output).
   */
  static final int FIRST = (64 - 16) / Float.BYTES;

  /** {@code floats} rounded up to whole lines (floats >= 0; negative values round towards {@code -LINE + 1}). */
  static int ceilLines(int floats) {
    return Math.floorDiv(floats + LINE - 1, LINE) * LINE;
  }

  /**
   * An array with room for {@code floats} floats from {@link #FIRST} on, of at least a whole G1 heap region
   * ({@link #regionFloats}): large enough to start a region of its own, so that the vectors from {@link #FIRST}
   * start lines. The padding is at most a region, 1/2048 of the heap.
   */
  static float[] large(long floats) {
    long length = Math.max(FIRST + floats, regionFloats(Runtime.getRuntime().maxMemory()));
    if (length > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(floats + " floats do not fit one array");
    }
    return new float[(int) length];
  }

  /**
   * An array with room for {@code floats} floats from {@link #FIRST} on: {@link #large} where they are at least a
   * sixteenth of a region (the padding at most 15 times the floats, and at most a region, 1/2,048 of the heap; none
   * that G1 would not spend anyway from half a region on, where an array takes whole regions), else just that long
   * (where it lies is left to the JVM: small arrays' vectors are read from nearer caches, where the second line of a
   * split access costs less). With a quarter instead, lone 48->48 and 64->64 56x56 Winograd layers, whose buffers
   * then fell where they might, ran at 0.70x and 0.79x of ONNX Runtime's speed in one of two processes
   * ({@code LayerSuite}, Intel Xeon of the Sapphire Rapids class).
   */
  static float[] lined(long floats) {
    if (floats * 16 >= regionFloats(Runtime.getRuntime().maxMemory())) {
      return large(floats);
    }
    return of(Math.toIntExact(floats));
  }

  /** {@code floats} floats of {@code array} from {@code base} on, a line's start where the array starts one. */
  record Share(float[] array, int base) {}

  /** The array small {@link #share}s come from, and where its free room starts (guarded by the class lock). */
  private static float[] shared;
  private static int sharedNext;

  /**
   * Room for {@code floats} floats from a line's boundary, for as long as the caller keeps the share: a
   * {@link #large} array of its own where the floats are at least half a region (which G1 gives whole regions
   * anyway), else the next whole lines
   * of a region-sized array shared by such requests (a new one when it is full; a full one is freed with the last of
   * its holders). Weights of layers used alone: RepVGG-like 48->48 and 64->64 3x3 layers in Winograd's form ran at
   * 0.64-0.78x ONNX Runtime's speed in some processes and 1.12-1.19x in others (LayerSuite, Intel Xeon of the
   * Sapphire Rapids class) as their weights' own small arrays happened to fall, 1.00-1.17x in every process from
   * shares.
   */
  static synchronized Share share(int floats) {
    long region = regionFloats(Runtime.getRuntime().maxMemory());
    if ((long) floats * 2 >= region) {
      return new Share(large(floats), FIRST);
    }
    int room = ceilLines(floats);
    if (shared == null || (long) sharedNext + room > shared.length) {
      shared = large(region - FIRST);
      sharedNext = FIRST;
    }
    Share s = new Share(shared, sharedNext);
    sharedNext += room;
    return s;
  }

  /** An array with room for {@code floats} floats from {@link #FIRST} on (see the class comment). */
  private static float[] of(int floats) {
    return new float[Math.addExact(FIRST, floats)];
  }

  /**
   * Floats in a G1 heap region as G1 sizes them for a heap of at most {@code maxHeapBytes}, when not told: the heap
   * over 2,048 rounded up to a power of two, from 1 to 32 MB (OpenJDK 17 to 25). A heap region set by
   * {@code -XX:G1HeapRegionSize} above that leaves a {@link #large} array to start where it may.
   */
  static long regionFloats(long maxHeapBytes) {
    long target = Math.max(maxHeapBytes / 2048, 1L << 20);
    long bytes = Math.min(Long.highestOneBit(target) == target ? target : Long.highestOneBit(target) << 1, 32L << 20);
    return bytes / Float.BYTES;
  }
}
