package dev.kiln.annotation;

/** An activation fused into a generated kernel's epilogue (applied after the bias). */
public enum Activation {
  /** Identity. */
  NONE,
  /** {@code max(0, x)}. */
  RELU
}
