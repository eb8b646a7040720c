package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.ReferenceConv2d;
import dev.kiln.runtime.Parallel;
import dev.kiln.simd.NaiveConvKernel.Grouping;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The vectorized engine (picked automatically by {@code ConvKernel} because the tests run with
 * {@code --add-modules jdk.incubator.vector}) against {@link ReferenceConv2d} over seeded random
 * geometries: all padding modes, strides 1-3, dilation, groups (depthwise and channel multipliers
 * included), odd sizes, batches of 1-3 on 1 and 2 threads; forward in training and eval mode, after
 * in-place weight updates, and backward (input, weight and bias gradients).
 */
class SimdConvDifferentialTest {
  private static final int CASES = 240;
  private static final double TOLERANCE = 1e-4;
  private final int savedThreads = Parallel.threads();

  @AfterEach
  void restoreThreads() {
    Parallel.setThreads(savedThreads);
  }

  /** One random case's parameters. */
  private static final class Case {
    ConvGeometry g;
    boolean bias;
    Activation activation;
    int batch;
    int threads;

    @Override
    public String toString() {
      return g + " bias=" + bias + " " + activation + " N=" + batch + " threads=" + threads;
    }
  }

  private static Case randomCase(SplittableRandom r) {
    while (true) {
      Grouping grouping = switch (r.nextInt(4)) {
        case 0 -> new Grouping(1, 1 + r.nextInt(12), 1 + r.nextInt(40));
        case 1 -> new Grouping(2 + r.nextInt(2), 1 + r.nextInt(6), 1 + r.nextInt(24));
        case 2 -> new Grouping(1 + r.nextInt(24), 1, 1 + r.nextInt(2));
        default -> new Grouping(1, 1 + r.nextInt(8), 16 + r.nextInt(24));
      };
      int kh = r.nextInt(3) == 0 ? 1 + r.nextInt(5) : 3;
      int kw = r.nextInt(4) == 0 ? 1 + r.nextInt(5) : kh;
      int sh = r.nextInt(3) == 0 ? 1 + r.nextInt(3) : 1;
      int sw = r.nextInt(4) == 0 ? 1 + r.nextInt(3) : sh;
      int dh = r.nextInt(5) == 0 ? 2 : 1;
      int dw = r.nextInt(5) == 0 ? 2 : dh;
      int h = 1 + r.nextInt(17);
      int w = 1 + r.nextInt(19);
      PaddingMode mode = PaddingMode.values()[r.nextInt(4)];
      int[] pad = NaiveConvKernel.randomPadding(r);
      int maxH = Math.max(pad[0], pad[1]);
      int maxW = Math.max(pad[2], pad[3]);
      if (mode == PaddingMode.REFLECT && (maxH >= h || maxW >= w)) {
        continue;
      }
      if (mode == PaddingMode.CIRCULAR && (maxH > h || maxW > w)) {
        continue;
      }
      if (!NaiveConvKernel.windowFits(h, pad[0], pad[1], kh, dh)
          || !NaiveConvKernel.windowFits(w, pad[2], pad[3], kw, dw)) {
        continue;
      }
      Case c = new Case();
      c.g = NaiveConvKernel.geometry(grouping, h, w, kh, kw, sh, sw, dh, dw, pad, mode);
      c.bias = r.nextInt(4) != 0;
      c.activation = r.nextBoolean() ? Activation.RELU : Activation.NONE;
      c.batch = 1 + r.nextInt(3);
      c.threads = 1 + r.nextInt(2);
      return c;
    }
  }

  /** A case of {@code g} with a bias and no activation. */
  private static Case biasCase(ConvGeometry g, int batch, int threads) {
    Case c = new Case();
    c.g = g;
    c.bias = true;
    c.activation = Activation.NONE;
    c.batch = batch;
    c.threads = threads;
    return c;
  }

  private static ReferenceConv2d reference(Case c) {
    ConvGeometry g = c.g;
    return ReferenceConv2d.builder(g)
        .bias(c.bias)
        .activation(c.activation)
        .build();
  }

  private static Tensor random(SplittableRandom r, int... shape) {
    return TestTensors.uniform(r, 1, shape);
  }

  /** Largest difference relative to the largest magnitude of the expected values. */
  static double relativeError(float[] actual, float[] expected) {
    return dev.kiln.testing.NumericAssertions.relativeError(actual, expected);
  }


  private static void assertClose(String what, Case c, float[] actual, float[] expected) {
    assertWithMessage(what + " of " + c).that(relativeError(actual, expected)).isAtMost(TOLERANCE);
  }

  /** Runs one case through the engine and the reference: forward, backward, parameter gradients, eval after an update. */
  private static NaiveConvKernel compare(Case c, SplittableRandom r, long seed) {
    Parallel.setThreads(c.threads);
    NaiveConvKernel kernel = new NaiveConvKernel(c.g, c.bias, c.activation, seed);
    assertWithMessage("engine of " + c).that(kernel.engineName()).startsWith("simd-direct-");
    ReferenceConv2d ref = reference(c);
    System.arraycopy(kernel.weight().data().data(), 0, ref.weight().data().data(), 0,
        kernel.weight().data().size());
    if (c.bias) {
      System.arraycopy(kernel.bias().data().data(), 0, ref.bias().data().data(), 0, c.g.outChannels());
    }
    ConvGeometry g = c.g;
    Tensor x = random(r, c.batch, g.inChannels(), g.inHeight(), g.inWidth());
    Tensor gy = random(r, c.batch, g.outChannels(), g.outHeight(), g.outWidth());

    Tensor y = kernel.forward(x);
    Tensor yRef = ref.forward(x);
    assertClose("training forward", c, y.data(), yRef.data());
    Tensor gx = kernel.backward(gy);
    Tensor gxRef = ref.backward(gy);
    assertClose("input gradient", c, gx.data(), gxRef.data());
    assertClose("weight gradient", c, kernel.weight().grad().data(), ref.weight().grad().data());
    if (c.bias) {
      assertClose("bias gradient", c, kernel.bias().grad().data(), ref.bias().grad().data());
    }
    // Parameter gradients alone: the same values, with the input gradient skipped.
    float[] gwFull = kernel.weight().grad().data().clone();
    float[] gbFull = c.bias ? kernel.bias().grad().data().clone() : null;
    kernel.zeroGrad();
    kernel.backwardParameters(gy);
    assertWithMessage("backwardParameters weight gradient of " + c).that(kernel.weight().grad().data())
        .usingExactEquality().containsExactly(gwFull).inOrder();
    if (c.bias) {
      assertWithMessage("backwardParameters bias gradient of " + c).that(kernel.bias().grad().data())
          .usingExactEquality().containsExactly(gbFull).inOrder();
    }

    // An optimizer-like in-place update must reach the engine's packed weights.
    float[] w = kernel.weight().data().data();
    float[] wRef = ref.weight().data().data();
    for (int i = r.nextInt(3); i < w.length; i += 3) {
      w[i] -= 0.05f;
      wRef[i] -= 0.05f;
    }
    kernel.weight().markChanged();
    kernel.eval();
    ref.eval();
    Tensor out = Tensor.zeros(c.batch, g.outChannels(), g.outHeight(), g.outWidth());
    kernel.forward(x, out);
    assertClose("eval forward after update", c, out.data(), ref.forward(x).data());
    // The per-sample entry point.
    float[] one = new float[g.outChannels() * g.outHeight() * g.outWidth()];
    kernel.forward(x.data(), 0, one, 0);
    float[] firstOut = java.util.Arrays.copyOf(out.data(), one.length);
    assertThat(one).usingExactEquality().containsExactly(firstOut).inOrder();

    return kernel;
  }

  /**
   * Stride 2 along rows wider than two vectors (the random cases stop at 19 columns): the input gradient's
   * phases are interleaved a vector pair at a time, with both parities of the left padding.
   */
  @Test
  void strideTwoWideRows() {
    SplittableRandom r = new SplittableRandom(20261128L);
    int compared = 0;
    for (int w : new int[] {20, 28, 33, 40, 57, 70}) {
      for (int pad = 0; pad <= 2; pad++) {
        for (int k : new int[] {1, 3}) {
          compare(biasCase(NaiveConvKernel.geometry(3, 5, 5, w, k, k, 2, 2, 1, 1, pad, pad, pad, pad, 1,
              PaddingMode.ZEROS), 2, 1 + compared % 2), r, compared);
          compared++;
        }
      }
    }
    // 36 with 512-bit vectors; narrower vectors take smaller planes too.
    assertThat(compared).isAtLeast(36);
  }

  /**
   * A stride along the rows only, no padding, an even height: the phase-split layout keeps the row length and
   * the channel size of the sample but puts its even rows before the odd ones, so the input must not be read in
   * place (the first samples of a batch and the first groups of a layer have room after them to be). The engine
   * did read it there once, and half of those outputs were wrong.
   */
  @Test
  void strideAlongRowsOnlyIsNotReadInPlace() {
    SplittableRandom r = new SplittableRandom(20261205L);
    int compared = 0;
    for (int sh : new int[] {2, 3}) {
      for (int groups : new int[] {1, 2}) {
        for (int k : new int[] {1, 3}) {
          compare(biasCase(NaiveConvKernel.geometry(6 * groups, 20 * groups, 6 * sh, 14, k, k, sh, 1, 1, 1, 0, 0,
              0, 0, groups, PaddingMode.ZEROS), 3, 1 + compared % 2), r, compared);
          compared++;
        }
      }
    }
    assertThat(compared).isEqualTo(8);
  }

  /**
   * The weight gradient as dot products over positions ({@link DotWeightGradient}, forced on): 1x1 layers
   * with strides 1-3, kxk layers with padding, stride and dilation, groups (depthwise included), channel and
   * column counts around the 4 x 4 blocks, planes that are and are not whole vectors, batches that leave the
   * copies' last sample rows empty, bias or not, 1 and 2 threads.
   */
  @Test
  void dotWeightGradient() {
    withDotWeightGradient(() -> {
      SplittableRandom r = new SplittableRandom(20261129L);
      int compared = 0;
      int[][] channels = {{1, 16}, {3, 5}, {4, 4}, {8, 12}, {5, 9}, {6, 6}};
      int[][] sizes = {{16, 16}, {13, 17}, {28, 28}, {9, 30}};
      int[][] kernels = {{1, 1, 0, 1}, {1, 2, 0, 1}, {1, 3, 0, 1}, {3, 1, 1, 1}, {3, 2, 1, 1}, {3, 1, 2, 2},
          {2, 1, 0, 1}};
      for (int[] ch : channels) {
        for (int[] hw : sizes) {
          for (int[] k : kernels) {
            int groups = compared % 5 == 0 && ch[0] == ch[1] ? ch[0] : compared % 3 == 0 && ch[0] % 2 == 0
                && ch[1] % 2 == 0 ? 2 : 1;
            Case c = new Case();
            c.g = NaiveConvKernel.geometry(ch[0], ch[1], hw[0], hw[1], k[0], k[0], k[1], k[1], k[3], k[3], k[2],
                k[2], k[2], k[2], groups, PaddingMode.ZEROS);
            c.bias = compared % 2 == 0;
            c.activation = compared % 3 == 1 ? Activation.RELU : Activation.NONE;
            c.batch = 1 + compared % 6;
            c.threads = 1 + compared % 2;
            compare(c, r, compared);
            compared++;
          }
        }
      }
      assertThat(compared).isEqualTo(6 * 4 * 7);
    });
  }

  /** Runs {@code body} with {@link DotWeightGradient} forced on for the kernels it builds. */
  private static void withDotWeightGradient(Runnable body) {
    String saved = System.getProperty("kiln.simd.dot");
    System.setProperty("kiln.simd.dot", "on");
    try {
      body.run();
    } finally {
      if (saved == null) {
        System.clearProperty("kiln.simd.dot");
      } else {
        System.setProperty("kiln.simd.dot", saved);
      }
    }
  }

  /**
   * {@link DotWeightGradient} reads a little past a tile's last sample, where the gradient is zero: what an
   * earlier, larger tile left there (here NaN and infinity) must not reach a later weight gradient as 0 * NaN.
   */
  @Test
  void dotWeightGradientForgetsEarlierTiles() {
    withDotWeightGradient(() -> {
      Parallel.setThreads(1);
      ConvGeometry g = NaiveConvKernel.geometry(3, 4, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS);
      NaiveConvKernel kernel = new NaiveConvKernel(g, false, Activation.NONE, 7);
      SplittableRandom r = new SplittableRandom(3);
      Tensor poisoned = random(r, 4, 3, 16, 16);
      float[] p = poisoned.data();
      for (int i = p.length / 4; i < p.length; i += 7) {
        p[i] = i % 2 == 0 ? Float.NaN : Float.POSITIVE_INFINITY;
      }
      kernel.forward(poisoned);
      kernel.backwardParameters(random(r, 4, 4, 16, 16));
      kernel.zeroGrad();
      Tensor x = random(r, 1, 3, 16, 16);
      Tensor gy = random(r, 1, 4, 16, 16);
      kernel.forward(x);
      kernel.backwardParameters(gy);
      ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(false).build();
      System.arraycopy(kernel.weight().data().data(), 0, ref.weight().data().data(), 0, kernel.weight().data().size());
      ref.forward(x);
      ref.backward(gy);
      float[] gw = kernel.weight().grad().data();
      for (float v : gw) {
        assertThat(Float.isFinite(v)).isTrue();
      }
      assertThat(relativeError(gw, ref.weight().grad().data())).isAtMost(TOLERANCE);
    });
  }

  @Test
  void engineMatchesReferenceOnRandomGeometries() {
    SplittableRandom r = new SplittableRandom(20261127L);
    int compared = 0;
    int parallelCases = 0;
    int byChannelWeightGradients = 0;
    int byPositionWeightGradients = 0;
    int channelBlocks = 0;
    for (int n = 0; n < CASES; n++) {
      Case c = randomCase(r);
      NaiveConvKernel kernel = compare(c, r, 1000 + n);
      ConvGeometry g = c.g;
      compared++;
      if (c.threads == 2 && kernel.macsPerSample() * c.batch >= 1 << 17) {
        parallelCases++;
      }
      if (g.outChannelsPerGroup() >= ChannelConv.CB) {
        channelBlocks++;
      }
      if (g.outChannelsPerGroup() >= 16) {
        byChannelWeightGradients++;
      } else if (g.outChannelsPerGroup() < 8) {
        byPositionWeightGradients++;
      }
    }
    assertThat(compared).isEqualTo(CASES);
    assertThat(parallelCases).isAtLeast(10);
    assertThat(byChannelWeightGradients).isAtLeast(20);
    assertThat(byPositionWeightGradients).isAtLeast(20);
    // With -Dkiln.simd.channels=on (one surefire execution) these ran through ChannelConv.
    assertThat(channelBlocks).isAtLeast(20);
  }
}
