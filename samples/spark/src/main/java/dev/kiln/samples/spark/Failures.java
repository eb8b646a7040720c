package dev.kiln.samples.spark;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * One-line descriptions of failed Spark jobs. A task's exception reaches the driver wrapped in a
 * {@code SparkException} whose message spans many lines ("Job aborted due to stage failure ... Driver
 * stacktrace:"); the user needs the cause: a {@link BadImageException}'s message if there is one, otherwise
 * the first line of the innermost cause's message.
 */
final class Failures {
  private Failures() {}

  /** The message that explains {@code failure}, on one line. */
  static String describe(Throwable failure) {
    List<Throwable> chain = chain(failure);
    for (Throwable t : chain) {
      if (t instanceof BadImageException || t instanceof JobException) {
        return firstLine(t.getMessage());
      }
    }
    Throwable root = chain.get(chain.size() - 1);
    for (int i = chain.size() - 1; i >= 0; i--) {
      if (chain.get(i).getMessage() != null && !chain.get(i).getMessage().isBlank()) {
        root = chain.get(i);
        break;
      }
    }
    String message = firstLine(root.getMessage());
    return message.isEmpty() ? root.getClass().getName() : message;
  }

  private static List<Throwable> chain(Throwable failure) {
    List<Throwable> chain = new ArrayList<>();
    Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    for (Throwable t = failure; t != null && seen.put(t, Boolean.TRUE) == null; t = t.getCause()) {
      chain.add(t);
    }
    return chain;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    String s = message.strip();
    int newline = s.indexOf('\n');
    return (newline < 0 ? s : s.substring(0, newline)).strip();
  }
}
