package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.nn.ReferenceConv2d;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@code Activation.RELU6} on the vectorized engine: the kernels' ReLU floor then the clamp at 6, and the
 * gradient mask {@code 0 < y < 6}, against the reference convolution on inputs that cross both clamps.
 */
class Relu6EngineTest {
  @Test
  void clampAboveKeepsNaNAndCoversTheTail() {
    float[] y = new float[VectorShape.LANES * 2 + 3];
    for (int i = 0; i < y.length; i++) {
      y[i] = i - 4f;
    }
    y[1] = Float.NaN;
    y[y.length - 1] = Float.POSITIVE_INFINITY;
    SimdConvEngine.clampAbove(y, 1, y.length, 6f);
    assertThat(y[0]).isEqualTo(-4f);
    assertThat(y[1]).isNaN();
    for (int i = 2; i < y.length - 1; i++) {
      assertWithMessage("element " + i).that(y[i]).isEqualTo(Math.min(i - 4f, 6f));
    }
    assertThat(y[y.length - 1]).isEqualTo(6f);
  }

  @Test
  void relu6KernelsMatchTheReference() {
    SplittableRandom r = new SplittableRandom(5);
    int[][] shapes = { // in, out, size, kernel, stride, pad, groups
        {3, 16, 12, 3, 1, 1, 1}, {8, 8, 14, 3, 2, 1, 8}, {16, 24, 7, 1, 1, 0, 1}, {4, 8, 20, 3, 1, 1, 2}};
    int compared = 0;
    int high = 0;
    int low = 0;
    for (int[] s : shapes) {
      ConvGeometry g = NaiveConvKernel.geometry(s[0], s[1], s[2], s[2], s[3], s[3], s[4], s[4], 1, 1, s[5], s[5],
          s[5], s[5], s[6], PaddingMode.ZEROS);
      NaiveConvKernel kernel = new NaiveConvKernel(g, true, Activation.RELU6, 11);
      assertThat(kernel.engineName()).startsWith("simd-direct-");
      ReferenceConv2d ref = ReferenceConv2d.builder(g).activation(Activation.RELU6).build();
      ref.loadStateDict(kernel.stateDict());
      Tensor x = TestTensors.uniform(r, 8, 2, s[0], s[2], s[2]);
      Tensor gy = TestTensors.uniform(r, 1, 2, s[1], g.outHeight(), g.outWidth());
      Tensor y = kernel.forward(x);
      float[] expected = ref.forward(x).data();
      for (int i = 0; i < expected.length; i++) {
        assertWithMessage("output " + i + " of " + g).that((double) y.data()[i]).isWithin(1e-4).of(expected[i]);
        high += y.data()[i] == 6f ? 1 : 0;
        low += y.data()[i] == 0f ? 1 : 0;
      }
      assertThat(SimdConvDifferentialTest.relativeError(kernel.backward(gy).data(), ref.backward(gy).data()))
          .isAtMost(1e-4);
      assertThat(SimdConvDifferentialTest.relativeError(kernel.weight().grad().data(), ref.weight().grad().data()))
          .isAtMost(1e-4);
      compared++;
    }
    assertThat(compared).isEqualTo(4);
    assertThat(high).isGreaterThan(50);
    assertThat(low).isGreaterThan(50);
  }
}
