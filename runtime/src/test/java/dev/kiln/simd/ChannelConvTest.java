package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.nn.ConvGeometry;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link ChannelConv}'s outputs are, bit for bit, the bias plus each (input channel, tap) product fused in
 * weight order and clamped: on rows of whole runs of {@link ChannelConv#ROW_P} (its calls follow the rows) and on
 * other widths (calls of {@link ChannelConv#P} virtual positions, junk dropped), for every output channel range.
 */
class ChannelConvTest {
  @Test
  void rowRunsAndVirtualPositionsGiveTheFusedSumsInWeightOrder() {
    SplittableRandom r = new SplittableRandom(20261204L);
    int[][] shapes = {
      // inChannels, outChannels, size, kernel, pad
      {3, ChannelConv.CB, 14, 3, 1},
      {2, 2 * ChannelConv.CB + 5, 7, 3, 1},
      {4, ChannelConv.CB, 21, 3, 1},
      {3, ChannelConv.CB + 3, 13, 3, 1},
      {2, ChannelConv.CB, 9, 3, 1},
      {5, ChannelConv.CB, 14, 1, 0},
    };
    int rowAligned = 0;
    int checked = 0;
    int expected = 0;
    for (int[] s : shapes) {
      ConvGeometry g = ConvGeometry.builder().inChannels(s[0]).outChannels(s[1]).inputSize(s[2], s[2])
          .kernel(s[3], s[3]).padding(s[4], s[4], s[4], s[4]).build();
      if (g.outWidth() % ChannelConv.ROW_P == 0) {
        rowAligned++;
      }
      for (boolean relu : new boolean[] {false, true}) {
        checked += check(g, relu, r);
        // both channel ranges of check: all of them, and all but the first 3 and the last 2
        expected += (2 * g.outChannels() - 5) * g.outHeight() * g.outWidth();
      }
    }
    assertThat(rowAligned).isEqualTo(4);
    assertThat(checked).isEqualTo(expected);
    assertThat(checked).isGreaterThan(20_000);
  }

  /** Compares every output of {@code g} for the whole channel range and for a range cut inside a block. */
  private static int check(ConvGeometry g, boolean relu, SplittableRandom r) {
    PaddedLayout layout = PaddedLayout.of(g, 1);
    ChannelConv conv = new ChannelConv(g, relu, layout);
    int outC = g.outChannels();
    int k = g.inChannelsPerGroup() * g.kernelH() * g.kernelW();
    float[] w = new float[outC * k];
    float[] b = new float[outC];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (r.nextDouble() * 2 - 1);
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) (r.nextDouble() - 0.5);
    }
    float[] x = new float[g.inChannels() * g.inHeight() * g.inWidth()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (r.nextDouble() * 2 - 1);
    }
    float[] paddedX = new float[g.inChannels() * layout.channelStride + ChannelConv.reach(g, layout) + 4096];
    layout.pad(x, 0, 0, g.inChannels(), paddedX);
    int[] offs = layout.tapOffsets(g);
    DirectConv.Packed packed = conv.pack(w, b);
    int plane = g.outHeight() * g.outWidth();
    int checked = 0;
    int[][] ranges = {{0, outC}, {3, outC - 2}};
    for (int[] range : ranges) {
      float[] y = new float[outC * plane];
      java.util.Arrays.fill(y, Float.NaN);
      conv.compute(packed, paddedX, 0, 0, range[0], range[1], y, 0);
      for (int oc = 0; oc < outC; oc++) {
        for (int oh = 0; oh < g.outHeight(); oh++) {
          for (int ow = 0; ow < g.outWidth(); ow++) {
            float got = y[oc * plane + oh * g.outWidth() + ow];
            if (oc < range[0] || oc >= range[1]) {
              assertWithMessage("%s channel %s outside [%s, %s) written", g, oc, range[0], range[1])
                  .that(Float.isNaN(got)).isTrue();
              continue;
            }
            int p = oh * layout.rowPitch + ow;
            float acc = b[oc];
            for (int i = 0; i < k; i++) {
              acc = Math.fma(w[oc * k + i], paddedX[p + offs[i]], acc);
            }
            float want = relu ? Math.max(acc, 0f) : acc;
            assertWithMessage("%s relu %s output (%s, %s, %s)", g, relu, oc, oh, ow)
                .that(Float.floatToRawIntBits(got)).isEqualTo(Float.floatToRawIntBits(want));
            checked++;
          }
        }
      }
    }
    return checked;
  }
}
