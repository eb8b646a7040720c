package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.testing.TestTensors;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link DirectConv} on a {@link WrappedLayout} (rows of the input's own width, one masked copy of
 * the input per kernel column and row phase) against the convolution's definition summed in double: seeded
 * random geometries of stride 1 whose output rows are as long as the input's and of stride 2 whose rows are half
 * as long, with asymmetric horizontal padding, dilation, kernels 2-5 columns wide, any vertical padding, groups,
 * channel ranges cut inside a block, samples at an offset of a
 * batch array (the last one ending where the array ends, so its copy cannot read a vector past it). The
 * surefire execution with {@code kiln.simd.direct=off} runs the same cases through the output scratch.
 */
class WrappedLayoutTest {
  private static final int CASES = 120;
  private final String savedWrap = System.getProperty("kiln.simd.wrap");
  private final String savedChannels = System.getProperty("kiln.simd.channels");

  /**
   * Wrapped rows wherever a layer can take them, and not the channel kernel (the surefire execution that sends every
   * layer it can to {@code ChannelConv} would take the wide ones).
   */
  @BeforeEach
  void wrapEverywhere() {
    System.setProperty("kiln.simd.wrap", "on");
    System.setProperty("kiln.simd.channels", "off");
  }

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
    SplittableRandom r = new SplittableRandom(20261205L);
    int cases = 0;
    int partialRanges = 0;
    int asymmetric = 0;
    int dilated = 0;
    long outputs = 0;
    int strideTwo = 0;
    while (cases < CASES) {
      int stride = 1 + r.nextInt(2);
      int kw = 2 + r.nextInt(4);
      int dw = r.nextInt(4) == 0 ? 2 : 1;
      int span = (kw - 1) * dw;
      int pl = r.nextInt(span + 1);
      int w = 2 + r.nextInt(stride == 1 ? 19 : 40);
      // Stride 1 needs output rows as long as the input's; stride 2 half as long, rounded up: the right padding
      // that gives (w + 1) / 2 outputs, 1 + (w + pl + pr - span - 1) / 2 (one of two values, or none).
      int pr = stride == 1 ? span - pl : Math.max(0, 2 * ((w + 1) / 2 - 1) + span + 1 - w - pl + r.nextInt(2));
      int kh = 1 + r.nextInt(5);
      int dh = r.nextInt(4) == 0 ? 2 : 1;
      int pt = r.nextInt(3);
      int pb = r.nextInt(3);
      int h = 1 + r.nextInt(stride == 1 ? 16 : 30);
      if (pl + pr == 0 || pl >= w || pr >= w || h + pt + pb < (kh - 1) * dh + 1 || w + pl + pr < span + 1
          || (w + pl + pr - span - 1) / stride + 1 != (stride == 1 ? w : (w + 1) / 2)) {
        continue;
      }
      int groups = 1 + r.nextInt(2);
      int inPerGroup = 1 + r.nextInt(10);
      int outPerGroup = DirectConv.OB + r.nextInt(3 * DirectConv.OB);
      ConvGeometry g = ConvGeometry.builder().inChannels(groups * inPerGroup).outChannels(groups * outPerGroup)
          .inputSize(h, w).kernel(kh, kw).stride(stride, stride).dilation(dh, dw).padding(pt, pb, pl, pr)
          .groups(groups).paddingMode(PaddingMode.ZEROS).build();
      if (!WrappedLayout.canWrap(g)) {
        // Taps a row's length or more beside their output column (kernels wider than tiny inputs).
        assertThat(w).isAtMost(2 * span);
        continue;
      }
      boolean relu = r.nextBoolean();
      DirectConv conv = new DirectConv(g, relu);
      assertWithMessage("layout of " + g).that(conv.wrapped).isTrue();
      assertWithMessage("row pitch of " + g).that(conv.layout.rowPitch()).isEqualTo(g.outWidth());
      if (stride == 2) {
        strideTwo++;
      }
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
    assertThat(strideTwo).isAtLeast(CASES / 4);
    assertThat(partialRanges).isAtLeast(20);
    assertThat(asymmetric).isAtLeast(30);
    assertThat(dilated).isAtLeast(15);
    assertThat(outputs).isGreaterThan(200_000L);
  }

  /**
   * The stem's kernel columns (3 wide, stride 2, padding 1), whose first and last copies share their columns and
   * are filled together ({@code WrappedLayout#padPairsShared}): even and odd widths (rows of whole vectors and not),
   * a batch whose last sample ends where its array ends (the last rows copied cell by cell), channel ranges.
   */
  @Test
  void stemColumnsSharedCopies() {
    SplittableRandom r = new SplittableRandom(20261206L);
    int cases = 0;
    for (int w : new int[] {2, 17, 31, 32, 33, 64, 97}) {
      for (int h : new int[] {1, 6, 13}) {
        ConvGeometry g = ConvGeometry.builder().inChannels(3).outChannels(2 * DirectConv.OB).inputSize(h, w)
            .kernel(3, 3).stride(2, 2).padding(1, 1, 1, 1).paddingMode(PaddingMode.ZEROS).build();
        assertWithMessage("wraps " + g).that(WrappedLayout.canWrap(g)).isEqualTo(w > 2);
        if (!WrappedLayout.canWrap(g)) {
          continue;
        }
        boolean relu = r.nextBoolean();
        DirectConv conv = new DirectConv(g, relu);
        assertWithMessage("layout of " + g).that(conv.wrapped).isTrue();
        int ocStart = cases % 3 == 0 ? DirectConv.OB / 2 : 0;
        assertWithMessage("outputs of " + g).that(check(g, relu, 1 + cases % 3, ocStart, g.outChannels(), conv, r))
            .isGreaterThan(0);
        cases++;
      }
    }
    assertThat(cases).isEqualTo(18);
  }

  /** Runs every sample of a batch through {@code conv} and compares channels {@code [ocStart, ocEnd)}; returns how many outputs. */
  private static int check(ConvGeometry g, boolean relu, int batch, int ocStart, int ocEnd, DirectConv conv,
      SplittableRandom r) {
    int inC = g.inChannels();
    int outC = g.outChannels();
    int cin = g.inChannelsPerGroup();
    int k = cin * g.kernelH() * g.kernelW();
    float[] w = TestTensors.uniform(r, 1, outC * k).data();
    float[] b = TestTensors.uniform(r, 0.5, outC).data();
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
                int ih = oh * g.strideH() + i * g.dilationH() - g.padTop();
                for (int j = 0; j < g.kernelW(); j++) {
                  int iw = ow * g.strideW() + j * g.dilationW() - g.padLeft();
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

  /** The common layers that should take wrapped rows can; those whose columns past a row's end are data cannot. */
  @Test
  void whichGeometriesWrap() {
    assertThat(WrappedLayout.canWrap(geometry(224, 3, 2, 1, 1))).isTrue();
    assertThat(WrappedLayout.canWrap(geometry(28, 3, 2, 1, 1))).isTrue();
    assertThat(WrappedLayout.canWrap(geometry(27, 3, 2, 1, 1))).isTrue();
    assertThat(WrappedLayout.canWrap(geometry(14, 3, 1, 1, 1))).isTrue();
    assertThat(WrappedLayout.canWrap(geometry(14, 5, 1, 2, 2))).isTrue();
    // No padding along the rows: nothing to gain, rows already as long as the output's.
    assertThat(WrappedLayout.canWrap(geometry(14, 3, 1, 0, 0))).isFalse();
    // 3x3 stride 2 without right padding on an odd width: 13 outputs of 27 columns, not 14.
    assertThat(WrappedLayout.canWrap(geometry(27, 3, 2, 1, 0))).isFalse();
    assertThat(WrappedLayout.canWrap(geometry(28, 3, 2, 0, 0))).isFalse();
    assertThat(WrappedLayout.canWrap(ConvGeometry.builder().inChannels(1).outChannels(8).inputSize(14, 14)
        .kernel(3, 3).stride(1, 2).padding(1, 1, 1, 1).build())).isFalse();
    assertThat(WrappedLayout.canWrap(ConvGeometry.builder().inChannels(1).outChannels(8).inputSize(14, 14)
        .kernel(3, 3).padding(1, 1, 1, 1).paddingMode(PaddingMode.REFLECT).build())).isFalse();
  }

  private static ConvGeometry geometry(int size, int kernel, int stride, int padLeft, int padRight) {
    return ConvGeometry.builder().inChannels(3).outChannels(16).inputSize(size, size).kernel(kernel, kernel)
        .stride(stride, stride).padding(1, 1, padLeft, padRight).build();
  }
}
