package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.kiln.testing.NumericAssertions.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.Flatten;
import dev.kiln.nn.GlobalAvgPool2d;
import dev.kiln.nn.Linear;
import dev.kiln.nn.SequentialModel;
import dev.kiln.runtime.Parallel;
import dev.kiln.nn.ReferenceConv2d;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link WinogradConv} against {@link ReferenceConv2d}'s 3x3 sums over seeded random layers: channel counts
 * around and between the vector blocks, even sides from 2 to 16, extra halo on both sides, batches of 1-3,
 * every activation, with and without a bias; the three steps in random pieces of their work (as threads take
 * them) give the same bits as in one piece, the one-block first tiles the same bits as the products' own tiles,
 * and the output's halo stays zero. Counted.
 */
@ExtendWith(TilesNotAwaited.class)
class WinogradConvTest {
  private static final int CASES = 40;

  @Test
  void matchesTheReference() {
    SplittableRandom r = new SplittableRandom(20261205);
    int partialBlocks = 0;
    int withoutBias = 0;
    for (int i = 0; i < CASES; i++) {
      int in = WinogradConv.MIN_CHANNELS + r.nextInt(2 * VectorShape.LANES + 7);
      int out = 1 + r.nextInt(3 * VectorShape.LANES + 5);
      int h = 2 * (1 + r.nextInt(8));
      int w = 2 * (1 + r.nextInt(8));
      boolean bias = r.nextInt(4) != 0;
      Activation activation = Activation.values()[r.nextInt(Activation.values().length)];
      check(geometry(in, out, h, w), bias, activation, 1 + r.nextInt(3), r);
      partialBlocks += out % VectorShape.LANES != 0 || in % VectorShape.LANES != 0 ? 1 : 0;
      withoutBias += bias ? 0 : 1;
    }
    assertThat(partialBlocks).isAtLeast(CASES / 2);
    assertThat(withoutBias).isAtLeast(4);
  }

  /** RepVGG-A0's three Winograd shapes (48 channels 56x56, 96 28x28, 192 14x14) at N=2 with ReLU. */
  @Test
  void repVggLayers() {
    SplittableRandom r = new SplittableRandom(48);
    int[][] shapes = {{48, 56}, {96, 28}, {192, 14}};
    for (int[] s : shapes) {
      check(geometry(s[0], s[0], s[1], s[1]), true, Activation.RELU, 2, r);
    }
  }

  /** New weight values (marked changed) are transformed again before the next run. */
  @Test
  void followsTheWeights() {
    SplittableRandom r = new SplittableRandom(5);
    ConvGeometry g = geometry(40, 24, 6, 8);
    ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(Activation.NONE).build();
    ref.eval();
    BlockedLayout in = BlockedLayout.blocked(40, 6, 8, 1, 1, 1, 1);
    BlockedLayout out = BlockedLayout.blocked(24, 6, 8, 0, 0, 0, 0);
    WinogradConv conv = new WinogradConv(g, Activation.NONE, in, out);
    Tensor x = TestTensors.uniform(r, 1, 1, 40, 6, 8);
    float[] xb = new float[in.sampleSize];
    in.fromNchw(x.data(), 0, xb, 0);
    for (int round = 0; round < 2; round++) {
      float[] y = new float[out.sampleSize];
      conv.run(ref.weight(), ref.bias(), xb, 0, new float[conv.tileFloats(1)], new float[conv.productFloats(1)], y,
          0, 1);
      float[] actual = new float[24 * 6 * 8];
      out.toNchw(y, 0, actual, 0);
      assertWithMessage("round " + round)
          .that(SimdConvDifferentialTest.relativeError(actual, ref.forward(x).data())).isAtMost(1e-5);
      TestTensors.redraw(ref.weight(), r);
    }
  }

  /**
   * Weights transformed into a share of a larger array ({@link WinogradConv#placeWeights}, as a network places
   * them) give the same bits as the layer's own array, follow a change of the weights (transformed again in place),
   * and write nothing outside the share.
   */
  @Test
  void placedWeightsGiveTheSameBitsAndStayInTheirShare() {
    SplittableRandom r = new SplittableRandom(6);
    ConvGeometry g = geometry(40, 24, 6, 8);
    ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(Activation.RELU).build();
    BlockedLayout in = BlockedLayout.blocked(40, 6, 8, 1, 1, 1, 1);
    BlockedLayout out = BlockedLayout.blocked(24, 6, 8, 0, 0, 0, 0);
    WinogradConv placed = new WinogradConv(g, Activation.RELU, in, out);
    WinogradConv own = new WinogradConv(g, Activation.RELU, in, out);
    int base = AlignedFloats.FIRST + 7 * AlignedFloats.LINE;
    float[] arena = new float[base + placed.weightFloats() + 9];
    Arrays.fill(arena, Float.NaN);
    Arrays.fill(arena, base, base + placed.weightFloats(), 0f);
    placed.placeWeights(new AlignedFloats.Share(arena, base));
    float[] xb = blockedInput(r, in, 2);
    int cases = 0;
    for (int round = 0; round < 2; round++) {
      float[] a = new float[2 * out.sampleSize];
      float[] b = new float[2 * out.sampleSize];
      placed.run(ref.weight(), ref.bias(), xb, 0, new float[placed.tileFloats(2)],
          new float[placed.productFloats(2)], a, 0, 2);
      own.run(ref.weight(), ref.bias(), xb, 0, new float[own.tileFloats(2)], new float[own.productFloats(2)], b, 0,
          2);
      assertSameBits("round " + round, b, a);
      assertThat(own.weightHome().base() % AlignedFloats.LINE).isEqualTo(AlignedFloats.FIRST);
      for (int i = 0; i < arena.length; i++) {
        if (i < base || i >= base + placed.weightFloats()) {
          assertWithMessage("round %s: outside element %s", round, i).that(arena[i]).isNaN();
        }
      }
      TestTensors.redraw(ref.weight(), r);
      cases++;
    }
    assertThat(cases).isEqualTo(2);
  }

  /**
   * The weight transform ahead of the layer's run ({@link WinogradConv#prepareWeights}, on the calling thread and as
   * a job of the warmer's thread): prepared, the layer gives the same bits as a layer that transforms its weights
   * when it runs; new weight values are prepared again; a network's first forward queues one job per convolution.
   */
  /**
   * The multiply-adds its products would run on the one-block pointwise tiles (what decides whether a first forward
   * has them warmed, {@link BlockedNetwork#requestFirstPointwise}): the 16 products' 1x1 convolutions over the map
   * of 2x2 output tiles, where the input's channels fill whole blocks; none where they do not.
   */
  @Test
  void countsItsProductsForThePointwiseFirstTiles() {
    int lanes = VectorShape.LANES;
    int cin = Math.max(WinogradConv.MIN_CHANNELS, 2 * lanes);
    WinogradConv whole = new WinogradConv(geometry(cin, 24, 6, 8), Activation.RELU,
        BlockedLayout.blocked(cin, 6, 8, 1, 1, 1, 1), BlockedLayout.blocked(24, 6, 8, 0, 0, 0, 0));
    assertThat(whole.firstPointwiseMacs()).isEqualTo(16L * cin * 24 * 3 * 4);
    WinogradConv partial = new WinogradConv(geometry(cin + 1, 24, 6, 8), Activation.RELU,
        BlockedLayout.blocked(cin + 1, 6, 8, 1, 1, 1, 1), BlockedLayout.blocked(24, 6, 8, 0, 0, 0, 0));
    assertThat(partial.firstPointwiseMacs()).isEqualTo(0L);
  }

  @Test
  void preparesItsWeightsAhead() throws Exception {
    TileWarmer.Tile weights = TileWarmer.winogradWeights();
    TileWarmer.warm(weights, TimeUnit.SECONDS.toNanos(60), TimeUnit.SECONDS.toNanos(60));
    assertThat(weights.hot()).isTrue();
    SplittableRandom r = new SplittableRandom(6);
    ConvGeometry g = geometry(40, 24, 6, 8);
    ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(Activation.RELU).build();
    BlockedLayout in = BlockedLayout.blocked(40, 6, 8, 1, 1, 1, 1);
    BlockedLayout out = BlockedLayout.blocked(24, 6, 8, 0, 0, 0, 0);
    WinogradConv prepared = new WinogradConv(g, Activation.RELU, in, out);
    WinogradConv plain = new WinogradConv(g, Activation.RELU, in, out);
    float[] xb = blockedInput(r, in, 2);
    int cases = 0;
    for (int round = 0; round < 2; round++) {
      assertWithMessage("round %s", round).that(prepared.weightsPrepared(ref.weight())).isFalse();
      if (round == 0) {
        prepared.prepareWeights(ref.weight());
      } else {
        TileWarmer.schedule(() -> prepared.prepareWeights(ref.weight()));
        assertThat(TileWarmer.awaitIdle(TimeUnit.SECONDS.toNanos(60))).isTrue();
      }
      assertWithMessage("round %s", round).that(prepared.weightsPrepared(ref.weight())).isTrue();
      float[] a = new float[2 * out.sampleSize];
      float[] b = new float[2 * out.sampleSize];
      prepared.run(ref.weight(), ref.bias(), xb, 0, new float[prepared.tileFloats(2)],
          new float[prepared.productFloats(2)], a, 0, 2);
      plain.run(ref.weight(), ref.bias(), xb, 0, new float[plain.tileFloats(2)], new float[plain.productFloats(2)],
          b, 0, 2);
      assertSameBits("round " + round, b, a);
      TestTensors.redraw(ref.weight(), r);
      cases++;
    }
    assertThat(cases).isEqualTo(2);
    SequentialModel net = new TwoLayerNet();
    net.eval();
    BlockedNetwork engine = (BlockedNetwork) net.networkEngine();
    assertThat(engine.weightsScheduled).isEqualTo(0);
    net.forward(TestTensors.uniform(r, 1, 1, 3, 16, 16));
    // The stem (packed) and the two layers in Winograd's form (transformed); not again in a later forward.
    assertThat(engine.weightsScheduled).isEqualTo(3);
    net.forward(TestTensors.uniform(r, 1, 1, 3, 16, 16));
    assertThat(engine.weightsScheduled).isEqualTo(3);
  }

  /**
   * In a network: two Winograd layers (64->64 and 64->24; the first's products in two or more chunks, which
   * two threads split between them, each with the whole input transform, {@link WinogradConv#runChunks}; the
   * second's in one chunk, its steps split one after another) between a stem and pooling. At N=1 and N=3 (where
   * the batch does not divide among the threads, so the layers split): two threads give the same bits as one, and
   * the layer-by-layer forward's values within 1e-5. Chunks split at every boundary give the same bits as the
   * whole layer.
   */
  @Test
  void splitOverThreadsInANetwork() {
    int saved = Parallel.threads();
    try {
      SplittableRandom r = new SplittableRandom(64);
      SequentialModel net = new TwoLayerNet();
      net.eval();
      BlockedNetwork engine = (BlockedNetwork) net.networkEngine();
      assertThat(engine.tiles()).contains(TileWarmer.winogradInput(false));
      BlockedLayout in = BlockedLayout.blocked(64, 16, 16, 1, 1, 1, 1);
      assertThat(new WinogradConv(geometry(64, 64, 16, 16), Activation.RELU, in,
          BlockedLayout.blocked(64, 16, 16, 0, 0, 0, 0)).chunks()).isAtLeast(2);
      assertThat(new WinogradConv(geometry(64, 24, 16, 16), Activation.NONE, in,
          BlockedLayout.blocked(24, 16, 16, 0, 0, 0, 0)).chunks()).isEqualTo(1);
      int cases = 0;
      for (int n : new int[] {1, 3}) {
        Tensor x = TestTensors.uniform(r, 1, n, 3, 16, 16);
        Tensor expected = net.forwardLayers(x);
        Parallel.setThreads(1);
        Tensor one = net.forward(x);
        Parallel.setThreads(2);
        assertThat(engine.batchParts(x)).isEqualTo(1);
        Tensor two = net.forward(x);
        assertWithMessage("N=%s", n).that(SimdConvDifferentialTest.relativeError(one.data(), expected.data()))
            .isAtMost(1e-5);
        assertWithMessage("N=%s, 2 threads", n).that(two.data()).usingExactEquality().containsExactly(one.data())
            .inOrder();
        cases++;
      }
      assertThat(cases).isEqualTo(2);
    } finally {
      Parallel.setThreads(saved);
    }
    // The same layer's chunks one piece at a time against the whole.
    SplittableRandom r = new SplittableRandom(65);
    ConvGeometry g = geometry(64, 8 * VectorShape.LANES, 6, 10);
    ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(Activation.RELU).build();
    BlockedLayout in = BlockedLayout.blocked(64, 6, 10, 1, 1, 1, 1);
    BlockedLayout out = BlockedLayout.blocked(g.outChannels(), 6, 10, 1, 1, 1, 1);
    WinogradConv conv = new WinogradConv(g, Activation.RELU, in, out);
    assertThat(conv.chunks()).isAtLeast(2);
    int n = 2;
    float[] xb = blockedInput(r, in, n);
    float[] whole = new float[n * out.sampleSize];
    conv.run(ref.weight(), ref.bias(), xb, 0, new float[conv.tileFloats(n)], new float[conv.productFloats(n)], whole,
        0, n);
    for (int cut = 0; cut <= conv.chunks(); cut++) {
      float[] pieces = new float[n * out.sampleSize];
      float[] m = new float[conv.productFloats(n)];
      conv.runChunks(ref.weight(), ref.bias(), xb, 0, new float[conv.tileFloats(n)], m, pieces, 0, n, 0, cut);
      conv.runChunks(ref.weight(), ref.bias(), xb, 0, new float[conv.tileFloats(n)], m, pieces, 0, n, cut,
          conv.chunks());
      assertSameBits("chunks cut at " + cut, whole, pieces);
    }
  }

  /**
   * A batch through the three steps a group of samples at a time ({@link WinogradConv#groupSamples}): groups of one
   * and two samples give the same bits as the whole batch, alone ({@code run}, {@code runChunks} cut in two) and in
   * a network on two threads (one layer split by chunks, one by steps) at N=3; the group size follows the budget.
   */
  @Test
  void batchesInGroupsOfSamples() {
    long savedGroup = WinogradConv.groupFloats;
    int savedThreads = Parallel.threads();
    try {
      SplittableRandom r = new SplittableRandom(66);
      ConvGeometry g = geometry(40, 3 * VectorShape.LANES, 6, 8);
      ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(Activation.RELU).build();
      BlockedLayout in = BlockedLayout.blocked(40, 6, 8, 1, 1, 1, 1);
      BlockedLayout out = BlockedLayout.blocked(g.outChannels(), 6, 8, 0, 0, 0, 0);
      WinogradConv conv = new WinogradConv(g, Activation.RELU, in, out);
      long perSample = conv.scratchPerSample();
      assertThat(conv.tileFloats(1) + conv.productFloats(1)).isEqualTo(perSample + 2 * AlignedFloats.FIRST);
      int n = 5;
      float[] xb = blockedInput(r, in, n);
      WinogradConv.groupFloats = Long.MAX_VALUE;
      assertThat(conv.groupSamples(n)).isEqualTo(n);
      float[] whole = new float[n * out.sampleSize];
      conv.run(ref.weight(), ref.bias(), xb, 0, new float[conv.tileFloats(n)], new float[conv.productFloats(n)],
          whole, 0, n);
      int cases = 0;
      for (int group : new int[] {1, 2}) {
        WinogradConv.groupFloats = group * perSample + perSample - 1;
        assertThat(conv.groupSamples(n)).isEqualTo(group);
        float[] v = new float[conv.tileFloats(group)];
        float[] m = new float[conv.productFloats(group)];
        float[] grouped = new float[n * out.sampleSize];
        conv.run(ref.weight(), ref.bias(), xb, 0, v, m, grouped, 0, n);
        assertSameBits("run in groups of " + group, whole, grouped);
        float[] chunked = new float[n * out.sampleSize];
        int cut = conv.chunks() / 2;
        conv.runChunks(ref.weight(), ref.bias(), xb, 0, v, m, chunked, 0, n, 0, cut);
        conv.runChunks(ref.weight(), ref.bias(), xb, 0, v, m, chunked, 0, n, cut, conv.chunks());
        assertSameBits("chunks in groups of " + group, whole, chunked);
        cases++;
      }
      WinogradConv.groupFloats = 1;
      assertThat(conv.groupSamples(n)).isEqualTo(1);

      Tensor x = TestTensors.uniform(r, 1, 3, 3, 16, 16);
      WinogradConv.groupFloats = Long.MAX_VALUE;
      Parallel.setThreads(1);
      SequentialModel reference = new TwoLayerNet();
      reference.eval();
      float[] expected = reference.forward(x).data();
      for (long budget : new long[] {1, Long.MAX_VALUE}) {
        WinogradConv.groupFloats = budget;
        Parallel.setThreads(2);
        SequentialModel net = new TwoLayerNet();
        net.eval();
        net.forward(x);
        assertSameBits("network on 2 threads, group budget " + budget, expected, net.forward(x).data());
        cases++;
      }
      assertThat(cases).isEqualTo(4);
    } finally {
      WinogradConv.groupFloats = savedGroup;
      Parallel.setThreads(savedThreads);
    }
  }

  /** {@code n} samples of random values in layout {@code in}, its halo zero. */
  private static float[] blockedInput(SplittableRandom r, BlockedLayout in, int n) {
    float[] xb = TestTensors.uniform(r, 1, n * in.sampleSize).data();
    for (int s = 0; s < n; s++) {
      in.clearOutside(xb, s * in.sampleSize);
    }
    return xb;
  }

  private static final class TwoLayerNet extends SequentialModel {
    TwoLayerNet() {
      super(new int[] {3, 16, 16}, new int[] {10});
      add("stem", BlockedNetworkTest.Net.conv(3, 64, 16, 16, 3, 1, 1, 1, Activation.RELU, 1));
      add("a", BlockedNetworkTest.Net.conv(64, 64, 16, 16, 3, 1, 1, 1, Activation.RELU, 2));
      add("b", BlockedNetworkTest.Net.conv(64, 24, 16, 16, 3, 1, 1, 1, Activation.NONE, 3));
      add("gap", new GlobalAvgPool2d());
      add("flatten", new Flatten());
      add("fc", new Linear(24, 10, true, 4));
    }
  }

  /** Only 3x3 layers of stride 1, dilation 1, one group, padding 1 and even sides on enough blocked channels. */
  @Test
  void supportsOnlyItsLayers() {
    int c = WinogradConv.MIN_CHANNELS;
    assertThat(WinogradConv.supports(geometry(c, c, 14, 14), true)).isTrue();
    assertThat(WinogradConv.supports(geometry(c, c, 14, 14), false)).isFalse();
    assertThat(WinogradConv.supports(geometry(c - 1, c, 14, 14), true)).isFalse();
    assertThat(WinogradConv.supports(geometry(c, c, 13, 14), true)).isFalse();
    assertThat(WinogradConv.supports(geometry(c, c, 14, 7), true)).isFalse();
    assertThat(WinogradConv.supports(
        NaiveConvKernel.geometry(c, c, 14, 14, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS), true)).isFalse();
    assertThat(WinogradConv.supports(
        NaiveConvKernel.geometry(c, c, 14, 14, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, PaddingMode.ZEROS), true)).isFalse();
    assertThat(WinogradConv.supports(
        NaiveConvKernel.geometry(2 * c, 2 * c, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, PaddingMode.ZEROS), true))
        .isFalse();
    assertThat(WinogradConv.supports(
        NaiveConvKernel.geometry(c, c, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.REFLECT), true)).isFalse();
    assertThat(WinogradConv.supports(
        NaiveConvKernel.geometry(c, c, 16, 16, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1, PaddingMode.ZEROS), true)).isFalse();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new WinogradConv(
        geometry(c, c, 14, 14), Activation.NONE, BlockedLayout.blocked(c, 14, 14, 0, 1, 1, 1),
        BlockedLayout.blocked(c, 14, 14, 0, 0, 0, 0)));
    assertThat(e).hasMessageThat().contains("does not fit");
  }

  static ConvGeometry geometry(int in, int out, int h, int w) {
    return NaiveConvKernel.geometry(in, out, h, w, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS);
  }

  private static void check(ConvGeometry g, boolean bias, Activation activation, int n, SplittableRandom r) {
    String what = g + " bias " + bias + " " + activation + " N=" + n;
    ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(bias).activation(activation).seed(r.nextLong()).build();
    ref.eval();
    int top = 1 + r.nextInt(2);
    int left = 1 + r.nextInt(2);
    BlockedLayout in = BlockedLayout.blocked(g.inChannels(), g.inHeight(), g.inWidth(), top, 1 + r.nextInt(2), left,
        1 + r.nextInt(2));
    BlockedLayout out = BlockedLayout.blocked(g.outChannels(), g.outHeight(), g.outWidth(), r.nextInt(2),
        r.nextInt(2), r.nextInt(2), r.nextInt(2));
    Tensor x = TestTensors.uniform(r, 1, n, g.inChannels(), g.inHeight(), g.inWidth());
    int inSample = g.inChannels() * g.inHeight() * g.inWidth();
    int outSample = g.outChannels() * g.outHeight() * g.outWidth();
    float[] xb = new float[n * in.sampleSize];
    for (int s = 0; s < n; s++) {
      in.fromNchw(x.data(), s * inSample, xb, s * in.sampleSize);
    }
    WinogradConv conv = new WinogradConv(g, activation, in, out);
    // One piece, first tiles only.
    conv.useFirstCodeOnly(true);
    float[] whole = new float[n * out.sampleSize];
    conv.run(ref.weight(), ref.bias(), xb, 0, new float[conv.tileFloats(n)], new float[conv.productFloats(n)], whole,
        0, n);
    // Random pieces, the products' own tiles.
    conv.useFirstCodeOnly(false);
    conv.tileKernels().forEach(TileWarmer::warm);
    float[] v = new float[conv.tileFloats(n)];
    float[] m = new float[conv.productFloats(n)];
    float[] pieces = new float[n * out.sampleSize];
    for (int[] p : pieces(conv.inputItems(n), r)) {
      conv.inputTransform(xb, 0, v, n, p[0], p[1]);
    }
    for (int[] p : pieces(conv.productItems(n), r)) {
      conv.products(ref.weight(), v, m, n, p[0], p[1]);
    }
    for (int[] p : pieces(conv.outputItems(n), r)) {
      conv.outputTransform(m, ref.bias(), pieces, 0, n, p[0], p[1]);
    }
    assertSameBits(what + ": pieces and own tiles against one piece on first tiles", whole, pieces);
    float[] actual = new float[n * outSample];
    float[] zeroHalo = pieces.clone();
    for (int s = 0; s < n; s++) {
      out.toNchw(pieces, s * out.sampleSize, actual, s * outSample);
      out.clearOutside(zeroHalo, s * out.sampleSize);
    }
    assertSameBits(what + ": the halo and padded lanes stay zero", zeroHalo, pieces);
    assertWithMessage(what).that(SimdConvDifferentialTest.relativeError(actual, ref.forward(x).data()))
        .isAtMost(1e-5);
  }

  /** {@code [0, items)} cut at up to three random places, as {from, to} pairs. */
  private static int[][] pieces(int items, SplittableRandom r) {
    int[] cuts = new int[2 + r.nextInt(4)];
    cuts[cuts.length - 1] = items;
    for (int i = 1; i < cuts.length - 1; i++) {
      cuts[i] = r.nextInt(items + 1);
    }
    Arrays.sort(cuts);
    int[][] p = new int[cuts.length - 1][];
    for (int i = 0; i < p.length; i++) {
      p[i] = new int[] {cuts[i], cuts[i + 1]};
    }
    return p;
  }
}
