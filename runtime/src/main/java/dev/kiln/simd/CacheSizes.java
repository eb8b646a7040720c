package dev.kiln.simd;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The size of one core's level-2 cache, which decides the order some layers run their work in ({@link
 * BlockedConv#rowsFirst(boolean, int, int)}): on Linux read once from {@code
 * /sys/devices/system/cpu/cpu0/cache/index*}, the entry of level 2 (unified or data); where that directory is
 * missing (some virtual machines have none) and the processor is AMD's or Hygon's, from {@code /proc/cpuinfo}'s
 * {@code cache size} ({@link #cpuinfoLevelTwo}); elsewhere, or where neither can be read, {@link
 * #ASSUMED_LEVEL_TWO_BYTES}. The system property {@code kiln.simd.levelTwoKiB} sets it (in KiB, for measuring or for
 * machines whose cache the JVM cannot see).
 */
final class CacheSizes {
  private CacheSizes() {}

  /** The level-2 cache assumed where none can be read: 512 KB, the AMD EPYC Zen 3's (the order was first chosen there). */
  static final long ASSUMED_LEVEL_TWO_BYTES = 512 * 1024;

  /** One core's level-2 cache in bytes. */
  static final long LEVEL_TWO_BYTES = levelTwoBytes(System.getProperty("kiln.simd.levelTwoKiB"),
      Path.of("/sys/devices/system/cpu/cpu0/cache"), Path.of("/proc/cpuinfo"));

  /** The most of {@code /proc/cpuinfo} read: its first processor's entry, its flags included, is about 2 KB. */
  static final int CPUINFO_BYTES = 16 * 1024;

  /**
   * The level-2 cache: {@code property} KiB where it is a positive whole number, else what {@link #levelTwo} reads
   * under {@code cacheDir}, else what {@link #cpuinfoLevelTwo} reads from {@code cpuinfo}, else {@link
   * #ASSUMED_LEVEL_TWO_BYTES}.
   */
  static long levelTwoBytes(String property, Path cacheDir, Path cpuinfo) {
    if (property != null) {
      try {
        long kib = Long.parseLong(property.trim());
        if (kib > 0 && kib <= Integer.MAX_VALUE) {
          return kib * 1024;
        }
      } catch (NumberFormatException e) {
        // Not a number: the machine's, as if unset.
      }
    }
    long read = levelTwo(cacheDir);
    if (read <= 0) {
      read = cpuinfoLevelTwo(cpuinfo);
    }
    return read > 0 ? read : ASSUMED_LEVEL_TWO_BYTES;
  }

  /**
   * The level-2 cache as Linux's {@code /proc/cpuinfo} gives it for AMD and Hygon processors (its first processor's
   * {@code vendor_id} {@code AuthenticAMD} or {@code HygonGenuine}): its {@code cache size} ({@code 1024 KB}), which
   * the kernel takes from CPUID leaf 0x80000006, one core's level 2; or -1. For other vendors the line is not read:
   * for Intel's processors the kernel puts the last-level cache there (the level 3, tens of MB). Reads at most
   * {@link #CPUINFO_BYTES}. On the AMD EPYC Zen 5 virtual machine this was found on, {@code
   * /sys/devices/system/cpu/cpu0/cache} is missing and {@code /proc/cpuinfo} says 1024 KB: with the assumed 512 KB
   * MobileNet v1's 512->512 14x14 layers (400 KB maps) ran row by row, 4% slower over the network.
   */
  static long cpuinfoLevelTwo(Path cpuinfo) {
    String text;
    try (InputStream in = Files.newInputStream(cpuinfo)) {
      text = new String(in.readNBytes(CPUINFO_BYTES), StandardCharsets.US_ASCII);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    String vendor = null;
    String size = null;
    for (String line : text.split("\n")) {
      if (line.isBlank()) {
        break;  // the end of the first processor's entry
      }
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String key = line.substring(0, colon).trim();
      String value = line.substring(colon + 1).trim();
      if (key.equals("vendor_id") && vendor == null) {
        vendor = value;
      } else if (key.equals("cache size") && size == null) {
        size = value;
      }
    }
    if (size == null || !("AuthenticAMD".equals(vendor) || "HygonGenuine".equals(vendor))) {
      return -1;
    }
    // "1024 KB": the kernel prints kilobytes.
    String[] parts = size.split("\\s+");
    if (parts.length != 2 || !parts[1].equalsIgnoreCase("KB")) {
      return -1;
    }
    return size(parts[0] + "K");
  }

  /**
   * The size of the level-2 unified or data cache described under {@code cacheDir} (Linux's {@code index*}
   * directories, each with {@code level}, {@code type} and {@code size} files), or -1 where there is none or it cannot
   * be read.
   */
  static long levelTwo(Path cacheDir) {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(cacheDir, "index*")) {
      for (Path entry : entries) {
        String type = read(entry.resolve("type"));
        if ("2".equals(read(entry.resolve("level"))) && ("Unified".equals(type) || "Data".equals(type))) {
          return size(read(entry.resolve("size")));
        }
      }
    } catch (IOException | RuntimeException e) {
      // No such directory (not Linux), not readable, or not as expected: unknown.
    }
    return -1;
  }

  /** A sysfs size ({@code 2048K}, {@code 1M}, or bytes) in bytes, or -1 if it is none of those. */
  static long size(String text) {
    if (text == null || text.isEmpty()) {
      return -1;
    }
    String t = text.toUpperCase(Locale.ROOT);
    long unit = 1;
    if (t.endsWith("K")) {
      unit = 1024;
    } else if (t.endsWith("M")) {
      unit = 1024 * 1024;
    }
    String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
    try {
      long n = Long.parseLong(digits);
      return n > 0 && n <= Integer.MAX_VALUE ? n * unit : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * A small file's text, trimmed (at most its first 64 bytes: sysfs reports 4,096 bytes for every attribute), or null
   * if it is missing.
   */
  private static String read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try (InputStream in = Files.newInputStream(file)) {
      return new String(in.readNBytes(64), StandardCharsets.US_ASCII).trim();
    }
  }
}
