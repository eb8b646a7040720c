package dev.kiln.samples.cli;

import dev.kiln.data.Digits;
import dev.kiln.data.IdxDataset;
import dev.kiln.data.InMemoryDataset;
import dev.kiln.nn.SequentialModel;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.function.Function;
import java.util.function.LongFunction;

/**
 * The data sets the command line trains on, each with its network and default epoch count; public for the
 * other samples that load the networks {@code kiln-cli train} trains ({@link #newModel(long)}, {@link #fuse}).
 */
public enum DatasetName implements CliValue {
  /** The bundled 1797 8x8 digits (1500 train, 297 test), {@link DigitsNet} or {@link DigitsNetBlockDropout}. */
  DIGITS(10, "DigitsNet", dataDir -> new Split(Digits.train(), Digits.test()),
      new Generated<>(DigitsNetModel.class, DigitsNetModel::new, DigitsNetModel::fuse),
      new Generated<>(DigitsNetBlockDropoutModel.class, DigitsNetBlockDropoutModel::new,
          DigitsNetBlockDropoutModel::fuse)),

  /**
   * Fashion-MNIST from IDX files (60000 train, 10000 test, 28x28), {@link FashionNet} or
   * {@link FashionNetBlockDropout}.
   */
  FASHION_MNIST(3, "FashionNet", DatasetName::loadFashionMnist,
      new Generated<>(FashionNetModel.class, FashionNetModel::new, FashionNetModel::fuse),
      new Generated<>(FashionNetBlockDropoutModel.class, FashionNetBlockDropoutModel::new,
          FashionNetBlockDropoutModel::fuse));

  /** Loads Fashion-MNIST from the IDX files in {@code dataDir} (null: {@link #DEFAULT_FASHION_DIR}). */
  private static Split loadFashionMnist(Path dataDir) {
    Path dir = dataDir != null ? dataDir : DEFAULT_FASHION_DIR;
    InputFiles.requireDirectory("data directory", dir, "; --data DIR must hold the Fashion-MNIST IDX files "
        + "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
        + "t10k-labels-idx1-ubyte.gz)");
    Split split;
    try {
      split = new Split(IdxDataset.fashionMnist(dir, true), IdxDataset.fashionMnist(dir, false));
    } catch (NoSuchFileException e) {
      throw new CliException(CliException.USAGE, "cannot load fashion-mnist from " + dir + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new CliException(CliException.FAILURE, "cannot load fashion-mnist from " + dir + ": " + e.getMessage(),
          e);
    }
    FASHION_MNIST.requireImageShape(dir, "training", split.train(), 28, 28);
    FASHION_MNIST.requireImageShape(dir, "test", split.test(), 28, 28);
    return split;
  }

  /** The images of {@code data} must be {@code height x width} (with one channel), as the network takes them. */
  void requireImageShape(Path dir, String which, InMemoryDataset data, int height, int width) {
    int[] shape = data.sampleShape();
    if (shape.length != 3 || shape[0] != 1 || shape[1] != height || shape[2] != width) {
      throw new CliException(CliException.FAILURE, "the " + which + " images in " + dir + " are " + shape[1] + " x "
          + shape[2] + ", but " + cliName() + " images are " + height + " x " + width + " (" + networkName
          + " takes no other size)");
    }
  }

  /** Where {@code --dataset fashion-mnist} looks without {@code --data}. */
  static final Path DEFAULT_FASHION_DIR = Paths.get("/usr/share/datasets/fashion-mnist");

  private final int defaultEpochs;
  private final String networkName;
  private final Function<Path, Split> loader;
  private final Generated<?> headDropout;
  private final Generated<?> blockDropout;

  /**
   * @param loader loads the data from a directory (null for the default location)
   * @param headDropout the network with dropout before the classifier only
   * @param blockDropout the network with dropout after every RepVGG block as well
   */
  DatasetName(int defaultEpochs, String networkName, Function<Path, Split> loader,
      Generated<?> headDropout, Generated<?> blockDropout) {
    this.defaultEpochs = defaultEpochs;
    this.networkName = networkName;
    this.loader = loader;
    this.headDropout = headDropout;
    this.blockDropout = blockDropout;
  }

  /**
   * The class the processor generates for one of the data set's {@code @Model} interfaces: how to make a
   * training network of it and how to fuse one.
   */
  private record Generated<M extends SequentialModel>(Class<M> type, LongFunction<M> create,
      Function<M, SequentialModel> fuse) {
    /** The deploy form of {@code model}, which must be of {@link #type}. */
    SequentialModel fuseModel(SequentialModel model) {
      return fuse.apply(type.cast(model));
    }
  }

  /** The training and test sets. */
  record Split(InMemoryDataset train, InMemoryDataset test) {
    /**
     * This split with the first {@code n} training samples only, in file order (as the recipe's
     * {@code first(split, n)}); the test set is unchanged.
     *
     * @throws IndexOutOfBoundsException unless {@code 0 <= n <= train().size()}
     */
    Split withTrainSamples(int n) {
      return new Split(train.subset(0, n), test);
    }
  }

  /** A new training-form network (dropout before the classifier only) initialized from {@code seed}. */
  public SequentialModel newModel(long seed) {
    return newModel(DropoutAt.HEAD, seed);
  }

  /** A new training-form network with dropout at {@code dropoutAt}, initialized from {@code seed}. */
  SequentialModel newModel(DropoutAt dropoutAt, long seed) {
    return (dropoutAt == DropoutAt.BLOCKS ? blockDropout : headDropout).create().apply(seed);
  }

  /** The deploy form of a network made by {@link #newModel}. */
  public SequentialModel fuse(SequentialModel model) {
    return (blockDropout.type().isInstance(model) ? blockDropout : headDropout).fuseModel(model);
  }

  /**
   * Loads the data; {@code dataDir} may be null for the default location.
   *
   * @throws CliException exit code 2 if the files are missing, 1 if they are malformed
   */
  Split load(Path dataDir) {
    return loader.apply(dataDir);
  }

  /** Epochs when {@code --epochs} is not given. */
  int defaultEpochs() {
    return defaultEpochs;
  }

  /** The {@code @Model} interface's simple name (dropout before the classifier only). */
  public String networkName() {
    return networkName;
  }

  /** The simple name of the {@code @Model} interface with dropout at {@code dropoutAt}. */
  String networkName(DropoutAt dropoutAt) {
    return dropoutAt == DropoutAt.BLOCKS ? networkName + "BlockDropout" : networkName;
  }

  /** {@link #cliName()}, as messages show the data set. */
  @Override
  public String toString() {
    return cliName();
  }

  /** Converts {@code --dataset} values and lists them in {@code --help}. */
  static final class Names extends CliValue.Names<DatasetName> {
    Names() {
      super(DatasetName.class, "data set");
    }
  }
}
