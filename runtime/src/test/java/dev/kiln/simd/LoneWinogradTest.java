package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.ReferenceConv2d;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link LoneWinograd}, a layer used alone in Winograd's form: against {@link ReferenceConv2d} (within 1e-5 of the
 * largest output) for RepVGG-A0's three shapes, a layer of partial channel blocks, one of the fewest input channels
 * taken (32) and 16 outputs, and every activation; all channels on two threads the same bits as on one (split by
 * chunks, or step by step for the 48-channel layer's one chunk), and ranges of output channels the same bits as all of
 * them, nothing outside a range written. Which layers get it: at least 32
 * input channels and 14x14 outputs. Counted.
 */
@ExtendWith(TilesNotAwaited.class)
class LoneWinogradTest {
  private final int savedThreads = Parallel.threads();

  @AfterEach
  void restoreThreads() {
    Parallel.setThreads(savedThreads);
  }

  @Test
  void matchesTheReference() {
    SplittableRandom r = new SplittableRandom(96);
    int[][] shapes = {{48, 48, 56}, {96, 96, 28}, {192, 192, 14}, {40, 70, 16}, {32, 16, 14}};
    int cases = 0;
    for (int[] sh : shapes) {
      for (Activation act : Activation.values()) {
        ConvGeometry g = WinogradConvTest.geometry(sh[0], sh[1], sh[2], sh[2]);
        ReferenceConv2d ref = ReferenceConv2d.builder(g).bias(true).activation(act).seed(r.nextLong()).build();
        ref.eval();
        LoneWinograd lone = LoneWinograd.forLayer(g, act);
        assertThat(lone).isNotNull();
        Tensor x = TestTensors.uniform(r, 1, 1, sh[0], sh[2], sh[2]);
        int size = sh[1] * sh[2] * sh[2];
        // Two threads first, on the layer's fresh buffers: every input row and output block converted by the split.
        Parallel.setThreads(2);
        float[] two = new float[size];
        java.util.Arrays.fill(two, Float.NaN);
        lone.forward(ref.weight(), ref.bias(), x.data(), 0, two, 0, 0, sh[1]);
        Parallel.setThreads(1);
        float[] one = new float[size];
        lone.forward(ref.weight(), ref.bias(), x.data(), 0, one, 0, 0, sh[1]);
        String what = g + " " + act;
        assertWithMessage(what + ", 2 threads").that(two).usingExactEquality().containsExactly(one).inOrder();
        float[] ranges = new float[size];
        java.util.Arrays.fill(ranges, Float.NaN);
        int cut = 1 + r.nextInt(sh[1] - 1);
        lone.forward(ref.weight(), ref.bias(), x.data(), 0, ranges, 0, 0, cut);
        lone.forward(ref.weight(), ref.bias(), x.data(), 0, ranges, 0, cut, sh[1]);
        assertWithMessage(what + ", ranges").that(ranges).usingExactEquality().containsExactly(one).inOrder();
        assertWithMessage(what).that(SimdConvDifferentialTest.relativeError(one, ref.forward(x).data()))
            .isAtMost(1e-5);
        cases++;
      }
    }
    assertThat(cases).isEqualTo(5 * Activation.values().length);
  }

  /**
   * All channels split by chunks on as many threads as the layer has chunks, step by step on more (a 48-channel
   * layer is one chunk of three 16-lane blocks, so two threads take it step by step where vectors have 16 lanes), not
   * at all on one thread or for a range of channels. Counted.
   */
  @Test
  void splitsByChunksOrStepByStep() {
    int cases = 0;
    for (int c : new int[] {48, 96, 192}) {
      LoneWinograd lone = LoneWinograd.forLayer(WinogradConvTest.geometry(c, c, 56, 56), Activation.RELU);
      int chunks = lone.chunks();
      assertThat(chunks).isAtLeast(1);
      if (chunks >= 2) {
        assertWithMessage(c + " channels").that(lone.split(chunks, 0, c)).isEqualTo(LoneWinograd.Split.CHUNKS);
      }
      assertWithMessage(c + " channels").that(lone.split(chunks + 1, 0, c)).isEqualTo(LoneWinograd.Split.STEPS);
      assertWithMessage(c + " channels").that(lone.split(1, 0, c)).isEqualTo(LoneWinograd.Split.NONE);
      assertWithMessage(c + " channels").that(lone.split(2, 0, c - 16)).isEqualTo(LoneWinograd.Split.NONE);
      cases++;
    }
    assertThat(cases).isEqualTo(3);
    if (VectorShape.LANES == 16) {
      LoneWinograd one = LoneWinograd.forLayer(WinogradConvTest.geometry(48, 48, 56, 56), Activation.RELU);
      assertThat(one.split(2, 0, 48)).isEqualTo(LoneWinograd.Split.STEPS);
    }
  }

  @Test
  void onlyLargeEnoughLayers() {
    assertThat(LoneWinograd.forLayer(WinogradConvTest.geometry(32, 32, 14, 14), Activation.NONE)).isNotNull();
    assertThat(LoneWinograd.forLayer(WinogradConvTest.geometry(32, 32, 12, 12), Activation.NONE)).isNull();
    int c = LoneWinograd.MIN_CHANNELS;
    assertThat(LoneWinograd.forLayer(WinogradConvTest.geometry(c, 32, 14, 14), Activation.NONE)).isNotNull();
    assertThat(LoneWinograd.forLayer(WinogradConvTest.geometry(c - 1, 32, 14, 14), Activation.NONE)).isNull();
    assertThat(LoneWinograd.forLayer(ConvGeometry.builder().inChannels(64).outChannels(64).inputSize(28, 28)
        .kernel(3, 3).stride(2, 2).padding(1, 1, 1, 1).paddingMode(PaddingMode.ZEROS).build(), Activation.NONE))
        .isNull();
  }
}
