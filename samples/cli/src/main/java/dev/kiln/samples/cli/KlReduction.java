package dev.kiln.samples.cli;

import dev.kiln.annotation.Reduction;

/**
 * How the R-Drop KL term is reduced over the batch ({@code --kl-reduction}), with the names of PyTorch's
 * {@code kl_div} reductions: summed over the batch, or divided by the batch size. With full batches of B
 * samples, alpha A with {@code sum} is the same loss as alpha {@code B * A} with {@code batchmean}.
 */
enum KlReduction implements CliValue {
  /** {@link Reduction#SUM}, the sample networks' {@code @RDrop} reduction. */
  SUM(Reduction.SUM),
  /** {@link Reduction#BATCHMEAN}. */
  BATCHMEAN(Reduction.BATCHMEAN);

  private final Reduction reduction;

  KlReduction(Reduction reduction) {
    this.reduction = reduction;
  }

  /** The runtime's reduction. */
  Reduction reduction() {
    return reduction;
  }

  /** Converts {@code --kl-reduction} values and lists them in {@code --help}. */
  static final class Names extends CliValue.Names<KlReduction> {
    Names() {
      super(KlReduction.class, "KL reduction");
    }
  }
}
