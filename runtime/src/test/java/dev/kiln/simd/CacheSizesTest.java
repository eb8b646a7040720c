package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link CacheSizes}: Linux's cache descriptions, the property, the assumed size, and the rows-first threshold. */
class CacheSizesTest {
  @Test
  void readsTheLevelTwoEntryOfASysfsTree(@TempDir Path dir) throws Exception {
    entry(dir, 0, "1", "Data", "48K");
    entry(dir, 1, "1", "Instruction", "64K");
    entry(dir, 2, "2", "Unified", "2048K");
    entry(dir, 3, "3", "Unified", "491520K");
    assertThat(CacheSizes.levelTwo(dir)).isEqualTo(2048L * 1024);
    assertThat(CacheSizes.levelTwoBytes(null, dir)).isEqualTo(2048L * 1024);
  }

  @Test
  void aLevelTwoDataCacheCountsAndAnInstructionOneDoesNot(@TempDir Path dir) throws Exception {
    entry(dir, 0, "2", "Instruction", "1M");
    assertThat(CacheSizes.levelTwo(dir)).isEqualTo(-1L);
    entry(dir, 1, "2", "Data", "1M");
    assertThat(CacheSizes.levelTwo(dir)).isEqualTo(1024L * 1024);
  }

  @Test
  void withoutADescriptionTheAssumedSize(@TempDir Path dir) throws Exception {
    assertThat(CacheSizes.levelTwo(dir.resolve("missing"))).isEqualTo(-1L);
    assertThat(CacheSizes.levelTwoBytes(null, dir.resolve("missing"))).isEqualTo(CacheSizes.ASSUMED_LEVEL_TWO_BYTES);
    entry(dir, 2, "2", "Unified", "lots");
    assertThat(CacheSizes.levelTwoBytes(null, dir)).isEqualTo(CacheSizes.ASSUMED_LEVEL_TWO_BYTES);
  }

  @Test
  void thePropertySetsItInKibWhereItIsAPositiveNumber(@TempDir Path dir) throws Exception {
    entry(dir, 2, "2", "Unified", "2048K");
    assertThat(CacheSizes.levelTwoBytes("1024", dir)).isEqualTo(1024L * 1024);
    assertThat(CacheSizes.levelTwoBytes(" 512 ", dir)).isEqualTo(512L * 1024);
    assertThat(CacheSizes.levelTwoBytes("0", dir)).isEqualTo(2048L * 1024);
    assertThat(CacheSizes.levelTwoBytes("-5", dir)).isEqualTo(2048L * 1024);
    assertThat(CacheSizes.levelTwoBytes("2MB", dir)).isEqualTo(2048L * 1024);
  }

  @Test
  void sizes() {
    assertThat(CacheSizes.size("48K")).isEqualTo(48L * 1024);
    assertThat(CacheSizes.size("1M")).isEqualTo(1024L * 1024);
    assertThat(CacheSizes.size("65536")).isEqualTo(65536L);
    assertThat(CacheSizes.size("2048k")).isEqualTo(2048L * 1024);
    assertThat(CacheSizes.size("")).isEqualTo(-1L);
    assertThat(CacheSizes.size(null)).isEqualTo(-1L);
    assertThat(CacheSizes.size("K")).isEqualTo(-1L);
    assertThat(CacheSizes.size("0K")).isEqualTo(-1L);
    assertThat(CacheSizes.size("99999999999M")).isEqualTo(-1L);
  }

  /** Rows first above half the level-2 cache, in floats. */
  @Test
  void theRowsFirstThresholdIsHalfTheLevelTwoCache() {
    assertThat(CacheSizes.LEVEL_TWO_BYTES).isGreaterThan(0L);
    assertThat((long) BlockedConv.ROWS_FIRST_INPUT_FLOATS).isEqualTo(CacheSizes.LEVEL_TWO_BYTES / 2 / Float.BYTES);
  }

  private static void entry(Path dir, int index, String level, String type, String size) throws Exception {
    Path e = Files.createDirectories(dir.resolve("index" + index));
    Files.write(e.resolve("level"), (level + "\n").getBytes(StandardCharsets.US_ASCII));
    Files.write(e.resolve("type"), (type + "\n").getBytes(StandardCharsets.US_ASCII));
    Files.write(e.resolve("size"), (size + "\n").getBytes(StandardCharsets.US_ASCII));
  }
}
