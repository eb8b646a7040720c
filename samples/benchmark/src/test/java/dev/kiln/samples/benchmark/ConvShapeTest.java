package dev.kiln.samples.benchmark;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.kiln.nn.ConvKernel;
import dev.kiln.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The suite ({@link ConvShape}) as the generated kernels describe it: the reference layer built from a
 * shape's geometry computes the kernel's output with the kernel's weights, MAC counts are what the formula
 * says, and {@link ConvShape#main} prints every shape for the Python scripts.
 */
class ConvShapeTest {
  @Test
  void referenceLayerOfEachShapeComputesTheKernel() {
    int checked = 0;
    for (ConvShape shape : ConvShape.values()) {
      ConvKernel kernel = shape.newKernel();
      assertWithMessage("%s weight", shape).that(kernel.weight().data().shape()).isEqualTo(shape.weightShape());
      assertWithMessage("%s MACs", shape).that(shape.macs()).isEqualTo(kernel.macsPerSample() * shape.batch());
      Tensor input = shape.randomInput(3);
      assertThat(input.shape()).isEqualTo(shape.inputShape());
      Tensor expected = shape.newReference(kernel).forward(input);
      Tensor actual = Tensor.zeros(shape.outputShape());
      kernel.forward(input, actual);
      assertWithMessage("%s reference output shape", shape).that(expected.shape()).isEqualTo(shape.outputShape());
      assertWithMessage("%s values", shape).that(expected.maxAbsDifference(actual)).isAtMost(1e-4);
      checked++;
    }
    assertThat(checked).isEqualTo(14);
  }

  @Test
  void macsCountEveryTapOfEveryOutput() {
    // 64 out channels * 56 * 56 positions * 64 in channels * 3 * 3 taps
    assertThat(ConvShape.C64_64_56.macs()).isEqualTo(64L * 56 * 56 * 64 * 9);
    assertThat(ConvShape.PW_512_14.macs()).isEqualTo(512L * 14 * 14 * 512);
    // stride 2 halves 224 to 112; depthwise has one input channel per output channel
    assertThat(ConvShape.STEM_3_48_224_S2.macs()).isEqualTo(48L * 112 * 112 * 3 * 9);
    assertThat(ConvShape.DW_32_56.macs()).isEqualTo(32L * 56 * 56 * 9);
    assertThat(ConvShape.C1_16_28_N32.macs()).isEqualTo(32L * 16 * 28 * 28 * 9);
    assertThat(ConvShape.STEM_3_48_224_S2.describe()).isEqualTo("3->48 224x224 k3 s2 p1 g1 N=1");
  }

  @Test
  void mainPrintsTheSuiteForThePythonScripts() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream saved = System.out;
    System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    try {
      ConvShape.main(new String[0]);
    } finally {
      System.setOut(saved);
    }
    String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
    assertThat(lines).hasLength(ConvShape.values().length);
    assertThat(lines[1]).isEqualTo("{\"name\": \"GROUPED\", \"batch\": 1, \"in\": 2, \"out\": 4, \"size\": 9, "
        + "\"kernel\": 3, \"stride\": 1, \"padding\": 1, \"groups\": 2}");
    assertThat(lines[10]).startsWith("{\"name\": \"C1_16_28_N32\", \"batch\": 32,");
  }
}
