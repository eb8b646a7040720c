package dev.kiln.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A network: the interface's abstract methods, in source order, are the layers, each carrying exactly one
 * layer annotation and returning {@code dev.kiln.nn.Module}. Generates {@code FooModel}.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface Model {
  /** Input shape without the batch dimension: {@code {C, H, W}} or {@code {F}}. */
  int[] input();
}
