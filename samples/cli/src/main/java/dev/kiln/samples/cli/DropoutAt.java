package dev.kiln.samples.cli;

/**
 * Where the sample network has dropout ({@code --dropout-at}): before the classifier only, or after every
 * RepVGG block as well. Both placements have the same state dict and the same fused deploy network.
 */
enum DropoutAt implements CliValue {
  /** Dropout before the classifier only: {@link DigitsNet}, {@link FashionNet}. */
  HEAD,
  /** Dropout after every block as well: {@link DigitsNetBlockDropout}, {@link FashionNetBlockDropout}. */
  BLOCKS;

  /** Converts {@code --dropout-at} values and lists them in {@code --help}. */
  static final class Names extends CliValue.Names<DropoutAt> {
    Names() {
      super(DropoutAt.class, "dropout placement");
    }
  }
}
