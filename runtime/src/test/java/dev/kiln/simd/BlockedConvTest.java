package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.kiln.testing.NumericAssertions.assertSameBits;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.Parameter;
import dev.kiln.nn.ReferenceConv2d;
import dev.kiln.runtime.Parallel;
import dev.kiln.simd.NaiveConvKernel.Grouping;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link BlockedConv} against {@link ReferenceConv2d} over seeded random geometries with zero padding:
 * strides, dilation, kernels up to 5, groups (1, depthwise, whole-block groups), channel counts around the
 * block size, planes and blocked inputs with extra halo, batches of 1-3 split over 1 and 2 threads in
 * random work ranges; the halo of the output must stay zero. Counted.
 */
@ExtendWith(TilesNotAwaited.class)
class BlockedConvTest {
  private static final int CASES = 120;
  private final int savedThreads = Parallel.threads();

  @AfterEach
  void restoreThreads() {
    Parallel.setThreads(savedThreads);
  }

  @Test
  void matchesTheReference() {
    SplittableRandom r = new SplittableRandom(20261201);
    int depthwise = 0;
    int grouped = 0;
    int planes = 0;
    for (int i = 0; i < CASES; i++) {
      Grouping grouping = switch (r.nextInt(4)) {
        case 0 -> new Grouping(1, 1 + r.nextInt(40), 1 + r.nextInt(3 * VectorShape.LANES + 5));
        case 1 -> new Grouping(2 + r.nextInt(2), VectorShape.LANES * (1 + r.nextInt(2)),
            VectorShape.LANES * (1 + r.nextInt(3)));
        default -> new Grouping(1 + r.nextInt(3 * VectorShape.LANES), 1, 1);
      };
      int k = r.nextInt(3) == 0 ? 1 + r.nextInt(5) : 3;
      int kw = r.nextInt(4) == 0 ? 1 + r.nextInt(5) : k;
      int s = r.nextInt(3) == 0 ? 2 : 1;
      int sw = r.nextInt(4) == 0 ? 1 + r.nextInt(3) : s;
      int d = r.nextInt(6) == 0 ? 2 : 1;
      int h = 1 + r.nextInt(12);
      int w = 1 + r.nextInt(24);
      int[] pad = NaiveConvKernel.randomPadding(r);
      if (!NaiveConvKernel.windowFits(h, pad[0], pad[1], k, d)
          || !NaiveConvKernel.windowFits(w, pad[2], pad[3], kw, d)) {
        i--;
        continue;
      }
      ConvGeometry g = NaiveConvKernel.geometry(grouping, h, w, k, kw, s, sw, d, d, pad, PaddingMode.ZEROS);
      int groups = grouping.groups();
      boolean blockedInput = BlockedConv.isDepthwise(g) || groups > 1 || r.nextBoolean();
      if (BlockedConv.isDepthwise(g)) {
        depthwise++;
      } else if (groups > 1) {
        grouped++;
      }
      if (!blockedInput) {
        planes++;
      }
      check(g, blockedInput, r.nextBoolean(), Activation.values()[r.nextInt(Activation.values().length)], r);
    }
    assertThat(depthwise).isAtLeast(15);
    assertThat(grouped).isAtLeast(15);
    assertThat(planes).isAtLeast(8); // about an eighth of the cases: ungrouped, and planes drawn for half of them
  }

  /** The RepVGG-A0 and MobileNet layer kinds (stem, stride 2, wide 3x3, depthwise, pointwise), on 1 and 2 threads. */
  @Test
  void networkLayers() {
    SplittableRandom r = new SplittableRandom(7);
    // in -> out channels, square input size, kernel, stride, groups (padding: half the kernel)
    int[][] shapes = {{3, 48, 64, 3, 2, 1}, {48, 48, 40, 3, 2, 1}, {192, 192, 14, 3, 1, 1}, {64, 64, 28, 3, 1, 64},
        {512, 1024, 7, 1, 1, 1}};
    ConvGeometry[] layers = java.util.Arrays.stream(shapes)
        .map(l -> NaiveConvKernel.geometry(l[0], l[1], l[2], l[2], l[3], l[3], l[4], l[4], 1, 1, l[3] / 2, l[3] / 2,
            l[3] / 2, l[3] / 2, l[5], PaddingMode.ZEROS))
        .toArray(ConvGeometry[]::new);
    for (ConvGeometry g : layers) {
      for (int threads = 1; threads <= 2; threads++) {
        Parallel.setThreads(threads);
        check(g, g.inChannels() >= VectorShape.LANES, true, Activation.RELU, r);
      }
    }
  }

  /**
   * A depthwise 3x3 tile called once for a run of tiles along a row gives the same bits as one call per tile,
   * and writes nothing past the run: every width and both strides, runs of 1-4 tiles, rows of any stride.
   */
  @Test
  void depthwise3x3RunOfTilesEqualsOneCallPerTile() {
    SplittableRandom r = new SplittableRandom(31);
    int lanes = VectorShape.LANES;
    int cases = 0;
    for (int stride = 1; stride <= 2; stride++) {
      for (int t = 1; t <= BlockedKernels.MAX_DEPTHWISE_3X3_PIXELS; t++) {
        BlockedKernels.Depthwise3x3Tile tile = BlockedKernels.depthwise3x3(t, stride);
        for (int count = 1; count <= 4; count++) {
          int rowStride = (stride * t * count + 2 + r.nextInt(3)) * lanes;
          float[] x = TestTensors.uniform(r, 1, 3 * rowStride + lanes).data();
          float[] w = TestTensors.uniform(r, 1, 9 * lanes).data();
          float[] b = TestTensors.uniform(r, 1, lanes).data();
          int yo = lanes * r.nextInt(3);
          float[] run = new float[yo + (t * count + 2) * lanes];
          float[] one = new float[run.length];
          java.util.Arrays.fill(run, Float.NaN);
          java.util.Arrays.fill(one, Float.NaN);
          tile.run(x, 0, rowStride, w, 0, b, 0, 0f, 6f, run, yo, count);
          for (int c = 0; c < count; c++) {
            tile.run(x, c * stride * t * lanes, rowStride, w, 0, b, 0, 0f, 6f, one, yo + c * t * lanes, 1);
          }
          assertSameBits("depthwise 3x3 x" + t + " stride " + stride + ", " + count + " tiles", one, run);
          // Nothing before or after the run's outputs.
          for (int i = 0; i < run.length; i++) {
            boolean written = i >= yo && i < yo + t * count * lanes;
            assertWithMessage("x%s stride %s count %s: element %s", t, stride, count, i)
                .that(Float.isNaN(run[i])).isEqualTo(!written);
          }
          cases++;
        }
      }
    }
    assertThat(cases).isEqualTo(2 * BlockedKernels.MAX_DEPTHWISE_3X3_PIXELS * 4);
  }

  /** A depthwise 3x3 layer's runs: from each column tile, the tiles of its width from there on. */
  @Test
  void depthwise3x3RunsCountTilesOfOneWidth() {
    // 23 pixels: 8, 8, 7; 112: sixteen 7s; 10: 5, 5; 5: one tile.
    assertThat(BlockedConv.runs(BlockedConv.columns(23, 8))).asList().containsExactly(2, 1, 1).inOrder();
    int[] sevens = BlockedConv.runs(BlockedConv.columns(112, 8));
    assertThat(sevens).hasLength(16);
    for (int i = 0; i < 16; i++) {
      assertThat(sevens[i]).isEqualTo(16 - i);
    }
    assertThat(BlockedConv.runs(BlockedConv.columns(10, 8))).asList().containsExactly(2, 1).inOrder();
    assertThat(BlockedConv.runs(BlockedConv.columns(5, 8))).asList().containsExactly(1);
  }

  /**
   * Depthwise layers run plain Java until their vector tiles are compiled: both give the same bits (3x3 at
   * strides 1 and 2, and a 5x5 with dilation on the table-driven tile; rows of tiles of odd and even widths, so
   * that the plain code's pixel pairs and its odd last pixel both run), with each activation: the tiles store
   * without the upper bound where it is infinite, so the inputs are scaled to take outputs past 6 (ReLU6 must
   * cut them there, ReLU and none must keep them).
   */
  @Test
  void depthwiseScalarAndVectorTilesAgreeBitForBit() {
    SplittableRandom r = new SplittableRandom(99);
    ConvGeometry[] layers = {
        NaiveConvKernel.geometry(40, 40, 13, 23, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 40, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(24, 24, 17, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 24, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(20, 20, 12, 12, 5, 5, 1, 1, 2, 2, 4, 4, 4, 4, 20, PaddingMode.ZEROS),
    };
    int cases = 0;
    for (ConvGeometry g : layers) {
      for (Activation activation : Activation.values()) {
        ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(activation).build();
        int[] halo = BlockedConv.requiredHalo(g);
        BlockedLayout in = BlockedLayout.blocked(g.inChannels(), g.inHeight(), g.inWidth(), halo[0], halo[1],
            halo[2], halo[3]);
        BlockedLayout out = BlockedLayout.blocked(g.outChannels(), g.outHeight(), g.outWidth(), 1, 1, 1, 1);
        Tensor x = TestTensors.uniform(r, 1, 1, g.inChannels(), g.inHeight(), g.inWidth());
        float[] xd = x.data();
        for (int i = 0; i < xd.length; i++) {
          xd[i] *= 40f;
        }
        float[] xb = new float[in.sampleSize];
        in.fromNchw(xd, 0, xb, 0);
        BlockedConv conv = new BlockedConv(g, activation, in, out);
        float[] cold = new float[out.sampleSize];
        float[] hot = new float[out.sampleSize];
        conv.firstTilesOnly = true;
        conv.run(ref.weight(), ref.bias(), xb, 0, cold, 0, 1, 1, 0, conv.items(1));
        conv.firstTilesOnly = false;
        conv.tiles().forEach(TileWarmer::warm);
        conv.tiles().forEach(t -> assertWithMessage(t.key).that(t.hot()).isTrue());
        conv.run(ref.weight(), ref.bias(), xb, 0, hot, 0, 1, 1, 0, conv.items(1));
        String name = g + " " + activation;
        assertSameBits(name, cold, hot);
        float[] actual = new float[g.outChannels() * g.outHeight() * g.outWidth()];
        out.toNchw(hot, 0, actual, 0);
        float max = Float.NEGATIVE_INFINITY;
        float min = Float.POSITIVE_INFINITY;
        for (float v : actual) {
          max = Math.max(max, v);
          min = Math.min(min, v);
        }
        if (activation == Activation.RELU6) {
          assertWithMessage(name).that(max).isEqualTo(6f);
        } else {
          assertWithMessage(name).that(max).isGreaterThan(6f);
        }
        if (activation == Activation.NONE) {
          assertWithMessage(name).that(min).isLessThan(0f);
        } else {
          assertWithMessage(name).that(min).isEqualTo(0f);
        }
        ref.eval();
        assertWithMessage(name).that(SimdConvDifferentialTest.relativeError(actual, ref.forward(x).data()))
            .isAtMost(1e-5);
        cases++;
      }
    }
    assertThat(cases).isEqualTo(3 * Activation.values().length);
  }

  /**
   * 1x1 layers over blocked inputs at stride 1 run the pointwise tiles (no offset table): the same bits as the
   * table-driven one-block tiles, and the reference's values; other 1x1 layers keep the table-driven tiles.
   */
  @Test
  void pointwiseTilesAgreeWithTheTableDrivenTilesBitForBit() {
    SplittableRandom r = new SplittableRandom(1202);
    int lanes = VectorShape.LANES;
    ConvGeometry[] layers = {
        NaiveConvKernel.geometry(2 * lanes, 4 * lanes, 9, 14, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(3 * lanes, 5 * lanes, 5, 28, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(lanes, 3 * lanes, 4, 23, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(4 * lanes, 4 * lanes, 6, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, PaddingMode.ZEROS),
    };
    int cases = 0;
    for (ConvGeometry g : layers) {
      for (Activation activation : new Activation[] {Activation.NONE, Activation.RELU, Activation.RELU6}) {
        BlockedConv conv = agreesWithTheTableDrivenTiles(g, activation, r);
        assertWithMessage(g.toString()).that(conv.tiles().stream().filter(t -> t.key.startsWith("pointwise")).count())
            .isGreaterThan(0L);
        cases++;
      }
    }
    assertThat(cases).isEqualTo(12);
    ConvGeometry strided = NaiveConvKernel.geometry(lanes, lanes, 8, 8, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1,
        PaddingMode.ZEROS);
    ConvGeometry partialBlock = NaiveConvKernel.geometry(lanes + 3, lanes, 8, 8, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
        PaddingMode.ZEROS);
    ConvGeometry threeByThree = NaiveConvKernel.geometry(lanes, lanes, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        PaddingMode.ZEROS);
    assertThat(BlockedConv.pointwise(strided, BlockedLayout.blocked(lanes, 8, 8, 0, 0, 0, 0))).isFalse();
    assertThat(BlockedConv.pointwise(partialBlock, BlockedLayout.blocked(lanes + 3, 8, 8, 0, 0, 0, 0))).isFalse();
    assertThat(BlockedConv.pointwise(threeByThree, BlockedLayout.blocked(lanes, 8, 8, 1, 1, 1, 1))).isFalse();
    assertThat(BlockedConv.pointwise(g(lanes), BlockedLayout.planes(lanes, 8, 8, 0, 0, 0, 0))).isFalse();
  }

  /**
   * Runs a 1x1 layer over a blocked input with its chunks' tiles and with the table-driven one-block tiles, and
   * checks the same bits both ways and the reference's values; returns the layer.
   */
  private static BlockedConv agreesWithTheTableDrivenTiles(ConvGeometry g, Activation activation, SplittableRandom r) {
    ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(activation).build();
    BlockedLayout in = BlockedLayout.blocked(g.inChannels(), g.inHeight(), g.inWidth(), 1, 2, 1, 3);
    BlockedLayout out = BlockedLayout.blocked(g.outChannels(), g.outHeight(), g.outWidth(), 1, 1, 1, 1);
    assertWithMessage(g.toString()).that(BlockedConv.pointwise(g, in)).isTrue();
    Tensor x = TestTensors.uniform(r, 1, 1, g.inChannels(), g.inHeight(), g.inWidth());
    float[] xb = new float[in.sampleSize];
    in.fromNchw(x.data(), 0, xb, 0);
    BlockedConv conv = new BlockedConv(g, activation, in, out);
    float[] tiles = ownTilesAgreeWithFirstTiles(g + " " + activation, conv, ref.weight(), ref.bias(), xb);
    float[] actual = new float[g.outChannels() * g.outHeight() * g.outWidth()];
    out.toNchw(tiles, 0, actual, 0);
    ref.eval();
    assertWithMessage(g + " " + activation)
        .that(SimdConvDifferentialTest.relativeError(actual, ref.forward(x).data())).isAtMost(1e-5);
    return conv;
  }

  /**
   * A first forward runs a 1x1 layer on the one-block pointwise tiles where they are hot and on the first tiles
   * where not, the same bits either way: two layers of one geometry whose tile sources give, one a pointwise
   * first tile that is never hot and has no kernel (calling it would fail), the other a hot one that counts its
   * calls and a first tile that has no kernel.
   */
  @Test
  void firstPointwiseTilesRunWhereHotWithTheSameBits() {
    int lanes = VectorShape.LANES;
    // 14-pixel rows: two 7-pixel runs; 20-pixel rows: three, the last overlapping.
    int cases = 0;
    for (int width : new int[] {14, 20}) {
      FirstForwardCase c = new FirstForwardCase(3, width);
      TileWarmer.Tile first = TileWarmer.conv(1, BlockedConv.FIRST_PIXELS, 0);
      TileWarmer.warm(first);
      long[] pointwiseCalls = new long[1];
      BlockedKernels.ConvTile counted = counted(BlockedKernels.pointwise(1, BlockedConv.FIRST_PIXELS,
          TileBudget.pointwiseLanes(1, BlockedConv.FIRST_PIXELS)), pointwiseCalls);
      TileWarmer.Tile never = new TileWarmer.Tile("never hot", () -> {});
      BlockedConv cold = c.layer(new FirstTiles(first, never));
      BlockedConv hot = c.layer(new FirstTiles(never, TileWarmer.Tile.standIn("hot pointwise", counted, null, null)));
      assertThat(cold.firstPointwiseMacs()).isEqualTo(c.g.macsPerSample());
      String name = "width " + width;
      c.check(name, cold, hot);
      assertWithMessage(name).that(pointwiseCalls[0]).isEqualTo(3L * 5 * (width == 14 ? 2 : 3));
      cases++;
    }
    assertThat(cases).isEqualTo(2);
    // Not a 1x1 layer over a blocked input: no pointwise first tiles.
    ConvGeometry threeByThree = NaiveConvKernel.geometry(lanes, lanes, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        PaddingMode.ZEROS);
    BlockedConv conv = new BlockedConv(threeByThree, Activation.RELU,
        BlockedLayout.blocked(lanes, 8, 8, 1, 1, 1, 1), BlockedLayout.blocked(lanes, 8, 8, 0, 0, 0, 0));
    assertThat(conv.firstPointwiseMacs()).isEqualTo(0L);
  }

  /**
   * A first forward runs the two-block chunks of a 1x1 layer whose chunks all have two blocks on the pair tile
   * (the layer's widest two-block pointwise tile, both blocks per call over overlapping runs of its width) where it
   * is hot, and on the one-block tiles where not: the same bits either way, and the reference's values. Two layers
   * of one geometry: one whose pair tile is a hot stand-in that counts its calls (the shared kernel inside), one
   * whose pair tile is never hot and has no kernel. Where this JVM's pointwise chunks are not all of two blocks
   * (AVX-512's 3x7 tiles: {@link BlockedConv#POINTWISE_TWOS}) the layer has no pair tile, and counts no calls.
   */
  @Test
  void firstForwardRunsTwoBlockChunksOnThePairTileWithTheSameBits() {
    int cases = 0;
    // Rows of 14 (groups of rows where the widest tile does not divide them), 20 (four 5-pixel tiles on AVX2), and
    // as wide as the widest two-block tile and one pixel narrower: runs overlapping at a row's end, or one run.
    int p = BlockedConv.twoBlockPixels();
    for (int width : new int[] {14, 20, p, p - 1}) {
      FirstForwardCase c = new FirstForwardCase(4, width);
      TileWarmer.Tile first = TileWarmer.conv(1, Math.min(width, BlockedConv.FIRST_PIXELS), 0);
      TileWarmer.warm(first);
      long[] pairCalls = new long[1];
      int[] widest = new int[1];
      TileWarmer.Tile never = new TileWarmer.Tile("never hot", () -> {});
      BlockedConv withPair = c.layer(new FirstTiles(first, never, pixels -> {
        widest[0] = pixels <= width ? Math.max(widest[0], pixels) : widest[0];
        return TileWarmer.Tile.standIn("hot pair",
            counted(BlockedConv.TileSource.WARMED.pointwise(2, pixels, 0f).conv, pairCalls), null, null);
      }));
      BlockedConv without = c.layer(new FirstTiles(first, never, pixels -> never));
      String name = "width " + width;
      boolean pairs = BlockedConv.POINTWISE_FIRST
          && java.util.Arrays.stream(withPair.chunkBlocks()).allMatch(m -> m == 2);
      // The pair tile is the widest two-block tile the chunks asked for that fits a row.
      int pixels = withPair.firstPairPixels();
      assertWithMessage(name).that(pixels).isEqualTo(pairs ? widest[0] : 0);
      assertWithMessage(name).that(without.firstPairPixels()).isEqualTo(pixels);
      c.check(name, without, withPair);
      // Two chunks of two blocks, five rows, a call per run.
      assertWithMessage(name).that(pairCalls[0]).isEqualTo(pairs ? 2L * 5 * ((width + pixels - 1) / pixels) : 0L);
      cases++;
    }
    assertThat(cases).isEqualTo(4);
  }

  /**
   * A 1x1 layer of two input blocks and {@code outBlocks} output blocks on 5 rows of {@code width} pixels (ReLU, an
   * output halo of one pixel), its reference, and an input in the blocked layout: the first forward's paths of two
   * layers of this geometry, checked against each other and the reference.
   */
  private static final class FirstForwardCase {
    final ConvGeometry g;
    final ReferenceConv2d ref;
    final BlockedLayout in;
    final BlockedLayout out;
    final Tensor x;
    final float[] xb;

    FirstForwardCase(int outBlocks, int width) {
      int lanes = VectorShape.LANES;
      g = NaiveConvKernel.geometry(2 * lanes, outBlocks * lanes, 5, width, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
          PaddingMode.ZEROS);
      ref = ReferenceConv2d.builder(g).bias(true).activation(Activation.RELU).build();
      in = BlockedLayout.blocked(g.inChannels(), g.inHeight(), g.inWidth(), 0, 0, 0, 0);
      out = BlockedLayout.blocked(g.outChannels(), g.outHeight(), g.outWidth(), 1, 1, 1, 1);
      x = TestTensors.uniform(new SplittableRandom(width), 1, 1, g.inChannels(), g.inHeight(), g.inWidth());
      xb = new float[in.sampleSize];
      in.fromNchw(x.data(), 0, xb, 0);
    }

    BlockedConv layer(BlockedConv.TileSource source) {
      return new BlockedConv(g, Activation.RELU, in, out, source);
    }

    /**
     * Runs both layers as a first forward does (their chunks' own tiles not yet hot): the same bits, the reference's
     * values, nothing written outside the output's interior.
     */
    void check(String name, BlockedConv a, BlockedConv b) {
      float[] ya = new float[out.sampleSize];
      float[] yb = new float[out.sampleSize];
      a.firstTilesOnly = true;
      a.run(ref.weight(), ref.bias(), xb, 0, ya, 0, 1, 1, 0, a.items(1));
      b.firstTilesOnly = true;
      b.run(ref.weight(), ref.bias(), xb, 0, yb, 0, 1, 1, 0, b.items(1));
      assertSameBits(name, ya, yb);
      float[] actual = new float[g.outChannels() * g.outHeight() * g.outWidth()];
      out.toNchw(yb, 0, actual, 0);
      ref.eval();
      assertWithMessage(name).that(SimdConvDifferentialTest.relativeError(actual, ref.forward(x).data()))
          .isAtMost(1e-5);
      float[] interior = new float[out.sampleSize];
      out.fromNchw(actual, 0, interior, 0);
      assertSameBits(name + ", outside the interior", interior, yb);
    }
  }

  /** {@code kernel}, counting its calls in {@code calls[0]}. */
  private static BlockedKernels.ConvTile counted(BlockedKernels.ConvTile kernel, long[] calls) {
    return (xs, xo, sx, off, rs, w, wo, ws, b, bo, lo, y, yo, sy, cs) -> {
      calls[0]++;
      kernel.run(xs, xo, sx, off, rs, w, wo, ws, b, bo, lo, y, yo, sy, cs);
    };
  }

  /**
   * The shared tiles, except the first tiles and pointwise first tiles given, and the two-block pointwise tiles by
   * width where {@code twoBlock} gives them (the pair tile is one of those, {@link BlockedConv#firstPairPixels}).
   */
  private static final class FirstTiles implements BlockedConv.TileSource {
    private final TileWarmer.Tile first;
    private final TileWarmer.Tile firstPointwise;
    private final java.util.function.IntFunction<TileWarmer.Tile> twoBlock;

    FirstTiles(TileWarmer.Tile first, TileWarmer.Tile firstPointwise) {
      this(first, firstPointwise, null);
    }

    FirstTiles(TileWarmer.Tile first, TileWarmer.Tile firstPointwise,
        java.util.function.IntFunction<TileWarmer.Tile> twoBlock) {
      this.first = first;
      this.firstPointwise = firstPointwise;
      this.twoBlock = twoBlock;
    }

    @Override
    public TileWarmer.Tile conv(int blocks, int pixels, int pixelStride, float lo) {
      return BlockedConv.TileSource.WARMED.conv(blocks, pixels, pixelStride, lo);
    }

    @Override
    public TileWarmer.Tile pointwise(int blocks, int pixels, float lo) {
      return twoBlock != null && blocks == 2 ? twoBlock.apply(pixels)
          : BlockedConv.TileSource.WARMED.pointwise(blocks, pixels, lo);
    }

    @Override
    public TileWarmer.Tile depthwise(int pixels) {
      return BlockedConv.TileSource.WARMED.depthwise(pixels);
    }

    @Override
    public TileWarmer.Tile depthwise3x3(int pixels, int stride) {
      return BlockedConv.TileSource.WARMED.depthwise3x3(pixels, stride);
    }

    @Override
    public TileWarmer.Tile first(int pixels) {
      return first;
    }

    @Override
    public TileWarmer.Tile firstPointwise(int pixels) {
      return firstPointwise;
    }
  }

  private static ConvGeometry g(int channels) {
    return NaiveConvKernel.geometry(channels, channels, 8, 8, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, PaddingMode.ZEROS);
  }

  @Test
  void longPointwiseReductionsRunRowByRowWithTheSameBits() {
    int big = BlockedConv.ROWS_FIRST_INPUT_FLOATS + 1;
    assertThat(BlockedConv.rowsFirst(true, BlockedConv.ROWS_FIRST_STEPS, big)).isEqualTo(BlockedConv.ROWS_FIRST);
    assertThat(BlockedConv.rowsFirst(true, BlockedConv.ROWS_FIRST_STEPS - VectorShape.LANES, big)).isFalse();
    assertThat(BlockedConv.rowsFirst(true, BlockedConv.ROWS_FIRST_STEPS, big - 1)).isFalse();
    assertThat(BlockedConv.rowsFirst(false, 4 * BlockedConv.ROWS_FIRST_STEPS, 4 * big)).isFalse();
    SplittableRandom r = new SplittableRandom(1209);
    int lanes = VectorShape.LANES;
    // 256 input channels of 16 rows, just wide enough to be over the threshold (half this machine's level-2 cache):
    // 16x17 for 512 KB of level 2, 16x65 for 2 MB.
    int width = (BlockedConv.ROWS_FIRST_INPUT_FLOATS / BlockedConv.ROWS_FIRST_STEPS + 1 + 15) / 16;
    ConvGeometry g = NaiveConvKernel.geometry(BlockedConv.ROWS_FIRST_STEPS, 5 * lanes, 16, width, 1, 1, 1, 1, 1, 1, 0,
        0, 0, 0, 1, PaddingMode.ZEROS);
    ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(Activation.RELU6).build();
    ref.eval();
    BlockedLayout in = BlockedLayout.blocked(g.inChannels(), g.inHeight(), g.inWidth(), 0, 0, 0, 0);
    BlockedLayout out = BlockedLayout.blocked(g.outChannels(), g.outHeight(), g.outWidth(), 1, 1, 1, 1);
    BlockedConv conv = new BlockedConv(g, Activation.RELU6, in, out);
    int n = 2;
    Tensor x = TestTensors.uniform(r, 1, n, g.inChannels(), g.inHeight(), g.inWidth());
    float[] xb = blockedBatch(in, x.data(), n);
    Tensor expected = ref.forward(x);
    int items = conv.items(n);
    int cases = 0;
    assertThat(in.sampleSize).isGreaterThan(BlockedConv.ROWS_FIRST_INPUT_FLOATS);
    assertThat(conv.rowsFirst).isEqualTo(BlockedConv.ROWS_FIRST);
    for (int bands : new int[] {1, 2, 4}) {
      // Whole bands (row by row through the chunks where rowsFirst) against ranges that cut the bands (chunk-major).
      float[] whole = new float[n * out.sampleSize];
      conv.run(ref.weight(), ref.bias(), xb, 0, whole, 0, n, bands, 0, items);
      float[] cut = new float[n * out.sampleSize];
      int third = items / 3 + 1;
      conv.run(ref.weight(), ref.bias(), xb, 0, cut, 0, n, bands, 0, third);
      conv.run(ref.weight(), ref.bias(), xb, 0, cut, 0, n, bands, third, items - 1);
      conv.run(ref.weight(), ref.bias(), xb, 0, cut, 0, n, bands, items - 1, items);
      assertSameBits("bands " + bands, cut, whole);
      float[] actual = nchwBatch(out, whole, n);
      assertWithMessage("bands " + bands).that(SimdConvDifferentialTest.relativeError(actual, expected.data()))
          .isAtMost(1e-5);
      cases++;
    }
    assertThat(cases).isEqualTo(3);
  }

  /** Which layers compute groups of rows as one run of pixels, and how many rows a group takes. */
  @Test
  void rowGroupsWhereRowsNeedNarrowerTiles() {
    // Rows of 14 with tiles of at most 6: 5, 5, 4; three rows are 42 pixels, seven tiles of 6.
    assertThat(BlockedConv.rowGroups(14, 14, 6, BlockedConv.columns(14, 6))).isEqualTo(3);
    assertThat(BlockedConv.rowGroups(7, 7, 6, BlockedConv.columns(7, 6))).isEqualTo(6);
    assertThat(BlockedConv.rowGroups(13, 16, 6, BlockedConv.columns(13, 6))).isEqualTo(6);
    assertThat(BlockedConv.rowGroups(13, 16, 8, BlockedConv.columns(13, 8))).isEqualTo(8);
    assertThat(BlockedConv.rowGroups(26, 26, 6, BlockedConv.columns(26, 6))).isEqualTo(3);
    assertThat(BlockedConv.rowGroups(9, 16, 6, BlockedConv.columns(9, 6))).isEqualTo(2);
    assertThat(BlockedConv.rowGroups(9, 16, 7, BlockedConv.columns(9, 7))).isEqualTo(7);
    // Rows of whole tiles (7 where 7 divides the width), of one width, or of tiles at least 90% of 6 pixels wide on
    // average (28: 6, 6, 6, 5, 5; 112: seventeen of 6 and two of 5), need none.
    assertThat(BlockedConv.rowGroups(28, 28, 7, BlockedConv.columns(28, 7))).isEqualTo(0);
    assertThat(BlockedConv.rowGroups(28, 28, 6, BlockedConv.columns(28, 6))).isEqualTo(0);
    assertThat(BlockedConv.rowGroups(112, 112, 6, BlockedConv.columns(112, 6))).isEqualTo(0);
    assertThat(BlockedConv.rowGroups(24, 24, 6, BlockedConv.columns(24, 6))).isEqualTo(0);
    assertThat(BlockedConv.rowGroups(10, 10, 6, BlockedConv.columns(10, 6))).isEqualTo(0);
    // A group taller than the map, or longer than MAX_GROUP_PIXELS.
    assertThat(BlockedConv.rowGroups(7, 5, 6, BlockedConv.columns(7, 6))).isEqualTo(0);
    assertThat(BlockedConv.rowGroups(1000, 8, 6, BlockedConv.columns(1000, 6))).isEqualTo(0);
    int b = VectorShape.LANES;
    ConvGeometry g = NaiveConvKernel.geometry(2 * b, 2 * b, 6, 14, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, PaddingMode.ZEROS);
    assertThat(BlockedConv.contiguousRows(g, BlockedLayout.blocked(2 * b, 6, 14, 0, 0, 0, 0))).isTrue();
    // Rows with a horizontal halo between them, rows read two apart, or padding: no.
    assertThat(BlockedConv.contiguousRows(g, BlockedLayout.blocked(2 * b, 6, 14, 0, 0, 1, 0))).isFalse();
    assertThat(BlockedConv.contiguousRows(g, BlockedLayout.blocked(2 * b, 6, 14, 1, 1, 0, 0))).isTrue();
    ConvGeometry stride = NaiveConvKernel.geometry(2 * b, 2 * b, 6, 14, 1, 1, 2, 1, 1, 1, 0, 0, 0, 0, 1,
        PaddingMode.ZEROS);
    assertThat(BlockedConv.contiguousRows(stride, BlockedLayout.blocked(2 * b, 6, 14, 0, 0, 0, 0))).isFalse();
    ConvGeometry padded = NaiveConvKernel.geometry(2 * b, 2 * b, 6, 14, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        PaddingMode.ZEROS);
    assertThat(BlockedConv.contiguousRows(padded, BlockedLayout.blocked(2 * b, 6, 14, 1, 1, 1, 1))).isFalse();
  }

  /**
   * A 1x1 layer whose input rows are one run of pixels computes its row groups as one run of tiles: into the
   * output where that has no horizontal halo, through the thread's buffer and then row by row where it has one;
   * with ReLU6's upper bound and without an activation; all items at once and in random ranges that cut the groups,
   * in 1 and 3 bands of an odd number of rows (a band's last group takes more rows than the others); a short
   * reduction (chunk by chunk) and a long one over a large input (whole bands row group by row group through the
   * chunks, {@link BlockedConv#rowsFirst}). The same bits as the one-block tiles (which run row by row), the
   * reference's values to 1e-5, and nothing written outside the interior. Rows of 9, 10, 11 and 13 pixels: for every
   * widest tile of 3 to 8 pixels (as this JVM's tile budget and properties make it), one of them takes row groups
   * (with 16 lanes the 256-channel layer's two-block chunks take them on rows of 11, the others' three-block ones on
   * rows of 13; rows of 9 and 10 there are one ten-pixel tile).
   */
  @Test
  void rowGroupsGiveTheSameBitsAsRows() {
    SplittableRandom r = new SplittableRandom(4801);
    int b = VectorShape.LANES;
    java.util.List<ConvGeometry> layers = new java.util.ArrayList<>();
    // The 256-channel layers' maps over the rows-first threshold (half the level-2 cache): 63 rows, or a multiple of
    // 63 where 63 rows of 9 are not enough (126 for 2 MB of level 2).
    int least = BlockedConv.ROWS_FIRST_INPUT_FLOATS / (BlockedConv.ROWS_FIRST_STEPS * 9) + 1;
    int tall = 63 * ((least + 62) / 63);
    for (int width : new int[] {9, 10, 11, 13}) {
      layers.add(NaiveConvKernel.geometry(3 * b, 6 * b, 15, width, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
          PaddingMode.ZEROS));
      layers.add(NaiveConvKernel.geometry(BlockedConv.ROWS_FIRST_STEPS, 4 * b, tall, width, 1, 1, 1, 1, 1, 1, 0, 0, 0,
          0, 1, PaddingMode.ZEROS));
    }
    int n = 2;
    int cases = 0;
    int[] grouped = new int[2];
    for (ConvGeometry g : layers) {
      int h = g.outHeight();
      int w = g.outWidth();
      for (Activation act : new Activation[] {Activation.RELU6, Activation.NONE}) {
        for (int halo : new int[] {0, 1}) {
          ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(act).build();
          ref.eval();
          BlockedLayout in = BlockedLayout.blocked(g.inChannels(), h, w, 0, 0, 0, 0);
          BlockedLayout out = BlockedLayout.blocked(g.outChannels(), h, w, halo, halo, halo, halo);
          BlockedConv conv = new BlockedConv(g, act, in, out);
          String what = g + ", " + act + ", output halo " + halo;
          assertWithMessage(what).that(conv.rowsFirst)
              .isEqualTo(g.inChannels() == BlockedConv.ROWS_FIRST_STEPS && BlockedConv.ROWS_FIRST);
          for (int k : conv.chunkGroupRows()) {
            assertWithMessage(what).that(k).isIn(com.google.common.collect.Range.closed(0, 8));
            grouped[g.inChannels() == BlockedConv.ROWS_FIRST_STEPS ? 1 : 0] += k > 0 ? 1 : 0;
          }
          Tensor x = TestTensors.uniform(r, 1, n, g.inChannels(), h, w);
          float[] xb = blockedBatch(in, x.data(), n);
          int items = conv.items(n);
          float[] whole = new float[n * out.sampleSize];
          conv.run(ref.weight(), ref.bias(), xb, 0, whole, 0, n, 1, 0, items);
          float[] rows = new float[whole.length];
          conv.firstTilesOnly = true;
          conv.run(ref.weight(), ref.bias(), xb, 0, rows, 0, n, 1, 0, items);
          conv.firstTilesOnly = false;
          assertSameBits(what + ", row groups against the one-block tiles", rows, whole);
          assertWithMessage(what).that(SimdConvDifferentialTest.relativeError(nchwBatch(out, whole, n),
              ref.forward(x).data())).isAtMost(1e-5);
          float[] interiorOnly = whole.clone();
          float[] zeros = new float[g.outChannels() * h * w];
          for (int i = 0; i < n; i++) {
            out.fromNchw(zeros, 0, interiorOnly, i * out.sampleSize);
          }
          for (int i = 0; i < interiorOnly.length; i++) {
            if (interiorOnly[i] != 0f) {
              assertWithMessage(what + ": wrote outside the interior at " + i).fail();
            }
          }
          for (int bands : new int[] {1, 3}) {
            // Whole bands (row groups through the chunks where rowsFirst), then ranges that cut them.
            float[] byBands = new float[whole.length];
            conv.run(ref.weight(), ref.bias(), xb, 0, byBands, 0, n, bands, 0, items);
            assertSameBits(what + ", " + bands + " whole bands", byBands, whole);
            float[] cut = new float[whole.length];
            int start = 0;
            while (start < items) {
              int end = Math.min(items, start + 1 + r.nextInt(items / 4));
              conv.run(ref.weight(), ref.bias(), xb, 0, cut, 0, n, bands, start, end);
              start = end;
            }
            assertSameBits(what + ", " + bands + " bands in ranges", cut, whole);
            cases++;
          }
        }
      }
    }
    assertThat(cases).isEqualTo(64);
    assertThat(grouped[0]).isGreaterThan(0);
    assertThat(grouped[1]).isGreaterThan(0);
  }

  @Test
  void pointwiseLayersTakeTwoBlockChunksWhereTheirTilesHoldMore() {
    // AVX2 on JDK 17: 2x6 (12 accumulators) against 3x3 (9).
    assertThat(BlockedConv.pointwiseTwos(3, 6)).isTrue();
    // AVX2 on JDK 25 (broadcasts first): 2x4 against 3x3; AVX-512: 3x7 has 21 accumulators already.
    assertThat(BlockedConv.pointwiseTwos(3, 4)).isFalse();
    assertThat(BlockedConv.pointwiseTwos(7, 7)).isFalse();
    assertThat(BlockedConv.pointwiseTwos(7, 14)).isFalse();
    assertThat(BlockedConv.POINTWISE_TWOS)
        .isEqualTo(BlockedConv.pointwiseTwos(TileBudget.maxPixels(3, true), BlockedConv.twoBlockPixels()));
    // A 1x1 layer of six output blocks over a blocked input, 14 pixels wide: its chunks by their tiles' keys.
    int lanes = VectorShape.LANES;
    ConvGeometry g = NaiveConvKernel.geometry(4 * lanes, 6 * lanes, 5, 14, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
        PaddingMode.ZEROS);
    BlockedLayout in = BlockedLayout.blocked(g.inChannels(), g.inHeight(), g.inWidth(), 1, 1, 1, 1);
    BlockedLayout out = BlockedLayout.blocked(g.outChannels(), g.outHeight(), g.outWidth(), 0, 0, 0, 0);
    BlockedConv conv = new BlockedConv(g, Activation.RELU, in, out);
    java.util.Set<String> keys = new java.util.TreeSet<>();
    for (TileWarmer.Tile t : conv.tiles()) {
      if (t.key.startsWith("conv1x")) {
        continue; // the first tiles
      }
      assertWithMessage(t.key).that(t.key).startsWith(BlockedConv.POINTWISE_TWOS ? "pointwise2x" : "pointwise3x");
      keys.add(t.key);
    }
    assertThat(keys).isNotEmpty();
    if (BlockedConv.POINTWISE_TWOS && BlockedConv.twoBlockPixels() == 6) {
      // Rows of 14 in tiles of 5, 5 and 4; the 2x4 tile takes two lanes, the 2x5 one (TileBudget.twoLaneSpare).
      assertThat(keys).containsExactly("pointwise2x5 one lane relu", "pointwise2x4 relu");
    }
  }

  @Test
  void splitsAndColumns() {
    assertThat(BlockedConv.split(1, false)).asList().containsExactly(1);
    assertThat(BlockedConv.split(2, false)).asList().containsExactly(2);
    assertThat(BlockedConv.split(4, false)).asList().containsExactly(2, 2).inOrder();
    assertThat(BlockedConv.split(7, false)).asList().containsExactly(3, 2, 2).inOrder();
    assertThat(BlockedConv.split(80, false)).asList().containsExactlyElementsIn(expand(26, 3, 1, 2)).inOrder();
    assertThat(BlockedConv.split(1, true)).asList().containsExactly(1);
    assertThat(BlockedConv.split(2, true)).asList().containsExactly(2);
    assertThat(BlockedConv.split(3, true)).asList().containsExactly(3);
    assertThat(BlockedConv.split(7, true)).asList().containsExactly(3, 2, 2).inOrder();
    assertThat(BlockedConv.split(12, true)).asList().containsExactlyElementsIn(expand(0, 3, 6, 2)).inOrder();
    assertThat(BlockedConv.wideTwos(56)).isEqualTo(WIDE_TILES);
    assertThat(BlockedConv.wideTwos(14)).isEqualTo(WIDE_TILES);
    assertThat(BlockedConv.wideTwos(7)).isFalse();
    assertThat(BlockedConv.wideTwos(21)).isFalse();
    assertThat(BlockedConv.columns(14, 8)).asList().containsExactly(0, 7, 7, 7).inOrder();
    assertThat(BlockedConv.columns(15, 7)).asList().containsExactly(0, 5, 5, 5, 10, 5).inOrder();
    assertThat(BlockedConv.columns(3, 8)).asList().containsExactly(0, 3).inOrder();
    assertThat(BlockedConv.columns(56, 14)).asList().containsExactly(0, 7, 7, 7, 14, 7, 21, 7, 28, 7, 35, 7, 42, 7,
        49, 7).inOrder();
    assertThat(BlockedConv.columns(32, 14)).asList().containsExactly(0, 11, 11, 11, 22, 10).inOrder();
    assertThat(BlockedConv.columns(24, 12)).asList().containsExactly(0, 12, 12, 12).inOrder();
    assertThat(BlockedConv.columns(28, 8)).asList().containsExactly(0, 7, 7, 7, 14, 7, 21, 7).inOrder();
    // Without the preference for sevens (layers on padded planes): the widest tile that divides the row.
    assertThat(BlockedConv.columns(28, 14, false)).asList().containsExactly(0, 14, 14, 14).inOrder();
    assertThat(BlockedConv.columns(112, 14, false).length).isEqualTo(16);
    assertThat(BlockedConv.columns(112, 14, true).length).isEqualTo(32);
    assertThat(BlockedConv.columns(15, 7, false)).asList().containsExactly(0, 5, 5, 5, 10, 5).inOrder();
  }

  /**
   * Without bands, each thread's run of the chunk-major order is its share of the work (output blocks times rows)
   * to within one item, whatever the chunks' sizes: MobileNet v1's 1024->1024 7x7 pointwise layer (with 16 lanes
   * 64 blocks: 20 chunks of three and two of two, 7 items each) split into equal numbers of items gave one of two
   * threads 33 blocks and the other 31; so do layers of 72 channels (a chunk of three blocks and one of two) and
   * grouped ones, for 1 to 5 threads and batches of 1 and 3: 120 runs checked. (Equal items gave that layer's
   * two runs 231 and 217 block-rows against shares of 224.)
   */
  @Test
  void chunksSplitByWork() {
    ConvGeometry[] layers = {
      NaiveConvKernel.geometry(1024, 1024, 7, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, PaddingMode.ZEROS),
      NaiveConvKernel.geometry(40, 72, 7, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, PaddingMode.ZEROS),
      NaiveConvKernel.geometry(64, 160, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, PaddingMode.ZEROS),
      NaiveConvKernel.geometry(96, 96, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 96, PaddingMode.ZEROS),
    };
    int runs = 0;
    for (ConvGeometry g : layers) {
      int[] halo = BlockedConv.requiredHalo(g);
      BlockedConv conv = new BlockedConv(g, Activation.RELU,
          BlockedLayout.blocked(g.inChannels(), g.inHeight(), g.inWidth(), halo[0], halo[1], halo[2], halo[3]),
          BlockedLayout.blocked(g.outChannels(), g.outHeight(), g.outWidth(), 0, 0, 0, 0));
      for (int samples : new int[] {1, 3}) {
        long total = conv.work(0, conv.items(samples), samples);
        assertThat(total).isEqualTo((long) conv.out.blocks * g.outHeight() * samples);
        for (int ranges = 1; ranges <= 5; ranges++) {
          assertThat(conv.rangeStart(0, ranges, 1, samples)).isEqualTo(0);
          assertThat(conv.rangeStart(ranges, ranges, 1, samples)).isEqualTo(conv.items(samples));
          for (int j = 0; j < ranges; j++) {
            int start = conv.rangeStart(j, ranges, 1, samples);
            int end = conv.rangeStart(j + 1, ranges, 1, samples);
            assertThat(end).isAtLeast(start);
            double share = (double) total / ranges;
            // Each boundary is less than two block-rows from its exact place: the share rounded down, then to the
            // nearest item (an item is at most MAX_BLOCKS block-rows).
            assertThat((double) conv.work(start, end, samples)).isWithin(BlockedKernels.MAX_BLOCKS + 1).of(share);
            runs++;
          }
        }
      }
    }
    assertThat(runs).isEqualTo(4 * 2 * 15);
  }

  /**
   * Weights packed ahead of the run ({@link BlockedConv#prepareWeights}, as a network's first forward has the warmer
   * do): the run then uses them and gives the same bits as a layer that packs when it runs; new weight or bias
   * values are packed again.
   */
  @Test
  void packsItsWeightsAhead() {
    SplittableRandom r = new SplittableRandom(27);
    ConvGeometry g = NaiveConvKernel.geometry(24, 40, 6, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS);
    ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(Activation.RELU).build();
    BlockedLayout in = BlockedLayout.blocked(24, 6, 9, 1, 1, 1, 1);
    BlockedLayout out = BlockedLayout.blocked(40, g.outHeight(), g.outWidth(), 0, 0, 0, 0);
    BlockedConv prepared = new BlockedConv(g, Activation.RELU, in, out);
    BlockedConv plain = new BlockedConv(g, Activation.RELU, in, out);
    float[] x = new float[2 * in.sampleSize];
    in.fromNchw(TestTensors.uniform(r, 1, 2, 24, 6, 9).data(), 0, x, 0);
    in.fromNchw(TestTensors.uniform(r, 1, 1, 24, 6, 9).data(), 0, x, in.sampleSize);
    int cases = 0;
    for (Parameter changed : new Parameter[] {null, ref.weight(), ref.bias()}) {
      if (changed != null) {
        TestTensors.redraw(changed, r);
      }
      assertWithMessage("after %s", changed).that(prepared.weightsPrepared(ref.weight(), ref.bias())).isFalse();
      prepared.prepareWeights(ref.weight(), ref.bias());
      assertWithMessage("after %s", changed).that(prepared.weightsPrepared(ref.weight(), ref.bias())).isTrue();
      float[] a = new float[2 * out.sampleSize];
      float[] b = new float[2 * out.sampleSize];
      prepared.run(ref.weight(), ref.bias(), x, 0, a, 0, 2, 1, 0, prepared.items(2));
      plain.run(ref.weight(), ref.bias(), x, 0, b, 0, 2, 1, 0, plain.items(2));
      assertSameBits("after " + changed, b, a);
      cases++;
    }
    assertThat(cases).isEqualTo(3);
  }

  /**
   * Weights packed into a share of a larger array ({@link BlockedConv#placeWeights}, as a network places them) give
   * the same bits as the layer's own share, follow every change of the weights and the bias (packed again in
   * place), and write nothing outside the share: pointwise with a partial last block, depthwise, 3x3 stride 2.
   */
  @Test
  void placedWeightsGiveTheSameBitsAndStayInTheirShare() {
    SplittableRandom r = new SplittableRandom(28);
    ConvGeometry[] layers = {
        NaiveConvKernel.geometry(40, 72, 6, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(40, 40, 6, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 40, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(24, 40, 6, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS)};
    int cases = 0;
    for (ConvGeometry g : layers) {
      ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(Activation.RELU).build();
      int cin = g.inChannels();
      BlockedLayout in = BlockedLayout.blocked(cin, 6, 9, 1, 1, 1, 1);
      BlockedLayout out = BlockedLayout.blocked(g.outChannels(), g.outHeight(), g.outWidth(), 0, 0, 0, 0);
      BlockedConv placed = new BlockedConv(g, Activation.RELU, in, out);
      BlockedConv own = new BlockedConv(g, Activation.RELU, in, out);
      int base = AlignedFloats.FIRST + 3 * AlignedFloats.LINE;
      float[] arena = new float[base + placed.weightFloats() + 23];
      java.util.Arrays.fill(arena, Float.NaN);
      java.util.Arrays.fill(arena, base, base + placed.weightFloats(), 0f);
      placed.placeWeights(new AlignedFloats.Share(arena, base));
      float[] x = new float[2 * in.sampleSize];
      in.fromNchw(TestTensors.uniform(r, 1, 2, cin, 6, 9).data(), 0, x, 0);
      for (Parameter changed : new Parameter[] {null, ref.weight(), ref.bias()}) {
        if (changed != null) {
          TestTensors.redraw(changed, r);
        }
        float[] a = new float[2 * out.sampleSize];
        float[] b = new float[2 * out.sampleSize];
        placed.run(ref.weight(), ref.bias(), x, 0, a, 0, 2, 1, 0, placed.items(2));
        own.run(ref.weight(), ref.bias(), x, 0, b, 0, 2, 1, 0, own.items(2));
        assertSameBits(g + " after " + changed, b, a);
        // Without a place of its own given, the layer takes a share on a line too.
        assertThat(own.weightHome().base() % AlignedFloats.LINE).isEqualTo(AlignedFloats.FIRST);
        for (int i = 0; i < arena.length; i++) {
          if (i < base || i >= base + placed.weightFloats()) {
            assertWithMessage("%s: outside element %s", g, i).that(arena[i]).isNaN();
          }
        }
        cases++;
      }
    }
    assertThat(cases).isEqualTo(9);
  }

  /** Row bands split a batch's items into consecutive runs: a band's rows of every sample, then the next band's. */
  @Test
  void bandsCoverTheItemsInOrder() {
    ConvGeometry g = NaiveConvKernel.geometry(40, 72, 7, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, PaddingMode.ZEROS);
    BlockedConv conv = new BlockedConv(g, Activation.RELU, BlockedLayout.blocked(40, 7, 9, 0, 0, 0, 0),
        BlockedLayout.blocked(72, 7, 9, 0, 0, 0, 0));
    int n = 3;
    int chunks = conv.items(1) / 7;
    // One band per thread where the 7 rows divide evenly among them, else one band (split by chunks).
    assertThat(conv.bands(7, n)).isEqualTo(7);
    assertThat(conv.bands(2, n)).isEqualTo(1);
    assertThat(conv.bands(1, n)).isEqualTo(1);
    assertThat(conv.bandStart(0, 7, n)).isEqualTo(0);
    assertThat(conv.bandStart(4, 7, n)).isEqualTo(chunks * n * 4);
    assertThat(conv.bandStart(7, 7, n)).isEqualTo(conv.items(n));
    assertThat(conv.bandStart(1, 1, n)).isEqualTo(conv.items(n));
    // Ranges: the bands, or runs of the chunk-major order equal in work without them (chunksSplitByWork).
    assertThat(conv.rangeStart(4, 7, 7, n)).isEqualTo(conv.bandStart(4, 7, n));
    assertThat(conv.rangeStart(0, 2, 1, n)).isEqualTo(0);
    assertThat(conv.rangeStart(2, 2, 1, n)).isEqualTo(conv.items(n));
    // Bands that do not divide the rows are refused.
    float[] buffer = new float[conv.in.sampleSize * n + conv.out.sampleSize * n];
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> conv.run(null, null, buffer, 0, buffer, 0, n, 2, 0, 1));
    assertThat(e).hasMessageThat().isEqualTo("2 bands do not divide 7 output rows");
  }

  /**
   * A range of work items writes exactly its items' output rows, whatever rows of a chunk and sample it starts
   * and ends in (the loop takes a chunk's consecutive rows in one call), with the one-block tiles, the layer's own
   * and a depthwise layer's; ranges in 1 and 3 bands, 40 each, counted.
   */
  @Test
  void rangesWriteExactlyTheirRows() {
    SplittableRandom r = new SplittableRandom(26);
    // 5 -> 9 blocks of channels (chunks of up to three blocks) and depthwise 2 blocks (two chunks of one), 6x9.
    int b = VectorShape.LANES;
    ConvGeometry pointwise = NaiveConvKernel.geometry(5 * b, 9 * b, 6, 9, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
        PaddingMode.ZEROS);
    ConvGeometry depthwise = NaiveConvKernel.geometry(2 * b, 2 * b, 6, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2 * b,
        PaddingMode.ZEROS);
    int ranges = 0;
    for (ConvGeometry g : new ConvGeometry[] {pointwise, depthwise}) {
      int[] halo = BlockedConv.requiredHalo(g);
      BlockedLayout in = BlockedLayout.blocked(g.inChannels(), 6, 9, halo[0], halo[1], halo[2], halo[3]);
      BlockedLayout out = BlockedLayout.blocked(g.outChannels(), 6, 9, 0, 0, 0, 0);
      BlockedConv conv = new BlockedConv(g, Activation.RELU, in, out);
      int[] blocks = conv.chunkBlocks();
      // Chunks of one block (depthwise), of three, or (rows of 9 pixels with 32 vector registers) 3, 2, 2, 2.
      for (int m : blocks) {
        assertThat(m).isIn(com.google.common.collect.Range.closed(1, 3));
      }
      assertThat(java.util.Arrays.stream(blocks).sum()).isEqualTo(out.blocks);
      int n = 2;
      Parameter weight = Parameter.of("weight", TestTensors.uniform(r, 1, g.outChannels(), g.inChannelsPerGroup(),
          g.kernelH(), g.kernelW()));
      Parameter bias = Parameter.of("bias", TestTensors.uniform(r, 1, g.outChannels()));
      float[] x = TestTensors.uniform(r, 1, n * in.sampleSize).data();
      float[] all = new float[n * out.sampleSize];
      conv.run(weight, bias, x, 0, all, 0, n, 1, 0, conv.items(n));
      for (boolean first : new boolean[] {true, false}) {
        conv.firstTilesOnly = first;
        for (int bands : new int[] {1, 3}) {
          for (int i = 0; i < 10; i++) {
            int items = conv.items(n);
            int start = r.nextInt(items);
            int end = start + 1 + r.nextInt(items - start);
            float[] y = new float[all.length];
            java.util.Arrays.fill(y, Float.NaN);
            conv.run(weight, bias, x, 0, y, 0, n, bands, start, end);
            int written = 0;
            for (int e = 0; e < y.length; e++) {
              if (!Float.isNaN(y[e])) {
                written++;
                if (Float.floatToRawIntBits(y[e]) != Float.floatToRawIntBits(all[e])) {
                  assertWithMessage("%s, items [%s, %s) in %s bands: element %s", g, start, end, bands, e).fail();
                }
              }
            }
            // Each item is one output row (9 pixels) of one chunk's blocks.
            assertWithMessage("%s, items [%s, %s) in %s bands, one-block tiles %s", g, start, end, bands, first)
                .that(written).isEqualTo(blocksOf(conv, n, bands, start, end) * 9 * VectorShape.LANES);
            ranges++;
          }
        }
      }
      conv.firstTilesOnly = false;
    }
    assertThat(ranges).isEqualTo(80);
  }

  /**
   * The blocks of output channels that items {@code [start, end)} of a batch of {@code n} in {@code bands} bands
   * compute, counted from the items' order (band, chunk, sample, row) and each chunk's blocks.
   */
  private static int blocksOf(BlockedConv conv, int n, int bands, int start, int end) {
    int[] blocks = conv.chunkBlocks();
    int perChunk = n * (conv.geometry.outHeight() / bands);
    int perBand = blocks.length * perChunk;
    int sum = 0;
    for (int item = start; item < end; item++) {
      sum += blocks[item % perBand / perChunk];
    }
    return sum;
  }

  /**
   * Tiles of two or three blocks step through weights packed for exactly their blocks (a constant stride, which
   * frees a register in their loops) and assert it (the tests run with assertions on); one-block tiles take any
   * stride, as the first forward runs them on wider packings. Four tiles and one refusal each, packing named.
   */
  @Test
  void widerTilesRefuseOtherPackings() {
    int lanes = VectorShape.LANES;
    float[] x = new float[4096];
    float[] w = new float[4096];
    float[] b = new float[64];
    float[] y = new float[4096];
    int[] off = {0, 1};
    int checked = 0;
    for (BlockedKernels.ConvTile tile : new BlockedKernels.ConvTile[] {BlockedKernels.conv(2, 7, 1),
        BlockedKernels.conv(3, 7, 0), BlockedKernels.pointwise(2, 7, 2), BlockedKernels.pointwise(3, 5, 2)}) {
      AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
          () -> tile.run(x, 0, lanes, off, 2, w, 0, 4 * lanes, b, 0, 0f, y, 0, lanes, 64));
      assertThat(e).hasMessageThat().startsWith("weights packed for 4 blocks, not ");
      checked++;
    }
    assertThat(checked).isEqualTo(4);
    // A one-block tile over one block of a three-block packing: the weights of step r at r * 3 * lanes.
    java.util.Arrays.fill(x, 1f);
    for (int r = 0; r < 2; r++) {
      w[r * 3 * lanes] = r + 2f;
    }
    BlockedKernels.conv(1, 1, 0).run(x, 0, lanes, off, 2, w, 0, 3 * lanes, b, 0, Float.NEGATIVE_INFINITY, y, 0, lanes,
        64);
    assertThat(y[0]).isEqualTo(5f);
    assertThat(y[1]).isEqualTo(0f);
  }

  /**
   * Tiles of a constant bound's kind ({@link BlockedKernels#conv(int, int, int, float)}: {@code max(a, 0)} for a
   * bound of +0, {@code a} for minus infinity) assert that their caller's bound is theirs: a call with another
   * (for the ReLU kind minus infinity and -0, for the linear kind 0) fails (the tests run with assertions on),
   * where the general tile of the same shape takes it; a bound with no kind gets the general tile. Two shapes.
   */
  @Test
  void boundKindsRefuseAnotherBound() {
    int lanes = VectorShape.LANES;
    float[] x = new float[4096];
    float[] w = new float[4096];
    float[] b = new float[64];
    float[] y = new float[4096];
    int[] off = new int[lanes + 1];
    for (int i = 0; i < lanes; i++) {
      off[i] = i;
    }
    off[lanes] = 4 * lanes;
    float inf = Float.NEGATIVE_INFINITY;
    int checked = 0;
    for (boolean pointwise : new boolean[] {false, true}) {
      java.util.function.DoubleFunction<BlockedKernels.ConvTile> kind = lo -> pointwise
          ? BlockedKernels.pointwise(3, 3, 1, (float) lo) : BlockedKernels.conv(3, 4, 0, (float) lo);
      BlockedKernels.ConvTile general = pointwise ? BlockedKernels.pointwise(3, 3, 1)
          : BlockedKernels.conv(3, 4, 0);
      BlockedKernels.ConvTile relu = kind.apply(0f);
      BlockedKernels.ConvTile linear = kind.apply(inf);
      assertThat(relu.getClass().getSimpleName()).endsWith("Relu");
      assertThat(linear.getClass().getSimpleName()).endsWith("Linear");
      assertThat(kind.apply(-1f).getClass()).isEqualTo(general.getClass());
      for (float wrong : new float[] {inf, -0f}) {
        AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
            () -> relu.run(x, 0, lanes, off, lanes, w, 0, 3 * lanes, b, 0, wrong, y, 0, lanes, 64));
        assertThat(e).hasMessageThat().isEqualTo("a tile of the Relu kind called with the lower bound " + wrong);
      }
      AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
          () -> linear.run(x, 0, lanes, off, lanes, w, 0, 3 * lanes, b, 0, 0f, y, 0, lanes, 64));
      assertThat(e).hasMessageThat().isEqualTo("a tile of the Linear kind called with the lower bound 0.0");
      general.run(x, 0, lanes, off, lanes, w, 0, 3 * lanes, b, 0, inf, y, 0, lanes, 64);
      relu.run(x, 0, lanes, off, lanes, w, 0, 3 * lanes, b, 0, 0f, y, 0, lanes, 64);
      linear.run(x, 0, lanes, off, lanes, w, 0, 3 * lanes, b, 0, inf, y, 0, lanes, 64);
      checked++;
    }
    assertThat(checked).isEqualTo(2);
    // One-block tiles (shared with the first forward) have no kinds.
    assertThat(BlockedKernels.conv(1, 7, 0, 0f).getClass()).isEqualTo(BlockedKernels.conv(1, 7, 0).getClass());
    assertThat(BlockedKernels.conv(1, 7, 0, inf).getClass()).isEqualTo(BlockedKernels.conv(1, 7, 0).getClass());
  }

  /**
   * Layers take the kind of their tiles of two and three blocks with their activation's lower bound as a constant:
   * ReLU and ReLU6 the ReLU kind, no activation the linear kind; one-block tiles are general either way; the kinds
   * give the same bits as the one-block tiles (general, called with the layer's bound) and the reference's values:
   * a 3x3 layer at stride 2 and one at stride 1 (chunks of three blocks and of one) and a 1x1 layer over a blocked
   * input (pointwise tiles), with each activation. Counted.
   */
  @Test
  void layersTakeTheKindOfTheirBound() {
    SplittableRandom r = new SplittableRandom(1206);
    int lanes = VectorShape.LANES;
    ConvGeometry[] layers = {
        NaiveConvKernel.geometry(2 * lanes, 5 * lanes, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(lanes, 4 * lanes, 9, 13, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(2 * lanes, 5 * lanes, 6, 14, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, PaddingMode.ZEROS),
    };
    int cases = 0;
    for (ConvGeometry g : layers) {
      for (Activation activation : Activation.values()) {
        String what = g + " " + activation;
        boolean relu = Float.floatToRawIntBits(activation.lower()) == 0;
        String kind = relu ? " relu" : " linear";
        ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(activation).build();
        BlockedLayout in = BlockedLayout.blocked(g.inChannels(), g.inHeight(), g.inWidth(), 1, 1, 1, 1);
        BlockedLayout out = BlockedLayout.blocked(g.outChannels(), g.outHeight(), g.outWidth(), 0, 0, 0, 0);
        BlockedConv conv = new BlockedConv(g, activation, in, out);
        int wide = 0;
        for (TileWarmer.Tile t : conv.tiles()) {
          boolean wider = t.key.matches("(conv|pointwise)[23]x.*");
          assertWithMessage(what + ": " + t.key).that(t.key.endsWith(kind)).isEqualTo(wider);
          assertWithMessage(what + ": " + t.key).that(t.key.endsWith(" relu") || t.key.endsWith(" linear"))
              .isEqualTo(wider);
          wide += wider ? 1 : 0;
        }
        assertWithMessage(what).that(wide).isGreaterThan(0);
        Tensor x = TestTensors.uniform(r, 1, 1, g.inChannels(), g.inHeight(), g.inWidth());
        float[] xb = new float[in.sampleSize];
        in.fromNchw(x.data(), 0, xb, 0);
        float[] tiles = ownTilesAgreeWithFirstTiles(what, conv, ref.weight(), ref.bias(), xb);
        float[] actual = new float[g.outChannels() * g.outHeight() * g.outWidth()];
        out.toNchw(tiles, 0, actual, 0);
        ref.eval();
        assertWithMessage(what).that(SimdConvDifferentialTest.relativeError(actual, ref.forward(x).data()))
            .isAtMost(1e-5);
        // The bound did its work: some outputs are 0 under ReLU and ReLU6, some negative without an activation.
        long zeros = 0;
        long negative = 0;
        for (float v : actual) {
          zeros += v == 0f ? 1 : 0;
          negative += v < 0f ? 1 : 0;
        }
        assertWithMessage(what).that(relu ? zeros : negative).isGreaterThan(0L);
        cases++;
      }
    }
    assertThat(cases).isEqualTo(3 * Activation.values().length);
  }

  /**
   * Layers whose weights are more than four times their input map are split by output channels (RepVGG-A0's
   * 192->192 14x14), the others by row bands (MobileNet v1's 512->512 14x14 pointwise layer).
   */
  @Test
  void weightHeavyLayers() {
    ConvGeometry repvgg = NaiveConvKernel.geometry(192, 192, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        PaddingMode.ZEROS);
    BlockedConv a0 = new BlockedConv(repvgg, Activation.RELU, BlockedLayout.blocked(192, 14, 14, 1, 1, 1, 1),
        BlockedLayout.blocked(192, 14, 14, 1, 1, 1, 1));
    // 192 * 9 * 192 weights against 192 x 16 x 16 floats of input: 6.75 times.
    assertThat(a0.weightHeavy(1)).isTrue();
    assertThat(a0.bands(2, 1)).isEqualTo(1);
    // Two samples of input: 3.4 times.
    assertThat(a0.weightHeavy(2)).isFalse();
    assertThat(a0.bands(2, 2)).isEqualTo(2);
    ConvGeometry pointwise = NaiveConvKernel.geometry(512, 512, 14, 14, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
        PaddingMode.ZEROS);
    BlockedConv mobilenet = new BlockedConv(pointwise, Activation.RELU, BlockedLayout.blocked(512, 14, 14, 0, 0, 0, 0),
        BlockedLayout.blocked(512, 14, 14, 1, 1, 1, 1));
    assertThat(mobilenet.weightHeavy(1)).isFalse();
    assertThat(mobilenet.bands(2, 1)).isEqualTo(2);
  }

  /** Whether two-block tiles can be 14 pixels wide here: they need 32 vector registers (AVX-512). */
  private static final boolean WIDE_TILES = TileBudget.maxPixels(2, true) == 14;
  private static final String WIDE_TILES_NEED = "two-block tiles of 14 pixels need 32 vector registers";

  /**
   * Rows of whole 14-pixel tiles get two-block chunks with 14-pixel tiles; 7-pixel rows and pointwise layers keep
   * 7-pixel tiles.
   */
  @Test
  void tilesByRowWidth() {
    int lanes = VectorShape.LANES;
    assumeTrue(WIDE_TILES, WIDE_TILES_NEED);
    assertThat(chunkTiles(NaiveConvKernel.geometry(4 * lanes, 4 * lanes, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        PaddingMode.ZEROS))).containsExactly("conv2x14/1");
    assertThat(chunkTiles(NaiveConvKernel.geometry(5 * lanes, 5 * lanes, 28, 28, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1,
        PaddingMode.ZEROS))).containsExactly("conv3x7/2", "conv2x14/2");
    // Pointwise layers keep three blocks by 7 pixels (two by 7 for the rest).
    assertThat(chunkTiles(NaiveConvKernel.geometry(4 * lanes, 5 * lanes, 14, 14, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
        PaddingMode.ZEROS))).containsExactly("pointwise3x7", "pointwise2x7");
    assertThat(chunkTiles(NaiveConvKernel.geometry(4 * lanes, 4 * lanes, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        PaddingMode.ZEROS))).containsExactly("conv2x7/1");
    if (TileBudget.maxPixels(2, true) >= BlockedConv.TEN_PIXEL_TWOS) {
      // Rows of a 160-pixel MobileNet (80, 40, 20, 10): two-block chunks with tiles of 10 pixels, and one
      // three-block chunk for an odd block count; rows of 5 keep three blocks.
      assertThat(chunkTiles(NaiveConvKernel.geometry(lanes, 2 * lanes, 80, 80, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
          PaddingMode.ZEROS))).containsExactly("pointwise2x10");
      assertThat(chunkTiles(NaiveConvKernel.geometry(lanes, 5 * lanes, 10, 10, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
          PaddingMode.ZEROS))).containsExactly("pointwise3x5", "pointwise2x10");
      assertThat(chunkTiles(NaiveConvKernel.geometry(lanes, 6 * lanes, 5, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
          PaddingMode.ZEROS))).containsExactly("pointwise3x5");
      assertThat(chunkTiles(NaiveConvKernel.geometry(4 * lanes, 4 * lanes, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1,
          PaddingMode.ZEROS))).containsExactly("conv2x10/1");
    }
    // Other two-block chunks on rows that are not multiples of 7 get at most 7 pixels, where the widest
    // fitting tiles (13-14 pixels) were slower per multiply-add.
    assertThat(chunkTiles(NaiveConvKernel.geometry(lanes, 2 * lanes, 13, 13, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
        PaddingMode.ZEROS))).containsExactly("pointwise2x7", "pointwise2x6");
    assertThat(BlockedConv.tenPixelTwos(12)).isFalse();
    assertThat(BlockedConv.tenPixelTwos(28)).isFalse();
  }

  /**
   * Depthwise 3x3 layers get tiles of at most {@link BlockedKernels#MAX_DEPTHWISE_3X3_PIXELS} pixels whatever
   * their width (wider ones do not compile in JDK 17's C1; {@link BlockedTileCompilationTest}): 7 for the
   * widths of 224-pixel networks, even runs for the others (a 160-pixel MobileNet's 80, 40, 20 and 10), and
   * the pixels of every row add up to its width.
   */
  @Test
  void depthwiseThreeByThreeTilesStayCompilable() {
    int lanes = VectorShape.LANES;
    assertThat(chunkTiles(NaiveConvKernel.geometry(lanes, lanes, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, lanes,
        PaddingMode.ZEROS))).containsExactly("depthwise3x3-7/1");
    assertThat(chunkTiles(NaiveConvKernel.geometry(lanes, lanes, 40, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, lanes,
        PaddingMode.ZEROS))).containsExactly("depthwise3x3-7/2", "depthwise3x3-6/2");
    assertThat(chunkTiles(NaiveConvKernel.geometry(lanes, lanes, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, lanes,
        PaddingMode.ZEROS))).containsExactly("depthwise3x3-8/1");
    int checked = 0;
    for (int stride = 1; stride <= 2; stride++) {
      for (int width = 1; width <= 130; width++) {
        ConvGeometry g = NaiveConvKernel.geometry(lanes, lanes, 5, stride * width, 3, 3, stride, stride, 1, 1, 1, 1,
            1, 1, lanes, PaddingMode.ZEROS);
        int[] columns = BlockedConv.columns(g.outWidth(), BlockedKernels.MAX_DEPTHWISE_3X3_PIXELS);
        int sum = 0;
        for (int i = 0; i < columns.length; i += 2) {
          assertThat(columns[i]).isEqualTo(sum);
          sum += columns[i + 1];
        }
        assertThat(sum).isEqualTo(g.outWidth());
        for (String key : chunkTiles(g)) {
          int pixels = Integer.parseInt(key.substring("depthwise3x3-".length(), key.indexOf('/')));
          assertThat(pixels).isAtMost(BlockedKernels.MAX_DEPTHWISE_3X3_PIXELS);
          assertThat(key).endsWith("/" + stride);
        }
        checked++;
      }
    }
    assertThat(checked).isEqualTo(260);
  }

  /**
   * The two-block 14-pixel chunks give the same bits as the split before them (three blocks by 7 pixels), as
   * every tile computes an output element by the same multiply-adds in the same order.
   */
  @Test
  void wideChunksGiveTheSameBits() {
    assumeTrue(WIDE_TILES, WIDE_TILES_NEED);
    SplittableRandom r = new SplittableRandom(1203);
    int lanes = VectorShape.LANES;
    ConvGeometry[] layers = {
        NaiveConvKernel.geometry(4 * lanes, 4 * lanes, 28, 28, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(3 * lanes, 5 * lanes, 56, 56, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(5 * lanes, 6 * lanes, 14, 14, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, PaddingMode.ZEROS),
    };
    for (ConvGeometry g : layers) {
      sameBitsWithSwitchOff(g, "kiln.blocked.wideTwos", "2x14", true, r);
    }
  }

  /**
   * Layer {@code g} with the tile rule behind system property {@code property} on (the default) and off: on, some
   * tile's key contains {@code tile}; off, none does where {@code offLacksTile}; both give the same bits on a
   * random input, and they match the reference.
   */
  private static void sameBitsWithSwitchOff(ConvGeometry g, String property, String tile, boolean offLacksTile,
      SplittableRandom r) {
    ReluLayer l = ReluLayer.of(g);
    ReferenceConv2d ref = l.ref();
    BlockedLayout in = l.in();
    BlockedLayout out = l.out();
    BlockedConv on = new BlockedConv(g, Activation.RELU, in, out);
    BlockedConv off;
    System.setProperty(property, "false");
    try {
      off = new BlockedConv(g, Activation.RELU, in, out);
    } finally {
      System.clearProperty(property);
    }
    assertWithMessage(g.toString()).that(on.tiles().stream().anyMatch(t -> t.key.contains(tile))).isTrue();
    assertWithMessage(g.toString()).that(off.tiles().stream().noneMatch(t -> t.key.contains(tile))).isEqualTo(offLacksTile);
    Tensor x = TestTensors.uniform(r, 1, 1, g.inChannels(), g.inHeight(), g.inWidth());
    float[] xb = new float[in.sampleSize];
    in.fromNchw(x.data(), 0, xb, 0);
    float[] a = new float[out.sampleSize];
    float[] b = new float[out.sampleSize];
    on.run(ref.weight(), ref.bias(), xb, 0, a, 0, 1, 1, 0, on.items(1));
    off.run(ref.weight(), ref.bias(), xb, 0, b, 0, 1, 1, 0, off.items(1));
    assertSameBits(g.toString(), b, a);
    l.assertMatchesReference(a, x);
  }

  /**
   * The 8-pixel three-block chunks of {@link BlockedConv#eightPixelThrees} rows give the same bits as 3x7 tiles
   * ({@code kiln.blocked.eights=false}) and match the reference: 3x3 layers at stride 1 and 2 on rows of 56
   * pixels, and on rows of 16 (3x8 tiles either way).
   */
  @Test
  void eightPixelThreesGiveTheSameBits() {
    assumeTrue(TileBudget.maxPixels(3, true) >= 8, "needs 32 vector registers and JDK 17's scheduling");
    SplittableRandom r = new SplittableRandom(1205);
    int lanes = VectorShape.LANES;
    ConvGeometry[] layers = {
        NaiveConvKernel.geometry(3 * lanes, 3 * lanes, 56, 56, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(2 * lanes, 3 * lanes, 112, 112, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(lanes, 3 * lanes, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS),
    };
    int compared = 0;
    for (ConvGeometry g : layers) {
      // Rows that are no multiple of 7 (16 pixels) take the widest tiles that divide them either way.
      sameBitsWithSwitchOff(g, "kiln.blocked.eights", "conv3x8/", g.outWidth() % 7 == 0, r);
      compared++;
    }
    assertThat(compared).isEqualTo(layers.length);
  }

  /**
   * The 10-pixel two-block chunks of {@link BlockedConv#tenPixelTwos} rows give the same bits as the one-block
   * first tiles (7 pixels wide) and match the reference: pointwise and 3x3 layers at widths 20 and 10.
   */
  @Test
  void tenPixelChunksGiveTheSameBits() {
    assumeTrue(TileBudget.maxPixels(2, true) >= BlockedConv.TEN_PIXEL_TWOS, "needs 32 vector registers");
    SplittableRandom r = new SplittableRandom(1204);
    int lanes = VectorShape.LANES;
    ConvGeometry[] layers = {
        NaiveConvKernel.geometry(2 * lanes, 4 * lanes, 20, 20, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(3 * lanes, 5 * lanes, 10, 10, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(2 * lanes, 4 * lanes, 20, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS),
        NaiveConvKernel.geometry(lanes, 2 * lanes, 20, 20, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS),
    };
    int cases = 0;
    for (ConvGeometry g : layers) {
      ReluLayer l = ReluLayer.of(g);
      ReferenceConv2d ref = l.ref();
      BlockedLayout in = l.in();
      BlockedLayout out = l.out();
      BlockedConv conv = new BlockedConv(g, Activation.RELU, in, out);
      assertWithMessage(g.toString()).that(conv.tiles().stream().anyMatch(t -> t.key.contains("2x10"))).isTrue();
      Tensor x = TestTensors.uniform(r, 1, 1, g.inChannels(), g.inHeight(), g.inWidth());
      float[] xb = new float[in.sampleSize];
      in.fromNchw(x.data(), 0, xb, 0);
      float[] own = ownTilesAgreeWithFirstTiles(g.toString(), conv, ref.weight(), ref.bias(), xb);
      l.assertMatchesReference(own, x);
      cases++;
    }
    assertThat(cases).isEqualTo(4);
  }

  /**
   * The first tiles' column runs cover every pixel of a row, stay inside it, and are all {@link
   * BlockedConv#FIRST_PIXELS} wide where the row is at least that wide: one first tile for any such width.
   */
  @Test
  void firstColumnsCoverTheRowWithOneTileWidth() {
    int checked = 0;
    for (int width = 1; width <= 130; width++) {
      int[] c = BlockedConv.firstColumns(width);
      boolean[] covered = new boolean[width];
      for (int i = 0; i < c.length; i += 2) {
        assertThat(c[i + 1]).isEqualTo(Math.min(width, BlockedConv.FIRST_PIXELS));
        assertThat(c[i]).isAtLeast(0);
        assertThat(c[i] + c[i + 1]).isAtMost(width);
        for (int p = c[i]; p < c[i] + c[i + 1]; p++) {
          covered[p] = true;
        }
      }
      for (int p = 0; p < width; p++) {
        assertWithMessage("width " + width + " pixel " + p).that(covered[p]).isTrue();
      }
      assertThat(c.length / 2).isEqualTo((width + BlockedConv.FIRST_PIXELS - 1) / BlockedConv.FIRST_PIXELS);
      checked++;
    }
    assertThat(checked).isEqualTo(130);
    // Rows of 224-pixel networks: the runs of before, no overlap.
    assertThat(BlockedConv.firstColumns(28)).asList().containsExactly(0, 7, 7, 7, 14, 7, 21, 7).inOrder();
    assertThat(BlockedConv.firstColumns(10)).asList().containsExactly(0, 7, 3, 7).inOrder();
  }

  /**
   * A convolution with a bias and ReLU: its reference, a blocked input with the halo it requires and a blocked
   * output with a halo of 1.
   */
  private record ReluLayer(ConvGeometry g, ReferenceConv2d ref, BlockedLayout in, BlockedLayout out) {
    static ReluLayer of(ConvGeometry g) {
      int[] halo = BlockedConv.requiredHalo(g);
      return new ReluLayer(g, ReferenceConv2d.builder(g).bias(true).activation(Activation.RELU).build(),
          BlockedLayout.blocked(g.inChannels(), g.inHeight(), g.inWidth(), halo[0], halo[1], halo[2], halo[3]),
          BlockedLayout.blocked(g.outChannels(), g.outHeight(), g.outWidth(), 1, 1, 1, 1));
    }

    /** Asserts that the blocked output {@code y} of input {@code x} is the reference's to 1e-5. */
    void assertMatchesReference(float[] y, Tensor x) {
      float[] actual = new float[g.outChannels() * g.outHeight() * g.outWidth()];
      out.toNchw(y, 0, actual, 0);
      ref.eval();
      assertWithMessage(g.toString())
          .that(SimdConvDifferentialTest.relativeError(actual, ref.forward(x).data())).isAtMost(1e-5);
    }
  }

  /** The distinct tiles of a layer's chunks (not its one-block first tiles), in order. */
  private static java.util.Set<String> chunkTiles(ConvGeometry g) {
    BlockedConv conv = new BlockedConv(g, Activation.RELU, BlockedLayout.blocked(g.inChannels(), g.inHeight(),
        g.inWidth(), 1, 1, 1, 1), BlockedLayout.blocked(g.outChannels(), g.outHeight(), g.outWidth(), 0, 0, 0, 0));
    java.util.List<TileWarmer.Tile> all = conv.tiles();
    // tiles() lists the one-block first tiles (one per column run of FIRST_PIXELS) before the chunks' tiles.
    int first = BlockedConv.isDepthwise(g) ? 0 : BlockedConv.firstColumns(g.outWidth()).length / 2;
    java.util.Set<String> keys = new java.util.LinkedHashSet<>();
    for (TileWarmer.Tile t : all.subList(first, all.size())) {
      // The shapes, whatever the kind (these layers' ReLU takes the ReLU kind of tiles of two blocks or more).
      keys.add(t.key.replace(" relu", "").replace(" linear", ""));
    }
    return keys;
  }

  private static java.util.List<Integer> expand(int n, int v, int m, int u) {
    java.util.List<Integer> l = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      l.add(v);
    }
    for (int i = 0; i < m; i++) {
      l.add(u);
    }
    return l;
  }

  /**
   * Runs one sample through {@code conv} with its one-block first tiles and with its own, asserts that both give
   * the same bits, and returns the own tiles' output.
   */
  private static float[] ownTilesAgreeWithFirstTiles(String what, BlockedConv conv, Parameter weight, Parameter bias,
      float[] xb) {
    float[] first = new float[conv.out.sampleSize];
    float[] own = new float[conv.out.sampleSize];
    conv.firstTilesOnly = true;
    conv.run(weight, bias, xb, 0, first, 0, 1, 1, 0, conv.items(1));
    conv.firstTilesOnly = false;
    conv.run(weight, bias, xb, 0, own, 0, 1, 1, 0, conv.items(1));
    assertSameBits(what + ", own tiles against the one-block tiles", first, own);
    return own;
  }

  private static void check(ConvGeometry g, boolean blockedInput, boolean bias, Activation act, SplittableRandom r) {
    ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(bias)
        .activation(act)
        .build();
    ref.eval();
    int n = 1 + r.nextInt(3);
    Tensor x = TestTensors.uniform(r, 1, n, g.inChannels(), g.inHeight(), g.inWidth());
    Tensor expected = ref.forward(x);
    int[] halo = BlockedConv.requiredHalo(g);
    int extra = r.nextInt(2);
    BlockedLayout in = blockedInput
        ? BlockedLayout.blocked(g.inChannels(), g.inHeight(), g.inWidth(), halo[0] + extra, halo[1], halo[2],
            halo[3] + extra)
        : BlockedLayout.planes(g.inChannels(), g.inHeight(), g.inWidth(), halo[0], halo[1] + extra, halo[2] + extra,
            halo[3]);
    BlockedLayout out = BlockedLayout.blocked(g.outChannels(), g.outHeight(), g.outWidth(), r.nextInt(2),
        r.nextInt(2), r.nextInt(2), r.nextInt(2));
    BlockedConv conv = new BlockedConv(g, act, in, out);
    String what = g + " " + in + " -> " + out + " N=" + n;
    assertWithMessage(what).that(BlockedConv.supports(g, blockedInput)).isTrue();
    float[] xb = blockedBatch(in, x.data(), n);
    float[] yb = new float[n * out.sampleSize + 3];
    Parameter weight = ref.weight();
    Parameter biasParam = bias ? ref.bias() : null;
    int items = conv.items(n);
    // Random work ranges, as threads would take them, in 1-3 row bands dividing the rows (another item order);
    // the band count is derived, not drawn, so that the random draws stay those of the other cases.
    int bands = 1 + (n + items) % 3;
    while (g.outHeight() % bands != 0) {
      bands--;
    }
    int start = 0;
    while (start < items) {
      int end = Math.min(items, start + 1 + r.nextInt(Math.max(1, items / 3)));
      conv.run(weight, biasParam, xb, 0, yb, 0, n, bands, start, end);
      start = end;
    }
    // The one-block tiles that run a layer until its own tiles are compiled give the same bits.
    float[] firstTiles = new float[yb.length];
    conv.firstTilesOnly = true;
    conv.run(weight, biasParam, xb, 0, firstTiles, 0, n, 1, 0, items);
    conv.firstTilesOnly = false;
    assertSameBits(what + ", one-block tiles against the layer's", firstTiles, yb);
    float[] actual = nchwBatch(out, yb, n);
    assertWithMessage(what).that(SimdConvDifferentialTest.relativeError(actual, expected.data())).isAtMost(1e-5);
    // Everything outside the interior (halo, padded lanes, the slack at the end) is still zero.
    float[] interiorOnly = yb.clone();
    float[] zeros = new float[n * out.sampleSize];
    for (int i = 0; i < n; i++) {
      out.fromNchw(zeros, 0, interiorOnly, i * out.sampleSize);
    }
    for (int i = 0; i < interiorOnly.length; i++) {
      if (interiorOnly[i] != 0f) {
        assertWithMessage(what + ": wrote outside the interior at " + i + ": " + interiorOnly[i]).fail();
      }
    }
  }

  /** {@code n} samples in NCHW ({@code nchw}) in {@code layout}, one {@code layout.sampleSize} after another. */
  private static float[] blockedBatch(BlockedLayout layout, float[] nchw, int n) {
    float[] b = new float[n * layout.sampleSize];
    int sample = layout.channels * layout.height * layout.width;
    for (int i = 0; i < n; i++) {
      layout.fromNchw(nchw, i * sample, b, i * layout.sampleSize);
    }
    return b;
  }

  /** The interiors of {@code n} samples in {@code layout} ({@code blocked}), in NCHW. */
  private static float[] nchwBatch(BlockedLayout layout, float[] blocked, int n) {
    int sample = layout.channels * layout.height * layout.width;
    float[] nchw = new float[n * sample];
    for (int i = 0; i < n; i++) {
      layout.toNchw(blocked, i * layout.sampleSize, nchw, i * sample);
    }
    return nchw;
  }
}
