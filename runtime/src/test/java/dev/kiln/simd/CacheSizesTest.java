package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link CacheSizes}: Linux's cache descriptions, the property, the assumed size, and the rows-first threshold. */
class CacheSizesTest {
  private static final Path NO_CPUINFO = Path.of("/nonexistent/cpuinfo");

  /** The head of an AMD EPYC Zen 5 virtual machine's /proc/cpuinfo (two processors; flags shortened). */
  private static final String AMD_CPUINFO = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\n"
      + "model\t\t: 2\nmodel name\t: AMD EPYC\nstepping\t: 1\ncache size\t: 1024 KB\nphysical id\t: 0\n"
      + "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic avx512f\n\n"
      + "processor\t: 1\nvendor_id\t: AuthenticAMD\ncache size\t: 2048 KB\n\n";

  /** An Intel Xeon's, whose "cache size" is its level 3. */
  private static final String INTEL_CPUINFO = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n"
      + "model\t\t: 143\ncache size\t: 107520 KB\nflags\t\t: fpu vme avx512f\n\n";

  @Test
  void withoutSysfsAnAmdProcessorsCpuinfoCacheSizeIsItsLevelTwo(@TempDir Path dir) throws Exception {
    Path cpuinfo = Files.writeString(dir.resolve("cpuinfo"), AMD_CPUINFO);
    assertThat(CacheSizes.cpuinfoLevelTwo(cpuinfo)).isEqualTo(1024L * 1024);
    assertThat(CacheSizes.levelTwoBytes(null, dir.resolve("missing"), cpuinfo)).isEqualTo(1024L * 1024);
    // The property still decides, and a sysfs entry comes first.
    assertThat(CacheSizes.levelTwoBytes("768", dir.resolve("missing"), cpuinfo)).isEqualTo(768L * 1024);
    Path sys = Files.createDirectories(dir.resolve("sys"));
    entry(sys, 2, "2", "Unified", "2048K");
    assertThat(CacheSizes.levelTwoBytes(null, sys, cpuinfo)).isEqualTo(2048L * 1024);
  }

  @Test
  void anIntelProcessorsCpuinfoCacheSizeIsNotTaken(@TempDir Path dir) throws Exception {
    Path cpuinfo = Files.writeString(dir.resolve("cpuinfo"), INTEL_CPUINFO);
    assertThat(CacheSizes.cpuinfoLevelTwo(cpuinfo)).isEqualTo(-1L);
    assertThat(CacheSizes.levelTwoBytes(null, dir.resolve("missing"), cpuinfo))
        .isEqualTo(CacheSizes.ASSUMED_LEVEL_TWO_BYTES);
  }

  @Test
  void aCpuinfoWithoutAUsableCacheSizeGivesNothing(@TempDir Path dir) throws Exception {
    assertThat(CacheSizes.cpuinfoLevelTwo(NO_CPUINFO)).isEqualTo(-1L);
    String[] bad = {
      "vendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n",  // no cache size
      "vendor_id\t: AuthenticAMD\ncache size\t: lots\n",
      "vendor_id\t: AuthenticAMD\ncache size\t: 1024 MB\n",  // not the kernel's unit
      "vendor_id\t: AuthenticAMD\ncache size\t: 0 KB\n",
      "vendor_id\t: AuthenticAMD\n\ncache size\t: 1024 KB\n",  // the second processor's, not the first's
      "cache size\t: 1024 KB\n",  // no vendor
      "",
    };
    for (String text : bad) {
      Path cpuinfo = Files.writeString(dir.resolve("cpuinfo"), text);
      assertThat(CacheSizes.cpuinfoLevelTwo(cpuinfo)).isEqualTo(-1L);
    }
    assertThat(bad).hasLength(7);
    // Hygon's processors report as AMD's.
    Path hygon = Files.writeString(dir.resolve("hygon"), "vendor_id\t: HygonGenuine\ncache size\t: 512 KB\n");
    assertThat(CacheSizes.cpuinfoLevelTwo(hygon)).isEqualTo(512L * 1024);
  }

  @Test
  void aHugeCpuinfoIsReadOnlyToItsBound(@TempDir Path dir) throws Exception {
    // A cache size line past the bound is not seen; the read stops there.
    String text = "vendor_id\t: AuthenticAMD\nflags\t\t: " + "x ".repeat(CacheSizes.CPUINFO_BYTES)
        + "\ncache size\t: 1024 KB\n";
    Path cpuinfo = Files.writeString(dir.resolve("cpuinfo"), text);
    assertThat(CacheSizes.cpuinfoLevelTwo(cpuinfo)).isEqualTo(-1L);
  }
  @Test
  void readsTheLevelTwoEntryOfASysfsTree(@TempDir Path dir) throws Exception {
    entry(dir, 0, "1", "Data", "48K");
    entry(dir, 1, "1", "Instruction", "64K");
    entry(dir, 2, "2", "Unified", "2048K");
    entry(dir, 3, "3", "Unified", "491520K");
    assertThat(CacheSizes.levelTwo(dir)).isEqualTo(2048L * 1024);
    assertThat(CacheSizes.levelTwoBytes(null, dir, NO_CPUINFO)).isEqualTo(2048L * 1024);
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
    assertThat(CacheSizes.levelTwoBytes(null, dir.resolve("missing"), NO_CPUINFO))
        .isEqualTo(CacheSizes.ASSUMED_LEVEL_TWO_BYTES);
    entry(dir, 2, "2", "Unified", "lots");
    assertThat(CacheSizes.levelTwoBytes(null, dir, NO_CPUINFO)).isEqualTo(CacheSizes.ASSUMED_LEVEL_TWO_BYTES);
  }

  @Test
  void thePropertySetsItInKibWhereItIsAPositiveNumber(@TempDir Path dir) throws Exception {
    entry(dir, 2, "2", "Unified", "2048K");
    assertThat(CacheSizes.levelTwoBytes("1024", dir, NO_CPUINFO)).isEqualTo(1024L * 1024);
    assertThat(CacheSizes.levelTwoBytes(" 512 ", dir, NO_CPUINFO)).isEqualTo(512L * 1024);
    assertThat(CacheSizes.levelTwoBytes("0", dir, NO_CPUINFO)).isEqualTo(2048L * 1024);
    assertThat(CacheSizes.levelTwoBytes("-5", dir, NO_CPUINFO)).isEqualTo(2048L * 1024);
    assertThat(CacheSizes.levelTwoBytes("2MB", dir, NO_CPUINFO)).isEqualTo(2048L * 1024);
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
