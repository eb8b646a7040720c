package dev.kiln.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;

/**
 * The bundled default data set: the UCI "Optical Recognition of Handwritten Digits" 8x8 images (E. Alpaydin
 * and C. Kaynak, CC BY 4.0; the 1797-image copy shipped by scikit-learn, see {@code DIGITS-LICENSE.txt}
 * next to the resource). Samples have shape {@code {1, 8, 8}} with pixel counts 0..16 divided by 16;
 * labels are the digits 0..9. The first {@value #TRAIN_SIZE} rows are the training split, the remaining
 * {@value #TEST_SIZE} the test split.
 */
public final class Digits {
  /** Number of training images. */
  public static final int TRAIN_SIZE = 1500;
  /** Number of test images. */
  public static final int TEST_SIZE = 297;
  /** Image height and width. */
  public static final int SIDE = 8;
  /** Number of classes. */
  public static final int NUM_CLASSES = 10;

  private static final String RESOURCE = "digits.csv.gz";
  private static final int PIXELS = SIDE * SIDE;
  private static final int MAX_VALUE = 16;

  private static volatile InMemoryDataset all;

  private Digits() {}

  /** The first {@value #TRAIN_SIZE} images, pixels in {@code [0, 1]}. */
  public static InMemoryDataset train() {
    return all().subset(0, TRAIN_SIZE);
  }

  /** The last {@value #TEST_SIZE} images, pixels in {@code [0, 1]}. */
  public static InMemoryDataset test() {
    return all().subset(TRAIN_SIZE, TRAIN_SIZE + TEST_SIZE);
  }

  /** All {@value #TRAIN_SIZE} + {@value #TEST_SIZE} images in file order, pixels in {@code [0, 1]}. */
  public static InMemoryDataset all() {
    InMemoryDataset d = all;
    if (d == null) {
      try {
        d = parse();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the bundled " + RESOURCE, e);
      }
      all = d;
    }
    return d;
  }

  private static InMemoryDataset parse() throws IOException {
    int rows = TRAIN_SIZE + TEST_SIZE;
    float[] pixels = new float[rows * PIXELS];
    int[] labels = new int[rows];
    InputStream resource = Digits.class.getResourceAsStream(RESOURCE);
    if (resource == null) {
      throw new IOException("resource dev/kiln/data/" + RESOURCE + " is missing from the class path");
    }
    try (BufferedReader reader = new BufferedReader(
        new InputStreamReader(new GZIPInputStream(resource), StandardCharsets.US_ASCII))) {
      int row = 0;
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        if (line.isBlank()) {
          continue;
        }
        if (row == rows) {
          throw new IOException(RESOURCE + ": more than " + rows + " rows");
        }
        String[] fields = line.split(",", -1);
        if (fields.length != PIXELS + 1) {
          throw new IOException(RESOURCE + " row " + row + ": expected " + (PIXELS + 1) + " fields but found "
              + fields.length);
        }
        for (int i = 0; i < PIXELS; i++) {
          pixels[row * PIXELS + i] = field(fields[i], MAX_VALUE, row) / (float) MAX_VALUE;
        }
        labels[row] = field(fields[PIXELS], NUM_CLASSES - 1, row);
        row++;
      }
      if (row != rows) {
        throw new IOException(RESOURCE + ": expected " + rows + " rows but found " + row);
      }
    }
    return InMemoryDataset.of(pixels, labels, NUM_CLASSES, 1, SIDE, SIDE);
  }

  private static int field(String text, int max, int row) throws IOException {
    int v;
    try {
      v = Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      throw new IOException(RESOURCE + " row " + row + ": not an integer: '" + text + "'", e);
    }
    if (v < 0 || v > max) {
      throw new IOException(RESOURCE + " row " + row + ": value " + v + " outside [0, " + max + "]");
    }
    return v;
  }
}
