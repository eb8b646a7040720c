package dev.kiln.samples.spark;

import dev.kiln.nn.Module;
import dev.kiln.tensor.Tensor;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.CollectionAccumulator;

/**
 * Scores one partition of {@link Images} rows with the JVM's fused network ({@link ExecutorModels}), a batch
 * of images per forward pass, and returns one prediction row per image, lazily and in input order.
 */
final class PartitionScorer implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;

  static final String PREDICTED = "predicted";
  static final String PROBABILITY = "probability";

  /** Prediction rows: the image's index and label, the predicted class and its softmax probability. */
  static final StructType SCHEMA = new StructType()
      .add(Images.INDEX, DataTypes.LongType, false)
      .add(Images.LABEL, DataTypes.IntegerType, true)
      .add(PREDICTED, DataTypes.IntegerType, false)
      .add(PROBABILITY, DataTypes.FloatType, false);

  private final Broadcast<ModelArtifact> model;
  private final int batchSize;
  private final int kilnThreads;
  private final CollectionAccumulator<String> engines;

  /**
   * Scores with {@code model}'s network, {@code batchSize} images per forward pass, on {@code kilnThreads}
   * threads; each task adds its JVM's convolution engine to {@code engines}.
   */
  PartitionScorer(Broadcast<ModelArtifact> model, int batchSize, int kilnThreads,
      CollectionAccumulator<String> engines) {
    this.model = model;
    this.batchSize = batchSize;
    this.kilnThreads = kilnThreads;
    this.engines = engines;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> images) {
    ModelArtifact artifact = model.value();
    Module network = ExecutorModels.fused(artifact, kilnThreads);
    engines.add(ExecutorModels.engine(network));
    return new Predictions(images, network, artifact.network(), batchSize);
  }

  /** Pulls a batch of images, runs the network once, hands out the batch's predictions. */
  private static final class Predictions implements Iterator<Row> {
    private final Iterator<Row> images;
    private final Module network;
    private final Network spec;
    private final int batchSize;
    private final int pixels;
    private final float scale;
    private final long[] indexes;
    private final Integer[] labels;
    private final int[] predicted;
    private final float[] probability;
    private int count;
    private int next;

    Predictions(Iterator<Row> images, Module network, Network spec, int batchSize) {
      this.images = images;
      this.network = network;
      this.spec = spec;
      this.batchSize = batchSize;
      this.pixels = spec.pixels();
      this.scale = spec.pixelScale();
      this.indexes = new long[batchSize];
      this.labels = new Integer[batchSize];
      this.predicted = new int[batchSize];
      this.probability = new float[batchSize];
    }

    @Override
    public boolean hasNext() {
      if (next == count && images.hasNext()) {
        scoreNextBatch();
      }
      return next < count;
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      int i = next++;
      return RowFactory.create(indexes[i], labels[i], predicted[i], probability[i]);
    }

    private void scoreNextBatch() {
      float[] input = new float[batchSize * pixels];
      int n = 0;
      while (n < batchSize && images.hasNext()) {
        readImage(images.next(), n, input);
        n++;
      }
      float[] batch = n == batchSize ? input : java.util.Arrays.copyOf(input, n * pixels);
      Tensor logits = network.forward(Tensor.of(batch, n, 1, spec.side(), spec.side()));
      float[] z = logits.data();
      int classes = logits.dim(1);
      for (int i = 0; i < n; i++) {
        int base = i * classes;
        int best = 0;
        for (int c = 1; c < classes; c++) {
          if (z[base + c] > z[base + best]) {
            best = c;
          }
        }
        double sum = 0;
        for (int c = 0; c < classes; c++) {
          sum += Math.exp((double) z[base + c] - z[base + best]);
        }
        predicted[i] = best;
        probability[i] = (float) (1 / sum);
      }
      count = n;
      next = 0;
    }

    private void readImage(Row row, int slot, float[] input) {
      if (row.isNullAt(0)) {
        throw new BadImageException("an image row has no index");
      }
      long index = row.getLong(0);
      if (row.isNullAt(2)) {
        throw new BadImageException("image " + index + " has no pixels");
      }
      byte[] bytes = (byte[]) row.get(2);
      if (bytes.length != pixels) {
        throw new BadImageException("image " + index + " has " + bytes.length + " bytes of pixels but "
            + spec.networkName() + " takes " + spec.side() + "x" + spec.side() + " = " + pixels);
      }
      int offset = slot * pixels;
      for (int p = 0; p < pixels; p++) {
        input[offset + p] = (bytes[p] & 0xff) / scale;
      }
      Integer label = row.isNullAt(1) ? null : row.getInt(1);
      if (label != null && (label < 0 || label >= Network.CLASSES)) {
        throw new BadImageException("image " + index + ": label " + label + " is not a class of "
            + spec.networkName() + " (0.." + (Network.CLASSES - 1) + ")");
      }
      indexes[slot] = index;
      labels[slot] = label;
    }
  }
}
