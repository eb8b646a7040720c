package dev.kiln.samples.cli;

import dev.kiln.annotation.Reduction;
import java.util.Arrays;
import java.util.Iterator;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * How the R-Drop KL term is reduced over the batch ({@code --kl-reduction}), with the names of PyTorch's
 * {@code kl_div} reductions: summed over the batch, or divided by the batch size. With full batches of B
 * samples, alpha A with {@code sum} is the same loss as alpha {@code B * A} with {@code batchmean}.
 */
enum KlReduction {
  /** {@link Reduction#SUM}, the sample networks' {@code @RDrop} reduction. */
  SUM("sum", Reduction.SUM),
  /** {@link Reduction#BATCHMEAN}. */
  BATCHMEAN("batchmean", Reduction.BATCHMEAN);

  private final String cliName;
  private final Reduction reduction;

  KlReduction(String cliName, Reduction reduction) {
    this.cliName = cliName;
    this.reduction = reduction;
  }

  /** The name on the command line and in reports. */
  String cliName() {
    return cliName;
  }

  /** The runtime's reduction. */
  Reduction reduction() {
    return reduction;
  }

  @Override
  public String toString() {
    return cliName;
  }

  /** Converts {@code --kl-reduction} values. */
  static final class Converter implements ITypeConverter<KlReduction> {
    @Override
    public KlReduction convert(String value) {
      for (KlReduction r : values()) {
        if (r.cliName.equals(value)) {
          return r;
        }
      }
      throw new TypeConversionException("unknown KL reduction '" + value + "', expected one of: sum, batchmean");
    }
  }

  /** The names {@code --help} lists. */
  static final class Candidates implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Arrays.stream(values()).map(KlReduction::cliName).iterator();
    }
  }
}
