package dev.kiln.processor;

import static com.google.common.truth.Truth.assertThat;

import com.google.testing.compile.Compilation;
import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.processor.testing.ClassFileMethods;
import dev.kiln.processor.testing.ConvCase;
import dev.kiln.processor.testing.InMemoryCompiler;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Large real-world shapes must not produce methods HotSpot refuses to compile: every method of every
 * generated kernel stays below {@code -XX:HugeMethodLimit} (8000 bytes of bytecode). The class files are
 * read with a small class-file parser; the number of methods per kernel is predicted from the shape.
 */
class MethodSizeTest {
  private static final int HUGE_METHOD_LIMIT = 8000;
  private static final int MAX_UNROLL = 64;

  private static ConvCase conv(String name, int in, int out, int[] k, int[] s, String padding, int[] d, int groups,
      PaddingMode mode, int h, int w) {
    return new ConvCase(name, in, out, k, s, padding, d, groups, true, mode, Activation.RELU, h, w, 1);
  }

  private static int[] v(int... values) {
    return values;
  }

  static List<ConvCase> shapes() {
    List<ConvCase> c = new ArrayList<>();
    c.add(conv("Wide7x7", 512, 512, v(7), v(1), "3", v(1), 1, PaddingMode.ZEROS, 224, 224));
    c.add(conv("Pointwise1024", 1024, 1024, v(1), v(1), "0", v(1), 1, PaddingMode.ZEROS, 14, 14));
    c.add(conv("AlexNet11x11", 3, 64, v(11), v(4), "2", v(1), 1, PaddingMode.ZEROS, 224, 224));
    c.add(conv("Depthwise512", 512, 512, v(7), v(1), "3", v(1), 512, PaddingMode.ZEROS, 14, 14));
    c.add(conv("Large31x31", 64, 64, v(31), v(1), "15", v(1), 64, PaddingMode.ZEROS, 56, 56));
    c.add(conv("Large31x31Reflect", 16, 16, v(31), v(1), "same", v(1), 1, PaddingMode.REFLECT, 32, 32));
    c.add(conv("Reflect3x3", 64, 64, v(3), v(1), "1", v(1), 1, PaddingMode.REFLECT, 224, 224));
    c.add(conv("Reflect7x7", 3, 64, v(7), v(2), "3", v(1), 1, PaddingMode.REFLECT, 224, 224));
    c.add(conv("Replicate5x5", 32, 32, v(5), v(1), "same", v(1), 1, PaddingMode.REPLICATE, 112, 112));
    c.add(conv("Circular9x9", 8, 8, v(9), v(1), "4", v(1), 1, PaddingMode.CIRCULAR, 64, 64));
    c.add(conv("Dilated3x3", 256, 256, v(3), v(1), "same", v(16), 1, PaddingMode.ZEROS, 64, 64));
    c.add(conv("EvenSame8x8", 32, 32, v(8), v(1), "same", v(1), 1, PaddingMode.ZEROS, 56, 56));
    c.add(conv("Rect1x7", 128, 128, v(1, 7), v(1), "0,3", v(1), 1, PaddingMode.ZEROS, 17, 17));
    c.add(conv("Stem3x3s2", 3, 32, v(3), v(2), "1", v(1), 1, PaddingMode.ZEROS, 299, 299));
    c.add(conv("Huge63x63", 4, 4, v(63), v(1), "31", v(1), 4, PaddingMode.ZEROS, 64, 64));
    return c;
  }

  /** Whether output index {@code o} along one axis reads only inside the input (brute force over the taps). */
  private static boolean inside(int o, int stride, int pad, int kernel, int dilation, int size) {
    for (int k = 0; k < kernel; k++) {
      int i = o * stride - pad + k * dilation;
      if (i < 0 || i >= size) {
        return false;
      }
    }
    return true;
  }

  /**
   * The methods a kernel for {@code c} should have: 2 constructors, the forward, the backward, and the
   * helpers each form needs. The forward has output channels in the vector lanes (6 methods + its loops: the
   * forward over channels and over pixels, {@code splitUnits}, their shared body, accumulate, writeLanes)
   * when there are at least twice as many output channels as output pixels and no groups, else output
   * pixels (5 + its loops, + zeroRow with zero rows of padding), both for windows of at most 80 taps; else
   * the unrolled scalar form (1 + 1 per 64-tap block of the interior + 2 for a border). A loop adds at most 5
   * products, several input channels' when a window has at most 2 taps. The backward goes
   * over patches (9 methods) when a patch ({@code in/groups * kH * kW}) has at least 16 values, else the
   * unrolled scalar form (2 + 2 per interior block + 4 for a border). Padded planes (channel lanes or
   * patches) add pad; a non-zero padding mode adds mapIndex.
   */
  private static int expectedMethods(ConvCase c) {
    int[] pad = c.resolvedPadding();
    boolean anyInteriorRow = false;
    boolean anyBorderRow = false;
    for (int o = 0; o < c.outHeight(); o++) {
      boolean in = inside(o, c.stride()[0], pad[0], c.kernelH(), c.dilation()[0], c.height());
      anyInteriorRow |= in;
      anyBorderRow |= !in;
    }
    boolean anyInteriorCol = false;
    boolean anyBorderCol = false;
    int sw = c.stride()[c.stride().length - 1];
    int dw = c.dilation()[c.dilation().length - 1];
    for (int o = 0; o < c.outWidth(); o++) {
      boolean in = inside(o, sw, pad[2], c.kernelW(), dw, c.width());
      anyInteriorCol |= in;
      anyBorderCol |= !in;
    }
    boolean interior = anyInteriorRow && anyInteriorCol;
    boolean border = anyBorderRow || anyBorderCol || !interior;
    int area = c.kernelH() * c.kernelW();
    int blocks = (area + MAX_UNROLL - 1) / MAX_UNROLL;
    int perGroup = c.inChannels() / c.groups();
    boolean vectorForward = area <= 80;
    boolean channelLanes = vectorForward && c.groups() == 1 && c.outChannels() >= 2 * c.outHeight() * c.outWidth();
    boolean pixelLanes = vectorForward && !channelLanes;
    boolean patches = perGroup * area >= 16;
    int loops;
    if (area * 2 > 5) {
      loops = (area + 4) / 5;
    } else {
      int per = Math.min(perGroup, 5 / area);
      loops = perGroup % per == 0 ? 1 : 2;
    }
    int methods = 2;
    if (channelLanes) {
      methods += 6 + loops;
    } else if (pixelLanes) {
      boolean zeroRows = c.paddingMode() == PaddingMode.ZEROS && pad[0] + pad[1] > 0;
      methods += 5 + loops + (zeroRows ? 1 : 0);
    } else {
      methods += 1 + (interior ? blocks : 0) + (border ? 2 : 0);
    }
    methods += patches ? 9 : 2 + (interior ? 2 * blocks : 0) + (border ? 4 : 0);
    boolean padded = channelLanes || patches;
    methods += padded ? 1 : 0;
    boolean anyPadding = pad[0] + pad[1] + pad[2] + pad[3] > 0;
    methods += (pixelLanes || padded) && c.paddingMode() != PaddingMode.ZEROS && anyPadding ? 1 : 0;
    return methods;
  }

  @Test
  void everyGeneratedMethodStaysBelowTheHugeMethodLimit() {
    List<ConvCase> shapes = shapes();
    Compilation compilation = ConvCase.compile("dev.kiln.big", "Big", shapes);
    Map<String, ClassFileMethods> kernels = new HashMap<>();
    for (byte[] bytes : InMemoryCompiler.classFiles(compilation).values()) {
      ClassFileMethods file = ClassFileMethods.parse(bytes);
      if (file.className().endsWith("Kernel")) {
        kernels.put(file.className(), file);
      }
    }
    assertThat(kernels).hasSize(shapes.size());
    int checked = 0;
    int expectedTotal = 0;
    int largest = 0;
    for (ConvCase c : shapes) {
      ClassFileMethods file = kernels.get("dev/kiln/big/Big_" + c.name() + "Kernel");
      assertThat(file).isNotNull();
      assertThat(file.methods()).hasSize(expectedMethods(c));
      expectedTotal += expectedMethods(c);
      for (ClassFileMethods.Method m : file.methods()) {
        assertThat(m.codeLength()).isGreaterThan(0);
        if (m.codeLength() >= HUGE_METHOD_LIMIT) {
          throw new AssertionError(c.name() + "." + m.name() + m.descriptor() + " has " + m.codeLength()
              + " bytes of bytecode (HotSpot does not JIT-compile methods of " + HUGE_METHOD_LIMIT + " or more)");
        }
        largest = Math.max(largest, m.codeLength());
        checked++;
      }
    }
    assertThat(checked).isEqualTo(expectedTotal);
    // 15 kernels; 3 windows of more than 80 taps keep the unrolled forward (106 blocks of at most 64 taps).
    assertThat(checked).isEqualTo(413);
    assertThat(largest).isGreaterThan(1000); // the unrolled interiors of the large windows are really there
  }

  @Test
  void parserReadsThisTestClass() throws Exception {
    byte[] bytes;
    try (var in = MethodSizeTest.class.getResourceAsStream("MethodSizeTest.class")) {
      bytes = in.readAllBytes();
    }
    ClassFileMethods file = ClassFileMethods.parse(bytes);
    assertThat(file.className()).isEqualTo("dev/kiln/processor/MethodSizeTest");
    List<String> names = new ArrayList<>();
    file.methods().forEach(m -> names.add(m.name()));
    assertThat(names).containsAtLeast("<init>", "shapes", "expectedMethods", "parserReadsThisTestClass");
  }
}
