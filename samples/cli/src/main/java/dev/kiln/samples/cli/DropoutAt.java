package dev.kiln.samples.cli;

import java.util.Arrays;
import java.util.Iterator;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Where the sample network has dropout ({@code --dropout-at}): before the classifier only, or after every
 * RepVGG block as well. Both placements have the same state dict and the same fused deploy network.
 */
enum DropoutAt {
  /** Dropout before the classifier only: {@link DigitsNet}, {@link FashionNet}. */
  HEAD("head"),
  /** Dropout after every block as well: {@link DigitsNetBlockDropout}, {@link FashionNetBlockDropout}. */
  BLOCKS("blocks");

  private final String cliName;

  DropoutAt(String cliName) {
    this.cliName = cliName;
  }

  /** The name on the command line and in reports. */
  String cliName() {
    return cliName;
  }

  @Override
  public String toString() {
    return cliName;
  }

  /** Converts {@code --dropout-at} values. */
  static final class Converter implements ITypeConverter<DropoutAt> {
    @Override
    public DropoutAt convert(String value) {
      for (DropoutAt d : values()) {
        if (d.cliName.equals(value)) {
          return d;
        }
      }
      throw new TypeConversionException("unknown dropout placement '" + value + "', expected one of: head, blocks");
    }
  }

  /** The names {@code --help} lists. */
  static final class Candidates implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Arrays.stream(values()).map(DropoutAt::cliName).iterator();
    }
  }
}
