package dev.kiln.samples.spark;

import java.io.Serializable;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Consecutive images read on the driver, shipped to a task as one object (two arrays serialize far faster
 * than thousands of rows) and expanded there into {@link Images} rows.
 */
final class ImageBlock implements Serializable {
  private static final long serialVersionUID = 1L;

  private final long firstIndex;
  private final int[] labels;
  private final byte[] pixels;
  private final int pixelsPerImage;

  /** Images {@code firstIndex, firstIndex + 1, ...}: {@code labels.length} of them, {@code pixelsPerImage} bytes each. */
  ImageBlock(long firstIndex, int[] labels, byte[] pixels, int pixelsPerImage) {
    if ((long) labels.length * pixelsPerImage != pixels.length) {
      throw new IllegalArgumentException(labels.length + " images of " + pixelsPerImage + " bytes need "
          + (long) labels.length * pixelsPerImage + " bytes but got " + pixels.length);
    }
    this.firstIndex = firstIndex;
    this.labels = labels;
    this.pixels = pixels;
    this.pixelsPerImage = pixelsPerImage;
  }

  /** The number of images. */
  int size() {
    return labels.length;
  }

  /** The images as rows of {@link Images#SCHEMA}. */
  Iterator<Row> rows() {
    return new Iterator<>() {
      private int next;

      @Override
      public boolean hasNext() {
        return next < labels.length;
      }

      @Override
      public Row next() {
        if (next >= labels.length) {
          throw new NoSuchElementException();
        }
        int i = next++;
        byte[] image = new byte[pixelsPerImage];
        System.arraycopy(pixels, i * pixelsPerImage, image, 0, pixelsPerImage);
        return RowFactory.create(firstIndex + i, labels[i], image);
      }
    };
  }
}
