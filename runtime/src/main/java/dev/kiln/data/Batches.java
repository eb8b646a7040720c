package dev.kiln.data;

import dev.kiln.tensor.Tensor;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Cuts a {@link Dataset} into mini-batches, epoch after epoch, like PyTorch's {@code DataLoader}.
 *
 * <p>With shuffling, epoch {@code e} visits the samples in the order {@link #permutation(int, long, int)
 * permutation(size, seed, e)}: it depends only on the seed and the epoch number, so any epoch can be
 * replayed (or resumed) without replaying the ones before it. Without shuffling every epoch is in data
 * set order. Every batch has {@code batchSize} samples except possibly the last one, which holds the
 * remainder unless {@link #dropLast(boolean) dropLast} is set.
 *
 * <p>Batches reuse two buffers per instance (one for full batches, one for the partial last batch), so
 * an instance must not be iterated by two threads at once and a returned {@link Batch} is only valid
 * until the next one is requested.
 */
public final class Batches {
  private final Dataset data;
  private final int batchSize;
  private final boolean shuffle;
  private final long seed;
  private final boolean dropLast;
  private final int[] sampleShape;
  private final int sampleSize;
  private Batch full;
  private Batch partial;

  private Batches(Dataset data, int batchSize, boolean shuffle, long seed, boolean dropLast) {
    this.data = Objects.requireNonNull(data, "data");
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1 but was " + batchSize);
    }
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.seed = seed;
    this.dropLast = dropLast;
    this.sampleShape = data.sampleShape();
    long n = 1;
    for (int d : sampleShape) {
      n *= d;
    }
    if (n * batchSize > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("a batch of " + batchSize + " samples of shape "
          + Tensor.shapeString(sampleShape) + " has more than 2^31 elements");
    }
    this.sampleSize = (int) n;
  }

  /** Batches in data set order, last partial batch kept. */
  public static Batches sequential(Dataset data, int batchSize) {
    return new Batches(data, batchSize, false, 0L, false);
  }

  /** Batches in a fresh seeded permutation every epoch, last partial batch kept. */
  public static Batches shuffled(Dataset data, int batchSize, long seed) {
    return new Batches(data, batchSize, true, seed, false);
  }

  /** The same batching, but dropping ({@code true}) or keeping a last batch smaller than {@code batchSize}. */
  public Batches dropLast(boolean drop) {
    return new Batches(data, batchSize, shuffle, seed, drop);
  }

  /** The data set. */
  public Dataset dataset() {
    return data;
  }

  /** The size of every batch but possibly the last. */
  public int batchSize() {
    return batchSize;
  }

  /** Whether a last batch smaller than {@link #batchSize()} is dropped. */
  public boolean isDropLast() {
    return dropLast;
  }

  /** Whether epochs are shuffled. */
  public boolean isShuffled() {
    return shuffle;
  }

  /** Batches per epoch. */
  public int batchesPerEpoch() {
    int n = data.size();
    return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
  }

  /** Samples visited per epoch (the data set size, minus the dropped remainder if {@code dropLast}). */
  public int samplesPerEpoch() {
    return dropLast ? data.size() / batchSize * batchSize : data.size();
  }

  /** The batches of epoch {@code epoch} (0-based; it selects the permutation). */
  public BatchIterator epoch(int epoch) {
    if (epoch < 0) {
      throw new IllegalArgumentException("epoch must be >= 0 but was " + epoch);
    }
    int n = data.size();
    int[] order = shuffle ? permutation(n, seed, epoch) : identity(n);
    return new BatchIterator(this, order, batchesPerEpoch());
  }

  /** Fills the buffer for batch {@code index} of an epoch visiting samples in {@code order}. */
  Batch fill(int[] order, int index) {
    int start = index * batchSize;
    int size = Math.min(batchSize, order.length - start);
    Batch batch = buffer(size);
    float[] dst = batch.input().data();
    int[] labels = batch.labels();
    for (int i = 0; i < size; i++) {
      int sample = order[start + i];
      data.copySample(sample, dst, i * sampleSize);
      labels[i] = data.label(sample);
    }
    batch.setIndex(index);
    return batch;
  }

  private Batch buffer(int size) {
    if (size == batchSize) {
      if (full == null) {
        full = newBatch(size);
      }
      return full;
    }
    if (partial == null || partial.size() != size) {
      partial = newBatch(size);
    }
    return partial;
  }

  private Batch newBatch(int size) {
    int[] shape = new int[sampleShape.length + 1];
    shape[0] = size;
    System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
    return new Batch(Tensor.zeros(shape), new int[size]);
  }

  private static int[] identity(int n) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    return order;
  }

  /**
   * The visiting order of epoch {@code epoch}: a uniformly random permutation of {@code [0, n)}
   * (Fisher-Yates) drawn from a generator seeded with a mix of {@code seed} and {@code epoch}. The same
   * arguments always give the same permutation, on every JVM.
   */
  public static int[] permutation(int n, long seed, int epoch) {
    int[] order = identity(n);
    SplittableRandom random = new SplittableRandom(mix(seed, epoch));
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  /** SplitMix64's finalizer over the seed and epoch, so that nearby seeds and epochs give unrelated streams. */
  private static long mix(long seed, int epoch) {
    return dev.kiln.runtime.Seeds.mix(seed, epoch);
  }

  @Override
  public String toString() {
    return "Batches{" + data + ", batchSize=" + batchSize + ", shuffle=" + shuffle + ", seed=" + seed
        + ", dropLast=" + dropLast + "}";
  }
}
