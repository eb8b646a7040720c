package dev.kiln.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A 2-D convolution with exactly the semantics of {@code torch.nn.Conv2d}. On an interface it declares a
 * standalone layer (every shape attribute required) and generates {@code FooKernel}; on a method of a
 * {@link Model} interface the input shape attributes may be omitted and are inferred.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface Conv2d {
  /** Input channels; inferred inside a {@link Model}. */
  int inChannels() default -1;

  /** Output channels. */
  int outChannels();

  /** {@code {k}} or {@code {kH, kW}}. */
  int[] kernelSize();

  /** {@code {s}} or {@code {sH, sW}}. */
  int[] stride() default {1};

  /** {@code "valid"}, {@code "same"}, {@code "p"} or {@code "pH,pW"}. */
  String padding() default "0";

  /** {@code {d}} or {@code {dH, dW}}. */
  int[] dilation() default {1};

  /** Must divide both {@link #inChannels()} and {@link #outChannels()}. */
  int groups() default 1;

  /** Whether the layer has a learnable bias. */
  boolean bias() default true;

  /** How the padding is filled. */
  PaddingMode paddingMode() default PaddingMode.ZEROS;

  /** Input height; inferred inside a {@link Model}. */
  int height() default -1;

  /** Input width; inferred inside a {@link Model}. */
  int width() default -1;

  /** Activation fused after the bias. */
  Activation activation() default Activation.NONE;
}
