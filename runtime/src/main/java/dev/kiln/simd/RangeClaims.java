package dev.kiln.simd;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Work items split into one contiguous range per thread, which threads claim a few at a time: the thread
 * a range belongs to from its front, in order; a thread done with its own range from the backs of the
 * others. With every thread scheduled, each works through its own range as if the split were fixed (the
 * same rows or output channels of every layer on the same thread, with the locality that gives); when one
 * falls behind (a slower or busier processor), the others take over the end of its range instead of waiting
 * for it. A claim is one compare-and-set on the range's word, so an item runs exactly once. Which thread
 * runs an item never changes what it computes.
 */
final class RangeClaims {
  /** Per range: the next unclaimed item from the front (high 32 bits) and the end of the unclaimed ones (low). */
  private AtomicLongArray words = new AtomicLongArray(0);
  private int ranges;
  private int grain = 1;

  /** Opens {@code ranges} ranges; {@code bounds[j]} to {@code bounds[j + 1]} is range {@code j}; claims of {@code grain} items. */
  void open(int[] bounds, int ranges, int grain) {
    if (ranges < 1 || grain < 1) {
      throw new IllegalArgumentException(ranges + " ranges, grain " + grain);
    }
    if (words.length() < ranges) {
      words = new AtomicLongArray(ranges);
    }
    for (int j = 0; j < ranges; j++) {
      if (bounds[j] < 0 || bounds[j] > bounds[j + 1]) {
        throw new IllegalArgumentException("range " + j + ": [" + bounds[j] + ", " + bounds[j + 1] + ")");
      }
      words.set(j, (long) bounds[j] << 32 | bounds[j + 1]);
    }
    this.ranges = ranges;
    this.grain = grain;
  }

  /** The ranges of the section last opened. */
  int ranges() {
    return ranges;
  }

  /**
   * The next items of range {@code j} from its front, as {@code start << 32 | end} ({@link #start},
   * {@link #end}), or -1 when none is left.
   */
  long claimFront(int j) {
    while (true) {
      long w = words.get(j);
      int front = (int) (w >>> 32);
      int back = (int) w;
      if (front >= back) {
        return -1;
      }
      int to = front + Math.min(grain, back - front);
      if (words.compareAndSet(j, w, (long) to << 32 | back)) {
        return (long) front << 32 | to;
      }
    }
  }

  /** The last items of range {@code j}, as {@code start << 32 | end}, or -1 when none is left. */
  long claimBack(int j) {
    while (true) {
      long w = words.get(j);
      int front = (int) (w >>> 32);
      int back = (int) w;
      if (front >= back) {
        return -1;
      }
      int from = back - Math.min(grain, back - front);
      if (words.compareAndSet(j, w, (long) front << 32 | from)) {
        return (long) from << 32 | back;
      }
    }
  }

  /** The first item of a claim. */
  static int start(long claim) {
    return (int) (claim >>> 32);
  }

  /** The end (exclusive) of a claim. */
  static int end(long claim) {
    return (int) claim;
  }
}
