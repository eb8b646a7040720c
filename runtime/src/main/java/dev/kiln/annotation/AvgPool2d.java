package dev.kiln.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** Average pooling, {@code torch.nn.AvgPool2d} (padding counted in the divisor). Used on a method of a {@link Model} interface. */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.METHOD)
public @interface AvgPool2d {
  /** {@code {k}} or {@code {kH, kW}}. */
  int[] kernelSize();

  /** {@code {s}} or {@code {sH, sW}}; empty means equal to the kernel size. */
  int[] stride() default {};

  /** {@code {p}} or {@code {pH, pW}}. */
  int[] padding() default {0};
}
