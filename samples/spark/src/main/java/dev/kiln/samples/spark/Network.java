package dev.kiln.samples.spark;

import dev.kiln.nn.SequentialModel;
import dev.kiln.samples.cli.CliValue;
import dev.kiln.samples.cli.DatasetName;

/**
 * The networks {@code kiln-cli train} trains, by the data set name it records in {@code model.safetensors},
 * with the input size and the pixel scale of their training data.
 */
enum Network implements CliValue {
  /** {@code DigitsNet}: 8x8 digits, pixel counts 0..16 divided by 16 (as {@code dev.kiln.data.Digits}). */
  DIGITS(DatasetName.DIGITS, 8, 16f),

  /** {@code FashionNet}: 28x28 Fashion-MNIST, bytes divided by 255 (as {@code dev.kiln.data.IdxDataset}). */
  FASHION_MNIST(DatasetName.FASHION_MNIST, 28, 255f);

  /** Classes both networks tell apart. */
  static final int CLASSES = 10;

  private final DatasetName dataset;
  private final int side;
  private final float pixelScale;

  Network(DatasetName dataset, int side, float pixelScale) {
    this.dataset = dataset;
    this.side = side;
    this.pixelScale = pixelScale;
  }

  /** A training-form network (weights to be loaded), as {@code kiln-cli} makes it. */
  SequentialModel newModel() {
    return dataset.newModel(0L);
  }

  /** The deploy form of a network made by {@link #newModel}. */
  SequentialModel fuse(SequentialModel model) {
    return dataset.fuse(model);
  }

  /** The data set name {@code kiln-cli} uses and records, e.g. {@code fashion-mnist}. */
  @Override
  public String cliName() {
    return dataset.cliName();
  }

  /** The {@code @Model} interface's simple name. */
  String networkName() {
    return dataset.networkName();
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
    return CliValue.byCliName(Network.class, name);
  }

  /** The accepted data set names: {@code digits, fashion-mnist}. */
  static String names() {
    return CliValue.cliNames(Network.class);
  }

  @Override
  public String toString() {
    return cliName();
  }
}
