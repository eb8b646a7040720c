package dev.kiln.data;

import static com.google.common.truth.Truth.assertThat;

import org.junit.jupiter.api.Test;

/** Expected values are rows and class counts of sklearn's digits.csv.gz, read with zcat/awk. */
class DigitsTest {
  /** Row 1 of the csv (label last). */
  private static final int[] FIRST_ROW = {
      0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8, 8, 0,
      0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0, 0};
  /** Row 1501 of the csv: the first test image. */
  private static final int[] FIRST_TEST_ROW = {
      0, 0, 0, 3, 12, 12, 2, 0, 0, 0, 7, 15, 16, 16, 0, 0, 0, 4, 15, 9, 14, 16, 3, 0, 0, 2, 0, 0, 14, 16, 0, 0,
      0, 0, 0, 0, 14, 16, 0, 0, 0, 0, 0, 0, 15, 13, 0, 0, 0, 0, 0, 0, 16, 14, 1, 0, 0, 0, 0, 3, 16, 13, 2, 0, 1};
  /** Row 1797 of the csv: the last test image. */
  private static final int[] LAST_ROW = {
      0, 0, 10, 14, 8, 1, 0, 0, 0, 2, 16, 14, 6, 1, 0, 0, 0, 0, 15, 15, 8, 15, 0, 0, 0, 0, 5, 16, 16, 10, 0, 0,
      0, 0, 12, 15, 15, 12, 0, 0, 0, 4, 16, 6, 4, 16, 6, 0, 0, 8, 16, 10, 8, 16, 8, 0, 0, 1, 8, 12, 14, 12, 1, 0, 8};
  private static final int[] TRAIN_CLASS_COUNTS = {151, 151, 150, 153, 148, 152, 151, 149, 146, 149};
  private static final int[] TEST_CLASS_COUNTS = {27, 31, 27, 30, 33, 30, 30, 30, 28, 31};

  @Test
  void splitsAndShapes() {
    InMemoryDataset train = Digits.train();
    InMemoryDataset test = Digits.test();
    assertThat(train.size()).isEqualTo(1500);
    assertThat(test.size()).isEqualTo(297);
    assertThat(Digits.all().size()).isEqualTo(1797);
    assertThat(train.sampleShape()).isEqualTo(new int[] {1, 8, 8});
    assertThat(test.sampleShape()).isEqualTo(new int[] {1, 8, 8});
    assertThat(train.numClasses()).isEqualTo(10);
  }

  @Test
  void rowsMatchTheCsv() {
    assertRow(Digits.train(), 0, FIRST_ROW);
    assertRow(Digits.test(), 0, FIRST_TEST_ROW);
    assertRow(Digits.test(), 296, LAST_ROW);
    assertRow(Digits.all(), 1500, FIRST_TEST_ROW);
  }

  private static void assertRow(Dataset d, int index, int[] row) {
    float[] s = new float[64];
    d.copySample(index, s, 0);
    for (int i = 0; i < 64; i++) {
      assertThat(s[i]).isEqualTo(row[i] / 16f);
    }
    assertThat(d.label(index)).isEqualTo(row[64]);
  }

  @Test
  void labelsAndPixelsInRange() {
    assertThat(classCounts(Digits.train())).isEqualTo(TRAIN_CLASS_COUNTS);
    assertThat(classCounts(Digits.test())).isEqualTo(TEST_CLASS_COUNTS);
    Dataset all = Digits.all();
    float[] s = new float[64];
    float min = Float.MAX_VALUE;
    float max = -Float.MAX_VALUE;
    for (int i = 0; i < all.size(); i++) {
      all.copySample(i, s, 0);
      for (float v : s) {
        min = Math.min(min, v);
        max = Math.max(max, v);
        assertThat(v * 16f).isEqualTo((float) Math.rint(v * 16f)); // k/16 exactly
      }
    }
    assertThat(min).isEqualTo(0f);
    assertThat(max).isEqualTo(1f);
  }

  private static int[] classCounts(Dataset d) {
    int[] counts = new int[d.numClasses()];
    for (int i = 0; i < d.size(); i++) {
      counts[d.label(i)]++;
    }
    return counts;
  }

  @Test
  void splitsAreCopiesThatDoNotShareState() {
    InMemoryDataset a = Digits.train();
    float[] s = new float[64];
    a.copySample(0, s, 0);
    s[0] = 42f;
    float[] again = new float[64];
    Digits.train().copySample(0, again, 0);
    assertThat(again[0]).isEqualTo(0f);
  }

  @Test
  void licenseFileShipsNextToTheData() {
    assertThat(Digits.class.getResource("digits.csv.gz")).isNotNull();
    assertThat(Digits.class.getResource("DIGITS-LICENSE.txt")).isNotNull();
  }
}
