package dev.kiln.processor.validation;

import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/** Checks the state-dict key prefixes of a {@code @Model}'s layers ({@code @KeyPrefix} or the method names). */
public final class KeyPrefixes {
  private static final Pattern SYNTAX = Pattern.compile("[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*");

  private KeyPrefixes() {}

  /** The error for an explicit prefix's syntax, if any. */
  public static Optional<String> checkSyntax(String prefix) {
    return SYNTAX.matcher(prefix).matches() ? Optional.empty() : Optional.of(Messages.keyPrefixSyntax(prefix));
  }

  /**
   * The error for the layer at {@code index} given the layers before it (prefixes in order, their methods in
   * {@code methods}): a prefix used twice, or one that is a dotted prefix of another.
   */
  public static Optional<String> checkAgainstEarlier(List<String> prefixes, List<String> methods, int index) {
    String p = prefixes.get(index);
    for (int i = 0; i < index; i++) {
      String q = prefixes.get(i);
      if (q.equals(p)) {
        return Optional.of(Messages.keyPrefixDuplicate(p, methods.get(index), methods.get(i)));
      }
      if (p.startsWith(q + ".") || q.startsWith(p + ".")) {
        return Optional.of(Messages.keyPrefixNested(p, methods.get(index), q, methods.get(i)));
      }
    }
    return Optional.empty();
  }
}
