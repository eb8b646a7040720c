package dev.kiln.processor.validation;

/** Checks of single attribute values that several validators share. Each reports on its attribute. */
final class AttributeChecks {
  /** Largest element count of one tensor (one sample's activations, or one parameter) Java arrays can hold. */
  static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

  private AttributeChecks() {}

  /**
   * Whether a tensor of {@code elements} values ({@code what}, e.g. "weight size") fits in a Java array;
   * reports a {@code [kiln.too-large]} error on {@code attribute} otherwise.
   */
  static boolean fitsInArray(String annotation, String attribute, String what, long elements, Report report) {
    if (elements > MAX_ELEMENTS) {
      report.error(attribute, Messages.tooLarge(annotation, what, elements));
      return false;
    }
    return true;
  }

  /** A required positive shape attribute: {@code null} means the user did not give it. Returns -1 on error. */
  static int requireShape(String annotation, Integer value, String attribute, Report report) {
    if (value == null) {
      report.error(attribute, Messages.missingShape(annotation, attribute));
      return -1;
    }
    if (value <= 0) {
      report.error(attribute, Messages.positive(annotation, attribute, value));
      return -1;
    }
    return value;
  }

  /**
   * The attributes every convolution annotation starts with, checked in this order: the required input shape
   * ({@code inChannels}, {@code height}, {@code width}; {@code null} where not given) and a positive
   * {@code outChannels}.
   *
   * @return the input shape, -1 where a value is missing or not positive
   */
  static ConvInput convolutionShape(String annotation, DeclaredInput declared, int outChannels, Report report) {
    ConvInput input = new ConvInput(requireShape(annotation, declared.channels(), "inChannels", report),
        requireShape(annotation, declared.height(), "height", report),
        requireShape(annotation, declared.width(), "width", report));
    if (outChannels <= 0) {
      report.error("outChannels", Messages.positive(annotation, "outChannels", outChannels));
    }
    return input;
  }

  /** A group count that must be positive and divide both channel counts (either may be unknown, <= 0). */
  static void groups(String annotation, int groups, int in, int out, Report report) {
    if (groups <= 0) {
      report.error("groups", Messages.positive(annotation, "groups", groups));
      return;
    }
    if (in > 0 && in % groups != 0) {
      report.error("groups", Messages.groupsDivide(annotation, groups, "inChannels", in));
    }
    if (out > 0 && out % groups != 0) {
      report.error("groups", Messages.groupsDivide(annotation, groups, "outChannels", out));
    }
  }

  /** {@code {v}} or {@code {vH, vW}} as {@code {vH, vW}}; {@code null} after reporting another length. */
  static int[] pair(String annotation, String attribute, int[] values, Report report) {
    if (values == null || values.length < 1 || values.length > 2) {
      report.error(attribute, Messages.arity(annotation, attribute, values == null ? 0 : values.length));
      return null;
    }
    return values.length == 1 ? new int[] {values[0], values[0]} : values.clone();
  }

  /** As {@link #pair}, and both values positive (the first that is not is reported). */
  static int[] positivePair(String annotation, String attribute, int[] values, Report report) {
    int[] p = pair(annotation, attribute, values, report);
    if (p == null) {
      return null;
    }
    for (int v : p) {
      if (v <= 0) {
        report.error(attribute, Messages.positive(annotation, attribute, v));
        return null;
      }
    }
    return p;
  }
}
