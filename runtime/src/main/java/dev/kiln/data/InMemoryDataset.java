package dev.kiln.data;

import java.util.Arrays;
import java.util.Objects;

/**
 * A {@link Dataset} backed by one {@code float} array of samples (row-major, sample after sample) and an
 * {@code int} array of labels.
 */
public final class InMemoryDataset implements Dataset {
  private final float[] samples;
  private final int[] labels;
  private final int[] sampleShape;
  private final int sampleSize;
  private final int numClasses;

  private InMemoryDataset(float[] samples, int[] labels, int numClasses, int[] sampleShape, int sampleSize) {
    this.samples = samples;
    this.labels = labels;
    this.numClasses = numClasses;
    this.sampleShape = sampleShape;
    this.sampleSize = sampleSize;
  }

  /**
   * A data set over {@code samples} and {@code labels} (not copied: do not modify them afterwards).
   *
   * @param samples {@code labels.length * product(sampleShape)} values, sample after sample
   * @param labels one label per sample, each in {@code [0, numClasses)}
   * @throws IllegalArgumentException if the sizes disagree, a dimension is not positive or a label is out of range
   */
  public static InMemoryDataset of(float[] samples, int[] labels, int numClasses, int... sampleShape) {
    Objects.requireNonNull(samples, "samples");
    Objects.requireNonNull(labels, "labels");
    if (numClasses < 1) {
      throw new IllegalArgumentException("numClasses must be >= 1 but was " + numClasses);
    }
    int[] shape = sampleShape.clone();
    long size = 1;
    for (int d : shape) {
      if (d < 1) {
        throw new IllegalArgumentException("sample shape " + Arrays.toString(shape) + " has a dimension < 1");
      }
      size *= d;
      if (size > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("sample shape " + Arrays.toString(shape) + " is too large");
      }
    }
    if ((long) labels.length * size != samples.length) {
      throw new IllegalArgumentException(labels.length + " samples of shape " + Arrays.toString(shape)
          + " need " + (long) labels.length * size + " values but got " + samples.length);
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= numClasses) {
        throw new IllegalArgumentException(
            "label " + labels[i] + " of sample " + i + " is outside [0, " + numClasses + ")");
      }
    }
    return new InMemoryDataset(samples, labels, numClasses, shape, (int) size);
  }

  /** A copy of samples {@code [from, to)}. */
  public InMemoryDataset subset(int from, int to) {
    Objects.checkFromToIndex(from, to, labels.length);
    float[] s = Arrays.copyOfRange(samples, from * sampleSize, to * sampleSize);
    return new InMemoryDataset(s, Arrays.copyOfRange(labels, from, to), numClasses, sampleShape, sampleSize);
  }

  /** A copy with every value normalized by {@code normalization}. */
  public InMemoryDataset normalized(Normalization normalization) {
    float[] s = samples.clone();
    normalization.apply(s);
    return new InMemoryDataset(s, labels, numClasses, sampleShape, sampleSize);
  }

  @Override
  public int size() {
    return labels.length;
  }

  @Override
  public int[] sampleShape() {
    return sampleShape.clone();
  }

  @Override
  public int numClasses() {
    return numClasses;
  }

  @Override
  public void copySample(int index, float[] dst, int offset) {
    Objects.checkIndex(index, labels.length);
    System.arraycopy(samples, index * sampleSize, dst, offset, sampleSize);
  }

  @Override
  public int label(int index) {
    return labels[index];
  }

  @Override
  public String toString() {
    return "InMemoryDataset{size=" + labels.length + ", sampleShape=" + Arrays.toString(sampleShape)
        + ", numClasses=" + numClasses + "}";
  }
}
