package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.kiln.testing.NumericAssertions.assertSameBits;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvEngine;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.Parameter;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A lone convolution's forward by the blocked tiles ({@link LoneBlockedConv}) gives the direct engine's bits,
 * on 1-3 threads and for any range of output channels, and writes no channel outside the range.
 */
@ExtendWith(TilesNotAwaited.class)
class LoneBlockedConvTest {
  private static final int LANES = VectorShape.LANES;
  private final int savedThreads = Parallel.threads();

  @AfterEach
  void restoreThreads() {
    Parallel.setThreads(savedThreads);
  }

  @Test
  void sameBitsAsTheDirectEngineForAnyChannelRange() {
    SplittableRandom r = new SplittableRandom(5);
    Activation[] activations = Activation.values();
    int cases = 0;
    for (int i = 0; i < 24; i++) {
      int k = new int[] {1, 3, 5}[r.nextInt(3)];
      int groups = r.nextInt(4) == 0 ? 2 : 1;
      int inPerGroup = (LoneBlockedConv.MIN_REDUCTION + k * k - 1) / (k * k) + r.nextInt(40);
      int outPerGroup = groups == 1 ? 1 + r.nextInt(5 * LANES) : LANES * (1 + r.nextInt(3));
      int h = 3 + r.nextInt(12);
      int w = 3 + r.nextInt(12);
      int stride = 1 + r.nextInt(2);
      int dilation = k > 1 && r.nextInt(4) == 0 ? 2 : 1;
      int pad = r.nextInt(k / 2 * dilation + 1);
      ConvGeometry g = NaiveConvKernel.geometry(inPerGroup * groups, outPerGroup * groups, h + 2 * dilation * k,
          w + 2 * dilation * k, k, k, stride, 1 + r.nextInt(2), dilation, dilation, pad, pad, pad, pad, groups,
          PaddingMode.ZEROS);
      Activation activation = activations[r.nextInt(activations.length)];
      boolean bias = r.nextBoolean();
      LoneBlockedConv lone = LoneBlockedConv.of(g, activation);
      assertWithMessage(g.toString()).that(lone).isNotNull();
      boolean relu = activation != Activation.NONE;
      boolean relu6 = activation == Activation.RELU6;
      SimdConvEngine blocked = new SimdConvEngine(g, relu, relu6, lone);
      SimdConvEngine direct = new SimdConvEngine(g, relu, relu6, null);
      assertThat(blocked.name()).startsWith("simd-blocked-");
      assertThat(direct.name()).startsWith("simd-direct-");

      Parameter weight = Parameter.of("weight", TestTensors.uniform(r, 0.5f, g.outChannels(), g.inChannelsPerGroup(),
          k, k));
      Parameter b = bias ? Parameter.of("bias", TestTensors.uniform(r, 0.5f, g.outChannels())) : null;
      Tensor sample = TestTensors.uniform(r, 1f, g.inChannels(), g.inHeight(), g.inWidth());
      // At an offset in a larger array, as a batch's later samples are.
      float[] x = new float[2 + sample.size() + 1];
      System.arraycopy(sample.data(), 0, x, 2, sample.size());
      int outSize = g.outChannels() * g.outHeight() * g.outWidth();
      float[] expected = new float[outSize + 5];
      direct.forward(direct.forwardWeights(weight, b), x, 2, expected, 3, 0, g.outChannels());

      // The whole range, then random ranges that partition the channels (as threads take them), each into an
      // output whose other channels hold a marker that must survive.
      ConvEngine.Weights bw = blocked.forwardWeights(weight, b);
      for (int threads = 1; threads <= 3; threads++) {
        // All channels at once are split over the pool where the layer is worth it (input rows, row bands or
        // chunks, output blocks).
        Parallel.setThreads(threads);
        float[] whole = new float[outSize + 5];
        blocked.forward(bw, x, 2, whole, 3, 0, g.outChannels());
        assertSameBits(g + " " + activation + " on " + threads + " threads", expected, whole);
      }
      Parallel.setThreads(savedThreads);
      int plane = g.outHeight() * g.outWidth();
      float[] pieces = new float[outSize + 5];
      int start = 0;
      while (start < g.outChannels()) {
        int end = Math.min(g.outChannels(), start + 1 + r.nextInt(2 * LANES));
        float[] own = new float[outSize + 5];
        Arrays.fill(own, -7f);
        blocked.forward(bw, x, 2, own, 3, start, end);
        for (int j = 0; j < own.length; j++) {
          int c = j < 3 ? -1 : (j - 3) / plane;
          if (c >= start && c < end) {
            pieces[j] = own[j];
          } else if (own[j] != -7f) {
            assertWithMessage("%s: channels [%s, %s) wrote element %s", g, start, end, j).fail();
          }
        }
        start = end;
        cases++;
      }
      assertSameBits(g + " " + activation + " in pieces", expected, pieces);
    }
    assertThat(cases).isAtLeast(24);
  }

  @Test
  void usedOnlyWithSixteenRegistersAndLongReductions() {
    Activation relu = Activation.RELU;
    // Odd sides: not a layer Winograd's form takes (LoneWinograd), which an even-sided one gets first.
    ConvGeometry big = NaiveConvKernel.geometry(48, 48, 19, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS);
    ConvGeometry even = NaiveConvKernel.geometry(48, 48, 20, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS);
    ConvGeometry shortReduction =
        NaiveConvKernel.geometry(32, 32, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS);
    ConvGeometry depthwise =
        NaiveConvKernel.geometry(512, 512, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 512, PaddingMode.ZEROS);
    assertThat(LoneBlockedConv.of(big, relu)).isNotNull();
    assertThat(LoneBlockedConv.of(shortReduction, relu)).isNull();
    assertThat(LoneBlockedConv.of(depthwise, relu)).isNull();
    assertThat(LoneBlockedConv.forLayer(big, relu) != null).isEqualTo(TileBudget.REGISTERS < 32);
    // 1x1 layers: the direct engine's panels where the plane is large (DirectConv.prefersPanels), else the tiles.
    ConvGeometry largePlane = NaiveConvKernel.geometry(512, 512, 28, 28, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
        PaddingMode.ZEROS);
    ConvGeometry smallPlane = NaiveConvKernel.geometry(512, 512, 14, 14, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
        PaddingMode.ZEROS);
    boolean largePanels = new DirectConv(largePlane, true).prefersPanels();
    if (System.getProperty("kiln.simd.direct") == null && System.getProperty("kiln.simd.channels") == null) {
      // (surefire executions that force other layouts take no panels)
      assertThat(largePanels).isEqualTo(TileBudget.SPLIT_DIRECT_KERNELS);
    }
    assertThat(new DirectConv(smallPlane, true).prefersPanels()).isFalse();
    assertThat(LoneBlockedConv.of(largePlane, relu)).isNotNull();
    String blockedHere = (TileBudget.REGISTERS < 32 ? "simd-blocked-" : "simd-direct-") + LANES * 32;
    assertThat(new SimdConvEngine(largePlane, true).name())
        .isEqualTo(largePanels ? "simd-direct-" + LANES * 32 : blockedHere);
    assertThat(new SimdConvEngine(smallPlane, true).name()).isEqualTo(blockedHere);
    assertThat(new SimdConvEngine(big, true).name())
        .isEqualTo((TileBudget.REGISTERS < 32 ? "simd-blocked-" : "simd-direct-") + LANES * 32);
    assertThat(new SimdConvEngine(even, true).name()).isEqualTo("simd-winograd-" + LANES * 32);
  }
}
