package dev.kiln.samples.spark;

/** Which images of a data set with a training and a test split are read. */
enum Split {
  /** The training images. */
  TRAIN,
  /** The test images (what {@code kiln-cli eval} scores). */
  TEST,
  /** The training images, then the test images. */
  ALL;

  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
