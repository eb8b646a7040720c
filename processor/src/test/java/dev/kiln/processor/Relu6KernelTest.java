package dev.kiln.processor;

import static com.google.common.truth.Truth.assertThat;
import static dev.kiln.testing.NumericAssertions.assertClose;

import com.google.common.collect.Range;
import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvKernel;
import dev.kiln.nn.ReferenceConv2d;
import dev.kiln.processor.testing.ConvCase;
import dev.kiln.processor.testing.InMemoryCompiler;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The generated scalar {@code RELU6} epilogue ({@code min(max(0, y), 6)}) and its gradient mask against the
 * reference convolution, on inputs large enough that outputs fall below 0 and above 6.
 */
class Relu6KernelTest {
  private static final String PKG = "test";
  private static final String OUTER = "Relu6Cases";

  @Test
  void generatedRelu6MatchesTheReference() {
    List<ConvCase> cases = List.of(
        new ConvCase("Plain", 3, 6, new int[] {3}, new int[] {1}, "1", new int[] {1}, 1, true, PaddingMode.ZEROS,
            Activation.RELU6, 7, 6, 2),
        new ConvCase("Depthwise", 4, 4, new int[] {3}, new int[] {2}, "1", new int[] {1}, 4, true,
            PaddingMode.ZEROS, Activation.RELU6, 9, 9, 2),
        new ConvCase("Pointwise", 5, 3, new int[] {1}, new int[] {1}, "0", new int[] {1}, 1, false,
            PaddingMode.ZEROS, Activation.RELU6, 4, 5, 3),
        // more output channels than twice the output pixels: output channels in the vector lanes
        new ConvCase("ChannelLanes", 3, 9, new int[] {3}, new int[] {2}, "1", new int[] {1}, 1, true,
            PaddingMode.ZEROS, Activation.RELU6, 4, 3, 2));
    ClassLoader loader = InMemoryCompiler.compileAndLoad(ConvCase.source(PKG, OUTER, cases));
    SplittableRandom r = new SplittableRandom(3);
    int compared = 0;
    int clampedHigh = 0;
    int clampedLow = 0;
    for (ConvCase c : cases) {
      ConvKernel kernel = c.kernel(loader, PKG, OUTER);
      assertThat(kernel.activation()).isEqualTo(Activation.RELU6);
      ReferenceConv2d ref = c.reference();
      ref.loadStateDict(kernel.stateDict());
      Tensor x = TestTensors.uniform(r, 16, c.inputShape());
      Tensor gy = TestTensors.uniform(r, 1, c.batch(), c.outChannels(), c.outHeight(), c.outWidth());
      Tensor y = kernel.forward(x);
      assertClose(c.label() + " output", ref.forward(x), y);
      for (float v : y.data()) {
        clampedHigh += v == 6f ? 1 : 0;
        clampedLow += v == 0f ? 1 : 0;
        assertThat(v).isIn(Range.closed(0f, 6f));
      }
      assertClose(c.label() + " grad input", ref.backward(gy), kernel.backward(gy));
      assertClose(c.label() + " grad weight", ref.weight().grad(), kernel.weight().grad());
      compared++;
    }
    assertThat(compared).isEqualTo(4);
    assertThat(clampedHigh).isGreaterThan(10);
    assertThat(clampedLow).isGreaterThan(10);
  }
}
