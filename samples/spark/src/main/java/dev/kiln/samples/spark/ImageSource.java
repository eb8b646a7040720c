package dev.kiln.samples.spark;

import dev.kiln.data.Digits;
import dev.kiln.data.IdxDataset;
import dev.kiln.data.InMemoryDataset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Where images come from: the bundled digits, Fashion-MNIST IDX files, or Parquet images. */
enum ImageSource {
  /** The 1,797 bundled 8x8 digits (1,500 train, 297 test), read on the driver. */
  DIGITS("digits") {
    @Override
    Dataset<Row> read(SparkSession spark, String location, Split split, int partitions) {
      InMemoryDataset data = switch (split) {
        case TRAIN -> Digits.train();
        case TEST -> Digits.test();
        case ALL -> Digits.all();
      };
      return fromDriver(spark, List.of(bytes(data, DIGITS_SCALE)), partitions);
    }
  },

  /**
   * Fashion-MNIST (or MNIST) IDX files in a directory, under their usual names ({@code .gz} or not), read on
   * the driver.
   */
  IDX("idx") {
    @Override
    Dataset<Row> read(SparkSession spark, String location, Split split, int partitions) {
      Path dir = Paths.get(location != null ? location : DEFAULT_IDX_DIR);
      if (!Files.isDirectory(dir)) {
        throw new JobException(JobException.USAGE, "data directory " + dir + " does not exist; it must hold "
            + "the IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
            + "t10k-labels-idx1-ubyte.gz)");
      }
      List<IdxDataset.Bytes> parts = new ArrayList<>();
      try {
        if (split != Split.TEST) {
          parts.add(IdxDataset.fashionMnistBytes(dir, true));
        }
        if (split != Split.TRAIN) {
          parts.add(IdxDataset.fashionMnistBytes(dir, false));
        }
      } catch (IOException e) {
        throw new JobException(JobException.FAILURE, "cannot read the IDX images in " + dir + ": "
            + e.getMessage(), e);
      }
      return fromDriver(spark, parts, partitions);
    }
  },

  /** Parquet image rows ({@link Images#SCHEMA}, as {@code convert} writes them), read by the executors. */
  PARQUET("parquet") {
    @Override
    Dataset<Row> read(SparkSession spark, String location, Split split, int partitions) {
      if (location == null) {
        throw new JobException(JobException.USAGE, "--input parquet needs --data PATH (a Parquet file or directory)");
      }
      requireExists(spark, location);
      Dataset<Row> images;
      try {
        images = Images.conform(spark.read().parquet(location), location);
      } catch (JobException e) {
        throw e;
      } catch (Exception e) { // Spark throws its checked SparkException undeclared
        throw new JobException(JobException.FAILURE, "cannot read Parquet images " + location + ": "
            + Failures.describe(e), e);
      }
      return partitions > 0 && partitions != images.rdd().getNumPartitions() ? images.repartition(partitions)
          : images;
    }
  };

  /** Where {@code --input idx} looks without {@code --data}. */
  static final String DEFAULT_IDX_DIR = "/usr/share/datasets/fashion-mnist";

  /** The digits hold pixel counts 0..16; {@code Digits} divides them by 16. */
  private static final float DIGITS_SCALE = 16f;

  private final String cliName;

  ImageSource(String cliName) {
    this.cliName = cliName;
  }

  /**
   * The images of {@code split} (ignored for Parquet) as rows of {@link Images#SCHEMA}, in {@code partitions}
   * partitions (0: for Parquet, as Spark reads the files).
   *
   * @param location the IDX directory or the Parquet path; null for the default
   * @throws JobException exit code 2 if the input does not exist, 1 if it cannot be read
   */
  abstract Dataset<Row> read(SparkSession spark, String location, Split split, int partitions);

  /** The name on the command line. */
  String cliName() {
    return cliName;
  }

  @Override
  public String toString() {
    return cliName;
  }

  /** The images of {@code data} as bytes again ({@code value * scale}, exact for the bundled digits). */
  private static IdxDataset.Bytes bytes(InMemoryDataset data, float scale) {
    int[] shape = data.sampleShape();
    int pixelsPerImage = shape[0] * shape[1] * shape[2];
    byte[] pixels = new byte[data.size() * pixelsPerImage];
    int[] labels = new int[data.size()];
    float[] sample = new float[pixelsPerImage];
    for (int i = 0; i < labels.length; i++) {
      data.copySample(i, sample, 0);
      for (int p = 0; p < pixelsPerImage; p++) {
        pixels[i * pixelsPerImage + p] = (byte) (int) (sample[p] * scale + 0.5f); // values are >= 0: rounds to nearest
      }
      labels[i] = data.label(i);
    }
    return new IdxDataset.Bytes(pixels, labels, shape[1], shape[2]);
  }

  /**
   * Images held by the driver as a {@code Dataset}, numbered in order across {@code parts}, in
   * {@code partitions} blocks of consecutive images (each block's bytes copied out of the parts as they are).
   */
  private static Dataset<Row> fromDriver(SparkSession spark, List<IdxDataset.Bytes> parts, int partitions) {
    int count = 0;
    for (IdxDataset.Bytes part : parts) {
      count += part.count();
    }
    int pixelsPerImage = parts.get(0).height() * parts.get(0).width();
    int blocks = Math.max(1, Math.min(partitions, count));
    List<ImageBlock> list = new ArrayList<>(blocks);
    int partIndex = 0;
    int inPart = 0;
    for (int b = 0; b < blocks; b++) {
      int start = (int) ((long) count * b / blocks);
      int end = (int) ((long) count * (b + 1) / blocks);
      int[] labels = new int[end - start];
      byte[] pixels = new byte[(end - start) * pixelsPerImage];
      for (int i = 0; i < labels.length; ) {
        while (inPart == parts.get(partIndex).count()) {
          partIndex++;
          inPart = 0;
        }
        IdxDataset.Bytes part = parts.get(partIndex);
        int n = Math.min(labels.length - i, part.count() - inPart);
        System.arraycopy(part.labels(), inPart, labels, i, n);
        System.arraycopy(part.pixels(), inPart * pixelsPerImage, pixels, i * pixelsPerImage, n * pixelsPerImage);
        i += n;
        inPart += n;
      }
      list.add(new ImageBlock(start, labels, pixels, pixelsPerImage));
    }
    JavaRDD<Row> rows = JavaSparkContext.fromSparkContext(spark.sparkContext())
        .parallelize(list, list.size())
        .flatMap(ImageBlock::rows);
    return spark.createDataFrame(rows, Images.SCHEMA);
  }

  private static void requireExists(SparkSession spark, String location) {
    org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(location);
    boolean exists;
    try {
      FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
      exists = fs.exists(path);
    } catch (IOException e) {
      throw new JobException(JobException.FAILURE, "cannot reach " + location + ": " + e.getMessage(), e);
    }
    if (!exists) {
      throw new JobException(JobException.USAGE, "input " + location + " does not exist");
    }
  }

  /** The source named {@code name} on the command line, or null. */
  static ImageSource byCliName(String name) {
    for (ImageSource s : values()) {
      if (s.cliName.equals(name)) {
        return s;
      }
    }
    return null;
  }
}
