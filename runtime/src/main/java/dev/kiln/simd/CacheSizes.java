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
 * /sys/devices/system/cpu/cpu0/cache/index*}, the entry of level 2 (unified or data); elsewhere, or where that
 * cannot be read, {@link #ASSUMED_LEVEL_TWO_BYTES}. The system property {@code kiln.simd.levelTwoKiB} sets it (in
 * KiB, for measuring or for machines whose cache the JVM cannot see).
 */
final class CacheSizes {
  private CacheSizes() {}

  /** The level-2 cache assumed where none can be read: 512 KB, the AMD EPYC Zen 3's (the order was first chosen there). */
  static final long ASSUMED_LEVEL_TWO_BYTES = 512 * 1024;

  /** One core's level-2 cache in bytes. */
  static final long LEVEL_TWO_BYTES = levelTwoBytes(System.getProperty("kiln.simd.levelTwoKiB"),
      Path.of("/sys/devices/system/cpu/cpu0/cache"));

  /**
   * The level-2 cache: {@code property} KiB where it is a positive whole number, else what {@link #levelTwo} reads
   * under {@code cacheDir}, else {@link #ASSUMED_LEVEL_TWO_BYTES}.
   */
  static long levelTwoBytes(String property, Path cacheDir) {
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
    return read > 0 ? read : ASSUMED_LEVEL_TWO_BYTES;
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
