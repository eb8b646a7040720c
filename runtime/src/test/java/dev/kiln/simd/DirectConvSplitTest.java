package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.annotation.Activation;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.runtime.Parallel;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The direct engine's kernels split for 16 vector registers ({@link DirectConv#kernelSplit} passes of two channels,
 * 1x1 layers through panels) and whole give every output bit for bit as the bias plus each (input channel, tap)
 * product fused in weight order and clamped: on each of the engine's ways of storing outputs (contiguous with
 * panels, wrapped rows, whole-vector rows, scratch planes), planes whose vector counts leave every remainder of the
 * split kernels' runs, and channel ranges whole and cut inside a block. Both forms run on any machine: which one a
 * layer takes in use depends on the vector registers ({@link TileBudget#SPLIT_DIRECT_KERNELS}).
 */
class DirectConvSplitTest {
  /**
   * How a case is laid out: the system properties in force while its engines are built (set whatever a surefire
   * execution set; {@link ChannelConv}, which has its own test, always off).
   */
  private enum Mode {
    AUTO("auto", "auto"),
    DIRECT_ROWS("on", "off"),
    SCRATCH_PLANES("off", "off");

    final String direct;
    final String wrap;

    Mode(String direct, String wrap) {
      this.direct = direct;
      this.wrap = wrap;
    }
  }

  @Test
  void splitKernelsGiveTheFusedSumsInWeightOrderOnEveryPath() {
    SplittableRandom r = new SplittableRandom(20261207L);
    // inChannels, outChannels, size, kernel, stride, pad; then the mode and the path it must take
    Object[][] cases = {
      {20, 16, 13, 1, 1, 0, Mode.AUTO, "panels"}, // 169 positions: 21 vectors and one position
      {12, 24, 10, 1, 1, 0, Mode.AUTO, "panels"}, // 100: 12 vectors and a half
      {9, 8, 11, 1, 1, 0, Mode.AUTO, "panels"}, // 121: 15 vectors and one position
      {64, 32, 20, 1, 1, 0, Mode.AUTO, "panels"}, // enough multiply-adds to split its panels over two threads
      {5, 16, 14, 3, 1, 1, Mode.AUTO, "wrapped"},
      // a stem: 15x15 outputs; with 16 lanes a row of 15 fills one vector and the rows are whole vectors
      {3, 16, 30, 3, 2, 1, Mode.AUTO, VectorShape.LANES >= 16 ? "direct" : "wrapped"},
      {4, 16, 11, 3, 1, 1, Mode.DIRECT_ROWS, "direct"},
      {4, 16, 17, 3, 1, 1, Mode.DIRECT_ROWS, "direct"},
      {4, 16, 9, 3, 1, 1, Mode.SCRATCH_PLANES, "scratch"},
      {6, 8, 13, 3, 1, 1, Mode.SCRATCH_PLANES, "scratch"},
    };
    int checked = 0;
    int expected = 0;
    int saved = Parallel.threads();
    Parallel.setThreads(2);
    try {
      for (Object[] c : cases) {
        int[] s = new int[6];
        for (int i = 0; i < 6; i++) {
          s[i] = (Integer) c[i];
        }
        ConvGeometry g = ConvGeometry.builder().inChannels(s[0]).outChannels(s[1]).inputSize(s[2], s[2])
            .kernel(s[3], s[3]).stride(s[4], s[4]).padding(s[5], s[5], s[5], s[5]).build();
        for (boolean relu : new boolean[] {false, true}) {
          DirectConv split = build(g, relu, true, (Mode) c[6]);
          DirectConv whole = build(g, relu, false, (Mode) c[6]);
          assertWithMessage("%s", g).that(path(split)).isEqualTo(c[7]);
          assertWithMessage("%s", g).that(path(whole)).isEqualTo(c[7].equals("panels") ? "contiguous" : c[7]);
          checked += check(g, relu, split, whole, r);
          int plane = g.outHeight() * g.outWidth();
          // the whole range and one cut inside the first and last blocks, both engines
          expected += 2 * (2 * g.outChannels() - 5) * plane;
        }
      }
    } finally {
      Parallel.setThreads(saved);
    }
    assertThat(checked).isEqualTo(expected);
    assertThat(checked).isGreaterThan(100_000);
  }

  /**
   * A sample's output channels go to the direct engine in one range of whole kernel blocks per thread (each call
   * prepares the whole input), and all at once to a 1x1 layer through panels and to a lone forward, which split
   * the sample themselves.
   */
  @Test
  void channelRangesOnePerThread() {
    int saved = Parallel.threads();
    try {
      ConvGeometry stem = ConvGeometry.builder().inChannels(3).outChannels(48).inputSize(30, 30).kernel(3, 3)
          .stride(2, 2).padding(1, 1, 1, 1).build();
      SimdConvEngine direct = built(Mode.AUTO, () -> new SimdConvEngine(stem, true, false, null));
      ConvGeometry pointwise = ConvGeometry.builder().inChannels(20).outChannels(48).inputSize(13, 13).kernel(1, 1)
          .build();
      SimdConvEngine panels = built(Mode.AUTO, () -> new SimdConvEngine(pointwise, true, false, null));
      int[][] threadsAndBlock = {{1, 48}, {2, 24}, {3, 16}, {4, 16}, {5, 16}, {6, 8}, {8, 8}};
      for (int[] c : threadsAndBlock) {
        Parallel.setThreads(c[0]);
        assertWithMessage("%s threads", c[0]).that(direct.channelBlock()).isEqualTo(c[1]);
        // Through panels where the kernels are split: all channels, the positions split by the engine.
        assertWithMessage("%s threads", c[0]).that(panels.channelBlock())
            .isEqualTo(TileBudget.SPLIT_DIRECT_KERNELS ? 48 : c[1]);
      }
      ConvGeometry big = ConvGeometry.builder().inChannels(48).outChannels(48).inputSize(20, 20).kernel(3, 3)
          .padding(1, 1, 1, 1).build();
      SimdConvEngine lone = new SimdConvEngine(big, true, false, LoneForward.forLayer(big, Activation.RELU));
      assertThat(lone.name()).isEqualTo("simd-winograd-" + VectorShape.LANES * 32);
      assertThat(lone.channelBlock()).isEqualTo(48);
    } finally {
      Parallel.setThreads(saved);
    }
  }

  private static DirectConv build(ConvGeometry g, boolean relu, boolean split, Mode mode) {
    return built(mode, () -> new DirectConv(g, relu, split));
  }

  /** What {@code build} builds, with {@code mode}'s properties in force. */
  private static <T> T built(Mode mode, java.util.function.Supplier<T> build) {
    String direct = System.getProperty("kiln.simd.direct");
    String wrap = System.getProperty("kiln.simd.wrap");
    String channels = System.getProperty("kiln.simd.channels");
    try {
      set("kiln.simd.direct", mode.direct);
      set("kiln.simd.wrap", mode.wrap);
      set("kiln.simd.channels", "off");
      return build.get();
    } finally {
      set("kiln.simd.direct", direct);
      set("kiln.simd.wrap", wrap);
      set("kiln.simd.channels", channels);
    }
  }

  private static void set(String key, String value) {
    if (value == null) {
      System.clearProperty(key);
    } else {
      System.setProperty(key, value);
    }
  }

  private static String path(DirectConv conv) {
    if (conv.panels) {
      return "panels";
    }
    if (conv.wrapped) {
      return "wrapped";
    }
    if (conv.direct) {
      return "direct";
    }
    return conv.contiguous ? "contiguous" : "scratch";
  }

  /** Compares every output of both engines for the whole channel range and one cut inside the outer blocks. */
  private static int check(ConvGeometry g, boolean relu, DirectConv split, DirectConv whole, SplittableRandom r) {
    int outC = g.outChannels();
    int k = g.inChannels() * g.kernelH() * g.kernelW();
    float[] w = random(r, outC * k, 2);
    float[] b = random(r, outC, 1);
    float[] x = random(r, g.inChannels() * g.inHeight() * g.inWidth(), 2);
    int plane = g.outHeight() * g.outWidth();
    int checked = 0;
    int[][] ranges = {{0, outC}, {3, outC - 2}};
    for (DirectConv conv : new DirectConv[] {split, whole}) {
      DirectConv.Packed packed = conv.pack(w, b);
      for (int[] range : ranges) {
        float[] y = new float[outC * plane + 7];
        Arrays.fill(y, Float.NaN);
        conv.forward(packed, x, 0, y, 7, range[0], range[1]);
        for (int oc = 0; oc < outC; oc++) {
          for (int oh = 0; oh < g.outHeight(); oh++) {
            for (int ow = 0; ow < g.outWidth(); ow++) {
              float got = y[7 + oc * plane + oh * g.outWidth() + ow];
              if (oc < range[0] || oc >= range[1]) {
                assertWithMessage("%s channel %s outside [%s, %s) written", g, oc, range[0], range[1])
                    .that(Float.isNaN(got)).isTrue();
                continue;
              }
              float want = fused(g, x, w, b[oc], oc, oh, ow);
              if (relu) {
                want = Math.max(want, 0f);
              }
              if (Float.floatToIntBits(got) != Float.floatToIntBits(want)) {
                assertWithMessage("%s relu=%s oc=%s (%s, %s) range %s", g, relu, oc, oh, ow, Arrays.toString(range))
                    .that(got).isEqualTo(want);
              }
              checked++;
            }
          }
        }
      }
    }
    return checked;
  }

  /** The bias plus the products over (input channel, tap) in that order, each fused; padding reads zero. */
  private static float fused(ConvGeometry g, float[] x, float[] w, float bias, int oc, int oh, int ow) {
    int kh = g.kernelH();
    int kw = g.kernelW();
    float acc = bias;
    for (int ci = 0; ci < g.inChannels(); ci++) {
      for (int i = 0; i < kh; i++) {
        for (int j = 0; j < kw; j++) {
          int ih = oh * g.strideH() - g.padTop() + i;
          int iw = ow * g.strideW() - g.padLeft() + j;
          boolean inside = ih >= 0 && ih < g.inHeight() && iw >= 0 && iw < g.inWidth();
          float v = inside ? x[(ci * g.inHeight() + ih) * g.inWidth() + iw] : 0f;
          acc = Math.fma(v, w[((oc * g.inChannels() + ci) * kh + i) * kw + j], acc);
        }
      }
    }
    return acc;
  }

  private static float[] random(SplittableRandom r, int n, double scale) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) ((r.nextDouble() - 0.5) * scale);
    }
    return a;
  }
}
