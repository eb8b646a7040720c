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
  /**
   * Weight of the symmetric KL term. The default, 0.25 / 64 = 0.00390625, is the largest weight of Kiln's
   * R-Drop study (the README) that stayed within noise of plain training in every cell: with the KL summed
   * over batches of 64 it is a batch-mean weight of 0.25; a batch-mean weight of 1 already cost 0.4-5 points
   * of accuracy, and the former default of 1.0 (a batch-mean weight of 64) far more. With
   * {@code klReduction = SUM} the effective weight grows with the batch size; {@code BATCHMEAN} does not.
   */
  double alpha() default 0.00390625;

  /** How the per-sample KL (summed over classes) is reduced over the batch. */
  Reduction klReduction() default Reduction.SUM;
}
