package dev.kiln.processor.validation;

/**
 * The checked input shape of a convolution, {@code [C, H, W]} of one sample; -1 where the value was missing or
 * not positive (the problem is in the report).
 */
record ConvInput(int channels, int height, int width) {
  /** Whether every value is known (positive). */
  boolean known() {
    return channels > 0 && height > 0 && width > 0;
  }
}
