package dev.kiln.simd;

import static com.google.common.truth.Truth.assertThat;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** The {@code kiln.simd} switch and the engine's name. */
class SimdSwitchTest {
  private static final ConvGeometry GEOMETRY =
      NaiveConvKernel.geometry(4, 8, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, PaddingMode.ZEROS);

  @Test
  void engineIsUsedByDefaultWithTheVectorModule() {
    String expected = "simd-direct-" + (System.getProperty("kiln.simd.bits", "").isEmpty()
        ? jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize()
        : Integer.parseInt(System.getProperty("kiln.simd.bits")));
    assertThat(new NaiveConvKernel(GEOMETRY, true, Activation.NONE, 1).engineName()).isEqualTo(expected);
  }

  @Test
  void propertyFalseKeepsTheScalarLoops() {
    String old = System.getProperty("kiln.simd");
    System.setProperty("kiln.simd", "false");
    NaiveConvKernel scalar;
    try {
      scalar = new NaiveConvKernel(GEOMETRY, true, Activation.RELU, 7);
    } finally {
      if (old == null) {
        System.clearProperty("kiln.simd");
      } else {
        System.setProperty("kiln.simd", old);
      }
    }
    assertThat(scalar.engineName()).isEqualTo("scalar");
    NaiveConvKernel simd = new NaiveConvKernel(GEOMETRY, true, Activation.RELU, 7);
    assertThat(simd.engineName()).startsWith("simd-direct-");
    Tensor x = Tensor.zeros(2, 4, 9, 9);
    for (int i = 0; i < x.size(); i++) {
      x.data()[i] = (float) Math.sin(i * 0.37);
    }
    double err = SimdConvDifferentialTest.relativeError(simd.forward(x).data(), scalar.forward(x).data());
    assertThat(err).isAtMost(1e-5);
  }
}
