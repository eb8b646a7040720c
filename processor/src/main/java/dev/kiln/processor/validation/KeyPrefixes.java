package dev.kiln.processor.validation;

import java.util.Map;
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
   * The error for layer {@code method}'s {@code prefix} given the earlier layers' prefixes by method name: a
   * prefix used twice, or one that is a dotted prefix of another.
   */
  public static Optional<String> checkAgainstEarlier(String method, String prefix, Map<String, String> earlier) {
    for (Map.Entry<String, String> e : earlier.entrySet()) {
      String q = e.getValue();
      if (q.equals(prefix)) {
        return Optional.of(Messages.keyPrefixDuplicate(prefix, method, e.getKey()));
      }
      if (prefix.startsWith(q + ".") || q.startsWith(prefix + ".")) {
        return Optional.of(Messages.keyPrefixNested(prefix, method, q, e.getKey()));
      }
    }
    return Optional.empty();
  }
}
