package dev.kiln.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * R-Drop regularized training for a {@link Model}: the batch is duplicated, one training-mode forward pass
 * gives logits z1, z2, and {@code loss = 0.5*(CE(z1,y)+CE(z2,y)) + alpha*(KL(Q||P)+KL(P||Q))/2}.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface RDrop {
  /** Weight of the symmetric KL term. */
  double alpha() default 1.0;

  /** How the per-sample KL (summed over classes) is reduced over the batch. */
  Reduction klReduction() default Reduction.SUM;
}
