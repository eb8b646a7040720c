package dev.kiln.samples.benchmark;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.OrtEnvironment;
import dev.kiln.nn.ConvKernel;
import dev.kiln.tensor.Tensor;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ONNX model built by {@link OnnxConvModel} computes the same convolution as the Kiln kernel it takes
 * its weights from: grouped, strided and depthwise shapes, both ways of calling ONNX Runtime. Skipped (not
 * failed) where ONNX Runtime's native library cannot be loaded.
 */
class OrtEquivalenceTest {
  private static final Set<ConvShape> SHAPES =
      EnumSet.of(ConvShape.GROUPED, ConvShape.STEM_3_48_224_S2, ConvShape.DW_32_56);
  private static final float TOLERANCE = 1e-4f;
  private static int compared;

  @BeforeAll
  static void loadNativeLibrary() {
    String failure = null;
    try {
      OrtEnvironment.getEnvironment();
    } catch (LinkageError | RuntimeException e) {
      failure = e.toString();
    }
    assumeTrue(failure == null, "ONNX Runtime native library did not load: " + failure);
  }

  @AfterAll
  static void checkCount() {
    if (compared > 0) {
      assertWithMessage("comparisons").that(compared).isEqualTo(2 * SHAPES.size());
    }
  }

  @Test
  void onnxRuntimeMatchesKiln() throws Exception {
    for (ConvShape shape : SHAPES) {
      ConvKernel kernel = shape.newKernel();
      Tensor input = shape.randomInput(11);
      float[] expected = kernel.forward(input).data();
      assertWithMessage(shape + ": expected output is all zero").that(nonTrivial(expected)).isTrue();
      try (OrtConv conv = OrtConv.open(shape, kernel, input, 1)) {
        float[] actual = new float[expected.length];
        conv.run(actual);
        assertWithMessage(shape + " run").that(actual).usingTolerance(TOLERANCE).containsExactly(expected).inOrder();
        compared++;

        conv.runPinned();
        float[] pinned = new float[expected.length];
        conv.pinnedOutput().get(pinned);
        assertWithMessage(shape + " runPinned").that(pinned)
            .usingTolerance(TOLERANCE).containsExactly(expected).inOrder();
        compared++;
      }
    }
    assertThat(compared).isEqualTo(2 * SHAPES.size());
  }

  private static boolean nonTrivial(float[] y) {
    for (float v : y) {
      if (v != 0f) {
        return true;
      }
    }
    return false;
  }
}
