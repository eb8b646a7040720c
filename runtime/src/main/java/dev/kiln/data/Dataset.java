package dev.kiln.data;

/** A labelled classification data set held in memory: samples of a fixed shape and integer labels. */
public interface Dataset {
  /** Number of samples. */
  int size();

  /** Shape of one sample without the batch dimension, e.g. {@code {1, 28, 28}}. */
  int[] sampleShape();

  /** Number of classes; labels are in {@code [0, numClasses)}. */
  int numClasses();

  /** Copies sample {@code index} (row-major, {@code sampleShape}) into {@code dst} at {@code offset}. */
  void copySample(int index, float[] dst, int offset);

  /** The label of sample {@code index}. */
  int label(int index);
}
