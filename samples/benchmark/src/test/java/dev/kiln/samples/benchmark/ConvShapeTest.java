package dev.kiln.samples.benchmark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.nn.ConvKernel;
import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The suite table ({@link ConvShape}) describes the same layers as the {@code @Conv2d} annotations in
 * {@link Shapes}: shapes, MAC counts, and the reference layer built from the table computes the kernel's
 * output with the kernel's weights.
 */
class ConvShapeTest {
  @Test
  void tableMatchesGeneratedKernels() {
    int checked = 0;
    for (ConvShape shape : ConvShape.values()) {
      ConvKernel kernel = shape.newKernel();
      int[] in = shape.inputShape();
      int[] out = shape.outputShape();
      assertArrayEquals(new int[] {in[1], in[2], in[3]}, kernel.inputShape(), shape + " input");
      assertArrayEquals(new int[] {out[1], out[2], out[3]}, kernel.outputShape(), shape + " output");
      assertArrayEquals(shape.weightShape(), kernel.weight().data().shape(), shape + " weight");
      assertEquals(shape.macs(), kernel.macsPerSample() * shape.batch(), shape + " MACs");

      Tensor input = shape.randomInput(3);
      Tensor expected = shape.newReference(kernel).forward(input);
      Tensor actual = Tensor.zeros(out);
      kernel.forward(input, actual);
      assertArrayEquals(out, expected.shape(), shape + " reference output shape");
      assertEquals(0f, ConvWorkload.maxAbsDiff(expected.data(), actual.data()), 1e-4f, shape + " values");
      checked++;
    }
    assertEquals(13, checked);
  }

  @Test
  void macsOfTheIssueTwoLayer() {
    // 64 out channels * 56 * 56 positions * 64 in channels * 3 * 3 taps
    assertEquals(64L * 56 * 56 * 64 * 9, ConvShape.C64_64_56.macs());
    // stride 2 halves 224 to 112; depthwise has one input channel per output channel
    assertEquals(48L * 112 * 112 * 3 * 9, ConvShape.STEM_3_48_224_S2.macs());
    assertEquals(32L * 56 * 56 * 9, ConvShape.DW_32_56.macs());
    assertEquals(32L * 16 * 28 * 28 * 9, ConvShape.C1_16_28_N32.macs());
  }

  @Test
  void maxAbsDiff() {
    assertEquals(0.5f, ConvWorkload.maxAbsDiff(new float[] {1f, 2f}, new float[] {1f, 2.5f}));
    assertEquals(Float.POSITIVE_INFINITY, ConvWorkload.maxAbsDiff(new float[1], new float[2]));
    assertEquals(Float.NaN, ConvWorkload.maxAbsDiff(new float[] {Float.NaN}, new float[] {0f}));
  }
}
