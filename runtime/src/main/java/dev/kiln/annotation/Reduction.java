package dev.kiln.annotation;

/** How a per-sample loss term is reduced over the batch. */
public enum Reduction {
  /** Sum over the batch. */
  SUM,
  /** Sum divided by the batch size. */
  BATCHMEAN,
  /** Mean over every element. */
  MEAN
}
