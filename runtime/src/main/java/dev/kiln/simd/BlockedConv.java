package dev.kiln.simd;

import static dev.kiln.simd.VectorShape.LANES;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.Parameter;
import dev.kiln.runtime.Parallel;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One convolution's eval-mode forward in the blocked layout: reads a {@link BlockedLayout} (blocked, or
 * padded planes for inputs with few channels) whose halo holds the zero padding, and writes the interior of
 * a blocked output layout. The work is a list of tiles, each one call of a {@link BlockedKernels} tile
 * kernel: a row segment of output pixels times up to three output-channel blocks (depthwise layers: one
 * block), with the whole reduction over (input channel, tap) in registers. The driver loops here hold no
 * vectors, so they cost little before the JIT has compiled them; until a layer's own tiles are compiled it
 * runs on the one-block tiles that every layer shares ({@link #firstTiles}), so a network's first forward
 * waits for one tile kernel to compile, not for all it uses.
 *
 * <p>Supported: zero padding (or none), any kernel, stride and dilation; groups of 1, depthwise (one output
 * channel per input channel), or groups whose input and output channels per group are whole blocks. The
 * weights are packed per chunk of blocks, {@code [r][m][lane]} with {@code r} over (input channel, kh, kw) in
 * PyTorch's order, and repacked when a parameter's {@link Parameter#version() version} moves. Thread-safe.
 */
final class BlockedConv {
  /** Experiment switch: tiles with a constant pixel distance (default) or those for any distance. */
  private static final boolean STRIDE_TILES = !"false".equals(System.getProperty("kiln.blocked.strideTiles"));
  /**
   * Switch: a long first forward runs 1x1 layers on the one-block pointwise tile, or on the pair tile ({@link
   * #firstPairTiles}) where the layer has one, once it is hot (default; see
   * {@link BlockedNetwork#requestFirstPointwise}), or never.
   */
  static final boolean POINTWISE_FIRST = !"false".equals(System.getProperty("kiln.blocked.pointwiseFirst"));

  final ConvGeometry geometry;
  final BlockedLayout in;
  final BlockedLayout out;
  private final float lo;
  private final float hi;
  private final boolean depthwise;
  /** Depthwise 3x3 at horizontal stride 1 or 2, dilation 1: each input vector loaded once per row. */
  private final boolean threeByThree;
  /** Input offsets of the reduction steps, relative to the top-left tap of a tile's first pixel. */
  private final int[] off;
  /**
   * Depthwise 3x3 layers: for each column tile, how many tiles from it on have its width (a row's columns are runs
   * of equal widths, one tile kernel each, called once per run); null for other layers.
   */
  private final int[] runs;
  private final int steps;
  private final int sx;
  private final List<Chunk> chunks = new ArrayList<>();
  /** Multiply-adds per sample, for the decision to split over threads. */
  private final long macs;
  private volatile Packed packed;
  /**
   * Where the packed weights go, whose vectors start cache lines ({@link AlignedFloats}): a network's share of its
   * weight array ({@link #placeWeights}), else one of the layer's own, taken at the first packing (guarded by this).
   */
  private AlignedFloats.Share home;

  /** Weights and bias packed for the chunks, with the parameter versions they were packed at. */
  record Packed(Parameter weight, long weightVersion, Parameter bias, long biasVersion, float[] w, int base,
      float[] b) {
    /** Whether these were packed from {@code weight} and {@code bias} at versions {@code wv} and {@code bv}. */
    boolean isFor(Parameter weight, long wv, Parameter bias, long bv) {
      return this.weight == weight && weightVersion == wv && this.bias == bias && biasVersion == bv;
    }
  }

  /**
   * Output-channel blocks computed together by one tile kernel, and how a row of outputs is tiled.
   *
   * @param group the convolution group
   * @param block the first output block, over all groups
   * @param columns the tiles of one output row: first column and pixel count of each run
   * @param tiles the tile of each column run: for this layer's pixel stride where there is one, else for any
   * @param groups how the chunk computes groups of rows as one run of pixels ({@link #rowGroups}), null for none
   * @param groupRows the rows of those groups, 0 for none: a component, not a method testing {@code groups}, since a
   *     branch on it in the driver path, whose profile the priming's chunks had seen go one way, was an uncommon
   *     trap that threw the driver's compiled code out when a network's chunk went the other (DriverPrimerTest)
   * @param waitFor the tiles a chunk's rows wait for ({@link #hot})
   */
  private record Chunk(int group, int block, int blocks, int weightOffset, int biasOffset, int[] columns,
      TileWarmer.Tile[] tiles, RowGroups groups, int groupRows, TileWarmer.Tile[] waitFor) {
    Chunk(int group, int block, int blocks, int weightOffset, int biasOffset, int[] columns, TileWarmer.Tile[] tiles) {
      this(group, block, blocks, weightOffset, biasOffset, columns, tiles, null);
    }

    Chunk(int group, int block, int blocks, int weightOffset, int biasOffset, int[] columns, TileWarmer.Tile[] tiles,
        RowGroups groups) {
      this(group, block, blocks, weightOffset, biasOffset, columns, tiles, groups, groups == null ? 0 : groups.rows(),
          waitFor(tiles, groups));
    }

    /** The tiles a chunk's rows wait for: its rows' and its row groups'. */
    private static TileWarmer.Tile[] waitFor(TileWarmer.Tile[] tiles, RowGroups groups) {
      if (groups == null) {
        return tiles;
      }
      TileWarmer.Tile[] all = java.util.Arrays.copyOf(tiles, tiles.length + groups.all().length);
      System.arraycopy(groups.all(), 0, all, tiles.length, groups.all().length);
      return all;
    }

    /**
     * Whether the chunk's tiles are all hot (or layers do not wait for tiles). Without a branch on any tile's state
     * (one loop and-ing them all): the JIT compiles this into the driver loop ({@link #runRows}) from the branches
     * its profile has seen, and an early return taken for the first time (a chunk's first tile hot before its
     * others, which the priming's stand-ins, all hot, never show) threw that compilation out ({@code
     * DriverPrimerTest}).
     */
    boolean hot() {
      if (!TileWarmer.waiting()) {
        return true;
      }
      boolean all = true;
      for (TileWarmer.Tile t : waitFor) {
        all &= t.hot();
      }
      return all;
    }
  }

  /**
   * A chunk's row groups ({@link #rowGroups}): a group of {@code j} rows, from {@code rows} (a band's last group up
   * to twice that less one: all the rows left), is one run of the tiles {@code columns[j - rows]} ({@link #columns}
   * of the run's pixels: whole tiles of the widest where {@code j} is {@code rows}, else 6- and 5-pixel ones where the
   * rows left over alone would have run on their own narrower ones), {@code tiles[j - rows]} the tile of each.
   * {@code all} lists every tile of these, each once (an array: a chunk's {@link Chunk#hot} loops over it in the
   * driver's path, where lists of several classes made C2 throw that code out, see DriverPrimerTest).
   */
  private record RowGroups(int rows, int[][] columns, TileWarmer.Tile[][] tiles, TileWarmer.Tile[] all) {}

  /**
   * The widest first tile: seven pixels, the tile width of 224-pixel networks' feature maps (one tile for
   * all of them), and wider first tiles compiled no sooner.
   */
  static final int FIRST_PIXELS = 7;

  /**
   * Until the chunks' tiles are compiled, a convolution runs one block at a time with the tiles of one block
   * and any pixel stride: {@link #firstColumns} and {@link #firstTiles}. Every layer of every network shares
   * those few tiles, so a network's first forward waits for one or two tiles to compile rather than for every
   * tile size it uses; the faster tiles take over chunk by chunk as they become hot.
   */
  private final int[] firstColumns;
  private final TileWarmer.Tile[] firstTiles;
  /**
   * 1x1 layers over blocked inputs ({@link #pointwise}): the one-block pointwise tiles of the same column runs,
   * which walk the input's channel blocks instead of the offset table: 1.6-1.9 times the first tiles' speed on
   * MobileNet v1's pointwise layers, both compiled (AMD EPYC Zen 3; the layers' own tiles 2.3-2.5 times). A first
   * forward runs them where they are hot; only a long one has them warmed ({@link #requestFirstPointwise}). Null
   * for other layers.
   */
  private final TileWarmer.Tile[] firstPointwiseTiles;
  /**
   * 1x1 layers over blocked inputs whose chunks all have two blocks (every such layer where {@link #POINTWISE_TWOS}
   * holds: AVX2 on JDK 17): the widest two-block pointwise tile the chunks run (on their rows or row groups, no
   * wider than a row), once per run of {@link #firstPairColumns}: the pair tile, which a long first forward has
   * warmed instead of the one-block pointwise tiles ({@link #requestFirstPointwise}) and runs where it is hot, both
   * blocks of a chunk per call: 12 multiply-add chains instead of 7 on AVX2 (one tile alone on level-1 data, 128
   * steps, AMD EPYC Zen 3: 2x6 46 G multiply-adds/s, 1x7 30). One of the chunks' own tiles, so not one more to
   * compile. Null for other layers.
   */
  private final TileWarmer.Tile[] firstPairTiles;
  /**
   * The column runs of the pair tile, as {@link #firstColumns} for its width (the last moved back to end where the
   * row ends); null where there is no such tile.
   */
  private final int[] firstPairColumns;
  /** Chunks seen with all their tiles hot (they stay hot; a stale false only checks again). */
  private final boolean[] chunkHot;
  /** Whether whole bands run row by row through all chunks ({@link #rowsFirst(boolean, int, int)}). */
  final boolean rowsFirst;
  /**
   * The rows of a row group ({@link #rowGroups}) where every chunk has the same, else 0: a {@link #rowsFirst}
   * layer then runs its bands a group of rows (rather than a row) at a time through all chunks.
   */
  private final int groupRows;
  /**
   * Floats of the buffer a row group's tiles write into where the output has a horizontal halo (its rows are
   * then not one run), 0 where they write into the output itself.
   */
  private final int groupScratch;
  /**
   * Each thread's buffer for {@link #groupScratch} (no initial-value lambda: a class generated at run time on the
   * way to a first result, see StartupClassesTest).
   */
  private static final ThreadLocal<float[]> GROUP_BUFFER = new ThreadLocal<>();
  /**
   * Run as before any tile is hot (one-block tiles, plain Java for depthwise layers): for tests, and for the
   * stand-in layers of {@link DriverPrimer}.
   */
  boolean firstTilesOnly;

  /** Forgets which chunks were seen hot, so that the next run checks their tiles again ({@link DriverPrimer}). */
  void forgetHotChunks() {
    if (chunkHot != null) {
      java.util.Arrays.fill(chunkHot, false);
    }
  }

  /**
   * The tile kernels this layer uses (for tests): not the one-block pointwise tiles, which only a long first
   * forward has warmed and runs ({@link #requestFirstPointwise}); the pair tile ({@link #firstPairTiles}) is one of the
   * chunks' own.
   */
  java.util.List<TileWarmer.Tile> tiles() {
    java.util.List<TileWarmer.Tile> all = new ArrayList<>();
    if (firstTiles != null) {
      all.addAll(java.util.Arrays.asList(firstTiles));
    }
    for (Chunk c : chunks) {
      all.addAll(java.util.Arrays.asList(c.tiles()));
      if (c.groups() != null) {
        all.addAll(java.util.Arrays.asList(c.groups().all()));
      }
    }
    return all;
  }

  /** The pixels of the pair tile ({@link #firstPairTiles}), 0 for none: for tests. */
  int firstPairPixels() {
    return firstPairColumns == null ? 0 : firstPairColumns[1];
  }

  /** The rows of each chunk's row groups ({@link #rowGroups}; 0 for none), in the order of the work items: for tests. */
  int[] chunkGroupRows() {
    int[] rows = new int[chunks.size()];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = chunks.get(i).groupRows();
    }
    return rows;
  }

  /** The blocks of output channels of each chunk, in the order of the work items. */
  int[] chunkBlocks() {
    // A loop, not a stream: a Winograd layer asks while a network is built in its first forward, and a method
    // reference is a class generated at run time (see StartupClassesTest).
    int[] blocks = new int[chunks.size()];
    for (int i = 0; i < blocks.length; i++) {
      blocks[i] = chunks.get(i).blocks();
    }
    return blocks;
  }

  /** Whether a layer of this geometry can run here with an input of the given kind. */
  static boolean supports(ConvGeometry geometry, boolean blockedInput) {
    if (LANES % 4 != 0) {
      // The plain-Java depthwise tile sums four lanes at a time; every vector of 128 bits or more has a
      // multiple of four float lanes.
      return false;
    }
    if (geometry.paddingMode() != PaddingMode.ZEROS && geometry.padTop() + geometry.padBottom() + geometry.padLeft() + geometry.padRight() > 0) {
      return false;
    }
    if (geometry.outHeight() <= 0 || geometry.outWidth() <= 0) {
      return false;
    }
    if (isDepthwise(geometry)) {
      return blockedInput;
    }
    if (geometry.groups() == 1) {
      return true;
    }
    return geometry.outChannelsPerGroup() % LANES == 0 && (!blockedInput || geometry.inChannelsPerGroup() % LANES == 0);
  }

  /**
   * Whether a layer gets the pointwise tiles: a 1x1 convolution at horizontal stride 1 over a blocked input
   * whose groups start at block boundaries (whole blocks of input channels per group), so that its offset
   * table is whole channel blocks ({@code off[r] = (r / LANES) * off[LANES] + r % LANES}).
   */
  static boolean pointwise(ConvGeometry geometry, BlockedLayout in) {
    return STRIDE_TILES && in.blocked && !isDepthwise(geometry) && geometry.kernelH() == 1 && geometry.kernelW() == 1
        && geometry.strideW() == 1 && geometry.inChannelsPerGroup() % LANES == 0;
  }

  /**
   * Switch: 1x1 layers over inputs whose rows are one run of pixels compute groups of rows as one run
   * ({@link #rowGroups}; default), or every row on its own ({@code kiln.blocked.rowGroups=false}).
   */
  static final boolean ROW_GROUPS = !"false".equals(System.getProperty("kiln.blocked.rowGroups"));

  /**
   * Whether a {@link #pointwise} layer's output rows read input rows that follow each other without a gap: no
   * padding, vertical stride 1, and an input without a horizontal halo. Its consecutive output rows then read
   * one run of input pixels, which a row of tiles may cross from one row into the next.
   */
  static boolean contiguousRows(ConvGeometry geometry, BlockedLayout in) {
    return pointwise(geometry, in) && geometry.strideH() == 1 && geometry.padTop() == 0 && geometry.padBottom() == 0
        && geometry.padLeft() == 0 && geometry.padRight() == 0 && in.left == 0 && in.right == 0;
  }

  /** The most pixels in a row group ({@link #rowGroups}): its buffer, per thread, stays small. */
  static final int MAX_GROUP_PIXELS = 1024;

  /**
   * How many consecutive output rows of width {@code width} a {@link #contiguousRows} layer computes as one run
   * of pixels, tiled with tiles of {@code max} pixels only, where its row {@code columns} have narrower tiles:
   * the fewest rows whose pixels {@code max} divides; 0 where the rows need no groups (all their tiles of one
   * width, or nearly all {@code max} wide), the group would not fit the {@code height} rows, or it would be too
   * long.
   * MobileNet v1's 14x14 maps take rows of 5, 5 and 4 pixels with two-block tiles of at most 6 (AVX2), groups of
   * 3 rows seven tiles of 6; its 7x7 maps rows of 4 and 3, groups of 6 rows seven tiles of 6 (one layer's loops,
   * AMD EPYC Zen 3: 512->512 14x14 39.5 G multiply-adds/s by rows, 47.1 in runs of 6-pixel tiles; 1024->1024 7x7
   * 30.3 and 44.6; bench-results/row-groups-s48).
   */
  static int rowGroups(int width, int height, int max, int[] columns) {
    boolean uniform = true;
    for (int i = 1; i < columns.length / 2; i++) {
      uniform &= columns[2 * i + 1] == columns[1];
    }
    // Rows whose tiles are on average at least 90% of max wide gain less than copying the groups' outputs row by
    // row costs (MobileNet v1's 32->64 112x112 layer, rows of seventeen 6-pixel tiles and two of 5: 826 us in groups
    // of 3 rows against 700 by rows, AMD EPYC Zen 3).
    if (uniform || 10L * width > 9L * max * (columns.length / 2)) {
      return 0;
    }
    int k = max / gcd(width, max);
    return k > 1 && k <= height && (long) k * width <= MAX_GROUP_PIXELS ? k : 0;
  }

  /**
   * The {@link RowGroups} of {@code rows} rows of {@code width} for a chunk of {@code blocks} blocks and tiles of at
   * most {@code max} pixels.
   */
  private RowGroups groupsOf(int rows, int width, int max, int blocks, TileSource source) {
    int[][] columns = new int[rows][];
    TileWarmer.Tile[][] tiles = new TileWarmer.Tile[rows][];
    List<TileWarmer.Tile> all = new ArrayList<>();
    for (int j = rows; j < 2 * rows; j++) {
      int[] cols = columns(j * width, max, false);
      TileWarmer.Tile[] ts = new TileWarmer.Tile[cols.length / 2];
      for (int i = 0; i < ts.length; i++) {
        ts[i] = source.pointwise(blocks, cols[2 * i + 1], lo);
        if (!all.contains(ts[i])) {
          all.add(ts[i]);
        }
      }
      columns[j - rows] = cols;
      tiles[j - rows] = ts;
    }
    return new RowGroups(rows, columns, tiles, all.toArray(new TileWarmer.Tile[0]));
  }

  private static int gcd(int a, int b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  /** One output channel per input channel, one group per channel. */
  static boolean isDepthwise(ConvGeometry geometry) {
    return geometry.groups() > 1 && geometry.groups() == geometry.inChannels() && geometry.groups() == geometry.outChannels();
  }

  /** The halo {top, bottom, left, right} an input must have for this geometry. */
  static int[] requiredHalo(ConvGeometry geometry) {
    int bottom = geometry.inputRow(geometry.outHeight() - 1, geometry.kernelH() - 1) - (geometry.inHeight() - 1);
    int right = geometry.inputColumn(geometry.outWidth() - 1, geometry.kernelW() - 1) - (geometry.inWidth() - 1);
    return new int[] {geometry.padTop(), Math.max(0, bottom), geometry.padLeft(), Math.max(0, right)};
  }

  /** The clamp {lo, hi} of an activation. */
  static float[] clamp(Activation activation) {
    return new float[] {activation.lower(), activation.upper()};
  }

  /**
   * @param g the geometry ({@link #supports} must hold)
   * @param activation the fused activation
   * @param in the input layout, with at least the {@link #requiredHalo}
   * @param out the blocked output layout: {@code outChannels x outHeight x outWidth}, any halo
   */
  BlockedConv(ConvGeometry geometry, Activation activation, BlockedLayout in, BlockedLayout out) {
    this(geometry, activation, in, out, TileSource.WARMED);
  }

  /** {@link #BlockedConv(ConvGeometry, Activation, BlockedLayout, BlockedLayout)} with tiles from {@code source}. */
  BlockedConv(ConvGeometry geometry, Activation activation, BlockedLayout in, BlockedLayout out, TileSource source) {
    this.geometry = geometry;
    this.in = in;
    this.out = out;
    float[] c = clamp(activation);
    this.lo = c[0];
    this.hi = c[1];
    this.depthwise = isDepthwise(geometry);
    this.threeByThree = depthwise && geometry.kernelH() == 3 && geometry.kernelW() == 3 && geometry.dilationH() == 1
        && geometry.dilationW() == 1 && geometry.strideW() <= 2;
    if (!supports(geometry, in.blocked)) {
      throw new IllegalArgumentException("unsupported geometry " + geometry + " with " + in);
    }
    int[] halo = requiredHalo(geometry);
    if (in.channels != geometry.inChannels() || in.height != geometry.inHeight() || in.width != geometry.inWidth() || in.top < halo[0]
        || in.bottom < halo[1] || in.left < halo[2] || in.right < halo[3]) {
      throw new IllegalArgumentException(in + " does not fit " + geometry);
    }
    if (!out.blocked || out.channels != geometry.outChannels() || out.height != geometry.outHeight()
        || out.width != geometry.outWidth()) {
      throw new IllegalArgumentException(out + " does not fit " + geometry);
    }
    int taps = geometry.kernelH() * geometry.kernelW();
    int inGroupChannels = depthwise ? 1 : geometry.inChannelsPerGroup();
    this.steps = inGroupChannels * taps;
    // In a method of the layout's, not a loop here: RepVGG-A0 builds its convolutions at the start of its first
    // forward, and this loop in the constructor made C2 compile the whole constructor for on-stack replacement in
    // about half of those forwards, 220 ms in which the compilations the forward waited for sat in C2's queue
    // (AMD EPYC Zen 3, JDK 17, tools/bench/compile_timeline.py).
    this.off = in.tapOffsets(geometry, inGroupChannels);
    this.sx = geometry.strideW() * in.pixelStride;
    this.macs = geometry.macsPerSample();
    int weightOffset = 0;
    int biasOffset = 0;
    if (depthwise) {
      this.firstColumns = null;
      this.firstTiles = null;
      this.firstPointwiseTiles = null;
      this.firstPairTiles = null;
      this.firstPairColumns = null;
      // The 3x3 tiles stop at 8 pixels (wider ones do not compile in JDK 17's C1, so may never reach C2).
      int[] columns = columns(geometry.outWidth(),
          threeByThree ? BlockedKernels.MAX_DEPTHWISE_3X3_PIXELS : BlockedKernels.MAX_DEPTHWISE_PIXELS);
      TileWarmer.Tile[] tiles = new TileWarmer.Tile[columns.length / 2];
      for (int i = 0; i < tiles.length; i++) {
        tiles[i] = threeByThree ? source.depthwise3x3(columns[2 * i + 1], geometry.strideW())
            : source.depthwise(columns[2 * i + 1]);
      }
      this.runs = threeByThree ? runs(columns) : null;
      for (int cb = 0; cb < out.blocks; cb++) {
        chunks.add(new Chunk(cb, cb, 1, weightOffset, biasOffset, columns, tiles));
        weightOffset += taps * LANES;
        biasOffset += LANES;
      }
      this.chunkHot = null;
      this.rowsFirst = false;
      this.groupRows = 0;
      this.groupScratch = 0;
      return;
    }
    this.runs = null;
    this.firstColumns = firstColumns(geometry.outWidth());
    this.firstTiles = firstTiles(firstColumns, source);
    boolean pointwise = pointwise(geometry, in);
    boolean contiguousRows = ROW_GROUPS && contiguousRows(geometry, in);
    this.rowsFirst = rowsFirst(pointwise, steps, in.sampleSize);
    this.firstPointwiseTiles = pointwise && POINTWISE_FIRST ? firstPointwiseTiles(firstColumns, source) : null;
    int blocksPerGroup = geometry.groups() == 1 ? out.blocks : geometry.outChannelsPerGroup() / LANES;
    // Blocked inputs read at stride 1 or 2 get the tiles whose pixel distance is a constant.
    int pixelStride = STRIDE_TILES && in.blocked && geometry.strideW() <= 2 ? geometry.strideW() : 0;
    // Not for pointwise layers: MobileNet v1 ran no faster with them (-1.0% to +0.4% in one process), and they
    // add a tile to warm that compiles slowly (the 2x14 pointwise tile took about 1.1 s, the 3x7 one 0.5).
    // Alone they were faster (512->512 14x14 -4%, 64->64 56x56 -15%).
    boolean wide = !pointwise && wideTwos(geometry.outWidth());
    boolean tenWide = in.blocked && !wide && tenPixelTwos(geometry.outWidth());
    for (int grp = 0; grp < geometry.groups(); grp++) {
      int first = 0;
      for (int m : split(blocksPerGroup, wide || tenWide || (pointwise && POINTWISE_TWOS))) {
        // A layer on padded planes (a network's stem: few input channels, a short reduction per tile) gets
        // the widest tiles: MobileNet v1's 3->32 stem took 133 us with 2x14 tiles against 152-158 with 2x7.
        // So do the two-block chunks of rows made of whole 14-pixel tiles (see wideTwos). The two-block chunks
        // of tenPixelTwos rows get tiles of up to 10 pixels; other two-block chunks at most 7 (the widest fitting
        // tiles were 13-14 pixels, 17-20% slower per multiply-add: twoBlockPixels); three-block ones at most 8,
        // and 7 on rows that 7 divides unless 8 does too (eightPixelThrees).
        // Where the registers hold a wider tile of variable pixel distance than of constant (AVX2 on JDK 17:
        // 3x4 against 3x3; see TileBudget), the chunk takes the variable one.
        int stride = pixelStride != 0 && !pointwise && TileBudget.variableDistanceWider(m) ? 0 : pixelStride;
        int max = in.blocked && m == 2 && !wide ? (tenWide ? TEN_PIXEL_TWOS : twoBlockPixels())
            : TileBudget.maxPixels(m, pointwise || stride != 0);
        // Three-block chunks on rows of whole 8-pixel tiles take 3x8 tiles rather than 3x7 (eightPixelThrees).
        boolean eights = m == 3 && !pointwise && max == 8 && eightPixelThrees(geometry.outWidth());
        int[] columns = columns(geometry.outWidth(), max, in.blocked && !(wide && m == 2) && !eights);
        TileWarmer.Tile[] tiles = new TileWarmer.Tile[columns.length / 2];
        for (int i = 0; i < tiles.length; i++) {
          // The tiles of the layer's bound as a constant where they exist (+0 for ReLU and ReLU6, minus infinity
          // without an activation; BlockedKernels#conv(int, int, int, float)): the same bits, and no value kept
          // across the reduction loop.
          tiles[i] = pointwise ? source.pointwise(m, columns[2 * i + 1], lo)
              : source.conv(m, columns[2 * i + 1], stride, lo);
        }
        int groupRows = contiguousRows ? rowGroups(geometry.outWidth(), geometry.outHeight(), max, columns) : 0;
        RowGroups groups = groupRows == 0 ? null : groupsOf(groupRows, geometry.outWidth(), max, m, source);
        chunks.add(new Chunk(grp, grp * blocksPerGroup + first, m, weightOffset, biasOffset, columns, tiles,
            groups));
        weightOffset += steps * m * LANES;
        biasOffset += m * LANES;
        first += m;
      }
    }
    boolean pairs = pointwise && POINTWISE_FIRST;
    for (Chunk ch : chunks) {
      pairs &= ch.blocks() == 2;
    }
    int pairPixels = pairs ? widestRun(chunks.get(0), geometry.outWidth()) : 0;
    this.firstPairColumns = pairs ? firstColumns(geometry.outWidth(), pairPixels) : null;
    this.firstPairTiles = pairs ? pairTiles(chunks.get(0), pairPixels, firstPairColumns.length / 2) : null;
    this.chunkHot = new boolean[chunks.size()];
    int k = chunks.get(0).groupRows();
    int scratch = 0;
    for (Chunk ch : chunks) {
      k = ch.groupRows() == k ? k : 0;
      // A band's last group holds up to twice the rows less one.
      scratch = Math.max(scratch, Math.max(0, 2 * ch.groupRows() - 1) * geometry.outWidth() * ch.blocks() * LANES);
    }
    this.groupRows = k;
    this.groupScratch = out.left == 0 && out.right == 0 ? 0 : scratch;
  }

  /**
   * Queues for warming, as needed now ({@link TileWarmer}), what a layer of this geometry runs in a network's
   * first forward ({@link #firstCode}), as soon as the layer is constructed.
   */
  static void requestTiles(ConvGeometry geometry) {
    for (TileWarmer.Tile t : firstCode(geometry)) {
      TileWarmer.request(t, true);
    }
  }

  /**
   * The compiled code a layer of this geometry runs in a network's first forward: the one-block first tile of a
   * convolution, or the plain-Java depthwise code ({@link #depthwiseScalar}, shared by all depthwise layers) that
   * a depthwise layer runs until its vector tiles are hot; nothing for a layer the blocked engine cannot run.
   * Left to the JIT, the plain depthwise code was compiled by invocation counts while MobileNet v1's first
   * depthwise layer ran (33-126 ms of its first forward on the AMD EPYC Zen 1 machine, against 6-27 warmed).
   */
  static List<TileWarmer.Tile> firstCode(ConvGeometry geometry) {
    if (!(supports(geometry, true) || supports(geometry, false))) {
      return List.of();
    }
    if (isDepthwise(geometry)) {
      return List.of(TileWarmer.depthwisePlain());
    }
    if (WinogradConv.supports(geometry, true)) {
      // A network runs it in Winograd's form wherever its input is blocked (all but a first layer).
      return WinogradConv.firstCode(geometry);
    }
    // Every first run of a row is one width ({@link #firstColumns}), so one tile.
    return List.of(TileWarmer.conv(1, Math.min(geometry.outWidth(), FIRST_PIXELS), 0));
  }

  /**
   * Requests this layer's one-block pointwise tiles as needed now ({@link TileWarmer}), if it has any: a long
   * first forward runs its 1x1 layers on them once they are hot ({@link BlockedNetwork#requestFirstPointwise}).
   */
  void requestFirstPointwise() {
    if (firstPairTiles != null) {
      TileWarmer.request(firstPairTiles[0], true);
    } else if (firstPointwiseTiles != null) {
      for (TileWarmer.Tile t : firstPointwiseTiles) {
        TileWarmer.request(t, true);
      }
    }
  }

  /** This layer's multiply-adds per sample that its one-block pointwise tiles would run, 0 if it has none. */
  long firstPointwiseMacs() {
    return firstPointwiseTiles == null ? 0 : macs;
  }

  /**
   * Queues this layer's own tiles for warming, weighed by the work they take over from slower code (the
   * one-block tiles, or plain Java for depthwise layers). A network asks after its first forward.
   */
  void requestFasterTiles() {
    for (Chunk c : chunks) {
      for (TileWarmer.Tile t : c.tiles()) {
        TileWarmer.request(t, false, macs * c.blocks() / out.blocks / c.tiles().length);
      }
      if (c.groups() != null) {
        for (TileWarmer.Tile t : c.groups().all()) {
          TileWarmer.request(t, false, macs * c.blocks() / out.blocks / c.groups().all().length);
        }
      }
    }
  }

  /**
   * The column runs of the one-block first tiles, as {first, size} pairs: {@link #FIRST_PIXELS} wide, the last
   * moved back to end where the row ends, overlapping the run before it (its pixels are computed twice, by
   * the same multiply-adds, so to the same values), so that a layer whose rows are at least that wide needs
   * the one first tile whatever their width; a narrower row is one run of its width. With runs of even sizes
   * instead, a 160-pixel MobileNet's first forward waited for three first tiles (7, 6 and 5 pixels), not two.
   */
  static int[] firstColumns(int width) {
    return firstColumns(width, FIRST_PIXELS);
  }

  /** {@link #firstColumns(int)} for runs of {@code pixels}. */
  static int[] firstColumns(int width, int pixels) {
    if (width <= pixels) {
      return new int[] {0, width};
    }
    int n = (width + pixels - 1) / pixels;
    int[] c = new int[2 * n];
    for (int i = 0; i < n; i++) {
      c[2 * i] = Math.min(i * pixels, width - pixels);
      c[2 * i + 1] = pixels;
    }
    return c;
  }

  /** The one-block tiles (any pixel stride) of column runs {@code columns}, requested as needed. */
  private static TileWarmer.Tile[] firstTiles(int[] columns, TileSource source) {
    TileWarmer.Tile[] tiles = new TileWarmer.Tile[columns.length / 2];
    for (int i = 0; i < tiles.length; i++) {
      tiles[i] = source.first(columns[2 * i + 1]);
    }
    return tiles;
  }

  /** The one-block pointwise tiles of column runs {@code columns} (not requested). */
  private static TileWarmer.Tile[] firstPointwiseTiles(int[] columns, TileSource source) {
    TileWarmer.Tile[] tiles = new TileWarmer.Tile[columns.length / 2];
    for (int i = 0; i < tiles.length; i++) {
      tiles[i] = source.firstPointwise(columns[2 * i + 1]);
    }
    return tiles;
  }

  /**
   * Where a layer's tiles come from: the shared kernels {@link TileWarmer} compiles ({@link #WARMED}), or the
   * stand-ins of {@link DriverPrimer}.
   */
  interface TileSource {
    /** A convolution tile for layers of lower bound {@code lo} ({@link TileWarmer#conv(int, int, int, float)}). */
    TileWarmer.Tile conv(int blocks, int pixels, int pixelStride, float lo);

    /** A pointwise tile for layers of lower bound {@code lo}. */
    TileWarmer.Tile pointwise(int blocks, int pixels, float lo);

    TileWarmer.Tile depthwise(int pixels);

    TileWarmer.Tile depthwise3x3(int pixels, int stride);

    /** A one-block first tile of any pixel stride, needed now. */
    TileWarmer.Tile first(int pixels);

    /** A one-block pointwise first tile, requested only by {@link #requestFirstPointwise}. */
    TileWarmer.Tile firstPointwise(int pixels);

    /** The shared kernels, warmed by {@link TileWarmer} (first tiles requested as needed). */
    TileSource WARMED = new TileSource() {
      @Override
      public TileWarmer.Tile conv(int blocks, int pixels, int pixelStride, float lo) {
        return TileWarmer.conv(blocks, pixels, pixelStride, lo);
      }

      @Override
      public TileWarmer.Tile pointwise(int blocks, int pixels, float lo) {
        return TileWarmer.pointwise(blocks, pixels, lo);
      }

      @Override
      public TileWarmer.Tile depthwise(int pixels) {
        return TileWarmer.depthwise(pixels);
      }

      @Override
      public TileWarmer.Tile depthwise3x3(int pixels, int stride) {
        return TileWarmer.depthwise3x3(pixels, stride);
      }

      @Override
      public TileWarmer.Tile first(int pixels) {
        TileWarmer.Tile t = TileWarmer.conv(1, pixels, 0);
        TileWarmer.request(t, true);
        return t;
      }

      @Override
      public TileWarmer.Tile firstPointwise(int pixels) {
        return TileWarmer.pointwise(1, pixels);
      }
    };
  }

  /**
   * The widest tile of the two-block chunks of a blocked input, other than those of {@link #wideTwos} rows:
   * {@link #FIRST_PIXELS}. One tile alone on data in the level-1 cache, 128 reduction steps (AMD EPYC Zen 5,
   * JDK 17): pointwise 2x7 103 G multiply-adds/s, 2x10 106, 2x13 83, 2x14 80; 3x3 at pixel stride 1 2x7
   * 105, 2x10 103, 2x13 86, 2x14 96. Rows of 224-pixel networks are multiples of 7 and had 7-pixel tiles
   * anyway; a 160-pixel MobileNet's rows of 80 and 40 had 14- and 13-pixel ones.
   */
  static int twoBlockPixels() {
    return Math.min(TileBudget.maxPixels(2, true), FIRST_PIXELS);
  }

  /**
   * Whether 1x1 layers over blocked inputs ({@link #pointwise}) run in chunks of two output-channel blocks rather
   * than three: {@link #pointwiseTwos(int, int)} for this JVM's widest pointwise tiles of three and two blocks.
   */
  static final boolean POINTWISE_TWOS = pointwiseTwos(TileBudget.maxPixels(3, true), twoBlockPixels());

  /**
   * Whether pointwise chunks of two blocks, with tiles of {@code twoBlockPixels}, hold more accumulators than
   * chunks of three with tiles of {@code threeBlockPixels}, where those hold fewer than
   * {@link #FEW_ACCUMULATORS}. On AVX2 with JDK 17 that is 2x6 against 3x3: 12 independent chains of
   * multiply-adds against 9 (two 4-cycle multiply-add units want at least 8 in flight) and 34 instructions per
   * 12 multiply-adds against 30 per 9, neither loop spilling ({@code tools/bench/c2_disasm.py}). One layer's
   * loops, tiles alternating in one JVM (AMD EPYC Zen 3, JDK 17, warmed with empty calls as the network warms
   * them): 2x6 1.11-1.15x the 3x3 tile's speed on 512->384 14x14, 128->384 56x56 and 1024->384 7x7. In the
   * network the rows split into narrower tiles too (14 pixels: 5, 5, 4) and the input is read by more
   * chunks: MobileNet v1 about 4% less time (N=1, one thread, fresh processes and one JVM). Where the three-block
   * tiles are wide already (AVX-512: 3x7, 21 accumulators) the two-block ones gained nothing per multiply-add
   * (Zen 5: 2x10 106 G/s, 3x7 107), so those layers keep three.
   */
  static boolean pointwiseTwos(int threeBlockPixels, int twoBlockPixels) {
    return 3 * threeBlockPixels < FEW_ACCUMULATORS && 2 * twoBlockPixels > 3 * threeBlockPixels;
  }

  /** Accumulators below which a pointwise tile is taken to leave the multiply-add units idle ({@link #pointwiseTwos}). */
  static final int FEW_ACCUMULATORS = 12;

  /**
   * Reduction steps (input channels) from which a 1x1 layer over a blocked input may run its work items row by row
   * ({@link #rowsFirst(boolean, int, int)}).
   */
  static final int ROWS_FIRST_STEPS = 256;

  /**
   * Floats of one sample's input map above which such a layer runs row by row: half of one core's level-2 cache
   * ({@link CacheSizes#LEVEL_TWO_BYTES}; 256 KB where the cache is 512 KB or cannot be read).
   */
  static final int ROWS_FIRST_INPUT_FLOATS =
      (int) Math.min(Integer.MAX_VALUE, CacheSizes.LEVEL_TWO_BYTES / 2 / Float.BYTES);

  /** The system property {@code kiln.blocked.rowsFirst=false} keeps the chunk-major order for every layer. */
  static final boolean ROWS_FIRST = !"false".equals(System.getProperty("kiln.blocked.rowsFirst"));

  /**
   * Whether a layer runs whole bands of its work row by row through all chunks instead of chunk by chunk through
   * all rows: 1x1 layers over a blocked input of at least {@link #ROWS_FIRST_STEPS} input channels whose input map
   * per sample ({@code inputFloats}) is over {@link #ROWS_FIRST_INPUT_FLOATS}. Chunk by chunk, each chunk keeps its
   * weights near while its tiles read the whole input map, a channel block's lanes at a time (a whole map's stride
   * between blocks), once per chunk, from beyond the level-2 cache when the map is large; row by row, one row of the
   * input (28 KB for MobileNet v1's 256- and 512-channel layers) stays near for every chunk while the weights stream
   * through in order, once per row. One layer's loops, the two orders alternating in one JVM (AMD EPYC Zen 3, JDK
   * 17, two-block chunks of 6-pixel tiles): 256->256 28x28 (800 KB of input) 0.79 of the time, 512->512 14x14 (400
   * KB) 0.82, 128->256 28x28 0.93; 128->128 56x56 0.99, 64->128 56x56 1.00, 32->64 112x112 1.01. In MobileNet v1
   * (per layer against ONNX Runtime in one process) the first two went from 1.42x and 1.30x ONNX Runtime's time to
   * 1.13x and 1.16-1.19x, but the 7x7 layers of 512 and 1,024 input channels (100 and 200 KB of input, 2 and 4 MB of
   * weights, streamed once per row for only seven rows) from 1.30x to 1.43-1.47x: those keep the chunk-major order.
   * The threshold is half the level-2 cache (Zen 3: 512 KB, so those two maps of 800 and 400 KB run row by row): where
   * the map fits beside a chunk's weights, chunk by chunk is the faster order. On an Intel Xeon of the Sapphire Rapids
   * class (2 MB of level 2) the same two layers took 4-5% less time chunk by chunk in the network (MobileNet v1 N=1,
   * one thread, the network's stages timed in sequence) and MobileNet v1 ran 3.7% faster at N=1 on one thread, 2.1% on
   * two and 0.9% at N=8 (medians of three alternating pairs each against ONNX Runtime,
   * {@code bench-results/rows-first-s52-spr-2026-12-07.jsonl}), so there the threshold is 1 MB and both run chunk by
   * chunk. The order of the items does not change any output. A range of items that does not cover whole bands (layers
   * split over threads by output channels, {@link #rangeStart}) keeps the chunk-major order.
   */
  static boolean rowsFirst(boolean pointwise, int steps, int inputFloats) {
    return ROWS_FIRST && pointwise && steps >= ROWS_FIRST_STEPS && inputFloats > ROWS_FIRST_INPUT_FLOATS;
  }

  /**
   * Whether output rows {@code width} pixels wide, not a multiple of 7, are split into chunks of two blocks with
   * tiles of up to 10 pixels (20 accumulators) rather than three blocks with tiles of up to 7: when that makes
   * the narrowest tile at least two pixels wider (rows of 80, 40, 20, 10, 16 or 24 pixels, not 5 or 12). A
   * tile reads each weight vector once per reduction step for all its pixels, so wider tiles read fewer weight
   * bytes per multiply-add (6.4 for 10 pixels, 12.8 for 5), and a layer whose weights come from the level-2
   * cache row after row runs closer to the tiles' own speed. One tile alone on data in the level-1 cache (AMD
   * EPYC Zen 5, JDK 17, 128 steps): pointwise 2x10 106 G multiply-adds/s, 3x7 107, 3x5 104; 13- and 14-pixel
   * two-block tiles were slower (83 and 80), hence 10. MobileNet v1 at 160x160, N=1, 1 thread, per stage in two
   * pairs of fresh JVMs (relative to the 1024->1024 5x5 layer, which keeps its tiles): the five 512->512 10x10
   * pointwise layers 12-13% less time (3x5 tiles before), 32->64 80x80 10%, 64->64 and 128->128 40x40 5-15%,
   * the network 6.5%. Rows that are multiples of 7 (224-pixel networks) keep their tiles.
   */
  static boolean tenPixelTwos(int width) {
    if (width % 7 == 0 || TileBudget.maxPixels(2, true) < TEN_PIXEL_TWOS) {
      return false;
    }
    return minSize(columns(width, TEN_PIXEL_TWOS)) >= minSize(columns(width, FIRST_PIXELS)) + 2;
  }

  /** The widest tile of the two-block chunks of {@link #tenPixelTwos} rows. */
  static final int TEN_PIXEL_TWOS = 10;

  private static int minSize(int[] columns) {
    int min = Integer.MAX_VALUE;
    for (int i = 1; i < columns.length; i += 2) {
      min = Math.min(min, columns[i]);
    }
    return min;
  }

  /**
   * Whether output rows {@code width} pixels wide are split into chunks of two blocks with 14-pixel tiles (28
   * accumulators, 28 multiply-adds per reduction step) rather than three blocks with 7-pixel tiles (21): when the
   * rows are whole 14-pixel tiles and the registers hold such a tile (32 vector registers, as with AVX-512; with 16
   * the two-block tiles are at most 6 pixels wide, and the split stays as it was). One layer timed alone with both, 1
   * thread, hot tiles (AMD EPYC Zen 5, JDK 17): 3x3 convolutions 96->96 28x28 -2%, 192->192 14x14 -3%, 128->128 28x28
   * and 256->256 14x14 -7%, 64->64 56x56 -18% (its two-block chunks had 7-pixel tiles: 14 multiply-adds per step);
   * on 7-pixel rows the two-block tiles are 3% slower. Whole networks, one process alternating both: RepVGG-A0 -0.7%
   * (N=1, 1 thread) and -2.0% (N=8, 2 threads). Not where the JIT loads a body's broadcasts first
   * ({@link TileBudget}: the 2x14 tile does not fit there): on Temurin 25, whose C2 does, RepVGG-A0 ran at
   * 0.89-0.90x of ONNX Runtime with them and 0.98-0.99x without (N=1, 1 thread, three runs each). Pointwise
   * layers keep the three-block split (see the constructor). The system property
   * {@code kiln.blocked.wideTwos=false}, read when a layer is built, turns it off (an experiment switch).
   */
  static boolean wideTwos(int width) {
    int wide = BlockedKernels.MAX_PIXELS[2];
    return TileBudget.maxPixels(2, true) == wide && width % wide == 0
        && !"false".equals(System.getProperty("kiln.blocked.wideTwos"));
  }

  /**
   * Whether three-block convolution chunks on rows {@code width} pixels wide take tiles of 8 pixels where 32
   * registers hold them (24 accumulators), rather than the 7 that rows of a multiple of 7 otherwise get (fewer
   * distinct tiles for a network): each tile reads a chunk's weights once per reduction step for all its
   * pixels, and a chunk's weights (48 input channels x 9 taps x 3 blocks: 83 KB) come from the level-2 cache for
   * every tile, so 8 pixels read 12% fewer weight bytes per multiply-add. RepVGG-A0's 48->48 56x56 layer took 3.7%
   * less time (1,180-1,185 us against 1,226-1,229; AMD EPYC Zen 4, JDK 17, per-stage profile, two pairs of
   * processes) and the network 0.993x at N=1 and 0.996x at N=8 on one thread (two builds alternating in one JVM,
   * 12 rounds), the same bits. The system property {@code kiln.blocked.eights=false} turns it off.
   */
  static boolean eightPixelThrees(int width) {
    return width % 8 == 0 && !"false".equals(System.getProperty("kiln.blocked.eights"));
  }

  /**
   * Block counts of the chunks of {@code blocks} output blocks: with {@code twos} ({@link #wideTwos},
   * {@link #tenPixelTwos}, pointwise layers where {@link #POINTWISE_TWOS}) twos,
   * with one three for an odd count; else threes, with twos (or a one) for the rest.
   */
  static int[] split(int blocks, boolean twos) {
    if (twos && blocks > 1) {
      return blocks % 2 == 0 ? repeat(0, blocks / 2, 0) : repeat(1, (blocks - 3) / 2, 0);
    }
    int threes = blocks / 3;
    switch (blocks % 3) {
      case 0:
        return repeat(threes, 0, 0);
      case 2:
        return repeat(threes, 1, 0);
      default:
        return threes == 0 ? new int[] {1} : repeat(threes - 1, 2, 0);
    }
  }

  private static int[] repeat(int threes, int twos, int ones) {
    int[] s = new int[threes + twos + ones];
    java.util.Arrays.fill(s, 0, threes, 3);
    java.util.Arrays.fill(s, threes, threes + twos, 2);
    java.util.Arrays.fill(s, threes + twos, s.length, 1);
    return s;
  }

  /** {@link #columns(int, int, boolean)} preferring tiles of 7. */
  static int[] columns(int width, int max) {
    return columns(width, max, true);
  }

  /**
   * Tiles of a row of {@code width} pixels, at most {@code max} each, as {first, size} pairs: with
   * {@code sevens}, all of size 7 when that divides the width (feature maps of 224-pixel inputs are 7 times a
   * power of two wide, and the fewer distinct tile kernels a network uses, the fewer the JIT has to compile
   * before the network runs at full speed); else all of size {@code max} when that divides the width, else as
   * even as possible.
   */
  static int[] columns(int width, int max, boolean sevens) {
    int size = sevens && max >= 7 && width % 7 == 0 ? 7 : width % max == 0 ? max : 0;
    int n = size > 0 ? width / size : (width + max - 1) / max;
    int[] c = new int[2 * n];
    int start = 0;
    for (int i = 0; i < n; i++) {
      int s = size > 0 ? size : width / n + (i < width % n ? 1 : 0);
      c[2 * i] = start;
      c[2 * i + 1] = s;
      start += s;
    }
    return c;
  }

  /**
   * For column runs {@code columns} ({first, size} pairs), how many columns from each on have its size: the
   * tiles a depthwise 3x3 layer computes in one call from there ({@link #runs}).
   */
  static int[] runs(int[] columns) {
    int n = columns.length / 2;
    int[] runs = new int[n];
    for (int i = n - 1; i >= 0; i--) {
      runs[i] = i + 1 < n && columns[2 * i + 3] == columns[2 * i + 1] ? runs[i + 1] + 1 : 1;
    }
    return runs;
  }

  /**
   * A depthwise tile in plain Java: per lane the same fused multiply-adds in the same order as the vector
   * tiles, so the same bits. Fast enough to run a network's first forward while the vector tiles compile
   * (a depthwise layer has few multiply-adds per output) once compiled itself: the warmer compiles it as soon as
   * a depthwise layer is constructed ({@link #firstCode}). Two pixels at a time, four lanes of each: eight
   * independent chains of fused multiply-adds in locals, each weight read once for both pixels (one pixel's four
   * lanes at a time ran at 1.25-1.5 G multiply-adds/s compiled, two pixels' at 1.8-2.3: AMD EPYC Zen 3, JDK 17,
   * rows of 14 and 56 pixels at strides 1 and 2, bench-results/depthwise-plain-pairs-s49-zen3-2026-12-07.txt);
   * an odd last pixel four lanes at a time.
   */
  static void depthwiseScalar(float[] x, int xo, int sx, int[] offsets, int steps, float[] w, int wo,
      float[] b, int bo, float lo, float hi, float[] y, int yo, int pixels) {
    // LANES is a multiple of four wherever layers run blocked (supports).
    int t = 0;
    for (; t + 1 < pixels; t += 2) {
      int xt = xo + t * sx;
      int yt = yo + t * LANES;
      for (int lane = 0; lane < LANES; lane += 4) {
        float s0 = b[bo + lane];
        float s1 = b[bo + lane + 1];
        float s2 = b[bo + lane + 2];
        float s3 = b[bo + lane + 3];
        float u0 = s0;
        float u1 = s1;
        float u2 = s2;
        float u3 = s3;
        for (int k = 0; k < steps; k++) {
          int xk = xt + offsets[k] + lane;
          int wk = wo + k * LANES + lane;
          float w0 = w[wk];
          float w1 = w[wk + 1];
          float w2 = w[wk + 2];
          float w3 = w[wk + 3];
          s0 = Math.fma(x[xk], w0, s0);
          s1 = Math.fma(x[xk + 1], w1, s1);
          s2 = Math.fma(x[xk + 2], w2, s2);
          s3 = Math.fma(x[xk + 3], w3, s3);
          u0 = Math.fma(x[xk + sx], w0, u0);
          u1 = Math.fma(x[xk + sx + 1], w1, u1);
          u2 = Math.fma(x[xk + sx + 2], w2, u2);
          u3 = Math.fma(x[xk + sx + 3], w3, u3);
        }
        y[yt + lane] = Math.min(Math.max(s0, lo), hi);
        y[yt + lane + 1] = Math.min(Math.max(s1, lo), hi);
        y[yt + lane + 2] = Math.min(Math.max(s2, lo), hi);
        y[yt + lane + 3] = Math.min(Math.max(s3, lo), hi);
        y[yt + LANES + lane] = Math.min(Math.max(u0, lo), hi);
        y[yt + LANES + lane + 1] = Math.min(Math.max(u1, lo), hi);
        y[yt + LANES + lane + 2] = Math.min(Math.max(u2, lo), hi);
        y[yt + LANES + lane + 3] = Math.min(Math.max(u3, lo), hi);
      }
    }
    if (t < pixels) {
      // The odd last pixel, four lanes at a time: in this method, so that it runs C2's code too (a method of its
      // own, called on the tiles' last pixels only, stayed in C1's profiled code through the first forward).
      int xt = xo + t * sx;
      int yt = yo + t * LANES;
      for (int lane = 0; lane < LANES; lane += 4) {
        float s0 = b[bo + lane];
        float s1 = b[bo + lane + 1];
        float s2 = b[bo + lane + 2];
        float s3 = b[bo + lane + 3];
        for (int k = 0; k < steps; k++) {
          int xk = xt + offsets[k] + lane;
          int wk = wo + k * LANES + lane;
          s0 = Math.fma(x[xk], w[wk], s0);
          s1 = Math.fma(x[xk + 1], w[wk + 1], s1);
          s2 = Math.fma(x[xk + 2], w[wk + 2], s2);
          s3 = Math.fma(x[xk + 3], w[wk + 3], s3);
        }
        y[yt + lane] = Math.min(Math.max(s0, lo), hi);
        y[yt + lane + 1] = Math.min(Math.max(s1, lo), hi);
        y[yt + lane + 2] = Math.min(Math.max(s2, lo), hi);
        y[yt + lane + 3] = Math.min(Math.max(s3, lo), hi);
      }
    }
  }

  /**
   * Packs the current values of {@code weight} and {@code bias} ahead of the layer's run: a network's first forward
   * has the tile warmer's thread do it while the forward runs the layers before ({@link BlockedNetwork#forward}).
   */
  void prepareWeights(Parameter weight, Parameter bias) {
    packed(weight, bias);
  }

  /** Whether the packed weights are those of {@code weight}'s and {@code bias}'s current values (for tests). */
  boolean weightsPrepared(Parameter weight, Parameter bias) {
    Packed p = packed;
    return p != null && p.isFor(weight, weight.version(), bias, bias == null ? 0 : bias.version());
  }

  /** The packed weights for the current parameter values. */
  private Packed packed(Parameter weight, Parameter bias) {
    long wv = weight.version();
    long bv = bias == null ? 0 : bias.version();
    Packed p = packed;
    if (p != null && p.isFor(weight, wv, bias, bv)) {
      return p;
    }
    // One thread packs, the others wait for it: on several threads every thread of a network's first forward
    // reaches each layer at once, and each packed all of its weights (twice the work on two threads, while
    // the JIT needs the processors too).
    synchronized (this) {
      p = packed;
      if (p != null && p.isFor(weight, wv, bias, bv)) {
        return p;
      }
      return pack(weight, wv, bias, bv);
    }
  }

  private Packed pack(Parameter weight, long wv, Parameter bias, long bv) {
    Packed p;
    float[] w = weight.data().data();
    float[] b = bias == null ? null : bias.data().data();
    int taps = geometry.kernelH() * geometry.kernelW();
    int outGroupChannels = geometry.outChannelsPerGroup();
    int inGroupChannels = geometry.inChannelsPerGroup();
    Chunk last = chunks.get(chunks.size() - 1);
    if (home == null) {
      home = AlignedFloats.share(weightFloats());
    }
    float[] wp = home.array();
    int base = home.base();
    float[] bp = new float[last.biasOffset() + last.blocks() * LANES];
    // Loop bounds and offsets in locals: the first forward packs every layer's weights, mostly before the JIT
    // has compiled this method, and an interpreted accessor call per weight cost more than the copy.
    int rows = depthwise ? taps : steps;
    int outChannels = geometry.outChannels();
    boolean grouped = !depthwise && geometry.groups() > 1;
    for (Chunk c : chunks) {
      int blocks = c.blocks();
      int stride = blocks * LANES;
      int groupEnd = (c.group() + 1) * outGroupChannels;
      for (int m = 0; m < blocks; m++) {
        for (int lane = 0; lane < LANES; lane++) {
          int oc = (c.block() + m) * LANES + lane;
          if (oc >= outChannels || grouped && oc >= groupEnd) {
            continue;
          }
          if (b != null) {
            bp[c.biasOffset() + m * LANES + lane] = b[oc];
          }
          packChannel(w, oc * inGroupChannels * taps, wp, base + c.weightOffset() + m * LANES + lane, stride, rows);
        }
      }
    }
    p = new Packed(weight, wv, bias, bv, wp, base, bp);
    packed = p;
    return p;
  }

  /**
   * One output channel's {@code rows} weights from {@code w[src..]} into the packed order, {@code stride} apart
   * from {@code wp[dst]}. A method called once per output channel, not a loop in {@link #pack}: C2 compiled that
   * whole method (an on-stack replacement, then again) from its loop's counts in every cold start, 41-47 ms of its
   * one thread during MobileNet v1's first forward (tools/bench/compile_timeline.py), where this method is a small
   * compilation.
   */
  private static void packChannel(float[] w, int src, float[] wp, int dst, int stride, int rows) {
    for (int r = 0; r < rows; r++) {
      wp[dst + r * stride] = w[src + r];
    }
  }

  /**
   * Work items of a batch of {@code n}: (row band, chunk, sample, output row within the band), for a given
   * number of bands ({@link #run}): within a band, chunk by chunk, so that a chunk's weights are read for all
   * the band's rows of all samples while they are in cache. With one band that is chunk-major over the batch.
   */
  int items(int n) {
    return n * chunks.size() * geometry.outHeight();
  }

  /**
   * The first work item, for one sample in one band, of the chunks that hold any of output channels
   * {@code [ocStart, ocEnd)} ({@link #endItem} the end): the items that compute those channels (and the rest of
   * the chunks they share).
   */
  int firstItem(int ocStart) {
    int i = 0;
    while (i < chunks.size() && (chunks.get(i).block() + chunks.get(i).blocks()) * LANES <= ocStart) {
      i++;
    }
    return i * geometry.outHeight();
  }

  /** See {@link #firstItem}: the end of the items of the chunks that hold any of channels below {@code ocEnd}. */
  int endItem(int ocEnd) {
    int i = chunks.size();
    while (i > 0 && chunks.get(i - 1).block() * LANES >= ocEnd) {
      i--;
    }
    return i * geometry.outHeight();
  }

  /**
   * How many times its input map a layer's weights must be for {@link #weightHeavy}. With RepVGG-A0's 192->192
   * 14x14 layers (weights 6.8 times the input) split by output channels, the network at N=1 on two threads
   * took 4.2% less time (one process alternating the two ways); MobileNet v1's 512->512 14x14 pointwise layers
   * (2.5 times) did not gain, as before with every pointwise layer split that way (8% slower).
   */
  static final int WEIGHT_HEAVY = 4;

  /**
   * Whether this layer's weights are more than {@link #WEIGHT_HEAVY} times its input map for a batch of
   * {@code samples}: split over threads by row bands, each thread would read all the weights for a small part
   * of the map, so it is split by output channels instead (each thread reads its share of the weights and
   * all the input).
   */
  boolean weightHeavy(int samples) {
    return geometry.weightElements() > (long) WEIGHT_HEAVY * in.sampleSize * samples;
  }

  /**
   * Row bands when a batch of {@code samples} is split over {@code threads} threads: one per thread when the
   * output rows divide evenly among them, so that each thread computes the same rows of every such layer and
   * reads the previous layer's rows from its own cache (MobileNet v1 at N=1 on 2 threads: about 10% less time
   * than with every layer split by output-channel chunks, in one process alternating the two ways); else 1,
   * and the work is split by output-channel chunks ({@link #rangeStart}): when the rows do not divide evenly
   * (with 7 rows on two threads one band would hold 4 and the other 3, and each thread would stream all of a
   * large layer's weights: bands for those layers too made RepVGG-A0 2.5% and MobileNet about 2% slower), and
   * when the layer is {@link #weightHeavy}.
   */
  int bands(int threads, int samples) {
    return threads > 1 && geometry.outHeight() % threads == 0 && !weightHeavy(samples) ? threads : 1;
  }

  /** The first item of band {@code j} of {@code bands} (which divides the output rows) in a batch of {@code samples}. */
  int bandStart(int j, int bands, int samples) {
    return j * chunks.size() * samples * (geometry.outHeight() / bands);
  }

  /**
   * The first item of thread {@code j}'s range when a batch of {@code samples} is split into {@code ranges}
   * ranges in {@code bands} bands ({@link #bands}): band {@code j} when there are bands (one per range), else
   * a run of the chunk-major order with an equal share of the work (output blocks times rows, to the nearest
   * item), so that each thread computes its share of the output channels and reads its share of the weights.
   */
  int rangeStart(int j, int ranges, int bands, int samples) {
    if (bands > 1) {
      return bandStart(j, bands, samples);
    }
    if (j <= 0 || j >= ranges) {
      return j <= 0 ? 0 : items(samples);
    }
    // Items of a chunk of m blocks are m blocks' work each: the runs are equal in blocks, not in items. With the
    // three-block chunks first and the twos last (split), equal items gave one thread more: MobileNet v1's
    // 1024->1024 7x7 pointwise layer (20 threes, 2 twos) 33 blocks against 31 on two threads. The chunks hold
    // the output blocks in order, each once, so a chunk's first block counts the blocks before it.
    int perChunk = samples * geometry.outHeight();
    long target = (long) out.blocks * perChunk * j / ranges;
    for (int i = 0; i < chunks.size(); i++) {
      Chunk c = chunks.get(i);
      if ((long) (c.block() + c.blocks()) * perChunk > target) {
        return i * perChunk + (int) ((target - (long) c.block() * perChunk + c.blocks() / 2) / c.blocks());
      }
    }
    return items(samples);
  }

  /**
   * The work of items {@code [start, end)} of the chunk-major order (one band) for a batch of {@code samples}:
   * the output blocks times rows they compute ({@link #rangeStart} gives each thread an equal share of it). Only
   * tests call it, to check that split against the chunks item by item.
   */
  long work(int start, int end, int samples) {
    int perChunk = samples * geometry.outHeight();
    long w = 0;
    for (int i = 0; i < chunks.size(); i++) {
      int from = Math.max(start, i * perChunk);
      int to = Math.min(end, (i + 1) * perChunk);
      if (to > from) {
        w += (long) (to - from) * chunks.get(i).blocks();
      }
    }
    return w;
  }

  /** Whether a batch of {@code n} is worth splitting over threads. */
  boolean splits(int n) {
    return Parallel.worthSplitting(macs * n, Parallel.MIN_MACS);
  }

  /**
   * Computes work items {@code [start, end)} of a batch of {@code samples} in {@code bands} row bands (a
   * divisor of the output rows; see {@link #items}) from the input at {@code x[xOff..]} (sample after sample, {@link #in} each)
   * into the output at {@code y[yOff..]} ({@link #out} each). The order of the items does not change any
   * output.
   */
  void run(Parameter weight, Parameter bias, float[] x, int xOff, float[] y, int yOff, int samples, int bands,
      int start, int end) {
    checkBands(bands);
    run(packed(weight, bias), x, xOff, y, yOff, samples, bands, start, end);
  }

  private void checkBands(int bands) {
    int rows = geometry.outHeight();
    if (bands < 1 || rows % bands != 0) {
      throw new IllegalArgumentException(bands + " bands do not divide " + rows + " output rows");
    }
  }

  /** Where the packed weights go ({@link #placeWeights}; null before a first packing without it). */
  synchronized AlignedFloats.Share weightHome() {
    return home;
  }

  /** The floats of this layer's packed weights ({@link #packedColumn}), a multiple of {@link VectorShape#LANES}. */
  int weightFloats() {
    Chunk last = chunks.get(chunks.size() - 1);
    int taps = geometry.kernelH() * geometry.kernelW();
    return last.weightOffset() + (depthwise ? taps : steps) * last.blocks() * LANES;
  }

  /**
   * Packs this layer's weights into {@link #weightFloats} floats of {@code home} from now on (every version, in
   * place: a forward on another thread while the weights change reads some of each).
   */
  void placeWeights(AlignedFloats.Share home) {
    Objects.checkFromIndexSize(home.base(), weightFloats(), home.array().length);
    synchronized (this) {
      this.home = home;
      packed = null;
    }
  }

  /**
   * Where output channel {@code oc}'s weight of reduction step 0 is in the packed weights; step {@code r} is
   * {@code r * }{@link #packedStride}{@code (oc)} further. A layer without groups, not depthwise.
   */
  int packedColumn(int oc) {
    Chunk c = chunkOf(oc);
    return c.weightOffset() + (oc / LANES - c.block()) * LANES + oc % LANES;
  }

  /** See {@link #packedColumn}. */
  int packedStride(int oc) {
    return chunkOf(oc).blocks() * LANES;
  }

  private Chunk chunkOf(int oc) {
    if (depthwise || geometry.groups() != 1) {
      throw new IllegalStateException("only for a layer without groups");
    }
    for (Chunk c : chunks) {
      if (oc / LANES < c.block() + c.blocks()) {
        return c;
      }
    }
    throw new IllegalArgumentException("no output channel " + oc);
  }

  /**
   * Weights packed elsewhere, at {@code w[base..]} as {@link #packedColumn} says, and no bias, for
   * {@link #run(Packed, float[], int, float[], int, int, int, int, int)}.
   */
  Packed packedAt(float[] w, int base) {
    int blocks = out.blocks;
    return new Packed(null, 0, null, 0, w, base, new float[blocks * LANES]);
  }

  /** {@link #run(Parameter, Parameter, float[], int, float[], int, int, int, int, int)} with packed weights. */
  void run(Packed p, float[] x, int xOff, float[] y, int yOff, int samples, int bands, int start, int end) {
    checkBands(bands);
    int rows = geometry.outHeight();
    int bandRows = rows / bands;
    int perChunk = samples * bandRows;
    int perBand = chunks.size() * perChunk;
    // Items come in runs of consecutive output rows of one chunk and sample (a band's rows, or what of them the
    // range holds), each run one call of a path below; this loop makes one step per run.
    // Whole bands of a rowsFirst layer: item (band, sample, row, chunk) in that order, one row of one chunk each.
    boolean byRows = rowsFirst && start % perBand == 0 && end % perBand == 0;
    int chunkCount = chunks.size();
    int item = start;
    while (item < end) {
      int band = item / perBand;
      int local = item - band * perBand;
      int chunk;
      int n;
      int row;
      int count;
      if (byRows) {
        int sampleRow = local / chunkCount;
        chunk = local - sampleRow * chunkCount;
        n = sampleRow / bandRows;
        row = sampleRow - n * bandRows;
        if (groupRows > 0 && chunk == 0 && row % groupRows == 0 && row + groupRows <= bandRows) {
          // A row group through all chunks (items of its rows, every chunk: all in this range's whole bands); the
          // band's last takes all the rows left.
          int j = bandRows - row < 2 * groupRows ? bandRows - row : groupRows;
          groupThroughChunks(p, x, xOff, y, yOff, n, band * bandRows + row, row, j, bandRows);
          item += j * chunkCount;
          continue;
        }
        count = 1;
      } else {
        chunk = local / perChunk;
        n = local % perChunk / bandRows;
        row = local % bandRows;
        count = Math.min(bandRows - row, end - item);
      }
      runRows(chunk, p, x, xOff, y, yOff, n, band * bandRows + row, row, count, bandRows);
      item += count;
    }
  }

  /**
   * A row group ({@code count} rows from {@code oh} on) through every chunk, as {@link #runRows} runs rows: a method
   * of its own, so that {@link #run}'s loop has no loop inside it (see below).
   */
  private void groupThroughChunks(Packed p, float[] x, int xOff, float[] y, int yOff, int n, int oh, int row,
      int count, int bandRows) {
    for (int ci = 0; ci < chunks.size(); ci++) {
      runRows(ci, p, x, xOff, y, yOff, n, oh, row, count, bandRows);
    }
  }

  /**
   * Rows {@code [oh, oh + count)} of chunk {@code chunk}'s outputs for sample {@code n}; {@code row} is
   * {@code oh}'s place in its band of {@code bandRows} rows, where row groups start ({@link #rowGroups}).
   */
  private void runRows(int chunk, Packed p, float[] x, int xOff, float[] y, int yOff, int n, int oh, int row,
      int count, int bandRows) {
    int rowIn = geometry.strideH() * in.rowStride;
    Chunk c = chunks.get(chunk);
    int xBase = xOff + n * in.sampleSize
        + (depthwise ? c.block() * in.blockStride : in.channelOffset(c.group() * geometry.inChannelsPerGroup()))
        + in.pixel(-geometry.padTop(), -geometry.padLeft()) + oh * rowIn;
    int yBase = yOff + n * out.sampleSize + c.block() * out.blockStride + out.pixel(oh, 0);
    if (depthwise) {
      depthwiseRows(c, p, x, xBase, rowIn, y, yBase, count);
    } else if (!firstTilesOnly && (chunkHot[chunk] || (chunkHot[chunk] = c.hot()))) {
      chunkRows(c, p, x, xBase, rowIn, y, yBase, row, count, bandRows);
    } else {
      firstTileRows(c, p, x, xBase, rowIn, y, yBase, count);
    }
    if (!depthwise && hi != Float.POSITIVE_INFINITY) {
      clampRows(c, y, yBase, count);
    }
  }

  /*
   * The paths of a run of rows are methods of their own, each with its loops, so that the JIT compiles each
   * once, from the calls of every layer; with all of them in run's loop it compiled that whole loop again for
   * each inner loop that got hot (on-stack replacement at four places: MobileNet v1 at N=8 on two threads took C2
   * 0.5 s in its first forward for that method alone, on the AMD EPYC Zen 1 machine), and a loop of one step per
   * row stayed interpreted for most of a first forward when the inner loops were taken out of it.
   */

  /**
   * {@code count} rows of one block's outputs of a depthwise layer, tile by tile, in plain Java where a tile is
   * not hot yet.
   */
  private void depthwiseRows(Chunk c, Packed p, float[] x, int xBase, int rowIn, float[] y, int yBase, int count) {
    int[] cols = c.columns();
    TileWarmer.Tile[] tiles = c.tiles();
    float[] pw = p.w();
    float[] pb = p.b();
    int wo = p.base() + c.weightOffset();
    int bo = c.biasOffset();
    for (int r = 0; r < count; r++) {
      int xr = xBase + r * rowIn;
      int yr = yBase + r * out.rowStride;
      for (int i = 0; i < tiles.length; ) {
        int col = cols[2 * i];
        TileWarmer.Tile t = tiles[i];
        if (firstTilesOnly || !t.hot()) {
          // Few multiply-adds per output: plain Java until the vector tile is compiled (same sums, same bits).
          depthwiseScalar(x, xr + col * sx, sx, off, steps, pw, wo, pb, bo, lo, hi, y, yr + col * LANES,
              cols[2 * i + 1]);
          i++;
        } else if (threeByThree) {
          // One call for the tiles of this width from here on.
          int run = runs[i];
          t.depthwise3x3.run(x, xr + col * sx, in.rowStride, pw, wo, pb, bo, lo, hi, y, yr + col * LANES, run);
          i += run;
        } else {
          t.depthwise.run(x, xr + col * sx, sx, off, steps, pw, wo, pb, bo, lo, hi, y, yr + col * LANES, LANES);
          i++;
        }
      }
    }
  }

  /**
   * {@code count} rows of a chunk's outputs whose own tiles are hot, tile by tile: row groups as one run of pixels
   * where the chunk has them ({@link #rowGroups}; {@code row} is the first row's place in its band of {@code
   * bandRows} rows, groups start at multiples of their rows, the band's last takes the rows left), other rows each
   * on its own.
   */
  private void chunkRows(Chunk c, Packed p, float[] x, int xBase, int rowIn, float[] y, int yBase, int row,
      int count, int bandRows) {
    int[] cols = c.columns();
    TileWarmer.Tile[] tiles = c.tiles();
    float[] pw = p.w();
    float[] pb = p.b();
    int wo = p.base() + c.weightOffset();
    int ws = c.blocks() * LANES;
    int bo = c.biasOffset();
    int ys = out.blockStride;
    int k = c.groupRows();
    for (int r = 0; r < count; ) {
      int xr = xBase + r * rowIn;
      int yr = yBase + r * out.rowStride;
      if (k > 0 && (row + r) % k == 0) {
        int left = bandRows - row - r;
        int j = left < 2 * k ? left : k;
        if (j >= k && r + j <= count) {
          groupRows(c, j, pw, wo, pb, x, xr, y, yr);
          r += j;
          continue;
        }
      }
      runTiles(cols, tiles, pw, wo, ws, pb, bo, x, xr, y, yr, ys);
      r++;
    }
  }

  /**
   * The tiles of column runs {@code cols} ({first, size} pairs) over one run of pixels: inputs from {@code x[xr..]},
   * outputs from {@code y[yr..]}, {@code ys} floats from one output block to the next; weights packed {@code ws} a
   * step.
   */
  private void runTiles(int[] cols, TileWarmer.Tile[] tiles, float[] pw, int wo, int ws, float[] pb, int bo, float[] x,
      int xr, float[] y, int yr, int ys) {
    for (int i = 0; i < tiles.length; i++) {
      int col = cols[2 * i];
      tiles[i].conv.run(x, xr + col * sx, sx, off, steps, pw, wo, ws, pb, bo, lo, y, yr + col * LANES, LANES, ys);
    }
  }

  /**
   * A row group of {@code rows} rows of a chunk ({@link RowGroups}) from input row {@code x[xr..]} and output row
   * {@code y[yr..]} on: its rows' pixels one run of tiles, written into the output where its rows are one run too,
   * else into this thread's buffer and from there row by row into the output.
   */
  private void groupRows(Chunk c, int rows, float[] pw, int wo, float[] pb, float[] x, int xr, float[] y, int yr) {
    int width = geometry.outWidth();
    int blocks = c.blocks();
    float[] dst = y;
    int dstOff = yr;
    int dstBlock = out.blockStride;
    if (groupScratch > 0) {
      dst = GROUP_BUFFER.get();
      if (dst == null || dst.length < groupScratch) {
        dst = new float[groupScratch];
        GROUP_BUFFER.set(dst);
      }
      dstOff = 0;
      dstBlock = rows * width * LANES;
    }
    int j = rows - c.groupRows();
    runTiles(c.groups().columns()[j], c.groups().tiles()[j], pw, wo, blocks * LANES, pb, c.biasOffset(), x, xr, dst,
        dstOff, dstBlock);
    if (groupScratch > 0) {
      for (int m = 0; m < blocks; m++) {
        for (int r = 0; r < rows; r++) {
          System.arraycopy(dst, m * dstBlock + r * width * LANES, y, yr + m * out.blockStride + r * out.rowStride,
              width * LANES);
        }
      }
    }
  }

  /**
   * {@code count} rows of a chunk's outputs before its tiles are hot: on the pair tile where it is hot ({@link
   * #firstPairTiles}), else one block at a time with the shared one-block tiles (same sums, same bits). Arguments in
   * locals: this runs in the first forward, before the JIT has compiled it.
   */
  private void firstTileRows(Chunk c, Packed p, float[] x, int xBase, int rowIn, float[] y, int yBase, int count) {
    if (firstPairTiles != null && firstPairTiles[0].hot()) {
      firstPairRows(c, p, x, xBase, rowIn, y, yBase, count);
      return;
    }
    int blocks = c.blocks();
    int ws = blocks * LANES;
    float[] pw = p.w();
    float[] pb = p.b();
    int wo = p.base() + c.weightOffset();
    int bo = c.biasOffset();
    int ys = out.blockStride;
    int yRow = out.rowStride;
    for (int r = 0; r < count; r++) {
      for (int i = 0; i < firstTiles.length; i++) {
        // The pointwise tile where it is hot (the same sums in the same order: the same bits), else the first
        // tile (compiled first; nothing waits for the pointwise one).
        TileWarmer.Tile t = firstPointwiseTiles != null && firstPointwiseTiles[i].hot() ? firstPointwiseTiles[i]
            : firstTiles[i];
        t.awaitHot();
        BlockedKernels.ConvTile tile = t.conv;
        int xo = xBase + r * rowIn + firstColumns[2 * i] * sx;
        int yo = yBase + r * yRow + firstColumns[2 * i] * LANES;
        for (int m = 0; m < blocks; m++) {
          tile.run(x, xo, sx, off, steps, pw, wo + m * LANES, ws, pb, bo + m * LANES, lo, y, yo + m * ys, LANES, ys);
        }
      }
    }
  }

  /**
   * {@code count} rows of a two-block chunk's outputs on the pair tile ({@link #firstPairTiles}) before the chunk's
   * tiles are all hot: both blocks per call over runs of its width (the same sums, same bits).
   */
  private void firstPairRows(Chunk c, Packed p, float[] x, int xBase, int rowIn, float[] y, int yBase, int count) {
    for (int r = 0; r < count; r++) {
      runTiles(firstPairColumns, firstPairTiles, p.w(), p.base() + c.weightOffset(), 2 * LANES, p.b(), c.biasOffset(),
          x, xBase + r * rowIn, y, yBase + r * out.rowStride, out.blockStride);
    }
  }

  /**
   * The widest tile a chunk runs (on its rows or its row groups) that fits a row of {@code width} pixels: its
   * pixels. The pair tile ({@link #firstPairTiles}) is that tile, so that it is not one more to compile.
   */
  private static int widestRun(Chunk c, int width) {
    int widest = widest(c.columns(), width);
    if (c.groups() != null) {
      for (int[] cols : c.groups().columns()) {
        widest = Math.max(widest, widest(cols, width));
      }
    }
    return widest;
  }

  /** The widest of column runs {@code columns} that fits {@code width} pixels. */
  private static int widest(int[] columns, int width) {
    int widest = 0;
    for (int i = 1; i < columns.length; i += 2) {
      widest = columns[i] <= width ? Math.max(widest, columns[i]) : widest;
    }
    return widest;
  }

  /** {@code runs} times the chunk's tile of {@code pixels} pixels (its rows' or its row groups'): the pair tile. */
  private static TileWarmer.Tile[] pairTiles(Chunk c, int pixels, int runs) {
    TileWarmer.Tile t = tileOf(c.columns(), c.tiles(), pixels);
    for (int j = 0; t == null; j++) {
      t = tileOf(c.groups().columns()[j], c.groups().tiles()[j], pixels);
    }
    TileWarmer.Tile[] tiles = new TileWarmer.Tile[runs];
    java.util.Arrays.fill(tiles, t);
    return tiles;
  }

  /** The tile of the first run of {@code pixels} in {@code columns}, null for none. */
  private static TileWarmer.Tile tileOf(int[] columns, TileWarmer.Tile[] tiles, int pixels) {
    for (int i = 0; i < tiles.length; i++) {
      if (columns[2 * i + 1] == pixels) {
        return tiles[i];
      }
    }
    return null;
  }

  /** The upper bound of the activation on {@code count} rows of a chunk's outputs (the tiles leave it out). */
  private void clampRows(Chunk c, float[] y, int yBase, int count) {
    int width = geometry.outWidth() * LANES;
    for (int r = 0; r < count; r++) {
      for (int m = 0; m < c.blocks(); m++) {
        int from = yBase + r * out.rowStride + m * out.blockStride;
        clampAbove(y, from, from + width, hi);
      }
    }
  }

  /**
   * {@code y[i] = min(y[i], hi)} over {@code [from, to)}: the upper bound of an activation (ReLU6), which the
   * convolution tiles leave out (depthwise tiles apply it themselves). A loop C2 vectorizes; cheap in any tier.
   */
  private static void clampAbove(float[] y, int from, int to, float hi) {
    for (int i = from; i < to; i++) {
      y[i] = Math.min(y[i], hi);
    }
  }
}
