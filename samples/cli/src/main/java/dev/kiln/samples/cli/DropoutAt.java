package dev.kiln.samples.cli;

/**
 * Where the sample network has dropout ({@code --dropout-at}): before the classifier only, or after every
 * RepVGG block as well. Both placements have the same state dict and the same fused deploy network.
 */
enum DropoutAt implements CliValue {
  /** Dropout before the classifier only: {@link DigitsNet}, {@link FashionNet}. */
  HEAD("head"),
  /** Dropout after every block as well: {@link DigitsNetBlockDropout}, {@link FashionNetBlockDropout}. */
  BLOCKS("blocks");

  private final String cliName;

  DropoutAt(String cliName) {
    this.cliName = cliName;
  }

  @Override
  public String cliName() {
    return cliName;
  }

  @Override
  public String toString() {
    return cliName;
  }

  /** Converts {@code --dropout-at} values and lists them in {@code --help}. */
  static final class Names extends CliValue.Names<DropoutAt> {
    Names() {
      super(DropoutAt.class, "dropout placement");
    }
  }
}
