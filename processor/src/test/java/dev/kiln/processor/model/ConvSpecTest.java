package dev.kiln.processor.model;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.kiln.processor.testing.CaseCounts.count;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.processor.testing.ConvCase;
import dev.kiln.processor.validation.AttributeValues;
import dev.kiln.processor.validation.ConvValidator;
import dev.kiln.processor.validation.DeclaredInput;
import dev.kiln.processor.validation.Report;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The shape arithmetic of {@link ConvSpec} (output size, interior bounds, border, {@code same} padding),
 * cross-checked against {@code ReferenceConv2d} and against brute force over every tap, and the
 * validator's accept/reject decision cross-checked against the reference layer's.
 */
class ConvSpecTest {
  private static final int CONFIGS = 2000;

  private static int[] oneOrTwo(SplittableRandom r, int lo, int hi) {
    int a = r.nextInt(lo, hi + 1);
    return r.nextBoolean() ? new int[] {a} : new int[] {a, r.nextInt(lo, hi + 1)};
  }

  /** A random configuration, valid or not (only the padding text is always well-formed). */
  private static ConvCase randomCase(SplittableRandom r, int i) {
    int groups = r.nextInt(1, 4);
    int in = r.nextInt(1, 7);
    int out = r.nextInt(1, 7);
    String padding = switch (r.nextInt(4)) {
      case 0 -> "valid";
      case 1 -> "same";
      case 2 -> Integer.toString(r.nextInt(0, 6));
      default -> r.nextInt(0, 6) + "," + r.nextInt(0, 6);
    };
    return new ConvCase("R" + i, in, out, oneOrTwo(r, 1, 7), oneOrTwo(r, 1, 4), padding, oneOrTwo(r, 1, 4), groups,
        r.nextBoolean(), PaddingMode.values()[r.nextInt(4)], Activation.values()[r.nextInt(2)], r.nextInt(1, 16),
        r.nextInt(1, 16), 1);
  }

  /** The case's attribute values, as the processor reads them from the annotation. */
  private static AttributeValues attributes(ConvCase c) {
    Map<String, Object> values = Map.of("outChannels", c.outChannels(), "kernelSize", c.kernelSize(), "stride",
        c.stride(), "padding", c.padding(), "dilation", c.dilation(), "groups", c.groups(), "bias", c.bias(),
        "paddingMode", c.paddingMode(), "activation", c.activation());
    return new AttributeValues() {
      @Override
      public int intValue(String name) {
        return (Integer) values.get(name);
      }

      @Override
      public int[] intArray(String name) {
        return (int[]) values.get(name);
      }

      @Override
      public String stringValue(String name) {
        return (String) values.get(name);
      }

      @Override
      public boolean booleanValue(String name) {
        return (Boolean) values.get(name);
      }

      @Override
      public <E extends Enum<E>> E enumValue(String name, Class<E> type) {
        return type.cast(values.get(name));
      }
    };
  }

  /** Every tap of output (oh, ow) reads inside the input. */
  private static boolean allTapsInside(ConvSpec s, int oh, int ow) {
    for (int kh = 0; kh < s.kernelH(); kh++) {
      for (int kw = 0; kw < s.kernelW(); kw++) {
        int ih = oh * s.strideH() - s.padTop() + kh * s.dilationH();
        int iw = ow * s.strideW() - s.padLeft() + kw * s.dilationW();
        if (ih < 0 || ih >= s.inHeight() || iw < 0 || iw >= s.inWidth()) {
          return false;
        }
      }
    }
    return true;
  }

  /** The number of output positions along one axis whose window ends inside the padded input. */
  private static int bruteOutSize(int in, int padBefore, int padAfter, int kernel, int stride, int dilation) {
    int n = 0;
    while (n * stride + (kernel - 1) * dilation <= in + padBefore + padAfter - 1) {
      n++;
    }
    return n;
  }

  @Test
  void shapeArithmeticMatchesReferenceAndBruteForce() {
    SplittableRandom r = new SplittableRandom(42);
    List<ConvSpec> valid = new ArrayList<>();
    int rejected = 0;
    for (int i = 0; i < CONFIGS; i++) {
      ConvCase c = randomCase(r, i);
      Report report = new Report();
      Optional<ConvSpec> result = ConvValidator.validate(attributes(c),
          new DeclaredInput(c.inChannels(), c.height(), c.width()), report);
      assertWithMessage("validator vs reference for %s: %s", c, report).that(result.isPresent()).isEqualTo(c.isValid());
      assertThat(report.isClean()).isEqualTo(result.isPresent());
      if (result.isEmpty()) {
        rejected++;
        continue;
      }
      ConvSpec s = result.get();
      valid.add(s);
      int[] pad = c.resolvedPadding();
      assertThat(new int[] {s.padTop(), s.padBottom(), s.padLeft(), s.padRight()}).isEqualTo(pad);
      ConvGeometry g = c.geometry();
      assertWithMessage("%s", c).that(s.geometry()).isEqualTo(g);
      assertWithMessage("%s", c).that(s.outHeight()).isEqualTo(g.outHeight());
      assertWithMessage("%s", c).that(s.outWidth()).isEqualTo(g.outWidth());
      assertThat(s.outHeight()).isEqualTo(bruteOutSize(s.inHeight(), s.padTop(), s.padBottom(), s.kernelH(),
          s.strideH(), s.dilationH()));
      assertThat(s.outWidth()).isEqualTo(bruteOutSize(s.inWidth(), s.padLeft(), s.padRight(), s.kernelW(),
          s.strideW(), s.dilationW()));
      assertThat(s.outHeight()).isAtLeast(1);
      assertThat(s.outWidth()).isAtLeast(1);
      // The interior is exactly the rectangle of pixels whose taps are all inside; the border is the rest.
      boolean anyBorder = false;
      boolean anyInterior = false;
      for (int oh = 0; oh < s.outHeight(); oh++) {
        for (int ow = 0; ow < s.outWidth(); ow++) {
          boolean inside = allTapsInside(s, oh, ow);
          boolean inRect = oh >= s.interiorRowStart() && oh < s.interiorRowEnd() && ow >= s.interiorColStart()
              && ow < s.interiorColEnd();
          assertWithMessage("%s pixel (%s, %s)", c, oh, ow).that(inRect).isEqualTo(inside);
          anyBorder |= !inside;
          anyInterior |= inside;
        }
      }
      assertWithMessage("%s", c).that(s.hasInterior()).isEqualTo(anyInterior);
      assertWithMessage("%s", c).that(s.hasBorder()).isEqualTo(anyBorder);
      assertThat(s.interiorRowStart()).isAtLeast(0);
      assertThat(s.interiorRowEnd()).isAtMost(s.outHeight());
      assertThat(s.interiorColStart()).isAtLeast(0);
      assertThat(s.interiorColEnd()).isAtMost(s.outWidth());
      assertThat(s.macsPerSample()).isEqualTo((long) s.outChannels() * s.outHeight() * s.outWidth()
          * (s.inChannels() / s.groups()) * s.kernelH() * s.kernelW());
    }
    assertThat(valid.size() + rejected).isEqualTo(CONFIGS);
    // Both outcomes and every structure occur often enough to mean something (each spec's hasInterior() and
    // hasBorder() were checked against brute force above).
    assertThat(valid.size()).isAtLeast(300);
    assertThat(rejected).isAtLeast(300);
    assertThat(count(valid, ConvSpec::hasInterior)).isAtLeast(100);
    assertThat(count(valid, s -> !s.hasInterior())).isAtLeast(20);
    assertThat(count(valid, ConvSpec::hasBorder)).isAtLeast(100);
    assertThat(count(valid, s -> !s.hasBorder())).isAtLeast(20);
  }

  @Test
  void samePaddingKeepsTheSizeWithTheOddPixelAfter() {
    int checked = 0;
    for (int k = 1; k <= 9; k++) {
      for (int d = 1; d <= 4; d++) {
        int[] p = ConvSpec.samePadding(k, d);
        assertThat(p[0] + p[1]).isEqualTo(d * (k - 1));
        assertThat(p[1] - p[0]).isIn(List.of(0, 1));
        for (int size = 1; size <= 12; size++) {
          assertThat(ConvGeometry.outSize(size, p[0], p[1], k, 1, d)).isEqualTo(size);
          checked++;
        }
      }
    }
    assertThat(checked).isEqualTo(9 * 4 * 12);
    assertThat(ConvSpec.samePadding(4, 1)).isEqualTo(new int[] {1, 2}); // PyTorch: left = total // 2
    assertThat(ConvSpec.samePadding(2, 3)).isEqualTo(new int[] {1, 2});
  }

  @Test
  void outSizeIsZeroWhenTheKernelDoesNotFit() {
    assertThat(ConvGeometry.outSize(2, 0, 0, 3, 2, 1)).isEqualTo(0);
    assertThat(ConvGeometry.outSize(2, 0, 0, 3, 1, 1)).isEqualTo(0);
    assertThat(ConvGeometry.outSize(3, 0, 0, 3, 5, 1)).isEqualTo(1);
    assertThat(ConvGeometry.outSize(Integer.MAX_VALUE - 8, 1000, 1000, 1, 1, 1)).isEqualTo(Integer.MAX_VALUE);
  }

  @Test
  void tapBlocksCoverTheWindowInOrder() {
    int checked = 0;
    for (int kh = 1; kh <= 20; kh += 3) {
      for (int kw = 1; kw <= 20; kw += 4) {
        for (int max : new int[] {1, 7, 64}) {
          ConvSpec s = new ConvSpec(ConvGeometry.builder().inChannels(1).outChannels(1).inputSize(40, 50)
              .kernel(kh, kw).dilation(2, 3).build(), false, Activation.NONE);
          List<TapBlock> blocks = TapBlock.split(s, max);
          assertThat(blocks).hasSize((kh * kw + max - 1) / max);
          int next = 0;
          for (int b = 0; b < blocks.size(); b++) {
            TapBlock block = blocks.get(b);
            assertThat(block.index()).isEqualTo(b);
            assertThat(block.first()).isEqualTo(next);
            assertThat(block.count()).isIn(com.google.common.collect.Range.closed(1, max));
            next += block.count();
          }
          assertThat(next).isEqualTo(kh * kw);
          for (int t = 0; t < kh * kw; t++) {
            assertThat(TapBlock.inputOffset(s, t)).isEqualTo((long) (t / kw) * 2 * 50 + (t % kw) * 3);
          }
          checked++;
        }
      }
    }
    assertThat(checked).isEqualTo(7 * 5 * 3);
  }
}
