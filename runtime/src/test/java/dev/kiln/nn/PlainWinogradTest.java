package dev.kiln.nn;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.kiln.testing.NumericAssertions.relativeError;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link PlainWinograd} against {@link ReferenceConv2d}'s 3x3 sums over seeded random layers (channels from 32 to
 * 70, even sides from 2 to 16, every activation, with and without a bias), each sample computed in one call and
 * in random ranges of output channels (the outputs the same bits either way, nothing outside a range written);
 * new weight values are prepared again. Counted.
 */
class PlainWinogradTest {
  private static final int CASES = 30;

  @Test
  void matchesTheReference() {
    SplittableRandom r = new SplittableRandom(34);
    int withoutBias = 0;
    int byTiles = 0;
    for (int i = 0; i < CASES; i++) {
      int in = PlainWinograd.MIN_CHANNELS + r.nextInt(39);
      int out = 1 + r.nextInt(70);
      ConvGeometry g = geometry(in, out, 2 * (1 + r.nextInt(8)), 2 * (1 + r.nextInt(8)));
      byTiles += PlainWinograd.byTiles(g.outHeight() / 2 * (g.outWidth() / 2), out) ? 1 : 0;
      boolean bias = r.nextInt(4) != 0;
      withoutBias += bias ? 0 : 1;
      Activation act = Activation.values()[r.nextInt(Activation.values().length)];
      ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(bias).activation(act).seed(r.nextLong()).build();
      ref.eval();
      PlainWinograd engine = new PlainWinograd(g, act);
      int n = 1 + r.nextInt(2);
      Tensor x = randomInput(r, n, g);
      int inSize = g.inChannels() * g.inHeight() * g.inWidth();
      int outSize = out * g.outHeight() * g.outWidth();
      float[] whole = new float[n * outSize];
      float[] ranges = new float[n * outSize];
      java.util.Arrays.fill(ranges, Float.NaN);
      ConvEngine.Weights w = engine.forwardWeights(ref.weight(), ref.bias());
      assertThat(engine.forwardWeights(ref.weight(), ref.bias())).isSameInstanceAs(w);
      for (int s = 0; s < n; s++) {
        engine.forward(w, x.data(), s * inSize, whole, s * outSize, 0, out);
        int cut = r.nextInt(out + 1);
        engine.forward(w, x.data(), s * inSize, ranges, s * outSize, 0, cut);
        engine.forward(w, x.data(), s * inSize, ranges, s * outSize, cut, out);
      }
      String what = g + " bias " + bias + " " + act;
      assertWithMessage(what).that(ranges).usingExactEquality().containsExactly(whole).inOrder();
      assertWithMessage(what).that(relativeError(whole, ref.forward(x).data())).isAtMost(1e-5);
    }
    assertThat(withoutBias).isAtLeast(3);
    // Both orientations of the products' innermost loop.
    assertThat(byTiles).isAtLeast(3);
    assertThat(byTiles).isAtMost(CASES - 3);
  }

  /**
   * The products' innermost loop over tiles (in groups of at most {@link PlainWinograd#MAX_TILE_GROUP}) or over
   * output channels: the same bits, whole or in ranges of output channels, and the reference's values; with fused
   * multiply-adds and with separate multiplies and adds, which round differently (some outputs differ), each
   * within the reference's tolerance.
   */
  @Test
  void bothOrientationsGiveTheSameBits() {
    SplittableRandom r = new SplittableRandom(37);
    // 400 tiles in two groups, 255 in one, 529 in three uneven ones; more and fewer output channels than tiles.
    int[][] layers = {{36, 24, 40, 40}, {33, 50, 34, 30}, {40, 8, 46, 46}, {32, 300, 12, 12}};
    int compared = 0;
    for (int[] l : layers) {
      ConvGeometry g = geometry(l[0], l[1], l[2], l[3]);
      Activation act = Activation.values()[r.nextInt(Activation.values().length)];
      ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(act).seed(r.nextLong()).build();
      ref.eval();
      Tensor x = randomInput(r, 1, g);
      float[] expected = ref.forward(x).data();
      int out = l[1];
      int outSize = out * g.outHeight() * g.outWidth();
      float[][] ys = new float[4][outSize];
      for (int k = 0; k < 4; k++) {
        PlainWinograd engine = new PlainWinograd(g, act, k % 2 == 0, k >= 2);
        ConvEngine.Weights w = engine.forwardWeights(ref.weight(), ref.bias());
        int cut = 1 + r.nextInt(out - 1);
        java.util.Arrays.fill(ys[k], Float.NaN);
        engine.forward(w, x.data(), 0, ys[k], 0, 0, cut);
        engine.forward(w, x.data(), 0, ys[k], 0, cut, out);
        assertWithMessage(g + " " + act + " engine " + k).that(relativeError(ys[k], expected)).isAtMost(1e-5);
      }
      String what = g + " " + act;
      assertWithMessage(what).that(ys[0]).usingExactEquality().containsExactly(ys[1]).inOrder();
      assertWithMessage(what + " fused").that(ys[2]).usingExactEquality().containsExactly(ys[3]).inOrder();
      int differ = 0;
      for (int i = 0; i < outSize; i++) {
        differ += Float.floatToRawIntBits(ys[0][i]) != Float.floatToRawIntBits(ys[2][i]) ? 1 : 0;
      }
      assertWithMessage(what + ": outputs where fused and separate differ").that(differ).isGreaterThan(0);
      compared++;
    }
    assertThat(compared).isEqualTo(layers.length);
  }

  /**
   * Where the products' innermost loop runs over the output channels a sample splits over threads by tiles
   * ({@code splitUnits}, {@code forwardUnits}), and where it runs over a group's tiles in several groups by groups:
   * every output channel of a range of units, in three ranges the same bits as the whole forward, the outputs
   * outside a range untouched; by tiles in one group it splits by output channels. (The split over threads through {@code ConvKernel}: {@code ConvDifferentialTest}.)
   */
  @Test
  void splitsByTilesWhereItsLoopsRunOverChannels() {
    SplittableRandom r = new SplittableRandom(41);
    // 49 tiles (14x14) under 192 channels, 36 tiles under 64: loops over channels; 400 tiles over 24: by tiles in
    // two groups; 196 tiles over 16: by tiles in one group (split by output channels).
    int[][] layers = {{192, 192, 14, 14}, {40, 64, 12, 12}, {36, 24, 40, 40}, {32, 16, 28, 28}};
    int split = 0;
    for (int[] l : layers) {
      ConvGeometry g = geometry(l[0], l[1], l[2], l[3]);
      ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(Activation.RELU).seed(r.nextLong())
          .build();
      ref.eval();
      Tensor x = randomInput(r, 1, g);
      int tiles = g.outHeight() / 2 * (g.outWidth() / 2);
      for (boolean fused : new boolean[] {false, true}) {
        PlainWinograd engine = new PlainWinograd(g, Activation.RELU,
            PlainWinograd.byTiles(tiles, g.outChannels()), fused);
        ConvEngine.Weights w = engine.forwardWeights(ref.weight(), ref.bias());
        int outSize = g.outChannels() * g.outHeight() * g.outWidth();
        float[] whole = new float[outSize];
        engine.forward(w, x.data(), 0, whole, 0, 0, g.outChannels());
        boolean byTiles = PlainWinograd.byTiles(tiles, g.outChannels());
        int groups = (tiles + PlainWinograd.MAX_TILE_GROUP - 1) / PlainWinograd.MAX_TILE_GROUP;
        if (byTiles && groups == 1) {
          assertThat(engine.splitUnits()).isEqualTo(0);
          continue;
        }
        int units = byTiles ? groups : tiles;
        assertThat(engine.splitUnits()).isEqualTo(units);
        int a = 1 + r.nextInt(units / 2);
        int b = a + 1 + r.nextInt(units - a - 1 + 1);
        if (b >= units) {
          b = units - 1;
        }
        int tileA = byTiles ? a * ((tiles + groups - 1) / groups) : a;
        int tileB = byTiles ? b * ((tiles + groups - 1) / groups) : b;
        float[] parts = new float[outSize];
        java.util.Arrays.fill(parts, Float.NaN);
        engine.forwardUnits(w, x.data(), 0, parts, 0, 0, a);
        engine.forwardUnits(w, x.data(), 0, parts, 0, b, units);
        int untouched = 0;
        for (float v : parts) {
          untouched += Float.isNaN(v) ? 1 : 0;
        }
        assertWithMessage(g + " outputs of units [" + a + ", " + b + ") before their range ran").that(untouched)
            .isEqualTo(4 * (tileB - tileA) * g.outChannels());
        engine.forwardUnits(w, x.data(), 0, parts, 0, a, b);
        assertWithMessage(g + " fused " + fused).that(parts).usingExactEquality().containsExactly(whole).inOrder();
        assertWithMessage(g + " fused " + fused).that(relativeError(whole, ref.forward(x).data())).isAtMost(1e-5);
        split++;
      }
    }
    assertThat(split).isEqualTo(6);
  }

  @Test
  void preparesNewWeightValues() {
    SplittableRandom r = new SplittableRandom(35);
    ConvGeometry g = geometry(40, 24, 6, 8);
    ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(Activation.NONE).build();
    ref.eval();
    PlainWinograd engine = new PlainWinograd(g, Activation.NONE);
    Tensor x = randomInput(r, 1, g);
    for (int round = 0; round < 2; round++) {
      float[] y = new float[24 * 6 * 8];
      engine.forward(engine.forwardWeights(ref.weight(), ref.bias()), x.data(), 0, y, 0, 0, 24);
      assertWithMessage("round " + round).that(relativeError(y, ref.forward(x).data())).isAtMost(1e-5);
      float[] weights = ref.weight().data().data();
      for (int k = 0; k < weights.length; k++) {
        weights[k] = (float) r.nextDouble(-1, 1);
      }
      ref.weight().markChanged();
    }
  }

  /** {@link WinogradKernels#transform} against {@code G g G^T} as matrix products, on 20 random kernels. */
  @Test
  void kernelTransformIsGgGt() {
    double[][] gm = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    SplittableRandom r = new SplittableRandom(36);
    float[] u = new float[WinogradKernels.POSITIONS];
    for (int n = 0; n < 20; n++) {
      float[] w = new float[13];
      for (int k = 0; k < w.length; k++) {
        w[k] = (float) r.nextDouble(-2, 2);
      }
      int at = n % 4;
      WinogradKernels.transform(w, at, u);
      for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
          double sum = 0;
          for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++) {
              sum += gm[i][a] * w[at + 3 * a + b] * gm[j][b];
            }
          }
          assertWithMessage("kernel %s (%s, %s)", n, i, j).that((double) u[4 * i + j]).isWithin(1e-6).of(sum);
        }
      }
    }
  }

  @Test
  void onlyItsLayers() {
    int c = PlainWinograd.MIN_CHANNELS;
    assertThat(PlainWinograd.supports(geometry(c, 8, 14, 14))).isTrue();
    assertThat(PlainWinograd.supports(geometry(c - 1, 8, 14, 14))).isFalse();
    assertThat(PlainWinograd.supports(geometry(c, 8, 13, 14))).isFalse();
    assertThat(PlainWinograd.supports(ConvGeometry.builder().inChannels(c).outChannels(c).inputSize(14, 14)
        .kernel(3, 3).stride(2, 2).padding(1, 1, 1, 1).build())).isFalse();
    assertThat(PlainWinograd.supports(ConvGeometry.builder().inChannels(c).outChannels(c).inputSize(14, 14)
        .kernel(3, 3).padding(1, 1, 1, 1).paddingMode(PaddingMode.REFLECT).build())).isFalse();
    assertThrows(IllegalArgumentException.class, () -> new PlainWinograd(geometry(c, 8, 13, 13), Activation.NONE));
  }

  private static ConvGeometry geometry(int in, int out, int h, int w) {
    return ConvGeometry.builder().inChannels(in).outChannels(out).inputSize(h, w).kernel(3, 3)
        .padding(1, 1, 1, 1).build();
  }

  private static Tensor randomInput(SplittableRandom r, int n, ConvGeometry g) {
    Tensor x = Tensor.zeros(n, g.inChannels(), g.inHeight(), g.inWidth());
    float[] d = x.data();
    for (int i = 0; i < d.length; i++) {
      d[i] = (float) r.nextDouble(-1, 1);
    }
    return x;
  }
}
