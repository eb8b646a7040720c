package dev.kiln.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.ZipException;

/**
 * Loads image classification data in the IDX format of MNIST and Fashion-MNIST: an images file
 * ({@code idx3-ubyte}: count, height, width, then one unsigned byte per pixel) and a labels file
 * ({@code idx1-ubyte}: count, then one unsigned byte per label). Either file may be gzip-compressed
 * (recognized by its content, not its name).
 *
 * <p>Samples have shape {@code {1, height, width}}, pixels are scaled to {@code [0, 1]} and then
 * normalized, and there are {@value #NUM_CLASSES} classes. Every inconsistency in a file is an
 * {@link IOException} naming the file.
 *
 * <p>Loading is bounded: one load may allocate at most {@link #DEFAULT_MAX_BYTES} (1 GiB) unless the caller
 * passes another limit, counting 5 bytes per pixel and per label (the byte read and the value kept). The
 * sizes the headers declare are checked against the limit before anything is read for them, data is read
 * incrementally (a header that claims more than the file holds does not allocate its claim), and gzip is
 * decompressed as a stream: only the declared bytes are inflated, and a file whose gzip members are
 * followed by anything else (trailing garbage) is rejected.
 */
public final class IdxDataset {
  /** Number of classes of MNIST-style data sets; labels must be below it. */
  public static final int NUM_CLASSES = 10;

  private static final int UNSIGNED_BYTE = 0x08;
  /** The default limit on what one load may allocate: 1 GiB. */
  public static final long DEFAULT_MAX_BYTES = 1L << 30;

  private static final int UNSIGNED_BYTE_AND_FLOAT = 5;
  /** Largest data section we accept: the largest Java array. */
  private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

  private IdxDataset() {}

  /** Loads an images file and a labels file with pixels in {@code [0, 1]}. */
  public static InMemoryDataset load(Path images, Path labels) throws IOException {
    return load(images, labels, Normalization.NONE);
  }

  /**
   * Loads an images file and a labels file, scaling pixels to {@code [0, 1]} and then applying
   * {@code normalization}, within the default limit of {@link #DEFAULT_MAX_BYTES}.
   *
   * @throws IOException if a file cannot be read, is malformed or would take more than the limit (the message
   *     names the file and the problem)
   */
  public static InMemoryDataset load(Path images, Path labels, Normalization normalization) throws IOException {
    return load(images, labels, normalization, DEFAULT_MAX_BYTES);
  }

  /**
   * Loads as {@link #load(Path, Path, Normalization)} does, allocating at most {@code maxBytes} (5 bytes per
   * pixel and per label).
   *
   * @throws IllegalArgumentException if {@code maxBytes} is not positive
   * @throws IOException if a file cannot be read, is malformed or would take more than {@code maxBytes}
   */
  public static InMemoryDataset load(Path images, Path labels, Normalization normalization, long maxBytes)
      throws IOException {
    Bytes bytes = readBytes(images, labels, maxBytes);
    byte[] raw = bytes.pixels();
    float[] pixels = new float[raw.length];
    for (int i = 0; i < raw.length; i++) {
      pixels[i] = (raw[i] & 0xff) / 255f;
    }
    normalization.apply(pixels);
    return InMemoryDataset.of(pixels, bytes.labels(), NUM_CLASSES, 1, bytes.height(), bytes.width());
  }

  /**
   * The images and labels of an IDX pair as the files hold them: one unsigned byte per pixel, image after
   * image (the arrays are the reader's, not copies).
   *
   * @param pixels {@code count * height * width} bytes
   * @param labels {@code count} labels, each below {@link #NUM_CLASSES}
   */
  public record Bytes(byte[] pixels, int[] labels, int height, int width) {
    /** The number of images. */
    public int count() {
      return labels.length;
    }
  }

  /**
   * Reads an images file and a labels file as {@link #load(Path, Path, Normalization, long)} does, with the same
   * checks and limit, but keeps the pixels as the unsigned bytes they are: a quarter of the memory, and no
   * conversion for a caller that ships or stores images rather than training on them.
   *
   * @throws IllegalArgumentException if {@code maxBytes} is not positive
   * @throws IOException if a file cannot be read, is malformed or would take more than {@code maxBytes}
   */
  public static Bytes readBytes(Path images, Path labels, long maxBytes) throws IOException {
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be >= 1 but was " + maxBytes);
    }
    int[] labelValues = readLabels(labels, maxBytes);
    try (InputStream in = open(images)) {
      int[] dims = readHeader(in, images, 3, "images");
      int count = dims[0];
      int height = dims[1];
      int width = dims[2];
      // Each factor is below 2^31, so count x height cannot overflow a long, but a third factor can.
      long total = (long) count * height <= MAX_ARRAY ? (long) count * height * width : Long.MAX_VALUE;
      if (total > MAX_ARRAY) {
        throw new IOException(images + ": header declares " + count + " x " + height + " x " + width
            + " pixels, more than the supported maximum of " + MAX_ARRAY);
      }
      checkLimit(images, "pixels", total, labelValues.length, maxBytes);
      if (count != labelValues.length) {
        throw new IOException(images + " holds " + count + " images but " + labels + " holds "
            + labelValues.length + " labels");
      }
      return new Bytes(readData(in, images, (int) total, "pixel"), labelValues, height, width);
    }
  }

  /** {@code values} declared in {@code path} plus {@code before} already loaded must fit {@code maxBytes}. */
  private static void checkLimit(Path path, String what, long values, long before, long maxBytes)
      throws IOException {
    long bytes = (values + before) * UNSIGNED_BYTE_AND_FLOAT;
    if (bytes > maxBytes) {
      throw new IOException(path + ": header declares " + values + " " + what + ", which would take "
          + bytes + " bytes" + (before > 0 ? " with the labels" : "") + ", more than the load limit of " + maxBytes
          + " bytes (a caller can raise it: IdxDataset.load(images, labels, normalization, maxBytes))");
    }
  }

  /** Loads Fashion-MNIST from {@code dir} with pixels in {@code [0, 1]}; see {@link #fashionMnist(Path, boolean, Normalization)}. */
  public static InMemoryDataset fashionMnist(Path dir, boolean train) throws IOException {
    return fashionMnist(dir, train, Normalization.NONE);
  }

  /**
   * Loads the Fashion-MNIST (or MNIST) training or test split from {@code dir}, which holds the files
   * under their usual names: {@code train-images-idx3-ubyte.gz}, {@code train-labels-idx1-ubyte.gz},
   * {@code t10k-images-idx3-ubyte.gz}, {@code t10k-labels-idx1-ubyte.gz} (each also accepted without
   * the {@code .gz} suffix).
   *
   * @throws java.nio.file.NoSuchFileException if a file is missing (under neither name)
   * @throws IOException if a file cannot be read, is malformed or would take more than the default limit
   */
  public static InMemoryDataset fashionMnist(Path dir, boolean train, Normalization normalization)
      throws IOException {
    String prefix = train ? "train" : "t10k";
    return load(find(dir, prefix + "-images-idx3-ubyte"), find(dir, prefix + "-labels-idx1-ubyte"), normalization);
  }

  /**
   * The Fashion-MNIST (or MNIST) training or test split of {@code dir} (files named as for
   * {@link #fashionMnist(Path, boolean, Normalization)}) as bytes ({@link #readBytes}), within the default
   * limit.
   *
   * @throws java.nio.file.NoSuchFileException if a file is missing (under neither name)
   * @throws IOException if a file cannot be read, is malformed or would take more than the default limit
   */
  public static Bytes fashionMnistBytes(Path dir, boolean train) throws IOException {
    String prefix = train ? "train" : "t10k";
    return readBytes(find(dir, prefix + "-images-idx3-ubyte"), find(dir, prefix + "-labels-idx1-ubyte"),
        DEFAULT_MAX_BYTES);
  }

  private static Path find(Path dir, String name) throws IOException {
    Path gz = dir.resolve(name + ".gz");
    if (Files.isRegularFile(gz)) {
      return gz;
    }
    Path plain = dir.resolve(name);
    if (Files.isRegularFile(plain)) {
      return plain;
    }
    throw new NoSuchFileException("neither " + gz + " nor " + plain + " exists");
  }

  private static int[] readLabels(Path labels, long maxBytes) throws IOException {
    try (InputStream in = open(labels)) {
      int count = readHeader(in, labels, 1, "labels")[0];
      checkLimit(labels, "labels", count, 0, maxBytes);
      byte[] raw = readData(in, labels, count, "label");
      int[] values = new int[count];
      for (int i = 0; i < count; i++) {
        values[i] = raw[i] & 0xff;
        if (values[i] >= NUM_CLASSES) {
          throw new IOException(labels + ": label " + values[i] + " at index " + i + " is outside [0, "
              + NUM_CLASSES + ")");
        }
      }
      return values;
    }
  }

  /**
   * Opens {@code path}, decompressing on the fly if it starts with the gzip magic {@code 1f 8b} (see
   * {@link GzipMembers}).
   */
  private static InputStream open(Path path) throws IOException {
    InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16);
    try {
      in.mark(2);
      int b0 = in.read();
      int b1 = in.read();
      in.reset();
      if (b0 == 0x1f && b1 == 0x8b) {
        return new BufferedInputStream(new GzipMembers(in), 1 << 16);
      }
      return in;
    } catch (ZipException | EOFException e) {
      in.close();
      throw new IOException(path + ": corrupt or truncated gzip header: " + e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      in.close();
      throw e;
    }
  }

  /**
   * Reads the magic number and dimensions; checks the data type is unsigned byte, the dimension count is
   * {@code expectedDims} and every dimension is positive.
   */
  private static int[] readHeader(InputStream in, Path path, int expectedDims, String what) throws IOException {
    byte[] magic = readExactly(in, path, 4, "the 4-byte IDX magic number");
    if (magic[0] != 0 || magic[1] != 0) {
      throw new IOException(String.format(
          "%s: bad magic number %02x %02x %02x %02x: an IDX file starts with two zero bytes",
          path, magic[0] & 0xff, magic[1] & 0xff, magic[2] & 0xff, magic[3] & 0xff));
    }
    if ((magic[2] & 0xff) != UNSIGNED_BYTE) {
      throw new IOException(String.format(
          "%s: unsupported IDX data type 0x%02x, expected 0x08 (unsigned byte)", path, magic[2] & 0xff));
    }
    int dimCount = magic[3] & 0xff;
    if (dimCount != expectedDims) {
      throw new IOException(path + ": IDX " + what + " file must have " + expectedDims + " dimension"
          + (expectedDims == 1 ? "" : "s") + " but the header declares " + dimCount);
    }
    byte[] raw = readExactly(in, path, 4 * dimCount, "the " + dimCount + " dimension sizes");
    int[] dims = new int[dimCount];
    for (int i = 0; i < dimCount; i++) {
      int j = 4 * i;
      dims[i] = ((raw[j] & 0xff) << 24) | ((raw[j + 1] & 0xff) << 16) | ((raw[j + 2] & 0xff) << 8) | (raw[j + 3] & 0xff);
      if (dims[i] <= 0) {
        throw new IOException(path + ": dimension " + i + " is " + Integer.toUnsignedLong(dims[i])
            + ", expected a positive size below 2^31");
      }
    }
    return dims;
  }

  private static byte[] readExactly(InputStream in, Path path, int n, String what) throws IOException {
    byte[] b = readUpTo(in, path, n);
    if (b.length < n) {
      throw new IOException(path + ": truncated header: the file ends after " + b.length + " of the "
          + n + " bytes of " + what);
    }
    return b;
  }

  /** Reads the data section: exactly {@code n} bytes followed by the end of the file. */
  private static byte[] readData(InputStream in, Path path, int n, String what) throws IOException {
    byte[] data = readUpTo(in, path, n);
    if (data.length < n) {
      throw new IOException(path + ": truncated: the header declares " + n + " " + what
          + " bytes but the file holds only " + data.length);
    }
    int extra;
    try {
      extra = in.read();
    } catch (EOFException e) {
      throw new IOException(path + ": truncated gzip stream after the " + what + " data", e);
    } catch (ZipException e) {
      throw new IOException(path + ": corrupt gzip data: " + e.getMessage(), e);
    }
    if (extra != -1) {
      throw new IOException(path + ": unexpected data after the " + n + " " + what
          + " bytes the header declares (wrong file or wrong header?)");
    }
    return data;
  }

  /**
   * Reads up to {@code n} bytes; the buffer grows with the data actually read, so a header that claims
   * more than the file holds does not allocate its claim.
   */
  private static byte[] readUpTo(InputStream in, Path path, int n) throws IOException {
    try {
      return in.readNBytes(n);
    } catch (EOFException e) {
      throw new IOException(path + ": truncated gzip stream: " + e.getMessage(), e);
    } catch (ZipException e) {
      throw new IOException(path + ": corrupt gzip data: " + e.getMessage(), e);
    }
  }
}
