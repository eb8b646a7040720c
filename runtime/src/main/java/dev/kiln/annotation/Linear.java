package dev.kiln.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** A fully connected layer, {@code torch.nn.Linear}. Used on a method of a {@link Model} interface. */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.METHOD)
public @interface Linear {
  /** Output features. */
  int outFeatures();

  /** Whether the layer has a bias. */
  boolean bias() default true;
}
