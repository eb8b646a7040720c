package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

/**
 * Every tile kernel a layer can be given compiles: warmed in a fresh JVM (as in a network's first seconds),
 * none of the JIT's compilations of the kernel classes fails and every tile becomes hot. A straight-line
 * kernel too large for C1's profiling tier fails there with "out of virtual registers" on JDK 17, and the
 * method can then stay in C1's plain tier for good (depthwise 3x3 tiles of 9 or more pixels at stride 2 and
 * 13 or more at stride 1 did; see {@code BlockedKernelsGenerator.MAX_DEPTHWISE_3X3_PIXELS}).
 */
class BlockedTileCompilationTest {
  /** The longest a tile may take to become hot in the child JVM (they take well under a second). */
  private static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(20);

  @Test
  void everyTileCompilesAndBecomesHotInAFreshJvm() throws Exception {
    String out = FreshJvm.run(BlockedTileCompilationTest.class);
    List<String> failed = new ArrayList<>();
    List<String> cold = new ArrayList<>();
    int tiles = -1;
    int compiled = -1;
    for (String line : out.split("\n")) {
      if (line.startsWith("FAILED ")) {
        failed.add(line);
      } else if (line.startsWith("COLD ")) {
        cold.add(line);
      } else if (line.startsWith("TILES ")) {
        tiles = Integer.parseInt(line.substring(6).trim());
      } else if (line.startsWith("COMPILED ")) {
        compiled = Integer.parseInt(line.substring(9).trim());
      }
    }
    assertThat(failed).isEmpty();
    assertThat(cold).isEmpty();
    assertThat(tiles).isEqualTo(expectedTiles());
    // The recording saw the JIT at work: most tiles' kernels compiled by C2 while it ran (not all: tiles of
    // one pixel share a class across strides, and the smallest can be fast enough to count as hot in C1 code).
    assertThat(compiled).isAtLeast(tiles / 2);
  }

  /**
   * Per block count and width (36 sizes) one convolution tile for each pixel stride (0, 1, 2); 35 pointwise tiles
   * taking two lanes per iteration (all but 2x14) and 29 taking one (1x5 to 1x14, 2x3 to 2x14, 3x2 to 3x8: those
   * that do not fit 16 registers, one left free, with two lanes' broadcasts first); the two kinds of a constant bound (ReLU and
   * linear) of those of two and three blocks (each 22 sizes times 3 strides, 21 pointwise tiles taking two lanes
   * and 19 taking one); the depthwise tiles; the depthwise 3x3 tiles at strides 1 and 2; the head's two kernels;
   * the conversions' transposes where the machine has 16 lanes.
   */
  static int expectedTiles() {
    int sizes = 0;
    for (int m = 1; m <= BlockedKernels.MAX_BLOCKS; m++) {
      sizes += BlockedKernels.MAX_PIXELS[m];
    }
    assertThat(sizes).isEqualTo(36);
    int wideSizes = sizes - BlockedKernels.MAX_PIXELS[1];
    return sizes * 3 + 35 + 29 + 2 * (wideSizes * 3 + 21 + 19) + BlockedKernels.MAX_DEPTHWISE_PIXELS
        + 2 * BlockedKernels.MAX_DEPTHWISE_3X3_PIXELS + 2 + (BlockTranspose.AVAILABLE ? 1 : 0);
  }

  /** Every tile {@link TileWarmer} can hand out. */
  static List<TileWarmer.Tile> allTiles() {
    List<TileWarmer.Tile> tiles = new ArrayList<>();
    for (int m = 1; m <= BlockedKernels.MAX_BLOCKS; m++) {
      for (int t = 1; t <= BlockedKernels.MAX_PIXELS[m]; t++) {
        for (int stride = 0; stride <= 2; stride++) {
          tiles.add(TileWarmer.conv(m, t, stride));
          if (BlockedKernels.hasBoundKinds(m)) {
            tiles.add(TileWarmer.conv(m, t, stride, 0f));
            tiles.add(TileWarmer.conv(m, t, stride, Float.NEGATIVE_INFINITY));
          }
        }
        for (int lanes = 1; lanes <= 2; lanes++) {
          if (TileBudget.hasPointwise(m, t, lanes)) {
            tiles.add(TileWarmer.pointwise(m, t, lanes));
            if (BlockedKernels.hasBoundKinds(m)) {
              tiles.add(TileWarmer.pointwise(m, t, lanes, 0f));
              tiles.add(TileWarmer.pointwise(m, t, lanes, Float.NEGATIVE_INFINITY));
            }
          }
        }
      }
    }
    for (int t = 1; t <= BlockedKernels.MAX_DEPTHWISE_PIXELS; t++) {
      tiles.add(TileWarmer.depthwise(t));
    }
    for (int t = 1; t <= BlockedKernels.MAX_DEPTHWISE_3X3_PIXELS; t++) {
      for (int stride = 1; stride <= 2; stride++) {
        tiles.add(TileWarmer.depthwise3x3(t, stride));
      }
    }
    tiles.add(TileWarmer.blockSums());
    tiles.add(TileWarmer.linear());
    if (BlockTranspose.AVAILABLE) {
      tiles.add(TileWarmer.transposes());
    }
    return tiles;
  }

  /**
   * The child JVM: warms every tile under a flight recording of the JIT's compilations, then prints one
   * {@code FAILED} line per failed compilation of a kernel class, one {@code COLD} line per tile not hot by
   * the deadline, and the counts.
   */
  public static void main(String[] args) throws IOException {
    List<TileWarmer.Tile> tiles = allTiles();
    Path file = Files.createTempFile("kiln-tiles", ".jfr");
    try (Recording recording = new Recording()) {
      recording.enable("jdk.Compilation").withThreshold(Duration.ZERO);
      recording.enable("jdk.CompilationFailure");
      recording.start();
      for (TileWarmer.Tile tile : tiles) {
        long start = System.nanoTime();
        TileWarmer.warm(tile, DEADLINE_NANOS, DEADLINE_NANOS);
        long took = System.nanoTime() - start;
        if (took >= DEADLINE_NANOS) {
          System.out.println("COLD " + tile.key + " after " + TimeUnit.NANOSECONDS.toMillis(took) + " ms");
        }
      }
      recording.stop();
      recording.dump(file);
    }
    java.util.Map<Long, String> failures = new java.util.HashMap<>();
    List<RecordedEvent> compilations = new ArrayList<>();
    for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
      String name = e.getEventType().getName();
      if (name.equals("jdk.CompilationFailure")) {
        failures.put(e.getLong("compileId"), e.getString("failureMessage"));
      } else if (name.equals("jdk.Compilation")) {
        compilations.add(e);
      }
    }
    Files.delete(file);
    java.util.Set<String> compiledClasses = new java.util.HashSet<>();
    for (RecordedEvent e : compilations) {
      RecordedMethod m = e.getValue("method");
      String type = m.getType().getName();
      if (!type.startsWith(BlockedKernels.class.getName() + "$") && !type.equals(HeadKernels.class.getName())
          && !type.equals(BlockTranspose.class.getName())) {
        continue;
      }
      if (!e.getBoolean("succeded")) {
        System.out.println(String.format(Locale.ROOT, "FAILED %s.%s at level %s: %s", type, m.getName(),
            e.getValue("compileLevel"), failures.getOrDefault(e.getLong("compileId"), "?")));
      } else if ((m.getName().equals("run") || m.getName().equals("runs"))
          && ((Number) e.getValue("compileLevel")).intValue() == 4) {
        compiledClasses.add(type);
      }
    }
    System.out.println("TILES " + tiles.size());
    System.out.println("COMPILED " + compiledClasses.size());
  }
}
