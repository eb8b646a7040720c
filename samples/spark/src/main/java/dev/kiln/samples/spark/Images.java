package dev.kiln.samples.spark;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The rows of an image {@code Dataset}: {@code index} (long, the image's position in its source),
 * {@code label} (int, nullable: unlabeled images are scored but not counted in the accuracy) and {@code pixels}
 * (binary: one unsigned byte per pixel, row-major, one channel), as the Parquet converter writes them and the
 * scoring job reads them. The bytes are turned into the network's inputs with the network's pixel scale.
 */
final class Images {
  static final String INDEX = "index";
  static final String LABEL = "label";
  static final String PIXELS = "pixels";

  /** The schema of image rows. */
  static final StructType SCHEMA = new StructType()
      .add(INDEX, DataTypes.LongType, false)
      .add(LABEL, DataTypes.IntegerType, true)
      .add(PIXELS, DataTypes.BinaryType, false);

  private Images() {}

  /**
   * Checks that {@code images} (read from {@code source}) has the three columns with usable types and returns
   * them in schema order ({@code index} widened to long; {@code label} may be missing, read as null).
   *
   * @throws JobException exit code 1 naming the column and its type otherwise
   */
  static Dataset<Row> conform(Dataset<Row> images, String source) {
    StructType schema = images.schema();
    List<String> problems = new ArrayList<>();
    DataType index = type(schema, INDEX);
    DataType label = type(schema, LABEL);
    DataType pixels = type(schema, PIXELS);
    if (index == null) {
      problems.add("no column '" + INDEX + "' (long)");
    } else if (!isIntegral(index)) {
      problems.add("column '" + INDEX + "' is " + index.simpleString() + ", expected long");
    }
    if (label != null && !isIntegral(label)) {
      problems.add("column '" + LABEL + "' is " + label.simpleString() + ", expected int");
    }
    if (pixels == null) {
      problems.add("no column '" + PIXELS + "' (binary)");
    } else if (!pixels.equals(DataTypes.BinaryType)) {
      problems.add("column '" + PIXELS + "' is " + pixels.simpleString() + ", expected binary");
    }
    if (!problems.isEmpty()) {
      throw new JobException(JobException.FAILURE, source + " does not hold images (columns index: long, "
          + "label: int, pixels: binary): " + String.join("; ", problems));
    }
    Column labelColumn = label == null ? functions.lit(null).cast(DataTypes.IntegerType)
        : functions.col(LABEL).cast(DataTypes.IntegerType);
    return images.select(functions.col(INDEX).cast(DataTypes.LongType).as(INDEX), labelColumn.as(LABEL),
        functions.col(PIXELS));
  }

  private static DataType type(StructType schema, String name) {
    for (StructField f : schema.fields()) {
      if (f.name().equals(name)) {
        return f.dataType();
      }
    }
    return null;
  }

  private static boolean isIntegral(DataType t) {
    return t.equals(DataTypes.LongType) || t.equals(DataTypes.IntegerType) || t.equals(DataTypes.ShortType)
        || t.equals(DataTypes.ByteType);
  }
}
