package dev.kiln.samples.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code --input}, {@code --data}, {@code --split}, {@code --partitions}: which images a command reads. */
final class InputOptions {
  @Option(names = "--input", paramLabel = "FORMAT", converter = SourceConverter.class,
      description = "digits (bundled), idx (Fashion-MNIST IDX files in --data) or parquet (images written by "
          + "'convert', at --data) (default: the model's data set: digits, or idx for fashion-mnist).")
  ImageSource source;

  @Option(names = "--data", paramLabel = "PATH",
      description = "The IDX directory (default: " + ImageSource.DEFAULT_IDX_DIR + ") or the Parquet file or "
          + "directory; any Hadoop path for Parquet.")
  String data;

  @Option(names = "--split", paramLabel = "SPLIT", defaultValue = "test", converter = SplitConverter.class,
      description = "digits and idx: train, test or all (train, then test) (default: ${DEFAULT-VALUE}).")
  Split split;

  @Option(names = "--partitions", paramLabel = "N",
      description = "Partitions (tasks) of the images (default: digits and idx 2 per core of the cluster; "
          + "Parquet as Spark splits the files).")
  Integer partitions;

  /** Checks the numbers given. */
  void validate(picocli.CommandLine commandLine) {
    if (partitions != null && partitions < 1) {
      throw new picocli.CommandLine.ParameterException(commandLine, "--partitions must be >= 1 but was "
          + partitions);
    }
  }

  /** The images, from {@code --input} or else {@code fallback}. */
  Dataset<Row> read(SparkSession spark, ImageSource fallback) {
    ImageSource s = source != null ? source : fallback;
    int n = partitions != null ? partitions
        : s == ImageSource.PARQUET ? 0 : 2 * spark.sparkContext().defaultParallelism();
    return s.read(spark, data, split, n);
  }

  /** A description of the input for reports, e.g. {@code idx /data/fashion (all)}. */
  String describe(ImageSource fallback) {
    ImageSource s = source != null ? source : fallback;
    return switch (s) {
      case DIGITS -> "digits (" + split + ")";
      case IDX -> "idx " + (data != null ? data : ImageSource.DEFAULT_IDX_DIR) + " (" + split + ")";
      case PARQUET -> "parquet " + data;
    };
  }

  /** Converts {@code --input} values. */
  static final class SourceConverter implements ITypeConverter<ImageSource> {
    @Override
    public ImageSource convert(String value) {
      ImageSource s = ImageSource.byCliName(value);
      if (s == null) {
        throw new TypeConversionException("unknown input '" + value + "', expected digits, idx or parquet");
      }
      return s;
    }
  }

  /** Converts {@code --split} values. */
  static final class SplitConverter implements ITypeConverter<Split> {
    @Override
    public Split convert(String value) {
      for (Split s : Split.values()) {
        if (s.toString().equals(value)) {
          return s;
        }
      }
      throw new TypeConversionException("unknown split '" + value + "', expected train, test or all");
    }
  }
}
