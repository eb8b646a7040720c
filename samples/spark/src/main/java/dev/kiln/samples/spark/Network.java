package dev.kiln.samples.spark;

import dev.kiln.nn.SequentialModel;
import dev.kiln.samples.cli.DigitsNetModel;
import dev.kiln.samples.cli.FashionNetModel;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The networks {@code kiln-cli train} trains, by the data set name it records in {@code model.safetensors},
 * with the input size and the pixel scale of their training data.
 */
enum Network {
  /** {@code DigitsNet}: 8x8 digits, pixel counts 0..16 divided by 16 (as {@code dev.kiln.data.Digits}). */
  DIGITS("digits", "DigitsNet", 8, 16f) {
    @Override
    SequentialModel newModel() {
      return new DigitsNetModel(0L);
    }

    @Override
    SequentialModel fuse(SequentialModel model) {
      return ((DigitsNetModel) model).fuse();
    }
  },

  /** {@code FashionNet}: 28x28 Fashion-MNIST, bytes divided by 255 (as {@code dev.kiln.data.IdxDataset}). */
  FASHION_MNIST("fashion-mnist", "FashionNet", 28, 255f) {
    @Override
    SequentialModel newModel() {
      return new FashionNetModel(0L);
    }

    @Override
    SequentialModel fuse(SequentialModel model) {
      return ((FashionNetModel) model).fuse();
    }
  };

  /** Classes both networks tell apart. */
  static final int CLASSES = 10;

  private final String datasetName;
  private final String networkName;
  private final int side;
  private final float pixelScale;

  Network(String datasetName, String networkName, int side, float pixelScale) {
    this.datasetName = datasetName;
    this.networkName = networkName;
    this.side = side;
    this.pixelScale = pixelScale;
  }

  /** A training-form network (weights to be loaded). */
  abstract SequentialModel newModel();

  /** The deploy form of a network made by {@link #newModel}. */
  abstract SequentialModel fuse(SequentialModel model);

  /** The data set name {@code kiln-cli} uses and records, e.g. {@code fashion-mnist}. */
  String datasetName() {
    return datasetName;
  }

  /** The {@code @Model} interface's simple name. */
  String networkName() {
    return networkName;
  }

  /** Image height and width. */
  int side() {
    return side;
  }

  /** Bytes per image: one channel of {@code side x side}. */
  int pixels() {
    return side * side;
  }

  /** The network's input value of a pixel byte is {@code (byte & 0xff) / pixelScale}. */
  float pixelScale() {
    return pixelScale;
  }

  /** The network for data set {@code name}, or null. */
  static Network byDatasetName(String name) {
    for (Network n : values()) {
      if (n.datasetName.equals(name)) {
        return n;
      }
    }
    return null;
  }

  /** The accepted data set names: {@code digits, fashion-mnist}. */
  static String names() {
    return Arrays.stream(values()).map(Network::datasetName).collect(Collectors.joining(", "));
  }

  @Override
  public String toString() {
    return datasetName;
  }
}
