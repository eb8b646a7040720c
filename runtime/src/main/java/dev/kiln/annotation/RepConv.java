package dev.kiln.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A RepVGG block: trains as {@code act(bn(conv_kxk(x)) + bn(conv_1x1(x)) + bn(x))} (the identity branch
 * present iff in == out and stride == 1) and deploys as one fused {@code kxk} convolution. Generates
 * {@code FooBlock} (training form) and {@code FooKernel} (deploy form).
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface RepConv {
  /** Input channels; inferred inside a {@link Model}. */
  int inChannels() default -1;

  /** Output channels. */
  int outChannels();

  /** Odd kernel size of the dense branch. */
  int kernelSize() default 3;

  /** 1 or 2. */
  int stride() default 1;

  /** Must divide both channel counts. */
  int groups() default 1;

  /** {@code false}: each branch is a conv with bias and the identity branch is {@code x}. */
  boolean batchNorm() default true;

  /** Activation applied after the branch sum. */
  Activation activation() default Activation.RELU;

  /** Input height; inferred inside a {@link Model}. */
  int height() default -1;

  /** Input width; inferred inside a {@link Model}. */
  int width() default -1;
}
