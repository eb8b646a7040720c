package dev.kiln.processor;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.kiln.processor.testing.CaseCounts.count;
import static dev.kiln.testing.NumericAssertions.assertClose;

import com.google.testing.compile.Compilation;
import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvKernel;
import dev.kiln.nn.ReferenceConv2d;
import dev.kiln.processor.testing.ConvCase;
import dev.kiln.processor.testing.InMemoryCompiler;
import dev.kiln.runtime.Parallel;
import dev.kiln.tensor.Tensor;
import dev.kiln.testing.TestTensors;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Differential test in the spirit of EJML's {@code CompareFixed}: hundreds of seeded random valid
 * {@code @Conv2d} configurations are compiled (once) into kernels, and each kernel is compared with
 * {@link ReferenceConv2d} holding the same weights, forward and backward (input, weight and bias
 * gradients). Some larger cases run on two threads. The counts are asserted.
 */
class ConvDifferentialTest {
  private static final String PKG = "dev.kiln.diff";
  private static final String OUTER = "RandomCases";
  private static final int RANDOM_CASES = 320;
  /** {@link #formCases()}: 4 padding modes x 11 shapes. */
  private static final int FORM_CASES = 69;
  private static final int SMALL_CASES = RANDOM_CASES + FORM_CASES;
  private static final int PARALLEL_CASES = 24;
  /** ConvKernel stays on the calling thread below this many multiply-adds per call. */
  private static final long PARALLEL_THRESHOLD = 1L << 17;

  private static List<ConvCase> small;
  private static List<ConvCase> large;
  private static ClassLoader loader;

  @BeforeAll
  static void compileAll() {
    SplittableRandom random = new SplittableRandom(20240611L);
    small = new ArrayList<>();
    while (small.size() < RANDOM_CASES) {
      small.add(randomCase(random, "S" + small.size(), false));
    }
    small.addAll(formCases());
    large = new ArrayList<>();
    while (large.size() < PARALLEL_CASES) {
      large.add(randomCase(random, "L" + large.size(), true));
    }
    List<ConvCase> all = new ArrayList<>(small);
    all.addAll(large);
    Compilation compilation = ConvCase.compile(PKG, OUTER, all);
    loader = InMemoryCompiler.loader(compilation);
  }

  private static int[] oneOrTwo(SplittableRandom r, int lo, int hi) {
    int a = r.nextInt(lo, hi + 1);
    return r.nextInt(3) == 0 ? new int[] {a, r.nextInt(lo, hi + 1)} : new int[] {a};
  }

  /**
   * Shapes the random cases rarely or never give, in every padding mode: output channels in the vector lanes
   * (more output channels than twice the output pixels: a 3x3 stride-2 window, a dilated one, 1x1 windows of
   * 4 and 5 + 1 input channels per loop), a 9x9 window (81 taps, the unrolled forward), and the channel-blocked
   * pixel lanes (input channels staged a block at a time: a 3x3 window over 24 channels in blocks of 7, 7, 7
   * and 3; a stride-2 window over several bands of rows; 1x1 windows over 28 channels in blocks of 10, 10 and
   * 5 + 3), and the pixel lanes staged per tap (rows 14 wide, many output channels: stride 1, stride 2 and
   * dilation 2), and the pixel lanes in several bands of rows staging shifted copies of one padded plane (3x3
   * windows at stride 1: depthwise, groups of 2 input and 3 output channels with dilation 2, and one group).
   */
  static List<ConvCase> formCases() {
    List<ConvCase> cases = new ArrayList<>();
    for (PaddingMode mode : PaddingMode.values()) {
      String m = mode.name().charAt(0) + mode.name().substring(1).toLowerCase(java.util.Locale.ROOT);
      cases.add(new ConvCase("Lanes3x3" + m, 3, 9, new int[] {3}, new int[] {2}, "1", new int[] {1}, 1, true, mode,
          Activation.RELU, 4, 3, 2));
      cases.add(new ConvCase("LanesDilated" + m, 2, 12, new int[] {3, 2}, new int[] {1, 2}, "1", new int[] {2, 1}, 1,
          false, mode, Activation.NONE, 3, 3, 1));
      cases.add(new ConvCase("Lanes1x1" + m, 4, 9, new int[] {1}, new int[] {1}, "0", new int[] {1}, 1, true, mode,
          Activation.NONE, 2, 2, 2));
      cases.add(new ConvCase("Lanes1x1Tail" + m, 6, 11, new int[] {1}, new int[] {2}, "0", new int[] {1}, 1, true, mode,
          Activation.RELU, 4, 3, 1));
      cases.add(new ConvCase("Window9x9" + m, 2, 3, new int[] {9}, new int[] {1}, "4", new int[] {1}, 1, true, mode,
          Activation.RELU, 10, 9, 2));
      cases.add(new ConvCase("Blocked3x3" + m, 24, 6, new int[] {3}, new int[] {1}, "1", new int[] {1}, 1, true, mode,
          Activation.RELU, 14, 14, 1));
      cases.add(new ConvCase("BlockedBands" + m, 5, 3, new int[] {3}, new int[] {2}, "1", new int[] {1}, 1, false,
          mode, Activation.NONE, 80, 70, 1));
      cases.add(new ConvCase("Blocked1x1" + m, 28, 4, new int[] {1}, new int[] {1}, "0", new int[] {1}, 1, true, mode,
          Activation.NONE, 20, 20, 2));
      cases.add(new ConvCase("GroupBands" + m, 4, 4, new int[] {3}, new int[] {1}, "1", new int[] {1}, 4, true, mode,
          Activation.RELU, 40, 62, 1));
      cases.add(new ConvCase("GroupBandsSeveral" + m, 4, 6, new int[] {3}, new int[] {1}, "2", new int[] {2}, 2, true,
          mode, Activation.NONE, 30, 44, 2));
      cases.add(new ConvCase("LanesSplit" + m, 32, 160, new int[] {3}, new int[] {1}, "1", new int[] {1}, 1, true, mode,
          Activation.RELU, 7, 9, 1));
      cases.add(new ConvCase("LanesSplit1x1" + m, 64, 144, new int[] {1}, new int[] {1}, "0", new int[] {1}, 1, false,
          mode, Activation.NONE, 6, 10, 1));
      cases.add(new ConvCase("GroupSplit" + m, 3, 6, new int[] {3}, new int[] {1}, "1", new int[] {1}, 3, true, mode,
          Activation.NONE, 48, 62, 1));
      cases.add(new ConvCase("ShiftedBands" + m, 6, 3, new int[] {3}, new int[] {1}, "1", new int[] {1}, 1, true, mode,
          Activation.NONE, 60, 30, 1));
      cases.add(new ConvCase("PerTap3x3" + m, 8, 96, new int[] {3}, new int[] {1}, "1", new int[] {1}, 1, true, mode,
          Activation.RELU, 14, 14, 1));
      cases.add(new ConvCase("PerTapStrided" + m, 8, 64, new int[] {3}, new int[] {2}, "1", new int[] {1}, 1, false,
          mode, Activation.NONE, 28, 28, 1));
      cases.add(new ConvCase("PerTapDilated" + m, 6, 96, new int[] {3}, new int[] {1}, "2", new int[] {2}, 1, true,
          mode, Activation.NONE, 14, 14, 2));
    }
    for (ConvCase c : cases) {
      assertWithMessage("%s is valid", c).that(c.isValid()).isTrue();
    }
    // Winograd's form on the scalar path (zero padding only), 9 tiles under 64 output channels: split by tiles.
    cases.add(new ConvCase("WinogradSplit", 32, 64, new int[] {3}, new int[] {1}, "1", new int[] {1}, 1, true,
        PaddingMode.ZEROS, Activation.RELU, 6, 6, 1));
    return cases;
  }

  /** A random configuration that PyTorch accepts; {@code large} ones are big enough to run in parallel. */
  static ConvCase randomCase(SplittableRandom r, String name, boolean large) {
    while (true) {
      int groups;
      int in;
      int out;
      switch (r.nextInt(5)) {
        case 0 -> { // depthwise
          groups = r.nextInt(1, large ? 9 : 5);
          in = groups;
          out = groups;
        }
        case 1 -> { // channel multiplier
          groups = r.nextInt(1, large ? 7 : 4);
          in = groups;
          out = groups * r.nextInt(2, 4);
        }
        case 2 -> {
          groups = r.nextInt(2, 4);
          in = groups * r.nextInt(1, 3);
          out = groups * r.nextInt(1, 3);
        }
        default -> {
          groups = 1;
          in = r.nextInt(1, large ? 9 : 5);
          out = r.nextInt(1, large ? 9 : 5);
        }
      }
      int[] kernel = r.nextInt(12) == 0 ? new int[] {7} : oneOrTwo(r, 1, 5);
      int[] stride = r.nextInt(2) == 0 ? new int[] {1} : oneOrTwo(r, 1, 3);
      int[] dilation = r.nextInt(2) == 0 ? new int[] {1} : oneOrTwo(r, 1, 3);
      String padding = switch (r.nextInt(6)) {
        case 0 -> "valid";
        case 1, 2 -> "same";
        case 3 -> Integer.toString(r.nextInt(0, 4));
        case 4 -> r.nextInt(0, 4) + "," + r.nextInt(0, 4);
        default -> " " + r.nextInt(0, 4) + " , " + r.nextInt(0, 4) + " ";
      };
      if (padding.equals("same") && r.nextInt(3) != 0) {
        stride = new int[] {1}; // mostly keep 'same' valid
      }
      PaddingMode mode = PaddingMode.values()[r.nextInt(4)];
      Activation act = r.nextBoolean() ? Activation.NONE : Activation.RELU;
      int h = large ? r.nextInt(10, 19) : r.nextInt(1, 13);
      int w = large ? r.nextInt(10, 19) : r.nextInt(1, 13);
      int batch = r.nextInt(1, 4);
      ConvCase c = new ConvCase(name, in, out, kernel, stride, padding, dilation, groups, r.nextBoolean(), mode,
          act, h, w, batch);
      if (!c.isValid()) {
        continue;
      }
      long macs = (long) out * c.outHeight() * c.outWidth() * (in / groups) * c.kernelH() * c.kernelW();
      if (large && macs * batch < PARALLEL_THRESHOLD) {
        continue;
      }
      return c;
    }
  }

  private static Tensor random(SplittableRandom r, int... shape) {
    return TestTensors.uniform(r, 1, shape);
  }

  /** Kernel vs reference, forward and backward; returns the kernel's training-mode output. */
  private static Tensor compare(ConvCase c, ConvKernel kernel, Tensor x, Tensor gy) {
    ReferenceConv2d ref = c.reference();
    ref.loadStateDict(kernel.stateDict());
    kernel.train(true);
    kernel.zeroGrad();
    Tensor y = kernel.forward(x);
    assertClose(c.label() + " output", ref.forward(x), y);
    Tensor gx = kernel.backward(gy);
    assertClose(c.label() + " grad input", ref.backward(gy), gx);
    assertClose(c.label() + " grad weight", ref.weight().grad(), kernel.weight().grad());
    if (c.bias()) {
      assertClose(c.label() + " grad bias", ref.bias().grad(), kernel.bias().grad());
    } else {
      assertThat(kernel.bias()).isNull();
      assertThat(kernel.stateDict().keySet()).containsExactly("weight");
    }
    return y;
  }

  @Test
  void everyKernelMatchesTheReference() {
    SplittableRandom r = new SplittableRandom(7);
    int compared = 0;
    int allocationFree = 0;
    for (ConvCase c : small) {
      ConvKernel kernel = c.kernel(loader, PKG, OUTER);
      Tensor x = random(r, c.inputShape());
      Tensor gy = random(r, c.batch(), c.outChannels(), c.outHeight(), c.outWidth());
      Tensor y = compare(c, kernel, x, gy);
      compared++;
      // The allocation-free per-sample entry point gives bit-identical results.
      kernel.eval();
      int inSize = c.inChannels() * c.height() * c.width();
      int outSize = c.outChannels() * c.outHeight() * c.outWidth();
      float[] y2 = new float[y.size()];
      java.util.Arrays.fill(y2, Float.NaN);
      for (int i = 0; i < c.batch(); i++) {
        kernel.forward(x.data(), i * inSize, y2, i * outSize);
      }
      assertThat(y2).usingExactEquality().containsExactly(y.data()).inOrder();
      Tensor y3 = Tensor.zeros(y.shape()).fill(Float.NaN);
      kernel.forward(x, y3);
      assertThat(y3.data()).usingExactEquality().containsExactly(y.data()).inOrder();
      allocationFree++;
    }
    assertThat(compared).isEqualTo(SMALL_CASES);
    assertThat(allocationFree).isEqualTo(SMALL_CASES);
  }

  @Test
  void kernelsMatchTheReferenceOnTwoThreads() {
    int before = Parallel.threads();
    SplittableRandom r = new SplittableRandom(11);
    int compared = 0;
    int channelSplit = 0;
    try {
      for (ConvCase c : large) {
        ConvKernel kernel = c.kernel(loader, PKG, OUTER);
        Tensor x = random(r, c.inputShape());
        Tensor gy = random(r, c.batch(), c.outChannels(), c.outHeight(), c.outWidth());
        Parallel.setThreads(1);
        kernel.eval();
        Tensor serial = kernel.forward(x);
        Parallel.setThreads(2);
        Tensor y = compare(c, kernel, x, gy);
        // Splitting over samples or output channels does not change any sum: identical bits.
        assertThat(y.data()).usingExactEquality().containsExactly(serial.data()).inOrder();
        if (c.batch() == 1) {
          channelSplit++;
        }
        compared++;
      }
    } finally {
      Parallel.setThreads(before);
    }
    assertThat(compared).isEqualTo(PARALLEL_CASES);
    assertThat(channelSplit).isAtLeast(1);
    assertThat(compared - channelSplit).isAtLeast(1);
  }

  @Test
  void allocationFreeEntryPointChecksItsBounds() {
    ConvCase c = small.get(0);
    ConvKernel kernel = c.kernel(loader, PKG, OUTER);
    int inSize = c.inChannels() * c.height() * c.width();
    int outSize = c.outChannels() * c.outHeight() * c.outWidth();
    float[] x = new float[inSize + 1];
    float[] y = new float[outSize];
    kernel.forward(x, 1, y, 0);
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> kernel.forward(x, 2, y, 0));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> kernel.forward(x, -1, y, 0));
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> kernel.forward(x, 0, y, 1));
    assertThat(e).hasMessageThat().contains("output: expected " + outSize + " values");
  }

  @Test
  void configurationsCoverEveryAttribute() {
    int[] batches = new int[4];
    for (ConvCase c : small) {
      batches[c.batch()]++;
    }
    assertThat(count(small, c -> c.padding().equals("same") && (c.kernelH() % 2 == 0 || c.kernelW() % 2 == 0)))
        .isAtLeast(10);
    assertThat(count(small, ConvDifferentialTest::reflectsAtItsLimit)).isAtLeast(5);
    assertThat(count(small, ConvDifferentialTest::wrapsAtItsLimit)).isAtLeast(5);
    assertThat(count(small, c -> c.dilation()[0] > 1 || c.dilation()[c.dilation().length - 1] > 1)).isAtLeast(50);
    assertThat(count(small, c -> c.stride()[0] > 1 || c.stride()[c.stride().length - 1] > 1)).isAtLeast(50);
    assertThat(count(small, c -> c.groups() > 1)).isAtLeast(50);
    assertThat(batches[1] > 0 && batches[2] > 0 && batches[3] > 0).isTrue();
  }

  /** {@code REFLECT} padding as large as it may be: one less than the input along an axis. */
  private static boolean reflectsAtItsLimit(ConvCase c) {
    int[] pad = c.resolvedPadding();
    return c.paddingMode() == PaddingMode.REFLECT
        && (Math.max(pad[0], pad[1]) == c.height() - 1 || Math.max(pad[2], pad[3]) == c.width() - 1);
  }

  /** {@code CIRCULAR} padding as large as it may be: the input's size along an axis. */
  private static boolean wrapsAtItsLimit(ConvCase c) {
    int[] pad = c.resolvedPadding();
    return c.paddingMode() == PaddingMode.CIRCULAR
        && (Math.max(pad[0], pad[1]) == c.height() || Math.max(pad[2], pad[3]) == c.width());
  }

  /** Whether the kernel class generated for {@code c} declares the field {@code name}. */
  private static boolean declares(ConvCase c, String name) {
    return java.util.Arrays.stream(c.kernel(loader, PKG, OUTER).getClass().getDeclaredFields())
        .anyMatch(f -> f.getName().equals(name));
  }

  /**
   * Whether {@code c}'s pixel-lanes forward stages the planes of the kernel columns from {@code STRIDE_W} on as shifted
   * copies of the first ones (stride or dilation 1, a wider kernel than the stride, rows pitched wide enough).
   */
  private static boolean shiftedCopies(ConvCase c) {
    int sw = c.stride()[c.stride().length - 1];
    int dw = c.dilation()[c.dilation().length - 1];
    return (sw == 1 || dw == 1) && c.kernelW() > sw
        && constant(c, "PITCH") >= c.outWidth() + (c.kernelW() - 1) * dw / sw;
  }

  /**
   * The pixel-lanes forward's two ways of staging are both compared above, each in every padding mode: rows copied
   * into every plane (rows staged per tap, narrow pitches, dilated strides) and the planes of the kernel columns from
   * {@code STRIDE_W} on as shifted copies of the first ones (at stride 1 and strided, also dilated, with groups, in
   * several bands); and the layers with groups, which stage one
   * group at a time, have groups of one and of several input and output channels, in one band and in several.
   */
  @Test
  void casesCoverBothWaysOfStaging() {
    java.util.Map<String, Integer> forms = new java.util.TreeMap<>();
    for (ConvCase c : small) {
      if (!declares(c, "PITCH")) {
        continue;
      }
      String form = shiftedCopies(c) ? "shifted" : "rows";
      forms.merge(form, 1, Integer::sum);
      forms.merge(form + " " + c.paddingMode(), 1, Integer::sum);
      if (form.equals("shifted")) {
        boolean strided = c.stride()[c.stride().length - 1] > 1;
        forms.merge((strided ? "shifted strided " : "shifted stride 1 ") + c.paddingMode(), 1, Integer::sum);
        if (c.dilation()[c.dilation().length - 1] > 1) {
          forms.merge("shifted dilated", 1, Integer::sum);
        }
        if (c.groups() > 1) {
          forms.merge("shifted groups", 1, Integer::sum);
        }
        if (constant(c, "BAND_ROWS") < c.outHeight()) {
          forms.merge("shifted bands", 1, Integer::sum);
        }
      }
      if (c.groups() > 1) {
        boolean single = c.inChannels() == c.groups() && c.outChannels() == c.groups();
        forms.merge(single ? "groups of one" : "groups of several", 1, Integer::sum);
        if (constant(c, "BAND_ROWS") < c.outHeight()) {
          forms.merge("groups in bands", 1, Integer::sum);
        }
      }
    }
    for (String form : List.of("shifted", "rows")) {
      assertWithMessage("%s in %s", form, forms).that(forms.getOrDefault(form, 0)).isAtLeast(15);
      for (PaddingMode mode : PaddingMode.values()) {
        assertWithMessage("%s %s in %s", form, mode, forms).that(forms.getOrDefault(form + " " + mode, 0))
            .isAtLeast(2);
      }
    }
    for (PaddingMode mode : PaddingMode.values()) {
      for (String form : List.of("shifted stride 1 ", "shifted strided ")) {
        assertWithMessage("%s%s in %s", form, mode, forms).that(forms.getOrDefault(form + mode, 0)).isAtLeast(3);
      }
    }
    for (String form : List.of("shifted dilated", "shifted groups", "shifted bands", "groups of one",
        "groups of several", "groups in bands")) {
      assertWithMessage("%s in %s", form, forms).that(forms.getOrDefault(form, 0)).isAtLeast(1);
    }
  }

  /**
   * The forward with output channels in the vector lanes splits a sample over threads by output pixels
   * ({@code splitUnits}, {@code forwardUnits}; 63 and 60 pixels over two threads): a 3x3 window over padded
   * planes and a 1x1 window, close to the reference on one thread and bitwise the same on two, in every padding
   * mode.
   */
  @Test
  void channelLanesSplitByPixelsOverThreads() throws Exception {
    List<ConvCase> split = small.stream().filter(c -> c.name().startsWith("LanesSplit")).toList();
    assertThat(split).hasSize(2 * PaddingMode.values().length);
    int before = Parallel.threads();
    SplittableRandom r = new SplittableRandom(29);
    try {
      for (ConvCase c : split) {
        assertWithMessage("%s channel lanes", c).that(declares(c, "lanes")).isTrue();
        java.lang.reflect.Method splits = ConvKernel.class.getDeclaredMethod("splitUnits");
        splits.setAccessible(true);
        assertWithMessage("%s splits by pixels", c).that(splits.invoke(c.kernel(loader, PKG, OUTER)))
            .isEqualTo(c.outHeight() * c.outWidth());
        long macs = (long) c.outChannels() * c.outHeight() * c.outWidth() * c.inChannels() * c.kernelH()
            * c.kernelW();
        assertWithMessage("%s multiply-adds", c).that(macs).isAtLeast(Parallel.MIN_MACS);
        forwardOnOneAndTwoThreads(c, r);
      }
    } finally {
      Parallel.setThreads(before);
    }
  }

  /**
   * A layer in Winograd's form on the scalar path whose products' loops run over the output channels splits a
   * sample over threads by tiles (9 tiles, 64 output channels): close to the reference on one thread, bitwise the
   * same on two.
   */
  @Test
  void winogradSplitsByTilesOverThreads() {
    ConvCase c = small.stream().filter(k -> k.name().equals("WinogradSplit")).findFirst().orElseThrow();
    assertThat(c.kernel(loader, PKG, OUTER).engineName()).isEqualTo("scalar-winograd");
    int before = Parallel.threads();
    try {
      forwardOnOneAndTwoThreads(c, new SplittableRandom(31));
    } finally {
      Parallel.setThreads(before);
    }
  }

  /**
   * A layer with groups split over two threads by output channels where the split falls inside a group (6 output
   * channels in groups of 2, split 3 + 3: the second thread starts at the group's second channel and stages that
   * group again): close to the reference on one thread, bitwise the same on two, in every padding mode.
   */
  @Test
  void groupsSplitInsideAGroupOverThreads() {
    List<ConvCase> split = small.stream().filter(c -> c.name().startsWith("GroupSplit")).toList();
    assertThat(split).hasSize(PaddingMode.values().length);
    int before = Parallel.threads();
    SplittableRandom r = new SplittableRandom(23);
    try {
      for (ConvCase c : split) {
        long macs = (long) c.outChannels() * c.outHeight() * c.outWidth() * (c.inChannels() / c.groups())
            * c.kernelH() * c.kernelW();
        assertWithMessage("%s multiply-adds", c).that(macs).isAtLeast(Parallel.MIN_MACS);
        assertWithMessage("%s bands", c).that(constant(c, "BAND_ROWS")).isLessThan(c.outHeight());
        forwardOnOneAndTwoThreads(c, r);
      }
    } finally {
      Parallel.setThreads(before);
    }
  }

  /**
   * Every form of the generated loops is compared above: the forward with output pixels in the vector lanes
   * (staged input, constant {@code PITCH}), with output channels in the lanes (transposed weights, field
   * {@code lanes}) and the unrolled one (windows of more than 64 taps); the gradients over patches (constant
   * {@code FAN}) and the unrolled ones (short patches); each in every padding mode where it applies.
   */
  @Test
  void casesCoverEveryLoopForm() {
    java.util.Map<String, Integer> forms = new java.util.TreeMap<>();
    for (ConvCase c : small) {
      boolean pixelLanes = declares(c, "PITCH");
      boolean channelLanes = declares(c, "lanes");
      String forward = pixelLanes ? "pixel lanes" : channelLanes ? "channel lanes" : "unrolled forward";
      String backward = declares(c, "FAN") ? "patch gradients" : "unrolled gradients";
      for (String form : List.of(forward, backward)) {
        forms.merge(form, 1, Integer::sum);
        forms.merge(form + " " + c.paddingMode(), 1, Integer::sum);
      }
    }
    for (String form : List.of("pixel lanes", "channel lanes", "patch gradients", "unrolled gradients")) {
      assertWithMessage("%s in %s", form, forms).that(forms.getOrDefault(form, 0)).isAtLeast(15);
      for (PaddingMode mode : PaddingMode.values()) {
        assertWithMessage("%s %s in %s", form, mode, forms).that(forms.getOrDefault(form + " " + mode, 0))
            .isAtLeast(2);
      }
    }
    for (PaddingMode mode : PaddingMode.values()) {
      assertWithMessage("unrolled forward %s in %s", mode, forms)
          .that(forms.getOrDefault("unrolled forward " + mode, 0)).isAtLeast(1);
    }
  }

  /** Whether {@code c}'s kernel declares the static int {@code name}, and its value (else -1). */
  private static int constant(ConvCase c, String name) {
    try {
      return c.kernel(loader, PKG, OUTER).getClass().getField(name).getInt(null);
    } catch (NoSuchFieldException e) {
      return -1;
    } catch (IllegalAccessException e) {
      throw new AssertionError(e);
    }
  }

  /**
   * The channel-blocked forward (input channels staged a block at a time, one accumulator per output channel)
   * is what the {@code Blocked} form cases get: several channel blocks, a last block that is shorter (and for
   * the 1x1 windows ends with the loop of the channels left over), several bands of rows; on one thread and
   * split over output channels on two, bitwise the same.
   */
  @Test
  void channelBlockedForward() {
    List<ConvCase> blocked = small.stream().filter(c -> c.name().startsWith("Blocked")).toList();
    assertThat(blocked).hasSize(12);
    int multiBand = 0;
    int before = Parallel.threads();
    SplittableRandom r = new SplittableRandom(17);
    try {
      for (ConvCase c : blocked) {
        int block = constant(c, "CHANNEL_BLOCK");
        assertWithMessage("%s channel block", c).that(block).isIn(com.google.common.collect.Range.closed(1,
            c.inChannels() - 1));
        if (!c.name().startsWith("BlockedBands")) {
          assertWithMessage("%s last block shorter", c).that(c.inChannels() % block).isNotEqualTo(0);
        }
        if (constant(c, "BAND_ROWS") < c.outHeight()) {
          multiBand++;
        }
        forwardOnOneAndTwoThreads(c, r);
      }
    } finally {
      Parallel.setThreads(before);
    }
    assertThat(multiBand).isEqualTo(4);
  }

  /**
   * {@code c}'s forward on one thread close to the reference, and on two threads (split over output channels)
   * bitwise the same as on one. Leaves the pool at two threads.
   */
  private static void forwardOnOneAndTwoThreads(ConvCase c, SplittableRandom r) {
    ConvKernel kernel = c.kernel(loader, PKG, OUTER);
    kernel.eval();
    Tensor x = random(r, c.inputShape());
    ReferenceConv2d ref = c.reference();
    ref.loadStateDict(kernel.stateDict());
    ref.eval();
    Parallel.setThreads(1);
    Tensor serial = kernel.forward(x);
    assertClose(c.label() + " output", ref.forward(x), serial);
    Parallel.setThreads(2);
    Tensor split = kernel.forward(x);
    assertThat(split.data()).usingExactEquality().containsExactly(serial.data()).inOrder();
  }

  /**
   * The pixel lanes staged per tap ({@code PLANES_PER_CHANNEL} one per tap, {@code PITCH} the output width, no
   * row offsets) are what the {@code PerTap} form cases get; on one thread and split over output channels on
   * two, bitwise the same, and in every padding mode close to the reference.
   */
  @Test
  void perTapForward() {
    List<ConvCase> perTap = small.stream().filter(c -> c.name().startsWith("PerTap")).toList();
    assertThat(perTap).hasSize(12);
    int before = Parallel.threads();
    SplittableRandom r = new SplittableRandom(19);
    try {
      for (ConvCase c : perTap) {
        assertWithMessage("%s planes", c).that(constant(c, "PLANES_PER_CHANNEL")).isEqualTo(9);
        assertWithMessage("%s pitch", c).that(constant(c, "PITCH")).isEqualTo(c.outWidth());
        forwardOnOneAndTwoThreads(c, r);
      }
    } finally {
      Parallel.setThreads(before);
    }
  }

  /**
   * The copies of the weights the loops keep (transposed for the channel lanes, split into rows for the patch
   * gradients) follow new weights loaded with {@code loadStateDict}: forward and backward match the reference
   * again after the weights change.
   */
  @Test
  void loopsFollowLoadedWeights() {
    SplittableRandom r = new SplittableRandom(13);
    int compared = 0;
    for (ConvCase c : small.subList(RANDOM_CASES, SMALL_CASES)) {
      ConvKernel kernel = c.kernel(loader, PKG, OUTER);
      Tensor x = random(r, c.inputShape());
      Tensor gy = random(r, c.batch(), c.outChannels(), c.outHeight(), c.outWidth());
      compare(c, kernel, x, gy);
      java.util.Map<String, Tensor> state = new java.util.LinkedHashMap<>();
      kernel.stateDict().forEach((k, v) -> state.put(k, random(r, v.shape())));
      kernel.loadStateDict(state);
      compare(c, kernel, x, gy);
      compared++;
    }
    assertThat(compared).isEqualTo(FORM_CASES);
  }
}
