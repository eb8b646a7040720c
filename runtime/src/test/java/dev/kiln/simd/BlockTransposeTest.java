package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import org.junit.jupiter.api.Test;

/**
 * The conversions between NCHW and the blocked layout with the 16x16 transposes compiled ({@link BlockTranspose}):
 * every interior element where the definition puts it, nothing else written, for full and partial blocks, maps of
 * fewer than 16 pixels, a plane not a multiple of 16, halos on any side, bands of rows and ranges of channels. On a
 * machine without 16 lanes the transposes are not used and the same checks hold for the element-by-element code.
 */
class BlockTransposeTest {
  private static final float UNTOUCHED = -7.5f;

  private static final BlockedLayout[] LAYOUTS = {
      BlockedLayout.blocked(16, 14, 14, 1, 1, 1, 1),
      BlockedLayout.blocked(32, 14, 14, 0, 0, 0, 0),
      BlockedLayout.blocked(40, 7, 9, 2, 1, 0, 3),
      BlockedLayout.blocked(48, 4, 4, 0, 1, 1, 0),
      BlockedLayout.blocked(16, 1, 17, 1, 0, 2, 1),
      BlockedLayout.blocked(32, 3, 5, 1, 1, 1, 1),
  };

  @Test
  void conversionsPutEveryElementWhereTheDefinitionSays() {
    TileWarmer.warm(BlockTranspose.TILE);
    assertThat(BlockTranspose.TILE.hot()).isTrue();
    assertThat(BlockTranspose.AVAILABLE).isEqualTo(VectorShape.LANES == 16);
    int cases = 0;
    int transposed = 0;
    for (BlockedLayout l : LAYOUTS) {
      assertWithMessage(l.toString()).that(BlockTranspose.ready(l))
          .isEqualTo(VectorShape.LANES == 16 && l.height * l.width >= 16);
      if (BlockTranspose.ready(l)) {
        transposed++;
      }
      int plane = l.height * l.width;
      int off = 5;
      float[] nchw = new float[off + l.channels * plane + 3];
      for (int i = 0; i < nchw.length; i++) {
        nchw[i] = i * 0.5f + 1f;
      }
      // Into the blocked layout: the whole sample, and bands of rows.
      int[][] bands = {{0, l.height}, {0, (l.height + 1) / 2}, {l.height / 2, l.height}};
      for (int[] band : bands) {
        float[] blocked = new float[off + l.sampleSize + 2];
        java.util.Arrays.fill(blocked, UNTOUCHED);
        l.fromNchw(nchw, off, blocked, off, band[0], band[1]);
        float[] expected = new float[blocked.length];
        java.util.Arrays.fill(expected, UNTOUCHED);
        for (int c = 0; c < l.channels; c++) {
          for (int h = band[0]; h < band[1]; h++) {
            for (int w = 0; w < l.width; w++) {
              expected[off + l.channelOffset(c) + l.pixel(h, w)] = nchw[off + c * plane + h * l.width + w];
            }
          }
        }
        assertWithMessage(l + " rows " + band[0] + ".." + band[1]).that(blocked).usingExactEquality()
            .containsExactly(expected).inOrder();
        cases++;
      }
      // Back to NCHW: all channels, and ranges that start and end inside blocks.
      float[] blocked = new float[off + l.sampleSize];
      for (int i = 0; i < blocked.length; i++) {
        blocked[i] = i * 0.25f - 3f;
      }
      int[][] ranges = {{0, l.channels}, {16, Math.min(32, l.channels)}, {5, l.channels - 3}, {0, 16}};
      for (int[] range : ranges) {
        float[] out = new float[off + l.channels * plane + 2];
        java.util.Arrays.fill(out, UNTOUCHED);
        l.toNchw(blocked, off, out, off, range[0], range[1]);
        float[] expected = new float[out.length];
        java.util.Arrays.fill(expected, UNTOUCHED);
        for (int c = range[0]; c < range[1]; c++) {
          for (int h = 0; h < l.height; h++) {
            for (int w = 0; w < l.width; w++) {
              expected[off + c * plane + h * l.width + w] = blocked[off + l.channelOffset(c) + l.pixel(h, w)];
            }
          }
        }
        assertWithMessage(l + " channels " + range[0] + ".." + range[1]).that(out).usingExactEquality()
            .containsExactly(expected).inOrder();
        cases++;
      }
    }
    assertThat(cases).isEqualTo(LAYOUTS.length * 7);
    assertThat(transposed).isEqualTo(VectorShape.LANES == 16 ? 5 : 0);
  }

  /** The transposes alone: one run into a block with gaps between its pixels and back, against the definition. */
  @Test
  void oneRunTransposesSixteenChannelsBySixteenPixels() {
    if (!BlockTranspose.AVAILABLE) {
      assertThat(VectorShape.LANES == 16).isFalse();
      return;
    }
    int plane = 20;
    float[] planes = new float[16 * plane];
    for (int i = 0; i < planes.length; i++) {
      planes[i] = i;
    }
    int[] pixels = new int[plane];
    for (int p = 0; p < plane; p++) {
      pixels[p] = 3 + p * 20; // 16 lanes and a gap of 4 after each pixel
    }
    float[] block = new float[3 + plane * 20];
    java.util.Arrays.fill(block, UNTOUCHED);
    BlockTranspose.runs(planes, 0, plane, block, 0, pixels, 2, 1, false);
    int written = 0;
    for (int i = 0; i < block.length; i++) {
      int p = (i - 3) / 20;
      int lane = (i - 3) % 20;
      boolean in = i >= 3 && p >= 2 && p < 18 && lane < 16;
      assertWithMessage("block[" + i + "]").that(block[i]).isEqualTo(in ? planes[lane * plane + p] : UNTOUCHED);
      written += in ? 1 : 0;
    }
    assertThat(written).isEqualTo(256);
    float[] back = new float[planes.length];
    java.util.Arrays.fill(back, UNTOUCHED);
    BlockTranspose.runs(back, 0, plane, block, 0, pixels, 2, 1, true);
    for (int c = 0; c < 16; c++) {
      for (int p = 0; p < plane; p++) {
        assertWithMessage("channel " + c + " pixel " + p).that(back[c * plane + p])
            .isEqualTo(p >= 2 && p < 18 ? planes[c * plane + p] : UNTOUCHED);
      }
    }
  }
}
