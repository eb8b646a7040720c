package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.kiln.simd.VectorShape.LANES;

import dev.kiln.nn.Linear;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The vector loops of a blocked network's head against plain Java written here: per-lane pooling sums over
 * blocked maps with a halo (every block count around the groups of four, every map size up to 7x7), and the
 * fully connected kernel and its plain-Java form against {@link Linear#forward} itself, bitwise, for output counts
 * that do and do not fill the last block, with and without a bias, over whole and partial ranges of rows and
 * blocks.
 */
class HeadKernelsTest {
  @Test
  void blockSumsAreEachLanesSumInPixelOrder() {
    SplittableRandom r = new SplittableRandom(3);
    int cases = 0;
    for (int count = 1; count <= 9; count++) {
      for (int height = 1; height <= 7; height += 3) {
        for (int width = 1; width <= 7; width += 2) {
          // A halo of one row on top, two columns on the left and one on the right.
          int rowStride = (width + 3) * LANES;
          int blockStride = (height + 2) * rowStride + LANES;
          int first = rowStride + 2 * LANES;
          int base = 5;
          float[] x = TestTensors.uniform(r, 10, base + count * blockStride).data();
          float[] sums = new float[count * LANES];
          HeadKernels.blockSums(x, base, blockStride, count, first, height, width, rowStride, sums);
          float[] expected = new float[count * LANES];
          for (int k = 0; k < count; k++) {
            for (int lane = 0; lane < LANES; lane++) {
              float s = 0f;
              for (int h = 0; h < height; h++) {
                for (int w = 0; w < width; w++) {
                  s += x[base + k * blockStride + first + h * rowStride + w * LANES + lane];
                }
              }
              expected[k * LANES + lane] = s;
            }
          }
          assertWithMessage("%s blocks of %sx%s", count, height, width).that(sums).usingExactEquality()
              .containsExactly(expected).inOrder();
          // The plain-Java form a first forward runs, into sums that held other values.
          float[] plain = TestTensors.uniform(r, 11, count * LANES).data();
          HeadKernels.blockSumsPlain(x, base, blockStride, count, first, height, width, rowStride, plain);
          assertWithMessage("%s blocks of %sx%s, plain", count, height, width).that(plain).usingExactEquality()
              .containsExactly(expected).inOrder();
          cases++;
        }
      }
    }
    assertThat(cases).isEqualTo(9 * 3 * 4);
  }

  @Test
  void linearAndItsPlainFormAreLinearForwardBitwise() {
    SplittableRandom r = new SplittableRandom(5);
    int cases = 0;
    int[][] shapes = {{1, 1}, {7, 3}, {36, 10}, {64, 4 * LANES}, {64, 4 * LANES + 1}, {33, 9 * LANES - 3},
        {1024, 1000}};
    for (int[] shape : shapes) {
      int in = shape[0];
      int out = shape[1];
      for (boolean bias : new boolean[] {true, false}) {
        Linear linear = new Linear(in, out, bias, r.nextLong());
        linear.eval();
        float[] packed = HeadKernels.packLinear(linear.weight().data().data(), out, in);
        int blocks = VectorShape.blocks(out);
        float[] b = bias ? HeadKernels.packBias(linear.bias().data().data(), out) : null;
        // Four or more rows run four at a time (HeadKernels.ROWS), the rest one at a time.
        for (int rows : new int[] {1, 3, 4, 8, 9}) {
          Tensor x = TestTensors.uniform(r, 2, rows, in);
          float[] expected = linear.forward(x).data();
          float[] y = new float[rows * out];
          HeadKernels.linear(x.data(), in, packed, b, out, y, 0, rows, 0, blocks);
          assertWithMessage("%s->%s, bias %s, %s rows", in, out, bias, rows).that(y).usingExactEquality()
              .containsExactly(expected).inOrder();
          // The plain-Java form a first forward runs, from the layer's own (row-major) weights.
          float[] plain = new float[rows * out];
          HeadKernels.linearPlain(x.data(), in, linear.weight().data().data(),
              bias ? linear.bias().data().data() : null, out, plain, rows);
          assertWithMessage("%s->%s, bias %s, %s rows, plain", in, out, bias, rows).that(plain)
              .usingExactEquality().containsExactly(expected).inOrder();
          // In pieces, as threads split it: rows one at a time, blocks in two ranges.
          float[] pieces = new float[rows * out];
          int split = blocks / 2;
          for (int row = 0; row < rows; row++) {
            HeadKernels.linear(x.data(), in, packed, b, out, pieces, row, row + 1, 0, split);
            HeadKernels.linear(x.data(), in, packed, b, out, pieces, row, row + 1, split, blocks);
          }
          assertWithMessage("%s->%s, bias %s, %s rows, in pieces", in, out, bias, rows).that(pieces)
              .usingExactEquality().containsExactly(expected).inOrder();
          // All rows at once in the two block ranges, as the threads split a batch.
          float[] ranges = new float[rows * out];
          HeadKernels.linear(x.data(), in, packed, b, out, ranges, 0, rows, 0, split);
          HeadKernels.linear(x.data(), in, packed, b, out, ranges, 0, rows, split, blocks);
          assertWithMessage("%s->%s, bias %s, %s rows, in two block ranges", in, out, bias, rows).that(ranges)
              .usingExactEquality().containsExactly(expected).inOrder();
          cases++;
        }
      }
    }
    assertThat(cases).isEqualTo(shapes.length * 2 * 5);
  }

  @Test
  void packLinearPutsEachOutputInItsLane() {
    // W[o, i] = 100 * o + i, 2 inputs, LANES + 2 outputs: two blocks, the second with two outputs.
    int in = 2;
    int out = LANES + 2;
    float[] w = new float[out * in];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        w[o * in + i] = 100 * o + i;
      }
    }
    float[] p = HeadKernels.packLinear(w, out, in);
    assertThat(p.length).isEqualTo(2 * LANES * in);
    assertThat(p[0]).isEqualTo(0f);
    assertThat(p[1]).isEqualTo(100f);
    assertThat(p[LANES]).isEqualTo(1f);
    assertThat(p[LANES + 3]).isEqualTo(301f);
    assertThat(p[2 * LANES]).isEqualTo(100f * LANES);
    assertThat(p[2 * LANES + 1]).isEqualTo(100f * (LANES + 1));
    assertThat(p[2 * LANES + 2]).isEqualTo(0f);
    assertThat(p[3 * LANES + 1]).isEqualTo(100f * (LANES + 1) + 1);
    // The bias of those LANES + 2 outputs, padded with zeros to two blocks.
    float[] bias = new float[out];
    for (int o = 0; o < out; o++) {
      bias[o] = o + 1;
    }
    float[] pb = HeadKernels.packBias(bias, out);
    assertThat(pb.length).isEqualTo(2 * LANES);
    assertThat(pb[out - 1]).isEqualTo((float) out);
    for (int o = out; o < pb.length; o++) {
      assertThat(pb[o]).isEqualTo(0f);
    }
  }
}
