package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link BlockedLayout#clearOutside}: after it, a buffer that held anything reads as this layout's zero halo
 * and zero padded lanes, and every interior element of a channel is as it was.
 */
class BlockedLayoutTest {
  @Test
  void clearOutsideZeroesTheHaloAndPaddedLanesOnly() {
    BlockedLayout[] layouts = {BlockedLayout.blocked(20, 3, 4, 1, 2, 1, 0), BlockedLayout.blocked(32, 2, 2, 1, 1, 1, 1),
        BlockedLayout.blocked(5, 4, 3, 0, 0, 0, 0), BlockedLayout.planes(2, 3, 3, 1, 1, 2, 1),
        BlockedLayout.planes(3, 2, 5, 0, 1, 0, 3)};
    int checked = 0;
    for (BlockedLayout l : layouts) {
      int off = 7;
      float[] buf = new float[off + 2 * l.sampleSize + 3];
      Arrays.fill(buf, 9f);
      l.clearOutside(buf, off + l.sampleSize);
      // The interior of the second sample, as NCHW: untouched.
      float[] interior = new float[l.channels * l.height * l.width];
      l.toNchw(buf, off + l.sampleSize, interior, 0);
      for (float v : interior) {
        assertWithMessage(l.toString()).that(v).isEqualTo(9f);
      }
      // Everything else of that sample is zero; nothing outside it was written.
      int zeros = 0;
      for (int i = 0; i < buf.length; i++) {
        boolean inSample = i >= off + l.sampleSize && i < off + 2 * l.sampleSize;
        if (!inSample) {
          assertWithMessage(l + " at " + i).that(buf[i]).isEqualTo(9f);
        } else if (buf[i] == 0f) {
          zeros++;
        }
      }
      assertWithMessage(l.toString()).that(zeros).isEqualTo(l.sampleSize - interior.length);
      checked++;
    }
    assertThat(checked).isEqualTo(5);
  }

  /**
   * The conversion of a range of channels back to NCHW writes those channels' planes as the whole-sample
   * conversion does and nothing else, for blocked layouts with and without a halo at the sides and for planes.
   */
  @Test
  void channelRangesConvertAsTheWholeSampleDoes() {
    BlockedLayout[] layouts = {BlockedLayout.blocked(20, 3, 4, 1, 2, 1, 0), BlockedLayout.blocked(13, 3, 5, 0, 0, 0, 0),
        BlockedLayout.blocked(32, 2, 2, 1, 1, 1, 1), BlockedLayout.planes(3, 2, 5, 0, 1, 0, 3)};
    int ranges = 0;
    for (BlockedLayout l : layouts) {
      float[] src = new float[3 + l.sampleSize];
      for (int i = 0; i < src.length; i++) {
        src[i] = i * 0.25f;
      }
      int plane = l.height * l.width;
      float[] whole = new float[5 + l.channels * plane];
      l.toNchw(src, 3, whole, 5);
      for (int c0 = 0; c0 < l.channels; c0 += 3) {
        for (int c1 = c0 + 1; c1 <= l.channels; c1 += 5) {
          float[] part = new float[whole.length];
          Arrays.fill(part, -1f);
          l.toNchw(src, 3, part, 5, c0, c1);
          for (int i = 0; i < part.length; i++) {
            boolean mine = i >= 5 + c0 * plane && i < 5 + c1 * plane;
            assertWithMessage("%s channels [%s, %s) at %s", l, c0, c1, i).that(part[i])
                .isEqualTo(mine ? whole[i] : -1f);
          }
          ranges++;
        }
      }
    }
    assertThat(ranges).isEqualTo(70);
  }

  /**
   * Clearing the rows of a layout in bands (as each row-split piece does for its own band) clears what clearing
   * all of them does, and a band touches the halo rows above or below only where it starts at the first row or
   * ends at the last.
   */
  @Test
  void clearingRowBandsAddsUpToClearingAll() {
    BlockedLayout[] layouts = {BlockedLayout.blocked(20, 3, 4, 1, 2, 1, 0), BlockedLayout.blocked(32, 4, 2, 1, 1, 1, 1),
        BlockedLayout.planes(2, 3, 3, 1, 1, 2, 1)};
    int checked = 0;
    for (BlockedLayout l : layouts) {
      float[] all = new float[l.sampleSize];
      Arrays.fill(all, 9f);
      l.clearOutside(all, 0);
      for (int k = 1; k < l.height; k++) {
        float[] bands = new float[l.sampleSize];
        Arrays.fill(bands, 9f);
        l.clearOutside(bands, 0, k, l.height);
        // Only the bottom band so far: the halo rows above every block are untouched.
        for (int cb = 0; cb < l.blocks; cb++) {
          for (int i = 0; i < l.top * l.rowStride; i++) {
            assertWithMessage(l + " k=" + k).that(bands[cb * l.blockStride + i]).isEqualTo(9f);
          }
        }
        l.clearOutside(bands, 0, 0, k);
        assertWithMessage(l + " k=" + k).that(bands).usingExactEquality().containsExactly(all).inOrder();
        checked++;
      }
    }
    assertThat(checked).isEqualTo(2 + 3 + 2);
  }

  /** NCHW into a layout and back: every element where it was, for partial last blocks and any halo. */
  @Test
  void toNchwInvertsFromNchw() {
    BlockedLayout[] layouts = {BlockedLayout.blocked(20, 3, 4, 1, 2, 1, 0), BlockedLayout.blocked(32, 2, 2, 1, 1, 1, 1),
        BlockedLayout.blocked(5, 4, 3, 0, 0, 0, 0), BlockedLayout.blocked(3 * VectorShape.LANES + 1, 7, 6, 1, 1, 1, 1),
        BlockedLayout.planes(2, 3, 3, 1, 1, 2, 1)};
    for (BlockedLayout l : layouts) {
      int sample = l.channels * l.height * l.width;
      float[] nchw = new float[2 * sample];
      for (int i = 0; i < nchw.length; i++) {
        nchw[i] = i + 1;
      }
      float[] buf = new float[2 * l.sampleSize];
      l.fromNchw(nchw, sample, buf, l.sampleSize);
      float[] back = new float[sample];
      l.toNchw(buf, l.sampleSize, back, 0);
      assertWithMessage(l.toString()).that(back).usingExactEquality()
          .containsExactly(Arrays.copyOfRange(nchw, sample, 2 * sample)).inOrder();
    }
  }
  /**
   * {@link BlockedLayout#tapOffsets}: from the element of channel 0 at interior pixel (0, 0), each offset reaches
   * that (channel, tap)'s input element, read back through {@link BlockedLayout#fromNchw} from an NCHW sample whose
   * every value names its channel, row and column.
   */
  @Test
  void tapOffsetsReachEachChannelAndTap() {
    ConvGeometry g = NaiveConvKernel.geometry(20, 4, 6, 5, 3, 2, 1, 1, 2, 3, 0, 0, 0, 0, 1, PaddingMode.ZEROS);
    BlockedLayout[] layouts = {BlockedLayout.blocked(20, 6, 5, 1, 0, 2, 1), BlockedLayout.planes(20, 6, 5, 0, 1, 1, 0)};
    int checked = 0;
    for (BlockedLayout l : layouts) {
      float[] nchw = new float[20 * 6 * 5];
      for (int c = 0; c < 20; c++) {
        for (int h = 0; h < 6; h++) {
          for (int w = 0; w < 5; w++) {
            nchw[(c * 6 + h) * 5 + w] = c * 100 + h * 10 + w;
          }
        }
      }
      float[] buf = new float[l.sampleSize];
      l.fromNchw(nchw, 0, buf, 0);
      int[] off = l.tapOffsets(g, 20);
      assertThat(off).hasLength(20 * 3 * 2);
      int base = l.pixel(0, 0);
      int i = 0;
      for (int c = 0; c < 20; c++) {
        for (int kh = 0; kh < 3; kh++) {
          for (int kw = 0; kw < 2; kw++) {
            // Dilation 2 down, 3 across.
            assertWithMessage(l + " channel " + c + " tap " + kh + "," + kw).that(buf[base + off[i++]])
                .isEqualTo(c * 100 + 2 * kh * 10 + 3 * kw);
            checked++;
          }
        }
      }
    }
    assertThat(checked).isEqualTo(2 * 20 * 6);
  }
}
