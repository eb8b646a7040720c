package dev.kiln.data;

import static com.google.common.truth.Truth.assertThat;
import static dev.kiln.data.IdxFiles.gzip;
import static dev.kiln.data.IdxFiles.idx;
import static dev.kiln.data.IdxFiles.images;
import static dev.kiln.data.IdxFiles.labels;
import static dev.kiln.data.IdxFiles.pixel;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxDatasetTest {
  @TempDir Path dir;

  private Path write(String name, byte[] content) throws IOException {
    return Files.write(dir.resolve(name), content);
  }

  private static void assertPattern(Dataset d, int n, int h, int w, Normalization norm) {
    assertThat(d.size()).isEqualTo(n);
    assertThat(d.sampleShape()).isEqualTo(new int[] {1, h, w});
    assertThat(d.numClasses()).isEqualTo(10);
    float[] sample = new float[h * w];
    int checked = 0;
    for (int i = 0; i < n; i++) {
      d.copySample(i, sample, 0);
      for (int r = 0; r < h; r++) {
        for (int c = 0; c < w; c++) {
          float expected = (pixel(i, r, c) / 255f - norm.mean()) / norm.std();
          assertThat(sample[r * w + c]).isWithin(1e-6f).of(expected);
          checked++;
        }
      }
    }
    assertThat(checked).isEqualTo(n * h * w);
  }

  @Test
  void loadsPlainAndGzipFilesAlike() throws IOException {
    int[] labelValues = {3, 0, 9, 1, 7};
    Path img = write("img", images(5, 6, 4));
    Path lbl = write("lbl", labels(labelValues));
    Path imgGz = write("img.gz", gzip(images(5, 6, 4)));
    Path lblGz = write("lbl.gz", gzip(labels(labelValues)));
    for (Path[] pair : new Path[][] {{img, lbl}, {imgGz, lblGz}, {img, lblGz}, {imgGz, lbl}}) {
      InMemoryDataset d = IdxDataset.load(pair[0], pair[1]);
      assertPattern(d, 5, 6, 4, Normalization.NONE);
      for (int i = 0; i < labelValues.length; i++) {
        assertThat(d.label(i)).isEqualTo(labelValues[i]);
      }
    }
  }

  @Test
  void pixelsCoverTheFullRangeZeroToOne() throws IOException {
    byte[] data = {0, (byte) 255, (byte) 128, 1};
    Path img = write("img", idx(0x08, new int[] {1, 2, 2}, data));
    InMemoryDataset d = IdxDataset.load(img, write("lbl", labels(4)));
    float[] s = new float[4];
    d.copySample(0, s, 0);
    assertThat(s).usingExactEquality().containsExactly(0f, 1f, 128 / 255f, 1 / 255f).inOrder();
  }

  @Test
  void normalizesAfterScaling() throws IOException {
    Normalization norm = new Normalization(0.25f, 0.5f);
    InMemoryDataset d = IdxDataset.load(write("img", images(4, 3, 3)), write("lbl", labels(1, 2, 3, 4)), norm);
    assertPattern(d, 4, 3, 3, norm);
    assertPattern(IdxDataset.load(dir.resolve("img"), dir.resolve("lbl")).normalized(Normalization.FASHION_MNIST),
        4, 3, 3, Normalization.FASHION_MNIST);
  }

  @Test
  void fashionMnistFindsStandardNamesCompressedOrNot() throws IOException {
    write("train-images-idx3-ubyte.gz", gzip(images(3, 2, 2)));
    write("train-labels-idx1-ubyte.gz", gzip(labels(5, 6, 7)));
    write("t10k-images-idx3-ubyte", images(2, 2, 2));
    write("t10k-labels-idx1-ubyte", labels(8, 9));
    InMemoryDataset train = IdxDataset.fashionMnist(dir, true);
    InMemoryDataset test = IdxDataset.fashionMnist(dir, false);
    assertPattern(train, 3, 2, 2, Normalization.NONE);
    assertPattern(test, 2, 2, 2, Normalization.NONE);
    assertThat(train.label(2)).isEqualTo(7);
    assertThat(test.label(0)).isEqualTo(8);
  }

  @Test
  void bytesAreThePixelsAsStoredWithTheSameLabels() throws IOException {
    byte[] raw = images(3, 2, 4);
    write("train-images-idx3-ubyte.gz", gzip(raw));
    write("train-labels-idx1-ubyte.gz", gzip(labels(5, 6, 7)));
    write("t10k-images-idx3-ubyte", images(2, 2, 4));
    write("t10k-labels-idx1-ubyte", labels(8, 9));

    IdxDataset.Bytes train = IdxDataset.fashionMnistBytes(dir, true);
    IdxDataset.Bytes test = IdxDataset.fashionMnistBytes(dir, false);
    InMemoryDataset loaded = IdxDataset.fashionMnist(dir, true);

    assertThat(train.count()).isEqualTo(3);
    assertThat(test.count()).isEqualTo(2);
    assertThat(new int[] {train.height(), train.width()}).isEqualTo(new int[] {2, 4});
    assertThat(train.labels()).isEqualTo(new int[] {5, 6, 7});
    assertThat(test.labels()).isEqualTo(new int[] {8, 9});
    assertThat(train.pixels()).isEqualTo(java.util.Arrays.copyOfRange(raw, raw.length - 24, raw.length));
    float[] sample = new float[8];
    for (int i = 0; i < 3; i++) {
      loaded.copySample(i, sample, 0);
      for (int p = 0; p < 8; p++) {
        assertThat(sample[p]).isEqualTo((train.pixels()[i * 8 + p] & 0xff) / 255f);
      }
    }
    assertThrows(IllegalArgumentException.class,
        () -> IdxDataset.readBytes(dir.resolve("t10k-images-idx3-ubyte"), dir.resolve("t10k-labels-idx1-ubyte"), 0));
  }

  /** A fixture written by Python's gzip module (tools/golden/make_idx_fixture.py). */
  @Test
  void readsFixtureWrittenByPython() throws IOException, URISyntaxException {
    Path images = Paths.get(getClass().getResource("tiny-images-idx3-ubyte.gz").toURI());
    Path labels = Paths.get(getClass().getResource("tiny-labels-idx1-ubyte").toURI());
    InMemoryDataset d = IdxDataset.load(images, labels);
    assertThat(d.size()).isEqualTo(3);
    assertThat(d.sampleShape()).isEqualTo(new int[] {1, 4, 5});
    assertThat(new int[] {d.label(0), d.label(1), d.label(2)}).isEqualTo(new int[] {7, 0, 9});
    float[] s = new float[20];
    for (int i = 0; i < 3; i++) {
      d.copySample(i, s, 0);
      for (int r = 0; r < 4; r++) {
        for (int c = 0; c < 5; c++) {
          assertThat(s[r * 5 + c]).isEqualTo(((i * 50 + r * 5 + c * 11) % 256) / 255f);
        }
      }
    }
  }

  /** One malformed input: the files to load and a fragment the error message must contain. */
  private record Case(String name, byte[] images, byte[] labels, String message) {}

  @Test
  void malformedFilesAreClearIoExceptions() throws IOException {
    byte[] goodImages = images(3, 2, 2);
    byte[] goodLabels = labels(1, 2, 3);
    byte[] truncatedPixels = Arrays.copyOf(goodImages, goodImages.length - 1);
    byte[] trailing = Arrays.copyOf(goodImages, goodImages.length + 2);
    byte[] corruptGzip = gzip(goodImages);
    for (int i = 12; i < corruptGzip.length - 8; i++) {
      corruptGzip[i] ^= (byte) 0x5a;
    }
    byte[] badCrc = gzip(goodImages);
    badCrc[badCrc.length - 6] ^= 1;
    List<Case> cases = new ArrayList<>();
    cases.add(new Case("bad magic", swap(goodImages, 0, 0x12), goodLabels, "bad magic number 12 00 08 03"));
    cases.add(new Case("float data", swap(goodImages, 2, 0x0D), goodLabels,
        "unsupported IDX data type 0x0d, expected 0x08"));
    cases.add(new Case("images with 2 dims", idx(0x08, new int[] {3, 4}, new byte[12]), goodLabels,
        "images file must have 3 dimensions but the header declares 2"));
    cases.add(new Case("labels with 3 dims", goodImages, idx(0x08, new int[] {3, 1, 1}, new byte[3]),
        "labels file must have 1 dimension but the header declares 3"));
    cases.add(new Case("truncated pixels", truncatedPixels, goodLabels,
        "truncated: the header declares 12 pixel bytes but the file holds only 11"));
    cases.add(new Case("truncated gzip pixels", Arrays.copyOf(gzip(goodImages), 25), goodLabels, "truncated"));
    cases.add(new Case("truncated labels", goodImages, Arrays.copyOf(goodLabels, goodLabels.length - 2),
        "the header declares 3 label bytes but the file holds only 1"));
    cases.add(new Case("count mismatch", goodImages, labels(1, 2), "holds 3 images but"));
    cases.add(new Case("label out of range", goodImages, labels(1, 10, 3), "label 10 at index 1 is outside [0, 10)"));
    cases.add(new Case("overflowing header", idx(0x08, new int[] {100_000, 100_000, 100_000}, new byte[8]),
        labels(new int[100_000]), "more than the supported maximum"));
    // Three dimensions of up to 2^31 - 1 overflow even a long: the product must not wrap round to a small count.
    cases.add(new Case("header overflowing a long", idx(0x08, new int[] {3, Integer.MAX_VALUE, Integer.MAX_VALUE},
        new byte[3]), goodLabels, "header declares 3 x 2147483647 x 2147483647 pixels, more than the supported "
            + "maximum of 2147483639"));
    cases.add(new Case("header of three largest dimensions", idx(0x08,
        new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE}, new byte[3]), goodLabels,
        "header declares 2147483647 x 2147483647 x 2147483647 pixels, more than the supported maximum"));
    cases.add(new Case("large header, tiny file", idx(0x08, new int[] {2000, 100, 100}, new byte[16]),
        labels(new int[2000]), "declares 20000000 pixel bytes but the file holds only 16"));
    cases.add(new Case("large header, tiny gzip", gzip(idx(0x08, new int[] {2000, 100, 100}, new byte[16])),
        gzip(labels(new int[2000])), "declares 20000000 pixel bytes but the file holds only 16"));
    cases.add(new Case("header beyond the limit", idx(0x08, new int[] {2000, 1000, 1000}, new byte[16]),
        labels(new int[2000]), "header declares 2000000000 pixels, which would take 10000010000 bytes with the "
            + "labels, more than the load limit of 1073741824 bytes"));
    cases.add(new Case("labels beyond the limit", goodImages, idx(0x08, new int[] {300_000_000}, new byte[3]),
        "header declares 300000000 labels, which would take 1500000000 bytes, more than the load limit"));
    cases.add(new Case("garbage after the gzip member", concat(gzip(goodImages), "garbage".getBytes()), goodLabels,
        "corrupt gzip data: trailing garbage: the bytes after a gzip member are not another gzip member"));
    cases.add(new Case("one byte after the gzip member", concat(gzip(goodImages), new byte[1]), goodLabels,
        "trailing garbage"));
    cases.add(new Case("garbage after the labels' gzip member", goodImages, concat(gzip(goodLabels), new byte[8]),
        "trailing garbage"));
    cases.add(new Case("header cut short", Arrays.copyOf(goodImages, 9), goodLabels,
        "truncated header: the file ends after 5 of the 12 bytes"));
    cases.add(new Case("empty file", new byte[0], goodLabels, "the file ends after 0 of the 4 bytes"));
    cases.add(new Case("zero dimension", idx(0x08, new int[] {3, 0, 2}, new byte[0]), goodLabels,
        "dimension 1 is 0"));
    cases.add(new Case("negative dimension", idx(0x08, new int[] {3, -1, 2}, new byte[0]), goodLabels,
        "dimension 1 is 4294967295"));
    cases.add(new Case("trailing data", trailing, goodLabels, "unexpected data after the 12 pixel bytes"));
    cases.add(new Case("corrupt gzip", corruptGzip, goodLabels, "gzip"));
    cases.add(new Case("bad gzip crc", badCrc, goodLabels, "corrupt gzip data"));
    cases.add(new Case("gzip header cut short", Arrays.copyOf(gzip(goodImages), 5), goodLabels,
        "corrupt or truncated gzip header"));
    cases.add(new Case("gzip of nothing", gzip(new byte[0]), goodLabels, "the file ends after 0 of the 4 bytes"));
    int checked = 0;
    for (Case c : cases) {
      Path img = write("img-" + checked, c.images());
      Path lbl = write("lbl-" + checked, c.labels());
      IOException e = assertThrows(IOException.class, () -> IdxDataset.load(img, lbl), c.name());
      assertThat(e).hasMessageThat().contains(c.message());
      assertThat(e).hasMessageThat().contains("-" + checked); // names the file
      checked++;
    }
    assertThat(checked).isEqualTo(28);
  }

  @Test
  void missingFashionMnistFilesNameBothCandidates() {
    IOException e = assertThrows(IOException.class, () -> IdxDataset.fashionMnist(dir, false));
    assertThat(e).hasMessageThat().contains("t10k-images-idx3-ubyte.gz");
    assertThat(e).hasMessageThat().contains("nor");
  }

  @Test
  void concatenatedGzipMembersAreOneStream() throws IOException {
    byte[] raw = images(3, 4, 5);
    byte[] twoMembers = concat(gzip(Arrays.copyOf(raw, 10)), gzip(Arrays.copyOfRange(raw, 10, raw.length)));
    InMemoryDataset d = IdxDataset.load(write("img.gz", twoMembers), write("lbl.gz",
        concat(gzip(new byte[0]), gzip(labels(1, 2, 3)))));
    assertPattern(d, 3, 4, 5, Normalization.NONE);
    assertThat(d.label(2)).isEqualTo(3);
  }

  /**
   * A 2 MB gzip whose IDX header declares 2,678,572 images of 28 x 28 (2.1 GB of pixels, all present: 126
   * members of 16 MB of zeros after the header's own member): refused from the header, before inflating.
   */
  @Test
  void aGzipBombIsRefusedFromItsHeader() throws IOException {
    int count = 2_678_572;
    long pixels = (long) count * 28 * 28;
    int block = 16 << 20;
    byte[] zeros = gzip(new byte[block]);
    Path img = dir.resolve("bomb-images.gz");
    try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(img), 1 << 20)) {
      out.write(gzip(idx(0x08, new int[] {count, 28, 28}, new byte[0])));
      for (long inflated = 0; inflated < pixels; inflated += block) {
        out.write(zeros);
      }
    }
    assertThat(Files.size(img)).isLessThan(2_200_000L);
    Path lbl = write("bomb-labels.gz", gzip(idx(0x08, new int[] {count}, new byte[count])));
    IOException e = assertThrows(IOException.class, () -> IdxDataset.load(img, lbl));
    assertThat(e).hasMessageThat().isEqualTo(img + ": header declares 2100000448 pixels, which would take "
        + "10513395100 bytes with the labels, more than the load limit of 1073741824 bytes (a caller can raise "
        + "it: IdxDataset.load(images, labels, normalization, maxBytes))");
  }

  @Test
  void theLimitCanBeLoweredAndRaised() throws IOException {
    Path img = write("img", images(4, 3, 3));
    Path lbl = write("lbl", labels(1, 2, 3, 4));
    long exact = 5 * (4 * 9 + 4);
    assertPattern(IdxDataset.load(img, lbl, Normalization.NONE, exact), 4, 3, 3, Normalization.NONE);
    IOException e = assertThrows(IOException.class, () -> IdxDataset.load(img, lbl, Normalization.NONE, exact - 1));
    assertThat(e).hasMessageThat().contains("more than the load limit of " + (exact - 1) + " bytes");
    assertThrows(IllegalArgumentException.class, () -> IdxDataset.load(img, lbl, Normalization.NONE, 0));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  private static byte[] swap(byte[] b, int index, int value) {
    byte[] c = b.clone();
    c[index] = (byte) value;
    return c;
  }

  /** The real Fashion-MNIST files (Debian's dataset-fashion-mnist), when installed. */
  @Test
  void realFashionMnistWhenInstalled() throws IOException {
    Path real = Paths.get("/usr/share/datasets/fashion-mnist");
    assumeTrue(Files.isRegularFile(real.resolve("t10k-images-idx3-ubyte.gz")), "Fashion-MNIST not installed");
    InMemoryDataset test = IdxDataset.fashionMnist(real, false);
    assertThat(test.size()).isEqualTo(10_000);
    assertThat(test.sampleShape()).isEqualTo(new int[] {1, 28, 28});
    int[] perClass = new int[10];
    for (int i = 0; i < test.size(); i++) {
      perClass[test.label(i)]++;
    }
    int[] expected = new int[10];
    Arrays.fill(expected, 1000);
    assertThat(perClass).isEqualTo(expected);
  }
}
