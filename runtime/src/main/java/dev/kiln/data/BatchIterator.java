package dev.kiln.data;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The batches of one epoch, in the order of that epoch's permutation. Returned batches share buffers
 * (see {@link Batch}); create one with {@link Batches#epoch(int)}.
 */
public final class BatchIterator implements Iterator<Batch> {
  private final Batches batches;
  private final int[] order;
  private final int count;
  private int next;

  BatchIterator(Batches batches, int[] order, int count) {
    this.batches = batches;
    this.order = order;
    this.count = count;
  }

  @Override
  public boolean hasNext() {
    return next < count;
  }

  @Override
  public Batch next() {
    if (!hasNext()) {
      throw new NoSuchElementException("epoch has only " + count + " batches");
    }
    return batches.fill(order, next++);
  }

  /** The number of batches in this epoch. */
  public int batchCount() {
    return count;
  }

  /** The 0-based index of the batch the next {@link #next()} returns. */
  public int nextIndex() {
    return next;
  }
}
