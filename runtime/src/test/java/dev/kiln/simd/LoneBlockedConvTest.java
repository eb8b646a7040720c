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
 * A lone convolution's forward by the blocked tiles ({@link LoneBlockedConv}), over padded planes or (1x1 layers)
 * channel blocks, gives the direct engine's bits, on 1-3 threads and for any range of output channels, and writes
 * no channel outside the range; and the layers that take it.
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
      LoneBlockedConv lone = LoneBlockedConv.of(g, activation);
      assertWithMessage(g.toString()).that(lone).isNotNull();
      cases += checkSameBits(r, g, activation, lone);
    }
    assertThat(cases).isAtLeast(24);
  }

  @Test
  void oneByOneLayersOverChannelBlocksGiveTheDirectEnginesBits() {
    SplittableRandom r = new SplittableRandom(11);
    Activation[] activations = Activation.values();
    int cases = 0;
    int layers = 0;
    for (int i = 0; i < 16; i++) {
      // Any whole number of input blocks (the threshold of channels is a matter of speed, not of results); the
      // output's last block may be partial.
      int in = LANES * (1 + r.nextInt(i < 2 ? 20 : 5));
      int out = 1 + r.nextInt(5 * LANES);
      int h = 1 + r.nextInt(16);
      int w = 1 + r.nextInt(16);
      ConvGeometry g = NaiveConvKernel.geometry(in, out, h, w, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, PaddingMode.ZEROS);
      assertWithMessage(g.toString()).that(LoneBlockedConv.readsChannelBlocks(g)).isTrue();
      Activation activation = activations[r.nextInt(activations.length)];
      cases += checkSameBits(r, g, activation, new LoneBlockedConv(g, activation, true));
      layers++;
    }
    assertThat(layers).isEqualTo(16);
    assertThat(cases).isAtLeast(16);
  }

  /**
   * The blocked forward {@code lone} of {@code g} against the direct engine's: all channels on 1-3 threads, then
   * ranges that partition the channels; returns the number of ranges.
   */
  private int checkSameBits(SplittableRandom r, ConvGeometry g, Activation activation, LoneBlockedConv lone) {
    int k = g.kernelH();
    int cases = 0;
    boolean bias = r.nextBoolean();
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
    return cases;
  }

  @Test
  void whichLayersTakeIt() {
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
    // Layers other than wide 1x1 ones: only with 16 registers, over padded planes.
    assertThat(LoneBlockedConv.forLayer(big, relu) != null).isEqualTo(TileBudget.REGISTERS < 32);
    String tilesWith16 = (TileBudget.REGISTERS < 32 ? "simd-blocked-" : "simd-direct-") + LANES * 32;
    assertThat(new SimdConvEngine(big, true).name()).isEqualTo(tilesWith16);
    assertThat(new SimdConvEngine(even, true).name()).isEqualTo("simd-winograd-" + LANES * 32);

    // 1x1 layers of at least 256 input channels: channel blocks on every machine, except where the direct engine
    // prefers its panels (large planes, where the direct kernels run split).
    ConvGeometry largePlane = pointwise(512, 512, 28, 1);
    ConvGeometry smallPlane = pointwise(512, 512, 14, 1);
    ConvGeometry threshold = pointwise(LoneBlockedConv.MIN_POINTWISE_CHANNELS, 64, 7, 1);
    ConvGeometry narrow = pointwise(LoneBlockedConv.MIN_POINTWISE_CHANNELS - LANES, 64, 7, 1);
    ConvGeometry strided = pointwise(512, 512, 14, 2);
    boolean largePanels = new DirectConv(largePlane, true).prefersPanels();
    if (System.getProperty("kiln.simd.direct") == null && System.getProperty("kiln.simd.channels") == null) {
      // (surefire executions that force other layouts take no panels)
      assertThat(largePanels).isEqualTo(TileBudget.SPLIT_DIRECT_KERNELS);
    }
    assertThat(new DirectConv(smallPlane, true).prefersPanels()).isFalse();
    assertThat(LoneBlockedConv.readsChannelBlocks(smallPlane)).isTrue();
    assertThat(LoneBlockedConv.readsChannelBlocks(strided)).isFalse();
    assertThat(LoneBlockedConv.readsChannelBlocks(
        NaiveConvKernel.geometry(512, 512, 14, 14, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS))).isFalse();
    assertThat(LoneBlockedConv.readsChannelBlocks(
        NaiveConvKernel.geometry(512, 512, 14, 14, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 2, PaddingMode.ZEROS))).isFalse();
    assertThat(LoneBlockedConv.readsChannelBlocks(pointwise(LANES * 20 + 1, 64, 14, 1))).isFalse();
    String blocked = "simd-blocked-" + LANES * 32;
    assertThat(new SimdConvEngine(smallPlane, true).name()).isEqualTo(blocked);
    assertThat(new SimdConvEngine(threshold, true).name()).isEqualTo(blocked);
    assertThat(new SimdConvEngine(largePlane, true).name())
        .isEqualTo(largePanels ? "simd-direct-" + LANES * 32 : blocked);
    // Fewer input channels, or stride 2: as before (the planes' rule: 1x1 reductions are under 384 terms here).
    assertThat(new SimdConvEngine(narrow, true).name()).isEqualTo("simd-direct-" + LANES * 32);
    assertThat(new SimdConvEngine(strided, true).name()).isEqualTo(tilesWith16);
  }

  private static ConvGeometry pointwise(int in, int out, int size, int stride) {
    return NaiveConvKernel.geometry(in, out, size, size, 1, 1, stride, stride, 1, 1, 0, 0, 0, 0, 1,
        PaddingMode.ZEROS);
  }
}
