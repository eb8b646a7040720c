package dev.kiln.nn;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.annotation.PaddingMode;
import org.junit.jupiter.api.Test;

/** The one convolution geometry: derived sizes, defaults, variants, equality and every rejection. */
class ConvGeometryTest {
  private static ConvGeometry.Builder base() {
    return ConvGeometry.builder().inChannels(4).outChannels(6).inputSize(9, 7).kernel(3, 2);
  }

  @Test
  void outputSizeIsDerivedAsPyTorchDoes() {
    ConvGeometry g = base().stride(2, 1).dilation(1, 3).padding(1, 2, 0, 3).groups(2).build();
    // floor((9 + 1 + 2 - 1 * 2 - 1) / 2) + 1 = 5; floor((7 + 0 + 3 - 3 * 1 - 1) / 1) + 1 = 7
    assertThat(g.outHeight()).isEqualTo(5);
    assertThat(g.outWidth()).isEqualTo(7);
    assertThat(g.inputShape()).isEqualTo(new int[] {4, 9, 7});
    assertThat(g.outputShape()).isEqualTo(new int[] {6, 5, 7});
    assertThat(g.weightShape()).isEqualTo(new int[] {6, 2, 3, 2});
    assertThat(g.fanIn()).isEqualTo(2 * 3 * 2);
    assertThat(g.weightElements()).isEqualTo(6L * 2 * 3 * 2);
    assertThat(g.macsPerSample()).isEqualTo(6L * 5 * 7 * 2 * 3 * 2);
  }

  /** The input row and column an output reads at a tap, padding and dilation included (negative in the padding). */
  @Test
  void inputRowAndColumnOfATap() {
    ConvGeometry g = base().stride(2, 1).dilation(1, 3).padding(1, 2, 0, 3).build();
    assertThat(g.inputRow(0, 0)).isEqualTo(-1);
    assertThat(g.inputRow(0, 2)).isEqualTo(1);
    assertThat(g.inputRow(3, 1)).isEqualTo(6);
    assertThat(g.inputRow(g.outHeight() - 1, 2)).isEqualTo(2 * (g.outHeight() - 1) + 1);
    assertThat(g.inputColumn(0, 0)).isEqualTo(0);
    assertThat(g.inputColumn(2, 1)).isEqualTo(5);
    assertThat(g.inputColumn(g.outWidth() - 1, 1)).isEqualTo(g.outWidth() + 2);
  }

  @Test
  void defaultsAreStrideOneNoPaddingOneGroupZeros() {
    ConvGeometry g = base().build();
    assertThat(new int[] {g.strideH(), g.strideW(), g.dilationH(), g.dilationW(), g.padTop(), g.padBottom(),
        g.padLeft(), g.padRight(), g.groups()}).isEqualTo(new int[] {1, 1, 1, 1, 0, 0, 0, 0, 1});
    assertThat(g.paddingMode()).isEqualTo(PaddingMode.ZEROS);
    assertThat(g.outHeight()).isEqualTo(7);
    assertThat(g.outWidth()).isEqualTo(6);
  }

  @Test
  void variantsComeFromToBuilder() {
    ConvGeometry dense = base().padding(1, 1, 1, 1).paddingMode(PaddingMode.REFLECT).build();
    assertThat(dense.toBuilder().build()).isEqualTo(dense);
    assertThat(dense.toBuilder().build().hashCode()).isEqualTo(dense.hashCode());
    ConvGeometry pointwise = dense.toBuilder().kernel(1, 1).padding(0, 0, 0, 0).build();
    assertThat(pointwise).isNotEqualTo(dense);
    assertThat(pointwise.inChannels()).isEqualTo(4);
    assertThat(pointwise.paddingMode()).isEqualTo(PaddingMode.REFLECT);
    assertThat(pointwise.outHeight()).isEqualTo(9);
    assertThat(dense.toString()).isEqualTo("ConvGeometry[4x9x7 -> 6x9x8, kernel 3x2, stride 1x1, dilation 1x1, "
        + "padding (top 1, bottom 1, left 1, right 1), groups 1, REFLECT]");
  }

  @Test
  void rejectsWhatPyTorchRejects() {
    String[] messages = {
        "in=0",
        "groups=4",
        "input size must be positive but was 0x7",
        "kernel, stride and dilation must be positive",
        "padding (-1, 0, 0, 0)",
        "paddingMode REFLECT needs padding smaller than the input in each dimension (as in PyTorch), but the "
            + "padding is 1 rows and 7 columns for an input of 9x7",
        "paddingMode CIRCULAR needs padding no larger than the input",
        "kernel 3x2 with dilation 5x1 does not fit the padded input 9x7",
    };
    ConvGeometry.Builder[] builders = {
        base().inChannels(0),
        base().groups(4),
        base().inputSize(0, 7),
        base().stride(0, 1),
        base().padding(-1, 0, 0, 0),
        base().padding(1, 0, 7, 0).paddingMode(PaddingMode.REFLECT),
        base().padding(0, 0, 8, 0).paddingMode(PaddingMode.CIRCULAR),
        base().dilation(5, 1),
    };
    assertThat(builders).hasLength(messages.length);
    for (int i = 0; i < messages.length; i++) {
      assertThat(assertThrows(IllegalArgumentException.class, builders[i]::build)).hasMessageThat()
          .contains(messages[i]);
    }
    // The limits themselves: reflect allows size - 1, circular allows size.
    assertThat(ConvGeometry.paddingModeLimit(PaddingMode.REFLECT, 8, 6, 9, 7)).isEmpty();
    assertThat(ConvGeometry.paddingModeLimit(PaddingMode.CIRCULAR, 9, 7, 9, 7)).isEmpty();
    assertThat(ConvGeometry.paddingModeLimit(PaddingMode.REPLICATE, 100, 100, 9, 7)).isEmpty();
    assertThat(ConvGeometry.paddingModeLimit(PaddingMode.ZEROS, 100, 100, 9, 7)).isEmpty();
    assertThat(base().padding(0, 0, 7, 0).paddingMode(PaddingMode.CIRCULAR).build().outWidth()).isEqualTo(13);
  }
}
