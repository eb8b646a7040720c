package dev.kiln.processor.validation;

/** Small checks shared by the validators. */
final class Checks {
  private Checks() {}

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
}
