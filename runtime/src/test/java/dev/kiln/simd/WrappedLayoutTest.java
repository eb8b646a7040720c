package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link DirectConv} on a {@link PaddedLayout#wrapped} layout (rows of the input's own width, one masked copy of
 * the input per kernel column) against the convolution's definition summed in double: seeded random stride-1
 * geometries whose output rows are as long as the input's, with asymmetric horizontal padding, dilation, kernels
 * 2-5 columns wide, any vertical padding, groups, channel ranges cut inside a block, samples at an offset of a
 * batch array (the last one ending where the array ends, so its copy cannot read a vector past it). The
 * surefire execution with {@code kiln.simd.direct=off} runs the same cases through the output scratch.
 */
class WrappedLayoutTest {
  private static final int CASES = 120;
  private final String savedWrap = System.getProperty("kiln.simd.wrap");
  private final String savedChannels = System.getProperty("kiln.simd.channels");

  @AfterEach
  void restore() {
    restore("kiln.simd.wrap", savedWrap);
    restore("kiln.simd.channels", savedChannels);
  }

  private static void restore(String key, String value) {
    if (value == null) {
      System.clearProperty(key);
    } else {
      System.setProperty(key, value);
    }
  }

  @Test
  void wrappedRowsGiveTheConvolution() {
    System.setProperty("kiln.simd.wrap", "on");
    // Else the surefire execution that sends every layer it can to ChannelConv takes the wide ones.
    System.setProperty("kiln.simd.channels", "off");
    SplittableRandom r = new SplittableRandom(20261205L);
    int cases = 0;
    int partialRanges = 0;
    int asymmetric = 0;
    int dilated = 0;
    long outputs = 0;
    while (cases < CASES) {
      int kw = 2 + r.nextInt(4);
      int dw = r.nextInt(4) == 0 ? 2 : 1;
      int span = (kw - 1) * dw;
      int pl = r.nextInt(span + 1);
      int pr = span - pl;
      int w = 2 + r.nextInt(19);
      int kh = 1 + r.nextInt(5);
      int dh = r.nextInt(4) == 0 ? 2 : 1;
      int pt = r.nextInt(3);
      int pb = r.nextInt(3);
      int h = 1 + r.nextInt(16);
      if (pl >= w || pr >= w || h + pt + pb < (kh - 1) * dh + 1) {
        continue;
      }
      int groups = 1 + r.nextInt(2);
      int inPerGroup = 1 + r.nextInt(10);
      int outPerGroup = DirectConv.OB + r.nextInt(3 * DirectConv.OB);
      ConvGeometry g = ConvGeometry.builder().inChannels(groups * inPerGroup).outChannels(groups * outPerGroup)
          .inputSize(h, w).kernel(kh, kw).dilation(dh, dw).padding(pt, pb, pl, pr).groups(groups)
          .paddingMode(PaddingMode.ZEROS).build();
      boolean relu = r.nextBoolean();
      DirectConv conv = new DirectConv(g, relu);
      assertWithMessage("layout of " + g).that(conv.layout.wrapped).isTrue();
      assertWithMessage("row pitch of " + g).that(conv.layout.rowPitch).isEqualTo(w);
      int batch = 1 + r.nextInt(3);
      int outC = g.outChannels();
      int ocStart = 0;
      int ocEnd = outC;
      if (r.nextBoolean()) {
        ocStart = r.nextInt(outC / 2);
        ocEnd = outC - r.nextInt(outC / 2);
        if (ocStart % DirectConv.OB != 0 || ocEnd % DirectConv.OB != 0) {
          partialRanges++;
        }
      }
      if (pl != pr) {
        asymmetric++;
      }
      if (dw == 2) {
        dilated++;
      }
      outputs += check(g, relu, batch, ocStart, ocEnd, conv, r);
      cases++;
    }
    assertThat(cases).isEqualTo(CASES);
    assertThat(partialRanges).isAtLeast(20);
    assertThat(asymmetric).isAtLeast(30);
    assertThat(dilated).isAtLeast(15);
    assertThat(outputs).isGreaterThan(200_000L);
  }

  /** Runs every sample of a batch through {@code conv} and compares channels {@code [ocStart, ocEnd)}; returns how many outputs. */
  private static int check(ConvGeometry g, boolean relu, int batch, int ocStart, int ocEnd, DirectConv conv,
      SplittableRandom r) {
    int inC = g.inChannels();
    int outC = g.outChannels();
    int cin = g.inChannelsPerGroup();
    int k = cin * g.kernelH() * g.kernelW();
    float[] w = new float[outC * k];
    float[] b = new float[outC];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (r.nextDouble() * 2 - 1);
    }
    for (int i = 0; i < b.length; i++) {
      b[i] = (float) (r.nextDouble() - 0.5);
    }
    int inSample = inC * g.inHeight() * g.inWidth();
    int outPlane = g.outHeight() * g.outWidth();
    float[] x = new float[batch * inSample];
    for (int i = 0; i < x.length; i++) {
      // Ones at the far columns too: a tap that wraps onto the neighbouring row instead of the padding shows.
      x[i] = (float) (r.nextDouble() + 0.5);
    }
    DirectConv.Packed packed = conv.pack(w, b);
    int compared = 0;
    for (int n = 0; n < batch; n++) {
      float sentinel = -7f;
      float[] y = new float[outC * outPlane];
      java.util.Arrays.fill(y, sentinel);
      conv.forward(packed, x, n * inSample, y, 0, ocStart, ocEnd);
      double maxAbs = 0;
      double maxDiff = 0;
      for (int oc = 0; oc < outC; oc++) {
        int grp = oc / g.outChannelsPerGroup();
        for (int oh = 0; oh < g.outHeight(); oh++) {
          for (int ow = 0; ow < g.outWidth(); ow++) {
            float actual = y[oc * outPlane + oh * g.outWidth() + ow];
            if (oc < ocStart || oc >= ocEnd) {
              assertWithMessage("untouched channel %s of %s", oc, g).that(actual).isEqualTo(sentinel);
              continue;
            }
            double sum = b[oc];
            for (int c = 0; c < cin; c++) {
              for (int i = 0; i < g.kernelH(); i++) {
                int ih = oh + i * g.dilationH() - g.padTop();
                for (int j = 0; j < g.kernelW(); j++) {
                  int iw = ow + j * g.dilationW() - g.padLeft();
                  if (ih >= 0 && ih < g.inHeight() && iw >= 0 && iw < g.inWidth()) {
                    sum += (double) w[oc * k + (c * g.kernelH() + i) * g.kernelW() + j]
                        * x[n * inSample + ((grp * cin + c) * g.inHeight() + ih) * g.inWidth() + iw];
                  }
                }
              }
            }
            double expected = relu ? Math.max(sum, 0) : sum;
            maxAbs = Math.max(maxAbs, Math.abs(expected));
            maxDiff = Math.max(maxDiff, Math.abs(actual - expected));
            compared++;
          }
        }
      }
      assertWithMessage("%s relu=%s sample %s of %s, channels [%s, %s)", g, relu, n, batch, ocStart, ocEnd)
          .that(maxDiff / Math.max(maxAbs, 1e-6)).isAtMost(1e-5);
    }
    return compared;
  }
}
