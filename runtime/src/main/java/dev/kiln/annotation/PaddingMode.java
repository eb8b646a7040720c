package dev.kiln.annotation;

/** How {@link Conv2d} fills the border outside the input, as {@code torch.nn.Conv2d(padding_mode=...)}. */
public enum PaddingMode {
  /** Pad with zeros. */
  ZEROS,
  /** Mirror without repeating the edge; needs padding smaller than the input size. */
  REFLECT,
  /** Repeat the edge pixel. */
  REPLICATE,
  /** Wrap around; needs padding no larger than the input size. */
  CIRCULAR
}
