package dev.kiln.processor.validation;

import dev.kiln.annotation.Activation;
import dev.kiln.annotation.PaddingMode;
import dev.kiln.nn.ConvGeometry;
import dev.kiln.processor.model.ConvSpec;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Validates the raw values of a {@code @Conv2d} into a {@link ConvSpec}, recording every problem in a
 * {@link Report} tied to the attribute it is about. Independent of javac.
 */
public final class ConvValidator {
  private static final String ANNOTATION = "Conv2d";
  private static final Pattern PADDING = Pattern.compile("\\s*(\\d{1,9})\\s*(?:,\\s*(\\d{1,9})\\s*)?");
  /** Largest kernel window (kH * kW) we unroll: beyond this the generated class would have too many methods. */
  static final long MAX_WINDOW = 4096;

  private ConvValidator() {}

  /**
   * Validates the attribute values {@code a} of a {@code @Conv2d} with the input shape {@code declared};
   * returns the spec when {@code report} stayed clean.
   */
  public static Optional<ConvSpec> validate(AttributeValues a, DeclaredInput declared, Report report) {
    int errors = report.items().size();
    int out = a.intValue("outChannels");
    ConvInput input = AttributeChecks.convolutionShape(ANNOTATION, declared, out, report);
    int[] k = AttributeChecks.positivePair(ANNOTATION, "kernelSize", a.intArray("kernelSize"), report);
    int[] s = AttributeChecks.positivePair(ANNOTATION, "stride", a.intArray("stride"), report);
    int[] d = AttributeChecks.positivePair(ANNOTATION, "dilation", a.intArray("dilation"), report);
    int groups = a.intValue("groups");
    AttributeChecks.groups(ANNOTATION, groups, input.channels(), out, report);
    int[] pad = null; // top, bottom, left, right
    String padding = a.stringValue("padding");
    String text = padding == null ? "" : padding;
    String lower = text.trim().toLowerCase(java.util.Locale.ROOT);
    if (lower.equals("valid")) {
      pad = new int[4];
    } else if (lower.equals("same")) {
      if (s != null && (s[0] != 1 || s[1] != 1)) {
        report.error("padding", Messages.sameWithStride(s[0], s[1]));
      } else if (k != null && d != null && ((long) d[0] * (k[0] - 1) > AttributeChecks.MAX_ELEMENTS
          || (long) d[1] * (k[1] - 1) > AttributeChecks.MAX_ELEMENTS)) {
        report.error("padding", Messages.tooLarge(ANNOTATION, "\"same\" padding of the dilated kernel",
            Math.max((long) d[0] * (k[0] - 1), (long) d[1] * (k[1] - 1))));
      } else if (k != null && d != null) {
        int[] ph = ConvSpec.samePadding(k[0], d[0]);
        int[] pw = ConvSpec.samePadding(k[1], d[1]);
        pad = new int[] {ph[0], ph[1], pw[0], pw[1]};
      }
    } else {
      Matcher m = PADDING.matcher(text);
      if (m.matches()) {
        int ph = Integer.parseInt(m.group(1));
        int pw = m.group(2) == null ? ph : Integer.parseInt(m.group(2));
        pad = new int[] {ph, ph, pw, pw};
      } else {
        report.error("padding", Messages.padding(text));
      }
    }
    if (report.items().size() > errors || k == null || s == null || d == null || pad == null || !input.known()) {
      return Optional.empty();
    }
    return finish(input, out, k, s, d, pad, groups, a.enumValue("paddingMode", PaddingMode.class), ANNOTATION, report)
        .map(geometry -> new ConvSpec(geometry, a.booleanValue("bias"), a.enumValue("activation", Activation.class)));
  }

  /**
   * Checks that the resolved values (each positive, the groups dividing the channels) make a usable
   * geometry (padding mode limits, the kernel fits, sizes fit in arrays) and builds it. Shared with the
   * other annotations that produce a convolution. {@code pad} is {@code {top, bottom, left, right}}.
   */
  static Optional<ConvGeometry> finish(ConvInput input, int out, int[] k, int[] s, int[] d, int[] pad, int groups,
      PaddingMode mode, String annotation, Report report) {
    int in = input.channels();
    int h = input.height();
    int w = input.width();
    Optional<String> modeLimit = ConvGeometry.paddingModeLimit(mode, Math.max(pad[0], pad[1]),
        Math.max(pad[2], pad[3]), h, w);
    if (modeLimit.isPresent()) {
      report.error("paddingMode", Messages.paddingModeLimit(mode, modeLimit.get()));
      return Optional.empty();
    }
    long paddedH = (long) h + pad[0] + pad[1];
    long paddedW = (long) w + pad[2] + pad[3];
    if (paddedH > AttributeChecks.MAX_ELEMENTS || paddedW > AttributeChecks.MAX_ELEMENTS) {
      report.error("padding", Messages.tooLarge(annotation, "padded input size", Math.max(paddedH, paddedW)));
      return Optional.empty();
    }
    long spanH = (long) d[0] * (k[0] - 1) + 1;
    long spanW = (long) d[1] * (k[1] - 1) + 1;
    if (spanH > paddedH || spanW > paddedW) {
      report.error("kernelSize", Messages.kernelTooLarge(annotation, k[0], k[1], d[0], d[1], (int) Math.min(paddedH,
          Integer.MAX_VALUE), (int) Math.min(paddedW, Integer.MAX_VALUE)));
      return Optional.empty();
    }
    if ((long) k[0] * k[1] > MAX_WINDOW) {
      report.error("kernelSize", Messages.tooLarge(annotation, "kernel window " + k[0] + "x" + k[1] + " (limit "
          + MAX_WINDOW + " taps)", (long) k[0] * k[1]));
      return Optional.empty();
    }
    if (!AttributeChecks.fitsInArray(annotation, "", "input size", (long) in * h * w, report)
        || !AttributeChecks.fitsInArray(annotation, "", "weight size", (long) out * (in / groups) * k[0] * k[1],
            report)) {
      return Optional.empty();
    }
    ConvGeometry geometry = ConvGeometry.builder().inChannels(in).outChannels(out).inputSize(h, w).kernel(k[0], k[1])
        .stride(s[0], s[1]).dilation(d[0], d[1]).padding(pad[0], pad[1], pad[2], pad[3]).groups(groups)
        .paddingMode(mode).build();
    long outputs = (long) out * geometry.outHeight() * geometry.outWidth();
    return AttributeChecks.fitsInArray(annotation, "", "output size", outputs, report)
        ? Optional.of(geometry) : Optional.empty();
  }
}
