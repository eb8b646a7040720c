package dev.kiln.data;

import dev.kiln.tensor.Tensor;

/**
 * One mini-batch: inputs {@code [size, ...sampleShape]} and their labels. A {@link BatchIterator} reuses
 * its buffers, so a batch is only valid until the iterator's next {@code next()} call; copy what must
 * outlive that.
 */
public final class Batch {
  private final Tensor input;
  private final int[] labels;
  private int index;

  Batch(Tensor input, int[] labels) {
    this.input = input;
    this.labels = labels;
  }

  void setIndex(int index) {
    this.index = index;
  }

  /** The inputs, {@code [size, ...sampleShape]} (a reused buffer). */
  public Tensor input() {
    return input;
  }

  /** The labels, one per sample (a reused buffer, length {@link #size()}). */
  public int[] labels() {
    return labels;
  }

  /** The number of samples in this batch. */
  public int size() {
    return labels.length;
  }

  /** The 0-based position of this batch in its epoch. */
  public int index() {
    return index;
  }

  @Override
  public String toString() {
    return "Batch{index=" + index + ", input=" + Tensor.shapeString(input.shape()) + "}";
  }
}
