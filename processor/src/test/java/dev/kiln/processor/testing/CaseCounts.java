package dev.kiln.processor.testing;

import java.util.Collection;
import java.util.function.Predicate;

/**
 * Counting for the tests that check their set of cases covers what it should (so many strided cases, so many
 * with a BatchNorm, ...): one count per property, instead of a counter per property bumped in a loop.
 */
public final class CaseCounts {
  private CaseCounts() {}

  /** How many of {@code cases} have {@code property}. */
  public static <T> int count(Collection<? extends T> cases, Predicate<? super T> property) {
    int n = 0;
    for (T c : cases) {
      if (property.test(c)) {
        n++;
      }
    }
    return n;
  }
}
