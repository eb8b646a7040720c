package dev.kiln.samples.cli;

import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A value of an enum option that goes by a name of its own on the command line, e.g. {@code fashion-mnist}:
 * that name, the lookup by it, and the picocli converter and completion candidates that every such option
 * needs.
 */
public interface CliValue {
  /** The enum constant's name ({@link Enum#name()}). */
  String name();

  /**
   * The name on the command line and in reports: the constant's name in lower case with {@code -} for
   * {@code _}, e.g. {@code fashion-mnist} for {@code FASHION_MNIST}.
   */
  default String cliName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The value of {@code type} named {@code name} on the command line, or null. */
  static <E extends Enum<E> & CliValue> E byCliName(Class<E> type, String name) {
    for (E e : type.getEnumConstants()) {
      if (e.cliName().equals(name)) {
        return e;
      }
    }
    return null;
  }

  /** The names of {@code type}'s values in declaration order, for messages: {@code digits, fashion-mnist}. */
  static <E extends Enum<E> & CliValue> String cliNames(Class<E> type) {
    return Arrays.stream(type.getEnumConstants()).map(CliValue::cliName).collect(Collectors.joining(", "));
  }

  /**
   * Both what picocli needs for such an option: its converter, where an unknown name is an error that names
   * {@code what} and lists the names (e.g. {@code unknown data set 'x', expected one of: digits,
   * fashion-mnist}), and its completion candidates, the names {@code --help} lists as
   * {@code ${COMPLETION-CANDIDATES}}.
   */
  abstract class Names<E extends Enum<E> & CliValue> implements ITypeConverter<E>, Iterable<String> {
    private final Class<E> type;
    private final String what;

    protected Names(Class<E> type, String what) {
      this.type = type;
      this.what = what;
    }

    @Override
    public E convert(String value) {
      E e = byCliName(type, value);
      if (e == null) {
        throw new TypeConversionException("unknown " + what + " '" + value + "', expected one of: "
            + cliNames(type));
      }
      return e;
    }

    @Override
    public Iterator<String> iterator() {
      return Arrays.stream(type.getEnumConstants()).map(CliValue::cliName).iterator();
    }
  }
}
